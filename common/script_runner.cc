#include "common/script_runner.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace common {

namespace {

using std::chrono::duration_cast;
using std::chrono::milliseconds;

// Finds `name` in PATH (before fork, so the child only calls execve).
std::string resolveCommand(const std::string& name) {
  if (name.find('/') != std::string::npos) return name;
  const char* path = ::getenv("PATH");
  std::string_view p = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = p.find(':');
    std::string_view dir = p.substr(0, colon);
    std::string cand = std::string(dir.empty() ? "." : dir) + "/" + name;
    if (::access(cand.c_str(), X_OK) == 0) return cand;
    if (colon == std::string_view::npos) break;
    p.remove_prefix(colon + 1);
  }
  return name; // execve fails and the child exits 127
}

// The inherited environment with `extra` KEY=VAL entries overriding it.
std::vector<std::string> buildEnv(const std::vector<std::string>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view kv = *e;
    std::string_view key = kv.substr(0, kv.find('='));
    bool overridden = false;
    for (const auto& x : extra) {
      if (std::string_view(x).substr(0, x.find('=')) == key) overridden = true;
    }
    if (!overridden) out.emplace_back(kv);
  }
  out.insert(out.end(), extra.begin(), extra.end());
  return out;
}

std::vector<char*> cstrs(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v)
    out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// The passwd entry's group of `uid`, or the nogroup-like 65534 when none.
gid_t primaryGroup(uid_t uid) {
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* res = nullptr;
  if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res != nullptr) {
    return pw.pw_gid;
  }
  return 65534;
}

// In the child between fork and exec: async-signal-safe calls only.
[[noreturn]] void execChild(const char* path, char* const* argv, char* const* envp,
                            const std::optional<uid_t>& uid, const std::optional<gid_t>& gid) {
  ::setpgid(0, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; ++s)
    ::sigaction(s, &dfl, nullptr); // fails harmlessly on some
  int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0 && null != STDIN_FILENO) {
    ::dup2(null, STDIN_FILENO);
    ::close(null);
  }
  if (::close_range(3, ~0U, 0) != 0) {
    for (int fd = 3; fd < 65536; ++fd)
      ::close(fd);
  }
  if (gid) {
    gid_t g = *gid;
    if (::setgroups(1, &g) != 0 || ::setgid(g) != 0) ::_exit(126);
  }
  if (uid && ::setuid(*uid) != 0) ::_exit(126);
  ::execve(path, argv, envp);
  ::_exit(127);
}

} // namespace

struct ScriptRunner::Child {
  uint64_t id = 0;
  pid_t pid = -1;
  MonoTime start;
  Done done;
  TimerPtr timer;
  bool timedOut = false;
  bool termSent = false;
};

ScriptRunner::ScriptRunner(Loop& loop) : loop_(loop), alive_(std::make_shared<bool>(true)) {
  sigchld_ = std::make_unique<SignalWatcher>(loop_, SIGCHLD, [this](int) { reap(); });
  poll_ = std::make_unique<Timer>(loop_, [this] { reap(); });
}

ScriptRunner::~ScriptRunner() {
  *alive_ = false;
  for (auto& [id, c] : children_) {
    ::kill(-c->pid, SIGKILL);
    ::kill(c->pid, SIGKILL);
  }
  for (auto& [id, c] : children_) {
    while (::waitpid(c->pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

uint64_t ScriptRunner::run(const ScriptSpec& spec, Done done) {
  uint64_t id = nextId_++;
  std::vector<std::string> args = spec.argv;
  if (args.empty()) args = {"/bin/sh", "-c", spec.shell};
  std::string path = resolveCommand(args[0]);
  std::vector<std::string> env = buildEnv(spec.env);
  std::vector<char*> argv = cstrs(args);
  std::vector<char*> envp = cstrs(env);

  // A uid without a gid takes the user's primary group, never root's.
  std::optional<gid_t> gid = spec.gid;
  if (spec.uid && !gid) gid = primaryGroup(*spec.uid);

  MonoTime start = loop_.clock().now();
  pid_t pid = ::fork();
  if (pid == 0) execChild(path.c_str(), argv.data(), envp.data(), spec.uid, gid);
  if (pid < 0) {
    // Report on the loop, never from inside run().
    std::weak_ptr<bool> alive = alive_;
    loop_.defer([alive, done = std::move(done)] {
      if (alive.expired() || !*alive.lock()) return;
      ScriptResult r;
      r.failedToStart = true;
      done(r);
    });
    return id;
  }
  ::setpgid(pid, pid); // also done by the child; whichever runs first wins

  auto c = std::make_unique<Child>();
  c->id = id;
  c->pid = pid;
  c->start = start;
  c->done = std::move(done);
  if (spec.timeout.count() > 0) {
    Child* raw = c.get();
    c->timer = std::make_unique<Timer>(loop_, [this, raw] { onTimeout(*raw); });
    c->timer->arm(spec.timeout);
  }
  children_.emplace(id, std::move(c));
  schedulePoll();
  return id;
}

void ScriptRunner::onTimeout(Child& c) {
  if (!c.termSent) {
    c.timedOut = true;
    c.termSent = true;
    if (::kill(-c.pid, SIGTERM) != 0) ::kill(c.pid, SIGTERM);
    c.timer->arm(grace_);
  } else {
    if (::kill(-c.pid, SIGKILL) != 0) ::kill(c.pid, SIGKILL);
  }
}

void ScriptRunner::schedulePoll() {
  if (children_.empty()) {
    poll_->cancel();
  } else if (!poll_->armed()) {
    poll_->arm(std::chrono::seconds(1));
  }
}

void ScriptRunner::reap() {
  std::vector<std::pair<Done, ScriptResult>> finished;
  MonoTime now = loop_.clock().now();
  for (auto it = children_.begin(); it != children_.end();) {
    Child& c = *it->second;
    int status = 0;
    pid_t r = ::waitpid(c.pid, &status, WNOHANG);
    if (r == 0 || (r < 0 && errno == EINTR)) {
      ++it;
      continue;
    }
    ScriptResult res;
    res.timedOut = c.timedOut;
    if (r > 0 && WIFEXITED(status)) {
      res.exited = true;
      res.exitCode = WEXITSTATUS(status);
    } else if (r > 0 && WIFSIGNALED(status)) {
      res.termSignal = WTERMSIG(status);
    }
    res.duration = duration_cast<milliseconds>(now - c.start);
    // A killed script's leftovers (e.g. what `sh -c` started) go too.
    if (c.timedOut) ::kill(-c.pid, SIGKILL);
    finished.emplace_back(std::move(c.done), res);
    it = children_.erase(it);
  }
  schedulePoll();
  // Callbacks last: any of them may run more scripts or destroy the runner.
  std::shared_ptr<bool> alive = alive_;
  for (auto& [done, res] : finished) {
    if (!*alive) return;
    if (done) done(res);
  }
}

} // namespace common
