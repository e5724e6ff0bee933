#include "vrrpd/daemon.h"

#include "common/process.h"

#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <unistd.h>

namespace vrrpd {

// ---- Channel ----------------------------------------------------------------

common::Result<bool> Channel::open(const SocketSpec& spec) {
  ifname_ = spec.ifname;
  auto s = VrrpSocket::open(d_.loop(), spec, [this](const RxPacket& p) { onPacket(p); });
  if (!s) return common::err(s.error());
  sock_ = std::move(s.value());
  return true;
}

common::Result<bool> Channel::send(std::span<const uint8_t> bytes, const common::IpAddr& dst) {
  return sock_->send(bytes, dst);
}

void Channel::onPacket(const RxPacket& p) {
  std::vector<Expectation> exp;
  exp.reserve(instances_.size());
  for (Instance* i : instances_) exp.push_back(i->expectation());
  RxMeta meta;
  meta.ttl = p.ttl;
  meta.src = p.src;
  meta.dst = p.dst;
  meta.ifindex = p.ifindex;
  meta.ifname = ifname_;
  meta.multicast = (ntohl(p.dst.v4.s_addr) >> 28) == 0xe;
  auto r = decodeAdvert(p.payload, meta, exp);
  if (auto* ok = std::get_if<Accepted>(&r)) {
    instances_[ok->instance]->onAdvert(ok->advert, p.src);
    return;
  }
  const auto& rej = std::get<Rejection>(r);
  if (rej.instance >= 0) {
    auto& c = instances_[static_cast<size_t>(rej.instance)]->counters;
    auto k = counterFor(rej.reason);
    ++c[std::string(counterSection(k)) + "/" + counterName(k)];
  } else if (rej.reason == Reason::UnknownVrid) {
    ++unknownVrid;
  }
  d_.log(common::kInfo, rej.text);
}

// ---- Daemon -----------------------------------------------------------------

Daemon::Daemon(common::Loop& loop, Config cfg, RunOptions opts)
    : loop_(loop), cfg_(std::move(cfg)), opts_(std::move(opts)) {
  logger_ = std::make_unique<common::Logger>("Keepalived_vrrp", loop_.clock());
  common::LogSinkSpec sys;
  sys.kind = common::LogSinkSpec::Kind::Unix;
  sys.path = "/dev/log";
  sys.facility = 3; // daemon
  logger_->addSink(sys);
  if (opts_.logConsole) {
    common::LogSinkSpec con;
    con.kind = common::LogSinkSpec::Kind::Stderr;
    con.raw = true;
    logger_->addSink(con);
  }
  runner_ = std::make_unique<common::ScriptRunner>(loop_);
  notify_ = std::make_unique<NotifyQueue>(*runner_, [this](const std::string& m) {
    log(common::kWarning, m);
  });
}

Daemon::~Daemon() {
  instances_.clear();
  channels_.clear();
}

void Daemon::log(int severity, const std::string& msg) const {
  if (!opts_.logConsole) {
    logger_->log(severity, msg);
    return;
  }
  // keepalived's console lines carry a date: "Fri Nov 27 19:00:00 2026: msg".
  std::time_t t = std::time(nullptr);
  char date[64];
  std::tm tm{};
  localtime_r(&t, &tm);
  std::strftime(date, sizeof date, "%a %b %e %H:%M:%S %Y", &tm);
  logger_->log(severity, std::string(date) + ": " + msg);
}

void Daemon::detail(const std::string& msg) const {
  if (opts_.logDetail) log(common::kInfo, msg);
}

common::ScriptSpec Daemon::scriptSpec(const ScriptCommand& c,
                                      std::vector<std::string> extraArgs) const {
  common::ScriptSpec s;
  s.argv = c.argv;
  for (auto& a : extraArgs) s.argv.push_back(std::move(a));
  s.timeout = std::chrono::seconds(30);
  std::string user = !c.user.empty() ? c.user : cfg_.global.scriptUser;
  std::string group = !c.user.empty() ? c.group : cfg_.global.scriptGroup;
  if (!user.empty() && user != "root") {
    if (auto u = common::lookupUser(user)) s.uid = u.value();
    if (!group.empty())
      if (auto g = common::lookupGroup(group)) s.gid = g.value();
  }
  return s;
}

Channel* Daemon::channel(const VrrpInstance& cfg, const SocketSpec& spec) {
  std::string key = spec.ifname + "|" + spec.src.str() + "|" + (spec.unicast ? "u" : "m");
  auto it = channels_.find(key);
  if (it != channels_.end()) return it->second.get();
  auto ch = std::make_unique<Channel>(*this, key);
  auto r = ch->open(spec);
  if (!r) {
    log(common::kErr, "(" + cfg.name + ") " + r.error());
    return nullptr;
  }
  return channels_.emplace(key, std::move(ch)).first->second.get();
}

GarpSender* Daemon::garp(int ifindex) {
  auto it = garps_.find(ifindex);
  if (it != garps_.end()) return it->second.get();
  auto g = GarpSender::open(ifindex);
  if (!g) {
    log(common::kErr, g.error());
    return nullptr;
  }
  return garps_.emplace(ifindex, std::move(g.value())).first->second.get();
}

common::Result<bool> Daemon::open() {
  if (!cfg_.syncGroups.empty())
    return common::err("vrrp_sync_group is not supported yet by the running daemon");
  for (const auto& i : cfg_.instances)
    if (!i.trackProxies.empty())
      return common::err("(" + i.name + ") track_proxy is not supported yet by the running daemon");
  auto nl = Netlink::open(loop_);
  if (!nl) return common::err(nl.error());
  nl_ = std::move(nl.value());
  nl_->onLinkChange([this](const LinkInfo& l) { onLink(l); });
  for (const auto& ic : cfg_.instances) {
    auto inst = std::make_unique<Instance>(*this, ic);
    auto r = inst->open();
    if (!r) return common::err(r.error());
    if (auto l = nl_->link(ic.interface)) links_[ic.interface] = l->up;
    for (const auto& t : ic.trackInterfaces)
      if (auto l = nl_->link(t.name)) links_[t.name] = l->up;
      else links_[t.name] = false;
    instances_.push_back(std::move(inst));
  }
  for (const auto& s : cfg_.scripts) {
    ScriptState st{&s, TrackedScript(s.rise, s.fall, s.initFail), nullptr};
    scripts_.push_back(std::move(st));
  }
  return true;
}

void Daemon::start() {
  log(common::kInfo, "Starting VRRP child process, pid=" + std::to_string(getpid()));
  for (size_t i = 0; i < scripts_.size(); ++i) {
    scripts_[i].timer = std::make_unique<common::Timer>(loop_, [this, i] { runScript(i); });
    scripts_[i].timer->arm(std::chrono::milliseconds(0));
  }
  for (auto& inst : instances_) {
    // Startup takes the effective priority and fault of the moment.
    bool fault = false;
    int prio = effective(*inst, fault);
    inst->start(prio, fault);
  }
}

int Daemon::effective(const Instance& inst, bool& fault) {
  const auto& c = inst.cfg();
  std::vector<Tracker> trackers;
  for (const auto& ref : c.trackScripts)
    for (const auto& s : scripts_)
      if (s.cfg->name == ref.name) trackers.push_back({s.track.status(), ref.weight, ref.weightReverse});
  for (const auto& ref : c.trackInterfaces)
    trackers.push_back(
        {links_[ref.name] ? TrackStatus::Ok : TrackStatus::Failed, ref.weight, ref.weightReverse});
  // The instance's own interface: link down means FAULT.
  fault = faulted(trackers) || (!c.dontTrackPrimary && !links_[c.interface]);
  return effectivePriority(c.priority, trackers);
}

void Daemon::recompute(Instance& inst) {
  if (inst.state() == fsm::StateKind::Init || inst.state() == fsm::StateKind::Stop) return;
  bool fault = false;
  int prio = effective(inst, fault);
  inst.setFault(fault);
  if (!fault) inst.setPriority(prio);
}

void Daemon::runScript(size_t i) {
  auto& s = scripts_[i];
  if (stopping_) return;
  if (s.running) {
    s.timer->arm(s.cfg->interval);
    return;
  }
  s.running = true;
  common::ScriptSpec spec = scriptSpec(s.cfg->script, {});
  spec.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s.cfg->timeout);
  runner_->run(spec, [this, i](const common::ScriptResult& r) {
    auto& st = scripts_[i];
    st.running = false;
    if (r.timedOut) log(common::kWarning, "Script `" + st.cfg->name + "` now returning timeout");
    bool wasOk = st.track.ok();
    if (st.track.record(r.ok())) {
      if (st.track.ok()) log(common::kInfo, "Script `" + st.cfg->name + "` now returning 0");
      else if (wasOk || st.track.status() == TrackStatus::Failed)
        log(common::kInfo, "VRRP_Script(" + st.cfg->name + ") failed (exited with status " +
                               std::to_string(r.exitCode) + ")");
      for (auto& inst : instances_) recompute(*inst);
    }
    if (!stopping_) st.timer->arm(st.cfg->interval);
  });
}

