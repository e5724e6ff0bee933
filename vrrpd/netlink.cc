#include "vrrpd/netlink.h"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/socket.h>

namespace vrrpd {

namespace {

// RAII for libnl objects.
template <class T, void (*Free)(T*)> struct NlPtr {
  T* p = nullptr;
  NlPtr() = default;
  explicit NlPtr(T* x) : p(x) {}
  ~NlPtr() {
    if (p) Free(p);
  }
  NlPtr(NlPtr&& o) noexcept : p(o.p) { o.p = nullptr; }
  NlPtr(const NlPtr&) = delete;
  NlPtr& operator=(const NlPtr&) = delete;
  T* get() const { return p; }
  T** out() { return &p; }
};
void freeCache(nl_cache* c) { nl_cache_free(c); }
void putAddr(nl_addr* a) { nl_addr_put(a); }
void putRtAddr(rtnl_addr* a) { rtnl_addr_put(a); }
void putLink(rtnl_link* l) { rtnl_link_put(l); }
using CachePtr = NlPtr<nl_cache, freeCache>;
using NlAddrPtr = NlPtr<nl_addr, putAddr>;
using RtAddrPtr = NlPtr<rtnl_addr, putRtAddr>;
using LinkPtr = NlPtr<rtnl_link, putLink>;

NlAddrPtr toNl(const common::IpAddr& ip, int prefix) {
  NlAddrPtr a;
  if (ip.family == AF_INET) a.p = nl_addr_build(AF_INET, &ip.v4, 4);
  else a.p = nl_addr_build(AF_INET6, &ip.v6, 16);
  if (a.p) nl_addr_set_prefixlen(a.p, prefix);
  return a;
}

LinkInfo infoOf(rtnl_link* l) {
  LinkInfo i;
  i.ifindex = rtnl_link_get_ifindex(l);
  if (const char* n = rtnl_link_get_name(l)) i.name = n;
  unsigned flags = rtnl_link_get_flags(l);
  i.up = (flags & IFF_UP) && (flags & IFF_RUNNING);
  if (nl_addr* mac = rtnl_link_get_addr(l); mac && nl_addr_get_len(mac) == 6)
    std::memcpy(i.mac.data(), nl_addr_get_binary_addr(mac), 6);
  return i;
}

std::string nlError(int rc) { return nl_geterror(rc); }

} // namespace

common::Result<std::unique_ptr<Netlink>> Netlink::open(common::Loop& loop) {
  nl_sock* req = nl_socket_alloc();
  nl_sock* ev = nl_socket_alloc();
  if (!req || !ev) {
    if (req) nl_socket_free(req);
    if (ev) nl_socket_free(ev);
    return common::err("netlink: cannot allocate sockets");
  }
  int rc = nl_connect(req, NETLINK_ROUTE);
  if (rc == 0) {
    nl_socket_disable_seq_check(ev);
    rc = nl_connect(ev, NETLINK_ROUTE);
  }
  if (rc == 0) rc = nl_socket_add_membership(ev, RTNLGRP_LINK);
  if (rc == 0) rc = nl_socket_set_nonblocking(ev);
  if (rc != 0) {
    nl_socket_free(req);
    nl_socket_free(ev);
    return common::err("netlink: " + nlError(rc));
  }
  return std::unique_ptr<Netlink>(new Netlink(loop, req, ev));
}

Netlink::Netlink(common::Loop& loop, nl_sock* req, nl_sock* events)
    : loop_(loop), req_(req), events_(events) {
  nl_socket_modify_cb(events_, NL_CB_VALID, NL_CB_CUSTOM, &Netlink::eventTrampoline, this);
  watcher_ = std::make_unique<common::FdWatcher>(loop_, nl_socket_get_fd(events_),
                                                 [this](unsigned) { onEvents(); });
  watcher_->want(common::FdWatcher::Read);
}

Netlink::~Netlink() {
  watcher_.reset();
  nl_socket_free(events_);
  nl_socket_free(req_);
}

void Netlink::onEvents() {
  // Drains what is queued; ENOBUFS (events lost) is answered by a full
  // re-read of the links so no change goes unnoticed.
  for (int i = 0; i < 64; ++i) {
    int rc = nl_recvmsgs_default(events_);
    if (rc == -NLE_AGAIN || rc == 0) return;
    if (rc == -NLE_NOMEM || rc == -NLE_OBJ_NOTFOUND) continue;
    if (rc < 0) {
      CachePtr cache;
      if (rtnl_link_alloc_cache(req_, AF_UNSPEC, cache.out()) == 0 && linkCb_) {
        for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o))
          linkCb_(infoOf(reinterpret_cast<rtnl_link*>(o)));
      }
      return;
    }
  }
}

