// complete(): what keepalived does after reading the file
// (vrrp_complete_init / vrrp_complete_instance in keepalived 2.2): defaults
// resolved, corrections applied with a warning, references checked, then
// the script-security rules. Messages follow keepalived's wording where it
// has one, prefixed by the location of the instance or line concerned.
#include "vrrpd/config_parse.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstdlib>

namespace vrrpd::cfg {
namespace {

std::string tag(const VrrpInstance& vi) {
  return "(" + vi.name + ") ";
}

// track_proxy's proxy_user: a name from the passwd database, or a bare uid.
void completeProxyUsers(Draft& d, Diag& diag, const ParseOptions& opt) {
  for (TrackProxy& t : d.cfg.trackProxies) {
    if (t.proxyUser.empty()) continue;
    unsigned uid = 0;
    const std::string& u = t.proxyUser;
    auto [p, ec] = std::from_chars(u.data(), u.data() + u.size(), uid);
    if (ec == std::errc() && p == u.data() + u.size())
      t.proxyUid = uid;
    else if (opt.lookupUser)
      t.proxyUid = opt.lookupUser(u);
    if (!t.proxyUid)
      diag.error(t.loc, "track_proxy " + t.name + ": proxy_user " + u + " does not exist");
  }
}

void completeScripts(Draft& d, Diag& diag) {
  for (VrrpScript& s : d.cfg.scripts) {
    if (s.script.empty()) diag.error(s.loc, "vrrp_script " + s.name + " has no 'script' line");
    if (s.timeout.count() == 0) s.timeout = s.interval;
  }
  for (const TrackProxy& t : d.cfg.trackProxies)
    if (t.socket.empty()) diag.error(t.loc, "track_proxy " + t.name + " has no 'socket' line");
}

void completeGroups(Draft& d, Diag& diag) {
  for (SyncDraft& sd : d.groups) {
    SyncGroup& g = sd.g;
    g.smtpAlert = sd.smtpAlert.value_or(d.smtpAlertVrrp.value_or(d.cfg.global.smtpAlert));
    if (g.members.empty()) {
      diag.warn(g.loc, "Sync group " + g.name + " has no virtual router(s) - removing");
      continue;
    }
    if (g.members.size() == 1)
      diag.warn(g.loc, "Sync group " + g.name +
                           " has only 1 virtual router(s) - this probably isn't what you want");
    for (const std::string& m : g.members) {
      InstanceDraft* inst = nullptr;
      for (InstanceDraft& i : d.instances)
        if (i.vi.name == m) inst = &i;
      if (!inst) {
        diag.error(g.loc,
                   "Virtual router " + m + " specified in sync group " + g.name + " doesn't exist");
      } else if (!inst->vi.syncGroup.empty()) {
        diag.error(g.loc, "Virtual router " + m + " cannot be in sync group " + g.name +
                              ": it is already in sync group " + inst->vi.syncGroup);
      } else {
        inst->vi.syncGroup = g.name;
      }
    }
    d.cfg.syncGroups.push_back(g);
  }
}

// keepalived's rounding: v2 to whole seconds, v3 to centiseconds.
void completeAdvertInt(InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  const auto us = vi.advertInt.count();
  if (vi.version == 2) {
    if (us % 1000000) {
      vi.advertInt = Micros(std::max<int64_t>((us + 500000) / 1000000, 1) * 1000000);
      diag.warn(vi.loc, tag(vi) +
                            "VRRPv2 advertisement interval must be an integer number of "
                            "seconds - rounding to " +
                            common::formatDuration(vi.advertInt));
    }
    return;
  }
  if (us >= 40960000) {
    vi.advertInt = Micros(40950000);
    diag.warn(vi.loc, tag(vi) + "VRRPv3 advertisement interval is out of range. Must be less "
                                "than 40.96s. Setting to 40.95s");
  } else if (us % 10000) {
    vi.advertInt = Micros(std::max<int64_t>((us + 5000) / 10000, 1) * 10000);
    diag.warn(vi.loc, tag(vi) +
                          "VRRPv3 advertisement interval must be in units of 10ms - "
                          "rounding to " +
                          common::formatDuration(vi.advertInt));
  }
}

void completeStateAndPriority(InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  // keepalived: no priority -> 255 for an initial MASTER, else 100.
  vi.priority = d.priority.value_or(vi.state == InitialState::Master ? kPrioOwner : kPrioDefault);
  if (!d.stateSet) {
    vi.state = vi.priority == kPrioOwner ? InitialState::Master : InitialState::Backup;
  } else if (vi.strict && (vi.state == InitialState::Master) != (vi.priority == kPrioOwner)) {
    diag.warn(vi.loc, tag(vi) +
                          "State MASTER must match being address owner (priority 255) "
                          "in strict mode - setting " +
                          (vi.priority == kPrioOwner ? "MASTER" : "BACKUP"));
    vi.state = vi.priority == kPrioOwner ? InitialState::Master : InitialState::Backup;
  }
}

void completeAuth(InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  if (vi.authType == AuthType::None) {
    vi.authPass.clear();
    return;
  }
  std::string why;
  if (vi.strict)
    why = "Strict mode does not support authentication. Ignoring.";
  else if (vi.version == 3)
    why = "VRRP version 3 does not support authentication. Ignoring.";
  else if (vi.authPass.empty())
    why = "Authentication specified but no password given. Ignoring";
  if (why.empty()) return;
  diag.warn(vi.loc, tag(vi) + why);
  vi.authType = AuthType::None;
  vi.authPass.clear();
}

void completePreempt(InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  if (vi.priority == kPrioOwner && vi.nopreempt) {
    diag.warn(vi.loc,
              tag(vi) + "nopreempt is incompatible with priority 255 - resetting nopreempt");
    vi.nopreempt = false;
  }
  if (vi.state == InitialState::Master) {
    if (vi.nopreempt) {
      diag.warn(vi.loc,
                tag(vi) + "Warning - nopreempt will not work with initial state MASTER - clearing");
      vi.nopreempt = false;
    }
    if (vi.preemptDelay.count()) {
      diag.warn(vi.loc, tag(vi) + "Warning - preempt delay will not work with initial state "
                                  "MASTER - clearing");
      vi.preemptDelay = Micros(0);
    }
  }
  if (vi.preemptDelay.count() && vi.strict) {
    diag.warn(vi.loc, tag(vi) + "preempt_delay is incompatible with strict mode - resetting");
    vi.preemptDelay = Micros(0);
  }
  if (vi.preemptDelay.count() && vi.nopreempt) {
    diag.warn(vi.loc, tag(vi) + "preempt_delay is incompatible with nopreempt mode - resetting");
    vi.preemptDelay = Micros(0);
  }
}

void completeAccept(InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  vi.accept = d.accept.value_or(!vi.strict);
  if (vi.accept && vi.priority != kPrioOwner && vi.strict && vi.version == 2) {
    diag.warn(vi.loc, tag(vi) + "warning - accept mode for VRRP version 2 does not comply with "
                                "RFC3768 - resetting");
    vi.accept = false;
  }
}

// Resolves track_script / track_proxy references and their weights.
void completeTracks(Draft& dr, InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  for (size_t i = 0; i < vi.trackScripts.size(); ++i) {
    TrackScriptRef& t = vi.trackScripts[i];
    const VrrpScript* s = dr.cfg.findScript(t.name);
    if (!s) {
      diag.error(t.loc,
                 tag(vi) + "track script " + t.name + " not found (no vrrp_script " + t.name + ")");
      continue;
    }
    const TrackDraft& w = d.scriptWeights[i];
    t.weight = w.weight.value_or(s->weight);
    t.weightReverse = w.weight ? w.reverse : s->weightReverse;
    if (std::abs(t.weight) == kTrackWeightMax + 1) {
      diag.warn(t.loc, tag(vi) + "weight for " + t.name + " cannot be +/-254. Setting to +/-253");
      t.weight = t.weight > 0 ? kTrackWeightMax : -kTrackWeightMax;
    }
  }
  for (size_t i = 0; i < vi.trackProxies.size(); ++i) {
    TrackProxyRef& t = vi.trackProxies[i];
    const TrackProxy* p = dr.cfg.findTrackProxy(t.name);
    if (!p) {
      diag.error(t.loc, tag(vi) + "track_proxy " + t.name + " not found (no track_proxy " + t.name +
                            " block)");
      continue;
    }
    const TrackDraft& w = d.proxyWeights[i];
    t.weight = w.weight.value_or(p->weight);
    t.weightReverse = w.weight ? w.reverse : p->weightReverse;
  }
  std::vector<TrackInterfaceRef> ifs;
  for (const TrackInterfaceRef& t : vi.trackInterfaces) {
    if (t.name == vi.interface) {
      diag.warn(t.loc, tag(vi) + "Ignoring track_interface " + t.name + " since own interface");
      continue;
    }
    ifs.push_back(t);
  }
  vi.trackInterfaces = std::move(ifs);
}

// keepalived: weights cannot float in a sync group (they become 0 or the
// tracker is dropped) nor for the address owner (weighted trackers dropped).
void dropFloatingWeights(InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  const bool sync = !vi.syncGroup.empty();
  if (!sync && vi.priority != kPrioOwner) return;
  const std::string why = sync ? "SYNC group" : "address owner";
  std::vector<TrackInterfaceRef> ifs;
  for (TrackInterfaceRef t : vi.trackInterfaces) {
    if (t.weight) {
      diag.warn(t.loc, tag(vi) + "ignoring " + t.name + " tracked interface " +
                           (sync ? "weight " : "") + "due to " + why);
      if (!sync) continue;
      t.weight = 0;
    }
    ifs.push_back(t);
  }
  vi.trackInterfaces = std::move(ifs);
  std::erase_if(vi.trackScripts, [&](const TrackScriptRef& t) {
    if (!t.weight) return false;
    diag.warn(t.loc, tag(vi) + "ignoring tracked script " + t.name + " with weights due to " + why);
    return true;
  });
  std::erase_if(vi.trackProxies, [&](const TrackProxyRef& t) {
    if (!t.weight) return false;
    diag.warn(t.loc, tag(vi) + "ignoring track_proxy " + t.name + " with weights due to " + why);
    return true;
  });
}

void completeInstance(Draft& dr, InstanceDraft& d, Diag& diag) {
  VrrpInstance& vi = d.vi;
  const GlobalDefs& g = dr.cfg.global;
  if (vi.vrid == 0)
    diag.error(vi.loc, tag(vi) + "the virtual router id must be set (virtual_router_id)");
  if (vi.interface.empty()) diag.error(vi.loc, tag(vi) + "no interface given (interface IF)");
  vi.strict = d.strict.value_or(g.vrrpStrict);
  vi.version = d.version.value_or(g.vrrpVersion);
  if (vi.vips.empty() && !d.vipWritten) {
    if (vi.version == 3 || vi.strict)
      diag.error(vi.loc, tag(vi) + "No VIP specified; at least one is required");
    else
      diag.warn(vi.loc, tag(vi) + "No VIP specified; at least one is sensible");
  }
  completeStateAndPriority(d, diag);
  completeAuth(d, diag);
  if (vi.strict && !vi.unicastPeers.empty())
    diag.error(vi.loc, tag(vi) + "Unicast peers are not supported in strict mode");
  if (d.unicastKeyword && vi.unicastPeers.empty())
    diag.warn(vi.loc, tag(vi) + "A unicast keyword has been specified without any unicast "
                                "peers. Defaulting to multicast.");
  completePreempt(d, diag);
  completeAccept(d, diag);
  vi.smtpAlert = d.smtpAlert.value_or(dr.smtpAlertVrrp.value_or(g.smtpAlert));
  vi.skipCheckAdvAddr = d.skipCheckAdvAddr.value_or(g.skipCheckAdvAddr);
  vi.checkUnicastSrc = vi.checkUnicastSrc || g.checkUnicastSrc;
  vi.advertInt = d.advertInt.value_or(seconds(1));
  completeAdvertInt(d, diag);
  vi.garpMasterDelay = d.garpMasterDelay.value_or(g.garpMasterDelay);
  vi.garpMasterRepeat = d.garpMasterRepeat.value_or(g.garpMasterRepeat);
  vi.garpMasterRefresh = d.garpMasterRefresh.value_or(g.garpMasterRefresh);
  vi.garpMasterRefreshRepeat = d.garpMasterRefreshRepeat.value_or(g.garpMasterRefreshRepeat);
  // keepalived: unset -> the global lower-prio values, themselves defaulting
  // to the global garp_master ones; 0 in strict mode.
  vi.garpLowerPrioRepeat =
      d.garpLowerPrioRepeat.value_or(vi.strict ? 0 : g.garpLowerPrioRepeat.value_or(g.garpMasterRepeat));
  vi.garpLowerPrioDelay = d.garpLowerPrioDelay.value_or(
      vi.strict ? Micros(0) : g.garpLowerPrioDelay.value_or(g.garpMasterDelay));
  if (vi.strict && vi.garpLowerPrioRepeat) {
    diag.warn(vi.loc, tag(vi) + "Strict mode requires no repeat garps. resetting");
    vi.garpLowerPrioRepeat = 0;
  }
  if (vi.strict && vi.garpLowerPrioDelay.count()) {
    diag.warn(vi.loc, tag(vi) + "Strict mode requires no repeat garp delay. resetting");
    vi.garpLowerPrioDelay = Micros(0);
  }
  for (VirtualIp& v : vi.vips)
    if (v.dev.empty()) v.dev = vi.interface;
  for (VirtualIp& v : vi.excludedVips)
    if (v.dev.empty()) v.dev = vi.interface;
  completeTracks(dr, d, diag);
  dropFloatingWeights(d, diag);
}

void checkDuplicateVrids(const Draft& d, Diag& diag) {
  for (size_t i = 0; i < d.instances.size(); ++i) {
    const VrrpInstance& a = d.instances[i].vi;
    for (size_t j = i + 1; j < d.instances.size(); ++j) {
      const VrrpInstance& b = d.instances[j].vi;
      if (a.vrid && a.vrid == b.vrid && !a.interface.empty() && a.interface == b.interface)
        diag.error(b.loc, a.name + " and " + b.name + " both use VRID " + std::to_string(a.vrid) +
                              " with IPv4 on interface " + a.interface);
    }
  }
}

// --- script security (keepalived's rules, checked with an injected lookup) ---

struct ScriptUse {
  const ScriptCommand* cmd;
  std::string what;
};

std::vector<ScriptUse> scriptUses(const Config& c) {
  std::vector<ScriptUse> out;
  auto add = [&](const ScriptCommand& s, const std::string& what) {
    if (!s.empty()) out.push_back({&s, what});
  };
  for (const VrrpScript& s : c.scripts)
    add(s.script, "vrrp_script " + s.name);
  for (const VrrpInstance& v : c.instances) {
    for (const ScriptCommand* n :
         {&v.notifyMaster, &v.notifyBackup, &v.notifyFault, &v.notifyStop, &v.notify})
      add(*n, "notify script of " + v.name);
  }
  for (const SyncGroup& g : c.syncGroups) {
    for (const ScriptCommand* n :
         {&g.notifyMaster, &g.notifyBackup, &g.notifyFault, &g.notifyStop, &g.notify})
      add(*n, "notify script of sync group " + g.name);
  }
  return out;
}

void checkScriptSecurity(Draft& d, Diag& diag, const ParseOptions& opt) {
  const GlobalDefs& g = d.cfg.global;
  const std::vector<ScriptUse> uses = scriptUses(d.cfg);
  if (uses.empty() || !opt.lookupUser) return;
  // The default user: script_user, else keepalived_script, else root
  // (refused under enable_script_security, as keepalived refuses it).
  std::optional<unsigned> defaultUid;
  bool defaultOk = true;
  if (!g.scriptUser.empty()) {
    defaultUid = opt.lookupUser(g.scriptUser);
    if (!defaultUid) {
      diag.error(d.scriptUserLoc, "script_user " + g.scriptUser + " does not exist");
      defaultOk = false;
    }
  } else if (auto ks = opt.lookupUser("keepalived_script")) {
    defaultUid = ks;
  } else if (g.enableScriptSecurity) {
    defaultOk = false;
  } else {
    defaultUid = 0;
  }
  bool rootReported = false, defaultReported = false;
  for (const ScriptUse& u : uses) {
    std::optional<unsigned> uid = defaultUid;
    if (!u.cmd->user.empty()) {
      uid = opt.lookupUser(u.cmd->user);
      if (!uid) {
        diag.error(u.cmd->loc, "user " + u.cmd->user + " for " + u.what + " does not exist");
        continue;
      }
    } else if (!defaultOk) {
      if (g.scriptUser.empty() && !defaultReported) {
        diag.error(u.cmd->loc, "Unable to set default user keepalived_script for " + u.what +
                                   " (the user does not exist; with enable_script_security "
                                   "scripts do not default to root: set script_user)");
        defaultReported = true;
      }
      continue;
    }
    if (uid && *uid == 0 && !g.enableScriptSecurity && !rootReported) {
      d.securityViolation = true;
      rootReported = true;
      diag.warn(u.cmd->loc, "SECURITY VIOLATION - scripts are being executed but script_security "
                            "not enabled (" +
                                u.what +
                                " would run as root; add "
                                "enable_script_security to global_defs, or set script_user)");
    }
  }
}

} // namespace

void complete(Draft& d, Diag& diag, const ParseOptions& opt) {
  if (!d.mcastGroupSet) inet_pton(AF_INET, "224.0.0.18", &d.cfg.global.mcastGroup4.v4);
  d.cfg.global.mcastGroup4.family = AF_INET;
  completeScripts(d, diag);
  completeProxyUsers(d, diag, opt);
  completeGroups(d, diag);
  for (InstanceDraft& i : d.instances)
    completeInstance(d, i, diag);
  checkDuplicateVrids(d, diag);
  for (InstanceDraft& i : d.instances)
    d.cfg.instances.push_back(std::move(i.vi));
  checkScriptSecurity(d, diag, opt);
  diag.out.config = std::move(d.cfg);
  diag.out.securityViolation = d.securityViolation;
}

} // namespace vrrpd::cfg
