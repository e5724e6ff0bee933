#include "common/script_runner.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

using namespace common;
using namespace std::chrono_literals;

namespace {

template <class Pred> bool runUntil(Loop& loop, Pred done, std::chrono::milliseconds limit = 5s) {
  bool expired = false;
  Timer guard(loop, [&] { expired = true; });
  guard.arm(limit);
  while (!done() && !expired)
    loop.runOnce(true);
  return done();
}

ScriptSpec shell(std::string cmd, std::chrono::milliseconds timeout = 0ms) {
  ScriptSpec s;
  s.shell = std::move(cmd);
  s.timeout = timeout;
  return s;
}

std::string tempPath(const char* name) {
  return "/tmp/srtest_" + std::to_string(::getpid()) + "_" + name;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

} // namespace

TEST_CASE("ScriptRunner reports exit codes", "[script]") {
  Loop loop;
  ScriptRunner runner(loop);
  std::vector<ScriptResult> results(3);
  int done = 0;
  runner.run(shell("exit 0"), [&](const ScriptResult& r) { results[0] = r, ++done; });
  runner.run(shell("exit 3"), [&](const ScriptResult& r) { results[1] = r, ++done; });
  ScriptSpec argv;
  argv.argv = {"false"}; // looked up in PATH
  runner.run(argv, [&](const ScriptResult& r) { results[2] = r, ++done; });
  CHECK(done == 0); // never called from inside run()
  CHECK(runner.running() == 3);
  REQUIRE(runUntil(loop, [&] { return done == 3; }));
  CHECK(runner.running() == 0);
  CHECK(results[0].exited);
  CHECK(results[0].exitCode == 0);
  CHECK(results[0].ok());
  CHECK(results[1].exitCode == 3);
  CHECK_FALSE(results[1].ok());
  CHECK(results[2].exitCode == 1);
  CHECK_FALSE(results[2].timedOut);
}

TEST_CASE("ScriptRunner reports a missing command as exit 127 and a signal death", "[script]") {
  Loop loop;
  ScriptRunner runner(loop);
  ScriptResult missing, killed;
  int done = 0;
  ScriptSpec s;
  s.argv = {"/no/such/binary"};
  runner.run(s, [&](const ScriptResult& r) { missing = r, ++done; });
  runner.run(shell("kill -9 $$"), [&](const ScriptResult& r) { killed = r, ++done; });
  REQUIRE(runUntil(loop, [&] { return done == 2; }));
  CHECK(missing.exitCode == 127);
  CHECK_FALSE(killed.exited);
  CHECK(killed.termSignal == SIGKILL);
  CHECK_FALSE(killed.ok());
}

TEST_CASE("A script past its timeout is killed and reported timed out", "[script]") {
  Loop loop;
  ScriptRunner runner(loop);
  runner.setKillGrace(300ms);
  bool finished = false;
  ScriptResult res;
  int ticks = 0;
  TimerPtr tick; // re-arms itself: the loop keeps serving timers meanwhile
  tick = std::make_unique<Timer>(loop, [&] {
    ++ticks;
    tick->arm(20ms);
  });
  tick->arm(20ms);
  auto start = std::chrono::steady_clock::now();
  runner.run(shell("sleep 5", 200ms), [&](const ScriptResult& r) {
    res = r;
    finished = true;
  });
  REQUIRE(runUntil(
      loop, [&] { return finished; }, 4s));
  auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < 2s);
  CHECK(elapsed >= 200ms);
  CHECK(res.timedOut);
  CHECK_FALSE(res.ok());
  CHECK((res.termSignal == SIGTERM || res.termSignal == SIGKILL));
  CHECK(res.duration >= 200ms);
  CHECK(ticks >= 5); // the timer kept firing while the script ran
}

TEST_CASE("A script ignoring SIGTERM is SIGKILLed after the grace", "[script]") {
  Loop loop;
  ScriptRunner runner(loop);
  runner.setKillGrace(200ms);
  bool finished = false;
  ScriptResult res;
  auto start = std::chrono::steady_clock::now();
  runner.run(shell("trap '' TERM; sleep 5 & wait; sleep 5", 100ms), [&](const ScriptResult& r) {
    res = r;
    finished = true;
  });
  REQUIRE(runUntil(
      loop, [&] { return finished; }, 4s));
  CHECK(std::chrono::steady_clock::now() - start < 3s);
  CHECK(res.timedOut);
}

