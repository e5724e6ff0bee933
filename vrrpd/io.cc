#include "vrrpd/io.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <sys/socket.h>
#include <unistd.h>

namespace vrrpd {

namespace {
std::string sysErr(const std::string& what) { return what + ": " + std::strerror(errno); }
} // namespace

common::Result<std::unique_ptr<VrrpSocket>> VrrpSocket::open(common::Loop& loop,
                                                             const SocketSpec& spec,
                                                             RxCallback cb) {
  int fd = ::socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, kVrrpProto);
  if (fd < 0) return common::err(sysErr("socket(AF_INET, SOCK_RAW, 112)"));
  auto fail = [fd](const std::string& what) {
    std::string e = sysErr(what);
    ::close(fd);
    return common::err(e);
  };
  if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, spec.ifname.c_str(),
                 static_cast<socklen_t>(spec.ifname.size())) < 0)
    return fail("SO_BINDTODEVICE " + spec.ifname);
  int ttl = 255;
  int tos = 0xc0; // IPTOS_PREC_INTERNETCONTROL, as keepalived
  int on = 1, off = 0;
  if (setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl) < 0 ||
      setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl) < 0 ||
      setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos) < 0 ||
      setsockopt(fd, IPPROTO_IP, IP_MULTICAST_LOOP, &off, sizeof off) < 0 ||
      setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &on, sizeof on) < 0)
    return fail("setsockopt");
  // Binding a raw socket to an address also filters what it receives by
  // destination, so only unicast mode binds: in multicast mode the source
  // comes from IP_MULTICAST_IF below.
  if (spec.unicast && spec.src.family == AF_INET) {
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr = spec.src.v4;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
      return fail("bind " + spec.src.str());
  }
  if (!spec.unicast) {
    ip_mreqn m{};
    m.imr_multiaddr = spec.group.v4;
    m.imr_ifindex = spec.ifindex;
    if (spec.src.family == AF_INET) m.imr_address = spec.src.v4;
    if (setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &m, sizeof m) < 0)
      return fail("IP_ADD_MEMBERSHIP " + spec.group.str() + " on " + spec.ifname);
    if (setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &m, sizeof m) < 0)
      return fail("IP_MULTICAST_IF " + spec.ifname);
  }
  return std::unique_ptr<VrrpSocket>(new VrrpSocket(loop, fd, std::move(cb)));
}

VrrpSocket::VrrpSocket(common::Loop& loop, int fd, RxCallback cb)
    : loop_(loop), fd_(fd), cb_(std::move(cb)) {
  w_ = std::make_unique<common::FdWatcher>(loop_, fd_, [this](unsigned) { onReadable(); });
  w_->want(common::FdWatcher::Read);
}

VrrpSocket::~VrrpSocket() {
  w_.reset();
  ::close(fd_);
}

common::Result<bool> VrrpSocket::send(std::span<const uint8_t> payload, const common::IpAddr& dst) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr = dst.v4;
  ssize_t n = ::sendto(fd_, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&sa),
                       sizeof sa);
  if (n < 0) return common::err(sysErr("sendto " + dst.str()));
  ++sent_;
  return true;
}

void VrrpSocket::onReadable() {
  // A bounded batch per wake-up; raw IPv4 sockets deliver the IP header too.
  for (int i = 0; i < 32; ++i) {
    uint8_t buf[2048];
    char ctrl[CMSG_SPACE(sizeof(in_pktinfo))];
    sockaddr_in from{};
    iovec iov{buf, sizeof buf};
    msghdr mh{};
    mh.msg_name = &from;
    mh.msg_namelen = sizeof from;
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = ctrl;
    mh.msg_controllen = sizeof ctrl;
    ssize_t n = ::recvmsg(fd_, &mh, 0);
    if (n < 0) return; // EAGAIN or a transient error: wait for the next wake-up
    ++received_;
    if (n < 20) continue;
    size_t ihl = static_cast<size_t>(buf[0] & 0x0f) * 4;
    if ((buf[0] >> 4) != 4 || ihl < 20 || ihl > static_cast<size_t>(n)) continue;
    RxPacket p;
    p.payload = std::span<const uint8_t>(buf + ihl, static_cast<size_t>(n) - ihl);
    p.ttl = buf[8];
    p.src.family = AF_INET;
    std::memcpy(&p.src.v4, buf + 12, 4);
    p.dst.family = AF_INET;
    std::memcpy(&p.dst.v4, buf + 16, 4);
    for (cmsghdr* c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
      if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
        in_pktinfo pi;
        std::memcpy(&pi, CMSG_DATA(c), sizeof pi);
        p.ifindex = pi.ipi_ifindex;
      }
    }
    cb_(p);
  }
}

common::Result<std::unique_ptr<GarpSender>> GarpSender::open(int ifindex) {
  int fd = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ARP));
  if (fd < 0) return common::err(sysErr("socket(AF_PACKET)"));
  return std::unique_ptr<GarpSender>(new GarpSender(fd, ifindex));
}

GarpSender::~GarpSender() { ::close(fd_); }

common::Result<bool> GarpSender::send(const uint8_t* frame, size_t len) {
  sockaddr_ll ll{};
  ll.sll_family = AF_PACKET;
  ll.sll_protocol = htons(ETH_P_ARP);
  ll.sll_ifindex = ifindex_;
  ll.sll_halen = 6;
  std::memset(ll.sll_addr, 0xff, 6);
  if (::sendto(fd_, frame, len, 0, reinterpret_cast<sockaddr*>(&ll), sizeof ll) < 0)
    return common::err(sysErr("sending gratuitous ARP"));
  return true;
}

} // namespace vrrpd
