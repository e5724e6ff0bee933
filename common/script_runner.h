#pragma once
// Runs external commands (keepalived's track and notify scripts) without ever
// blocking the loop: fork+exec, SIGCHLD on the loop, a timeout that ends in
// SIGTERM then SIGKILL. A timed-out script counts as failed, as in keepalived.
#include "common/loop.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace common {

struct ScriptSpec {
  std::vector<std::string> argv;        // argv[0] is looked up in PATH unless it has a '/'
  std::string shell;                    // run via /bin/sh -c when argv is empty
  std::chrono::milliseconds timeout{0}; // 0 = no timeout
  std::optional<uid_t> uid;             // switched to in the child (needs root)
  std::optional<gid_t> gid;     // idem (default with uid: its passwd group); the only group kept
  std::vector<std::string> env; // extra KEY=VAL, overriding inherited ones
};

struct ScriptResult {
  bool timedOut = false; // the timeout expired; the script was killed
  bool exited = false;   // it exited normally (see exitCode)
  int exitCode = -1;
  int termSignal = 0;         // the signal that ended it, if any
  bool failedToStart = false; // fork failed (exec failures exit 127)
  std::chrono::milliseconds duration{0};
  // Success as keepalived judges a check script: exited with 0, in time.
  bool ok() const { return !timedOut && exited && exitCode == 0; }
};

// The child runs in its own process group (the timeout kills the group, so
// `sh -c` pipelines die too), with stdin on /dev/null, stdout/stderr
// inherited, default signal dispositions and an empty signal mask, and every
// fd above 2 closed. Reaping uses waitpid() on our own pids only, so other
// children of the process are left alone.
class ScriptRunner {
public:
  using Done = std::function<void(const ScriptResult&)>;
  explicit ScriptRunner(Loop& loop);
  ~ScriptRunner(); // SIGKILLs and reaps still-running children; no callbacks
  ScriptRunner(const ScriptRunner&) = delete;
  ScriptRunner& operator=(const ScriptRunner&) = delete;

  // Starts the command and returns its id; `done` is called on the loop when
  // it ends (never from inside run()). `done` may destroy the runner.
  uint64_t run(const ScriptSpec& spec, Done done);
  size_t running() const { return children_.size(); }
  // Time between SIGTERM and SIGKILL after a timeout (default 1s).
  void setKillGrace(std::chrono::milliseconds g) { grace_ = g; }

private:
  struct Child;
  void reap();
  void onTimeout(Child& c);
  void schedulePoll();

  Loop& loop_;
  SignalWatcherPtr sigchld_;
  TimerPtr poll_; // a slow waitpid() sweep, in case a SIGCHLD went elsewhere
  std::map<uint64_t, std::unique_ptr<Child>> children_;
  uint64_t nextId_ = 1;
  std::chrono::milliseconds grace_{1000};
  std::shared_ptr<bool> alive_;
};

} // namespace common
