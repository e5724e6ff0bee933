#include "proxyd/http_stream.h"

#include "proxyd/backend.h"
#include "proxyd/balancer.h"
#include "proxyd/daemon.h"
#include "proxyd/http_rules.h"
#include "proxyd/io_util.h"
#include "proxyd/logfmt.h"
#include "proxyd/switching.h"
#include "proxyd/worker.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace proxyd {

using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::milliseconds;

namespace {

// Sends `a` then `b` (either may be empty) with one sendmsg(); returns the
// bytes sent (counting `a` first) or -1 with errno set. `more`: the message
// goes on after these bytes (MSG_MORE, as HAProxy while a message is not
// complete): the kernel may hold a partial segment back, so a body leaves in
// fewer, larger segments and the peer is woken fewer times.
ssize_t sendPair(int fd, const char* a, size_t an, const char* b, size_t bn, bool more) {
  iovec iov[2];
  int cnt = 0;
  if (an) iov[cnt++] = iovec{const_cast<char*>(a), an};
  if (bn) iov[cnt++] = iovec{const_cast<char*>(b), bn};
  msghdr mh{};
  mh.msg_iov = iov;
  mh.msg_iovlen = static_cast<size_t>(cnt);
  return ::sendmsg(fd, &mh, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
}

// Lays a body parse result out in the buffer its input came from: the
// re-encoded framing, then the data, right behind the `pending` bytes at the
// front (ready to send); the input they replace (the framing as received)
// becomes `gap`, dead bytes between the pending ones and the unparsed rest.
// The re-encoding never grows a message (http1.h), so the framing fits in
// what it replaces; data moves only behind a gap, i.e. after framing that
// was not canonical (extensions, leading zeros): a well-formed body is
// forwarded where it lies, without a copy.
void placeBody(Buffer& b, size_t& pending, size_t& gap, const http1::Result& r) {
  char* at = b.readPtr() + pending;                 // where the next forwarded byte goes
  const size_t before = r.consumed - r.data.size(); // input consumed before the data
  if (!r.framing.empty()) std::memcpy(at, r.framing.data(), r.framing.size());
  pending += r.framing.size();
  gap = gap + before - r.framing.size();
  if (!r.data.empty()) {
    if (gap > 0) std::memmove(at + r.framing.size(), r.data.data(), r.data.size());
    pending += r.data.size();
  }
  if (pending == 0 && gap > 0) { // the dead bytes are at the front: drop them
    b.consumed(gap);
    gap = 0;
  }
}

long msBetween(Clock::time_point from, Clock::time_point to) {
  return static_cast<long>(duration_cast<milliseconds>(to - from).count());
}

// The head must fit in tune.bufsize (16384), as HAProxy.
http1::Limits limits() {
  return http1::Limits{};
}

bool transient(int e) {
  return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

std::string ipText(const common::SockAddr& a) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (a.ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a.ss)->sin_addr, buf, sizeof buf);
  else if (a.ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a.ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

// option forwardfor on the frontend or the backend (HAProxy 2.6's
// http_process_request): `except` of either side exempts the client, the
// backend's header name wins, and the header is added unless both sides
// said `if-none` and one is present.
void addForwardedFor(HttpHead& head, const ProxyConfig& fe, const ProxyConfig& be,
                     const common::SockAddr& client) {
  if (!fe.forwardFor && !be.forwardFor) return;
  common::IpAddr ip = client.ip();
  if (fe.forwardFor && fe.forwardForExcept && fe.forwardForExcept->contains(ip)) return;
  if (be.forwardFor && be.forwardForExcept && be.forwardForExcept->contains(ip)) return;
  const std::string& name = be.forwardFor ? be.forwardForHeader : fe.forwardForHeader;
  bool always = (fe.forwardFor && !fe.forwardForIfNone) || (be.forwardFor && !be.forwardForIfNone);
  if (!always && head.get(name)) return;
  head.add(name, ipText(client));
}

// What the persistence cookie logic needs to know of a backend's servers.
std::vector<persist::ServerInfo> cookieServers(BackendRt& be) {
  std::vector<persist::ServerInfo> v;
  auto g = be.lock(); // servers' states change on the main thread
  v.reserve(be.servers().size());
  for (const ServerRt& s : be.servers())
    v.push_back({s.cfg->opt.cookie, s.up()});
  return v;
}

int64_t unixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

} // namespace

HttpStream::HttpStream(Daemon& d, Worker& w, FrontendRt& fe, int clientFd,
                       const common::SockAddr& peer)
    : d_(d), w_(w), fe_(fe), cfd_(clientFd), peer_(peer),
      reqParser_(http1::Kind::Request, limits()), respParser_(http1::Kind::Response, limits()) {
  int one = 1;
  setsockopt(cfd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  connector_ = std::make_unique<ServerConnector>(
      w_, *this, [this](int fd) { onServerConnected(fd); },
      [this](ConnectFailure f) { onServerFailed(f); });
  connector_->setOwnIdle([this](size_t server) {
    return held_ && srvBe_ == connector_->backend() && srvIdx_ == server ? sfd_ : -1;
  });
}

const common::SockAddr& HttpStream::localAddr() {
  if (!localKnown_) {
    localKnown_ = true;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(cfd_, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      local_ = common::SockAddr::fromRaw(reinterpret_cast<sockaddr*>(&ss), len);
  }
  return local_;
}

HttpStream::~HttpStream() {
  if (state_ != State::Closed) finish("KD", false);
}

void HttpStream::start() {
  cw_ = std::make_unique<common::FdWatcher>(w_.loop(), cfd_,
                                            [this](unsigned r) { onClientEvent(r); });
  timer_ = std::make_unique<common::Timer>(w_.loop(), [this] { onTimer(); });
  lastClient_ = Clock::now();
  beginTransaction();
  // The request usually arrived with the connection: read it now, without
  // waiting for (and registering) a readiness event.
  if (!readInto(cfd_, cin_, clientEof_, true)) {
    clientAborted(true);
    return;
  }
  if (cin_ && cin_->empty()) w_.buffers().give(std::move(cin_));
  step();
}

void HttpStream::onQueueTurn() {
  connector_->onQueueTurn();
}

bool HttpStream::usesServer(const BackendRt& be, size_t server) const {
  return state_ != State::Closed && sfd_ >= 0 && be_ == &be && connector_ &&
         connector_->server() == server;
}

void HttpStream::kill() {
  // HAProxy: "K" (killed by an admin), "D" (during the data phase).
  if (state_ != State::Closed) finish("KD", false);
}

// ---- transactions ---------------------------------------------------------

void HttpStream::beginTransaction() {
  state_ = State::WaitRequest;
  be_ = nullptr;
  srvReused_ = srvSpoke_ = replayable_ = retried_ = false;
  sHeadCopy_.clear();
  headSeen_ = reqStarted_ = reqDone_ = false;
  respHeadSeen_ = respDone_ = interim_ = false;
  respHeadPhase_ = true;
  needConnect_ = false;
  clientKeepAlive_ = serverReusable_ = tunnelAfter_ = false;
  logged_ = generated_ = false;
  reqKeepAlive_ = false;
  reqHttp11_ = true;
  reqLine_.clear();
  status_ = -1;
  bytesOut_ = 0;
  termState_ = "--";
  ckFlags_ = "--";
  ck_ = {};
  tR_ = tr_ = -1;
  reqStart_ = idleSince_ = Clock::now();
  reqWall_ = std::chrono::system_clock::now();
  respParser_.reset();
  again_ = true;
}

void HttpStream::releaseBackend() {
  connector_->cancel();
  connector_->releaseSlot();
  if (be_ && beCounted_) {
    --be_->beconn;
    beCounted_ = false;
  }
}

void HttpStream::endTransaction() {
  bool reuse = serverReusable_ && !serverEof_ && reqDone_ && respDone_ && (!sin_ || sin_->empty());
  if (reuse && clientKeepAlive_ && !clientEof_) {
    parkServer();
  } else if (reuse && reqKeepAlive_) {
    dropServer(true);
  } else if (reuse) {
    // The client asked to close. As HAProxy, the connection is kept idle
    // only when the server has no idle one (a connection-per-request client
    // never reuses one: they would pile up); otherwise it is reset, which
    // leaves no TIME_WAIT on the proxy.
    bool keep = srvBe_ && w_.serverPool().idle(srvBe_->index(), srvIdx_) == 0;
    dropServer(keep, !keep);
  } else {
    dropServer(false);
  }
  releaseBackend();
  log();
  ++nTransactions_;
  if (!clientKeepAlive_ || clientEof_ || clientErr_) {
    finish(nullptr, true);
    return;
  }
  beginTransaction();
}

void HttpStream::processRequest() {
  if (!cin_ || reqDone_ || state_ == State::Closing || state_ == State::Closed) return;
  for (int guard = 0; guard < 1024; ++guard) {
    const size_t held = reqPending_ + reqGap_;
    std::string_view in(cin_->readPtr() + held, cin_->readable() - held);
    if (in.empty() && !headSeen_) return;
    auto r = reqParser_.parse(in);
    if (!headSeen_) {
      if (r.consumed > 0) {
        // Head bytes are copied by the parser: drop them (nothing is
        // pending before them at this point).
        cin_->consumed(r.consumed);
        if (!reqStarted_) {
          reqStarted_ = true;
          firstByte_ = Clock::now(); // for the log's %Ti/%TR split
          firstByteWall_ = std::chrono::system_clock::now();
          if (nTransactions_ > 0) {
            reqStart_ = Clock::now();
            reqWall_ = std::chrono::system_clock::now();
          }
        }
      }
      if (r.event == http1::Event::NeedMore) return;
      if (r.event == http1::Event::Error) {
        replyH1Error(r.error.status, "PR");
        return;
      }
      if (r.event == http1::Event::Head) {
        headSeen_ = true;
        onRequestHead();
        if (state_ == State::Closing || state_ == State::Closed) return;
      }
      continue;
    }
    if (r.event != http1::Event::Error) placeBody(*cin_, reqPending_, reqGap_, r);
    switch (r.event) {
    case http1::Event::Error:
      // A bad body: refused before the server saw it when it came with the
      // head; otherwise the server connection is dropped. Of the body, only
      // what the parser validated before the bad byte went on.
      replyH1Error(r.error.status, "PR");
      return;
    case http1::Event::End:
      reqDone_ = true;
      return;
    case http1::Event::NeedMore:
      return;
    default:
      break;
    }
  }
}

void HttpStream::onRequestHead() {
  auto now = Clock::now();
  tR_ = msBetween(reqStart_, now);
  const auto& m = reqParser_.message();
  reqCtx_ = http1::Parser::contextOf(m);
  reqKeepAlive_ = m.keepAlive;
  reqHttp11_ = m.http11();
  reqLine_ = std::string(m.method) + ' ' + std::string(m.target) + " HTTP/" +
             std::to_string(m.versionMajor) + '.' + std::to_string(m.versionMinor);
  HttpHead head = fromMessage(m);
  SampleContext ctx;
  ctx.req = &m;
  ctx.src = peer_;
  const auto& fcfg = fe_.cfg();
  // dst is only known to rules: no getsockname per connection without them.
  if (!fcfg.httpRequest.empty() || !fcfg.useBackends.empty()) ctx.dst = localAddr();
  auto localReply = [&](const RuleResult& r, const ProxyConfig& px) {
    int st = r.kind == RuleResult::Kind::Redirect ? r.code : r.reply.status;
    replyAndClose(st, r.kind == RuleResult::Kind::Deny ? "PR" : "LR", buildResponse(r, &px));
  };
  auto r = applyRequestRules(fcfg.httpRequest, head, ctx);
  if (r.stops()) {
    localReply(r, fcfg);
    return;
  }
  int beIndex;
  {
    HeadView view(head, true);
    SampleContext c2 = ctx;
    c2.req = &view.message();
    beIndex = switchBackend(fcfg, c2);
  }
  be_ = d_.backend(beIndex);
  if (!be_) {
    replyAndClose(503, "SC");
    return;
  }
  ++be_->beconn;
  ++be_->cumConns;
  beCounted_ = true;
  const auto& bcfg = be_->cfg();
  if (&bcfg != &fcfg) {
    if (!bcfg.httpRequest.empty()) ctx.dst = localAddr();
    r = applyRequestRules(bcfg.httpRequest, head, ctx);
    if (r.stops()) {
      localReply(r, bcfg);
      return;
    }
  }
  connMode_ = effectiveConnMode(fcfg, bcfg);
  if (!bcfg.cookie.name.empty()) {
    ck_ = persist::processRequest(bcfg.cookie, bcfg.persist, cookieServers(*be_), head, unixNow());
    if (persist::showsInLog(bcfg.cookie))
      ckFlags_ = {static_cast<char>(ck_.status), static_cast<char>(persist::ServerCookie::None)};
  }
  addForwardedFor(head, fcfg, bcfg, peer_);
  bool upgrade = m.upgrade || m.methodKind == http1::Method::Connect;
  // Connection is hop-by-hop: say what this hop does. The client's tokens
  // never go on: one naming a field (say X-Forwarded-For) would have the
  // next hop strip it, the field this proxy added included.
  head.del("connection");
  if (m.upgrade)
    head.add("connection", "upgrade");
  else if (!upgrade && connMode_ != HttpConnMode::KeepAlive) // CONNECT: nothing to say
    head.add("connection", "close");
  else if (!upgrade && !m.http11())
    head.add("connection", "keep-alive");
  lbKey_ = requestKey(bcfg, head, peer_.ip());
  sHead_ = serialize(head, true);
  state_ = State::Connecting;
  // The connection starts once the bytes already buffered after the head
  // are parsed (stepOnce): a bad body in them is refused before a server
  // sees anything.
  needConnect_ = true;
  again_ = true;
  using M = http1::Method;
  replayable_ = !upgrade && m.framing == http1::Framing::None &&
                (m.methodKind == M::Get || m.methodKind == M::Head || m.methodKind == M::Options ||
                 m.methodKind == M::Trace || m.methodKind == M::Put || m.methodKind == M::Delete);
  // Only a reused connection (not for a first request) may need a replay.
  if (replayable_ && nTransactions_ > 0) sHeadCopy_ = sHead_;
}

void HttpStream::onServerConnected(int fd) {
  if (!(held_ && fd == sfd_)) {
    // A connection other than the held one: that one goes to the pool.
    releaseHeld(true);
    if (sfd_ >= 0) { // not expected: a transaction's connection is dropped before the next
      retire(w_.loop(), sw_);
      ::close(sfd_);
    }
    sfd_ = fd;
    auto onEvent = [this](unsigned r) { onServerEvent(r); };
    sw_ = connector_->takeWatcher(); // a new connection's watcher: no new registration
    if (sw_)
      sw_->setCallback(onEvent);
    else
      sw_ = std::make_unique<common::FdWatcher>(w_.loop(), sfd_, onEvent);
  } // else: the held connection, its watcher already reading
  held_ = false;
  srvBe_ = connector_->backend();
  srvIdx_ = connector_->server().value_or(0);
  srvReused_ = connector_->reused();
  if (const auto& lf = fe_.cfg().logFormatCompiled; lf && lf->usesBackendSource()) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
      srvLocal_ = common::SockAddr::fromRaw(reinterpret_cast<sockaddr*>(&ss), len);
  }
  serverEof_ = serverShut_ = false;
  state_ = State::Exchange;
  sentAt_ = lastServer_ = Clock::now();
  respParser_.reset();
  respParser_.setRequest(reqCtx_);
  respHeadPhase_ = true;
  step();
}

void HttpStream::onServerFailed(ConnectFailure f) {
  const char* ts = "SC";
  switch (f) {
  case ConnectFailure::NoServer:
    ts = "SC";
    break;
  case ConnectFailure::QueueFull:
  case ConnectFailure::QueueTimeout:
    ts = "sQ";
    break;
  case ConnectFailure::ConnectFailed:
    ts = "SC";
    break;
  case ConnectFailure::ConnectTimeout:
    ts = "sC";
    break;
  }
  replyAndClose(503, ts);
  step();
}

void HttpStream::processResponse() {
  if (!sin_ || respDone_ || state_ != State::Exchange) return;
  for (int guard = 0; guard < 1024; ++guard) {
    const size_t held = respPending_ + respGap_;
    std::string_view in(sin_->readPtr() + held, sin_->readable() - held);
    if (in.empty() && respHeadPhase_) return;
    auto r = respParser_.parse(in);
    if (respHeadPhase_) {
      if (r.consumed > 0) sin_->consumed(r.consumed);
      if (r.event == http1::Event::NeedMore) return;
      if (r.event == http1::Event::Error) {
        replyAndClose(502, "PH");
        return;
      }
      if (r.event == http1::Event::Head) {
        respHeadPhase_ = false;
        if (!onResponseHead()) return;
      }
      continue;
    }
    if (r.event != http1::Event::Error) placeBody(*sin_, respPending_, respGap_, r);
    switch (r.event) {
    case http1::Event::Error:
      // A bad body (a chunk size over 2^52-1, a bad chunk line). When
      // nothing of the response reached the client yet (it came with its
      // head, as HAProxy sees it), the client gets a 502 instead; after
      // the head went out there is nothing to answer: abort.
      if (bytesOut_ == 0)
        replyAndClose(502, "PH");
      else
        finish("SD", false);
      return;
    case http1::Event::End:
      if (interim_) {
        interim_ = false;
        respHeadPhase_ = true;
        continue;
      }
      respDone_ = true;
      return;
    case http1::Event::NeedMore:
      return;
    default:
      break;
    }
  }
}

bool HttpStream::onResponseHead() {
  const auto& m = respParser_.message();
  if (m.interim) {
    // 100 Continue and other interim responses pass through.
    interim_ = true;
    cOut_ += serialize(fromMessage(m), false);
    return true;
  }
  respHeadSeen_ = true;
  tr_ = msBetween(sentAt_, Clock::now());
  status_ = m.status;
  HttpHead head = fromMessage(m);
  SampleContext ctx;
  ctx.req = &reqParser_.message();
  ctx.src = peer_;
  const auto& bcfg = be_->cfg();
  const auto& fcfg = fe_.cfg();
  if (!bcfg.httpResponse.empty() || !fcfg.httpResponse.empty()) ctx.dst = localAddr();
  auto r = applyResponseRules(bcfg.httpResponse, head, ctx);
  if (!r.stops() && &bcfg != &fcfg) r = applyResponseRules(fcfg.httpResponse, head, ctx);
  if (r.stops()) {
    replyAndClose(r.reply.status, "PH", buildResponse(r, &bcfg));
    return false;
  }
  if (!bcfg.cookie.name.empty()) {
    persist::ResponseContext pc;
    pc.server = connector_->server();
    pc.direct = ck_.server && pc.server == ck_.server && !connector_->redispatched();
    auto method = reqParser_.message().methodKind;
    pc.post = method == http1::Method::Post;
    pc.safeMethod = method == http1::Method::Get || method == http1::Method::Head ||
                    method == http1::Method::Options || method == http1::Method::Trace;
    pc.lastDate = ck_.lastDate;
    pc.firstDate = ck_.firstDate;
    pc.now = unixNow();
    auto sc = persist::processResponse(bcfg.cookie, cookieServers(*be_), pc, head);
    if (persist::showsInLog(bcfg.cookie)) ckFlags_[1] = static_cast<char>(sc);
  }
  if (m.framing == http1::Framing::Tunnel) {
    tunnelAfter_ = true;
    cOut_ += serialize(head, false);
    return true;
  }
  clientKeepAlive_ = reqKeepAlive_ && connMode_ != HttpConnMode::Close &&
                     m.framing != http1::Framing::UntilClose && !clientEof_;
  serverReusable_ = m.keepAlive && connMode_ == HttpConnMode::KeepAlive;
  head.del("connection");
  if (!clientKeepAlive_)
    head.add("connection", "close");
  else if (!reqHttp11_)
    head.add("connection", "keep-alive");
  cOut_ += serialize(head, false);
  return true;
}

void HttpStream::serverGone() {
  // The server closed (or failed) before the response was complete.
  if (respHeadSeen_) {
    finish("SD", false);
    return;
  }
  if (srvReused_ && !srvSpoke_) {
    // A reused idle connection closed before any answer: the server's idle
    // timeout raced our request. Replay once on a fresh connection when the
    // request allows it; otherwise close the client connection without a
    // response or a log line, as HAProxy 2.6 does, so that the client sees
    // a keep-alive close and may retry.
    if (replayable_ && !retried_ && !sHeadCopy_.empty()) {
      retryFresh();
      return;
    }
    finish(nullptr, true);
    return;
  }
  replyAndClose(502, "SH");
}

void HttpStream::retryFresh() {
  retried_ = true;
  srvReused_ = false;
  dropServer(false);
  sHead_ = std::move(sHeadCopy_);
  sHeadCopy_.clear();
  respParser_.reset();
  respHeadPhase_ = true;
  interim_ = false;
  // The connection starts from stepOnce(), as for the first attempt, but
  // on a new connection.
  connector_->avoidReuse();
  state_ = State::Connecting;
  needConnect_ = true;
  again_ = true;
}

void HttpStream::enterTunnel() {
  state_ = State::Tunnel;
  lastClient_ = lastServer_ = Clock::now();
  again_ = true;
}

void HttpStream::replyAndClose(int status, const char* ts, std::string body) {
  connector_->cancel();
  dropServer(false);
  status_ = status;
  termState_ = ts;
  if (body.empty()) body = errorResponse(status, be_ ? &be_->cfg() : nullptr, &fe_.cfg());
  // HAProxy's H1 layer ends the head with "connection: close" when the
  // request asked to close (HTTP/1.0, Connection: close, httpclose).
  const ProxyConfig& fc = fe_.cfg();
  bool closeAsked = headSeen_ && (!reqKeepAlive_ || effectiveConnMode(fc, be_ ? be_->cfg() : fc) ==
                                                        HttpConnMode::Close);
  cOut_ = closeAsked ? withConnectionClose(std::move(body)) : std::move(body);
  respPending_ = respGap_ = 0;
  generated_ = true;
  clientKeepAlive_ = false;
  state_ = State::Closing;
  again_ = true;
}

// What HAProxy's H1 layer answers itself: a request it cannot parse, or one
// that did not come within timeout http-request.
void HttpStream::replyH1Error(int parserStatus, const char* ts) {
  int status = h1ErrorStatus(parserStatus);
  replyAndClose(status, ts, h1ErrorResponse(status));
}

// ---- I/O ------------------------------------------------------------------

bool HttpStream::readInto(int fd, BufferPtr& buf, bool& eof, bool client, bool* filled) {
  if (filled) *filled = false;
  if (eof) return true;
  if (!buf) buf = client ? w_.buffers().take() : w_.responseBuffers().take();
  if (buf->writable() == 0) return true;
  size_t room = buf->writable();
  ssize_t n = ::recv(fd, buf->writePtr(), room, 0);
  if (n > 0) {
    buf->produced(static_cast<size_t>(n));
    if (filled) *filled = static_cast<size_t>(n) == room;
    if (!client) srvSpoke_ = true;
    (client ? lastClient_ : lastServer_) = Clock::now();
    return true;
  }
  if (n == 0) {
    eof = true;
    return true;
  }
  return transient(errno);
}

// A read that filled the buffer probably left more bytes in the socket: once
// step() has sent them on and made room, read again at once instead of going
// back to epoll for the rest (bounded, so one busy connection cannot starve
// the others). A short read means the socket is drained.
constexpr int kReadsPerEvent = 4;

void HttpStream::onClientEvent(unsigned ready) {
  if (state_ == State::Closed) return;
  if (!(ready & common::FdWatcher::Read) || state_ == State::Closing) {
    step();
    return;
  }
  for (int i = 0; i < kReadsPerEvent; ++i) {
    bool filled = false;
    if (!readInto(cfd_, cin_, clientEof_, true, &filled)) {
      if (reqDone_ && (state_ == State::Connecting || state_ == State::Exchange)) {
        // As HAProxy without abortonclose: the transaction goes on, the
        // reset is noticed when the response is written (CD).
        clientErr_ = true;
        step();
        return;
      }
      clientAborted(true);
      return;
    }
    step();
    if (!filled || state_ == State::Closed || !(cw_->wanted() & common::FdWatcher::Read)) return;
  }
}

void HttpStream::onServerEvent(unsigned ready) {
  if (state_ == State::Closed || sfd_ < 0) return;
  if (held_) {
    // The idle connection closed, or the server spoke unasked: it is done.
    releaseHeld(false);
    step();
    return;
  }
  if (!(ready & common::FdWatcher::Read)) {
    step();
    return;
  }
  for (int i = 0; i < kReadsPerEvent; ++i) {
    bool filled = false;
    if (!readInto(sfd_, sin_, serverEof_, false, &filled)) {
      if (state_ == State::Tunnel)
        finish("SD", false);
      else
        serverGone();
      step();
      return;
    }
    step();
    if (!filled || state_ == State::Closed || sfd_ < 0 || held_ || !sw_ ||
        !(sw_->wanted() & common::FdWatcher::Read))
      return;
  }
}

// option http-no-delay on the frontend or the backend (HAProxy: either).
bool HttpStream::noDelay() const {
  return fe_.cfg().httpNoDelay || (be_ && be_->cfg().httpNoDelay);
}

bool HttpStream::flushToServer() {
  if (sfd_ < 0) return true;
  while (!sHead_.empty() || reqPending_ > 0) {
    // The head and the body bytes behind it leave in one system call.
    size_t headLen = sHead_.size();
    // Not for a head that waits for 100 Continue: the body follows only
    // once the server answered that head.
    bool more = state_ == State::Exchange && headSeen_ && !reqDone_ &&
                !reqParser_.message().expectContinue && !noDelay();
    ssize_t n = sendPair(sfd_, sHead_.data(), headLen, reqPending_ ? cin_->readPtr() : nullptr,
                         reqPending_, more);
    if (n < 0) {
      if (transient(errno)) return true;
      if (state_ == State::Tunnel && headLen == 0)
        finish("SD", false);
      else
        serverGone();
      return false;
    }
    size_t sent = static_cast<size_t>(n);
    size_t fromHead = std::min(sent, headLen);
    sHead_.erase(0, fromHead);
    if (size_t fromBody = sent - fromHead) {
      cin_->consumed(fromBody);
      reqPending_ -= fromBody;
    }
    lastServer_ = Clock::now();
  }
  if (reqPending_ == 0 && reqGap_ > 0) { // the dead framing bytes are at the front now
    cin_->consumed(reqGap_);
    reqGap_ = 0;
    if (state_ == State::Tunnel) again_ = true; // what follows them may go on now
  }
  if (cin_ && cin_->empty()) w_.buffers().give(std::move(cin_));
  return true;
}

bool HttpStream::flushToClient() {
  while (!cOut_.empty() || respPending_ > 0) {
    // The head and the body bytes behind it leave in one system call.
    size_t headLen = cOut_.size();
    bool more =
        state_ == State::Exchange && respHeadSeen_ && !respDone_ && !tunnelAfter_ && !noDelay();
    ssize_t n = sendPair(cfd_, cOut_.data(), headLen, respPending_ ? sin_->readPtr() : nullptr,
                         respPending_, more);
    if (n < 0) {
      if (transient(errno)) return true;
      clientAborted(true);
      return false;
    }
    size_t sent = static_cast<size_t>(n);
    size_t fromHead = std::min(sent, headLen);
    cOut_.erase(0, fromHead);
    if (!generated_) bytesOut_ += fromHead;
    if (size_t fromBody = sent - fromHead) {
      sin_->consumed(fromBody);
      respPending_ -= fromBody;
      bytesOut_ += fromBody;
    }
    lastClient_ = Clock::now();
  }
  if (respPending_ == 0 && respGap_ > 0) { // the dead framing bytes are at the front now
    sin_->consumed(respGap_);
    respGap_ = 0;
    if (state_ == State::Tunnel) again_ = true;
  }
  if (sin_ && sin_->empty()) w_.responseBuffers().give(std::move(sin_));
  return true;
}

// The client closed or failed. A finished request still gets its response
// after a clean close (HAProxy without abortonclose); otherwise the
// transaction ends here.
void HttpStream::clientAborted(bool error) {
  switch (state_) {
  case State::WaitRequest:
    if (reqStarted_ || nTransactions_ == 0) {
      // HAProxy logs a connection closed before its first request as a
      // 400 "CR" too (unless option dontlognull); an idle keep-alive
      // connection closing is not a transaction.
      status_ = 400;
      finish("CR", reqStarted_ ? false : !error);
    } else {
      finish(nullptr, !error);
    }
    return;
  case State::Connecting:
    if (!error && reqDone_) return;
    finish(connector_->queued() ? "CQ" : "CC", false);
    return;
  case State::Exchange:
    if (!error && reqDone_) return;
    finish(respHeadSeen_ ? "CD" : "CH", false);
    return;
  case State::Tunnel:
    if (error) finish("CD", false);
    return;
  case State::Closing:
    finish(termState_.c_str(), false);
    return;
  case State::Closed:
    return;
  }
}

void HttpStream::step() {
  if (inStep_) {
    again_ = true;
    return;
  }
  inStep_ = true;
  for (int i = 0; i < 64 && state_ != State::Closed; ++i) {
    again_ = false;
    stepOnce();
    if (!again_) break;
  }
  inStep_ = false;
  if (state_ == State::Closed) return;
  updateInterest();
  armTimer();
}

void HttpStream::stepOnce() {
  switch (state_) {
  case State::WaitRequest:
    processRequest();
    if (state_ == State::WaitRequest && clientEof_) clientAborted(false);
    return;
  case State::Connecting:
    processRequest();
    if (state_ == State::Connecting && clientEof_ && !reqDone_) {
      clientAborted(false);
      return;
    }
    if (state_ == State::Connecting && needConnect_) {
      needConnect_ = false;
      // `http-reuse safe`: the first request of a connection gets a
      // connection of its own; later ones may take an idle one.
      bool mayReuse = nTransactions_ > 0 && connMode_ == HttpConnMode::KeepAlive;
      connector_->start(*be_, lbKey_, mayReuse, ck_.server);
    }
    return;
  case State::Exchange: {
    processRequest();
    if (state_ != State::Exchange) return;
    if (!flushToServer()) return;
    processResponse();
    if (state_ != State::Exchange) return;
    if (serverEof_ && !respDone_ && (!sin_ || sin_->readable() == respPending_ + respGap_)) {
      auto r = respParser_.finish();
      if (r.event == http1::Event::End) {
        respDone_ = true;
      } else {
        serverGone();
        return;
      }
    }
    if (!flushToClient()) return;
    if (clientEof_ && !reqDone_) {
      clientAborted(false);
      return;
    }
    if (respDone_ && cOut_.empty() && respPending_ == 0) {
      if (tunnelAfter_) {
        enterTunnel();
      } else if (reqDone_ && reqPending_ == 0 && sHead_.empty()) {
        endTransaction();
      } else {
        // The server answered before the request was complete: this
        // connection cannot carry another request.
        serverReusable_ = false;
        clientKeepAlive_ = false;
        dropServer(false);
        releaseBackend();
        log();
        finish(nullptr, true);
      }
    }
    return;
  }
  case State::Tunnel:
    // Tunnel bytes go on as they are, once any dead body framing before
    // them is gone (flushTo* drops it when the bytes before it are sent).
    if (cin_ && reqGap_ == 0) reqPending_ = cin_->readable();
    if (sin_ && respGap_ == 0) respPending_ = sin_->readable();
    if (!flushToServer() || !flushToClient()) return;
    if (clientEof_ && reqPending_ == 0 && !serverShut_) {
      ::shutdown(sfd_, SHUT_WR);
      serverShut_ = true;
    }
    if (serverEof_ && respPending_ == 0 && cOut_.empty() && !clientShut_) {
      ::shutdown(cfd_, SHUT_WR);
      clientShut_ = true;
    }
    if (clientShut_ && serverShut_) finish("--", true);
    return;
  case State::Closing:
    if (!flushToClient()) return;
    if (cOut_.empty()) finish(termState_.c_str(), true);
    return;
  case State::Closed:
    return;
  }
}

void HttpStream::updateInterest() {
  using W = common::FdWatcher;
  unsigned c = 0, s = 0;
  bool cinRoom = !cin_ || cin_->writable() > 0;
  bool sinRoom = !sin_ || sin_->writable() > 0;
  bool readClient = !clientEof_ && !clientErr_ && cinRoom;
  // Once the request is complete, the client is not watched for its sake
  // (HAProxy without abortonclose: a close or reset is noticed when the
  // response is written). A registration already there is kept (no epoll
  // change per request); none is added (a connection-per-request client is
  // never registered).
  if (readClient && reqDone_ && state_ != State::WaitRequest && state_ != State::Tunnel)
    readClient = cw_ && (cw_->wanted() & W::Read);
  switch (state_) {
  case State::WaitRequest:
  case State::Connecting:
    if (readClient) c |= W::Read;
    if (held_) s |= W::Read; // an idle connection is watched for its close
    break;
  case State::Exchange:
  case State::Tunnel:
    if (readClient) c |= W::Read;
    if (!cOut_.empty() || respPending_ > 0) c |= W::Write;
    if (!serverEof_ && sinRoom) s |= W::Read;
    if (!sHead_.empty() || reqPending_ > 0) s |= W::Write;
    break;
  case State::Closing:
    if (!cOut_.empty()) c |= W::Write;
    break;
  case State::Closed:
    break;
  }
  if (cw_ && cw_->wanted() != c) cw_->want(c);
  if (sw_ && sw_->wanted() != s) sw_->want(s);
}

void HttpStream::armTimer() {
  const auto& ft = fe_.cfg().timeouts;
  const Timeouts* bt = be_ ? &be_->cfg().timeouts : nullptr;
  std::optional<TimePoint> deadline;
  auto consider = [&](TimePoint from, const std::optional<common::Micros>& to) {
    if (!to) return;
    auto d = from + duration_cast<Clock::duration>(*to);
    if (!deadline || d < *deadline) deadline = d;
  };
  switch (state_) {
  case State::WaitRequest:
    if (!reqStarted_ && nTransactions_ > 0) {
      consider(idleSince_, ft.httpKeepAlive ? ft.httpKeepAlive
                           : ft.httpRequest ? ft.httpRequest
                                            : ft.client);
    } else {
      consider(reqStart_, ft.httpRequest);
      consider(lastClient_, ft.client);
    }
    break;
  case State::Exchange:
    if (bt && !respDone_) consider(lastServer_, bt->server);
    if (!reqDone_ || !cOut_.empty() || respPending_ > 0) consider(lastClient_, ft.client);
    break;
  case State::Tunnel:
    if (bt && bt->tunnel) {
      consider(std::max(lastClient_, lastServer_), bt->tunnel);
    } else {
      if (!clientEof_) consider(lastClient_, ft.client);
      if (bt && !serverEof_) consider(lastServer_, bt->server);
    }
    break;
  case State::Closing:
    consider(lastClient_, ft.client);
    break;
  case State::Connecting:
  case State::Closed:
    break;
  }
  // The timer is moved only when it must fire earlier. A later deadline (the
  // common case: every read pushes the idle deadline back) leaves it as it
  // is: it fires early, onTimer() finds nothing expired and re-arms for what
  // is left. Re-arming on every event would cost a timerfd_settime each.
  if (!deadline) return; // an armed timer fires and finds nothing to do
  if (timer_->armed() && timerAt_ <= *deadline) return;
  timerAt_ = *deadline;
  auto left = *deadline - Clock::now();
  if (left < milliseconds(1)) left = milliseconds(1);
  timer_->arm(duration_cast<std::chrono::microseconds>(left));
}

void HttpStream::onTimer() {
  auto now = Clock::now();
  const auto& ft = fe_.cfg().timeouts;
  const Timeouts* bt = be_ ? &be_->cfg().timeouts : nullptr;
  auto expired = [&](TimePoint from, const std::optional<common::Micros>& to) {
    return to && now - from >= duration_cast<Clock::duration>(*to);
  };
  switch (state_) {
  case State::WaitRequest:
    if (!reqStarted_ && nTransactions_ > 0) {
      // Idle keep-alive connection: closed silently, nothing to log.
      auto to = ft.httpKeepAlive ? ft.httpKeepAlive : ft.httpRequest ? ft.httpRequest : ft.client;
      if (expired(idleSince_, to)) {
        finish(nullptr, true);
        return;
      }
    } else if (expired(reqStart_, ft.httpRequest) || expired(lastClient_, ft.client)) {
      replyH1Error(408, "cR");
    }
    break;
  case State::Exchange:
    if (bt && !respDone_ && expired(lastServer_, bt->server)) {
      if (respHeadSeen_)
        finish("sD", false);
      else
        replyAndClose(504, "sH");
    } else if ((!reqDone_ || !cOut_.empty() || respPending_ > 0) &&
               expired(lastClient_, ft.client)) {
      finish(respHeadSeen_ ? "cD" : "cH", false);
      return;
    }
    break;
  case State::Tunnel:
    if (bt && bt->tunnel) {
      if (expired(std::max(lastClient_, lastServer_), bt->tunnel)) {
        finish(lastClient_ <= lastServer_ ? "cD" : "sD", false);
        return;
      }
    } else if (!clientEof_ && expired(lastClient_, ft.client)) {
      finish("cD", false);
      return;
    } else if (bt && !serverEof_ && expired(lastServer_, bt->server)) {
      finish("sD", false);
      return;
    }
    break;
  case State::Closing:
    if (expired(lastClient_, ft.client)) {
      finish(termState_.c_str(), false);
      return;
    }
    break;
  default:
    break;
  }
  step();
}

void HttpStream::dropServer(bool reusable, bool abortive) {
  if (sfd_ >= 0) {
    if ((reusable || held_) && srvBe_ && (!sin_ || sin_->empty())) {
      w_.serverPool().give(srvBe_->index(), srvIdx_, sfd_, std::move(sw_));
    } else {
      retire(w_.loop(), sw_);
      if (abortive) {
        linger lg{1, 0};
        setsockopt(sfd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
      }
      ::close(sfd_);
    }
    sfd_ = -1;
  }
  held_ = false;
  srvBe_ = nullptr;
  serverEof_ = serverShut_ = false;
  sHead_.clear();
  respPending_ = respGap_ = 0;
  w_.responseBuffers().give(std::move(sin_));
}

void HttpStream::parkServer() {
  held_ = true;
  serverEof_ = serverShut_ = false;
  sHead_.clear();
  respPending_ = respGap_ = 0;
  w_.responseBuffers().give(std::move(sin_));
}

void HttpStream::releaseHeld(bool toPool) {
  if (!held_) return;
  held_ = false;
  if (toPool && srvBe_) {
    w_.serverPool().give(srvBe_->index(), srvIdx_, sfd_, std::move(sw_));
  } else {
    retire(w_.loop(), sw_);
    ::close(sfd_);
  }
  sfd_ = -1;
  srvBe_ = nullptr;
}

void HttpStream::log() {
  if (logged_) return;
  logged_ = true;
  std::optional<common::SockAddr> srvLocal = std::exchange(srvLocal_, std::nullopt);
  const auto& fcfg = fe_.cfg();
  if (!fe_.logger || !fcfg.logFormatCompiled) return;
  // "Null": the client sent nothing at all (a probe), as HAProxy counts it.
  if (fcfg.dontlognull && !reqStarted_) return;
  auto now = Clock::now();
  auto srv = connector_->server();
  BackendRt* be = be_;
  LogRecord e;
  e.clientAddr = peer_;
  e.frontendAddr = localAddr();
  e.backendSrcAddr = srvLocal;
  if (srv && be) e.serverAddr = be->servers()[*srv].cfg->addr;
  // HAProxy's timeline (configuration.txt 8.4): %t is the accept, or the
  // end of the previous request on a keep-alive connection; Ti runs from
  // there to the request's first byte (%tr), TR from that byte to the end
  // of the head, Ta from %tr to the end, Tt from %t to the end.
  auto start = idleSince_;
  auto first = reqStarted_ ? firstByte_ : reqStart_;
  e.ti = std::max(0L, msBetween(start, first));
  e.acceptTime = reqWall_ - std::chrono::milliseconds(std::max(0L, msBetween(start, reqStart_)));
  e.requestTime = reqStarted_ ? firstByteWall_ : reqWall_;
  e.frontend = fe_.name();
  e.backend = be ? be->name() : fe_.name();
  e.server = (srv && be) ? be->servers()[*srv].cfg->name : "<NOSRV>";
  e.tR = tR_ < 0 ? -1 : std::max(0L, tR_ - msBetween(reqStart_, first));
  e.tw = be ? connector_->tw() : -1;
  e.tc = be ? connector_->tc() : -1;
  e.tr = tr_;
  e.ta = msBetween(first, now);
  e.tt = msBetween(start, now);
  e.status = status_;
  e.bytesOut = bytesOut_;
  e.termState = termState_;
  // A redispatch away from the cookie's server marks the cookie DOWN (HAProxy).
  if (ck_.server && connector_->redispatched() && ckFlags_ != "--") ckFlags_[0] = 'D';
  e.cookieState = ckFlags_;
  e.actconn = d_.actconn();
  e.feconn = fe_.feconn;
  e.beconn = be ? be->beconn.load() : 0;
  e.srvConn = (srv && be) ? be->servers()[*srv].cur.load() : 0;
  e.retries = be ? connector_->retries() : 0;
  e.redispatched = be && connector_->redispatched();
  e.backendQueue = be ? connector_->queuePosBe() : 0;
  e.requestLine = reqLine_;
  fillProcessFacts(e);
  if (!fcfg.httplog && fcfg.logFormat.empty()) {
    // option tcplog in mode http: the line's %t is the request's start and
    // %Tt runs from there, as before.
    e.acceptTime = reqWall_;
    e.tt = msBetween(reqStart_, now);
  }
  fe_.logger->log(common::kInfo, fcfg.logFormatCompiled->format(e));
}

// Ends the stream. `ts`: the termination state to log for a transaction in
// progress (null: none, or already logged). `graceful`: a normal close
// (FIN after the last byte); otherwise a reset, as HAProxy's abortive close.
void HttpStream::finish(const char* ts, bool graceful) {
  if (state_ == State::Closed) return;
  if (ts && !logged_ && (reqStarted_ || status_ >= 0)) {
    if (ts != termState_.c_str()) termState_ = ts;
    dropServer(false);
    releaseBackend();
    log();
  }
  state_ = State::Closed;
  if (cw_) cw_->want(0);
  if (sw_) sw_->want(0);
  if (timer_) timer_->cancel();
  dropServer(false);
  releaseBackend();
  if (cfd_ >= 0) {
    if (graceful) {
      // Read what the client already sent so that close() sends a FIN, not
      // a reset that could destroy the response in flight. Not needed after
      // a request that asked to close and was read whole: the client sends
      // nothing more (HAProxy does not read either).
      ::shutdown(cfd_, SHUT_WR);
      bool drained = logged_ && reqDone_ && !reqKeepAlive_ && (!cin_ || cin_->empty());
      char sink[4096];
      for (int i = 0; !drained && i < 16 && ::recv(cfd_, sink, sizeof sink, MSG_DONTWAIT) > 0;
           ++i) {
      }
    } else {
      linger lg{1, 0};
      setsockopt(cfd_, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    ::close(cfd_);
    cfd_ = -1;
  }
  w_.buffers().give(std::move(cin_));
  w_.responseBuffers().give(std::move(sin_));
  d_.streamClosed(this, fe_);
}

} // namespace proxyd
