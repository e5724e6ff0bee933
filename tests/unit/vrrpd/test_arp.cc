// Gratuitous ARP frames, byte for byte.
#include "vrrpd/arp.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <vector>

using namespace vrrpd;

TEST_CASE("a gratuitous ARP announces the VIP from our MAC to everyone", "[arp]") {
  Mac mac{0x02, 0x00, 0x5e, 0x00, 0x01, 0x33};
  in_addr vip{};
  inet_pton(AF_INET, "198.18.0.222", &vip);
  auto f = buildGarp(mac, vip);
  std::vector<uint8_t> expect = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,             // to: broadcast
      0x02, 0x00, 0x5e, 0x00, 0x01, 0x33,             // from: our MAC
      0x08, 0x06,                                     // ARP
      0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01,       // Ethernet/IPv4, request
      0x02, 0x00, 0x5e, 0x00, 0x01, 0x33,             // sender MAC
      198, 18, 0, 222,                                // sender IP = VIP
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff,             // target MAC
      198, 18, 0, 222,                                // target IP = VIP
  };
  CHECK(std::vector<uint8_t>(f.begin(), f.end()) == expect);
}
