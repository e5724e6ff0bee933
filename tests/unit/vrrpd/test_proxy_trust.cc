// track_proxy's trust in the peer: the socket file, its directories and the
// peer's uid, over a fake file system (no root, no real files).
#include "vrrpd/proxy_trust.h"

#include <catch2/catch.hpp>
#include <map>
#include <sys/stat.h>

using namespace vrrpd;

namespace {

struct FakeFs {
  std::map<std::string, FileInfo> files;
  std::map<std::string, std::string> links; // path -> resolved
  FsView view() const {
    FsView fs;
    fs.lstat = [this](const std::string& p) -> std::optional<FileInfo> {
      auto it = files.find(p);
      if (it == files.end()) return std::nullopt;
      return it->second;
    };
    fs.stat = fs.lstat;
    fs.realpath = [this](const std::string& p) -> std::optional<std::string> {
      auto l = links.find(p);
      if (l != links.end()) return l->second;
      if (!files.count(p)) return std::nullopt;
      return p;
    };
    return fs;
  }
};

FileInfo dir(mode_t m, uid_t u = 0, gid_t g = 0) {
  return {static_cast<mode_t>(S_IFDIR | m), u, g};
}
FileInfo sock(mode_t m, uid_t u = 0, gid_t g = 0) {
  return {static_cast<mode_t>(S_IFSOCK | m), u, g};
}

// /run/proxyd/admin.sock as proxyd creates it (root, 0755 directories).
FakeFs standard() {
  FakeFs fs;
  fs.files["/"] = dir(0755);
  fs.files["/run"] = dir(0755);
  fs.files["/run/proxyd"] = dir(0755);
  fs.files["/run/proxyd/admin.sock"] = sock(0660);
  return fs;
}

const TrustedIds kRoot{{0}, {0}};
const TrustedIds kHaproxy{{0, 998}, {0, 997}}; // proxy_user haproxy

} // namespace

TEST_CASE("a root socket in root directories is trusted", "[proxy_trust]") {
  FakeFs fs = standard();
  CHECK_FALSE(checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view()));
  // A missing socket is no refusal: connect() reports it.
  CHECK_FALSE(checkProxySocket("/run/proxyd/none.sock", kRoot, fs.view()));
}

TEST_CASE("a socket owned by another user is refused unless it is proxy_user", "[proxy_trust]") {
  FakeFs fs = standard();
  fs.files["/run/proxyd/admin.sock"] = sock(0660, 65534);
  auto r = checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view());
  REQUIRE(r);
  CHECK(*r == "socket /run/proxyd/admin.sock is owned by uid 65534, not by a trusted user "
              "(root; see proxy_user)");
  fs.files["/run/proxyd/admin.sock"] = sock(0660, 998);
  CHECK(checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view()));
  CHECK_FALSE(checkProxySocket("/run/proxyd/admin.sock", kHaproxy, fs.view()));
}

TEST_CASE("a socket anyone may write to is refused", "[proxy_trust]") {
  FakeFs fs = standard();
  fs.files["/run/proxyd/admin.sock"] = sock(0666);
  auto r = checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view());
  REQUIRE(r);
  CHECK(r->find("writable by anyone (mode 0666)") != std::string::npos);
}

TEST_CASE("a directory others may write to is refused unless sticky", "[proxy_trust]") {
  FakeFs fs = standard();
  fs.files["/run/proxyd"] = dir(0777);
  auto r = checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view());
  REQUIRE(r);
  CHECK(r->find("directory /run/proxyd (mode 0777, gid 0) is writable by others") == 0);
  fs.files["/run/proxyd"] = dir(01777); // as /tmp
  CHECK_FALSE(checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view()));
  // Group-writable: only by a trusted group.
  fs.files["/run/proxyd"] = dir(0775, 0, 997);
  CHECK(checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view()));
  CHECK_FALSE(checkProxySocket("/run/proxyd/admin.sock", kHaproxy, fs.view()));
  // Higher up counts as well (renaming /run would swap the whole tree).
  fs = standard();
  fs.files["/run"] = dir(0757);
  CHECK(checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view()));
}

TEST_CASE("a directory owned by another user is refused", "[proxy_trust]") {
  FakeFs fs = standard();
  fs.files["/run/proxyd"] = dir(0755, 998, 997);
  auto r = checkProxySocket("/run/proxyd/admin.sock", kRoot, fs.view());
  REQUIRE(r);
  CHECK(r->find("directory /run/proxyd is owned by uid 998") == 0);
  CHECK_FALSE(checkProxySocket("/run/proxyd/admin.sock", kHaproxy, fs.view()));
}

TEST_CASE("the socket's real path is checked, not the link", "[proxy_trust]") {
  FakeFs fs = standard();
  fs.files["/tmp"] = dir(01777);
  fs.files["/tmp/evil"] = dir(0755, 65534);
  fs.files["/tmp/evil/s"] = sock(0755);
  fs.links["/run/proxyd/link.sock"] = "/tmp/evil/s";
  auto r = checkProxySocket("/run/proxyd/link.sock", kRoot, fs.view());
  REQUIRE(r);
  CHECK(r->find("directory /tmp/evil is owned by uid 65534") == 0);
  fs.files["/run/proxyd/file"] = {S_IFREG | 0644, 0, 0};
  CHECK(checkProxySocket("/run/proxyd/file", kRoot, fs.view())->find("is not a unix socket") !=
        std::string::npos);
}

TEST_CASE("the peer must run as a trusted user", "[proxy_trust]") {
  CHECK_FALSE(checkProxyPeer(0, 42, kRoot));
  auto r = checkProxyPeer(65534, 42, kRoot);
  REQUIRE(r);
  CHECK(*r == "the process at the socket (pid 42) runs as uid 65534, not as a trusted user "
              "(root; see proxy_user)");
  CHECK(checkProxyPeer(998, 42, kRoot));
  CHECK_FALSE(checkProxyPeer(998, 42, kHaproxy));
  TrustedIds dup{{0, 0, 998}, {}};
  CHECK(dup.describe() == "root, uid 998");
}
