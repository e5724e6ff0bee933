// vrrp_instance NAME { }: one keyword function each, in a registry, plus the
// list blocks (virtual_ipaddress, unicast_peer, track_*).
#include "vrrpd/config_parse.h"

#include <algorithm>
#include <array>

namespace vrrpd::cfg {
namespace {

using I = InstanceDraft;

// Each child of a list block, as a NodeRef whose "keyword" is the first word.
template <class F> void eachItem(const NodeRef& r, F&& f) {
  if (!r.block()) return;
  for (const common::KaNode& c : r.n.children)
    f(NodeRef{c, r.diag});
}

void state(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "MASTER or BACKUP")) return;
  if (r.arg(0) == "MASTER") {
    d.vi.state = InitialState::Master;
  } else if (r.arg(0) == "BACKUP") {
    d.vi.state = InitialState::Backup;
  } else {
    r.error("(" + d.vi.name + ") unknown state '" + r.arg(0) + "' (expected MASTER or BACKUP)");
    return;
  }
  d.stateSet = true;
}

void interface(I& d, const NodeRef& r) {
  if (r.line(1, 1, "an interface name")) d.vi.interface = r.arg(0);
}

void vrid(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number in [1, 255]")) return;
  if (auto v = r.intArg(0, 1, 255)) d.vi.vrid = *v;
}

void priority(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number in [1, 255]")) return;
  if (auto v = r.intArg(0, 1, kPrioOwner)) d.priority = *v;
}

void advertInt(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.secondsArg(0, std::chrono::milliseconds(10), seconds(255))) d.advertInt = *v;
}

void version(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "2 or 3")) return;
  if (auto v = r.intArg(0, 2, 3)) d.version = *v;
}

void authType(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "PASS or AH")) return;
  if (r.arg(0) == "PASS") {
    d.vi.authType = AuthType::Pass;
  } else if (r.arg(0) == "AH") {
    r.error("auth_type AH is not supported yet (use PASS, or no authentication)");
  } else {
    r.error("(" + d.vi.name + ") unknown authentication type '" + r.arg(0) +
            "' (expected PASS or AH)");
  }
}

void authPass(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a password")) return;
  d.vi.authPass = r.arg(0);
  if (d.vi.authPass.size() > kAuthPassMax) {
    d.vi.authPass.resize(kAuthPassMax);
    r.warn("Truncating auth_pass to 8 characters ('" + d.vi.authPass + "')");
  }
}

constexpr std::array<Keyword<I>, 2> kAuth = {{
    {"auth_type", authType},
    {"auth_pass", authPass},
}};

void authentication(I& d, const NodeRef& r) {
  if (!r.block()) return;
  for (const common::KaNode& c : r.n.children)
    dispatch(kAuth, d, NodeRef{c, r.diag});
}

// An IPv4 address for this instance; IPv6 is refused for now.
std::optional<common::IpAddr> ipv4(const NodeRef& r, const std::string& word,
                                   const std::string& what) {
  auto ip = common::parseIp(word);
  if (!ip) {
    r.error("invalid " + what + " '" + word + "'");
    return std::nullopt;
  }
  if (ip->family != AF_INET) {
    r.error("IPv6 " + what + "es are not supported yet ('" + word + "')");
    return std::nullopt;
  }
  return *ip;
}

constexpr std::array<std::string_view, 5> kScopes = {"global", "site", "link", "host", "nowhere"};

