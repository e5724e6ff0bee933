#include "proxyd/server_pool.h"

#include "proxyd/daemon.h"
#include "proxyd/io_util.h"
#include "proxyd/stream.h"
#include "proxyd/worker.h"

#include <cerrno>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace proxyd {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {
long msSince(Clock::time_point from) {
  return static_cast<long>(duration_cast<milliseconds>(Clock::now() - from).count());
}
} // namespace

// ---- ServerPool -----------------------------------------------------------

ServerPool::ServerPool(common::Loop& loop, std::chrono::milliseconds purgeDelay,
                       size_t maxPerServer)
    : loop_(loop), purgeDelay_(purgeDelay), maxPerServer_(maxPerServer) {
  purgeTimer_ = std::make_unique<common::Timer>(loop_, [this] { purge(); });
}

ServerPool::~ServerPool() {
  for (auto& [k, v] : idle_)
    for (auto& i : v) {
      i.w.reset();
      ::close(i.fd);
    }
}

int ServerPool::take(int backend, size_t server, common::FdWatcherPtr* watcher) {
  auto it = idle_.find({backend, server});
  if (it == idle_.end()) return -1;
  auto& v = it->second;
  while (!v.empty()) {
    Idle i = std::move(v.back());
    v.pop_back();
    // The watcher drops closed connections, but a close may not have been
    // polled yet: peek once more.
    char c;
    ssize_t n = ::recv(i.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (watcher) {
        i.w->setCallback([](unsigned) {});
        *watcher = std::move(i.w);
      } else {
        retire(loop_, i.w);
      }
      return i.fd;
    }
    retire(loop_, i.w);
    ::close(i.fd);
  }
  return -1;
}

void ServerPool::give(int backend, size_t server, int fd, common::FdWatcherPtr w) {
  Key k{backend, server};
  auto& v = idle_[k];
  if (v.size() >= maxPerServer_) {
    retire(loop_, w);
    ::close(fd);
    return;
  }
  Idle i;
  i.fd = fd;
  i.since = Clock::now();
  auto onEvent = [this, k, fd](unsigned) { drop(k, fd); };
  if (w) {
    w->setCallback(onEvent);
    i.w = std::move(w);
  } else {
    i.w = std::make_unique<common::FdWatcher>(loop_, fd, onEvent);
  }
  i.w->want(common::FdWatcher::Read);
  v.push_back(std::move(i));
  if (!purgeTimer_->armed()) purgeTimer_->arm(purgeDelay_);
}

size_t ServerPool::idle() const {
  size_t n = 0;
  for (const auto& [k, v] : idle_)
    n += v.size();
  return n;
}

size_t ServerPool::idle(int backend, size_t server) const {
  auto it = idle_.find({backend, server});
  return it == idle_.end() ? 0 : it->second.size();
}

void ServerPool::drop(const Key& k, int fd) {
  auto& v = idle_[k];
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (it->fd != fd) continue;
    retire(loop_, it->w);
    ::close(fd);
    v.erase(it);
    return;
  }
}

void ServerPool::purge() {
  auto now = Clock::now();
  bool left = false;
  for (auto& [k, v] : idle_) {
    for (auto it = v.begin(); it != v.end();) {
      if (now - it->since >= purgeDelay_) {
        retire(loop_, it->w);
        ::close(it->fd);
        it = v.erase(it);
      } else {
        left = true;
        ++it;
      }
    }
  }
  if (left) purgeTimer_->arm(purgeDelay_);
}

// ---- ServerConnector ------------------------------------------------------

ServerConnector::ServerConnector(Worker& w, Stream& owner, std::function<void(int)> connected,
                                 std::function<void(ConnectFailure)> failed)
    : wk_(w), owner_(owner), connected_(std::move(connected)), failed_(std::move(failed)) {
  timer_ = std::make_unique<common::Timer>(wk_.loop(), [this] { onTimer(); });
}

ServerConnector::~ServerConnector() {
  cancel();
  releaseSlot();
}

