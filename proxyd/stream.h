#pragma once
// Stream: what the Daemon and a backend's queue know of one client
// connection, whatever its mode. TcpStream (here) forwards bytes; HttpStream
// (http_stream.h) carries HTTP transactions.
//
// TcpStream: one proxied TCP connection: client socket, the server connection it is
// forwarded to, one buffer each way (taken from the pool only while bytes are
// in flight), and a single timer for whichever phase it is in (queue, connect,
// retry turn-around, idle). Half-closes are passed on: EOF from one side
// becomes shutdown(SHUT_WR) on the other once its buffer is drained.
#include "common/loop.h"
#include "common/values.h"
#include "proxyd/buffer.h"

#include <chrono>
#include <cstdint>
#include <optional>

namespace proxyd {

class Daemon;
class FrontendRt;
class BackendRt;
class Worker;

// Why a stream ended, mapped to HAProxy's two-letter termination state.
enum class TermCause {
  Normal,            // "--"
  ClientTimeout,     // "cD"
  ServerTimeout,     // "sD"
  ClientError,       // "CD" (reset or error from the client while forwarding)
  ServerError,       // "SD"
  ClientAbortQueue,  // "CQ"
  ClientAbortConnect, // "CC"
  QueueTimeout,      // "sQ"
  QueueFull,         // "sQ"
  ConnectFailed,     // "SC" (refused or reset on every retry)
  ConnectTimeout,    // "sC"
  NoServer,          // "SC" with <NOSRV>
  Killed,            // "KD" / "KQ" (shutdown)
};

class Stream {
public:
  virtual ~Stream() = default;
  // Called once, right after construction and registration; may finish the
  // stream (Daemon::streamClosed) at once.
  virtual void start() = 0;
  // The backend queue gives this stream a turn (a server slot freed, or no
  // server is left: the stream then fails).
  virtual void onQueueTurn() = 0;
  // True while the stream holds a connection to server `server` of `be`
  // (`shutdown sessions server`).
  virtual bool usesServer(const BackendRt& be, size_t server) const = 0;
  // Ends the stream at once, logged as killed by an admin ("K" first).
  virtual void kill() = 0;

  // Set by Worker::add: the worker (thread) that runs this stream, and a
  // number that tells this stream from a later one at the same address.
  Worker* home = nullptr;
  uint64_t serial = 0;
};

class TcpStream final : public Stream {
public:
  TcpStream(Daemon& d, Worker& w, FrontendRt& fe, int clientFd, const common::SockAddr& peer);
  ~TcpStream() override;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  void start() override;
  void onQueueTurn() override;
  bool usesServer(const BackendRt& be, size_t server) const override;
  void kill() override;

private:
  enum class Phase { Queued, Connecting, RetryWait, Forwarding, Closed };

  void assign(std::optional<size_t> avoid);
  void takeSlot(size_t server);
  void connectTo(size_t server);
  void onConnectResult(int err, bool timedOut);
  void retryOrFail(bool timedOut);
  void onClientEvent(unsigned ready);
  void onServerEvent(unsigned ready);
  // Moves bytes from `from` to `to` through `buf`; returns false when the
  // stream was finished because of an error.
  bool pump(int from, int to, BufferPtr& buf, bool& fromEof, bool& shutDone, bool c2s);
  void updateInterest();
  void armIdle();
  void onTimer();
  void releaseServer();
  void finish(TermCause cause);

  Daemon& d_;
  Worker& w_;
  FrontendRt& fe_;
  BackendRt* be_ = nullptr;
  int cfd_;
  int sfd_ = -1;
  common::SockAddr peer_;
  common::FdWatcherPtr cw_;
  common::FdWatcherPtr sw_;
  common::TimerPtr timer_;
  BufferPtr c2s_;
  BufferPtr s2c_;
  bool clientEof_ = false;
  bool serverEof_ = false;
  bool serverShut_ = false; // SHUT_WR sent to server
  bool clientShut_ = false; // SHUT_WR sent to client
  Phase phase_ = Phase::Closed;
  std::optional<size_t> server_;
  bool counted_ = false; // holds a server slot
  int retriesLeft_ = 0;
  int retries_ = 0;
  bool redispatched_ = false;
  uint64_t bytesIn_ = 0;  // client -> server
  uint64_t bytesOut_ = 0; // server -> client
  std::chrono::steady_clock::time_point acceptMono_;
  std::chrono::system_clock::time_point acceptWall_;
  std::chrono::steady_clock::time_point queuedAt_{};
  std::chrono::steady_clock::time_point connectAt_{};
  std::chrono::steady_clock::time_point lastClient_{};
  std::chrono::steady_clock::time_point lastServer_{};
  long tw_ = -1, tc_ = -1;
  int queuePosSrv_ = 0, queuePosBe_ = 0;
};

} // namespace proxyd
