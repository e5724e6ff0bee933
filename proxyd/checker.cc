#include "proxyd/checker.h"

#include "proxyd/backend.h"
#include "proxyd/httpcheck.h"
#include "proxyd/io_util.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace proxyd {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;

namespace {
// HAProxy's read size for checks is its buffer; 4 KiB reads keep the stack
// small and the reader bounds the total.
constexpr size_t kReadChunk = 4096;
// What a check may hold of the server's answer: HAProxy's check buffer
// (tune.bufsize). A tcp-check expect still unmatched when it is full fails.
constexpr size_t kCheckBuf = 16384;
} // namespace

HealthChecker::HealthChecker(common::Loop& loop, BackendRt& be, size_t server)
    : loop_(loop), be_(be), server_(server) {
  const ProxyConfig& cfg = be_.cfg();
  kind_ = cfg.httpCheck                              ? Kind::Http
          : (cfg.tcpCheck && !cfg.tcpChecks.empty()) ? Kind::TcpCheck
                                                     : Kind::Tcp;
  timer_ = std::make_unique<common::Timer>(loop_, [this] {
    if (running_)
      onTimeout();
    else
      begin();
  });
}

HealthChecker::~HealthChecker() {
  w_.reset();
  if (fd_ >= 0) ::close(fd_);
}

void HealthChecker::start(std::chrono::microseconds firstDelay) {
  timer_->arm(firstDelay);
}

void HealthChecker::closeSock() {
  retire(loop_, w_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// The check's own deadline passed (HAProxy: L4 timeout while connecting,
// L7 timeout after; tcp-check names the step it was waiting at).
void HealthChecker::onTimeout() {
  if (connecting_) {
    done(CheckStatus::L4Tout);
  } else if (kind_ == Kind::TcpCheck) {
    done(CheckStatus::L7Tout, "at step " + std::to_string(rule_ + 1) + " of tcp-check (expect)");
  } else {
    done(CheckStatus::L7Tout);
  }
}

void HealthChecker::begin() {
  running_ = true;
  started_ = Clock::now();
  rule_ = 0;
  code_ = -1;
  rx_.clear();
  tx_.clear();
  resp_.reset();
  const ProxyConfig& cfg = be_.cfg();
  const auto& o = be_.servers()[server_].cfg->opt;
  // HAProxy: the connection gets min(timeout connect, inter) when `timeout
  // check` is set, inter otherwise; `timeout check` then bounds the rest.
  auto deadline = o.inter;
  if (cfg.timeouts.check && cfg.timeouts.connect)
    deadline = std::min(deadline, *cfg.timeouts.connect);
  timer_->arm(deadline);
  uint16_t port = 0;
  if (kind_ == Kind::TcpCheck && cfg.tcpChecks[0].kind == TcpCheckRule::Kind::Connect) {
    port = cfg.tcpChecks[0].port;
    rule_ = 1;
  } else if (kind_ == Kind::Http && !cfg.httpChecks.empty() &&
             cfg.httpChecks[0].kind == HttpCheckRule::Kind::Connect) {
    port = cfg.httpChecks[0].port;
    rule_ = 1;
  }
  connectStep(port);
}

void HealthChecker::connectStep(uint16_t port) {
  closeSock();
  eof_ = false;
  const auto& srv = be_.servers()[server_];
  const auto& o = srv.cfg->opt;
  common::SockAddr a = srv.cfg->addr;
  if (o.checkAddr) a = common::SockAddr::from(*o.checkAddr, a.port());
  if (o.checkPort) a.setPort(o.checkPort);
  if (port) a.setPort(port);
  fd_ = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    done(CheckStatus::SockErr, std::strerror(errno));
    return;
  }
  connecting_ = true;
  int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&a.ss), a.len);
  if (rc < 0 && errno != EINPROGRESS) {
    done(CheckStatus::L4Con, std::strerror(errno));
    return;
  }
  w_ = std::make_unique<common::FdWatcher>(loop_, fd_, [this](unsigned r) { onEvent(r); });
  w_->want(common::FdWatcher::Write);
}

void HealthChecker::connected() {
  connecting_ = false;
  if (be_.cfg().timeouts.check) timer_->arm(*be_.cfg().timeouts.check);
  switch (kind_) {
  case Kind::Tcp:
    done(CheckStatus::L4Ok);
    return;
  case Kind::TcpCheck:
    runRules();
    return;
  case Kind::Http:
    runHttpRules();
    return;
  }
}

