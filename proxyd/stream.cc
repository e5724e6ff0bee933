#include "proxyd/stream.h"

#include "proxyd/backend.h"
#include "proxyd/daemon.h"
#include "proxyd/io_util.h"
#include "proxyd/logfmt.h"
#include "proxyd/switching.h"
#include "proxyd/worker.h"

#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

namespace proxyd {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

long msSince(Clock::time_point from, Clock::time_point to) {
  return static_cast<long>(duration_cast<milliseconds>(to - from).count());
}

// The local address of a socket (%fi/%fp, %bi/%bp); none for a closed fd.
std::optional<common::SockAddr> localAddr(int fd) {
  if (fd < 0) return std::nullopt;
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  return common::SockAddr::fromRaw(reinterpret_cast<sockaddr*>(&ss), len);
}

void setNoDelay(int fd) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

// Bytes moved per wake-up before yielding to other streams.
constexpr int kMaxRounds = 8;

} // namespace

TcpStream::TcpStream(Daemon& d, Worker& w, FrontendRt& fe, int clientFd,
                     const common::SockAddr& peer)
    : d_(d), w_(w), fe_(fe), cfd_(clientFd), peer_(peer) {
  acceptMono_ = Clock::now();
  acceptWall_ = std::chrono::system_clock::now();
  lastClient_ = lastServer_ = acceptMono_;
  setNoDelay(cfd_);
}

TcpStream::~TcpStream() {
  if (phase_ != Phase::Closed) finish(TermCause::Killed);
}

void TcpStream::start() {
  cw_ = std::make_unique<common::FdWatcher>(w_.loop(), cfd_,
                                            [this](unsigned r) { onClientEvent(r); });
  timer_ = std::make_unique<common::Timer>(w_.loop(), [this] { onTimer(); });
  const auto& fcfg = fe_.cfg();
  // The switching rules see the layer-4 fetches: the client and, when a
  // condition may read it, the address it connected to.
  SampleContext ctx;
  ctx.src = peer_;
  if (switchingNeedsDst(fcfg)) {
    if (auto a = localAddr(cfd_)) ctx.dst = *a;
  }
  be_ = d_.backend(switchBackend(fcfg, ctx));
  if (!be_) {
    finish(TermCause::NoServer);
    return;
  }
  ++be_->beconn;
  ++be_->cumConns;
  retriesLeft_ = be_->cfg().retries;
  assign(std::nullopt);
}

// Picks a server and connects, or queues, or fails the stream.
void TcpStream::assign(std::optional<size_t> avoid) {
  // The pick and the slot it takes (or the place in the queue) are one step
  // under the daemon's lock: no other thread slips in between.
  auto g = be_->lock();
  auto p = be_->pick(hashAddress(peer_.ip()), avoid);
  switch (p.status) {
  case BackendRt::PickStatus::Picked:
    if (phase_ == Phase::Queued)
      tw_ = msSince(queuedAt_, Clock::now());
    else if (tw_ < 0)
      tw_ = 0;
    if (avoid && *avoid != p.server) redispatched_ = true;
    takeSlot(p.server);
    g.unlock();
    connectTo(p.server);
    return;
  case BackendRt::PickStatus::AllFull:
    if (phase_ != Phase::Queued) {
      if (!be_->enqueue(this)) {
        finish(TermCause::QueueFull);
        return;
      }
      phase_ = Phase::Queued;
      queuedAt_ = Clock::now();
      queuePosBe_ = static_cast<int>(be_->queued()) - 1;
      // timeout queue defaults to timeout connect, as in HAProxy.
      auto tq = be_->cfg().timeouts.queue ? be_->cfg().timeouts.queue : be_->cfg().timeouts.connect;
      if (tq) timer_->arm(*tq);
      cw_->want(0); // nothing to read yet: the kernel keeps the client's bytes
      // Still notice a client that leaves while waiting.
      cw_->want(common::FdWatcher::Read);
    } else {
      be_->enqueue(this); // back in line (served at the head again)
    }
    return;
  case BackendRt::PickStatus::NoServer:
    finish(TermCause::NoServer);
    return;
  }
}

