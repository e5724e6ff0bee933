#include "common/process.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <pwd.h>
#include <sstream>
#include <string>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace common;
using namespace std::chrono_literals;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/proctestXXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { (void)!std::system(("rm -rf '" + path + "'").c_str()); }
};

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// waitpid with a deadline; returns the status, or -1 (after SIGKILL) on timeout.
int waitFor(pid_t pid, std::chrono::milliseconds limit = 5s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    std::this_thread::sleep_for(5ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// Runs `body` in a forked child; its return value is the child's exit code.
template <class F> int inChild(F body) {
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  REQUIRE(pid > 0);
  int st = waitFor(pid);
  return st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

// Forks a launcher that daemonizes; `daemonBody` runs in the daemon and
// decides its verdict. Returns the launcher's exit code and its stderr.
template <class F> std::pair<int, std::string> launch(const TempDir& dir, F daemonBody) {
  std::string errPath = dir.path + "/launcher.err";
  std::fflush(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(errPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
    Daemonizer d;
    if (!d.start()) ::_exit(99);
    daemonBody(d); // only the daemon gets here
    ::_exit(0);
  }
  REQUIRE(pid > 0);
  int st = waitFor(pid);
  int code = st >= 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return {code, slurp(errPath)};
}

} // namespace

TEST_CASE("Pidfile write, read and remove", "[process]") {
  TempDir dir;
  std::string path = dir.path + "/proxyd.pid";
  REQUIRE(writePidfile(path, 4242).ok());
  CHECK(slurp(path) == "4242\n");
  auto r = readPidfile(path);
  REQUIRE(r.ok());
  CHECK(*r == 4242);
  REQUIRE(writePidfile(path, 7).ok()); // truncates
  CHECK(slurp(path) == "7\n");
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
  removePidfile(path);
  CHECK(::access(path.c_str(), F_OK) != 0);
  removePidfile(path); // no error when already gone

  auto bad = writePidfile(dir.path + "/no/such/dir/x.pid", 1);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("no/such/dir/x.pid") != std::string::npos);
  CHECK_FALSE(readPidfile(dir.path + "/missing.pid").ok());
  std::ofstream(dir.path + "/junk.pid") << "abc\n";
  CHECK_FALSE(readPidfile(dir.path + "/junk.pid").ok());
}

TEST_CASE("Pidfile: a symlink at the path is refused, its target untouched", "[process]") {
  TempDir dir;
  std::string target = dir.path + "/precious";
  std::ofstream(target) << "keep\n";
  std::string path = dir.path + "/vrrpd.pid";
  REQUIRE(::symlink(target.c_str(), path.c_str()) == 0);
  auto w = writePidfile(path, 4242);
  REQUIRE_FALSE(w.ok());
  CHECK(w.error().find("symbolic link") != std::string::npos);
  CHECK(slurp(target) == "keep\n");
  std::ofstream(target) << "99\n";
  auto r = readPidfile(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("symbolic link") != std::string::npos);
  // A dangling link (nothing to truncate yet) is refused too: O_CREAT would
  // otherwise create its target.
  std::string dangling = dir.path + "/other.pid";
  REQUIRE(::symlink((dir.path + "/created").c_str(), dangling.c_str()) == 0);
  CHECK_FALSE(writePidfile(dangling, 1).ok());
  CHECK(::access((dir.path + "/created").c_str(), F_OK) != 0);
}

TEST_CASE("Daemonizer: the launcher exits 0 only after the daemon is ready", "[process]") {
  TempDir dir;
  std::string info = dir.path + "/daemon.info";
  pid_t me = ::getpid();
  auto [code, err] = launch(dir, [&](Daemonizer& d) {
    // Slow startup: the launcher must still be waiting when this is written.
    std::this_thread::sleep_for(100ms);
    char cwd[256] = {};
    (void)!::getcwd(cwd, sizeof cwd);
    std::ofstream(info) << ::getpid() << " " << ::getsid(0) << " " << cwd << " "
                        << (::getppid() != me) << "\n";
    d.ready();
    // stdio is /dev/null now: this must not reach the launcher's stderr.
    std::fprintf(stderr, "after ready\n");
    std::fflush(stderr);
  });
  CHECK(code == 0);
  CHECK(err.empty());
  std::istringstream in(slurp(info));
  long pid = 0, sid = 0;
  std::string cwd;
  int notOurChild = 0;
  REQUIRE(in >> pid >> sid >> cwd >> notOurChild);
  CHECK(pid != me);
  CHECK(sid != ::getsid(0)); // a new session
  CHECK(sid != pid);         // not the session leader (second fork)
  CHECK(cwd == "/");
  CHECK(notOurChild == 1);
}

TEST_CASE("Daemonizer: failed(msg) makes the launcher print it and exit 1", "[process]") {
  TempDir dir;
  auto [code, err] =
      launch(dir, [](Daemonizer& d) { d.failed("cannot bind 0.0.0.0:80: Address in use"); });
  CHECK(code == 1);
  CHECK(err == "cannot bind 0.0.0.0:80: Address in use\n");
}

TEST_CASE("Daemonizer: a daemon dying before ready makes the launcher exit 1", "[process]") {
  TempDir dir;
  auto [code, err] = launch(dir, [](Daemonizer&) { ::_exit(3); });
  CHECK(code == 1);
  CHECK(err.find("exited before it was ready") != std::string::npos);
}

TEST_CASE("User and group lookups by name and number", "[process]") {
  CHECK(*lookupUser("root") == 0);
  CHECK(*lookupUser("0") == 0);
  CHECK(*lookupGroup("0") == 0);
  auto u = lookupUser("no_such_user_xyz");
  REQUIRE_FALSE(u.ok());
  CHECK(u.error() == "unknown user 'no_such_user_xyz'");
  auto g = lookupGroup("no_such_group_xyz");
  REQUIRE_FALSE(g.ok());
  CHECK(g.error() == "unknown group 'no_such_group_xyz'");
}

TEST_CASE("dropPrivileges names the failed lookup", "[process]") {
  auto r = dropPrivileges("no_such_user_xyz", "");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().find("unknown user 'no_such_user_xyz'") != std::string::npos);
  auto r2 = dropPrivileges("", "no_such_group_xyz");
  REQUIRE_FALSE(r2.ok());
  CHECK(r2.error().find("unknown group 'no_such_group_xyz'") != std::string::npos);
  CHECK(dropPrivileges("", "").ok()); // nothing asked, nothing done
}

TEST_CASE("dropPrivileges switches to nobody (as root, in a child)", "[process][root]") {
  passwd* pw = ::getpwnam("nobody");
  if (pw == nullptr) {
    WARN("no 'nobody' user: skipped");
    return;
  }
  uid_t nobodyUid = pw->pw_uid;
  gid_t nobodyGid = pw->pw_gid;
  if (::geteuid() != 0) {
    // Not root: the real path cannot run; the call must fail with a reason.
    int code = inChild([] { return dropPrivileges("nobody", "").ok() ? 1 : 0; });
    CHECK(code == 0);
    WARN("not root: only the error path of dropPrivileges was tested");
    return;
  }
  int code = inChild([&] {
    auto r = dropPrivileges("nobody", "");
    if (!r.ok()) return 10;
    if (::getuid() != nobodyUid || ::geteuid() != nobodyUid) return 11;
    if (::getgid() != nobodyGid || ::getegid() != nobodyGid) return 12;
    gid_t groups[64];
    int n = ::getgroups(64, groups);
    for (int i = 0; i < n; ++i) {
      if (groups[i] == 0) return 13; // root's groups are gone
    }
    if (::setuid(0) == 0) return 14; // irreversible
    return 0;
  });
  CHECK(code == 0);
  // Numeric user and group, the user without its name's groups.
  int code2 = inChild([&] {
    auto r = dropPrivileges(std::to_string(nobodyUid), std::to_string(nobodyGid));
    if (!r.ok()) return 10;
    return ::getuid() == nobodyUid && ::getgid() == nobodyGid ? 0 : 11;
  });
  CHECK(code2 == 0);
}

TEST_CASE("enterChroot", "[process]") {
  auto bad = enterChroot("/no/such/dir");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().find("/no/such/dir") != std::string::npos);
  if (::geteuid() != 0) {
    WARN("not root: chroot itself not tested");
    return;
  }
  TempDir dir;
  std::ofstream(dir.path + "/marker") << "x";
  int code = inChild([&] {
    if (!enterChroot(dir.path).ok()) return 10;
    char cwd[64] = {};
    if (::getcwd(cwd, sizeof cwd) == nullptr || std::string(cwd) != "/") return 11;
    return ::access("/marker", F_OK) == 0 ? 0 : 12;
  });
  CHECK(code == 0);
}

TEST_CASE("raiseFdLimit raises the soft limit as far as allowed", "[process]") {
  rlimit before{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &before) == 0);
  int code = inChild([&] {
    rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    // Already enough: unchanged.
    if (raiseFdLimit(16) != rl.rlim_cur) return 10;
    // Lower the soft limit, then ask for more than the hard limit allows.
    rlimit low = rl;
    low.rlim_cur = 64;
    if (::setrlimit(RLIMIT_NOFILE, &low) != 0) return 11;
    if (raiseFdLimit(128) != 128) return 12;
    rlim_t got = raiseFdLimit(rl.rlim_max == RLIM_INFINITY ? 1 << 20 : rl.rlim_max + 1000);
    rlimit now{};
    ::getrlimit(RLIMIT_NOFILE, &now);
    if (got != now.rlim_cur) return 13;
    if (got < 128) return 14;
    return 0;
  });
  CHECK(code == 0);
  rlimit after{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(after.rlim_cur == before.rlim_cur); // the child's changes stayed there
}
