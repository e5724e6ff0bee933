// The internet checksum: RFC 1071 examples, pieces, pseudo-headers, RFC 1624;
// and the bounds-checked ByteReader/ByteWriter (common/bytes.h).
#include "common/bytes.h"
#include "common/checksum.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cstdint>
#include <random>
#include <vector>

using common::InetChecksum;

namespace {

// The plain definition, word by word, to check the real one against.
uint16_t naive(const std::vector<uint8_t>& d) {
  uint32_t sum = 0;
  for (size_t i = 0; i < d.size(); i += 2) {
    uint32_t w = uint32_t{d[i]} << 8;
    if (i + 1 < d.size()) w |= d[i + 1];
    sum += w;
    sum = (sum & 0xffff) + (sum >> 16);
  }
  return static_cast<uint16_t>(~sum);
}

in_addr v4(const char* s) {
  in_addr a{};
  inet_pton(AF_INET, s, &a);
  return a;
}

} // namespace

TEST_CASE("checksum of the RFC 1071 example bytes", "[checksum]") {
  // RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
  const std::vector<uint8_t> d = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  InetChecksum c;
  c.add(d);
  CHECK(c.sum() == 0xddf2);
  CHECK(c.checksum() == 0x220d);
  CHECK(common::inetChecksum(d) == 0x220d);
}

