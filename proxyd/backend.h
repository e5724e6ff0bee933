#pragma once
// Runtime state of one backend: its servers (state, health, connection
// counts), its balancer and its queue of streams waiting for a free server.
// The decisions live in the pure cores (Balancer, HealthCounter); this class
// keeps them in step and tells waiting streams when a slot frees up.
#include "proxyd/balancer.h"
#include "proxyd/config.h"
#include "proxyd/health.h"

#include <deque>
#include <functional>
#include <memory>
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
  bool maint = false; // `disabled`, or set by the runtime API later
  int cur = 0;        // connections now established or being established
  long total = 0;     // connections ever sent to it
  long failedConns = 0;
  std::unique_ptr<HealthChecker> checker;

  explicit ServerRt(const ServerConfig* c);
  ~ServerRt();
  ServerRt(ServerRt&&) noexcept;
  bool up() const { return !maint && health.up(); }
  bool full() const { return cfg->opt.maxconn > 0 && cur >= cfg->opt.maxconn; }
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
  PickOutcome pick(uint64_t hash, std::optional<size_t> avoid = std::nullopt);

  void connStarted(size_t server);
  // A connection to `server` ended: a queued stream may take its slot.
  void connEnded(size_t server);

  // Queue of streams waiting for a server slot (FIFO, as HAProxy's backend
  // queue). maxqueue: when every candidate server has a maxqueue, the queue
  // holds at most their sum.
  bool enqueue(Stream* s);
  void dequeue(Stream* s);
  size_t queued() const { return queue_.size(); }

  // A health check finished: updates the counter, the balancer and logs
  // HAProxy's transition line when the state changes.
  void checkDone(size_t server, CheckResult r, const std::string& reason,
                 const std::string& info, long durationMs);

  int beconn = 0; // streams in this backend (queued + connected)
  long cumConns = 0;
  int activeUp() const;
  int backupUp() const;

private:
  void syncBalancer(size_t server);
  void serveQueue();

  Daemon& daemon_;
  const ProxyConfig& cfg_;
  int index_;
  std::vector<ServerRt> servers_;
  BalancerPtr lb_;
  std::deque<Stream*> queue_;
  bool hadServer_ = true;
};

} // namespace proxyd