bool TcpStream::usesServer(const BackendRt& be, size_t server) const {
  return be_ == &be && server_ == server && sfd_ >= 0 && phase_ != Phase::Closed;
}

void TcpStream::kill() {
  if (phase_ != Phase::Closed) finish(TermCause::Killed);
}

void TcpStream::onQueueTurn() {
  if (phase_ != Phase::Queued) return;
  auto g = be_->lock();
  be_->dequeue(this); // a turn posted from another thread may be stale
  auto p = be_->pick(hashAddress(peer_.ip()));
  if (p.status == BackendRt::PickStatus::NoServer) {
    finish(TermCause::NoServer);
    return;
  }
  if (p.status == BackendRt::PickStatus::AllFull) {
    be_->enqueue(this);
    return;
  }
  timer_->cancel();
  tw_ = msSince(queuedAt_, Clock::now());
  phase_ = Phase::Connecting;
  takeSlot(p.server);
  g.unlock();
  connectTo(p.server);
}

void TcpStream::takeSlot(size_t server) {
  if (counted_ && server_ == server) return;
  releaseServer();
  server_ = server;
  be_->connStarted(server);
  counted_ = true;
}

void TcpStream::connectTo(size_t server) {
  auto& srv = be_->servers()[server];
  takeSlot(server);
  phase_ = Phase::Connecting;
  connectAt_ = Clock::now();
  const auto& addr = srv.cfg->addr;
  retire(w_.loop(), sw_);
  if (sfd_ >= 0) ::close(sfd_);
  sfd_ = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (sfd_ < 0) {
    onConnectResult(errno, false);
    return;
  }
  setNoDelay(sfd_);
  int rc = ::connect(sfd_, reinterpret_cast<const sockaddr*>(&addr.ss), addr.len);
  if (rc < 0 && errno != EINPROGRESS) {
    int e = errno;
    // Report on the loop, not from inside assign(), so a dead server cannot
    // recurse through retries on one stack.
    w_.loop().defer([this, e] {
      if (phase_ == Phase::Connecting) onConnectResult(e, false);
    });
    return;
  }
  sw_ = std::make_unique<common::FdWatcher>(w_.loop(), sfd_,
                                            [this](unsigned r) { onServerEvent(r); });
  sw_->want(common::FdWatcher::Write);
  if (be_->cfg().timeouts.connect)
    timer_->arm(*be_->cfg().timeouts.connect);
  else
    timer_->cancel();
  // While connecting, keep reading the client into its buffer (one buffer).
  updateInterest();
}

void TcpStream::onConnectResult(int err, bool timedOut) {
  if (err == 0 && !timedOut) {
    phase_ = Phase::Forwarding;
    tc_ = msSince(connectAt_, Clock::now());
    lastServer_ = Clock::now();
    armIdle();
    // Flush whatever the client already sent.
    if (c2s_ && !c2s_->empty()) {
      if (!pump(cfd_, sfd_, c2s_, clientEof_, serverShut_, true)) return;
    } else if (clientEof_ && !serverShut_) {
      ::shutdown(sfd_, SHUT_WR);
      serverShut_ = true;
    }
    updateInterest();
    return;
  }
  be_->servers()[*server_].failedConns++;
  retryOrFail(timedOut);
}

void TcpStream::retryOrFail(bool timedOut) {
  retire(w_.loop(), sw_);
  if (sfd_ >= 0) {
    ::close(sfd_);
    sfd_ = -1;
  }
  if (retriesLeft_ <= 0) {
    finish(timedOut ? TermCause::ConnectTimeout : TermCause::ConnectFailed);
    return;
  }
  --retriesLeft_;
  ++retries_;
  if (timedOut) {
    // A timed-out attempt already waited: retry at once (each attempt then
    // gets its own full timeout connect).
    phase_ = Phase::RetryWait;
    onTimer();
    return;
  }
  // HAProxy's turn-around timer: min(timeout connect, 1s) before retrying a
  // server that refused, so a restarting server is not hammered.
  phase_ = Phase::RetryWait;
  common::Micros delay = std::chrono::seconds(1);
  if (be_->cfg().timeouts.connect && *be_->cfg().timeouts.connect < delay)
    delay = *be_->cfg().timeouts.connect;
  timer_->arm(delay);
}