// "IP[/MASK] [brd IP|+|-] [dev IF] [scope S] [label L] [no_track]".
std::optional<VirtualIp> parseVip(const NodeRef& r) {
  std::vector<std::string> w{r.kw()};
  w.insert(w.end(), r.n.args.begin(), r.n.args.end());
  VirtualIp v;
  v.loc = r.n.loc;
  auto cidr = common::parseCidr(w[0]);
  if (!cidr) {
    r.error("invalid virtual address '" + w[0] + "'");
    return std::nullopt;
  }
  if (cidr->net.family == AF_INET6) {
    r.error("IPv6 virtual addresses are not supported yet ('" + w[0] + "')");
    return std::nullopt;
  }
  v.addr = *cidr;
  bool ok = true;
  for (size_t i = 1; i < w.size(); ++i) {
    const std::string& o = w[i];
    const bool hasValue = i + 1 < w.size();
    if (o == "no_track") {
      v.noTrack = true;
      continue;
    }
    if (o != "brd" && o != "dev" && o != "scope" && o != "label") {
      r.error("unsupported virtual address option '" + o + "'");
      ok = false;
      continue;
    }
    if (!hasValue) {
      r.error("virtual address option '" + o + "' expects a value");
      return std::nullopt;
    }
    const std::string& val = w[++i];
    if (o == "brd") {
      if (val == "+") {
        v.broadcastAuto = true;
      } else if (val != "-") {
        if (auto b = ipv4(r, val, "broadcast address"))
          v.broadcast = *b;
        else
          ok = false;
      }
    } else if (o == "dev") {
      v.dev = val;
    } else if (o == "scope") {
      if (std::find(kScopes.begin(), kScopes.end(), val) == kScopes.end()) {
        r.error("invalid scope '" + val + "' (expected global, site, link, host or nowhere)");
        ok = false;
      }
      v.scope = val;
    } else {
      v.label = val;
    }
  }
  if (!ok) return std::nullopt;
  return v;
}

void vipsInto(std::vector<VirtualIp>& dst, const NodeRef& r) {
  eachItem(r, [&](const NodeRef& item) {
    if (item.n.block) {
      item.error("a virtual address takes no { } block");
      return;
    }
    if (auto v = parseVip(item)) dst.push_back(*v);
  });
}

void virtualIpaddress(I& d, const NodeRef& r) {
  d.vipWritten = d.vipWritten || !r.n.children.empty();
  vipsInto(d.vi.vips, r);
}
void virtualIpaddressExcluded(I& d, const NodeRef& r) {
  vipsInto(d.vi.excludedVips, r);
}

void mcastSrcIp(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "an address")) return;
  if (auto ip = ipv4(r, r.arg(0), "source address")) d.vi.mcastSrcIp = *ip;
}

void unicastSrcIp(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "an address")) return;
  d.unicastKeyword = true;
  if (auto ip = ipv4(r, r.arg(0), "source address")) d.vi.unicastSrcIp = *ip;
}

void unicastPeer(I& d, const NodeRef& r) {
  d.unicastKeyword = true;
  eachItem(r, [&](const NodeRef& item) {
    if (item.nargs() > 0) {
      item.error("unsupported unicast_peer option '" + item.arg(0) + "'");
      return;
    }
    if (auto ip = ipv4(item, item.kw(), "unicast peer address")) d.vi.unicastPeers.push_back(*ip);
  });
}

// "NAME [weight W [reverse|noreverse|no_reverse]]" in a track_* block;
// `maxWeight` is 254 where keepalived accepts (and corrects) +/-254.
std::optional<TrackDraft> trackItem(const NodeRef& item, int maxWeight) {
  TrackDraft t;
  if (item.n.block) {
    item.error("'" + item.kw() + "': unexpected { } block");
    return std::nullopt;
  }
  size_t i = 0;
  while (i < item.nargs()) {
    const std::string& o = item.arg(i);
    if (o == "weight" && i + 1 < item.nargs()) {
      auto w = common::parseInt(item.arg(i + 1), -maxWeight, maxWeight);
      if (!w) {
        item.error("'" + item.kw() + "': invalid weight '" + item.arg(i + 1) +
                   "' (expected an integer in [-253, 253])");
        return std::nullopt;
      }
      t.weight = static_cast<int>(*w);
      i += 2;
    } else if (o == "reverse") {
      t.reverse = true;
      ++i;
    } else if (o == "noreverse" || o == "no_reverse") {
      t.reverse = false;
      ++i;
    } else {
      item.error("'" + item.kw() + "': unexpected '" + o + "' (expected weight W [reverse])");
      return std::nullopt;
    }
  }
  return t;
}

