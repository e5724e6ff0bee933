#include "vrrpd/proxy_tracker.h"

#include "common/log.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace vrrpd {

namespace {

// A non-blocking connected unix socket, or -1 with `err`.
int connectUnix(const std::string& path, std::string& err) {
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (path.size() >= sizeof sa.sun_path) {
    err = "socket path too long";
    return -1;
  }
  std::memcpy(sa.sun_path, path.data(), path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0) {
    // A unix socket connects at once or not at all (EAGAIN: backlog full).
    err = "connect to " + path + ": " + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

} // namespace

ProxyTracker::ProxyTracker(common::Loop& loop, const TrackProxy& cfg, OnChange onChange, LogFn log)
    : loop_(loop), cfg_(cfg), onChange_(std::move(onChange)), log_(std::move(log)),
      health_(cfg.rise, cfg.fall, cfg.heartbeat) {
  tick_ = std::make_unique<common::Timer>(loop_, [this] { onTick(); });
  retry_ = std::make_unique<common::Timer>(loop_, [this] { connect(); });
  rtimeout_ = std::make_unique<common::Timer>(loop_, [this] { endReport("timed out"); });
}

ProxyTracker::~ProxyTracker() {
  w_.reset();
  rw_.reset();
  if (fd_ >= 0) ::close(fd_);
  if (rfd_ >= 0) ::close(rfd_);
}

void ProxyTracker::start() {
  if (started_) return;
  started_ = true;
  // On the loop, not now: the daemon may be in the middle of (re)building.
  retry_->arm(std::chrono::microseconds(0));
}

void ProxyTracker::changed() {
  std::string name = "Track proxy " + cfg_.name;
  if (health_.status() == TrackStatus::Ok)
    log_(common::kInfo, name + " now OK");
  else if (health_.status() == TrackStatus::Failed)
    log_(common::kInfo, name + " failed (" + health_.reason() + ")");
  if (onChange_) onChange_();
}

void ProxyTracker::connect() {
  std::string err;
  auto now = loop_.clock().now();
  int fd = connectUnix(cfg_.socket, err);
  if (fd < 0) {
    bool ch = health_.onClosed(now, err);
    if (err != lastFailure_) {
      log_(common::kWarning, "Track proxy " + cfg_.name + ": " + err);
      lastFailure_ = err;
    }
    retry_->arm(health_.nextRetryDelay());
    if (ch) changed();
    return;
  }
  fd_ = fd;
  in_.clear();
  health_.onConnecting(now);
  std::string cmd = watchCommand(cfg_.backend, cfg_.heartbeat);
  ssize_t n = ::send(fd_, cmd.data(), cmd.size(), MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(cmd.size())) {
    drop(std::string("send: ") + (n < 0 ? std::strerror(errno) : "short write"));
    return;
  }
  w_ = std::make_unique<common::FdWatcher>(loop_, fd_, [this](unsigned r) { onWatch(r); });
  w_->want(common::FdWatcher::Read);
  armTick();
  // proxyd may have restarted: tell it every state we know.
  for (const auto& [inst, line] : known_) pending_[inst] = line;
  flushReports();
}

void ProxyTracker::armTick() {
  auto d = health_.deadline();
  if (!d) {
    tick_->cancel();
    return;
  }
  auto left = *d - loop_.clock().now();
  if (left < common::MonoTime::duration::zero()) left = common::MonoTime::duration::zero();
  tick_->arm(std::chrono::duration_cast<std::chrono::microseconds>(left));
}

void ProxyTracker::onTick() {
  bool ch = health_.onTick(loop_.clock().now());
  armTick();
  if (ch) changed();
}

void ProxyTracker::onWatch(unsigned) {
  char buf[4096];
  bool ch = false;
  for (;;) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      in_.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = in_.find('\n')) != std::string::npos) {
        ch = health_.onLine(std::string_view(in_).substr(0, nl), loop_.clock().now()) || ch;
        in_.erase(0, nl + 1);
      }
      if (in_.size() > 65536) {
        if (ch) changed();
        drop("line too long");
        return;
      }
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    if (ch) changed(); // lines that came before the end count first
    drop(n == 0 ? "connection closed by proxy" : std::string("recv: ") + std::strerror(errno));
    return;
  }
  lastFailure_.clear();
  armTick();
  if (ch) changed();
}

