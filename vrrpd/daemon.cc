#include "vrrpd/daemon.h"

#include "common/process.h"

#include <arpa/inet.h>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <algorithm>
#include <fstream>
#include <pwd.h>
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

namespace {

std::string commandKey(const ScriptCommand& c) {
  return c.raw + "\x1f" + c.user + "\x1f" + c.group;
}

// The configuration of one instance as it matters to a reload: itself, the
// scripts it tracks, its sync group and global_defs, as --dump prints them.
std::string instanceFingerprint(const Config& cfg, const VrrpInstance& inst) {
  Config one;
  one.global = cfg.global;
  one.instances.push_back(inst);
  for (const auto& ref : inst.trackScripts)
    if (const VrrpScript* s = cfg.findScript(ref.name)) one.scripts.push_back(*s);
  for (const auto& g : cfg.syncGroups)
    if (g.name == inst.syncGroup) one.syncGroups.push_back(g);
  for (const auto& ref : inst.trackProxies)
    if (const TrackProxy* p = cfg.findTrackProxy(ref.name)) one.trackProxies.push_back(*p);
  return dumpYaml(one);
}

std::string proxyFingerprint(const TrackProxy& p) {
  Config one;
  one.trackProxies.push_back(p);
  return dumpYaml(one);
}

std::string scriptFingerprint(const Config& cfg, const VrrpScript& s) {
  Config one;
  one.global = cfg.global;
  one.scripts.push_back(s);
  return dumpYaml(one);
}

} // namespace

void Channel::remove(Instance* i) {
  instances_.erase(std::remove(instances_.begin(), instances_.end(), i), instances_.end());
}

Daemon::User Daemon::scriptUser(const ScriptCommand& c) const {
  User u;
  std::string user = !c.user.empty() ? c.user : cfg_.global.scriptUser;
  std::string group = !c.user.empty() ? c.group : cfg_.global.scriptGroup;
  if (user.empty()) user = "keepalived_script"; // root when it does not exist
  if (user != "root") {
    if (const passwd* pw = ::getpwnam(user.c_str())) {
      u.uid = pw->pw_uid;
      u.gid = pw->pw_gid;
    }
  }
  if (!group.empty())
    if (auto g = common::lookupGroup(group)) u.gid = g.value();
  return u;
}

std::optional<common::ScriptSpec> Daemon::scriptSpec(const ScriptCommand& c,
                                                     std::vector<std::string> extraArgs) const {
  auto it = notifySpecs_.find(commandKey(c));
  if (it == notifySpecs_.end()) return std::nullopt;
  common::ScriptSpec s = it->second;
  for (auto& a : extraArgs) s.argv.push_back(std::move(a));
  return s;
}

// check_vrrp_script_security(): every vrrp_script and notify command is
// checked once per (re)load; what may not run is disabled with keepalived's
// messages.
void Daemon::checkSecurity() {
  const bool security = cfg_.global.enableScriptSecurity;
  FsView fs = systemFs();
  unsigned all = 0;
  bool anyScript = !scripts_.empty();
  auto check = [&](const ScriptCommand& c, common::ScriptSpec& spec) {
    User u = scriptUser(c);
    ScriptCheck r = checkScriptSecure(c.argv.empty() ? "" : c.argv[0], u.uid, u.gid, security, fs);
    for (const auto& l : r.logs) log(common::kInfo, l);
    all |= r.flags;
    spec.argv = c.argv;
    if (!spec.argv.empty() && !(r.flags & kScSystem)) spec.argv[0] = r.path;
    if (u.uid != 0) spec.uid = u.uid;
    if (u.uid != 0 || u.gid != 0) spec.gid = u.gid;
    spec.timeout = std::chrono::seconds(30);
    return r;
  };
  // The default user, as keepalived reports it.
  if (cfg_.global.scriptUser.empty()) {
    bool needed = anyScript;
    for (const auto& i : cfg_.instances)
      for (const ScriptCommand* c :
           {&i.notifyMaster, &i.notifyBackup, &i.notifyFault, &i.notifyStop, &i.notify})
        needed = needed || !c->empty();
    if (needed && !::getpwnam("keepalived_script"))
      log(common::kInfo, "WARNING - default user 'keepalived_script' for script execution does "
                         "not exist - please create.");
  }
  for (auto& [name, s] : scripts_) {
    ScriptCheck r = check(s->cfg.script, s->spec);
    s->spec.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(s->cfg.timeout);
    s->disabled = !r.runnable();
    if (r.flags & kScInhibit)
      log(common::kInfo, "Disabling track script " + name + " due to insecure");
    else if (r.flags & kScNotFound)
      log(common::kInfo, "Disabling track script " + name + " since not found/accessible");
  }
  notifySpecs_.clear();
  auto notifyCheck = [&](const ScriptCommand& c) {
    if (c.empty() || notifySpecs_.count(commandKey(c))) return;
    anyScript = true;
    common::ScriptSpec spec;
    if (check(c, spec).runnable()) notifySpecs_[commandKey(c)] = spec;
  };
  for (const auto& i : cfg_.instances)
    for (const ScriptCommand* c :
         {&i.notifyBackup, &i.notifyMaster, &i.notifyFault, &i.notifyStop, &i.notify})
      notifyCheck(*c);
  for (const auto& g : cfg_.syncGroups)
    for (const ScriptCommand* c :
         {&g.notifyBackup, &g.notifyMaster, &g.notifyFault, &g.notifyStop, &g.notify})
      notifyCheck(*c);
  if (!security && (all & kScIsScript))
    log(common::kWarning, std::string("SECURITY VIOLATION - scripts are being executed but "
                                      "script_security not enabled.") +
                              (all & kScInsecure ? " There are insecure scripts." : ""));
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
  auto nl = Netlink::open(loop_);
  if (!nl) return common::err(nl.error());
  nl_ = std::move(nl.value());
  nl_->onLinkChange([this](const LinkInfo& l) { onLink(l); });
  return build({}, {}, false);
}

