#pragma once
// Worker: one thread of a Daemon (global `nbthread`, HAProxy's threads). Each
// worker has its own event loop, buffer pool, idle server connections and
// streams, and its own listening socket per bind (a dup of the bound one:
// the kernel gives each accepted connection to one of them). Worker 0 runs
// on the daemon's loop (the main thread: signals, health checks, the admin
// sockets, reloads); the others run their loop on their own thread.
//
// Everything a stream owns is touched only by its worker's thread. What the
// workers share (the backends' servers, balancers and queues; the frontends'
// and the daemon's counters) is guarded by the daemon's lock (Daemon::lock)
// or is an atomic counter. Work for another worker (a queue turn for one of
// its streams, pausing its listeners, killing its streams) is posted to its
// loop.
#include "common/loop.h"
#include "proxyd/buffer.h"
#include "proxyd/server_pool.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <thread>
#include <unordered_map>

namespace proxyd {

class Daemon;
class Stream;

class Worker {
public:
  // Worker 0 runs on `mainLoop`; any other creates its own loop (its thread
  // starts with startThread()).
  Worker(Daemon& d, int id, common::Loop* mainLoop);
  ~Worker(); // stops and joins the thread, then destroys the streams
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  int id() const { return id_; }
  Daemon& daemon() { return d_; }
  common::Loop& loop() { return *loop_; }
  // tune.bufsize (16 KiB) buffers: TCP streams, HTTP requests.
  BufferPool& buffers() { return buffers_; }
  // HTTP responses: 64 KiB, so a large body crosses in a quarter of the
  // reads and writes (head limits stay tune.bufsize: the parser's).
  BufferPool& responseBuffers() { return responseBuffers_; }
  ServerPool& serverPool() { return *serverPool_; }

  // True on the thread that runs this worker's loop.
  bool onThisThread() const;
  // Runs `fn` on this worker's thread (from any thread). Dropped if the
  // worker is gone by then.
  void post(std::function<void()> fn);
  // Runs `fn` on this worker's thread and waits for it (at once when called
  // on that thread). Never call it while holding the daemon's lock.
  void runSync(const std::function<void()>& fn);

  void startThread();
  // Stops the loop and joins the thread (no-op for worker 0).
  void stopThread();

  // Streams of this worker. remove() destroys the stream after the current
  // callback; alive() tells whether a posted job's stream still exists.
  Stream* add(std::unique_ptr<Stream> s);
  void remove(Stream* s);
  bool alive(const Stream* s, uint64_t serial) const;
  template <class F> void forEachStream(F&& f) {
    for (auto& [p, s] : streams_) f(p);
  }
  void clearStreams();
  // Streams assigned to this worker (including connections handed over and
  // not started yet); read by other threads to spread new connections.
  int load() const { return load_.load(std::memory_order_relaxed); }
  void assigned() { load_.fetch_add(1, std::memory_order_relaxed); }

private:
  Daemon& d_;
  int id_;
  std::unique_ptr<common::Loop> ownLoop_;
  common::Loop* loop_;
  BufferPool buffers_;
  BufferPool responseBuffers_;
  std::unique_ptr<ServerPool> serverPool_;
  std::unordered_map<Stream*, std::unique_ptr<Stream>> streams_;
  uint64_t nextSerial_ = 1;
  std::atomic<int> load_ = 0;
  std::thread thread_;
  std::thread::id threadId_;
  // Jobs posted to the main loop outlive a reloaded daemon: they check this.
  std::shared_ptr<char> life_ = std::make_shared<char>(0);
};

} // namespace proxyd