void trackScript(I& d, const NodeRef& r) {
  eachItem(r, [&](const NodeRef& item) {
    auto t = trackItem(item, kTrackWeightMax + 1);
    if (!t) return;
    d.vi.trackScripts.push_back(TrackScriptRef{item.kw(), item.n.loc});
    d.scriptWeights.push_back(*t);
  });
}

void trackInterface(I& d, const NodeRef& r) {
  eachItem(r, [&](const NodeRef& item) {
    auto t = trackItem(item, kTrackWeightMax);
    if (!t) return;
    d.vi.trackInterfaces.push_back(
        TrackInterfaceRef{item.kw(), item.n.loc, t->weight.value_or(0), t->reverse});
  });
}

void trackProxy(I& d, const NodeRef& r) {
  eachItem(r, [&](const NodeRef& item) {
    auto t = trackItem(item, kTrackWeightMax);
    if (!t) return;
    d.vi.trackProxies.push_back(TrackProxyRef{item.kw(), item.n.loc});
    d.proxyWeights.push_back(*t);
  });
}

void flag(const NodeRef& r, bool& dst, bool value) {
  if (r.line(0, 0, "no argument")) dst = value;
}

void nopreempt(I& d, const NodeRef& r) {
  flag(r, d.vi.nopreempt, true);
}
void preempt(I& d, const NodeRef& r) {
  flag(r, d.vi.nopreempt, false);
}
void preemptDelay(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.secondsArg(0, Micros(0), seconds(1000))) d.vi.preemptDelay = *v;
}

void garpDelay(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.intArg(0, 0, 86400)) d.garpMasterDelay = seconds(*v);
}
void garpRepeat(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a count")) return;
  if (auto v = r.intArg(0, 0, 1000)) d.garpMasterRepeat = *v;
}
void garpLowerDelay(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.intArg(0, 0, 86400)) d.garpLowerPrioDelay = seconds(*v);
}
void garpLowerRepeat(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a count")) return;
  if (auto v = r.intArg(0, 0, 1000)) d.garpLowerPrioRepeat = *v;
}
void garpRefresh(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a number of seconds")) return;
  if (auto v = r.intArg(0, 0, 86400)) d.garpMasterRefresh = seconds(*v);
}
void garpRefreshRepeat(I& d, const NodeRef& r) {
  if (!r.line(1, 1, "a count")) return;
  if (auto v = r.intArg(0, 0, 1000)) d.garpMasterRefreshRepeat = *v;
}

void notifyInto(ScriptCommand& dst, const NodeRef& r) {
  if (auto c = r.commandArg(true)) dst = *c;
}
void notifyMaster(I& d, const NodeRef& r) {
  notifyInto(d.vi.notifyMaster, r);
}
void notifyBackup(I& d, const NodeRef& r) {
  notifyInto(d.vi.notifyBackup, r);
}
void notifyFault(I& d, const NodeRef& r) {
  notifyInto(d.vi.notifyFault, r);
}
void notifyStop(I& d, const NodeRef& r) {
  notifyInto(d.vi.notifyStop, r);
}
void notify(I& d, const NodeRef& r) {
  notifyInto(d.vi.notify, r);
}