common::Result<bool> Daemon::build(std::vector<std::unique_ptr<Instance>> keep,
                                   std::map<std::string, ScriptPtr> oldScripts, bool reloading) {
  // Scripts: an unchanged one keeps its state and schedule.
  scripts_.clear();
  for (const auto& s : cfg_.scripts) {
    std::string fp = scriptFingerprint(cfg_, s);
    auto old = oldScripts.find(s.name);
    if (old != oldScripts.end() && old->second->fingerprint == fp) {
      old->second->cfg = s;
      scripts_[s.name] = old->second;
      continue;
    }
    auto st = std::make_shared<ScriptState>();
    st->cfg = s;
    st->fingerprint = fp;
    st->track = TrackedScript(s.rise, s.fall, s.initFail);
    scripts_[s.name] = st;
  }
  oldScripts.clear(); // stops the timers of the others
  buildProxies(reloading);
  checkSecurity();
  links_.clear();
  auto noteLink = [this](const std::string& name) {
    auto l = nl_->link(name);
    links_[name] = l && l->up;
  };
  std::vector<std::unique_ptr<Instance>> next;
  std::vector<Instance*> fresh;
  for (const auto& ic : cfg_.instances) {
    noteLink(ic.interface);
    for (const auto& t : ic.trackInterfaces) noteLink(t.name);
    auto k = std::find_if(keep.begin(), keep.end(),
                          [&](const auto& p) { return p && p->name() == ic.name; });
    if (k != keep.end()) {
      next.push_back(std::move(*k));
      continue;
    }
    auto inst = std::make_unique<Instance>(*this, ic);
    auto r = inst->open();
    if (!r) {
      if (!reloading) return common::err(r.error());
      log(common::kErr, r.error());
      continue;
    }
    fresh.push_back(inst.get());
    next.push_back(std::move(inst));
  }
  instances_ = std::move(next);
  // Sync groups; an unchanged group keeps its state.
  std::vector<GroupRt> groups;
  for (const auto& g : cfg_.syncGroups) {
    GroupRt rt;
    rt.cfg = g;
    for (auto& inst : instances_)
      if (inst->cfg().syncGroup == g.name) rt.members.push_back(inst.get());
    for (const auto& old : groups_)
      if (old.cfg.name == g.name) {
        rt.state = old.state;
        rt.fault = old.fault;
      }
    if (!rt.members.empty()) groups.push_back(std::move(rt));
  }
  groups_ = std::move(groups);
  if (reloading) {
    for (auto& [name, s] : scripts_)
      if (!s->timer) armScript(s, std::chrono::microseconds(0));
    for (Instance* i : fresh) {
      bool fault = false;
      int prio = effective(*i, fault);
      if (GroupRt* g = groupOf(*i)) fault = fault || g->fault;
      i->start(prio, fault);
    }
    recomputeAll();
  }
  return true;
}

