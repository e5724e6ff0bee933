#include "common/loop.h"

#include <cstdlib>
#include <ctime>
#include <deque>
#include <event2/event.h>
#include <mutex>
#include <pthread.h>
#include <stdexcept>
#include <sys/eventfd.h>
#include <unistd.h>
#include <utility>
#include <vector>

// Callbacks and self-destruction: a callback may destroy the handle that
// invoked it, and any other handle, its closure included. The trampoline moves
// the closure out of the handle for the duration of the call (a std::function
// move is a pointer or trivially-copyable copy, no allocation), so the
// closure outlives the call even when the handle does not; it is moved back
// unless the handle was destroyed meanwhile. Destructors learn whether they
// run inside their own callback from a per-thread stack of dispatch records
// (one Loop per thread). libevent itself allows event_free() on an event from
// inside its callback and touches nothing of it afterwards.

namespace common {

namespace {

timeval toTimeval(std::chrono::microseconds d) {
  if (d.count() < 0) d = std::chrono::microseconds(0);
  timeval tv;
  tv.tv_sec = static_cast<time_t>(d.count() / 1000000);
  tv.tv_usec = static_cast<suseconds_t>(d.count() % 1000000);
  return tv;
}

event_base* newBase(bool precise) {
  event_config* cfg = event_config_new();
  if (cfg == nullptr) throw std::runtime_error("event_config_new failed");
  // Timers run on the monotonic clock. PRECISE_TIMER: the precise clock (not
  // CLOCK_MONOTONIC_COARSE, which lets timers fire a few ms early) and
  // sub-millisecond epoll timeouts (timerfd). NO_CACHE_TIME: a timer armed late
  // in an iteration is measured from the real "now", not the iteration start.
  // No EPOLL_USE_CHANGELIST: with it an unregistration reaches the kernel
  // only at the next epoll_wait, after the fd was closed; for a dup()ed
  // socket (a listener shared across a reload) the registration then
  // outlives the close and keeps reporting the socket under the old fd
  // number (a busy loop while that listener is paused at maxconn). Without
  // it, want(0) unregisters at once, before the close. Handing a watcher over
  // (setCallback) instead of replacing it keeps moves cheap.
  event_config_set_flag(cfg, precise ? EVENT_BASE_FLAG_PRECISE_TIMER | EVENT_BASE_FLAG_NO_CACHE_TIME
                                     : EVENT_BASE_FLAG_NO_CACHE_TIME);
  event_base* base = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (base == nullptr) throw std::runtime_error("event_base_new failed");
  return base;
}

// One record per callback being run on this thread, innermost first.
struct Dispatch {
  const void* handle;
  bool destroyed;
  Dispatch* outer;
};
thread_local Dispatch* tlsDispatch = nullptr;

// Runs the callback held in `slot` on behalf of `handle` (see the top comment).
template <class Cb, class... Args> void dispatch(const void* handle, Cb& slot, Args... args) {
  if (!slot) return; // re-entered from a nested loop run inside its own callback
  Cb cb = std::move(slot);
  Dispatch d{handle, false, tlsDispatch};
  tlsDispatch = &d;
  cb(args...);
  tlsDispatch = d.outer;
  // Not when the callback gave the handle a new callback (setCallback).
  if (!d.destroyed && !slot) slot = std::move(cb);
}

// Called by every handle's destructor.
void noteDestroyed(const void* handle) {
  for (Dispatch* d = tlsDispatch; d != nullptr; d = d->outer) {
    if (d->handle == handle) d->destroyed = true;
  }
}

} // namespace

// ---------------------------------------------------------------- FdWatcher

FdWatcher::FdWatcher(Loop& loop, int fd, Callback cb) : loop_(loop), fd_(fd), cb_(std::move(cb)) {}

FdWatcher::~FdWatcher() {
  noteDestroyed(this);
  if (evRead_ != nullptr) event_free(evRead_);
  if (evWrite_ != nullptr) event_free(evWrite_);
}

void FdWatcher::setCallback(Callback cb) {
  cb_ = std::move(cb);
}

void FdWatcher::want(unsigned events) {
  events &= (Read | Write);
  if (events == want_) return;
  unsigned old = want_;
  want_ = 0;
  // One epoll_ctl per direction that changes (a MOD while the other
  // direction stays registered).
  if ((old & Read) && !(events & Read)) set(evRead_, false, EV_READ, &FdWatcher::readTrampoline);
  if ((old & Write) && !(events & Write))
    set(evWrite_, false, EV_WRITE, &FdWatcher::writeTrampoline);
  if (!(old & Read) && (events & Read)) set(evRead_, true, EV_READ, &FdWatcher::readTrampoline);
  if (!(old & Write) && (events & Write))
    set(evWrite_, true, EV_WRITE, &FdWatcher::writeTrampoline);
  want_ = events;
}

void FdWatcher::set(event*& ev, bool on, short what, void (*tramp)(int, short, void*)) {
  if (!on) {
    if (ev != nullptr) event_del(ev);
    return;
  }
  // The event struct is reused: re-adding a non-pending event is allowed,
  // even from inside its own callback.
  if (ev == nullptr) ev = event_new(loop_.base(), fd_, what | EV_PERSIST, tramp, this);
  if (ev == nullptr || event_add(ev, nullptr) != 0)
    throw std::runtime_error("cannot watch fd " + std::to_string(fd_));
}

void FdWatcher::readTrampoline(int, short, void* arg) {
  auto* self = static_cast<FdWatcher*>(arg);
  dispatch(self, self->cb_, static_cast<unsigned>(Read));
}

void FdWatcher::writeTrampoline(int, short, void* arg) {
  auto* self = static_cast<FdWatcher*>(arg);
  dispatch(self, self->cb_, static_cast<unsigned>(Write));
}

// -------------------------------------------------------------------- Timer

Timer::Timer(Loop& loop, Callback cb) : cb_(std::move(cb)), slack_(loop.timerSlack()) {
  ev_ = evtimer_new(loop.base(), &Timer::trampoline, this);
  if (ev_ == nullptr) throw std::runtime_error("evtimer_new failed");
}

Timer::~Timer() {
  noteDestroyed(this);
  if (ev_ != nullptr) event_free(ev_);
}

void Timer::armMicros(std::chrono::microseconds d) {
  if (d.count() > 0) d += slack_;
  timeval tv = toTimeval(d);
  event_add(ev_, &tv); // re-adding a pending timer replaces its deadline
}

void Timer::cancel() {
  event_del(ev_);
}

bool Timer::armed() const {
  return evtimer_pending(ev_, nullptr) != 0;
}

void Timer::trampoline(int, short, void* arg) {
  auto* self = static_cast<Timer*>(arg);
  dispatch(self, self->cb_);
}

// ------------------------------------------------------------ SignalWatcher

SignalWatcher::SignalWatcher(Loop& loop, int signo, Callback cb) : cb_(std::move(cb)) {
  ev_ = evsignal_new(loop.base(), signo, &SignalWatcher::trampoline, this);
  if (ev_ == nullptr || event_add(ev_, nullptr) != 0) {
    if (ev_ != nullptr) event_free(ev_);
    throw std::runtime_error("cannot watch signal " + std::to_string(signo));
  }
}

SignalWatcher::~SignalWatcher() {
  noteDestroyed(this);
  if (ev_ != nullptr) event_free(ev_);
}

void SignalWatcher::trampoline(int signo, short, void* arg) {
  auto* self = static_cast<SignalWatcher*>(arg);
  dispatch(self, self->cb_, signo);
}

// --------------------------------------------------------------- SignalHold

SignalHold::SignalHold(std::initializer_list<int> signals) {
  sigemptyset(&set_);
  for (int s : signals)
    sigaddset(&set_, s);
  held_ = pthread_sigmask(SIG_BLOCK, &set_, nullptr) == 0;
}

void SignalHold::release() {
  if (!held_) return;
  held_ = false;
  pthread_sigmask(SIG_UNBLOCK, &set_, nullptr);
}

// --------------------------------------------------------------------- Loop

// The deferred queue: an internal event that is activated while the queue is
// non-empty, so it runs right after the current callback. Draining takes the
// queue as it is; functions deferred while draining run in the next iteration
// (the event gets a zero timeout), after those queued before them, so a
// function that keeps re-deferring itself cannot starve I/O.
struct Loop::Deferred {
  event* ev = nullptr;
  std::deque<std::function<void()>> queue;
  bool scheduled = false;
  bool draining = false;
};

// Functions posted from other threads: a locked queue and an eventfd that
// wakes the loop (registered by acceptPosts() only, so a loop that takes no
// posts still ends when nothing is left to wait for).
struct Loop::Posted {
  int fd = -1;
  event* ev = nullptr;
  std::mutex mu;
  std::vector<std::function<void()>> queue;
};

namespace {
std::chrono::microseconds coarseResolution() {
  timespec ts{};
  if (clock_getres(CLOCK_MONOTONIC_COARSE, &ts) != 0) return std::chrono::milliseconds(10);
  auto ns = std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
  // Plus a millisecond: epoll's timeout is in whole milliseconds.
  return std::chrono::duration_cast<std::chrono::microseconds>(ns) + std::chrono::milliseconds(1);
}
} // namespace

Loop::Loop(const Clock& clock, Timing timing)
    : clock_(clock),
      slack_(timing == Timing::Coarse ? coarseResolution() : std::chrono::microseconds(0)),
      base_(newBase(timing == Timing::Precise)), deferred_(new Deferred), posted_(new Posted) {
  deferred_->ev = event_new(base_, -1, 0, &Loop::deferTrampoline, this);
  posted_->fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (posted_->fd >= 0)
    posted_->ev = event_new(base_, posted_->fd, EV_READ | EV_PERSIST, &Loop::postTrampoline, this);
  if (deferred_->ev == nullptr || posted_->ev == nullptr) {
    if (deferred_->ev) event_free(deferred_->ev);
    if (posted_->fd >= 0) ::close(posted_->fd);
    event_base_free(base_);
    throw std::runtime_error("event_new failed");
  }
}

void Loop::acceptPosts() {
  event_add(posted_->ev, nullptr);
}

Loop::~Loop() {
  event_free(deferred_->ev);
  deferred_->queue.clear();
  event_free(posted_->ev);
  ::close(posted_->fd);
  posted_->queue.clear();
  event_base_free(base_);
}

void Loop::post(std::function<void()> fn) {
  bool wake;
  {
    std::lock_guard<std::mutex> g(posted_->mu);
    wake = posted_->queue.empty();
    posted_->queue.push_back(std::move(fn));
  }
  if (wake) {
    uint64_t one = 1;
    (void)!::write(posted_->fd, &one, sizeof one);
  }
}

void Loop::postTrampoline(int fd, short, void* arg) {
  Posted& p = *static_cast<Loop*>(arg)->posted_;
  uint64_t n;
  (void)!::read(fd, &n, sizeof n);
  std::vector<std::function<void()>> batch;
  {
    std::lock_guard<std::mutex> g(p.mu);
    batch.swap(p.queue);
  }
  for (auto& fn : batch)
    fn();
}

void Loop::run() {
  event_base_loop(base_, 0);
}

void Loop::runOnce(bool block) {
  event_base_loop(base_, block ? EVLOOP_ONCE : EVLOOP_NONBLOCK);
}

void Loop::stop() {
  event_base_loopbreak(base_);
}

void Loop::defer(std::function<void()> fn) {
  Deferred& d = *deferred_;
  d.queue.push_back(std::move(fn));
  if (d.scheduled || d.draining) return;
  d.scheduled = true;
  event_active(d.ev, EV_TIMEOUT, 0);
}

void Loop::deferTrampoline(int, short, void* arg) {
  Deferred& d = *static_cast<Loop*>(arg)->deferred_;
  d.scheduled = false;
  d.draining = true;
  std::deque<std::function<void()>> batch;
  batch.swap(d.queue);
  // The Loop outlives every callback it runs (handles must not outlive it),
  // so `d` stays valid while the batch drains.
  while (!batch.empty()) {
    std::function<void()> fn = std::move(batch.front());
    batch.pop_front();
    fn();
  }
  d.draining = false;
  if (!d.queue.empty()) {
    d.scheduled = true;
    timeval zero{0, 0};
    event_add(d.ev, &zero);
  }
}

const Clock& Loop::defaultClock() {
  static const SystemClock clock;
  return clock;
}

} // namespace common
