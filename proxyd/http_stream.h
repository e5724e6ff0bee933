#pragma once
// HttpStream: one client connection of a frontend in `mode http`, carrying
// HTTP/1.x transactions one at a time (HAProxy 2.6's behaviour):
//
//   WaitRequest  parse the request head (http1::Parser; timeout http-request
//                for the whole head, 408 when it expires; timeout
//                http-keep-alive while idle between requests). A refused
//                request gets HAProxy's error page and the connection
//                closes; it never reaches a server. Bytes already buffered
//                after the head are parsed before any server is contacted,
//                so a bad body (chunk-size overflow) is refused before
//                anything is sent.
//   Connecting   http-request rules (frontend, then backend), use_backend,
//                X-Forwarded-For; ServerConnector picks a server (queue,
//                retries, redispatch as TcpStream) or takes an idle pooled
//                connection (not for the first request of a connection, as
//                HAProxy's `http-reuse safe`).
//   Exchange     the edited head, then the body as parsed (never buffered
//                whole: the payload as received, chunk framing re-encoded by
//                the parser, see placeBody) go to the server;
//                the response is parsed (1xx interim, then the final head),
//                http-response rules (backend, then frontend), forwarded.
//                A bad response is answered 502, a server timeout before
//                the response head 504.
//   Tunnel       after 101 or a 2xx to CONNECT: bytes both ways, timeout
//                tunnel.
//
// After a response the client side stays open (keep-alive) unless either
// side or the connection mode (effectiveConnMode) says close. A reusable
// server connection stays with the stream, idle and still watched (held_),
// and carries the next request when the pick returns the same server (as
// HAProxy reuses the session's own connection first: no pool round trip, no
// epoll change); otherwise, or when the client leaves, it goes to the
// daemon's ServerPool. When the client asked to close, it is closed with a
// reset (HAProxy's choice: no TIME_WAIT on the proxy). A reused connection
// that the server closes before answering (its idle timeout racing our
// request) gets a bodiless idempotent request replayed once on a fresh
// connection; any other request gets the client connection closed silently,
// as HAProxy 2.6 does. Each transaction is logged with `option httplog`.
//
// Buffers: cin_ holds client bytes, sin_ server bytes (16 KiB each, from the
// pool). The front of each is the already-parsed part waiting to be sent on
// (reqPending_/respPending_ bytes), then the consumed bytes that are not
// sent (reqGap_/respGap_: chunk framing as received, replaced by its
// re-encoding), then the part not parsed yet (a pipelined request waits
// there). Only what the parser validated is ever pending: the raw bytes of
// a body are never forwarded ahead of the parser. Heads go through strings
// (sHead_/cOut_) because they are rewritten.
#include "common/loop.h"
#include "common/values.h"
#include "proxyd/balancer.h"
#include "proxyd/buffer.h"
#include "proxyd/config.h"
#include "proxyd/http1.h"
#include "proxyd/persist.h"
#include "proxyd/server_pool.h"
#include "proxyd/stream.h"

#include <chrono>
#include <memory>
#include <optional>
#include <string>

namespace proxyd {

class Daemon;
class FrontendRt;
class BackendRt;

class HttpStream final : public Stream {
public:
  HttpStream(Daemon& d, Worker& w, FrontendRt& fe, int clientFd, const common::SockAddr& peer);
  ~HttpStream() override;
  HttpStream(const HttpStream&) = delete;
  HttpStream& operator=(const HttpStream&) = delete;

  void start() override;
  void onQueueTurn() override;
  bool usesServer(const BackendRt& be, size_t server) const override;
  void kill() override;

private:
  enum class State { WaitRequest, Connecting, Exchange, Tunnel, Closing, Closed };
  using TimePoint = std::chrono::steady_clock::time_point;

  // transactions
  void beginTransaction();
  void endTransaction();
  void processRequest();
  void onRequestHead();
  void processResponse();
  bool onResponseHead(); // false: the stream ended
  void onServerConnected(int fd);
  void onServerFailed(ConnectFailure f);
  void serverGone(); // the server closed or failed before the response ended
  void clientAborted(bool error);
  void releaseBackend();
  void enterTunnel();
  // Answers `status` with an error page (or `body` when given), logs the
  // transaction with `ts`, and closes the client once it is written.
  void replyAndClose(int status, const char* ts, std::string body = {});
  void replyH1Error(int parserStatus, const char* ts);

