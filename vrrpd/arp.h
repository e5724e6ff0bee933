#pragma once
// Gratuitous ARP frames, built apart from sending them (pure). The frame is
// what keepalived sends when it becomes MASTER: an Ethernet broadcast ARP
// request whose sender and target protocol addresses are both the virtual
// address, so every neighbour updates its cache to our MAC.
#include <array>
#include <cstdint>
#include <netinet/in.h>

namespace vrrpd {

using Mac = std::array<uint8_t, 6>;
constexpr size_t kGarpFrameLen = 42; // 14 Ethernet + 28 ARP

// Writes the frame for `vip` announced from `mac`.
std::array<uint8_t, kGarpFrameLen> buildGarp(const Mac& mac, in_addr vip);

} // namespace vrrpd
