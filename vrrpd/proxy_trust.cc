#include "vrrpd/proxy_trust.h"

#include <algorithm>
#include <cstdio>
#include <sys/stat.h>

namespace vrrpd {

namespace {

std::string octal(mode_t m) {
  char b[8];
  std::snprintf(b, sizeof b, "%04o", static_cast<unsigned>(m & 07777));
  return b;
}

// Directories from "/" down to the one holding `path` (an absolute path).
std::vector<std::string> parents(const std::string& path) {
  std::vector<std::string> out{"/"};
  size_t pos = 1;
  for (;;) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) break;
    out.push_back(path.substr(0, slash));
    pos = slash + 1;
  }
  return out;
}

} // namespace

bool TrustedIds::uid(uid_t u) const {
  return std::find(uids.begin(), uids.end(), u) != uids.end();
}

bool TrustedIds::gid(gid_t g) const {
  return std::find(gids.begin(), gids.end(), g) != gids.end();
}

std::string TrustedIds::describe() const {
  std::string s;
  std::vector<uid_t> seen;
  for (uid_t u : uids) {
    if (std::find(seen.begin(), seen.end(), u) != seen.end()) continue;
    seen.push_back(u);
    if (!s.empty()) s += ", ";
    s += u == 0 ? std::string("root") : "uid " + std::to_string(u);
  }
  return s;
}

std::optional<std::string> checkProxySocket(const std::string& path, const TrustedIds& ids,
                                            const FsView& fs) {
  auto real = fs.realpath(path);
  if (!real || real->empty() || (*real)[0] != '/') return std::nullopt;
  auto sock = fs.lstat(*real);
  if (!sock) return std::nullopt;
  std::string shown = *real == path ? path : path + " (" + *real + ")";
  if (!S_ISSOCK(sock->mode)) return "socket " + shown + " is not a unix socket";
  if (!ids.uid(sock->uid))
    return "socket " + shown + " is owned by uid " + std::to_string(sock->uid) +
           ", not by a trusted user (" + ids.describe() + "; see proxy_user)";
  if (sock->mode & S_IWOTH)
    return "socket " + shown + " is writable by anyone (mode " + octal(sock->mode) +
           "): any local user could drive proxyd";
  for (const std::string& dir : parents(*real)) {
    auto d = fs.lstat(dir);
    if (!d) return "cannot inspect directory " + dir;
    if (!ids.uid(d->uid))
      return "directory " + dir + " is owned by uid " + std::to_string(d->uid) +
             ", not by a trusted user (" + ids.describe() + "; see proxy_user)";
    bool sticky = d->mode & S_ISVTX;
    bool othersWrite = (d->mode & S_IWOTH) || ((d->mode & S_IWGRP) && !ids.gid(d->gid));
    if (othersWrite && !sticky)
      return "directory " + dir + " (mode " + octal(d->mode) + ", gid " + std::to_string(d->gid) +
             ") is writable by others: the socket in it could be replaced";
  }
  return std::nullopt;
}

std::optional<std::string> checkProxyPeer(uid_t peerUid, pid_t peerPid, const TrustedIds& ids) {
  if (ids.uid(peerUid)) return std::nullopt;
  return "the process at the socket (pid " + std::to_string(peerPid) + ") runs as uid " +
         std::to_string(peerUid) + ", not as a trusted user (" + ids.describe() +
         "; see proxy_user)";
}

} // namespace vrrpd
