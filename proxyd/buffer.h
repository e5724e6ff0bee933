#pragma once
// A fixed-capacity byte buffer for one direction of a stream, and a pool so
// an idle stream holds no buffer at all (a buffer is taken when bytes arrive
// and returned as soon as it is drained).
#include <cstddef>
#include <memory>
#include <vector>

namespace proxyd {

class Buffer {
public:
  explicit Buffer(size_t capacity) : data_(new char[capacity]), cap_(capacity) {}
  char* readPtr() { return data_.get() + head_; }
  size_t readable() const { return tail_ - head_; }
  char* writePtr() { return data_.get() + tail_; }
  size_t writable() const { return cap_ - tail_; }
  void produced(size_t n) { tail_ += n; }
  void consumed(size_t n) {
    head_ += n;
    if (head_ == tail_) head_ = tail_ = 0;
  }
  bool empty() const { return head_ == tail_; }
  void clear() { head_ = tail_ = 0; }

private:
  std::unique_ptr<char[]> data_;
  size_t cap_;
  size_t head_ = 0;
  size_t tail_ = 0;
};
using BufferPtr = std::unique_ptr<Buffer>;

class BufferPool {
public:
  explicit BufferPool(size_t capacity, size_t keep = 256) : cap_(capacity), keep_(keep) {}
  BufferPtr take() {
    if (free_.empty()) return std::make_unique<Buffer>(cap_);
    BufferPtr b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void give(BufferPtr b) {
    if (!b) return;
    b->clear();
    if (free_.size() < keep_) free_.push_back(std::move(b));
  }
  size_t capacity() const { return cap_; }

private:
  size_t cap_;
  size_t keep_;
  std::vector<BufferPtr> free_;
};

} // namespace proxyd
