#pragma once
// Bounds-checked big-endian (network order) reading and writing over a span.
// Pure and header-only. Neither class ever touches a byte outside its span:
// a read past the end returns zeros, a write past the end writes nothing, and
// both set a sticky failure flag that the caller checks once at the end
// (`ok()`), so codecs read like the wire layout instead of a ladder of ifs.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace common {

class ByteReader {
public:
  explicit ByteReader(std::span<const uint8_t> data) : data_(data) {}

  uint8_t u8() {
    if (!need(1)) return 0;
    return data_[pos_++];
  }
  uint16_t u16() {
    if (!need(2)) return 0;
    const uint16_t v = static_cast<uint16_t>(data_[pos_] << 8 | data_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    const uint32_t v = uint32_t{data_[pos_]} << 24 | uint32_t{data_[pos_ + 1]} << 16 |
                       uint32_t{data_[pos_ + 2]} << 8 | uint32_t{data_[pos_ + 3]};
    pos_ += 4;
    return v;
  }
  // The next n bytes as a view (empty, and failed, when fewer remain).
  std::span<const uint8_t> bytes(size_t n) {
    if (!need(n)) return {};
    auto s = data_.subspan(pos_, n);
    pos_ += n;
    return s;
  }
  // Copies n bytes into `out` (zero-filled when fewer remain).
  void copy(void* out, size_t n) {
    if (!need(n)) {
      std::memset(out, 0, n);
      return;
    }
    std::memcpy(out, data_.data() + pos_, n);
    pos_ += n;
  }
  void skip(size_t n) {
    if (need(n)) pos_ += n;
  }

  size_t pos() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }
  bool ok() const { return ok_; }

private:
  bool need(size_t n) {
    if (!ok_ || n > data_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::span<const uint8_t> data_;
  size_t pos_ = 0;
  bool ok_ = true;
};

class ByteWriter {
public:
  explicit ByteWriter(std::span<uint8_t> out) : out_(out) {}

  void u8(uint8_t v) {
    if (need(1)) out_[pos_++] = v;
  }
  void u16(uint16_t v) {
    if (!need(2)) return;
    out_[pos_++] = static_cast<uint8_t>(v >> 8);
    out_[pos_++] = static_cast<uint8_t>(v);
  }
  void u32(uint32_t v) {
    if (!need(4)) return;
    for (int shift = 24; shift >= 0; shift -= 8)
      out_[pos_++] = static_cast<uint8_t>(v >> shift);
  }
  void bytes(const void* p, size_t n) {
    if (!need(n)) return;
    if (n != 0) std::memcpy(out_.data() + pos_, p, n);
    pos_ += n;
  }
  void bytes(std::span<const uint8_t> s) { bytes(s.data(), s.size()); }
  void zeros(size_t n) {
    if (!need(n)) return;
    std::memset(out_.data() + pos_, 0, n);
    pos_ += n;
  }
  // Overwrites two already written bytes at `at` (a checksum filled in last).
  void patchU16(size_t at, uint16_t v) {
    if (at > pos_ || pos_ - at < 2) {
      ok_ = false;
      return;
    }
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v);
  }

  size_t pos() const { return pos_; }
  bool ok() const { return ok_; }
  std::span<const uint8_t> written() const { return out_.first(pos_); }

private:
  bool need(size_t n) {
    if (!ok_ || n > out_.size() - pos_) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::span<uint8_t> out_;
  size_t pos_ = 0;
  bool ok_ = true;
};

} // namespace common
