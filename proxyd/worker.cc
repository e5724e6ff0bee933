#include "proxyd/worker.h"

#include "proxyd/stream.h"

#include <csignal>
#include <future>
#include <pthread.h>

namespace proxyd {

Worker::Worker(Daemon& d, int id, common::Loop* mainLoop)
    : d_(d), id_(id), ownLoop_(id == 0 ? nullptr
                        : std::make_unique<common::Loop>(common::Loop::defaultClock(),
                                                         common::Loop::Timing::Coarse)),
      loop_(id == 0 ? mainLoop : ownLoop_.get()), buffers_(16384), responseBuffers_(65536, 64),
      serverPool_(std::make_unique<ServerPool>(*loop_)), threadId_(std::this_thread::get_id()) {
  loop_->acceptPosts();
}

Worker::~Worker() {
  stopThread();
  life_.reset();
  clearStreams();
  serverPool_.reset();
}

bool Worker::onThisThread() const { return std::this_thread::get_id() == threadId_; }

void Worker::post(std::function<void()> fn) {
  loop_->post([life = std::weak_ptr<char>(life_), fn = std::move(fn)] {
    if (life.lock()) fn();
  });
}

void Worker::runSync(const std::function<void()>& fn) {
  if (onThisThread() || !thread_.joinable()) {
    fn();
    return;
  }
  std::promise<void> done;
  auto f = done.get_future();
  post([&] {
    fn();
    done.set_value();
  });
  f.wait();
}

void Worker::startThread() {
  if (id_ == 0 || thread_.joinable()) return;
  // Signals stay with the main thread (its loop handles them).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  // The loop starts once threadId_ is set (onThisThread() reads it there).
  std::promise<void> go;
  auto ready = go.get_future().share();
  thread_ = std::thread([this, ready] {
    ready.wait();
    loop_->run();
  });
  threadId_ = thread_.get_id();
  go.set_value();
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  std::string name = "proxyd/" + std::to_string(id_);
  pthread_setname_np(thread_.native_handle(), name.c_str());
}

void Worker::stopThread() {
  if (!thread_.joinable()) return;
  common::Loop* l = loop_;
  l->post([l] { l->stop(); });
  thread_.join();
  threadId_ = std::this_thread::get_id(); // the loop is ours again (teardown)
}

Stream* Worker::add(std::unique_ptr<Stream> s) {
  Stream* raw = s.get();
  raw->home = this;
  raw->serial = nextSerial_++;
  streams_.emplace(raw, std::move(s));
  return raw;
}

void Worker::remove(Stream* s) {
  // Destroy after the current callback unwinds: the stream's own watchers
  // may be the ones running.
  load_.fetch_sub(1, std::memory_order_relaxed);
  loop_->defer([this, s, life = std::weak_ptr<char>(life_)] {
    if (life.lock()) streams_.erase(s);
  });
}

bool Worker::alive(const Stream* s, uint64_t serial) const {
  auto it = streams_.find(const_cast<Stream*>(s));
  return it != streams_.end() && it->second->serial == serial;
}

void Worker::clearStreams() {
  // A stream's destructor may end others (queue turns): take them one by one.
  while (!streams_.empty()) {
    auto node = streams_.extract(streams_.begin());
    node.mapped().reset();
  }
}

} // namespace proxyd
