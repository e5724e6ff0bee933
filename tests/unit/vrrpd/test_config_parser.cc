// vrrpd config: values, keepalived's defaults and its corrections.
#include "config_test_util.h"

using namespace vrrpd;
using namespace vrrpd::test;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

VrrpInstance only(const ParseOutcome& o) { // a copy: callers pass temporaries
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  REQUIRE(o.config.instances.size() == 1);
  return o.config.instances.front();
}

} // namespace

TEST_CASE("a minimal instance gets keepalived's defaults", "[config][defaults]") {
  auto o = parse(instance() + "}\n");
  const VrrpInstance& v = only(o);
  CHECK(o.messages.empty());
  CHECK(v.state == InitialState::Backup);
  CHECK(v.priority == 100);
  CHECK(v.vrid == 51);
  CHECK(v.interface == "eth0");
  CHECK(v.advertInt == seconds(1));
  CHECK(v.version == 2);
  CHECK(v.authType == AuthType::None);
  CHECK(v.accept);
  CHECK_FALSE(v.nopreempt);
  CHECK(v.garpMasterDelay == seconds(5));
  CHECK(v.garpMasterRepeat == 5);
  CHECK(v.garpMasterRefresh == seconds(0));
  CHECK(v.garpMasterRefreshRepeat == 1);
  CHECK(v.garpLowerPrioRepeat == 5); // keepalived: the garp_master defaults
  CHECK(v.garpLowerPrioDelay == seconds(5));
  REQUIRE(v.vips.size() == 1);
  CHECK(v.vips[0].addr.str() == "198.18.0.222/32");
  CHECK(v.vips[0].dev == "eth0");
  CHECK(v.vips[0].scope == "global");
  CHECK(o.config.global.mcastGroup4.str() == "224.0.0.18");
  CHECK(o.config.global.vrrpVersion == 2);
  CHECK(testExitCode(o) == kExitOk);
}

TEST_CASE("state MASTER without priority is the address owner (255)", "[config][defaults]") {
  const VrrpInstance& v = only(parse(instance() + "  state MASTER\n}\n"));
  CHECK(v.state == InitialState::Master);
  CHECK(v.priority == 255);
}

TEST_CASE("priority 255 without state starts as MASTER", "[config][defaults]") {
  const VrrpInstance& v = only(parse(instance() + "  priority 255\n}\n"));
  CHECK(v.state == InitialState::Master);
}

TEST_CASE("state BACKUP with priority 255 stays BACKUP", "[config][defaults]") {
  auto o = parse(instance() + "  state BACKUP\n  priority 255\n}\n");
  CHECK(only(o).state == InitialState::Backup);
  CHECK(o.messages.empty());
}

