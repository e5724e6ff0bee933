#include "vrrpd/arp.h"

#include <cstring>

namespace vrrpd {

std::array<uint8_t, kGarpFrameLen> buildGarp(const Mac& mac, in_addr vip) {
  std::array<uint8_t, kGarpFrameLen> f{};
  uint8_t* p = f.data();
  std::memset(p, 0xff, 6); // Ethernet destination: broadcast
  std::memcpy(p + 6, mac.data(), 6);
  p[12] = 0x08; // EtherType ARP
  p[13] = 0x06;
  uint8_t* a = p + 14;
  a[0] = 0x00; // hardware type: Ethernet
  a[1] = 0x01;
  a[2] = 0x08; // protocol type: IPv4
  a[3] = 0x00;
  a[4] = 6; // hardware address length
  a[5] = 4; // protocol address length
  a[6] = 0x00; // operation: request (the most widely honoured form)
  a[7] = 0x01;
  std::memcpy(a + 8, mac.data(), 6);  // sender MAC
  std::memcpy(a + 14, &vip, 4);       // sender IP: the VIP
  std::memset(a + 18, 0xff, 6);       // target MAC: broadcast, as keepalived
  std::memcpy(a + 24, &vip, 4);       // target IP: the VIP
  return f;
}

} // namespace vrrpd
