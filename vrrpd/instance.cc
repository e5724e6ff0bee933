#include "vrrpd/instance.h"

#include "vrrpd/daemon.h"
#include "vrrpd/sync_group.h"

#include <arpa/inet.h>
#include <linux/rtnetlink.h>

namespace vrrpd {

using Clock = std::chrono::steady_clock;

namespace {

int scopeNumber(const std::string& s) {
  if (s == "host") return RT_SCOPE_HOST;
  if (s == "link") return RT_SCOPE_LINK;
  if (s == "site") return RT_SCOPE_SITE;
  if (s == "nowhere") return RT_SCOPE_NOWHERE;
  return RT_SCOPE_UNIVERSE;
}

AddrSpec addrSpec(const VirtualIp& v) {
  AddrSpec a;
  a.ip = v.addr.net;
  a.prefix = v.addr.prefix;
  a.scope = scopeNumber(v.scope);
  a.label = v.label;
  if (v.broadcast) {
    a.broadcast = v.broadcast;
  } else if (v.broadcastAuto && a.ip.family == AF_INET && a.prefix < 31) {
    common::IpAddr b = a.ip;
    uint32_t host = a.prefix == 0 ? 0xffffffffu : (0xffffffffu >> a.prefix);
    b.v4.s_addr = htonl(ntohl(a.ip.v4.s_addr) | host);
    a.broadcast = b;
  }
  return a;
}

common::IpAddr defaultGroup() {
  common::IpAddr g;
  g.family = AF_INET;
  inet_pton(AF_INET, "224.0.0.18", &g.v4);
  return g;
}

} // namespace

Instance::Instance(Daemon& d, const VrrpInstance& cfg) : d_(d), cfg_(cfg) {
  fcfg_.name = cfg.name;
  fcfg_.version = cfg.version;
  fcfg_.priority = cfg.priority;
  fcfg_.advertInterval = cfg.advertInt;
  fcfg_.initialState =
      cfg.state == InitialState::Master ? fsm::InitialState::Master : fsm::InitialState::Backup;
  fcfg_.preempt = !cfg.nopreempt;
  fcfg_.preemptDelay = cfg.preemptDelay;
  fcfg_.garpRepeat = cfg.garpMasterRepeat;
  fcfg_.garpMasterDelay = cfg.garpMasterDelay;
  fcfg_.garpRefresh = cfg.garpMasterRefresh;
  fcfg_.garpRefreshRepeat = cfg.garpMasterRefreshRepeat;
  fcfg_.garpLowerPrioRepeat = cfg.garpLowerPrioRepeat;
  fcfg_.garpLowerPrioDelay = cfg.garpLowerPrioDelay;
  const fsm::Timer kinds[] = {fsm::Timer::MasterDown, fsm::Timer::Advert, fsm::Timer::GarpDelay,
                              fsm::Timer::GarpLowerPrio};
  for (auto k : kinds) {
    timers_[static_cast<size_t>(k)] = std::make_unique<common::Timer>(d.loop(), [this, k] {
      switch (k) {
      case fsm::Timer::MasterDown: feed(fsm::MasterDownTimerFired{}); break;
      case fsm::Timer::Advert: feed(fsm::AdvertTimerFired{}); break;
      case fsm::Timer::GarpDelay: feed(fsm::GarpDelayFired{}); break;
      case fsm::Timer::GarpLowerPrio: feed(fsm::GarpLowerPrioDelayFired{}); break;
      }
    });
  }
}

Instance::~Instance() {
  if (channel_) channel_->remove(this);
}

common::Timer& Instance::timer(fsm::Timer which) { return *timers_[static_cast<size_t>(which)]; }

common::Result<bool> Instance::open() {
  auto link = d_.netlink().link(cfg_.interface);
  if (!link) return common::err("(" + cfg_.name + ") interface " + cfg_.interface + " not found");
  ifindex_ = link->ifindex;
  mac_ = link->mac;
  if (cfg_.unicastSrcIp) src_ = *cfg_.unicastSrcIp;
  else if (cfg_.mcastSrcIp) src_ = *cfg_.mcastSrcIp;
  else if (auto p = d_.netlink().primaryIpv4(ifindex_)) src_ = *p;
  else
    return common::err("(" + cfg_.name + ") interface " + cfg_.interface +
                       " has no IPv4 address to send from");
  fcfg_.address = src_;
  SocketSpec spec;
  spec.ifname = cfg_.interface;
  spec.ifindex = ifindex_;
  spec.src = src_;
  spec.group = d_.config().global.mcastGroup4.family ? d_.config().global.mcastGroup4 : defaultGroup();
  spec.unicast = !cfg_.unicastPeers.empty();
  channel_ = d_.channel(cfg_, spec);
  if (!channel_) return common::err("(" + cfg_.name + ") cannot open the VRRP socket on " + cfg_.interface);
  channel_->add(this);
  // A previous run that crashed may have left our addresses behind; only a
  // MASTER may hold them.
  for (const auto& v : cfg_.vips) {
    if (d_.netlink().hasAddress(ifindex_, v.addr.net)) {
      d_.log(common::kInfo, "(" + cfg_.name + ") removing leftover VIP " + v.addr.net.str());
      d_.netlink().removeAddress(ifindex_, addrSpec(v));
    }
  }
  return true;
}

Expectation Instance::expectation() const {
  Expectation e;
  e.name = cfg_.name;
  e.vrid = cfg_.vrid;
  e.family = AF_INET;
  e.ifindex = ifindex_;
  e.version = cfg_.version;
  e.authType = cfg_.authType;
  e.authPass = cfg_.authPass;
  e.advertInt = cfg_.advertInt;
  for (const auto& v : cfg_.vips)
    if (v.addr.net.family == AF_INET) e.vips.push_back(v.addr.net);
  e.unicastPeers = cfg_.unicastPeers;
  e.checkUnicastSrc = cfg_.checkUnicastSrc;
  e.skipCheckAdvAddr = cfg_.skipCheckAdvAddr;
  if (st_.kind == fsm::StateKind::Backup && st_.masterAddr.family) e.currentMaster = st_.masterAddr;
  e.mcastGroup = d_.config().global.mcastGroup4;
  return e;
}

void Instance::start(int priority, bool faulted) { feed(fsm::Startup{priority, faulted}); }

void Instance::shutdown() { feed(fsm::Shutdown{}); }

void Instance::onAdvert(const Advert& a, const common::IpAddr& src) {
  ++advertsReceived;
  if (a.priority == 0) ++priorityZeroReceived;
  feed(fsm::AdvertReceived{a.priority, src, a.advertInt});
}

void Instance::setPriority(int effective) {
  if (effective == st_.priority) return;
  feed(fsm::PriorityChanged{effective});
}

void Instance::setFault(bool on) {
  bool isFault = st_.kind == fsm::StateKind::Fault;
  if (on == isFault) return;
  if (on) feed(fsm::FaultOn{});
  else feed(fsm::FaultOff{});
}

void Instance::feed(const fsm::Event& e) {
  auto now = Clock::now();
  auto out = fsm::step(fcfg_, st_, e, now);
  // A sync group member becomes MASTER only with the whole group: until the
  // others want it too it stays BACKUP and waits another interval.
  if (!cfg_.syncGroup.empty() && st_.kind == fsm::StateKind::Backup &&
      out.state.kind == fsm::StateKind::Master && !d_.syncAllowsMaster(*this)) {
    if (!wantsMaster_)
      d_.log(common::kInfo, "(" + cfg_.name + ") waiting for the other members of sync group " +
                                cfg_.syncGroup + " to become MASTER");
    wantsMaster_ = true;
    st_.masterDownAt = now + fsm::masterDownInterval(fcfg_, st_.priority, st_.masterAdverInt);
    timer(fsm::Timer::MasterDown)
        .arm(std::chrono::duration_cast<std::chrono::microseconds>(st_.masterDownAt - now));
    return;
  }
  // Hearing a master (a higher or equal advert) ends the wish.
  if (std::holds_alternative<fsm::AdvertReceived>(e) && out.state.kind == fsm::StateKind::Backup &&
      std::get<fsm::AdvertReceived>(e).priority >= out.state.priority)
    wantsMaster_ = false;
  apply(std::move(out));
}

void Instance::follow(bool toMaster) {
  auto now = Clock::now();
  apply(toMaster ? sync::forceMaster(fcfg_, st_, now) : sync::forceBackup(fcfg_, st_, now));
}

void Instance::apply(fsm::Output out) {
  fsm::StateKind before = st_.kind;
  int prioBefore = st_.priority;
  st_ = std::move(out.state);
  if (st_.kind != fsm::StateKind::Backup) wantsMaster_ = false;
  if (before != fsm::StateKind::Master && st_.kind == fsm::StateKind::Master) ++becameMaster;
  if (before == fsm::StateKind::Master && st_.kind != fsm::StateKind::Master) ++releasedMaster;
  for (const auto& a : out.actions) execute(a);
  if (before != st_.kind || prioBefore != st_.priority) d_.reportState(*this);
  if (before != st_.kind) d_.onTransition(*this, before);
}

void Instance::detach() {
  for (auto& t : timers_) t->cancel();
  if (channel_) channel_->remove(this);
  channel_ = nullptr;
}

void Instance::execute(const fsm::Action& a) {
  std::visit(
      [this](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, fsm::SendAdvert>) {
          sendAdvert(x.priority);
        } else if constexpr (std::is_same_v<T, fsm::AddVips>) {
          setVips(true);
        } else if constexpr (std::is_same_v<T, fsm::RemoveVips>) {
          setVips(false);
        } else if constexpr (std::is_same_v<T, fsm::SendGarp>) {
          sendGarp(x.repeat);
        } else if constexpr (std::is_same_v<T, fsm::ArmTimer>) {
          auto left = x.deadline - Clock::now();
          if (left < Clock::duration::zero()) left = Clock::duration::zero();
          timer(x.which).arm(std::chrono::duration_cast<std::chrono::microseconds>(left));
        } else if constexpr (std::is_same_v<T, fsm::CancelTimer>) {
          timer(x.which).cancel();
        } else if constexpr (std::is_same_v<T, fsm::RunNotify>) {
          notify(x.what);
        } else if constexpr (std::is_same_v<T, fsm::Log>) {
          if (x.level == fsm::LogLevel::Info) d_.log(common::kInfo, x.text);
          else d_.detail(x.text);
        }
      },
      a);
}