void TcpStream::onTimer() {
  auto now = Clock::now();
  switch (phase_) {
  case Phase::Queued:
    be_->dequeue(this);
    tw_ = msSince(queuedAt_, now);
    finish(TermCause::QueueTimeout);
    return;
  case Phase::Connecting:
    onConnectResult(ETIMEDOUT, true);
    return;
  case Phase::RetryWait:
  case Phase::Closed: {
    if (phase_ == Phase::Closed) return;
    // `option redispatch` moves the last retry to another server.
    bool redispatch = be_->cfg().redispatch && retriesLeft_ == 0;
    if (redispatch) {
      size_t old = *server_;
      if (counted_) {
        counted_ = false;
        be_->connEnded(old);
      }
      phase_ = Phase::Connecting;
      assign(old);
    } else {
      connectTo(*server_);
    }
    return;
  }
  case Phase::Forwarding: {
    const auto& t = be_->cfg().timeouts;
    const auto& ft = fe_.cfg().timeouts;
    // In a tunnel (both sides established), timeout tunnel replaces the
    // client and server timeouts, as in HAProxy.
    if (t.tunnel) {
      auto last = std::max(lastClient_, lastServer_);
      if (now - last >= *t.tunnel) {
        finish(lastClient_ <= lastServer_ ? TermCause::ClientTimeout : TermCause::ServerTimeout);
        return;
      }
    } else {
      if (ft.client && !clientEof_ && now - lastClient_ >= *ft.client) {
        finish(TermCause::ClientTimeout);
        return;
      }
      if (t.server && !serverEof_ && now - lastServer_ >= *t.server) {
        finish(TermCause::ServerTimeout);
        return;
      }
    }
    armIdle();
    return;
  }
  }
}

// Arms the timer for the earliest inactivity deadline. Activity does not
// re-arm the timer (that would cost a syscall per read); the timer checks
// the real idle time when it fires and re-arms for what is left.
void TcpStream::armIdle() {
  const auto& t = be_->cfg().timeouts;
  const auto& ft = fe_.cfg().timeouts;
  auto now = Clock::now();
  std::optional<Clock::time_point> deadline;
  auto consider = [&](Clock::time_point last, const std::optional<common::Micros>& to) {
    if (!to) return;
    auto d = last + *to;
    if (!deadline || d < *deadline) deadline = d;
  };
  if (t.tunnel) {
    consider(std::max(lastClient_, lastServer_), t.tunnel);
  } else {
    if (!clientEof_) consider(lastClient_, ft.client);
    if (!serverEof_) consider(lastServer_, t.server);
  }
  if (!deadline) {
    timer_->cancel();
    return;
  }
  auto left = *deadline - now;
  if (left < std::chrono::milliseconds(1)) left = std::chrono::milliseconds(1);
  timer_->arm(duration_cast<std::chrono::microseconds>(left));
}

void TcpStream::onClientEvent(unsigned ready) {
  if (phase_ == Phase::Queued) {
    // Only watching for the client leaving while it waits.
    char c;
    ssize_t n = ::recv(cfd_, &c, 1, MSG_PEEK);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
      be_->dequeue(this);
      finish(TermCause::ClientAbortQueue);
    } else {
      cw_->want(0); // data is waiting: leave it in the kernel until a slot frees
    }
    return;
  }
  if (ready & common::FdWatcher::Read) {
    if (phase_ == Phase::Forwarding) {
      if (!pump(cfd_, sfd_, c2s_, clientEof_, serverShut_, true)) return;
    } else {
      // Connecting: read into the buffer only (no server socket yet).
      if (!c2s_) c2s_ = w_.buffers().take();
      if (c2s_->writable() > 0) {
        ssize_t n = ::recv(cfd_, c2s_->writePtr(), c2s_->writable(), 0);
        if (n > 0) {
          c2s_->produced(static_cast<size_t>(n));
          bytesIn_ += static_cast<uint64_t>(n);
          lastClient_ = Clock::now();
        } else if (n == 0) {
          clientEof_ = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          finish(TermCause::ClientAbortConnect);
          return;
        }
      }
    }
  }
  if ((ready & common::FdWatcher::Write) && phase_ == Phase::Forwarding) {
    if (!pump(sfd_, cfd_, s2c_, serverEof_, clientShut_, false)) return;
  }
  if (phase_ == Phase::Forwarding && clientEof_ && serverEof_ && (!c2s_ || c2s_->empty()) &&
      (!s2c_ || s2c_->empty())) {
    finish(TermCause::Normal);
    return;
  }
  updateInterest();
}

