// vrrpd config files: the seed's lab configs, every conf/ example as
// conf/EXPECTED-keepalived says, includes, and --dump read back as YAML.
#include "config_test_util.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <yaml-cpp/yaml.h>

using namespace vrrpd;
using namespace vrrpd::test;
namespace fs = std::filesystem;

namespace {

fs::path sourceDir() {
#ifdef SRC_DIR
  return SRC_DIR;
#else
  return fs::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
#endif
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Expectation {
  std::string file;
  std::string verdict; // ok | warn | fail
  std::string substring;
};

std::vector<Expectation> readExpected() {
  std::vector<Expectation> out;
  std::istringstream in(slurp(sourceDir() / "conf" / "EXPECTED-keepalived"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    Expectation e;
    words >> e.file >> e.verdict;
    std::getline(words >> std::ws, e.substring);
    out.push_back(e);
  }
  return out;
}

ParseOutcome parseFile(const fs::path& p) {
  return parseConfigFile(p.string(), opts());
}

} // namespace

TEST_CASE("the seed's MASTER config (section 2.3) with the lab's addresses", "[config][files]") {
  auto o = parseFile(sourceDir() / "conf" / "keepalived-lab-master.conf");
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  const Config& c = o.config;
  CHECK(c.global.routerId == "test1");
  REQUIRE(c.scripts.size() == 1);
  CHECK(c.scripts[0].name == "chk_haproxy");
  CHECK(c.scripts[0].script.argv == std::vector<std::string>{"killall", "-0", "haproxy"});
  CHECK(c.scripts[0].interval == std::chrono::seconds(2));
  CHECK(c.scripts[0].weight == 2);
  REQUIRE(c.instances.size() == 1);
  const VrrpInstance& v = c.instances[0];
  CHECK(v.name == "VI_1");
  CHECK(v.state == InitialState::Master);
  CHECK(v.priority == 100);
  CHECK(v.vrid == 51);
  CHECK(v.advertInt == std::chrono::seconds(1));
  CHECK(v.interface == "eth0");
  REQUIRE(v.vips.size() == 1);
  CHECK(v.vips[0].addr.str() == "198.18.0.222/32");
  CHECK(v.vips[0].dev == "eth0");
  CHECK(v.authType == AuthType::Pass);
  CHECK(v.authPass == "123456");
  REQUIRE(v.trackScripts.size() == 1);
  CHECK(v.trackScripts[0].name == "chk_haproxy");
  CHECK(v.trackScripts[0].weight == 2);
  // As keepalived on a host without user keepalived_script: scripts as root.
  CHECK(o.securityViolation);
  CHECK(testExitCode(o) == kExitConfigSecurity);
}

TEST_CASE("the seed's BACKUP config differs only in router_id, state and priority",
          "[config][files]") {
  auto m = parseFile(sourceDir() / "conf" / "keepalived-lab-master.conf");
  auto b = parseFile(sourceDir() / "conf" / "keepalived-lab-backup.conf");
  INFO(joined(b.messages));
  REQUIRE(b.ok());
  const VrrpInstance& v = b.config.instances.at(0);
  CHECK(b.config.global.routerId == "test2");
  CHECK(v.state == InitialState::Backup);
  CHECK(v.priority == 99);
  CHECK(v.vrid == m.config.instances.at(0).vrid);
  CHECK(v.authPass == m.config.instances.at(0).authPass);
  CHECK(v.vips.at(0).addr.str() == "198.18.0.222/32");
}

TEST_CASE("each conf/ keepalived example parses as conf/EXPECTED-keepalived says",
          "[config][files]") {
  auto expected = readExpected();
  REQUIRE(expected.size() >= 8);
  for (const Expectation& e : expected) {
    INFO(e.file);
    const fs::path p = sourceDir() / "conf" / e.file;
    REQUIRE(fs::exists(p));
    auto o = parseFile(p);
    INFO(joined(o.messages));
    if (e.verdict == "ok") {
      CHECK(o.messages.empty());
      CHECK(testExitCode(o) == kExitOk);
    } else if (e.verdict == "warn") {
      CHECK(o.ok());
      REQUIRE_FALSE(o.warnings.empty());
      CHECK(o.warnings.front().find(e.substring) != std::string::npos);
      CHECK(testExitCode(o) >= kExitConfigTest);
    } else {
      REQUIRE(e.verdict == "fail");
      REQUIRE_FALSE(o.ok());
      CHECK(o.errors.front().find(e.substring) != std::string::npos);
      CHECK(testExitCode(o) == kExitFatal);
    }
    if (o.ok()) CHECK_NOTHROW(YAML::Load(dumpYaml(o.config)));
  }
}

TEST_CASE("every keepalived-*.conf in conf/ is listed in conf/EXPECTED-keepalived",
          "[config][files]") {
  auto expected = readExpected();
  for (const auto& entry : fs::directory_iterator(sourceDir() / "conf")) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("keepalived-", 0) != 0 || entry.path().extension() != ".conf") continue;
    INFO(name);
    bool listed = false;
    for (const Expectation& e : expected)
      listed = listed || e.file == name;
    CHECK(listed);
  }
}