TEST_CASE("Many scripts run at once", "[script]") {
  Loop loop;
  ScriptRunner runner(loop);
  const int n = 40;
  std::vector<int> codes(n, -1);
  int done = 0;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    runner.run(shell("sleep 0.2; exit " + std::to_string(i % 7), 3000ms),
               [&, i](const ScriptResult& r) {
                 codes[i] = r.exitCode;
                 ++done;
               });
  }
  CHECK(runner.running() == static_cast<size_t>(n));
  REQUIRE(runUntil(
      loop, [&] { return done == n; }, 8s));
  CHECK(std::chrono::steady_clock::now() - start < 4s); // in parallel, not 40 x 0.2s
  for (int i = 0; i < n; ++i)
    CHECK(codes[i] == i % 7);
}

TEST_CASE("Scripts get extra environment, stdin on /dev/null, no inherited fds", "[script]") {
  Loop loop;
  ScriptRunner runner(loop);
  std::string out = tempPath("env");
  int leaked = ::open("/dev/null", O_RDONLY); // not CLOEXEC: must still be closed
  REQUIRE(leaked > 2);
  ScriptSpec s = shell("{ echo \"$FOO $HOME_OVERRIDE\"; ls /proc/self/fd | sort -n | tr '\\n' ' ';"
                       " echo; cat; echo end; } > " +
                       out);
  s.env = {"FOO=bar", "HOME_OVERRIDE=x"};
  bool finished = false;
  ScriptResult res;
  runner.run(s, [&](const ScriptResult& r) {
    res = r;
    finished = true;
  });
  REQUIRE(runUntil(loop, [&] { return finished; }));
  ::close(leaked);
  CHECK(res.ok());
  std::string text = slurp(out);
  ::unlink(out.c_str());
  std::istringstream in(text);
  std::string line1, line2, line3;
  std::getline(in, line1);
  std::getline(in, line2);
  std::getline(in, line3);
  CHECK(line1 == "bar x");
  // fds of `ls` itself: 0 1 2 and the one it opens for /proc/self/fd.
  CHECK(line2.find(" " + std::to_string(leaked) + " ") == std::string::npos);
  CHECK(line3 == "end"); // cat read EOF at once from /dev/null
}

TEST_CASE("Destroying the runner kills running scripts without callbacks", "[script]") {
  Loop loop;
  auto runner = std::make_unique<ScriptRunner>(loop);
  bool called = false;
  runner->run(shell("sleep 5"), [&](const ScriptResult&) { called = true; });
  auto start = std::chrono::steady_clock::now();
  runner.reset();
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  for (int i = 0; i < 3; ++i)
    loop.runOnce(false);
  CHECK_FALSE(called);
}

TEST_CASE("A done callback may destroy the runner or start more scripts", "[script]") {
  Loop loop;
  auto runner = std::make_unique<ScriptRunner>(loop);
  int first = 0, second = 0, after = 0;
  runner->run(shell("exit 0"), [&](const ScriptResult&) {
    ++first;
    runner->run(shell("exit 1"), [&](const ScriptResult& r) {
      second = r.exitCode;
      runner.reset(); // destroys the runner from inside its own callback
    });
  });
  REQUIRE(runUntil(loop, [&] { return runner == nullptr; }));
  CHECK(first == 1);
  CHECK(second == 1);
  for (int i = 0; i < 3; ++i)
    loop.runOnce(false);
  CHECK(after == 0);
}

TEST_CASE("Scripts run as the requested uid/gid (as root)", "[script][root]") {
  passwd* pw = ::getpwnam("nobody");
  if (::geteuid() != 0 || pw == nullptr) {
    WARN("not root or no 'nobody': uid switch not tested");
    return;
  }
  Loop loop;
  ScriptRunner runner(loop);
  std::string out = tempPath("uid");
  ScriptSpec s = shell("id -u > " + out + "; id -g >> " + out);
  ::unlink(out.c_str());
  // The script writes into /tmp (sticky, world-writable) as nobody.
  s.uid = pw->pw_uid;
  s.gid = pw->pw_gid;
  bool finished = false;
  ScriptResult res;
  runner.run(s, [&](const ScriptResult& r) {
    res = r;
    finished = true;
  });
  REQUIRE(runUntil(loop, [&] { return finished; }));
  CHECK(res.ok());
  CHECK(slurp(out) == std::to_string(pw->pw_uid) + "\n" + std::to_string(pw->pw_gid) + "\n");
  ::unlink(out.c_str());

  // A uid alone takes the user's own group, not root's; no root groups remain.
  ScriptSpec s2 = shell("id -g > " + out + "; id -G >> " + out);
  s2.uid = pw->pw_uid;
  finished = false;
  runner.run(s2, [&](const ScriptResult& r) {
    res = r;
    finished = true;
  });
  REQUIRE(runUntil(loop, [&] { return finished; }));
  CHECK(res.ok());
  std::string g = std::to_string(pw->pw_gid);
  CHECK(slurp(out) == g + "\n" + g + "\n");
  ::unlink(out.c_str());
}