// track_proxy blocks: an unchanged one keeps its tracker (connection and
// status); the others are replaced, started at once when `start`.
void Daemon::buildProxies(bool start) {
  std::map<std::string, ProxyRt> next;
  for (const auto& p : cfg_.trackProxies) {
    std::string fp = proxyFingerprint(p);
    auto old = proxies_.find(p.name);
    if (old != proxies_.end() && old->second.fingerprint == fp) {
      old->second.tracker->setCfg(p);
      next[p.name] = std::move(old->second);
      continue;
    }
    ProxyRt rt;
    rt.fingerprint = fp;
    rt.tracker = std::make_unique<ProxyTracker>(
        loop_, p, [this] { if (!stopping_) recomputeAll(); },
        [this](int sev, const std::string& m) { log(sev, m); });
    if (start) rt.tracker->start();
    next[p.name] = std::move(rt);
  }
  proxies_ = std::move(next); // closes the connections of the others
}

void Daemon::reportState(const Instance& inst) {
  for (const auto& ref : inst.cfg().trackProxies) {
    auto it = proxies_.find(ref.name);
    if (it != proxies_.end())
      it->second.tracker->report(inst.name(), fsm::stateName(inst.state()), inst.priority());
  }
}

void Daemon::start() {
  log(common::kInfo, "Starting VRRP child process, pid=" + std::to_string(getpid()));
  started_ = true;
  for (auto& [name, s] : scripts_) armScript(s, std::chrono::microseconds(0));
  for (auto& [name, p] : proxies_) p.tracker->start();
  // Startup takes the effective priority and fault of the moment; a sync
  // group starts in FAULT when one member does.
  for (auto& g : groups_) {
    for (Instance* m : g.members) {
      bool f = false;
      effective(*m, f);
      g.fault = g.fault || f;
    }
    if (g.fault)
      log(common::kInfo, "VRRP_Group(" + g.cfg.name + ") Syncing instances to FAULT state");
  }
  for (auto& inst : instances_) {
    bool fault = false;
    int prio = effective(*inst, fault);
    if (GroupRt* g = groupOf(*inst)) fault = fault || g->fault;
    inst->start(prio, fault);
  }
}

void Daemon::reload(const std::string& file) {
  if (stopping_) return;
  log(common::kInfo, "Reloading");
  auto t0 = std::chrono::steady_clock::now();
  ParseOutcome o = parseConfigFile(file);
  for (const auto& w : o.warnings) log(common::kWarning, w);
  if (!o.ok()) {
    for (const auto& e : o.errors) log(common::kErr, e);
    log(common::kErr, "Reload failed: " + file + " has " + std::to_string(o.errors.size()) +
                          " error(s); the running configuration is kept");
    return;
  }
  std::map<std::string, std::string> before;
  for (const auto& i : cfg_.instances) before[i.name] = instanceFingerprint(cfg_, i);
  Config next = std::move(o.config);
  std::vector<std::unique_ptr<Instance>> keep;
  for (auto& inst : instances_) {
    const VrrpInstance* ni = next.findInstance(inst->name());
    if (ni && instanceFingerprint(next, *ni) == before[inst->name()]) {
      keep.push_back(std::move(inst));
      continue;
    }
    log(common::kInfo, "(" + inst->name() + ") " +
                           (ni ? "configuration changed - restarting" : "removed - stopping"));
    retire(std::move(inst));
  }
  instances_.clear();
  cfg_ = std::move(next);
  auto oldScripts = std::move(scripts_);
  auto r = build(std::move(keep), std::move(oldScripts), true);
  if (!r) log(common::kErr, r.error());
  // Channels nobody uses any more are closed.
  for (auto it = channels_.begin(); it != channels_.end();)
    it = it->second->empty() ? channels_.erase(it) : std::next(it);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - t0);
  log(common::kInfo, "Reload complete (" + std::to_string(us.count()) + " usec)");
}

// A removed or changed instance: keepalived's stop (priority 0 when MASTER,
// VIPs removed, notify STOP), then it leaves its channel.
void Daemon::retire(std::unique_ptr<Instance> inst) {
  bool saved = syncing_;
  syncing_ = true; // its group does not follow a member that is going away
  inst->shutdown();
  syncing_ = saved;
  inst->detach();
}

