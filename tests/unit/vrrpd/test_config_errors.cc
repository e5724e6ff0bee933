// vrrpd config: every refusal, reported as "file:line: message", and
// parsing goes on after each one.
#include "config_test_util.h"

using namespace vrrpd;
using namespace vrrpd::test;

namespace {

// Parses `text` and checks that `expected` is among the errors.
void refuses(const std::string& text, const std::string& expected) {
  auto o = parse(text);
  INFO(text);
  INFO(joined(o.messages));
  CHECK_FALSE(o.ok());
  CHECK(has(o.errors, expected));
  CHECK(testExitCode(o) == kExitFatal);
}

} // namespace

TEST_CASE("unknown keywords are errors at every level", "[config][errors]") {
  refuses("foo 1\n", "k.conf:1: unsupported keyword 'foo'");
  refuses("global_defs {\n  v3_checksum_as_v2\n}\n",
          "k.conf:2: unsupported keyword 'v3_checksum_as_v2'");
  refuses(instance() + "  bogus_kw 3\n}\n", "k.conf:7: unsupported keyword 'bogus_kw'");
  refuses(instance() + "  authentication {\n    extra 1\n  }\n}\n",
          "k.conf:8: unsupported keyword 'extra'");
  refuses("vrrp_script s {\n script /bin/true\n period 3\n}\n",
          "k.conf:3: unsupported keyword 'period'");
  refuses("vrrp_sync_group G {\n track_file {\n }\n}\n",
          "k.conf:2: unsupported keyword 'track_file'");
  refuses("track_proxy p {\n socket /s\n port 1\n}\n", "k.conf:3: unsupported keyword 'port'");
  refuses("vrrp_track_process p {\n}\n", "k.conf:1: unsupported keyword 'vrrp_track_process'");
}

TEST_CASE("IPVS blocks are refused", "[config][errors]") {
  refuses("virtual_server 198.18.0.222 80 {\n delay_loop 6\n real_server 198.18.0.10 80 {\n"
          "  weight 1\n }\n}\n",
          "k.conf:1: virtual_server is not supported (IPVS is not available)");
  refuses("virtual_server_group G {\n}\n", "k.conf:1: virtual_server_group is not supported");
}

TEST_CASE("every problem is reported, not only the first", "[config][errors]") {
  auto o = parse(instance() + "  priority 300\n  bogus\n  virtual_router_id 0\n}\nfoo\n");
  CHECK(o.errors.size() >= 4);
  CHECK(
      has(o.errors, "k.conf:7: 'priority': invalid value '300' (expected an integer in [1, 255])"));
  CHECK(has(o.errors, "k.conf:8: unsupported keyword 'bogus'"));
  CHECK(has(o.errors, "k.conf:9: 'virtual_router_id': invalid value '0'"));
  CHECK(has(o.errors, "k.conf:11: unsupported keyword 'foo'"));
}

TEST_CASE("instance values out of range or malformed", "[config][errors]") {
  refuses(instance() + "  priority 0\n}\n", "k.conf:7: 'priority': invalid value '0'");
  refuses(instance() + "  virtual_router_id 256\n}\n",
          "k.conf:7: 'virtual_router_id': invalid value '256'");
  refuses(instance() + "  state FOO\n}\n", "k.conf:7: (VI_1) unknown state 'FOO'");
  refuses(instance() + "  advert_int 0\n}\n", "k.conf:7: 'advert_int': invalid value '0'");
  refuses(instance() + "  advert_int 256\n}\n", "k.conf:7: 'advert_int': invalid value '256'");
  refuses(instance() + "  advert_int 1s\n}\n", "k.conf:7: 'advert_int': invalid value '1s'");
  refuses(instance() + "  version 4\n}\n", "k.conf:7: 'version': invalid value '4'");
  refuses(instance() + "  preempt_delay 1001\n}\n",
          "k.conf:7: 'preempt_delay': invalid value '1001'");
  refuses(instance() + "  mcast_src_ip 1.2.3\n}\n", "k.conf:7: invalid source address '1.2.3'");
  refuses(instance() + "  unicast_peer {\n    198.18.0.999\n  }\n}\n",
          "k.conf:8: invalid unicast peer address '198.18.0.999'");
  refuses(instance() + "  unicast_peer {\n    198.18.0.9 min_ttl 3\n  }\n}\n",
          "k.conf:8: unsupported unicast_peer option 'min_ttl'");
  refuses(instance() + "  track_interface {\n    eth1 weight 300\n  }\n}\n",
          "k.conf:8: 'eth1': invalid weight '300'");
  refuses(instance() + "  interface\n}\n", "k.conf:7: 'interface' expects an interface name");
  refuses(instance() + "  nopreempt yes\n}\n", "k.conf:7: 'nopreempt': unexpected argument 'yes'");
  refuses(instance() + "  smtp_alert maybe\n}\n",
          "k.conf:7: 'smtp_alert': invalid boolean 'maybe'");
  refuses(instance() + "  priority 100 {\n  }\n}\n", "k.conf:7: 'priority' takes no { } block");
  refuses(instance() + "  track_script chk\n}\n", "k.conf:7: 'track_script' expects a { } block");
  refuses(instance() + "  notify_master /bin/a b c d\n}\n",
          "k.conf:7: 'notify_master': unexpected argument 'd'");
}