  // I/O
  void onClientEvent(unsigned ready);
  void onServerEvent(unsigned ready);
  // false: error. `filled`: the read filled the buffer (more may be waiting).
  bool readInto(int fd, BufferPtr& buf, bool& eof, bool client, bool* filled = nullptr);
  bool flushToServer();                                          // false: error, finished
  bool flushToClient();                                          // false: error, finished
  bool noDelay() const;
  void step(); // runs the state machine after any I/O, until it settles
  void stepOnce();
  void updateInterest();
  void armTimer();
  void onTimer();
  // Ends the use of the server connection: to the pool when `reusable` (or
  // idle and held), else closed (with a reset when `abortive`).
  void dropServer(bool reusable, bool abortive = false);
  void parkServer();               // keeps the idle connection for the next request
  void releaseHeld(bool toPool);   // the held idle connection goes (pool or close)
  void retryFresh();               // replays the request on a new connection
  const common::SockAddr& localAddr(); // getsockname, once, when rules need it
  void log();
  void finish(const char* ts, bool graceful);

  Daemon& d_;
  Worker& w_;
  FrontendRt& fe_;
  int cfd_;
  int sfd_ = -1;
  common::SockAddr peer_;
  common::SockAddr local_;
  std::optional<common::SockAddr> srvLocal_; // our end towards the server, for %bi/%bp
  bool localKnown_ = false;
  common::FdWatcherPtr cw_;
  common::FdWatcherPtr sw_;
  common::TimerPtr timer_;
  std::unique_ptr<ServerConnector> connector_;
  State state_ = State::WaitRequest;

  BufferPtr cin_;
  BufferPtr sin_;
  size_t reqPending_ = 0;  // parsed client bytes at the front of cin_, for the server
  size_t respPending_ = 0; // parsed server bytes at the front of sin_, for the client
  size_t reqGap_ = 0;      // consumed client bytes behind reqPending_ not to send (framing)
  size_t respGap_ = 0;     // the same in sin_
  std::string sHead_;      // to the server before cin_'s pending bytes
  std::string cOut_;       // to the client before sin_'s pending bytes
  http1::Parser reqParser_;
  http1::Parser respParser_;
  bool clientEof_ = false;
  bool clientErr_ = false; // a read from the client failed (reset) after the request
  bool serverEof_ = false;
  bool clientShut_ = false; // SHUT_WR sent to the client (tunnel)
  bool serverShut_ = false; // SHUT_WR sent to the server (tunnel)
  long nTransactions_ = 0;
  bool inStep_ = false;
  bool again_ = false; // the state changed: run stepOnce() again
  std::chrono::steady_clock::time_point timerAt_{}; // the deadline the armed timer_ was set for

  // the current transaction
  BackendRt* be_ = nullptr;
  bool beCounted_ = false;
  HttpConnMode connMode_ = HttpConnMode::KeepAlive;
  bool headSeen_ = false;   // the request head is complete
  bool reqStarted_ = false; // a byte of this request arrived
  bool reqDone_ = false;
  bool respHeadSeen_ = false; // the final response head
  bool respDone_ = false;
  bool interim_ = false;
  bool respHeadPhase_ = true;
  bool needConnect_ = false; // the head is in: connect after parsing what is buffered // the
                             // response parser expects a head
  bool reqKeepAlive_ = false;
  bool reqHttp11_ = true;
  bool generated_ = false; // cOut_ is proxyd's own response (not counted in %B)
  bool clientKeepAlive_ = false;
  bool serverReusable_ = false;
  bool tunnelAfter_ = false;
  bool logged_ = false;
  // the server connection sfd_ (kept across transactions while held_)
  BackendRt* srvBe_ = nullptr;
  size_t srvIdx_ = 0;
  bool held_ = false;      // idle between transactions, kept for the next request
  bool srvReused_ = false; // this transaction's connection was reused (held or pooled)
  bool srvSpoke_ = false;  // a server byte arrived in this transaction
  bool replayable_ = false; // bodiless idempotent request: may be sent again
  bool retried_ = false;
  std::string sHeadCopy_; // the serialized head, for a replay
  http1::RequestContext reqCtx_;
  std::string reqLine_;
  int status_ = -1;
  long long bytesOut_ = 0;
  std::string termState_ = "--";
  PickKey lbKey_;              // what the backend's balancer hashes
  persist::RequestResult ck_;  // the request's persistence cookie
  std::string ckFlags_ = "--"; // %tsc's cookie characters
  std::chrono::system_clock::time_point reqWall_;
  // The request's first byte, for the log (%tr, %Ti, %TR).
  TimePoint firstByte_{};
  std::chrono::system_clock::time_point firstByteWall_;
  TimePoint reqStart_{}, headAt_{}, sentAt_{}, lastClient_{}, lastServer_{}, idleSince_{};
  long tR_ = -1, tr_ = -1;
};

} // namespace proxyd
