#pragma once
// The kernel adapter for vrrpd (libnl-route): interface lookups, the virtual
// addresses (add/remove with label, scope, broadcast and mask), and link
// state changes pushed by netlink events (never polled).
#include "common/loop.h"
#include "common/result.h"
#include "common/values.h"

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct nl_sock;
struct nl_msg;

namespace vrrpd {

// One address as keepalived's virtual_ipaddress line describes it.
struct AddrSpec {
  common::IpAddr ip;
  int prefix = 32;
  std::optional<common::IpAddr> broadcast;
  int scope = 0;     // RT_SCOPE_UNIVERSE
  std::string label; // e.g. "eth0:vip"; empty: none
};

struct LinkInfo {
  int ifindex = 0;
  std::string name;
  bool up = false; // IFF_UP and IFF_RUNNING, as keepalived judges a link
  std::array<uint8_t, 6> mac{};
};

class Netlink {
public:
  using LinkCallback = std::function<void(const LinkInfo&)>;
  // Opens the request socket and a second socket subscribed to link events,
  // watched on `loop`.
  static common::Result<std::unique_ptr<Netlink>> open(common::Loop& loop);
  ~Netlink();

  std::optional<LinkInfo> link(const std::string& name);
  std::optional<LinkInfo> link(int ifindex);
  // The first IPv4 address of the interface (keepalived's primary address).
  std::optional<common::IpAddr> primaryIpv4(int ifindex);
  // True when the interface holds `ip` (any prefix).
  bool hasAddress(int ifindex, const common::IpAddr& ip);

  // Adding an address that is already there is success (a crash may have
  // left it behind); removing one that is not there is success too.
  common::Result<bool> addAddress(int ifindex, const AddrSpec& a);
  common::Result<bool> removeAddress(int ifindex, const AddrSpec& a);

  void onLinkChange(LinkCallback cb) { linkCb_ = std::move(cb); }

private:
  Netlink(common::Loop& loop, nl_sock* req, nl_sock* events);
  void onEvents();
  static int eventTrampoline(nl_msg* msg, void* arg);

  common::Loop& loop_;
  nl_sock* req_;
  nl_sock* events_;
  common::FdWatcherPtr watcher_;
  LinkCallback linkCb_;
};

} // namespace vrrpd