void ServerConnector::start(BackendRt& be, const PickKey& key, bool allowPool,
                            std::optional<size_t> direct) {
  cancel();
  releaseSlot();
  be_ = &be;
  key_ = key;
  direct_ = direct;
  allowPool_ = allowPool;
  server_.reset();
  retriesLeft_ = be.cfg().retries;
  retries_ = 0;
  redispatched_ = false;
  reused_ = false;
  tw_ = tc_ = -1;
  queuePosBe_ = 0;
  assign(std::nullopt);
}

// The cookie's server while it is not being avoided (a full one makes the
// stream wait in the queue), else the balancer's choice.
BackendRt::PickOutcome ServerConnector::choose(std::optional<size_t> avoid) {
  if (direct_ && !avoid) {
    if (be_->servers()[*direct_].full()) return {BackendRt::PickStatus::AllFull, 0};
    return {BackendRt::PickStatus::Picked, *direct_};
  }
  return be_->pick(key_, avoid);
}

void ServerConnector::assign(std::optional<size_t> avoid) {
  // The pick and the slot it takes (or the place in the queue) are one step
  // under the daemon's lock: no other thread slips in between.
  auto g = be_->lock();
  auto p = choose(avoid);
  switch (p.status) {
  case BackendRt::PickStatus::Picked:
    if (phase_ == Phase::Queued)
      tw_ = msSince(queuedAt_);
    else if (tw_ < 0)
      tw_ = 0;
    if (avoid && *avoid != p.server) redispatched_ = true;
    takeSlot(p.server);
    g.unlock();
    connectTo(p.server);
    return;
  case BackendRt::PickStatus::AllFull:
    if (phase_ != Phase::Queued) {
      if (!be_->enqueue(&owner_)) {
        fail(ConnectFailure::QueueFull);
        return;
      }
      phase_ = Phase::Queued;
      queuedAt_ = Clock::now();
      queuePosBe_ = static_cast<int>(be_->queued()) - 1;
      // timeout queue defaults to timeout connect, as in HAProxy.
      const auto& t = be_->cfg().timeouts;
      auto tq = t.queue ? t.queue : t.connect;
      if (tq) timer_->arm(*tq);
    } else {
      be_->enqueue(&owner_); // back in line
    }
    return;
  case BackendRt::PickStatus::NoServer:
    fail(ConnectFailure::NoServer);
    return;
  }
}

void ServerConnector::onQueueTurn() {
  if (phase_ != Phase::Queued) return;
  auto g = be_->lock();
  be_->dequeue(&owner_); // a turn posted from another thread may be stale
  auto p = choose(std::nullopt);
  if (p.status == BackendRt::PickStatus::NoServer) {
    fail(ConnectFailure::NoServer);
    return;
  }
  if (p.status == BackendRt::PickStatus::AllFull) {
    be_->enqueue(&owner_);
    return;
  }
  timer_->cancel();
  tw_ = msSince(queuedAt_);
  takeSlot(p.server);
  g.unlock();
  connectTo(p.server);
}

void ServerConnector::takeSlot(size_t server) {
  if (counted_ && server_ == server) return;
  releaseSlot();
  server_ = server;
  be_->connStarted(server);
  counted_ = true;
}

