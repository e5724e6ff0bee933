#pragma once
// track_proxy's I/O client: one per track_proxy block, on the loop.
//
// The watch connection: a non-blocking connection to proxyd's admin socket
// that sends `watch health [backend B] heartbeat MS` and reads the stream;
// every event goes through ProxyHealth (proxy_health.h, pure), which decides
// the status and the silence deadline. A failed or closed connection is
// retried after 100 ms, doubling to 2 s.
//
// The reports: proxyd ignores input on a watch connection (except `quit`,
// docs/runtime-api.md), so `set vrrp INST STATE PRIO` lines go over short
// one-shot connections to the same socket: the latest state of each instance
// is kept, and whatever is pending is sent together on one connection at a
// time (1 s timeout). After each (re)connection of the watch every known
// state is sent again (proxyd may have restarted). `Permission denied` (a
// socket below level operator) is logged once.
//
// Trust and limits: before each connection the socket file and its
// directories are checked, after it the peer's SO_PEERCRED uid
// (proxy_trust.h); every line and every read is bounded (LineReader, at most
// 16 KiB per wake-up, an answer to `set vrrp` of at most 4 KiB). A refused or
// misbehaving peer is dropped, logged and counts as a failed proxy
// (ProxyHealth::onViolation).
#include "common/loop.h"
#include "vrrpd/config.h"
#include "vrrpd/proxy_health.h"

#include <functional>
#include <map>
#include <string>

namespace vrrpd {

class ProxyTracker {
public:
  using OnChange = std::function<void()>;
  using LogFn = std::function<void(int severity, const std::string& msg)>;
  ProxyTracker(common::Loop& loop, const TrackProxy& cfg, OnChange onChange, LogFn log);
  ~ProxyTracker();
  ProxyTracker(const ProxyTracker&) = delete;
  ProxyTracker& operator=(const ProxyTracker&) = delete;

  void start();
  TrackStatus status() const { return health_.status(); }
  const TrackProxy& cfg() const { return cfg_; }
  // A reload kept the tracker: the new configuration (same fingerprint).
  void setCfg(const TrackProxy& cfg) { cfg_ = cfg; }
  void report(const std::string& instance, const std::string& state, int priority);
  // Reports not yet delivered (stop waits for them, bounded).
  bool reportsPending() const { return !pending_.empty() || rfd_ >= 0; }

private:
  void connect();
  void onWatch(unsigned ready);
  void drop(const std::string& why);
  void refuse(const std::string& why); // untrusted or broke the protocol
  void closeWatch();
  void logFailure(const std::string& why); // once until it changes
  void armTick();
  void onTick();
  void changed();
  void flushReports();
  void onReport(unsigned ready);
  void endReport(const std::string& problem);

  common::Loop& loop_;
  TrackProxy cfg_;
  OnChange onChange_;
  LogFn log_;
  ProxyHealth health_;
  bool started_ = false;
  // watch connection
  int fd_ = -1;
  common::FdWatcherPtr w_;
  LineReader reader_;
  common::TimerPtr tick_;
  common::TimerPtr retry_;
  std::string lastFailure_; // logged once until it changes
  // reports
  std::map<std::string, std::string> known_;   // instance -> its line
  std::map<std::string, std::string> pending_; // instance -> line to send
  int rfd_ = -1;
  common::FdWatcherPtr rw_;
  common::TimerPtr rtimeout_;
  std::string rout_, rin_;
  bool deniedLogged_ = false;
};

} // namespace vrrpd
