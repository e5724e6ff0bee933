#pragma once
// The Daemon owns everything a running proxyd has: the loop, the validated
// configuration, the frontends (listeners), the backends (servers, balancers,
// queues, checks), the live streams, the loggers and the global counters.
// No mutable globals: everything hangs off this object.
#include "common/log.h"
#include "common/loop.h"
#include "proxyd/backend.h"
#include "proxyd/buffer.h"
#include "proxyd/config.h"
#include "proxyd/counter.h"
#include "proxyd/server_pool.h"

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace proxyd {

class Stream;
class Daemon;
class AdminServer;
class DaemonControl;
class ControlSwitch;

// One bound socket of a frontend.
class Worker;

// One listening socket of a frontend on one worker (owned: workers other
// than the first get a dup of the bound socket).
class Listener {
public:
  Listener(Daemon& d, Worker& w, class FrontendRt& fe, int fd, const common::SockAddr& addr);
  ~Listener();
  void pause();
  void resume();
  const common::SockAddr& addr() const { return addr_; }
  int fd() const { return fd_; }
  Worker& worker() const { return w_; }

private:
  void onReadable();
  Daemon& d_;
  Worker& w_;
  FrontendRt& fe_;
  int fd_;
  common::SockAddr addr_;
  common::FdWatcherPtr watch_;
  bool paused_ = true; // until Daemon::start()
};

class FrontendRt {
public:
  FrontendRt(const ProxyConfig& cfg, int index);
  const ProxyConfig& cfg() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  int index() const { return index_; }
  std::vector<std::unique_ptr<Listener>> listeners; // worker 0's (the bound sockets)
  std::vector<std::unique_ptr<Listener>> workerListeners; // the other workers' dups
  bool accepting = true; // under the daemon's lock
  Counter<int> feconn = 0;
  Counter<int> maxFeconn = 0; // highest feconn since the last `clear counters`
  Counter<long> cumConns = 0;
  // `set maxconn frontend`: replaces the configured maxconn (0: none).
  // -1: none. Atomic: workers read it when accepting.
  std::atomic<int> maxconnOverride = -1;
  int maxconn() const;
  bool full() const { return feconn >= maxconn(); }
  const common::Logger* logger = nullptr; // null: no log targets

private:
  const ProxyConfig& cfg_;
  int index_;
};

struct RunOptions {
  bool foreground = true;
  bool quiet = false;
};

class Daemon {
public:
  Daemon(common::Loop& loop, Config cfg, RunOptions opts);
  ~Daemon();

  // Binds every listener. On failure returns the HAProxy-style message and
  // opens nothing (already-bound sockets are closed). `previous` (reload):
  // an address it already listens on is shared (dup of its socket, same
  // accept queue) instead of bound again, so no connection is refused while
  // the configuration changes, even after privileges were dropped.
  common::Result<bool> bindAll(Daemon* previous = nullptr);
  // Opens one admin socket per `stats socket` line (before privileges are
  // dropped). On failure returns the HAProxy-style message; none stays open.
  // `previous` (reload): when its `stats socket` lines are the same, its
  // admin sockets and their open connections (e.g. vrrpd's `watch health`)
  // are taken over and now act on this daemon; otherwise they are closed
  // first and the new ones opened.
  common::Result<bool> openAdminSockets(Daemon* previous = nullptr);
  // Starts accepting and checking.
  void start();
  // Stops accepting, closes every stream, then calls the drained callback.
  void stop();
  // Closes the listeners and calls the drained callback once the last
  // stream ends (HAProxy's soft stop, SIGUSR1; the old side of a reload).
  void softStop();
  // Stops the health checks (the old side of a reload).
  void stopChecks();
  // What to do once stopped or drained; default: stop the loop.
  void setOnDrained(std::function<void()> f) { onDrained_ = std::move(f); }

  // The main thread's loop (worker 0, health checks, admin sockets).
  common::Loop& loop() { return loop_; }
  const Config& config() const { return cfg_; }
  BackendRt* backend(int proxyIndex);
  // The lock over what the workers share: backends (servers, balancers,
  // queues), frontends' accept state. Recursive: a queue turn run under it
  // may pick again.
  std::unique_lock<std::recursive_mutex> lock() { return std::unique_lock(mu_); }
  int threads() const { return static_cast<int>(workers_.size()); }
  Worker& worker(int i) { return *workers_[static_cast<size_t>(i)]; }

  // Stream bookkeeping, called by Listener and Stream. reserve() counts a
  // connection about to be accepted (false: a limit is reached); release()
  // undoes it when the accept fails.
  bool reserve(FrontendRt& fe);
  void release(FrontendRt& fe);
  void onAccept(Worker& w, FrontendRt& fe, int fd, const common::SockAddr& peer);
  // The worker a connection accepted by `self` goes to (counted as its
  // load at once): `self` unless another has clearly fewer streams.
  Worker& leastLoaded(Worker& self);
  void streamClosed(Stream* s, FrontendRt& fe);
  int actconn() const { return actconn_; }
  int maxconn() const { return maxconn_; }
  bool full() const { return actconn_ >= maxconn_; }

  // ---- runtime API (runtime_control.cc reads and changes these) ----
  int hardMaxconn() const { return hardMaxconn_; }
  void setMaxconn(int m);
  // Re-evaluates which listeners accept (after a maxconn change).
  void refreshListeners() { updateListeners(); }
  uint64_t cumConns() const { return cumConns_; }
  int maxActconn() const { return maxActconn_; }
  void clearMaxActconn() { maxActconn_ = actconn_.load(); }
  bool stopping() const { return softStopping_; }
  std::chrono::steady_clock::time_point startMono() const { return startMono_; }
  std::chrono::system_clock::time_point startWall() const { return startWall_; }
  const std::vector<std::unique_ptr<FrontendRt>>& frontends() const { return frontends_; }
  FrontendRt* frontend(const std::string& name);
  // A server or backend changed state: `watch health` streams are told.
  void healthChanged();
  // `shutdown sessions server`: ends every stream connected to the server.
  void killServerStreams(const BackendRt& be, size_t server);
  size_t adminSockets() const { return adminServers_.size(); }

  // Log lines: `proxyLogger` is the proxy's own targets (or global's with
  // `log global`); alerts/warnings also go to stderr in the foreground.
  const common::Logger* proxyLogger(int proxyIndex) const;
  void notice(int proxyIndex, int severity, const std::string& msg);

private:
  void updateListeners();
  // Pauses or resumes `w`'s listeners after the frontends' accept state.
  void applyListeners(Worker& w);
  void drained();
  common::Logger* makeLogger(const std::vector<LogTarget>& targets);

  common::Loop& loop_;
  Config cfg_;
  RunOptions opts_;
  std::recursive_mutex mu_;
  std::atomic<int> maxconn_ = 0;
  int hardMaxconn_ = 0;
  Counter<int> actconn_ = 0;
  Counter<int> maxActconn_ = 0;
  Counter<uint64_t> cumConns_ = 0;
  std::chrono::steady_clock::time_point startMono_ = std::chrono::steady_clock::now();
  std::chrono::system_clock::time_point startWall_ = std::chrono::system_clock::now();
  std::atomic<bool> softStopping_ = false;
  std::atomic<bool> drainedDone_ = false;
  std::vector<std::unique_ptr<FrontendRt>> frontends_;
  std::vector<std::unique_ptr<BackendRt>> backends_; // index: proxy index (null if not a backend)
  // Declared after the frontends and backends: destroyed first (their
  // threads stopped, their streams ended while backends still exist).
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::unique_ptr<common::Logger>> loggers_;
  std::vector<const common::Logger*> proxyLoggers_;
  std::unique_ptr<common::Logger> stderrLog_;
  std::function<void()> onDrained_;
  // Declared last: destroyed first (their connections use the switch, which
  // points at control_). The switch and the admin servers move to the next
  // daemon at a reload; control_ stays with its daemon.
  std::unique_ptr<DaemonControl> control_;
  std::unique_ptr<ControlSwitch> switch_;
  std::vector<std::unique_ptr<AdminServer>> adminServers_;
};

} // namespace proxyd