void TcpStream::onServerEvent(unsigned ready) {
  if (phase_ == Phase::Connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(sfd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
    onConnectResult(err, false);
    return;
  }
  if (phase_ != Phase::Forwarding) return;
  if (ready & common::FdWatcher::Read) {
    if (!pump(sfd_, cfd_, s2c_, serverEof_, clientShut_, false)) return;
  }
  if (ready & common::FdWatcher::Write) {
    if (!pump(cfd_, sfd_, c2s_, clientEof_, serverShut_, true)) return;
  }
  if (clientEof_ && serverEof_ && (!c2s_ || c2s_->empty()) && (!s2c_ || s2c_->empty())) {
    finish(TermCause::Normal);
    return;
  }
  updateInterest();
}

bool TcpStream::pump(int from, int to, BufferPtr& buf, bool& fromEof, bool& shutDone, bool c2s) {
  auto& pool = w_.buffers();
  bool shortRead = false;
  for (int round = 0; round < kMaxRounds; ++round) {
    // Write what is buffered first.
    if (buf && !buf->empty()) {
      ssize_t n = ::send(to, buf->readPtr(), buf->readable(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
        finish(c2s ? TermCause::ServerError : TermCause::ClientError);
        return false;
      }
      buf->consumed(static_cast<size_t>(n));
      (c2s ? lastServer_ : lastClient_) = Clock::now();
      if (!buf->empty()) return true; // the peer is full: wait for Write
    }
    // A short read means the socket is (almost surely) drained: do not pay
    // a recv() that would only say EAGAIN; level-triggered polling reports
    // anything that arrived since.
    if (fromEof || shortRead) break;
    if (!buf) buf = pool.take();
    size_t room = buf->writable();
    ssize_t n = ::recv(from, buf->writePtr(), room, 0);
    if (n > 0) {
      buf->produced(static_cast<size_t>(n));
      (c2s ? bytesIn_ : bytesOut_) += static_cast<uint64_t>(n);
      (c2s ? lastClient_ : lastServer_) = Clock::now();
      shortRead = static_cast<size_t>(n) < room;
      continue;
    }
    if (n == 0) {
      fromEof = true;
      break;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
    finish(c2s ? TermCause::ClientError : TermCause::ServerError);
    return false;
  }
  if (buf && buf->empty()) pool.give(std::move(buf));
  if (fromEof && !buf && !shutDone) {
    // Half-close: the reader is done, pass the EOF on.
    ::shutdown(to, SHUT_WR);
    shutDone = true;
    armIdle();
  }
  return true;
}

void TcpStream::updateInterest() {
  if (phase_ == Phase::Closed) return;
  using W = common::FdWatcher;
  unsigned c = 0, s = 0;
  bool c2sFull = c2s_ && c2s_->writable() == 0;
  bool c2sData = c2s_ && !c2s_->empty();
  bool s2cData = s2c_ && !s2c_->empty();
  if (!clientEof_ && !c2sData) c |= W::Read;
  if (!clientEof_ && phase_ != Phase::Forwarding && !c2sFull) c |= W::Read;
  if (phase_ == Phase::Forwarding) {
    if (s2cData) c |= W::Write;
    if (!serverEof_ && !s2cData) s |= W::Read;
    if (c2sData) s |= W::Write;
  } else if (phase_ == Phase::Connecting) {
    s = W::Write;
  }
  if (cw_ && cw_->wanted() != c) cw_->want(c);
  if (sw_ && sw_->wanted() != s) sw_->want(s);
}

void TcpStream::releaseServer() {
  if (counted_ && server_) {
    counted_ = false;
    be_->connEnded(*server_);
  }
}

namespace {
const char* termState(TermCause c) {
  switch (c) {
  case TermCause::Normal:
    return "--";
  case TermCause::ClientTimeout:
    return "cD";
  case TermCause::ServerTimeout:
    return "sD";
  case TermCause::ClientError:
    return "CD";
  case TermCause::ServerError:
    return "SD";
  case TermCause::ClientAbortQueue:
    return "CQ";
  case TermCause::ClientAbortConnect:
    return "CC";
  case TermCause::QueueTimeout:
    return "sQ";
  case TermCause::QueueFull:
    return "sQ";
  case TermCause::ConnectFailed:
    return "SC";
  case TermCause::ConnectTimeout:
    return "sC";
  case TermCause::NoServer:
    return "SC";
  case TermCause::Killed:
    return "KD";
  }
  return "--";
}
} // namespace

void TcpStream::finish(TermCause cause) {
  if (phase_ == Phase::Closed && cfd_ < 0) return;
  Phase was = phase_;
  phase_ = Phase::Closed;
  // Unregister before closing so a reused fd number is never touched.
  if (cw_) cw_->want(0);
  if (sw_) sw_->want(0);
  if (timer_) timer_->cancel();
  if (was == Phase::Queued && be_) be_->dequeue(this);
  bool abortive = cause != TermCause::Normal;
  if (abortive && cfd_ >= 0 && cause != TermCause::NoServer && cause != TermCause::QueueTimeout &&
      cause != TermCause::QueueFull && cause != TermCause::ConnectFailed &&
      cause != TermCause::ConnectTimeout) {
    // Errors and timeouts close with a reset, as HAProxy's abortive close.
    linger lg{1, 0};
    setsockopt(cfd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  }
  const auto& fcfg = fe_.cfg();
  // "Null" means the client sent nothing (a probe), as HAProxy counts it.
  bool logging = fe_.logger && fcfg.logFormatCompiled && !(fcfg.dontlognull && bytesIn_ == 0);
  LogRecord e;
  if (logging) {
    e.frontendAddr = localAddr(cfd_);
    e.backendSrcAddr = localAddr(sfd_);
    if (server_ && be_) e.serverAddr = be_->servers()[*server_].cfg->addr;
  }
  if (sfd_ >= 0) ::close(sfd_);
  sfd_ = -1;
  if (cfd_ >= 0) ::close(cfd_);
  cfd_ = -1;
  w_.buffers().give(std::move(c2s_));
  w_.buffers().give(std::move(s2c_));

  e.clientAddr = peer_;
  e.acceptTime = e.requestTime = acceptWall_;
  e.frontend = fe_.name();
  e.backend = be_ ? be_->name() : fe_.name();
  e.server = (server_ && be_) ? be_->servers()[*server_].cfg->name : "<NOSRV>";
  e.tw = tw_;
  e.tc = tc_;
  e.tt = msSince(acceptMono_, Clock::now());
  e.status = 0; // no status in tcp mode: %ST is 0, as HAProxy prints it
  e.bytesOut = static_cast<long long>(bytesOut_);
  e.bytesIn = static_cast<long long>(bytesIn_);
  e.termState = termState(cause);
  e.actconn = d_.actconn();
  e.feconn = fe_.feconn;
  e.beconn = be_ ? be_->beconn.load() : 0;
  e.srvConn = (server_ && be_) ? be_->servers()[*server_].cur.load() : 0;
  e.retries = retries_;
  e.redispatched = redispatched_;
  e.srvQueue = queuePosSrv_;
  e.backendQueue = queuePosBe_;
  releaseServer();
  if (be_) --be_->beconn;
  if (logging) {
    fillProcessFacts(e);
    fe_.logger->log(common::kInfo, fcfg.logFormatCompiled->format(e));
  }
  d_.streamClosed(this, fe_);
}

} // namespace proxyd