int Daemon::effective(const Instance& inst, bool& fault) {
  const auto& c = inst.cfg();
  std::vector<Tracker> trackers;
  for (const auto& ref : c.trackScripts) {
    auto it = scripts_.find(ref.name);
    // A script disabled by script security is removed from the instance.
    if (it == scripts_.end() || it->second->disabled) continue;
    trackers.push_back({it->second->track.status(), ref.weight, ref.weightReverse});
  }
  for (const auto& ref : c.trackProxies) {
    auto it = proxies_.find(ref.name);
    if (it == proxies_.end()) continue;
    trackers.push_back({it->second.tracker->status(), ref.weight, ref.weightReverse});
  }
  for (const auto& ref : c.trackInterfaces)
    trackers.push_back(
        {links_[ref.name] ? TrackStatus::Ok : TrackStatus::Failed, ref.weight, ref.weightReverse});
  // The instance's own interface: link down means FAULT.
  fault = faulted(trackers) || (!c.dontTrackPrimary && !links_[c.interface]);
  return effectivePriority(c.priority, trackers);
}

// Priorities first, then FAULT; a sync group faults as one.
void Daemon::recomputeAll() {
  std::map<const Instance*, bool> own;
  for (auto& inst : instances_) {
    bool fault = false;
    int prio = effective(*inst, fault);
    own[inst.get()] = fault;
    auto k = inst->state();
    if (k == fsm::StateKind::Init || k == fsm::StateKind::Stop) continue;
    if (!fault) inst->setPriority(prio);
  }
  for (auto& g : groups_) {
    std::vector<bool> f;
    for (Instance* m : g.members) f.push_back(own[m]);
    bool any = false;
    for (bool x : f) any = any || x;
    if (any && !g.fault)
      log(common::kInfo, "VRRP_Group(" + g.cfg.name + ") Syncing instances to FAULT state");
    else if (!any && g.fault)
      log(common::kInfo, "VRRP_Group(" + g.cfg.name + ") Leaving FAULT state");
    g.fault = any;
    for (Instance* m : g.members) own[m] = any;
  }
  for (auto& inst : instances_) {
    auto k = inst->state();
    if (k == fsm::StateKind::Init || k == fsm::StateKind::Stop) continue;
    inst->setFault(own[inst.get()]);
  }
}

Daemon::GroupRt* Daemon::groupOf(const Instance& inst) {
  for (auto& g : groups_)
    for (Instance* m : g.members)
      if (m == &inst) return &g;
  return nullptr;
}

bool Daemon::syncAllowsMaster(const Instance& inst) {
  GroupRt* g = groupOf(inst);
  if (!g || g->members.size() < 2) return true;
  std::vector<sync::Member> ms;
  size_t who = 0;
  for (size_t i = 0; i < g->members.size(); ++i) {
    if (g->members[i] == &inst) who = i;
    ms.push_back({g->members[i]->state(), g->members[i]->wantsMaster()});
  }
  auto st = g->fault ? sync::GroupState::Fault : g->state.value_or(sync::GroupState::Backup);
  return sync::canGoMaster(ms, who, st);
}

void Daemon::onTransition(Instance& inst, fsm::StateKind before) {
  GroupRt* g = groupOf(inst);
  if (!g) return;
  if (!syncing_ && g->members.size() > 1) {
    std::vector<sync::Member> ms;
    size_t who = 0;
    for (size_t i = 0; i < g->members.size(); ++i) {
      if (g->members[i] == &inst) who = i;
      ms.push_back({g->members[i]->state(), g->members[i]->wantsMaster()});
    }
    auto todo = sync::follow(ms, who, before, inst.state());
    bool any = false;
    for (auto f : todo) any = any || f != sync::Follow::Nothing;
    if (any) {
      bool toMaster = inst.state() == fsm::StateKind::Master;
      log(common::kInfo, "VRRP_Group(" + g->cfg.name + ") Syncing instances to " +
                             (toMaster ? "MASTER" : "BACKUP") + " state");
      syncing_ = true;
      for (size_t i = 0; i < todo.size(); ++i)
        if (todo[i] != sync::Follow::Nothing) g->members[i]->follow(todo[i] == sync::Follow::Master);
      syncing_ = false;
    }
  }
  settleGroup(*g);
}

void Daemon::settleGroup(GroupRt& g) {
  std::vector<sync::Member> ms;
  for (Instance* m : g.members) {
    if (m->state() == fsm::StateKind::Init) return; // not all started yet
    ms.push_back({m->state(), m->wantsMaster()});
  }
  auto prev = g.state.value_or(sync::GroupState::Stop);
  auto now = sync::settle(ms, prev);
  if (g.state && *g.state == now) return;
  if (!g.state && now == prev && now == sync::GroupState::Stop) return;
  g.state = now;
  groupNotify(g, now);
}

