#pragma once
// Active health checks for one server: a TCP connect every interval (inter,
// fastinter while the state is changing, downinter while down), or the
// backend's tcp-check rules (connect / send / expect) when `option
// tcp-check` is set. Each result goes to BackendRt::checkDone, which keeps
// the rise/fall counter and the balancer in step.
#include "common/loop.h"
#include "common/values.h"
#include "proxyd/config.h"

#include <chrono>
#include <string>

namespace proxyd {

class BackendRt;

class HealthChecker {
public:
  HealthChecker(common::Loop& loop, BackendRt& be, size_t server);
  ~HealthChecker();
  // First check after a spread delay, like HAProxy's start-up spreading.
  void start(std::chrono::microseconds firstDelay);

private:
  void begin();
  void connectStep(uint16_t port);
  void onEvent(unsigned ready);
  void runRules();
  void done(bool ok, const std::string& reason, const std::string& info);
  void closeSock();
  std::string mismatchInfo() const;

  common::Loop& loop_;
  BackendRt& be_;
  size_t server_;
  common::TimerPtr timer_;    // next check, and the check's own timeout
  common::FdWatcherPtr w_;
  int fd_ = -1;
  bool running_ = false;
  bool connecting_ = false;
  size_t rule_ = 0;         // next tcp-check rule
  std::string rx_;          // bytes received for `expect`
  std::string tx_;          // bytes still to send
  std::chrono::steady_clock::time_point started_;
};

} // namespace proxyd
