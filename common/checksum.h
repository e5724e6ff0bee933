#pragma once
// The internet checksum (RFC 1071): the one's complement of the one's
// complement sum of the data read as big-endian 16-bit words, an odd final
// byte padded with a zero. Pure.
//
// Values are host-order numbers to be written big-endian (ByteWriter::u16):
// a checksum 0x1234 goes on the wire as 12 34. A message whose checksum field
// holds the right value sums, checksum included, to a result of 0
// (`verify`), which is how receivers check it.
#include <cstddef>
#include <cstdint>
#include <netinet/in.h>
#include <span>

namespace common {

// An accumulating sum: feed spans one after the other (a pseudo-header, then
// the message), in as many pieces as convenient; an odd-length piece is
// continued correctly by the next one, as if all were one buffer.
class InetChecksum {
public:
  InetChecksum& add(std::span<const uint8_t> data);
  InetChecksum& addU16(uint16_t v); // one big-endian word (must be at an even offset)
  InetChecksum& addU32(uint32_t v); // two words

  // The folded 16-bit one's complement sum (not complemented).
  uint16_t sum() const;
  // The checksum to write into a message whose checksum field was zero while
  // summed: ~sum(). A result of 0 is returned as 0 (not 0xffff).
  uint16_t checksum() const { return static_cast<uint16_t>(~sum()); }
  // True when the data summed, its checksum field included, is consistent.
  bool verify() const { return sum() == 0xffff; }

private:
  uint64_t acc_ = 0;
  bool odd_ = false; // an odd number of bytes so far: the next byte is a low byte
};

// Convenience: the checksum of one buffer (its checksum field zeroed).
uint16_t inetChecksum(std::span<const uint8_t> data);

// The pseudo-headers of RFC 768/2460 added to `c` (length is the upper-layer
// message length; for IPv6 the 32-bit form of RFC 8200 section 8.1).
void addIpv4PseudoHeader(InetChecksum& c, in_addr src, in_addr dst, uint8_t proto, uint16_t len);
void addIpv6PseudoHeader(InetChecksum& c, const in6_addr& src, const in6_addr& dst,
                         uint8_t nextHeader, uint32_t len);

// RFC 1624 eqn. 3: the checksum after one 16-bit word of the message changed
// from `oldWord` to `newWord` (HC' = ~(~HC + ~m + m')), without re-summing.
uint16_t checksumAdjust(uint16_t oldChecksum, uint16_t oldWord, uint16_t newWord);

} // namespace common
