#pragma once
// Injectable time source. Code that decides by time takes a Clock&, so tests
// drive it with ManualClock instead of sleeping.
#include <chrono>

namespace common {

using MonoTime = std::chrono::steady_clock::time_point;

class Clock {
public:
  virtual ~Clock() = default;
  virtual MonoTime now() const = 0;
  // Wall-clock time (for log lines' dates).
  virtual std::chrono::system_clock::time_point wallNow() const = 0;
};

class SystemClock : public Clock {
public:
  MonoTime now() const override { return std::chrono::steady_clock::now(); }
  std::chrono::system_clock::time_point wallNow() const override {
    return std::chrono::system_clock::now();
  }
};

class ManualClock : public Clock {
public:
  MonoTime now() const override { return now_; }
  std::chrono::system_clock::time_point wallNow() const override { return wall_; }
  template <class D> void advance(D d) {
    now_ += std::chrono::duration_cast<MonoTime::duration>(d);
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
  }

private:
  MonoTime now_{std::chrono::hours(1)};
  std::chrono::system_clock::time_point wall_{std::chrono::seconds(1700000000)};
};

} // namespace common