TEST_CASE("checksum of a known IPv4 header", "[checksum]") {
  // 45 00 00 73 00 00 40 00 40 11 [b8 61] c0 a8 00 01 c0 a8 00 c7
  std::vector<uint8_t> h = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                            0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
  CHECK(common::inetChecksum(h) == 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  CHECK(InetChecksum().add(h).verify());
  h[19] ^= 1;
  CHECK_FALSE(InetChecksum().add(h).verify());
}

TEST_CASE("an odd final byte is padded with zero", "[checksum]") {
  CHECK(common::inetChecksum(std::vector<uint8_t>{0x01}) == 0xfeff);
  CHECK(common::inetChecksum(std::vector<uint8_t>{0x12, 0x34, 0x56}) == naive({0x12, 0x34, 0x56}));
  CHECK(common::inetChecksum(std::vector<uint8_t>{}) == 0xffff);
}

TEST_CASE("summing in pieces equals summing at once, wherever the cuts fall", "[checksum]") {
  std::mt19937 rng(1071);
  for (int round = 0; round < 200; ++round) {
    std::vector<uint8_t> d(rng() % 80);
    for (auto& b : d)
      b = static_cast<uint8_t>(rng());
    const uint16_t whole = naive(d);
    REQUIRE(common::inetChecksum(d) == whole);
    // Three pieces, cut at random points (odd cuts included).
    size_t a = d.empty() ? 0 : rng() % (d.size() + 1);
    size_t b = d.empty() ? 0 : rng() % (d.size() + 1);
    if (a > b) std::swap(a, b);
    const std::span<const uint8_t> s(d);
    InetChecksum c;
    c.add(s.subspan(0, a)).add(s.subspan(a, b - a)).add(s.subspan(b));
    CHECK(c.checksum() == whole);
  }
}

TEST_CASE("a message carrying its checksum verifies", "[checksum]") {
  std::mt19937 rng(7);
  for (int round = 0; round < 100; ++round) {
    std::vector<uint8_t> d(2 + 2 * (rng() % 30));
    for (auto& b : d)
      b = static_cast<uint8_t>(rng());
    d[0] = d[1] = 0;
    const uint16_t c = common::inetChecksum(d);
    d[0] = static_cast<uint8_t>(c >> 8);
    d[1] = static_cast<uint8_t>(c);
    CHECK(InetChecksum().add(d).verify());
  }
}

TEST_CASE("the IPv4 pseudo-header is src, dst, zero, protocol, length", "[checksum]") {
  InetChecksum c;
  common::addIpv4PseudoHeader(c, v4("198.18.10.1"), v4("224.0.0.18"), 112, 20);
  const std::vector<uint8_t> manual = {198, 18, 10, 1, 224, 0, 0, 18, 0, 112, 0, 20};
  CHECK(c.checksum() == common::inetChecksum(manual));
}

TEST_CASE("the IPv6 pseudo-header is src, dst, 32-bit length, next header", "[checksum]") {
  in6_addr s{}, d{};
  inet_pton(AF_INET6, "fe80::1", &s);
  inet_pton(AF_INET6, "ff02::12", &d);
  InetChecksum c;
  common::addIpv6PseudoHeader(c, s, d, 112, 24);
  std::vector<uint8_t> manual(s.s6_addr, s.s6_addr + 16);
  manual.insert(manual.end(), d.s6_addr, d.s6_addr + 16);
  for (uint8_t b : {0, 0, 0, 24, 0, 0, 0, 112})
    manual.push_back(b);
  CHECK(c.checksum() == common::inetChecksum(manual));
}

TEST_CASE("RFC 1624 adjustment equals recomputing after a word changes", "[checksum]") {
  std::mt19937 rng(1624);
  for (int round = 0; round < 500; ++round) {
    std::vector<uint8_t> d(2 * (1 + rng() % 20));
    for (auto& b : d)
      b = static_cast<uint8_t>(rng());
    const uint16_t before = common::inetChecksum(d);
    const size_t at = 2 * (rng() % (d.size() / 2));
    const uint16_t oldWord = static_cast<uint16_t>(d[at] << 8 | d[at + 1]);
    const uint16_t newWord = static_cast<uint16_t>(rng());
    d[at] = static_cast<uint8_t>(newWord >> 8);
    d[at + 1] = static_cast<uint8_t>(newWord);
    const uint16_t after = common::inetChecksum(d);
    const uint16_t adjusted = common::checksumAdjust(before, oldWord, newWord);
    // One's complement has two zeros; both verify the same way.
    CHECK((adjusted == after || (adjusted ^ after) == 0xffff));
  }
}

// common/bytes.h, which the codecs use with the checksum.

TEST_CASE("ByteReader reads big-endian and stops at the end of its span", "[bytes]") {
  const std::vector<uint8_t> d = {0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde};
  common::ByteReader r(d);
  CHECK(r.u8() == 0x12);
  CHECK(r.u16() == 0x3456);
  CHECK(r.u32() == 0x789abcde);
  CHECK(r.ok());
  CHECK(r.remaining() == 0);
  CHECK(r.u8() == 0); // past the end: zero, and failed from now on
  CHECK_FALSE(r.ok());

  common::ByteReader s(std::span<const uint8_t>(d).first(3));
  CHECK(s.u32() == 0); // needs 4, has 3: nothing consumed
  CHECK(s.pos() == 0);
  CHECK_FALSE(s.ok());
  CHECK(s.u8() == 0); // sticky

  common::ByteReader t(d);
  CHECK(t.bytes(8).empty());
  CHECK_FALSE(t.ok());
  uint8_t out[4] = {1, 1, 1, 1};
  common::ByteReader u(std::span<const uint8_t>(d).first(2));
  u.copy(out, 4);
  CHECK(out[0] == 0);
  CHECK(out[3] == 0);
  CHECK_FALSE(u.ok());
}

TEST_CASE("ByteWriter writes big-endian and never past its span", "[bytes]") {
  std::vector<uint8_t> buf(8, 0xee);
  common::ByteWriter w(std::span<uint8_t>(buf).first(7));
  w.u8(0x01);
  w.u16(0x0203);
  w.u32(0x04050607);
  CHECK(w.ok());
  CHECK(w.pos() == 7);
  w.u8(0x08); // no room
  CHECK_FALSE(w.ok());
  CHECK(buf == std::vector<uint8_t>{1, 2, 3, 4, 5, 6, 7, 0xee});

  std::vector<uint8_t> b2(4);
  common::ByteWriter p(b2);
  p.zeros(2);
  p.u16(0xffff);
  p.patchU16(0, 0xabcd);
  CHECK(p.ok());
  CHECK(b2 == std::vector<uint8_t>{0xab, 0xcd, 0xff, 0xff});
  p.patchU16(3, 0); // would write past what was written
  CHECK_FALSE(p.ok());
  CHECK(b2[3] == 0xff);
}