TEST_CASE("global GARP settings are the instances' defaults, instance lines override",
          "[config][defaults]") {
  auto o = parse("global_defs {\n vrrp_garp_master_delay 10\n vrrp_garp_master_repeat 2\n"
                 " vrrp_garp_master_refresh 60\n vrrp_garp_master_refresh_repeat 3\n"
                 " vrrp_garp_interval 0.001\n vrrp_gna_interval 0.5\n}\n" +
                 instance() + "  garp_master_repeat 7\n}\n" + instance("VI_2", 52) + "}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  const auto& a = o.config.instances[0];
  const auto& b = o.config.instances[1];
  CHECK(a.garpMasterDelay == seconds(10));
  CHECK(a.garpMasterRepeat == 7);
  CHECK(b.garpMasterRepeat == 2);
  CHECK(b.garpMasterRefresh == seconds(60));
  CHECK(b.garpMasterRefreshRepeat == 3);
  CHECK(o.config.global.garpInterval == milliseconds(1));
  CHECK(o.config.global.gnaInterval == milliseconds(500));
}

TEST_CASE("garp_lower_prio: global garp_master values, then the global lower-prio ones, "
          "then the instance's, 0 in strict mode", "[config][defaults]") {
  auto o = parse("global_defs {\n vrrp_garp_master_delay 10\n vrrp_garp_master_repeat 2\n}\n" +
                 instance() + "  garp_master_repeat 7\n}\n" + instance("VI_2", 52) +
                 "  garp_lower_prio_repeat 1\n  garp_lower_prio_delay 0\n}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  // The instance's own garp_master_repeat does not count: keepalived takes
  // the global values.
  CHECK(o.config.instances[0].garpLowerPrioRepeat == 2);
  CHECK(o.config.instances[0].garpLowerPrioDelay == seconds(10));
  CHECK(o.config.instances[1].garpLowerPrioRepeat == 1);
  CHECK(o.config.instances[1].garpLowerPrioDelay == seconds(0));

  auto g = parse("global_defs {\n vrrp_garp_lower_prio_repeat 3\n vrrp_garp_lower_prio_delay 4\n}\n" +
                 instance() + "}\n");
  REQUIRE(g.ok());
  CHECK(only(g).garpLowerPrioRepeat == 3);
  CHECK(only(g).garpLowerPrioDelay == seconds(4));

  auto st = parse(instance() + "  strict_mode\n  garp_lower_prio_repeat 2\n}\n");
  CHECK(only(st).garpLowerPrioRepeat == 0);
  CHECK(joined(st.messages).find("Strict mode requires no repeat garps") != std::string::npos);
}

TEST_CASE("global_defs keywords are read", "[config][global]") {
  auto o = parse("global_defs {\n router_id r1\n notification_email {\n  a@b.c\n  d@e.f\n }\n"
                 " notification_email_from x@y.z\n smtp_server 198.18.0.1 2525\n"
                 " smtp_connect_timeout 20\n vrrp_version 3\n vrrp_mcast_group4 224.0.0.19\n"
                 " vrrp_check_unicast_src\n vrrp_skip_check_adv_addr\n}\n" +
                 instance() + "}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  const GlobalDefs& g = o.config.global;
  CHECK(g.routerId == "r1");
  CHECK(g.notificationEmail == std::vector<std::string>{"a@b.c", "d@e.f"});
  CHECK(g.notificationEmailFrom == "x@y.z");
  CHECK(g.smtpServer == "198.18.0.1");
  CHECK(g.smtpPort == 2525);
  CHECK(g.smtpConnectTimeout == seconds(20));
  CHECK(g.vrrpVersion == 3);
  CHECK(g.mcastGroup4.str() == "224.0.0.19");
  const VrrpInstance& v = o.config.instances[0];
  CHECK(v.version == 3);
  CHECK(v.checkUnicastSrc);
  CHECK(v.skipCheckAdvAddr);
}

TEST_CASE("instance keywords are read into the model", "[config][instance]") {
  auto o = parse(std::string(kSecure) +
                 "vrrp_script chk {\n script \"/bin/check 'a b'\"\n interval 3\n weight 5 reverse\n"
                 " rise 2\n fall 4\n user nobody\n init_fail\n}\n"
                 "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 7\n"
                 " priority 120\n advert_int 3\n authentication {\n  auth_type PASS\n"
                 "  auth_pass secret\n }\n virtual_ipaddress {\n"
                 "  198.18.0.223/24 brd 198.18.0.255 dev eth1 scope link label eth1:1\n"
                 "  198.18.0.224 brd + no_track\n }\n"
                 " virtual_ipaddress_excluded {\n  198.18.1.1/16\n }\n"
                 " mcast_src_ip 198.18.0.10\n unicast_src_ip 198.18.0.11\n"
                 " unicast_peer {\n  198.18.0.12\n  198.18.0.13\n }\n"
                 " track_script {\n  chk weight -30\n }\n"
                 " track_interface {\n  eth1 weight 10 reverse\n  eth2\n }\n"
                 " nopreempt\n preempt_delay 0\n"
                 " notify_master \"/bin/notify master\" nobody\n notify_backup /bin/nb\n"
                 " notify_fault \"/bin/notify fault\"\n notify_stop /bin/stop\n notify /bin/all\n"
                 " smtp_alert\n no_accept\n dont_track_primary\n old_unicast_checksum\n}\n");
  const VrrpInstance& v = only(o);
  CHECK(o.messages.empty());
  CHECK(v.vrid == 7);
  CHECK(v.priority == 120);
  CHECK(v.advertInt == seconds(3));
  CHECK(v.authType == AuthType::Pass);
  CHECK(v.authPass == "secret");
  REQUIRE(v.vips.size() == 2);
  CHECK(v.vips[0].addr.str() == "198.18.0.223/24");
  CHECK(v.vips[0].broadcast->str() == "198.18.0.255");
  CHECK(v.vips[0].dev == "eth1");
  CHECK(v.vips[0].scope == "link");
  CHECK(v.vips[0].label == "eth1:1");
  CHECK(v.vips[1].broadcastAuto);
  CHECK(v.vips[1].noTrack);
  CHECK(v.vips[1].dev == "eth0");
  REQUIRE(v.excludedVips.size() == 1);
  CHECK(v.mcastSrcIp->str() == "198.18.0.10");
  CHECK(v.unicastSrcIp->str() == "198.18.0.11");
  REQUIRE(v.unicastPeers.size() == 2);
  CHECK(v.unicastPeers[1].str() == "198.18.0.13");
  REQUIRE(v.trackScripts.size() == 1);
  CHECK(v.trackScripts[0].weight == -30);
  CHECK_FALSE(v.trackScripts[0].weightReverse);
  REQUIRE(v.trackInterfaces.size() == 2);
  CHECK(v.trackInterfaces[0].weight == 10);
  CHECK(v.trackInterfaces[0].weightReverse);
  CHECK(v.nopreempt);
  CHECK(v.notifyMaster.argv == std::vector<std::string>{"/bin/notify", "master"});
  CHECK(v.notifyMaster.user == "nobody");
  CHECK(v.notifyBackup.argv == std::vector<std::string>{"/bin/nb"});
  CHECK(v.notify.argv == std::vector<std::string>{"/bin/all"});
  CHECK(v.smtpAlert);
  CHECK_FALSE(v.accept);
  CHECK(v.dontTrackPrimary);
  CHECK(v.oldUnicastChecksum);
  const VrrpScript& s = o.config.scripts.at(0);
  CHECK(s.script.argv == std::vector<std::string>{"/bin/check", "a b"});
  CHECK(s.interval == seconds(3));
  CHECK(s.timeout == seconds(3)); // defaults to the interval
  CHECK(s.weight == 5);
  CHECK(s.weightReverse);
  CHECK(s.rise == 2);
  CHECK(s.fall == 4);
  CHECK(s.script.user == "nobody");
  CHECK(s.initFail);
}

TEST_CASE("track_script without weight takes the script's weight", "[config][track]") {
  auto o = parse(std::string(kSecure) + "vrrp_script chk {\n script /bin/true\n weight 2\n}\n" +
                 instance() + "  track_script {\n    chk\n  }\n}\n");
  REQUIRE(only(o).trackScripts.at(0).weight == 2);
}

TEST_CASE("track_proxy block and reference (ours)", "[config][track]") {
  auto o = parse("track_proxy chk_proxyd {\n socket /run/proxyd/admin.sock\n backend app\n"
                 " weight 2\n rise 3\n fall 2\n heartbeat 200ms\n}\n" +
                 instance() + "  track_proxy {\n    chk_proxyd\n  }\n}\n" + instance("VI_2", 52) +
                 "  track_proxy {\n    chk_proxyd weight -50\n  }\n}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  const TrackProxy& t = o.config.trackProxies.at(0);
  CHECK(t.socket == "/run/proxyd/admin.sock");
  CHECK(t.backend == "app");
  CHECK(t.weight == 2);
  CHECK(t.rise == 3);
  CHECK(t.fall == 2);
  CHECK(t.heartbeat == milliseconds(200));
  CHECK(o.config.instances[0].trackProxies.at(0).weight == 2);
  CHECK(o.config.instances[1].trackProxies.at(0).weight == -50);
}

TEST_CASE("track_proxy heartbeat defaults to 1s, a bare number is seconds", "[config][track]") {
  auto o =
      parse("track_proxy a {\n socket /s\n}\ntrack_proxy b {\n socket /s\n heartbeat 0.5\n}\n");
  REQUIRE(o.ok());
  CHECK(o.config.trackProxies[0].heartbeat == seconds(1));
  CHECK(o.config.trackProxies[1].heartbeat == milliseconds(500));
}

TEST_CASE("track_proxy proxy_user: a user name or a uid, an unknown user is an error",
          "[config][track]") {
  auto o = parse("track_proxy a {\n socket /s\n proxy_user nobody\n}\n"
                 "track_proxy b {\n socket /s\n proxy_user 998\n}\n"
                 "track_proxy c {\n socket /s\n}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  CHECK(o.config.trackProxies[0].proxyUid == 65534u);
  CHECK(o.config.trackProxies[1].proxyUid == 998u);
  CHECK_FALSE(o.config.trackProxies[2].proxyUid);
  auto bad = parse("track_proxy a {\n socket /s\n proxy_user nosuchuser\n}\n");
  CHECK(has(bad.errors, "k.conf:1: track_proxy a: proxy_user nosuchuser does not exist"));
}

TEST_CASE("vrrp_sync_group lists its members and marks them", "[config][sync]") {
  auto o = parse(std::string(kSecure) + instance("VI_1", 1) + "}\n" + instance("VI_2", 2) +
                 "}\nvrrp_sync_group G1 {\n group {\n  VI_1\n  VI_2\n }\n"
                 " notify_master \"/bin/g master\"\n notify /bin/g\n}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  const SyncGroup& g = o.config.syncGroups.at(0);
  CHECK(g.members == std::vector<std::string>{"VI_1", "VI_2"});
  CHECK(g.notifyMaster.argv == std::vector<std::string>{"/bin/g", "master"});
  CHECK(o.config.instances[0].syncGroup == "G1");
}

// --- corrections: applied with a warning, as keepalived ---

TEST_CASE("nopreempt with state MASTER is cleared with keepalived's warning",
          "[config][corrections]") {
  auto o = parse(instance() + "  state MASTER\n  priority 100\n  nopreempt\n}\n");
  CHECK_FALSE(only(o).nopreempt);
  CHECK(has(o.warnings, "k.conf:1: warning: (VI_1) Warning - nopreempt will not work with "
                        "initial state MASTER - clearing"));
  CHECK(testExitCode(o) == kExitConfigTest);
}

TEST_CASE("nopreempt with priority 255 is reset", "[config][corrections]") {
  auto o = parse(instance() + "  state BACKUP\n  priority 255\n  nopreempt\n}\n");
  CHECK_FALSE(only(o).nopreempt);
  CHECK(has(o.warnings, "nopreempt is incompatible with priority 255"));
}

TEST_CASE("preempt_delay is cleared for MASTER and with nopreempt", "[config][corrections]") {
  auto a = parse(instance() + "  state MASTER\n  priority 100\n  preempt_delay 5\n}\n");
  CHECK(only(a).preemptDelay == seconds(0));
  CHECK(has(a.warnings, "preempt delay will not work with initial state MASTER"));
  auto b = parse(instance() + "  nopreempt\n  preempt_delay 5\n}\n");
  CHECK(only(b).preemptDelay == seconds(0));
  CHECK(has(b.warnings, "preempt_delay is incompatible with nopreempt mode"));
  auto c = parse(instance() + "  preempt_delay 2.5\n}\n");
  CHECK(only(c).preemptDelay == milliseconds(2500));
  CHECK(c.messages.empty());
}

TEST_CASE("auth_pass longer than 8 is truncated with a warning", "[config][corrections]") {
  auto o = parse(instance() + "  authentication {\n    auth_type PASS\n"
                              "    auth_pass 1234567890abc\n  }\n}\n");
  CHECK(only(o).authPass == "12345678");
  CHECK(has(o.warnings, "k.conf:9: warning: Truncating auth_pass to 8 characters"));
}

TEST_CASE("authentication is dropped where keepalived drops it", "[config][corrections]") {
  auto nopass = parse(instance() + "  authentication {\n    auth_type PASS\n  }\n}\n");
  CHECK(only(nopass).authType == AuthType::None);
  CHECK(has(nopass.warnings, "Authentication specified but no password given"));
  auto v3 = parse(instance() + "  version 3\n  authentication {\n    auth_type PASS\n"
                               "    auth_pass x\n  }\n}\n");
  CHECK(only(v3).authType == AuthType::None);
  CHECK(has(v3.warnings, "VRRP version 3 does not support authentication"));
}

TEST_CASE("advert_int is rounded: whole seconds for v2, 10ms for v3", "[config][corrections]") {
  auto v2 = parse(instance() + "  advert_int 1.37\n}\n");
  CHECK(only(v2).advertInt == seconds(1));
  CHECK(has(v2.warnings, "VRRPv2 advertisement interval must be an integer"));
  auto small = parse(instance() + "  advert_int 0.4\n}\n");
  CHECK(only(small).advertInt == seconds(1));
  auto up = parse(instance() + "  advert_int 1.5\n}\n");
  CHECK(only(up).advertInt == seconds(2));
  auto v3 = parse(instance() + "  version 3\n  advert_int 0.015\n}\n");
  CHECK(only(v3).advertInt == milliseconds(20));
  CHECK(has(v3.warnings, "units of 10ms"));
  auto big = parse(instance() + "  version 3\n  advert_int 41\n}\n");
  CHECK(only(big).advertInt == milliseconds(40950));
  auto ok = parse(instance() + "  version 3\n  advert_int 0.25\n}\n");
  CHECK(only(ok).advertInt == milliseconds(250));
  CHECK(ok.messages.empty());
}

TEST_CASE("track weights of +/-254 become +/-253", "[config][corrections]") {
  auto o = parse(std::string(kSecure) + "vrrp_script chk {\n script /bin/true\n}\n" + instance() +
                 "  track_script {\n    chk weight -254\n  }\n}\n");
  CHECK(only(o).trackScripts.at(0).weight == -253);
  CHECK(has(o.warnings, "cannot be +/-254"));
}

TEST_CASE("the address owner drops weighted trackers", "[config][corrections]") {
  auto o = parse(std::string(kSecure) + "vrrp_script chk {\n script /bin/true\n weight 2\n}\n" +
                 instance() + "  state MASTER\n  track_script {\n    chk\n  }\n}\n");
  CHECK(only(o).trackScripts.empty());
  CHECK(has(o.warnings, "ignoring tracked script chk with weights due to address owner"));
}

TEST_CASE("sync group members drop weighted scripts and zero interface weights",
          "[config][corrections]") {
  auto o =
      parse(std::string(kSecure) + "vrrp_script chk {\n script /bin/true\n weight 2\n}\n" +
            instance("VI_1", 1) +
            "  track_script {\n    chk\n  }\n  track_interface {\n    eth1 weight 5\n  }\n}\n" +
            instance("VI_2", 2) + "}\nvrrp_sync_group G {\n group {\n  VI_1 VI_2\n }\n}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  const VrrpInstance& v = o.config.instances[0];
  CHECK(v.trackScripts.empty());
  REQUIRE(v.trackInterfaces.size() == 1);
  CHECK(v.trackInterfaces[0].weight == 0);
  CHECK(has(o.warnings, "due to SYNC group"));
}

TEST_CASE("tracking the instance's own interface is ignored", "[config][corrections]") {
  auto o = parse(instance() + "  track_interface {\n    eth0\n  }\n}\n");
  CHECK(only(o).trackInterfaces.empty());
  CHECK(has(o.warnings, "Ignoring track_interface eth0 since own interface"));
}

TEST_CASE("strict mode: no accept, MASTER only as owner, no preempt_delay",
          "[config][corrections]") {
  auto o = parse("global_defs {\n vrrp_strict\n}\n" + instance() +
                 "  state MASTER\n  priority 100\n}\n");
  const VrrpInstance& v = only(o);
  CHECK(v.strict);
  CHECK_FALSE(v.accept);
  CHECK(v.state == InitialState::Backup);
  CHECK(has(o.warnings, "State MASTER must match being address owner"));
}

TEST_CASE("vrrp_script zero interval, timeout, rise and fall become 1", "[config][corrections]") {
  auto o =
      parse(std::string(kSecure) +
            "vrrp_script chk {\n script /bin/true\n interval 0\n timeout 0\n rise 0\n fall 0\n}\n");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  const VrrpScript& s = o.config.scripts.at(0);
  CHECK(s.interval == seconds(1));
  CHECK(s.timeout == seconds(1));
  CHECK(s.rise == 1);
  CHECK(s.fall == 1);
  CHECK(o.warnings.size() == 4);
}

TEST_CASE("no VIP is a warning in v2 and an error in v3", "[config][corrections]") {
  auto v2 = parse("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n}\n");
  CHECK(v2.ok());
  CHECK(has(v2.warnings, "No VIP specified; at least one is sensible"));
  auto v3 = parse("vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n version 3\n}\n");
  CHECK(has(v3.errors, "k.conf:1: (VI_1) No VIP specified; at least one is required"));
}

TEST_CASE("a unicast source without peers falls back to multicast with a warning",
          "[config][corrections]") {
  auto o = parse(instance() + "  unicast_src_ip 198.18.0.1\n}\n");
  CHECK(only(o).unicastPeers.empty());
  CHECK(has(o.warnings, "A unicast keyword has been specified without any unicast peers"));
}

// --- script security (keepalived's rules; exit 6) ---

TEST_CASE("scripts that would run as root without enable_script_security: exit 6",
          "[config][security]") {
  auto o = parse("vrrp_script chk {\n script /bin/true\n}\n" + instance() +
                 "  track_script {\n    chk\n  }\n}\n");
  CHECK(o.ok());
  CHECK(o.securityViolation);
  CHECK(has(o.warnings, "k.conf:2: warning: SECURITY VIOLATION - scripts are being executed "
                        "but script_security not enabled"));
  CHECK(testExitCode(o) == kExitConfigSecurity);
}

TEST_CASE("a notify script alone also counts", "[config][security]") {
  auto o = parse(instance() + "  notify_master /bin/true\n}\n");
  CHECK(o.securityViolation);
}

TEST_CASE("errors outrank the security violation, which outranks corrections",
          "[config][security]") {
  auto o = parse(instance() + "  notify_master /bin/true\n  bogus\n}\n");
  CHECK_FALSE(o.ok());
  CHECK(o.securityViolation);
  CHECK(testExitCode(o) == kExitFatal); // the file cannot run
  auto w = parse(instance() + "  notify_master /bin/true\n  nopreempt\n  state MASTER\n}\n");
  CHECK(w.ok());
  CHECK_FALSE(w.warnings.empty());
  CHECK(testExitCode(w) == kExitConfigSecurity);
}

TEST_CASE("script_user or keepalived_script avoid root", "[config][security]") {
  auto o = parse("global_defs {\n script_user nobody\n}\n" + instance() +
                 "  notify_master /bin/true\n}\n");
  CHECK_FALSE(o.securityViolation);
  CHECK(o.messages.empty());
  ParseOptions withKs;
  withKs.lookupUser = [](const std::string& n) -> std::optional<unsigned> {
    if (n == "keepalived_script") return 999;
    return fakeUsers(n);
  };
  auto k = parseConfigText(instance() + "  notify_master /bin/true\n}\n", "k.conf", withKs);
  CHECK_FALSE(k.securityViolation);
  CHECK(testExitCode(k) == kExitOk);
}

TEST_CASE("enable_script_security without a usable default user is an error",
          "[config][security]") {
  auto o = parse("global_defs {\n enable_script_security\n}\n" + instance() +
                 "  notify_master /bin/true\n}\n");
  CHECK(has(o.errors, "k.conf:10: Unable to set default user keepalived_script"));
  auto root = parse("global_defs {\n enable_script_security\n script_user root\n}\n" + instance() +
                    "  notify_master /bin/true\n}\n");
  CHECK(root.messages.empty());
}

TEST_CASE("unknown script users are errors", "[config][security]") {
  auto g = parse("global_defs {\n script_user nosuch\n}\n");
  CHECK(g.errors.empty()); // no script: the user is not needed
  auto o = parse("global_defs {\n script_user nosuch\n}\n" + instance() +
                 "  notify_master /bin/true\n}\n");
  CHECK(has(o.errors, "k.conf:2: script_user nosuch does not exist"));
  auto n = parse(std::string(kSecure) + instance() + "  notify_master /bin/true ghost\n}\n");
  CHECK(has(n.errors, "k.conf:11: user ghost for notify script of VI_1 does not exist"));
}