int Netlink::eventTrampoline(nl_msg* msg, void* arg) {
  auto* self = static_cast<Netlink*>(arg);
  nlmsghdr* h = nlmsg_hdr(msg);
  if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) return NL_OK;
  bool deleted = h->nlmsg_type == RTM_DELLINK;
  struct Ctx {
    Netlink* self;
    bool deleted;
  } ctx{self, deleted};
  nl_msg_parse(
      msg,
      [](nl_object* o, void* arg) {
        auto* c = static_cast<Ctx*>(arg);
        LinkInfo info = infoOf(reinterpret_cast<rtnl_link*>(o));
        if (c->deleted) info.up = false;
        if (c->self->linkCb_) c->self->linkCb_(info);
      },
      &ctx);
  return NL_OK;
}

std::optional<LinkInfo> Netlink::link(const std::string& name) {
  LinkPtr l;
  if (rtnl_link_get_kernel(req_, 0, name.c_str(), l.out()) < 0 || !l.get()) return std::nullopt;
  return infoOf(l.get());
}

std::optional<LinkInfo> Netlink::link(int ifindex) {
  LinkPtr l;
  if (rtnl_link_get_kernel(req_, ifindex, nullptr, l.out()) < 0 || !l.get()) return std::nullopt;
  return infoOf(l.get());
}

namespace {
template <class Fn> void forEachAddr(nl_sock* sk, int ifindex, int family, Fn fn) {
  CachePtr cache;
  if (rtnl_addr_alloc_cache(sk, cache.out()) < 0) return;
  for (nl_object* o = nl_cache_get_first(cache.get()); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    if (rtnl_addr_get_ifindex(a) != ifindex || rtnl_addr_get_family(a) != family) continue;
    nl_addr* local = rtnl_addr_get_local(a);
    if (!local) continue;
    common::IpAddr ip;
    ip.family = family;
    if (family == AF_INET) std::memcpy(&ip.v4, nl_addr_get_binary_addr(local), 4);
    else std::memcpy(&ip.v6, nl_addr_get_binary_addr(local), 16);
    if (!fn(ip, a)) return;
  }
}
} // namespace

std::optional<common::IpAddr> Netlink::primaryIpv4(int ifindex) {
  std::optional<common::IpAddr> found;
  forEachAddr(req_, ifindex, AF_INET, [&](const common::IpAddr& ip, rtnl_addr* a) {
    if (rtnl_addr_get_flags(a) & IFA_F_SECONDARY) return true;
    found = ip;
    return false;
  });
  return found;
}

bool Netlink::hasAddress(int ifindex, const common::IpAddr& ip) {
  bool found = false;
  forEachAddr(req_, ifindex, ip.family, [&](const common::IpAddr& have, rtnl_addr*) {
    found = have == ip;
    return !found;
  });
  return found;
}

namespace {
common::Result<RtAddrPtr> buildAddr(int ifindex, const AddrSpec& s) {
  RtAddrPtr a(rtnl_addr_alloc());
  if (!a.get()) return common::err("netlink: out of memory");
  rtnl_addr_set_ifindex(a.get(), ifindex);
  rtnl_addr_set_family(a.get(), s.ip.family);
  NlAddrPtr local = toNl(s.ip, s.prefix);
  if (!local.get() || rtnl_addr_set_local(a.get(), local.get()) < 0)
    return common::err("netlink: bad address " + s.ip.str());
  rtnl_addr_set_prefixlen(a.get(), s.prefix);
  rtnl_addr_set_scope(a.get(), s.scope);
  if (s.broadcast) {
    NlAddrPtr brd = toNl(*s.broadcast, 32);
    if (brd.get()) rtnl_addr_set_broadcast(a.get(), brd.get());
  }
  if (!s.label.empty()) rtnl_addr_set_label(a.get(), s.label.c_str());
  return a;
}
} // namespace

common::Result<bool> Netlink::addAddress(int ifindex, const AddrSpec& s) {
  auto a = buildAddr(ifindex, s);
  if (!a) return common::err(a.error());
  int rc = rtnl_addr_add(req_, a.value().get(), NLM_F_CREATE | NLM_F_REPLACE);
  if (rc < 0 && rc != -NLE_EXIST)
    return common::err("cannot add " + s.ip.str() + "/" + std::to_string(s.prefix) + ": " +
                       nlError(rc));
  return true;
}

common::Result<bool> Netlink::removeAddress(int ifindex, const AddrSpec& s) {
  auto a = buildAddr(ifindex, s);
  if (!a) return common::err(a.error());
  int rc = rtnl_addr_delete(req_, a.value().get(), 0);
  if (rc < 0 && rc != -NLE_NOADDR && rc != -NLE_OBJ_NOTFOUND)
    return common::err("cannot remove " + s.ip.str() + "/" + std::to_string(s.prefix) + ": " +
                       nlError(rc));
  return true;
}

} // namespace vrrpd