TEST_CASE("includes are followed, and diagnostics name the included file", "[config][files]") {
  const fs::path main = sourceDir() / "tests" / "data" / "keepalived" / "with-includes.conf";
  auto o = parseFile(main);
  INFO(joined(o.messages));
  REQUIRE(o.config.scripts.size() == 1);
  REQUIRE(o.config.instances.size() == 1);
  CHECK(o.config.instances[0].trackScripts.at(0).name == "chk_proxyd");
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].find("conf.d/20-instance.conf:10: unsupported keyword 'bogus_in_include'") !=
        std::string::npos);
}

TEST_CASE("in-memory includes through an injected reader", "[config][files]") {
  common::FileReader read = [](const std::string& p) -> std::optional<std::string> {
    if (p == "/etc/k/vi.conf")
      return std::string("vrrp_instance VI_1 {\n interface eth0\n"
                         " virtual_router_id 9\n virtual_ipaddress {\n"
                         "  198.18.0.9\n }\n}\n");
    return std::nullopt;
  };
  common::GlobExpander glob = [](const std::string& p) {
    return p == "/etc/k/vi.conf" ? std::vector<std::string>{p} : std::vector<std::string>{};
  };
  auto o = parseConfigText("include vi.conf\n", "/etc/k/keepalived.conf", opts(), read, glob);
  INFO(joined(o.messages));
  REQUIRE(o.ok());
  CHECK(o.config.instances.at(0).vrid == 9);
  auto missing =
      parseConfigText("include none/*.conf\n", "/etc/k/keepalived.conf", opts(), read, glob);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.errors[0].find("/etc/k/keepalived.conf:1:") == 0);
}

TEST_CASE("a missing file is one error", "[config][files]") {
  auto o = parseConfigFile("/nonexistent/keepalived.conf", opts());
  REQUIRE(o.errors.size() == 1);
  CHECK(o.errors[0].find("cannot read configuration file") != std::string::npos);
}

TEST_CASE("dump: prints every resolved value and reads back as YAML", "[config][dump]") {
  auto o = parseFile(sourceDir() / "conf" / "keepalived-lab-master.conf");
  REQUIRE(o.ok());
  YAML::Node y = YAML::Load(dumpYaml(o.config));
  CHECK(y["global_defs"]["router_id"].as<std::string>() == "test1");
  CHECK(y["global_defs"]["vrrp_mcast_group4"].as<std::string>() == "224.0.0.18");
  CHECK(y["global_defs"]["vrrp_garp_master_delay"].as<std::string>() == "5s");
  CHECK(y["global_defs"]["enable_script_security"].as<bool>() == false);
  YAML::Node s = y["vrrp_scripts"][0];
  CHECK(s["name"].as<std::string>() == "chk_haproxy");
  CHECK(s["script"]["argv"].size() == 3);
  CHECK(s["interval"].as<std::string>() == "2s");
  CHECK(s["timeout"].as<std::string>() == "2s");
  CHECK(s["weight"].as<int>() == 2);
  YAML::Node v = y["vrrp_instances"][0];
  CHECK(v["name"].as<std::string>() == "VI_1");
  CHECK(v["state"].as<std::string>() == "MASTER");
  CHECK(v["priority"].as<int>() == 100);
  CHECK(v["virtual_router_id"].as<int>() == 51);
  CHECK(v["advert_int"].as<std::string>() == "1s");
  CHECK(v["version"].as<int>() == 2);
  CHECK(v["authentication"]["auth_type"].as<std::string>() == "PASS");
  CHECK(v["authentication"]["auth_pass"].as<std::string>() == "123456");
  CHECK(v["virtual_ipaddress"][0]["address"].as<std::string>() == "198.18.0.222/32");
  CHECK(v["virtual_ipaddress"][0]["dev"].as<std::string>() == "eth0");
  CHECK(v["track_script"][0]["name"].as<std::string>() == "chk_haproxy");
  CHECK(v["track_script"][0]["weight"].as<int>() == 2);
  CHECK(v["accept"].as<bool>());
  CHECK(v["notify_master"].IsNull());
  CHECK(v["garp_master_repeat"].as<int>() == 5);
  CHECK(y["vrrp_sync_groups"].size() == 0);
  CHECK(y["track_proxies"].size() == 0);
}

TEST_CASE("dump: of a config with every block", "[config][dump]") {
  auto o = parseFile(sourceDir() / "conf" / "keepalived-sync-group.conf");
  REQUIRE(o.ok());
  YAML::Node y = YAML::Load(dumpYaml(o.config));
  CHECK(y["vrrp_sync_groups"][0]["group"][1].as<std::string>() == "VI_BACK");
  CHECK(y["vrrp_instances"][0]["sync_group"].as<std::string>() == "G_LAB");
  CHECK(y["vrrp_instances"][0]["priority"].as<int>() == 200);
  auto t = parseFile(sourceDir() / "conf" / "keepalived-track-proxy.conf");
  REQUIRE(t.ok());
  YAML::Node ty = YAML::Load(dumpYaml(t.config));
  CHECK(ty["track_proxies"][0]["heartbeat"].as<std::string>() == "200ms");
  CHECK(ty["track_proxies"][0]["socket"].as<std::string>() == "/run/proxyd/admin.sock");
  CHECK(ty["vrrp_instances"][0]["track_proxy"][0]["weight"].as<int>() == -60);
}