void Daemon::groupNotify(const GroupRt& g, sync::GroupState st) {
  const ScriptCommand* specific = nullptr;
  switch (st) {
  case sync::GroupState::Master: specific = &g.cfg.notifyMaster; break;
  case sync::GroupState::Backup: specific = &g.cfg.notifyBackup; break;
  case sync::GroupState::Fault: specific = &g.cfg.notifyFault; break;
  case sync::GroupState::Stop: specific = &g.cfg.notifyStop; break;
  }
  std::string what = "VRRP_Group(" + g.cfg.name + ") ";
  if (specific && !specific->empty())
    if (auto spec = scriptSpec(*specific, {}))
      notify_->push(std::move(*spec),
                    what + "notify_" + sync::groupStateName(st) + " script");
  if (!g.cfg.notify.empty())
    if (auto spec = scriptSpec(g.cfg.notify, sync::notifyArgs(g.cfg.name, st)))
      notify_->push(std::move(*spec), what + "notify script");
}

void Daemon::armScript(const ScriptPtr& s, std::chrono::microseconds after) {
  if (s->disabled) return;
  std::weak_ptr<ScriptState> w = s;
  if (!s->timer) s->timer = std::make_unique<common::Timer>(loop_, [this, w] { runScript(w); });
  s->timer->arm(after);
}

void Daemon::runScript(const std::weak_ptr<ScriptState>& w) {
  auto s = w.lock();
  if (!s || stopping_) return;
  if (s->running) {
    s->timer->arm(s->cfg.interval);
    return;
  }
  s->running = true;
  runner_->run(s->spec, [this, w](const common::ScriptResult& r) {
    auto st = w.lock();
    if (!st) return; // removed by a reload meanwhile
    st->running = false;
    const std::string& name = st->cfg.name;
    if (r.timedOut) log(common::kWarning, "Script `" + name + "` now returning timeout");
    bool wasOk = st->track.ok();
    if (st->track.record(r.ok())) {
      if (st->track.ok()) log(common::kInfo, "Script `" + name + "` now returning 0");
      else if (wasOk || st->track.status() == TrackStatus::Failed)
        log(common::kInfo, "VRRP_Script(" + name + ") failed (exited with status " +
                               std::to_string(r.exitCode) + ")");
      recomputeAll();
    }
    if (!stopping_) st->timer->arm(st->cfg.interval);
  });
}

void Daemon::onLink(const LinkInfo& l) {
  auto it = links_.find(l.name);
  if (it == links_.end() || it->second == l.up) return;
  it->second = l.up;
  log(common::kInfo, "Netlink reports " + l.name + (l.up ? " up" : " down"));
  recomputeAll();
}

void Daemon::stop() {
  if (stopping_) return;
  stopping_ = true;
  log(common::kInfo, "Stopping");
  for (auto& [name, s] : scripts_)
    if (s->timer) s->timer->cancel();
  syncing_ = true; // members stop one by one; the group does not follow
  for (auto& inst : instances_) inst->shutdown();
  syncing_ = false;
  // Let the stop notifications run (bounded), then leave.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  auto waiter = std::make_shared<common::TimerPtr>();
  *waiter = std::make_unique<common::Timer>(loop_, [this, deadline, waiter] {
    bool reporting = false;
    for (const auto& [name, p] : proxies_) reporting = reporting || p.tracker->reportsPending();
    if ((notify_->pending() == 0 && !reporting) || std::chrono::steady_clock::now() >= deadline) {
      log(common::kInfo, "Stopped");
      loop_.stop();
      return;
    }
    (*waiter)->arm(std::chrono::milliseconds(20));
  });
  (*waiter)->arm(std::chrono::milliseconds(0));
}

void Daemon::writeData() const {
  log(common::kInfo, "Printing VRRP data for process(" + std::to_string(getpid()) + ") on signal");
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
  for (const auto& [name, s] : scripts_) {
    f << " VRRP Script = " << name << "\n";
    f << "   Command = " << s->cfg.script.raw << "\n";
    f << "   Interval = " << common::formatDuration(s->cfg.interval) << "\n";
    f << "   Weight = " << s->cfg.weight << "\n";
    const char* st = s->disabled                                ? "DISABLED"
                     : s->track.status() == TrackStatus::Ok     ? "GOOD"
                     : s->track.status() == TrackStatus::Failed ? "BAD"
                                                                : "INIT";
    f << "   Status = " << st << "\n";
  }
}

void Daemon::writeStats() const {
  log(common::kInfo, "Printing VRRP stats for process(" + std::to_string(getpid()) + ") on signal");
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