void HealthChecker::onEvent(unsigned ready) {
  if (connecting_) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    if (err) {
      std::string info = std::strerror(err);
      if (kind_ == Kind::TcpCheck)
        info +=
            " at step " + std::to_string(std::max<size_t>(rule_, 1)) + " of tcp-check (connect)";
      done(CheckStatus::L4Con, info);
      return;
    }
    connected();
    return;
  }
  if (ready & common::FdWatcher::Write && !tx_.empty()) {
    ssize_t n = ::send(fd_, tx_.data(), tx_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      done(CheckStatus::L4Con, std::strerror(errno));
      return;
    }
    if (n > 0) tx_.erase(0, static_cast<size_t>(n));
    if (tx_.empty()) kind_ == Kind::Http ? runHttpRules() : runRules();
    return;
  }
  if (ready & common::FdWatcher::Read) {
    char buf[kReadChunk];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0 && errno == EAGAIN) return;
    if (kind_ == Kind::Http) {
      if (n > 0)
        resp_->feed(std::string_view(buf, static_cast<size_t>(n)));
      else {
        eof_ = true;
        resp_->closed();
      }
      runHttpRules();
      return;
    }
    if (n > 0) {
      rx_.append(buf, std::min(static_cast<size_t>(n), kCheckBuf - rx_.size()));
      runRules();
      if (running_ && rx_.size() >= kCheckBuf) done(CheckStatus::L7Rsp, mismatchInfo());
      return;
    }
    // Closed before the expected content arrived: evaluate what we have.
    runRules();
    if (running_) done(CheckStatus::L7Rsp, mismatchInfo());
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
      case TcpCheckRule::Match::Binary:
        matched = rx_.find(r.pattern) != std::string::npos;
        break;
      case TcpCheckRule::Match::Rstring:
        matched = r.regex && r.regex->search(rx_);
        break;
      }
      if (r.negate) {
        if (matched) {
          done(CheckStatus::L7Rsp, "TCPCHK matched unwanted content '" + r.pattern + "' at step " +
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
  // HAProxy reports check->code, still 0 for tcp-check: "code: 0".
  if (running_) done(CheckStatus::L7Ok, "(tcp-check)", 0);
}

// Runs http-check rules from rule_ until one must wait for I/O.
void HealthChecker::runHttpRules() {
  const auto& rules = be_.cfg().httpChecks;
  while (running_ && rule_ < rules.size()) {
    const auto& r = rules[rule_];
    switch (r.kind) {
    case HttpCheckRule::Kind::Connect:
      ++rule_;
      connectStep(r.port);
      return;
    case HttpCheckRule::Kind::Comment:
      ++rule_;
      break;
    case HttpCheckRule::Kind::Send:
      if (eof_) {
        done(CheckStatus::L7Rsp);
        return;
      }
      tx_ = httpcheck::buildRequest(r);
      resp_ = std::make_unique<httpcheck::ResponseReader>(r.method, kCheckBuf);
      ++rule_;
      w_->want(common::FdWatcher::Write);
      return;
    case HttpCheckRule::Kind::Expect: {
      if (!resp_) resp_ = std::make_unique<httpcheck::ResponseReader>();
      // disable-on-404: a 404 to a running server skips the expect and
      // ends as L7OKC (HAProxy's tcpcheck_eval_expect_http).
      if (resp_->headDone() && !resp_->failed() && resp_->status() == 404 &&
          be_.cfg().disableOn404 && be_.servers()[server_].health.up()) {
        code_ = 404;
        ++rule_;
        continue;
      }
      auto v = httpcheck::evaluate(r, *resp_);
      if (v.kind == httpcheck::Verdict::Kind::Wait) {
        w_->want(common::FdWatcher::Read);
        return;
      }
      if (v.kind == httpcheck::Verdict::Kind::Fail) {
        done(v.report.status, v.report.info, v.report.code);
        return;
      }
      code_ = v.report.code;
      ++rule_;
      break;
    }
    }
  }
  if (!running_) return;
  if (code_ == 404 && be_.cfg().disableOn404 && be_.servers()[server_].health.up())
    done(CheckStatus::L7OkC, "", code_);
  else
    done(CheckStatus::L7Ok, "", code_);
}

// HAProxy's words for an `expect` that found nothing matching before the
// server closed (or said nothing at all).
std::string HealthChecker::mismatchInfo() const {
  const auto& rules = be_.cfg().tcpChecks;
  std::string step = " at step " + std::to_string(rule_ + 1);
  if (rx_.empty() || rule_ >= rules.size()) return "TCPCHK got an empty response" + step;
  const auto& r = rules[rule_];
  switch (r.match) {
  case TcpCheckRule::Match::String:
    return "TCPCHK did not match content '" + r.pattern + "'" + step;
  case TcpCheckRule::Match::Rstring:
    return "TCPCHK did not match content (regex)" + step;
  case TcpCheckRule::Match::Binary:
    return "TCPCHK did not match content (binary)" + step;
  }
  return "TCPCHK did not match content" + step;
}

void HealthChecker::done(CheckStatus status, std::string info, int code) {
  if (!running_) return;
  running_ = false;
  connecting_ = false;
  closeSock();
  resp_.reset();
  CheckReport rep;
  rep.status = status;
  rep.code = checkStatusHasCode(status) ? code : -1;
  rep.info = std::move(info);
  rep.durationMs =
      static_cast<long>(duration_cast<std::chrono::milliseconds>(Clock::now() - started_).count());
  be_.checkDone(server_, rep);
  const auto& srv = be_.servers()[server_];
  timer_->arm(srv.health.nextInterval(srv.cfg->opt));
}

} // namespace proxyd