void optBool(const NodeRef& r, std::optional<bool>& dst) {
  if (!r.line(0, 1, "[on|off]")) return;
  if (auto b = r.boolArg(0)) dst = *b;
}
void smtpAlert(I& d, const NodeRef& r) {
  optBool(r, d.smtpAlert);
}
void strictMode(I& d, const NodeRef& r) {
  optBool(r, d.strict);
}
void skipCheckAdvAddr(I& d, const NodeRef& r) {
  optBool(r, d.skipCheckAdvAddr);
}
void accept(I& d, const NodeRef& r) {
  if (r.line(0, 0, "no argument")) d.accept = true;
}
void noAccept(I& d, const NodeRef& r) {
  if (r.line(0, 0, "no argument")) d.accept = false;
}
void dontTrackPrimary(I& d, const NodeRef& r) {
  flag(r, d.vi.dontTrackPrimary, true);
}
void checkUnicastSrc(I& d, const NodeRef& r) {
  flag(r, d.vi.checkUnicastSrc, true);
}
void oldUnicastChecksum(I& d, const NodeRef& r) {
  if (!r.line(0, 1, "[never]")) return;
  if (r.nargs() == 1 && r.arg(0) != "never") {
    r.error("'old_unicast_checksum': unexpected '" + r.arg(0) + "' (expected nothing or 'never')");
    return;
  }
  d.vi.oldUnicastChecksum = r.nargs() == 0;
}

constexpr std::array<Keyword<I>, 37> kInstance = {{
    {"state", state},
    {"interface", interface},
    {"virtual_router_id", vrid},
    {"priority", priority},
    {"advert_int", advertInt},
    {"version", version},
    {"authentication", authentication},
    {"virtual_ipaddress", virtualIpaddress},
    {"virtual_ipaddress_excluded", virtualIpaddressExcluded},
    {"mcast_src_ip", mcastSrcIp},
    {"unicast_src_ip", unicastSrcIp},
    {"unicast_peer", unicastPeer},
    {"track_script", trackScript},
    {"track_interface", trackInterface},
    {"track_proxy", trackProxy},
    {"nopreempt", nopreempt},
    {"preempt", preempt},
    {"preempt_delay", preemptDelay},
    {"garp_master_delay", garpDelay},
    {"garp_master_repeat", garpRepeat},
    {"garp_master_refresh", garpRefresh},
    {"garp_master_refresh_repeat", garpRefreshRepeat},
    {"garp_lower_prio_delay", garpLowerDelay},
    {"garp_lower_prio_repeat", garpLowerRepeat},
    {"notify_master", notifyMaster},
    {"notify_backup", notifyBackup},
    {"notify_fault", notifyFault},
    {"notify_stop", notifyStop},
    {"notify", notify},
    {"smtp_alert", smtpAlert},
    {"accept", accept},
    {"no_accept", noAccept},
    {"dont_track_primary", dontTrackPrimary},
    {"strict_mode", strictMode},
    {"check_unicast_src", checkUnicastSrc},
    {"skip_check_adv_addr", skipCheckAdvAddr},
    {"old_unicast_checksum", oldUnicastChecksum},
}};

} // namespace

void parseVrrpInstance(Draft& d, const NodeRef& r) {
  if (!r.n.block || r.nargs() != 1) {
    r.error(!r.n.block       ? "'vrrp_instance' expects a name and a { } block"
            : r.nargs() == 0 ? "'vrrp_instance' expects a name"
                             : "'vrrp_instance': unexpected argument '" + r.arg(1) + "'");
    return;
  }
  for (const InstanceDraft& e : d.instances) {
    if (e.vi.name == r.arg(0)) {
      r.error("vrrp_instance " + r.arg(0) + " already defined at " + e.vi.loc.file + ":" +
              std::to_string(e.vi.loc.line));
      return;
    }
  }
  InstanceDraft inst;
  inst.vi.name = r.arg(0);
  inst.vi.loc = r.n.loc;
  for (const common::KaNode& c : r.n.children) {
    NodeRef cr{c, r.diag};
    if (c.keyword == "native_ipv6") {
      cr.error("IPv6 instances are not supported yet ('native_ipv6')");
      continue;
    }
    dispatch(kInstance, inst, cr);
  }
  d.instances.push_back(std::move(inst));
}

} // namespace vrrpd::cfg
