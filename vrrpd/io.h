#pragma once
// The VRRP socket of one instance: a raw IPv4 socket for IP protocol 112,
// bound to the instance's interface, that sends adverts with TTL 255 and TOS
// 0xc0 to 224.0.0.18 (or to each unicast peer) and hands every received
// advert, with its IP metadata, to a callback. Decoding and validation are
// the packet codec's business.
#include "common/loop.h"
#include "common/result.h"
#include "common/values.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

namespace vrrpd {

constexpr int kVrrpProto = 112;

struct RxPacket {
  std::span<const uint8_t> payload; // the VRRP message (IP header stripped)
  int ttl = 0;
  common::IpAddr src;
  common::IpAddr dst;
  int ifindex = 0;
};

struct SocketSpec {
  std::string ifname;
  int ifindex = 0;
  common::IpAddr src;   // source address of our adverts (family 0: kernel picks)
  common::IpAddr group; // multicast group (224.0.0.18 by default)
  bool unicast = false; // unicast_peer mode: no group membership
};

class VrrpSocket {
public:
  using RxCallback = std::function<void(const RxPacket&)>;
  static common::Result<std::unique_ptr<VrrpSocket>> open(common::Loop& loop,
                                                          const SocketSpec& spec, RxCallback cb);
  ~VrrpSocket();
  // Sends one VRRP message to `dst` (the group, or a unicast peer).
  common::Result<bool> send(std::span<const uint8_t> payload, const common::IpAddr& dst);
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }

private:
  VrrpSocket(common::Loop& loop, int fd, RxCallback cb);
  void onReadable();
  common::Loop& loop_;
  int fd_;
  RxCallback cb_;
  common::FdWatcherPtr w_;
  uint64_t sent_ = 0;
  uint64_t received_ = 0;
};

// Sends gratuitous ARP frames on an interface (AF_PACKET socket).
class GarpSender {
public:
  static common::Result<std::unique_ptr<GarpSender>> open(int ifindex);
  ~GarpSender();
  common::Result<bool> send(const uint8_t* frame, size_t len);

private:
  GarpSender(int fd, int ifindex) : fd_(fd), ifindex_(ifindex) {}
  int fd_;
  int ifindex_;
};

} // namespace vrrpd
