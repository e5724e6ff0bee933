#include "common/checksum.h"

namespace common {

namespace {

uint16_t fold(uint64_t acc) {
  while (acc >> 16)
    acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<uint16_t>(acc);
}

} // namespace

InetChecksum& InetChecksum::add(std::span<const uint8_t> data) {
  size_t i = 0;
  if (odd_ && !data.empty()) {
    acc_ += data[0]; // the low byte of the word started by the previous piece
    odd_ = false;
    i = 1;
  }
  for (; i + 1 < data.size(); i += 2)
    acc_ += uint32_t{data[i]} << 8 | data[i + 1];
  if (i < data.size()) {
    acc_ += uint32_t{data[i]} << 8;
    odd_ = true;
  }
  // 2^48 bytes before the 64-bit accumulator could overflow: fold anyway once
  // it grows, so any sequence of calls stays exact.
  if (acc_ >> 40) acc_ = fold(acc_);
  return *this;
}

InetChecksum& InetChecksum::addU16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)};
  return add(b);
}

InetChecksum& InetChecksum::addU32(uint32_t v) {
  addU16(static_cast<uint16_t>(v >> 16));
  return addU16(static_cast<uint16_t>(v));
}

uint16_t InetChecksum::sum() const {
  return fold(acc_);
}

uint16_t inetChecksum(std::span<const uint8_t> data) {
  return InetChecksum().add(data).checksum();
}

void addIpv4PseudoHeader(InetChecksum& c, in_addr src, in_addr dst, uint8_t proto, uint16_t len) {
  // Addresses are stored in network order: their bytes are the wire bytes.
  c.add({reinterpret_cast<const uint8_t*>(&src.s_addr), 4});
  c.add({reinterpret_cast<const uint8_t*>(&dst.s_addr), 4});
  c.addU16(proto); // zero byte, protocol
  c.addU16(len);
}

void addIpv6PseudoHeader(InetChecksum& c, const in6_addr& src, const in6_addr& dst,
                         uint8_t nextHeader, uint32_t len) {
  c.add({src.s6_addr, 16});
  c.add({dst.s6_addr, 16});
  c.addU32(len);
  c.addU32(nextHeader); // three zero bytes, next header
}

uint16_t checksumAdjust(uint16_t oldChecksum, uint16_t oldWord, uint16_t newWord) {
  const uint64_t acc =
      uint64_t{static_cast<uint16_t>(~oldChecksum)} + static_cast<uint16_t>(~oldWord) + newWord;
  return static_cast<uint16_t>(~fold(acc));
}

} // namespace common
