// keepalived's published VRRPv3 packet (its doc's checksum example): from
// 10.1.0.3 to 10.1.0.1, vrid 88, priority 198, advert_int 1 s, one address
// 10.195.76.227; checksum 0x9c19 with the IPv4 pseudo-header, 0xb09b without.
#include "vrrpd/packet.h"

#include <arpa/inet.h>
#include <array>
#include <catch2/catch.hpp>
#include <vector>

using namespace vrrpd;

namespace {
common::IpAddr ip4(const char* s) {
  common::IpAddr a;
  a.family = AF_INET;
  inet_pton(AF_INET, s, &a.v4);
  return a;
}
Advert golden() {
  Advert a;
  a.version = 3;
  a.family = AF_INET;
  a.vrid = 88;
  a.priority = 198;
  a.advertInt = std::chrono::seconds(1);
  a.addrs = {ip4("10.195.76.227")};
  return a;
}
} // namespace

TEST_CASE("keepalived's published v3 packet encodes byte for byte, pseudo-header checksum 0x9c19",
          "[packet][golden]") {
  std::array<uint8_t, 64> buf{};
  EncodeOptions o;
  o.src = ip4("10.1.0.3");
  o.dst = ip4("10.1.0.1");
  size_t n = encodeAdvert(golden(), o, buf);
  std::vector<uint8_t> want = {0x31, 0x58, 0xc6, 0x01, 0x00, 0x64, 0x9c, 0x19,
                               0x0a, 0xc3, 0x4c, 0xe3};
  REQUIRE(n == want.size());
  CHECK(std::vector<uint8_t>(buf.begin(), buf.begin() + n) == want);

  o.v3ChecksumAsV2 = true;
  n = encodeAdvert(golden(), o, buf);
  REQUIRE(n == want.size());
  CHECK(buf[6] == 0xb0);
  CHECK(buf[7] == 0x9b);
}

TEST_CASE("keepalived's published v3 packet is accepted with either checksum form",
          "[packet][golden]") {
  Expectation e;
  e.name = "VI_1";
  e.vrid = 88;
  e.version = 3;
  e.advertInt = std::chrono::seconds(1);
  e.vips = {ip4("10.195.76.227")};
  e.unicastPeers = {ip4("10.1.0.3")};
  RxMeta m;
  m.ttl = 255;
  m.src = ip4("10.1.0.3");
  m.dst = ip4("10.1.0.1");
  m.multicast = false;
  for (uint16_t ck : {uint16_t{0x9c19}, uint16_t{0xb09b}}) {
    std::vector<uint8_t> pkt = {0x31, 0x58, 0xc6, 0x01, 0x00, 0x64,
                                uint8_t(ck >> 8), uint8_t(ck & 0xff), 0x0a, 0xc3, 0x4c, 0xe3};
    auto r = decodeAdvert(pkt, m, std::span<const Expectation>(&e, 1));
    INFO("checksum " << std::hex << ck);
    REQUIRE(std::holds_alternative<Accepted>(r));
    const auto& a = std::get<Accepted>(r);
    CHECK(a.advert.priority == 198);
    CHECK(a.checksum == (ck == 0x9c19 ? ChecksumForm::PseudoHeader
                                       : ChecksumForm::WithoutPseudoHeader));
  }
}
