#pragma once
// A counter that several worker threads change and read without a lock
// (relaxed atomic: each value is exact, no ordering with other memory is
// implied). Reads convert implicitly, so it reads like the plain integer it
// replaces.
#include <atomic>

namespace proxyd {

template <class T> class Counter {
public:
  Counter(T v = 0) : v_(v) {} // NOLINT: implicit on purpose
  Counter(const Counter& o) : v_(o.load()) {}
  Counter& operator=(const Counter& o) {
    store(o.load());
    return *this;
  }
  Counter& operator=(T v) {
    store(v);
    return *this;
  }
  operator T() const { return load(); } // NOLINT
  T load() const { return v_.load(std::memory_order_relaxed); }
  void store(T v) { v_.store(v, std::memory_order_relaxed); }
  T operator++() { return v_.fetch_add(1, std::memory_order_relaxed) + 1; }
  T operator--() { return v_.fetch_sub(1, std::memory_order_relaxed) - 1; }
  T operator++(int) { return v_.fetch_add(1, std::memory_order_relaxed); }
  T operator--(int) { return v_.fetch_sub(1, std::memory_order_relaxed); }
  Counter& operator+=(T d) {
    v_.fetch_add(d, std::memory_order_relaxed);
    return *this;
  }
  Counter& operator-=(T d) {
    v_.fetch_sub(d, std::memory_order_relaxed);
    return *this;
  }
  // Raises the value to `v` when it is lower (a "highest seen" figure).
  void raiseTo(T v) {
    T cur = load();
    while (cur < v && !v_.compare_exchange_weak(cur, v, std::memory_order_relaxed)) {
    }
  }

private:
  std::atomic<T> v_;
};

} // namespace proxyd
