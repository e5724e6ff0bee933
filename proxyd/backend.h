#pragma once
// Runtime state of one backend: its servers (state, health, connection
// counts), its balancer and its queue of streams waiting for a free server.
// The decisions live in the pure cores (Balancer, HealthCounter); this class
// keeps them in step and tells waiting streams when a slot frees up.
#include "proxyd/balancer.h"
#include "proxyd/config.h"
#include "proxyd/counter.h"
#include "proxyd/health.h"
#include "proxyd/runtime.h"

#include <chrono>

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace proxyd {

class Daemon;
class Stream;
class HealthChecker;

struct ServerRt {
  const ServerConfig* cfg = nullptr;
  HealthCounter health;
  bool maint = false;       // `disabled`, or `disable server` / `state maint`
  bool configMaint = false; // maint comes from `disabled` (until set ready)
  bool drain = false;       // `state drain`: UP, checked, but no new connections
  bool stopping = false;    // NOLB: disable-on-404 saw a 404 (no new connections)
  int weight = 1;           // current user weight (`set weight`)
  int maxconn = 0;          // current maxconn (`set maxconn server`); 0: none
  Counter<int> cur = 0;     // connections now established or being established
  Counter<int> maxCur = 0;  // highest `cur` since the last `clear counters`
  Counter<long> total = 0;  // connections ever sent to it
  Counter<long> failedConns = 0;
  // The last health check, as `show stat` reports it.
  std::string checkStatus = "INI";
  std::string checkDesc = "Initializing";
  std::string checkInfo;
  int checkCode = -1;       // HTTP status of L7OK / L7STS results
  long checkDurationMs = -1;
  uint64_t checkFailed = 0; // failed checks
  uint64_t checkDowns = 0;  // UP -> DOWN transitions
  std::chrono::steady_clock::time_point lastChange = std::chrono::steady_clock::now();
  std::unique_ptr<HealthChecker> checker;

  explicit ServerRt(const ServerConfig* c);
  ~ServerRt();
  ServerRt(ServerRt&&) noexcept;
  bool up() const { return !maint && health.up(); }
  // The balancer may give it new connections.
  bool usable() const { return up() && !drain && !stopping && weight > 0; }
  bool full() const { return maxconn > 0 && cur >= maxconn; }
  runtime::AdminState admin() const {
    return maint ? runtime::AdminState::Maint
                 : drain ? runtime::AdminState::Drain : runtime::AdminState::Ready;
  }
};

class BackendRt {
public:
  BackendRt(Daemon& daemon, const ProxyConfig& cfg, int index);
  ~BackendRt();

  const ProxyConfig& cfg() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  int index() const { return index_; }
  std::vector<ServerRt>& servers() { return servers_; }

  // Starts health checks of every server with `check`.
  void startChecks();

  enum class PickStatus { Picked, AllFull, NoServer };
  struct PickOutcome {
    PickStatus status;
    size_t server = 0;
  };
  // Picks a server for a new connection. `avoid`: a server not to use
  // (redispatch after failures). Servers at maxconn are skipped; when every
  // candidate is at maxconn the answer is AllFull (the caller queues).
  PickOutcome pick(const PickKey& key, std::optional<size_t> avoid = std::nullopt);

  // The caller holds the daemon's lock (Daemon::lock) from its pick on, so
  // no other thread takes the slot in between.
  void connStarted(size_t server);
  std::unique_lock<std::recursive_mutex> lock();
  // A connection to `server` ended: a queued stream may take its slot.
  void connEnded(size_t server);

  // Queue of streams waiting for a server slot (FIFO, as HAProxy's backend
  // queue). maxqueue: when every candidate server has a maxqueue, the queue
  // holds at most their sum.
  bool enqueue(Stream* s);
  void dequeue(Stream* s);
  size_t queued() const;

  // A health check finished: updates the counter, the balancer and logs
  // HAProxy's transition line when the state changes.
  void checkDone(size_t server, const CheckReport& report);

  // Runtime API changes (names resolved by the caller). Each takes effect on
  // the balancer at once and tells the daemon health may have changed.
  void setAdminState(size_t server, runtime::AdminState st);
  void setWeight(size_t server, int weight);
  void setMaxconn(size_t server, int maxconn);
  // Index of the server named `name` ("#<id>" also works), or nullopt.
  std::optional<size_t> findServer(const std::string& name) const;

  Counter<int> beconn = 0; // streams in this backend (queued + connected)
  Counter<int> maxBeconn = 0;
  Counter<long> cumConns = 0;
  int activeUp() const;
  int backupUp() const;

private:
  void syncBalancer(size_t server);
  void serveQueue();
  // Gives `s` its queue turn: at once on its own thread, else posted to its
  // worker (which then serves the queue again).
  void giveTurn(Stream* s);

  Daemon& daemon_;
  const ProxyConfig& cfg_;
  int index_;
  std::vector<ServerRt> servers_;
  BalancerPtr lb_;
  std::deque<Stream*> queue_;
  bool hadServer_ = true;
};

} // namespace proxyd