void Daemon::onLink(const LinkInfo& l) {
  auto it = links_.find(l.name);
  if (it == links_.end() || it->second == l.up) return;
  it->second = l.up;
  log(common::kInfo, "Netlink reports " + l.name + (l.up ? " up" : " down"));
  for (auto& inst : instances_) recompute(*inst);
}

void Daemon::stop() {
  if (stopping_) return;
  stopping_ = true;
  log(common::kInfo, "Stopping");
  for (auto& s : scripts_)
    if (s.timer) s.timer->cancel();
  for (auto& inst : instances_) inst->shutdown();
  // Let the stop notifications run (bounded), then leave.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto waiter = std::make_shared<common::TimerPtr>();
  *waiter = std::make_unique<common::Timer>(loop_, [this, deadline, waiter] {
    if (notify_->pending() == 0 || std::chrono::steady_clock::now() >= deadline) {
      log(common::kInfo, "Stopped");
      loop_.stop();
      return;
    }
    (*waiter)->arm(std::chrono::milliseconds(20));
  });
  (*waiter)->arm(std::chrono::milliseconds(0));
}

void Daemon::writeData() const {
  std::ofstream f(opts_.dataFile, std::ios::trunc);
  if (!f) return;
  f << "------< VRRP Topology >------\n";
  for (const auto& inst : instances_) {
    const auto& c = inst->cfg();
    f << " VRRP Instance = " << c.name << "\n";
    f << "   VRRP Version = " << c.version << "\n";
    f << "   State = " << fsm::stateName(inst->state()) << "\n";
    f << "   Wantstate = " << fsm::stateName(inst->state()) << "\n";
    f << "   Interface = " << c.interface << "\n";
    f << "   Virtual Router ID = " << c.vrid << "\n";
    f << "   Priority = " << c.priority << "\n";
    f << "   Effective priority = " << inst->priority() << "\n";
    f << "   Advert interval = " << common::formatDuration(c.advertInt) << "\n";
    f << "   Preempt = " << (c.nopreempt ? "disabled" : "enabled") << "\n";
    f << "   Authentication type = " << authName(c.authType) << "\n";
    f << "   Virtual IP = " << c.vips.size() << "\n";
    for (const auto& v : c.vips) f << "     " << v.addr.str() << " dev " << v.dev << " scope " << v.scope << "\n";
    if (!c.unicastPeers.empty()) {
      f << "   Unicast Peer = " << c.unicastPeers.size() << "\n";
      for (const auto& p : c.unicastPeers) f << "     " << p.str() << "\n";
    }
  }
  f << "------< VRRP Scripts >------\n";
  for (const auto& s : scripts_) {
    f << " VRRP Script = " << s.cfg->name << "\n";
    f << "   Command = " << s.cfg->script.raw << "\n";
    f << "   Interval = " << common::formatDuration(s.cfg->interval) << "\n";
    f << "   Weight = " << s.cfg->weight << "\n";
    const char* st = s.track.status() == TrackStatus::Ok       ? "GOOD"
                     : s.track.status() == TrackStatus::Failed ? "BAD"
                                                               : "INIT";
    f << "   Status = " << st << "\n";
  }
}