void ServerConnector::connectTo(size_t server) {
  auto& srv = be_->servers()[server];
  takeSlot(server);
  phase_ = Phase::Connecting;
  connectAt_ = Clock::now();
  ++attempt_;
  closeSock();
  int own = !fresh_ && ownIdle_ ? ownIdle_(server) : -1;
  if (own >= 0) {
    handOver(own, true);
    return;
  }
  if (allowPool_ && !fresh_) {
    int fd = wk_.serverPool().take(be_->index(), server, &w_);
    if (fd >= 0) {
      handOver(fd, true);
      return;
    }
  }
  const auto& addr = srv.cfg->addr;
  fd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    int e = errno;
    unsigned a = attempt_;
    wk_.loop().defer([this, e, a] {
      if (phase_ == Phase::Connecting && attempt_ == a) onConnectResult(e, false);
    });
    return;
  }
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len);
  if (rc < 0 && errno == EINPROGRESS) {
    // A near server (loopback, same host) has usually completed the
    // handshake by now: a second connect() says so (0, or EISCONN), which
    // saves registering for writability, a loop turn and two epoll changes.
    rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len);
    if (rc == 0 || errno == EISCONN) {
      int fd = fd_;
      fd_ = -1;
      handOver(fd, false);
      return;
    }
    if (rc < 0 && errno == EALREADY) errno = EINPROGRESS;
  }
  if (rc < 0 && errno != EINPROGRESS) {
    int e = errno;
    unsigned a = attempt_;
    // Report on the loop, not from inside assign(), so a dead server cannot
    // recurse through retries on one stack.
    wk_.loop().defer([this, e, a] {
      if (phase_ == Phase::Connecting && attempt_ == a) onConnectResult(e, false);
    });
    return;
  }
  // Writability ends the connect, successful or not: SO_ERROR tells. (The
  // watcher reports one direction per call, so "writable without readable"
  // cannot stand for success.)
  w_ = std::make_unique<common::FdWatcher>(wk_.loop(), fd_, [this](unsigned) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    onConnectResult(err, false);
  });
  w_->want(common::FdWatcher::Write);
  if (be_->cfg().timeouts.connect)
    timer_->arm(*be_->cfg().timeouts.connect);
  else
    timer_->cancel();
}

// A connection is ready: the owner gets it. `reused`: an idle one (the
// owner's or the pool's), no connect time.
void ServerConnector::handOver(int fd, bool reused) {
  if (reused) {
    reused_ = true;
    tc_ = 0;
  } else {
    tc_ = msSince(connectAt_);
    fresh_ = false;
  }
  phase_ = Phase::Idle;
  timer_->cancel();
  connected_(fd);
}

void ServerConnector::onConnectResult(int err, bool timedOut) {
  if (phase_ != Phase::Connecting) return;
  if (err == 0 && !timedOut) {
    int fd = fd_;
    fd_ = -1;
    handOver(fd, false); // the owner may take the watcher (takeWatcher)
    retire(wk_.loop(), w_);
    return;
  }
  be_->servers()[*server_].failedConns++;
  closeSock();
  if (retriesLeft_ <= 0) {
    fail(timedOut ? ConnectFailure::ConnectTimeout : ConnectFailure::ConnectFailed);
    return;
  }
  --retriesLeft_;
  ++retries_;
  phase_ = Phase::RetryWait;
  if (timedOut) {
    // A timed-out attempt already waited: retry at once.
    onTimer();
    return;
  }
  // HAProxy's turn-around timer before retrying a server that refused.
  common::Micros delay = std::chrono::seconds(1);
  const auto& tc = be_->cfg().timeouts.connect;
  if (tc && *tc < delay) delay = *tc;
  timer_->arm(delay);
}

void ServerConnector::onTimer() {
  switch (phase_) {
  case Phase::Idle:
    return;
  case Phase::Queued:
    be_->dequeue(&owner_);
    tw_ = msSince(queuedAt_);
    fail(ConnectFailure::QueueTimeout);
    return;
  case Phase::Connecting:
    onConnectResult(ETIMEDOUT, true);
    return;
  case Phase::RetryWait:
    if (be_->cfg().redispatch && retriesLeft_ == 0) {
      size_t old = *server_;
      releaseSlot();
      assign(old);
    } else {
      connectTo(*server_);
    }
    return;
  }
}

void ServerConnector::closeSock() {
  retire(wk_.loop(), w_);
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void ServerConnector::fail(ConnectFailure f) {
  phase_ = Phase::Idle;
  fresh_ = false;
  timer_->cancel();
  closeSock();
  failed_(f);
}

void ServerConnector::cancel() {
  if (phase_ == Phase::Queued && be_) be_->dequeue(&owner_);
  phase_ = Phase::Idle;
  if (timer_) timer_->cancel();
  closeSock();
}

void ServerConnector::releaseSlot() {
  if (counted_ && server_ && be_) {
    counted_ = false;
    be_->connEnded(*server_);
  }
}

} // namespace proxyd
