#pragma once
// A small RAII wrapper over libevent 2.1. One Loop per thread. Every handle
// unregisters itself in its destructor, so an object that owns its handles
// can never be called back after it is gone. Callbacks may destroy the handle
// that invoked them (and its owner).
#include "common/clock.h"

#include <chrono>
#include <csignal>
#include <functional>
#include <initializer_list>
#include <memory>

struct event_base;
struct event;

namespace common {

class Loop;

// Watches a file descriptor (not owned) for readability/writability.
class FdWatcher {
public:
  enum : unsigned { Read = 1, Write = 2 };
  using Callback = std::function<void(unsigned ready)>; // Read|Write bits
  FdWatcher(Loop& loop, int fd, Callback cb);
  ~FdWatcher();
  FdWatcher(const FdWatcher&) = delete;
  FdWatcher& operator=(const FdWatcher&) = delete;
  // Sets the interest set (0 = none). Persistent until changed. Takes effect
  // at once (epoll_ctl), so a watcher set to 0 may have its fd closed.
  void want(unsigned events);
  // Replaces the callback (also from inside the running one): a watcher
  // can be handed to a new owner without unregistering its fd.
  void setCallback(Callback cb);
  unsigned wanted() const { return want_; }
  int fd() const { return fd_; }

private:
  // One libevent event per direction: switching one direction on or off
  // leaves the other registered, so the kernel sees one EPOLL_CTL_MOD
  // instead of a DEL and an ADD. When both are ready the callback runs once
  // per direction.
  static void readTrampoline(int fd, short what, void* arg);
  static void writeTrampoline(int fd, short what, void* arg);
  void set(event*& ev, bool on, short what, void (*tramp)(int, short, void*));
  Loop& loop_;
  int fd_;
  Callback cb_;
  event* evRead_ = nullptr;
  event* evWrite_ = nullptr;
  unsigned want_ = 0;
};
using FdWatcherPtr = std::unique_ptr<FdWatcher>;

// A one-shot timer; arm() again to re-arm (re-arming replaces the deadline).
class Timer {
public:
  using Callback = std::function<void()>;
  Timer(Loop& loop, Callback cb);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  template <class Rep, class Period> void arm(std::chrono::duration<Rep, Period> d) {
    armMicros(std::chrono::duration_cast<std::chrono::microseconds>(d));
  }
  void cancel();
  bool armed() const;

private:
  void armMicros(std::chrono::microseconds d);
  static void trampoline(int, short, void* arg);
  Callback cb_;
  event* ev_ = nullptr;
  std::chrono::microseconds slack_{0};
};
using TimerPtr = std::unique_ptr<Timer>;

// A signal handler run on the loop (not in signal context).
class SignalWatcher {
public:
  using Callback = std::function<void(int signo)>;
  SignalWatcher(Loop& loop, int signo, Callback cb);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

private:
  static void trampoline(int signo, short, void* arg);
  Callback cb_;
  event* ev_ = nullptr;
};
using SignalWatcherPtr = std::unique_ptr<SignalWatcher>;

// Holds signals back (blocked in the calling thread, and so in the threads
// it creates) from construction until release(): a signal that arrives
// before its SignalWatcher exists stays pending instead of taking its
// default action (SIGUSR2 or SIGHUP would kill a daemon whose port already
// listens). Create it before anything is visible to the outside, release it
// once the watchers are in place; pending signals are then handled on the
// loop. The destructor releases too.
class SignalHold {
public:
  explicit SignalHold(std::initializer_list<int> signals);
  ~SignalHold() { release(); }
  SignalHold(const SignalHold&) = delete;
  SignalHold& operator=(const SignalHold&) = delete;
  void release();

private:
  sigset_t set_{};
  bool held_ = false;
};

class Loop {
public:
  // Precise: timers on CLOCK_MONOTONIC, sub-millisecond (a timerfd, re-armed
  // at every loop turn: one more system call per turn). Coarse: timers on
  // CLOCK_MONOTONIC_COARSE and epoll's millisecond timeout, no timerfd;
  // every positive delay is lengthened by the coarse clock's resolution
  // (a few ms), so a timer never fires early, only up to that much late.
  // Right for a proxy's timeouts (HAProxy's are milliseconds), not for VRRP.
  enum class Timing { Precise, Coarse };
  explicit Loop(const Clock& clock = defaultClock(), Timing timing = Timing::Precise);
  // What a Coarse loop adds to every positive timer delay (0 if Precise).
  std::chrono::microseconds timerSlack() const { return slack_; }
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // Runs until stop() or until nothing is left to wait for.
  void run();
  // Runs one iteration (blocking until at least one event when `block`).
  void runOnce(bool block = true);
  void stop();
  // Calls `fn` on the loop after the current callback returns.
  void defer(std::function<void()> fn);
  // Calls `fn` on the loop's own thread; the only member that may be called
  // from another thread (it wakes the loop through an eventfd). Functions
  // posted from one thread run in the order they were posted, once the
  // loop's own thread has called acceptPosts().
  void post(std::function<void()> fn);
  // Starts watching for posted functions. From then on run() returns only
  // on stop(), never because nothing else is left to wait for.
  void acceptPosts();

  const Clock& clock() const { return clock_; }
  event_base* base() { return base_; }
  static const Clock& defaultClock();

private:
  static void deferTrampoline(int, short, void* arg);
  static void postTrampoline(int, short, void* arg);
  const Clock& clock_;
  std::chrono::microseconds slack_{0};
  event_base* base_ = nullptr;
  struct Deferred;
  std::unique_ptr<Deferred> deferred_;
  struct Posted;
  std::unique_ptr<Posted> posted_;
};

} // namespace common