void Instance::sendAdvert(int priority) {
  Advert adv;
  adv.version = cfg_.version;
  adv.family = AF_INET;
  adv.vrid = static_cast<uint8_t>(cfg_.vrid);
  adv.priority = static_cast<uint8_t>(priority);
  adv.advertInt = cfg_.advertInt;
  adv.authType = cfg_.version == 2 ? cfg_.authType : AuthType::None;
  if (adv.authType == AuthType::Pass) adv.authData = authDataFromPass(cfg_.authPass);
  for (const auto& v : cfg_.vips)
    if (v.addr.net.family == AF_INET) adv.addrs.push_back(v.addr.net);
  std::vector<common::IpAddr> dsts;
  if (cfg_.unicastPeers.empty()) {
    auto g = d_.config().global.mcastGroup4;
    dsts.push_back(g.family ? g : defaultGroup());
  } else {
    dsts = cfg_.unicastPeers;
  }
  std::array<uint8_t, kVrrpMaxLen> buf{};
  for (const auto& dst : dsts) {
    EncodeOptions o;
    o.src = src_;
    o.dst = dst;
    if (cfg_.oldUnicastChecksum && !cfg_.unicastPeers.empty()) {
      auto g = d_.config().global.mcastGroup4;
      o.dst = g.family ? g : defaultGroup();
    }
    size_t n = encodeAdvert(adv, o, buf);
    if (n == 0) {
      d_.log(common::kErr, "(" + cfg_.name + ") cannot encode advert");
      return;
    }
    auto r = channel_->send(std::span<const uint8_t>(buf.data(), n), dst);
    if (!r) d_.detail("(" + cfg_.name + ") " + r.error());
  }
  ++advertsSent;
  if (priority == 0) ++priorityZeroSent;
}