TEST_CASE("virtual addresses: malformed, options, IPv6", "[config][errors]") {
  const std::string open = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 1\n"
                           " virtual_ipaddress {\n";
  refuses(open + "  198.18.0.300\n }\n}\n", "k.conf:5: invalid virtual address '198.18.0.300'");
  refuses(open + "  198.18.0.1/33\n }\n}\n", "k.conf:5: invalid virtual address '198.18.0.1/33'");
  refuses(open + "  198.18.0.1 scope bogus\n }\n}\n", "k.conf:5: invalid scope 'bogus'");
  refuses(open + "  198.18.0.1 foo bar\n }\n}\n",
          "k.conf:5: unsupported virtual address option 'foo'");
  refuses(open + "  198.18.0.1 dev\n }\n}\n",
          "k.conf:5: virtual address option 'dev' expects a value");
  refuses(open + "  2001:db8::1/64\n }\n}\n",
          "k.conf:5: IPv6 virtual addresses are not supported yet");
  auto o = parse(open + "  fe80::1\n }\n}\n");
  CHECK_FALSE(has(o.warnings, "No VIP specified")); // the refused line is enough
}

TEST_CASE("authentication: AH and unknown types are refused", "[config][errors]") {
  refuses(instance() + "  authentication {\n    auth_type AH\n    auth_pass x\n  }\n}\n",
          "k.conf:8: auth_type AH is not supported yet");
  refuses(instance() + "  authentication {\n    auth_type FOO\n  }\n}\n",
          "k.conf:8: (VI_1) unknown authentication type 'FOO'");
}

TEST_CASE("required instance settings", "[config][errors]") {
  refuses("vrrp_instance VI_1 {\n interface eth0\n virtual_ipaddress {\n  198.18.0.1\n }\n}\n",
          "k.conf:1: (VI_1) the virtual router id must be set");
  refuses("vrrp_instance VI_1 {\n virtual_router_id 1\n virtual_ipaddress {\n  198.18.0.1\n }\n}\n",
          "k.conf:1: (VI_1) no interface given");
  refuses("vrrp_instance {\n}\n", "k.conf:1: 'vrrp_instance' expects a name");
  refuses("vrrp_instance VI_1\n", "k.conf:1: 'vrrp_instance' expects a name and a { } block");
}

TEST_CASE("duplicates: names and VRIDs on one interface", "[config][errors]") {
  refuses(instance() + "}\n" + instance("VI_1", 52) + "}\n",
          "k.conf:8: vrrp_instance VI_1 already defined at k.conf:1");
  refuses(instance("VI_1", 51) + "}\n" + instance("VI_2", 51) + "}\n",
          "k.conf:8: VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0");
  refuses("vrrp_script a {\n script /bin/true\n}\nvrrp_script a {\n script /bin/true\n}\n",
          "k.conf:4: vrrp_script a already defined at k.conf:1");
}

TEST_CASE("references: track_script, track_proxy, sync group members", "[config][errors]") {
  refuses(instance() + "  track_script {\n    nosuch\n  }\n}\n",
          "k.conf:8: (VI_1) track script nosuch not found");
  refuses(instance() + "  track_proxy {\n    nosuch\n  }\n}\n",
          "k.conf:8: (VI_1) track_proxy nosuch not found");
  refuses(instance() + "}\nvrrp_sync_group G {\n group {\n  VI_1\n  VI_9\n }\n}\n",
          "k.conf:8: Virtual router VI_9 specified in sync group G doesn't exist");
  refuses(instance("VI_1", 1) + "}\n" + instance("VI_2", 2) +
              "}\nvrrp_sync_group G {\n group {\n  VI_1 VI_2\n }\n}\n"
              "vrrp_sync_group H {\n group {\n  VI_1 VI_2\n }\n}\n",
          "Virtual router VI_1 cannot be in sync group H: it is already in sync group G");
}

TEST_CASE("vrrp_script and track_proxy requirements", "[config][errors]") {
  refuses("vrrp_script s {\n interval 3\n}\n", "k.conf:1: vrrp_script s has no 'script' line");
  refuses("vrrp_script s {\n script /bin/true\n weight 300\n}\n",
          "k.conf:3: 'weight': invalid value '300'");
  refuses("vrrp_script s {\n script /bin/true\n weight 3 foo\n}\n",
          "k.conf:3: 'weight': unknown option 'foo'");
  refuses("vrrp_script s {\n script /bin/true\n timeout 2.5\n}\n",
          "k.conf:3: 'timeout': invalid value '2.5'");
  refuses("vrrp_script s {\n script \"/bin/true\n}\n", "k.conf:2");
  refuses("track_proxy p {\n backend app\n}\n", "k.conf:1: track_proxy p has no 'socket' line");
  refuses("track_proxy p {\n socket /s\n heartbeat 0\n}\n",
          "k.conf:3: 'heartbeat': invalid duration '0'");
}

TEST_CASE("global_defs values", "[config][errors]") {
  refuses("global_defs {\n vrrp_version 4\n}\n", "k.conf:2: 'vrrp_version': invalid value '4'");
  refuses("global_defs {\n vrrp_mcast_group4 10.0.0.1\n}\n",
          "k.conf:2: vrrp_mcast_group4 10.0.0.1 is not an IPv4 multicast address");
  refuses("global_defs {\n vrrp_garp_master_delay -1\n}\n",
          "k.conf:2: 'vrrp_garp_master_delay': invalid value '-1'");
  refuses("global_defs {\n smtp_server 1.2.3.4 99999\n}\n",
          "k.conf:2: 'smtp_server': invalid value '99999'");
  refuses("global_defs {\n router_id\n}\n", "k.conf:2: 'router_id' expects a name");
}

TEST_CASE("lexer errors carry file:line:col", "[config][errors]") {
  auto o = parse("vrrp_instance VI_1 {\n interface eth0\n");
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].rfind("k.conf:1:", 0) == 0);
}