void Daemon::writeStats() const {
  std::ofstream f(opts_.statsFile, std::ios::trunc);
  if (!f) return;
  auto get = [](const Instance& i, const char* section, const char* k) -> uint64_t {
    auto it = i.counters.find(std::string(section) + k);
    return it == i.counters.end() ? 0 : it->second;
  };
  for (const auto& inst : instances_) {
    const Instance& i = *inst;
    f << "VRRP Instance: " << i.name() << "\n";
    f << "  Advertisements:\n    Received: " << i.advertsReceived << "\n    Sent: " << i.advertsSent
      << "\n";
    f << "  Became master: " << i.becameMaster << "\n  Released master: " << i.releasedMaster << "\n";
    f << "  Packet Errors:\n";
    for (const char* k : {"Length", "TTL", "Invalid Type", "Advertisement Interval", "Address List"})
      f << "    " << k << ": " << get(i, "Packet Errors/", k) << "\n";
    f << "  Authentication Errors:\n";
    for (const char* k : {"Invalid Type", "Type Mismatch", "Failure"})
      f << "    " << k << ": " << get(i, "Authentication Errors/", k) << "\n";
    f << "  Priority Zero:\n    Received: " << i.priorityZeroReceived
      << "\n    Sent: " << i.priorityZeroSent << "\n";
  }
}

} // namespace vrrpd
