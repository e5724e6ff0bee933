#include "common/process.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace common {

namespace {

std::string sysErr(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

bool writeAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

template <class T> bool parseId(const std::string& s, T& out) {
  if (s.empty()) return false;
  unsigned long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return false;
  out = static_cast<T>(v);
  return static_cast<unsigned long>(out) == v;
}

// The waiting parent: reads the daemon's verdict from the pipe. Protocol: one
// byte 'R' (ready) or 'F' followed by a message, then EOF.
[[noreturn]] void waitForDaemon(int rfd, pid_t firstChild) {
  int status = 0;
  while (::waitpid(firstChild, &status, 0) < 0 && errno == EINTR) {
  }
  std::string msg;
  char buf[512];
  for (;;) {
    ssize_t n = ::read(rfd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, static_cast<size_t>(n));
    if (msg[0] == 'R') break;
  }
  if (!msg.empty() && msg[0] == 'R') ::_exit(0);
  if (!msg.empty() && msg[0] == 'F') {
    msg.erase(0, 1);
    if (msg.empty() || msg.back() != '\n') msg += '\n';
    (void)writeAll(STDERR_FILENO, msg.data(), msg.size());
  } else {
    const char* m = "daemon exited before it was ready\n";
    (void)writeAll(STDERR_FILENO, m, std::strlen(m));
  }
  ::_exit(1);
}

} // namespace

// --------------------------------------------------------------- Daemonizer

Daemonizer::~Daemonizer() {
  if (fd_ >= 0) ::close(fd_);
}

Result<bool> Daemonizer::start() {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) return err(sysErr("daemonize: pipe"));
  std::fflush(nullptr); // no buffered output duplicated into the children
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(p[0]);
    ::close(p[1]);
    errno = e;
    return err(sysErr("daemonize: fork"));
  }
  if (pid > 0) {
    ::close(p[1]);
    waitForDaemon(p[0], pid);
  }
  // First child: new session, then fork again so the daemon is no session
  // leader and can never reacquire a controlling terminal.
  ::close(p[0]);
  ::setsid();
  pid = ::fork();
  if (pid < 0) {
    std::string m = "F" + sysErr("daemonize: second fork");
    (void)writeAll(p[1], m.data(), m.size());
    ::_exit(1);
  }
  if (pid > 0) ::_exit(0);
  (void)!::chdir("/");
  fd_ = p[1];
  return true;
}

void Daemonizer::ready(bool keepStdio) {
  if (fd_ < 0) return;
  if (!keepStdio) redirectStdioToDevNull();
  (void)writeAll(fd_, "R", 1);
  ::close(fd_);
  fd_ = -1;
}

void Daemonizer::failed(std::string_view msg) {
  if (fd_ < 0) return;
  std::string m = "F";
  m.append(msg);
  (void)writeAll(fd_, m.data(), m.size());
  ::close(fd_);
  fd_ = -1;
}

Result<bool> daemonize() {
  Daemonizer d;
  auto r = d.start();
  if (!r) return r;
  d.ready();
  return true;
}

void redirectStdioToDevNull() {
  int fd = ::open("/dev/null", O_RDWR);
  if (fd < 0) return;
  for (int i = 0; i < 3; ++i) {
    if (fd != i) ::dup2(fd, i);
  }
  if (fd > 2) ::close(fd);
}

// ------------------------------------------------------------------ Pidfile

namespace {

// open() of a pidfile that never follows a symlink in the last component: a
// link planted there (e.g. towards /etc/shadow in a directory others may
// write) would make a root daemon truncate or read its target.
Result<int> openPidfile(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd >= 0) return fd;
  if (errno == ELOOP)
    return err("cannot open pidfile '" + path + "': it is a symbolic link (refused)");
  return err(sysErr("cannot open pidfile '" + path + "'"));
}

} // namespace

Result<bool> writePidfile(const std::string& path, pid_t pid) {
  auto o = openPidfile(path, O_WRONLY | O_CREAT | O_TRUNC);
  if (!o) return err(o.error());
  int fd = *o;
  std::string s = std::to_string(pid) + "\n";
  bool ok = writeAll(fd, s.data(), s.size());
  int e = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    e = errno;
  }
  if (!ok) {
    errno = e;
    return err(sysErr("cannot write pidfile '" + path + "'"));
  }
  return true;
}

