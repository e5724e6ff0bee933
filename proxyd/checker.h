#pragma once
// Active health checks for one server: a TCP connect every interval (inter,
// fastinter while the state is changing, downinter while down), the
// backend's tcp-check rules (connect / send / expect) with `option
// tcp-check`, or its HTTP rules (connect / send a request / expect on the
// response, httpcheck.h decides) with `option httpchk`. Each result goes to
// BackendRt::checkDone, which keeps the rise/fall counter and the balancer
// in step.
#include "common/loop.h"
#include "common/values.h"
#include "proxyd/config.h"
#include "proxyd/health.h"

#include <chrono>
#include <memory>
#include <string>

namespace proxyd {

class BackendRt;
namespace httpcheck {
class ResponseReader;
}

class HealthChecker {
public:
  HealthChecker(common::Loop& loop, BackendRt& be, size_t server);
  ~HealthChecker();
  // First check after a spread delay, like HAProxy's start-up spreading.
  void start(std::chrono::microseconds firstDelay);
  // A check is under way (connecting, sending or reading).
  bool running() const { return running_; }

private:
  enum class Kind { Tcp, TcpCheck, Http };
  void begin();
  void connectStep(uint16_t port);
  void connected();
  void onEvent(unsigned ready);
  void onTimeout();
  void runRules();
  void runHttpRules();
  void done(CheckStatus status, std::string info = "", int code = -1);
  void closeSock();
  std::string mismatchInfo() const;

  common::Loop& loop_;
  BackendRt& be_;
  size_t server_;
  Kind kind_;
  common::TimerPtr timer_; // next check, and the check's own timeout
  common::FdWatcherPtr w_;
  int fd_ = -1;
  bool running_ = false;
  bool connecting_ = false;
  bool eof_ = false;                                // the server closed its side
  size_t rule_ = 0;                                 // next tcp-check / http-check rule
  std::string rx_;                                  // tcp-check: bytes received for `expect`
  std::string tx_;                                  // bytes still to send
  std::unique_ptr<httpcheck::ResponseReader> resp_; // http: the response being read
  int code_ = -1;                                   // http: the status of the last response
  std::chrono::steady_clock::time_point started_;
};

} // namespace proxyd