void Instance::setVips(bool add) {
  for (const auto& v : cfg_.vips) {
    int idx = ifindex_;
    if (!v.dev.empty() && v.dev != cfg_.interface) {
      if (auto l = d_.netlink().link(v.dev)) idx = l->ifindex;
    }
    auto r = add ? d_.netlink().addAddress(idx, addrSpec(v))
                 : d_.netlink().removeAddress(idx, addrSpec(v));
    if (!r) d_.log(common::kErr, "(" + cfg_.name + ") " + r.error());
  }
  d_.detail("(" + cfg_.name + ") " + (add ? "setting" : "removing") + " VIPs.");
}

void Instance::sendGarp(int repeat) {
  GarpSender* g = d_.garp(ifindex_);
  if (!g) return;
  for (const auto& v : cfg_.vips) {
    if (v.addr.net.family != AF_INET) continue;
    auto frame = buildGarp(mac_, v.addr.net.v4);
    for (int i = 0; i < repeat; ++i) {
      auto r = g->send(frame.data(), frame.size());
      if (!r) {
        d_.detail("(" + cfg_.name + ") " + r.error());
        break;
      }
    }
  }
  d_.detail("(" + cfg_.name + ") Sending/queueing gratuitous ARPs on " + cfg_.interface + " for " +
            std::to_string(cfg_.vips.size()) + " addresses");
}

void Instance::notify(fsm::Notify what) {
  const ScriptCommand* specific = nullptr;
  const char* state = "";
  switch (what) {
  case fsm::Notify::Master: specific = &cfg_.notifyMaster; state = "MASTER"; break;
  case fsm::Notify::Backup: specific = &cfg_.notifyBackup; state = "BACKUP"; break;
  case fsm::Notify::Fault: specific = &cfg_.notifyFault; state = "FAULT"; break;
  case fsm::Notify::Stop: specific = &cfg_.notifyStop; state = "STOP"; break;
  case fsm::Notify::MasterRxLowerPri: return; // notify_master_rx_lower_pri: not configured here
  }
  if (specific && !specific->empty())
    if (auto spec = d_.scriptSpec(*specific, {}))
      d_.notifier().push(std::move(*spec),
                         "(" + cfg_.name + ") notify_" + std::string(state) + " script");
  if (!cfg_.notify.empty())
    if (auto spec =
            d_.scriptSpec(cfg_.notify, {"INSTANCE", cfg_.name, state, std::to_string(st_.priority)}))
      d_.notifier().push(std::move(*spec), "(" + cfg_.name + ") notify script");
}

} // namespace vrrpd