Result<pid_t> readPidfile(const std::string& path) {
  auto o = openPidfile(path, O_RDONLY);
  if (!o) return err(o.error());
  int fd = *o;
  char buf[32];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return err("pidfile '" + path + "' is empty");
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  pid_t pid = 0;
  if (!parseId(s, pid) || pid <= 0) return err("pidfile '" + path + "' holds no pid");
  return pid;
}

void removePidfile(const std::string& path) {
  (void)::unlink(path.c_str());
}

// --------------------------------------------------------------- Privileges

namespace {

size_t bufSize(int name) {
  long n = ::sysconf(name);
  return n > 0 ? static_cast<size_t>(n) : 16384;
}

// A passwd entry by name or number; `found` false when there is none.
struct PwInfo {
  bool found = false;
  uid_t uid = 0;
  gid_t gid = 0;
  std::string name;
};

Result<PwInfo> findUser(const std::string& user) {
  std::vector<char> buf(bufSize(_SC_GETPW_R_SIZE_MAX));
  passwd pw{};
  passwd* res = nullptr;
  uid_t uid = 0;
  bool numeric = parseId(user, uid);
  for (;;) {
    int rc = numeric ? ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &res)
                     : ::getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &res);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (res == nullptr) {
      if (numeric) return PwInfo{false, uid, 0, {}}; // a bare uid is allowed
      return err("unknown user '" + user + "'");
    }
    return PwInfo{true, pw.pw_uid, pw.pw_gid, pw.pw_name};
  }
}

} // namespace

Result<uid_t> lookupUser(const std::string& user) {
  auto r = findUser(user);
  if (!r) return err(r.error());
  return r->uid;
}

Result<gid_t> lookupGroup(const std::string& group) {
  gid_t gid = 0;
  if (parseId(group, gid)) return gid;
  std::vector<char> buf(bufSize(_SC_GETGR_R_SIZE_MAX));
  ::group gr{};
  ::group* res = nullptr;
  for (;;) {
    int rc = ::getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &res);
    if (rc == ERANGE) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (res == nullptr) return err("unknown group '" + group + "'");
    return gr.gr_gid;
  }
}

Result<bool> dropPrivileges(const std::string& user, const std::string& group) {
  if (user.empty() && group.empty()) return true;
  PwInfo pw;
  if (!user.empty()) {
    auto r = findUser(user);
    if (!r) return err(r.error());
    pw = *r;
  }
  gid_t gid = pw.gid;
  if (!group.empty()) {
    auto g = lookupGroup(group);
    if (!g) return err(g.error());
    gid = *g;
  } else if (!pw.found) {
    return err("user '" + user + "' has no passwd entry: a group is required");
  }
  if (!user.empty() && pw.found) {
    if (::initgroups(pw.name.c_str(), gid) != 0) return err(sysErr("initgroups('" + user + "')"));
  } else if (::setgroups(1, &gid) != 0) {
    return err(sysErr("setgroups(" + std::to_string(gid) + ")"));
  }
  if (::setgid(gid) != 0) return err(sysErr("setgid(" + std::to_string(gid) + ")"));
  if (!user.empty() && ::setuid(pw.uid) != 0) {
    return err(sysErr("setuid(" + std::to_string(pw.uid) + ")"));
  }
  return true;
}

Result<bool> enterChroot(const std::string& path) {
  if (::chdir(path.c_str()) != 0) return err(sysErr("chroot: cannot chdir to '" + path + "'"));
  if (::chroot(".") != 0) return err(sysErr("chroot('" + path + "')"));
  if (::chdir("/") != 0) return err(sysErr("chroot: cannot chdir to / in '" + path + "'"));
  return true;
}

rlim_t raiseFdLimit(rlim_t wanted) {
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
  if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= wanted) return rl.rlim_cur;
  if (rl.rlim_cur == RLIM_INFINITY) return rl.rlim_cur;
  rlimit want = rl;
  want.rlim_cur = wanted;
  if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < wanted) want.rlim_max = wanted;
  if (::setrlimit(RLIMIT_NOFILE, &want) == 0) return wanted;
  // Not allowed to raise the hard limit: go as far as it allows.
  want.rlim_max = rl.rlim_max;
  want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > wanted ? wanted : rl.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &want) == 0) return want.rlim_cur;
  return rl.rlim_cur;
}

} // namespace common
