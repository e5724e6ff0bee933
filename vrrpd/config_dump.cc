// dumpYaml(): the effective configuration for `vrrpd --dump`. Every value is
// printed resolved (defaults applied, keepalived's corrections made), keys
// spelled as the keepalived keywords, durations as formatDuration() writes
// them, commands as their argument vectors (null when not configured).
#include "vrrpd/config.h"

#include <yaml-cpp/yaml.h>

namespace vrrpd {
namespace {

std::string dur(Micros d) {
  return common::formatDuration(d);
}

template <class V> YAML::EMITTER_MANIP seqStyle(const V& v) {
  return v.empty() ? YAML::Flow : YAML::Block;
}

template <class T> void kv(YAML::Emitter& y, const char* key, const T& value) {
  y << YAML::Key << key << YAML::Value << value;
}

void strList(YAML::Emitter& y, const char* key, const std::vector<std::string>& v) {
  y << YAML::Key << key << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const std::string& s : v)
    y << s;
  y << YAML::EndSeq;
}

void command(YAML::Emitter& y, const char* key, const ScriptCommand& c) {
  y << YAML::Key << key << YAML::Value;
  if (c.empty()) {
    y << YAML::Null;
    return;
  }
  y << YAML::BeginMap;
  strList(y, "argv", c.argv);
  kv(y, "user", c.user);
  kv(y, "group", c.group);
  y << YAML::EndMap;
}

void emitGlobal(YAML::Emitter& y, const GlobalDefs& g) {
  y << YAML::Key << "global_defs" << YAML::Value << YAML::BeginMap;
  kv(y, "router_id", g.routerId);
  strList(y, "notification_email", g.notificationEmail);
  kv(y, "notification_email_from", g.notificationEmailFrom);
  kv(y, "smtp_server", g.smtpServer);
  kv(y, "smtp_port", g.smtpPort);
  kv(y, "smtp_connect_timeout", dur(g.smtpConnectTimeout));
  kv(y, "smtp_alert", g.smtpAlert);
  kv(y, "vrrp_version", g.vrrpVersion);
  kv(y, "vrrp_mcast_group4", g.mcastGroup4.str());
  kv(y, "vrrp_garp_master_delay", dur(g.garpMasterDelay));
  kv(y, "vrrp_garp_master_repeat", g.garpMasterRepeat);
  kv(y, "vrrp_garp_master_refresh", dur(g.garpMasterRefresh));
  kv(y, "vrrp_garp_master_refresh_repeat", g.garpMasterRefreshRepeat);
  kv(y, "vrrp_garp_interval", dur(g.garpInterval));
  kv(y, "vrrp_gna_interval", dur(g.gnaInterval));
  kv(y, "vrrp_strict", g.vrrpStrict);
  kv(y, "vrrp_check_unicast_src", g.checkUnicastSrc);
  kv(y, "vrrp_skip_check_adv_addr", g.skipCheckAdvAddr);
  kv(y, "enable_script_security", g.enableScriptSecurity);
  kv(y, "script_user", g.scriptUser);
  kv(y, "script_group", g.scriptGroup);
  y << YAML::EndMap;
}

void emitScripts(YAML::Emitter& y, const std::vector<VrrpScript>& scripts) {
  y << YAML::Key << "vrrp_scripts" << YAML::Value << seqStyle(scripts) << YAML::BeginSeq;
  for (const VrrpScript& s : scripts) {
    y << YAML::BeginMap;
    kv(y, "name", s.name);
    command(y, "script", s.script);
    kv(y, "interval", dur(s.interval));
    kv(y, "timeout", dur(s.timeout));
    kv(y, "weight", s.weight);
    kv(y, "weight_reverse", s.weightReverse);
    kv(y, "rise", s.rise);
    kv(y, "fall", s.fall);
    kv(y, "init_fail", s.initFail);
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
}

void emitTrackProxies(YAML::Emitter& y, const std::vector<TrackProxy>& tps) {
  y << YAML::Key << "track_proxies" << YAML::Value << seqStyle(tps) << YAML::BeginSeq;
  for (const TrackProxy& t : tps) {
    y << YAML::BeginMap;
    kv(y, "name", t.name);
    kv(y, "socket", t.socket);
    kv(y, "backend", t.backend);
    kv(y, "weight", t.weight);
    kv(y, "weight_reverse", t.weightReverse);
    kv(y, "rise", t.rise);
    kv(y, "fall", t.fall);
    kv(y, "heartbeat", dur(t.heartbeat));
    kv(y, "proxy_user", t.proxyUser);
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
}

void emitVips(YAML::Emitter& y, const char* key, const std::vector<VirtualIp>& vips) {
  y << YAML::Key << key << YAML::Value << seqStyle(vips) << YAML::BeginSeq;
  for (const VirtualIp& v : vips) {
    y << YAML::BeginMap;
    kv(y, "address", v.addr.str());
    kv(y, "dev", v.dev);
    kv(y, "scope", v.scope);
    kv(y, "brd", v.broadcastAuto ? std::string("+") : v.broadcast ? v.broadcast->str() : "");
    kv(y, "label", v.label);
    kv(y, "no_track", v.noTrack);
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
}

template <class T> void emitTracks(YAML::Emitter& y, const char* key, const std::vector<T>& ts) {
  y << YAML::Key << key << YAML::Value << seqStyle(ts) << YAML::BeginSeq;
  for (const T& t : ts) {
    y << YAML::Flow << YAML::BeginMap;
    kv(y, "name", t.name);
    kv(y, "weight", t.weight);
    kv(y, "reverse", t.weightReverse);
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
}

std::string optIp(const std::optional<common::IpAddr>& ip) {
  return ip ? ip->str() : "";
}

void emitInstance(YAML::Emitter& y, const VrrpInstance& v) {
  y << YAML::BeginMap;
  kv(y, "name", v.name);
  kv(y, "state", stateName(v.state));
  kv(y, "interface", v.interface);
  kv(y, "virtual_router_id", v.vrid);
  kv(y, "priority", v.priority);
  kv(y, "advert_int", dur(v.advertInt));
  kv(y, "version", v.version);
  y << YAML::Key << "authentication" << YAML::Value << YAML::BeginMap;
  kv(y, "auth_type", authName(v.authType));
  kv(y, "auth_pass", v.authPass);
  y << YAML::EndMap;
  emitVips(y, "virtual_ipaddress", v.vips);
  emitVips(y, "virtual_ipaddress_excluded", v.excludedVips);
  kv(y, "mcast_src_ip", optIp(v.mcastSrcIp));
  kv(y, "unicast_src_ip", optIp(v.unicastSrcIp));
  y << YAML::Key << "unicast_peer" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const common::IpAddr& p : v.unicastPeers)
    y << p.str();
  y << YAML::EndSeq;
  emitTracks(y, "track_script", v.trackScripts);
  emitTracks(y, "track_interface", v.trackInterfaces);
  emitTracks(y, "track_proxy", v.trackProxies);
  kv(y, "nopreempt", v.nopreempt);
  kv(y, "preempt_delay", dur(v.preemptDelay));
  kv(y, "garp_master_delay", dur(v.garpMasterDelay));
  kv(y, "garp_master_repeat", v.garpMasterRepeat);
  kv(y, "garp_lower_prio_delay", dur(v.garpLowerPrioDelay));
  kv(y, "garp_lower_prio_repeat", v.garpLowerPrioRepeat);
  kv(y, "garp_master_refresh", dur(v.garpMasterRefresh));
  kv(y, "garp_master_refresh_repeat", v.garpMasterRefreshRepeat);
  command(y, "notify_master", v.notifyMaster);
  command(y, "notify_backup", v.notifyBackup);
  command(y, "notify_fault", v.notifyFault);
  command(y, "notify_stop", v.notifyStop);
  command(y, "notify", v.notify);
  kv(y, "smtp_alert", v.smtpAlert);
  kv(y, "accept", v.accept);
  kv(y, "dont_track_primary", v.dontTrackPrimary);
  kv(y, "strict_mode", v.strict);
  kv(y, "check_unicast_src", v.checkUnicastSrc);
  kv(y, "skip_check_adv_addr", v.skipCheckAdvAddr);
  kv(y, "old_unicast_checksum", v.oldUnicastChecksum);
  kv(y, "sync_group", v.syncGroup);
  y << YAML::EndMap;
}

void emitGroup(YAML::Emitter& y, const SyncGroup& g) {
  y << YAML::BeginMap;
  kv(y, "name", g.name);
  strList(y, "group", g.members);
  command(y, "notify_master", g.notifyMaster);
  command(y, "notify_backup", g.notifyBackup);
  command(y, "notify_fault", g.notifyFault);
  command(y, "notify_stop", g.notifyStop);
  command(y, "notify", g.notify);
  kv(y, "smtp_alert", g.smtpAlert);
  y << YAML::EndMap;
}

} // namespace

std::string dumpYaml(const Config& cfg) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  emitGlobal(y, cfg.global);
  emitScripts(y, cfg.scripts);
  emitTrackProxies(y, cfg.trackProxies);
  y << YAML::Key << "vrrp_instances" << YAML::Value << seqStyle(cfg.instances) << YAML::BeginSeq;
  for (const VrrpInstance& v : cfg.instances)
    emitInstance(y, v);
  y << YAML::EndSeq;
  y << YAML::Key << "vrrp_sync_groups" << YAML::Value << seqStyle(cfg.syncGroups) << YAML::BeginSeq;
  for (const SyncGroup& g : cfg.syncGroups)
    emitGroup(y, g);
  y << YAML::EndSeq;
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

} // namespace vrrpd