void ProxyTracker::drop(const std::string& why) {
  w_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  in_.clear();
  tick_->cancel();
  bool ch = health_.onClosed(loop_.clock().now(), why);
  if (why != lastFailure_) {
    log_(common::kWarning, "Track proxy " + cfg_.name + ": " + why);
    lastFailure_ = why;
  }
  retry_->arm(health_.nextRetryDelay());
  if (ch) changed();
}

// ---- reports ----------------------------------------------------------------

void ProxyTracker::report(const std::string& instance, const std::string& state, int priority) {
  std::string line = setVrrpCommand(instance, state, priority);
  auto k = known_.find(instance);
  if (k != known_.end() && k->second == line && !pending_.count(instance)) return;
  known_[instance] = line;
  pending_[instance] = line;
  flushReports();
}

void ProxyTracker::flushReports() {
  if (rfd_ >= 0 || pending_.empty() || !started_) return;
  std::string err;
  int fd = connectUnix(cfg_.socket, err);
  if (fd < 0) {
    // Not reachable now: the watch's reconnection sends everything again.
    pending_.clear();
    return;
  }
  rfd_ = fd;
  rout_.clear();
  rin_.clear();
  for (const auto& [inst, line] : pending_) rout_ += line;
  pending_.clear();
  rw_ = std::make_unique<common::FdWatcher>(loop_, rfd_, [this](unsigned r) { onReport(r); });
  rw_->want(common::FdWatcher::Read | common::FdWatcher::Write);
  rtimeout_->arm(std::chrono::seconds(1));
}

void ProxyTracker::onReport(unsigned ready) {
  if ((ready & common::FdWatcher::Write) && !rout_.empty()) {
    ssize_t n = ::send(rfd_, rout_.data(), rout_.size(), MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
      endReport(std::string("send: ") + std::strerror(errno));
      return;
    }
    if (n > 0) rout_.erase(0, static_cast<size_t>(n));
    if (rout_.empty()) {
      ::shutdown(rfd_, SHUT_WR); // one-shot mode: proxyd answers and closes
      rw_->want(common::FdWatcher::Read);
    }
  }
  if (ready & common::FdWatcher::Read) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::recv(rfd_, buf, sizeof buf, 0);
      if (n > 0) {
        rin_.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      endReport(n == 0 ? "" : std::string("recv: ") + std::strerror(errno));
      return;
    }
  }
}

void ProxyTracker::endReport(const std::string& problem) {
  rw_.reset();
  rtimeout_->cancel();
  if (rfd_ >= 0) ::close(rfd_);
  rfd_ = -1;
  if (rin_.find("Permission denied") != std::string::npos) {
    if (!deniedLogged_)
      log_(common::kWarning, "Track proxy " + cfg_.name + ": proxyd refused `set vrrp` " +
                                 "(Permission denied): the socket " + cfg_.socket +
                                 " needs level operator or admin");
    deniedLogged_ = true;
  } else if (!problem.empty()) {
    log_(common::kInfo, "Track proxy " + cfg_.name + ": reporting states: " + problem);
  } else {
    // Anything but empty lines is an error message from proxyd.
    std::string msg;
    for (char c : rin_)
      if (c != '\n' || (!msg.empty() && msg.back() != ' ')) msg += c == '\n' ? ' ' : c;
    while (!msg.empty() && msg.back() == ' ') msg.pop_back();
    if (!msg.empty())
      log_(common::kWarning, "Track proxy " + cfg_.name + ": proxyd answered: " + msg);
  }
  rin_.clear();
  rout_.clear();
  flushReports(); // what came meanwhile
}

} // namespace vrrpd
