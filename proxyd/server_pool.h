#pragma once
// Server-side connections shared by the stream kinds.
//
// ServerPool: idle keep-alive connections to servers, by (backend, server),
// that a later HTTP request may reuse (HAProxy's per-server idle
// connections, `http-reuse safe`). An idle connection is watched: anything
// the server sends, or its close, removes it (a server must not speak
// unasked). Connections idle longer than the purge delay are closed.
//
// ServerConnector: picks a server of a backend and gets a connection to it
// for its owning stream: the owner's own idle connection to that server when
// it holds one (HAProxy reuses the session's connection first), else one
// from the pool when allowed, else a non-blocking
// connect within `timeout connect`; waits in the backend's queue when every
// server is full (`timeout queue`, defaulting to `timeout connect`); retries
// (`retries`, after HAProxy's turn-around delay of min(timeout connect, 1 s)
// when refused; at once after a timeout); `option redispatch` sends the
// last retry to another server. It holds the server slot (BackendRt's
// connStarted/connEnded) from the pick until releaseSlot().
#include "common/loop.h"
#include "proxyd/backend.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace proxyd {

class Daemon;
class Stream;
class Worker;

class ServerPool {
public:
  explicit ServerPool(common::Loop& loop,
                      std::chrono::milliseconds purgeDelay = std::chrono::seconds(5),
                      size_t maxPerServer = 64);
  ~ServerPool();
  ServerPool(const ServerPool&) = delete;
  ServerPool& operator=(const ServerPool&) = delete;

  // An idle connection to (backend, server), most recent first, or -1. The
  // caller owns the fd. With `watcher`, the caller also gets the watcher
  // that watched it (still registered for reading: handing it over spares
  // two epoll changes); otherwise the watcher is dropped.
  int take(int backend, size_t server, common::FdWatcherPtr* watcher = nullptr);
  // Keeps `fd` (owned from now on) as idle for (backend, server); closes it
  // when the pool for that server is full. `w`: the watcher the caller had
  // on it, reused.
  void give(int backend, size_t server, int fd, common::FdWatcherPtr w = nullptr);
  size_t idle() const;
  size_t idle(int backend, size_t server) const;

private:
  struct Idle {
    int fd = -1;
    common::FdWatcherPtr w;
    std::chrono::steady_clock::time_point since;
  };
  using Key = std::pair<int, size_t>;
  void drop(const Key& k, int fd); // the server spoke or closed
  void purge();

  common::Loop& loop_;
  std::chrono::milliseconds purgeDelay_;
  size_t maxPerServer_;
  std::map<Key, std::vector<Idle>> idle_;
  common::TimerPtr purgeTimer_;
};

enum class ConnectFailure { NoServer, QueueFull, QueueTimeout, ConnectFailed, ConnectTimeout };

class ServerConnector {
public:
  // `connected(fd)` hands over a connected socket (ownership included);
  // `failed(f)` reports that no connection could be had. Both are called
  // from the loop or from start() itself; the owner may finish from them.
  ServerConnector(Worker& w, Stream& owner, std::function<void(int fd)> connected,
                  std::function<void(ConnectFailure)> failed);
  ~ServerConnector();
  ServerConnector(const ServerConnector&) = delete;
  ServerConnector& operator=(const ServerConnector&) = delete;

  // Picks a server of `be` (by `key` for hashing balancers) and connects.
  // `allowPool`: an idle pooled connection to the picked server may be used.
  // `direct`: the server a persistence cookie designates, used without
  // asking the balancer (waiting in the queue while it is full); only a
  // redispatch (`option redispatch`, last retry) leaves it.
  // Resets the per-attempt figures (tw, tc, retries...).
  void start(BackendRt& be, const PickKey& key, bool allowPool,
             std::optional<size_t> direct = std::nullopt);
  // The backend queue's turn for the owner.
  void onQueueTurn();
  // Stops waiting or connecting (leaves the queue, closes a half-open
  // socket). The server slot, if any, is kept until releaseSlot().
  void cancel();
  void releaseSlot();
  bool busy() const { return phase_ != Phase::Idle; }
  bool queued() const { return phase_ == Phase::Queued; }

  BackendRt* backend() const { return be_; }
  std::optional<size_t> server() const { return server_; }
  long tw() const { return tw_; }
  long tc() const { return tc_; }
  int retries() const { return retries_; }
  bool redispatched() const { return redispatched_; }
  int queuePosBe() const { return queuePosBe_; }
  bool reused() const { return reused_; }
  // `f(server)` returns the owner's idle connection to that server of the
  // backend being connected, or -1; connected() then gets that same fd.
  void setOwnIdle(std::function<int(size_t server)> f) { ownIdle_ = std::move(f); }
  // The next connection (until connected or failed) is a new one: neither
  // the owner's idle connection nor the pool (a replay after a reused
  // connection failed).
  void avoidReuse() { fresh_ = true; }
  // From inside connected(): the watcher of the new connection (watching
  // writability), for the owner to keep with setCallback() instead of
  // registering the fd again; null for a reused connection.
  common::FdWatcherPtr takeWatcher() { return std::move(w_); }

private:
  enum class Phase { Idle, Queued, Connecting, RetryWait };
  void assign(std::optional<size_t> avoid);
  BackendRt::PickOutcome choose(std::optional<size_t> avoid);
  // Holds a slot of `server` (connStarted), once.
  void takeSlot(size_t server);
  void connectTo(size_t server);
  void handOver(int fd, bool reused);
  void onConnectResult(int err, bool timedOut);
  void onTimer();
  void closeSock();
  void fail(ConnectFailure f);

  Worker& wk_;
  Stream& owner_;
  std::function<void(int)> connected_;
  std::function<void(ConnectFailure)> failed_;
  std::function<int(size_t)> ownIdle_;
  BackendRt* be_ = nullptr;
  PickKey key_;
  std::optional<size_t> direct_;
  bool allowPool_ = false;
  bool fresh_ = false;
  Phase phase_ = Phase::Idle;
  int fd_ = -1;
  common::FdWatcherPtr w_;
  common::TimerPtr timer_;
  std::optional<size_t> server_;
  bool counted_ = false;
  int retriesLeft_ = 0;
  int retries_ = 0;
  bool redispatched_ = false;
  bool reused_ = false;
  long tw_ = -1, tc_ = -1;
  int queuePosBe_ = 0;
  unsigned attempt_ = 0; // tells a deferred report from a stale one
  std::chrono::steady_clock::time_point queuedAt_{}, connectAt_{};
};

} // namespace proxyd
