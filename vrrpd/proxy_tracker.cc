#include "vrrpd/proxy_tracker.h"

#include "common/log.h"
#include "vrrpd/proxy_trust.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace vrrpd {

namespace {

// Bounds of one wake-up, so a peer that writes without pause never holds the
// loop (signals, timers and the VRRP instances stay on time).
constexpr size_t kReadChunk = 4096;
constexpr int kReadsPerWake = 4;
// proxyd answers `set vrrp` with an empty line or a one-line error.
constexpr size_t kMaxAnswer = 4096;

// Who may be at the other end (proxy_trust.h).
TrustedIds trustedIds(const TrackProxy& cfg) {
  TrustedIds ids;
  ids.uids = {0, ::geteuid()};
  ids.gids = {0, ::getegid()};
  if (cfg.proxyUid) {
    ids.uids.push_back(static_cast<uid_t>(*cfg.proxyUid));
    if (const passwd* pw = ::getpwuid(static_cast<uid_t>(*cfg.proxyUid)))
      ids.gids.push_back(pw->pw_gid);
  }
  return ids;
}

// The peer's credentials must be trusted; `why` says otherwise.
bool peerTrusted(int fd, const TrustedIds& ids, std::string& why) {
  ucred cr{};
  socklen_t len = sizeof cr;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
    why = std::string("SO_PEERCRED: ") + std::strerror(errno);
    return false;
  }
  auto refusal = checkProxyPeer(cr.uid, cr.pid, ids);
  if (refusal) why = *refusal;
  return !refusal;
}

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
  TrustedIds ids = trustedIds(cfg_);
  if (auto refusal = checkProxySocket(cfg_.socket, ids, systemFs())) {
    refuse(*refusal);
    return;
  }
  int fd = connectUnix(cfg_.socket, err);
  if (fd < 0) {
    bool ch = health_.onClosed(now, err);
    logFailure(err);
    retry_->arm(health_.nextRetryDelay());
    if (ch) changed();
    return;
  }
  if (!peerTrusted(fd, ids, err)) {
    ::close(fd);
    refuse(err);
    return;
  }
  fd_ = fd;
  reader_.reset();
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

// At most kReadsPerWake reads per wake-up: the watcher is level-triggered,
// so whatever is left wakes the loop again after the other events had their
// turn. Each line goes through the LineReader's limits.
void ProxyTracker::onWatch(unsigned) {
  char buf[kReadChunk];
  bool ch = false;
  std::vector<std::string> lines;
  for (int i = 0; i < kReadsPerWake; ++i) {
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      auto now = loop_.clock().now();
      lines.clear();
      auto bad = reader_.feed(std::string_view(buf, static_cast<size_t>(n)), now, lines);
      for (const std::string& l : lines)
        ch = health_.onLine(l, now) || ch;
      if (bad) {
        refuse("proxy broke the protocol (" + *bad + ")");
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
  if (health_.status() == TrackStatus::Ok) lastFailure_.clear(); // a new failure is logged
  armTick();
  if (ch) changed();
}

void ProxyTracker::drop(const std::string& why) {
  closeWatch();
  bool ch = health_.onClosed(loop_.clock().now(), why);
  logFailure(why);
  retry_->arm(health_.nextRetryDelay());
  if (ch) changed();
}

void ProxyTracker::refuse(const std::string& why) {
  closeWatch();
  bool ch = health_.onViolation(loop_.clock().now(), why);
  logFailure("refusing the peer at " + cfg_.socket + ": " + why);
  retry_->arm(health_.nextRetryDelay());
  if (ch) changed();
}

void ProxyTracker::closeWatch() {
  w_.reset();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  reader_.reset();
  tick_->cancel();
}

void ProxyTracker::logFailure(const std::string& why) {
  if (why != lastFailure_) {
    log_(common::kWarning, "Track proxy " + cfg_.name + ": " + why);
    lastFailure_ = why;
  }
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
  TrustedIds ids = trustedIds(cfg_);
  int fd = checkProxySocket(cfg_.socket, ids, systemFs()) ? -1 : connectUnix(cfg_.socket, err);
  if (fd >= 0 && !peerTrusted(fd, ids, err)) {
    ::close(fd); // the watch connection refuses (and logs) it as well
    fd = -1;
  }
  if (fd < 0) {
    // Not reachable (or not trusted) now: the watch's next successful
    // connection sends everything again.
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
    char buf[kReadChunk];
    for (int i = 0; i < kReadsPerWake; ++i) {
      ssize_t n = ::recv(rfd_, buf, sizeof buf, 0);
      if (n > 0) {
        rin_.append(buf, static_cast<size_t>(n));
        if (rin_.size() > kMaxAnswer) {
          endReport("answer longer than " + std::to_string(kMaxAnswer) + " bytes");
          refuse("proxy broke the protocol (answer to `set vrrp` longer than " +
                 std::to_string(kMaxAnswer) + " bytes)");
          return;
        }
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
    for (char c : rin_) {
      if (c == '\n')
        c = ' ';
      else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
        c = '?'; // no log injection
      if (c != ' ' || (!msg.empty() && msg.back() != ' ')) msg += c;
    }
    while (!msg.empty() && msg.back() == ' ') msg.pop_back();
    if (!msg.empty())
      log_(common::kWarning, "Track proxy " + cfg_.name + ": proxyd answered: " + msg);
  }
  rin_.clear();
  rout_.clear();
  flushReports(); // what came meanwhile
}

} // namespace vrrpd
