#include "proxyd/checker.h"

#include "proxyd/backend.h"
#include "proxyd/io_util.h"

#include <algorithm>
#include <cerrno>
#include <memory>
#include <cstring>
#include <netinet/in.h>
#include <regex>
#include <sys/socket.h>
#include <unistd.h>

namespace proxyd {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;

HealthChecker::HealthChecker(common::Loop& loop, BackendRt& be, size_t server)
    : loop_(loop), be_(be), server_(server) {
  timer_ = std::make_unique<common::Timer>(loop_, [this] {
    if (running_) {
      // The check's own deadline passed.
      bool l4 = connecting_;
      if (!be_.cfg().tcpCheck || l4) done(false, l4 ? "Layer4 timeout" : "Layer7 timeout", "");
      else
        done(false, "Layer7 timeout",
             "at step " + std::to_string(rule_ + 1) + " of tcp-check (expect)");
    } else {
      begin();
    }
  });
}

HealthChecker::~HealthChecker() {
  w_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void HealthChecker::start(std::chrono::microseconds firstDelay) { timer_->arm(firstDelay); }

void HealthChecker::closeSock() {
  retire(loop_, w_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

namespace {
// The deadline of one check: `timeout check` when set (bounded by inter, as
// HAProxy bounds the connect part), otherwise inter.
common::Micros checkTimeout(const ProxyConfig& cfg, const ServerOptions& o) {
  if (cfg.timeouts.check) {
    auto c = *cfg.timeouts.check;
    if (cfg.timeouts.connect) c = std::max(c, std::min(*cfg.timeouts.connect, o.inter));
    return c;
  }
  return o.inter;
}
} // namespace

void HealthChecker::begin() {
  running_ = true;
  started_ = Clock::now();
  rule_ = 0;
  rx_.clear();
  tx_.clear();
  const auto& srv = be_.servers()[server_];
  timer_->arm(checkTimeout(be_.cfg(), srv.cfg->opt));
  const auto& rules = be_.cfg().tcpChecks;
  uint16_t port = 0;
  if (be_.cfg().tcpCheck && !rules.empty() && rules[0].kind == TcpCheckRule::Kind::Connect) {
    port = rules[0].port;
    rule_ = 1;
  }
  connectStep(port);
}

void HealthChecker::connectStep(uint16_t port) {
  closeSock();
  const auto& srv = be_.servers()[server_];
  const auto& o = srv.cfg->opt;
  common::SockAddr a = srv.cfg->addr;
  if (o.checkAddr) a = common::SockAddr::from(*o.checkAddr, a.port());
  if (o.checkPort) a.setPort(o.checkPort);
  if (port) a.setPort(port);
  fd_ = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    done(false, "Layer4 connection problem", std::strerror(errno));
    return;
  }
  connecting_ = true;
  int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a.ss), a.len);
  if (rc < 0 && errno != EINPROGRESS) {
    done(false, "Layer4 connection problem", std::strerror(errno));
    return;
  }
  w_ = std::make_unique<common::FdWatcher>(loop_, fd_, [this](unsigned r) { onEvent(r); });
  w_->want(common::FdWatcher::Write);
}

void HealthChecker::onEvent(unsigned ready) {
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    connecting_ = false;
    if (err) {
      std::string info = std::strerror(err);
      if (be_.cfg().tcpCheck && !be_.cfg().tcpChecks.empty())
        info += " at step " + std::to_string(std::max<size_t>(rule_, 1)) + " of tcp-check (connect)";
      done(false, "Layer4 connection problem", info);
      return;
    }
    if (!be_.cfg().tcpCheck || be_.cfg().tcpChecks.empty()) {
      done(true, "Layer4 check passed", "");
      return;
    }
    runRules();
    return;
  }
  if (ready & common::FdWatcher::Write && !tx_.empty()) {
    ssize_t n = ::send(fd_, tx_.data(), tx_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      done(false, "Layer4 connection problem", std::strerror(errno));
      return;
    }
    if (n > 0) tx_.erase(0, static_cast<size_t>(n));
    if (tx_.empty()) runRules();
    return;
  }
  if (ready & common::FdWatcher::Read) {
    char buf[4096];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      rx_.append(buf, static_cast<size_t>(n));
      runRules();
      return;
    }
    if (n == 0 || errno != EAGAIN) {
      // Closed before the expected content arrived: evaluate what we have.
      runRules();
      if (running_) done(false, "Layer7 invalid response", mismatchInfo());
    }
  }
}

// Runs tcp-check rules from rule_ until one must wait for I/O.
void HealthChecker::runRules() {
  const auto& rules = be_.cfg().tcpChecks;
  while (running_ && rule_ < rules.size()) {
    const auto& r = rules[rule_];
    switch (r.kind) {
    case TcpCheckRule::Kind::Connect:
      ++rule_;
      connectStep(r.port);
      return;
    case TcpCheckRule::Kind::Send:
    case TcpCheckRule::Kind::SendBinary:
      tx_ += r.data;
      ++rule_;
      w_->want(common::FdWatcher::Write);
      return;
    case TcpCheckRule::Kind::Expect: {
      bool matched = false;
      switch (r.match) {
      case TcpCheckRule::Match::String:
      case TcpCheckRule::Match::Binary: matched = rx_.find(r.pattern) != std::string::npos; break;
      case TcpCheckRule::Match::Rstring:
        try {
          matched = std::regex_search(rx_, std::regex(r.pattern, std::regex::extended));
        } catch (const std::regex_error&) {
          matched = false;
        }
        break;
      }
      if (r.negate) {
        if (matched) {
          done(false, "Layer7 invalid response",
               "TCPCHK matched unwanted content '" + r.pattern + "' at step " +
                   std::to_string(rule_ + 1));
          return;
        }
        // "! expect" passes once the peer has answered something.
        if (rx_.empty()) {
          w_->want(common::FdWatcher::Read);
          return;
        }
      } else if (!matched) {
        w_->want(common::FdWatcher::Read);
        return; // wait for more bytes (or the timeout)
      }
      rx_.clear();
      ++rule_;
      break;
    }
    }
  }
  if (running_) done(true, "Layer7 check passed", "(tcp-check)");
}

// HAProxy's words for an `expect` that found nothing matching before the
// server closed (or said nothing at all).
std::string HealthChecker::mismatchInfo() const {
  const auto& rules = be_.cfg().tcpChecks;
  std::string step = " at step " + std::to_string(rule_ + 1);
  if (rx_.empty() || rule_ >= rules.size()) return "TCPCHK got an empty response" + step;
  const auto& r = rules[rule_];
  switch (r.match) {
  case TcpCheckRule::Match::String: return "TCPCHK did not match content '" + r.pattern + "'" + step;
  case TcpCheckRule::Match::Rstring: return "TCPCHK did not match content (regex)" + step;
  case TcpCheckRule::Match::Binary: return "TCPCHK did not match content (binary)" + step;
  }
  return "TCPCHK did not match content" + step;
}

void HealthChecker::done(bool ok, const std::string& reason, const std::string& info) {
  if (!running_) return;
  running_ = false;
  connecting_ = false;
  closeSock();
  long ms = static_cast<long>(
      duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count());
  be_.checkDone(server_, ok ? CheckResult::Passed : CheckResult::Failed, reason, info, ms);
  const auto& srv = be_.servers()[server_];
  timer_->arm(srv.health.nextInterval(srv.cfg->opt));
}

} // namespace proxyd
