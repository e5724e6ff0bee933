#pragma once
// Process-level helpers for the daemons: detaching, pidfiles, privileges,
// chroot and the fd limit. Each returns an error text naming what failed.
#include "common/result.h"

#include <string>
#include <string_view>
#include <sys/resource.h>
#include <sys/types.h>

namespace common {

// Detaches from the terminal in two steps so the launching command returns
// only when the daemon is really serving (as `haproxy -D` does):
//   Daemonizer d;
//   if (auto r = d.start(); !r) ...      // forks; only the daemon returns
//   ... bind listeners, write the pidfile ...
//   d.ready();  or  d.failed("cannot bind 0.0.0.0:80: ...");
// start() forks, setsid()s, forks again and chdir("/")s. The original process
// waits on a pipe: ready() makes it exit 0, failed(msg) makes it print msg on
// its stderr and exit 1, and a daemon that dies before either makes it exit 1.
// ready() also points the daemon's stdin/stdout/stderr at /dev/null (unless
// `keepStdio`), so startup errors still reach the terminal until then.
class Daemonizer {
public:
  Daemonizer() = default;
  ~Daemonizer(); // closes the pipe: the parent then exits 1 if not told yet
  Daemonizer(const Daemonizer&) = delete;
  Daemonizer& operator=(const Daemonizer&) = delete;

  // Returns in the daemon; the calling process never returns (it exits with
  // the daemon's verdict). An error (fork/pipe failed) returns in the caller.
  Result<bool> start();
  void ready(bool keepStdio = false);
  void failed(std::string_view msg);
  bool started() const { return fd_ >= 0; }

private:
  int fd_ = -1; // the daemon's end of the readiness pipe
};

// start() then ready() at once.
Result<bool> daemonize();

// Points fds 0, 1 and 2 at /dev/null.
void redirectStdioToDevNull();

// Writes "<pid>\n" (created 0644, truncated). Both refuse a symbolic link at
// `path` ("... is a symbolic link (refused)"). removePidfile ignores errors.
Result<bool> writePidfile(const std::string& path, pid_t pid);
Result<pid_t> readPidfile(const std::string& path);
void removePidfile(const std::string& path);

// Switches to `user` and `group` (names or numbers; either may be empty):
// initgroups (or just the one group when the user has no passwd entry),
// setgid, setuid. An empty group with a user takes the user's primary group.
// Errors say which lookup or call failed ("unknown user 'x'").
Result<bool> dropPrivileges(const std::string& user, const std::string& group);

// Resolves a user/group name or number; errors as dropPrivileges'.
Result<uid_t> lookupUser(const std::string& user);
Result<gid_t> lookupGroup(const std::string& group);

// chdir(path), chroot("."), chdir("/").
Result<bool> enterChroot(const std::string& path);

// Raises RLIMIT_NOFILE towards `wanted` (the hard limit too when allowed) and
// returns the soft limit achieved, which may be lower than wanted.
rlim_t raiseFdLimit(rlim_t wanted);

} // namespace common
