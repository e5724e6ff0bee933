// dumpYaml(): the effective configuration, read back with yaml-cpp.
#include "config_test_util.h"

#include <yaml-cpp/yaml.h>

using namespace proxyd;
using namespace proxyd::test;

namespace {

YAML::Node dumped(const std::string& text) {
  auto o = parse(text);
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  return YAML::Load(dumpYaml(o.config));
}

YAML::Node proxyNode(const YAML::Node& root, const std::string& name) {
  for (const auto& p : root["proxies"]) {
    if (p["name"].as<std::string>() == name) return p;
  }
  FAIL("no proxy " << name);
  return {};
}

} // namespace

TEST_CASE("dump prints global settings and log targets", "[config][dump]") {
  auto y = dumped("global\n  daemon\n  maxconn 4000\n  nbthread 2\n  pidfile /run/p\n"
                  "  user u\n  group g\n  chroot /c\n"
                  "  log 127.0.0.1 local2\n  log stdout format raw daemon info\n");
  auto g = y["global"];
  CHECK(g["daemon"].as<bool>());
  CHECK(g["maxconn"].as<int>() == 4000);
  CHECK(g["nbthread"].as<int>() == 2);
  CHECK(g["pidfile"].as<std::string>() == "/run/p");
  CHECK(g["user"].as<std::string>() == "u");
  CHECK(g["group"].as<std::string>() == "g");
  CHECK(g["chroot"].as<std::string>() == "/c");
  REQUIRE(g["logs"].size() == 2);
  CHECK(g["logs"][0]["target"].as<std::string>() == "127.0.0.1:514");
  CHECK(g["logs"][0]["facility"].as<std::string>() == "local2");
  CHECK(g["logs"][0]["level"].as<std::string>() == "debug");
  CHECK(g["logs"][0]["format"].as<std::string>() == "rfc3164");
  CHECK(g["logs"][1]["target"].as<std::string>() == "stdout");
  CHECK(g["logs"][1]["format"].as<std::string>() == "raw");
  CHECK(g["logs"][1]["level"].as<std::string>() == "info");
}

TEST_CASE("dump resolves defaults, default-server and fallbacks", "[config][dump]") {
  auto y = dumped("global\n  maxconn 500\n"
                  "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1m\n"
                  "  timeout server 90000\n  retries 2\n  option redispatch\n  log global\n"
                  "  default-server inter 3s fall 5\n"
                  "frontend f\n  bind *:80,[::1]:81\n  default_backend app\n  use_backend app\n"
                  "backend app\n  balance source\n  hash-type consistent\n"
                  "  server s1 198.18.0.1:8080 check weight 7 fastinter 1s\n"
                  "  server s2 198.18.0.2:8080 backup port 9000 addr 198.18.0.3 maxconn 4\n");
  auto f = proxyNode(y, "f");
  CHECK(f["kind"].as<std::string>() == "frontend");
  CHECK(f["mode"].as<std::string>() == "tcp");
  REQUIRE(f["binds"].size() == 2);
  CHECK(f["binds"][0].as<std::string>() == "*:80");
  CHECK(f["binds"][1].as<std::string>() == "[::1]:81");
  CHECK(f["maxconn"].as<int>() == 500); // global maxconn when unset
  CHECK(f["default_backend"].as<std::string>() == "app");
  CHECK(f["use_backend"][0].as<std::string>() == "app");
  CHECK(f["timeouts"]["client"].as<std::string>() == "1m");
  CHECK(f["log_global"].as<bool>());

  auto b = proxyNode(y, "app");
  CHECK(b["kind"].as<std::string>() == "backend");
  CHECK(b["balance"].as<std::string>() == "source");
  CHECK(b["hash-type"].as<std::string>() == "consistent");
  CHECK(b["retries"].as<int>() == 2);
  CHECK(b["options"]["redispatch"].as<bool>());
  CHECK_FALSE(b["options"]["allbackups"].as<bool>());
  auto t = b["timeouts"];
  CHECK(t["connect"].as<std::string>() == "5s");
  CHECK(t["server"].as<std::string>() == "90s");
  CHECK(t["queue"].as<std::string>() == "5s"); // unset: timeout connect
  CHECK(t["check"].as<std::string>() == "inter");
  CHECK(t["tunnel"].as<std::string>() == "none");

  REQUIRE(b["servers"].size() == 2);
  auto s1 = b["servers"][0];
  CHECK(s1["name"].as<std::string>() == "s1");
  CHECK(s1["id"].as<int>() == 1);
  CHECK(s1["address"].as<std::string>() == "198.18.0.1:8080");
  CHECK(s1["check"].as<bool>());
  CHECK(s1["inter"].as<std::string>() == "3s");
  CHECK(s1["fastinter"].as<std::string>() == "1s");
  CHECK(s1["downinter"].as<std::string>() == "3s"); // unset: inter
  CHECK(s1["rise"].as<int>() == 2);
  CHECK(s1["fall"].as<int>() == 5);
  CHECK(s1["weight"].as<int>() == 7);
  CHECK(s1["check_port"].as<int>() == 8080);
  CHECK(s1["check_address"].as<std::string>() == "198.18.0.1");
  auto s2 = b["servers"][1];
  CHECK(s2["backup"].as<bool>());
  CHECK_FALSE(s2["check"].as<bool>());
  CHECK(s2["check_port"].as<int>() == 9000);
  CHECK(s2["check_address"].as<std::string>() == "198.18.0.3");
  CHECK(s2["maxconn"].as<int>() == 4);
  CHECK(s2["maxqueue"].as<int>() == 0);
  CHECK_FALSE(s2["disabled"].as<bool>());
}

TEST_CASE("dump shows a listen as both halves, serving itself", "[config][dump]") {
  auto y = dumped("listen l\n  bind 127.0.0.1:1\n  option tcplog\n  server a 127.0.0.1:2\n"
                  "  log 127.0.0.1:1514 local3 warning\n");
  auto l = proxyNode(y, "l");
  CHECK(l["kind"].as<std::string>() == "listen");
  CHECK(l["default_backend"].as<std::string>() == "l");
  CHECK(l["servers"].size() == 1);
  CHECK(l["options"]["tcplog"].as<bool>());
  CHECK(l["timeouts"]["client"].as<std::string>() == "none");
  CHECK(l["logs"][0]["target"].as<std::string>() == "127.0.0.1:1514");
  CHECK(l["logs"][0]["level"].as<std::string>() == "warning");
}

TEST_CASE("dump shows tcp-check rules", "[config][dump]") {
  auto y = dumped("backend b\n  option tcp-check\n  tcp-check connect port 81\n"
                  "  tcp-check send-binary 0aff\n  tcp-check expect ! binary 00\n"
                  "  tcp-check send hi\n");
  auto b = proxyNode(y, "b");
  CHECK(b["options"]["tcp-check"].as<bool>());
  auto r = b["tcp-check"];
  REQUIRE(r.size() == 4);
  CHECK(r[0]["connect"]["port"].as<int>() == 81);
  CHECK(r[1]["send-binary"].as<std::string>() == "0aff");
  CHECK(r[2]["expect"]["negate"].as<bool>());
  CHECK(r[2]["expect"]["match"].as<std::string>() == "binary");
  CHECK(r[2]["expect"]["pattern"].as<std::string>() == "00");
  CHECK(r[3]["send"].as<std::string>() == "hi");
}

TEST_CASE("dump prints mode http options, conditions, acls and rule counts", "[config][dump]") {
  auto y = dumped("defaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n"
                  "  timeout server 1s\n  option httpclose\n"
                  "frontend f\n  bind :80\n  option httplog clf\n"
                  "  option forwardfor header X-Real-IP if-none\n"
                  "  acl st path_beg /static\n  use_backend b if st !{ ssl_fc }\n"
                  "  http-request set-header X-A 1\n  http-response del-header Server\n"
                  "  default_backend b\n"
                  "backend b\n  option http-server-close\n");
  auto f = proxyNode(y, "f");
  CHECK(f["mode"].as<std::string>() == "http");
  CHECK(f["use_backend"][0].as<std::string>() == "b if st !{...}");
  CHECK(f["options"]["httplog"].as<std::string>() == "clf");
  CHECK(f["options"]["http-connection-mode"].as<std::string>() == "close");
  CHECK(f["options"]["forwardfor-header"].as<std::string>() == "x-real-ip");
  CHECK(f["options"]["forwardfor-if-none"].as<bool>());
  CHECK(f["acls"][0].as<std::string>() == "st");
  CHECK(f["http-request"].as<int>() == 1);
  CHECK(f["http-response"].as<int>() == 1);
  auto b = proxyNode(y, "b");
  CHECK(b["options"]["http-connection-mode"].as<std::string>() == "server-close");
  CHECK(b["options"]["http-server-close"].as<bool>());
}

TEST_CASE("dump shows stats sockets and stats timeout", "[config][dump]") {
  auto y = dumped("global\n  stats socket /run/a.sock mode 600 level admin\n"
                  "  stats socket ipv4@127.0.0.1:9999\n  stats timeout 1m\n");
  auto s = y["global"]["stats_sockets"];
  REQUIRE(s.size() == 2);
  CHECK(s[0]["address"].as<std::string>() == "unix@/run/a.sock");
  CHECK(s[0]["mode"].as<std::string>() == "0600");
  CHECK(s[0]["level"].as<std::string>() == "admin");
  CHECK(s[1]["address"].as<std::string>() == "127.0.0.1:9999");
  CHECK(s[1]["level"].as<std::string>() == "operator");
  CHECK(y["global"]["stats_timeout"].as<std::string>() == "1m");
  CHECK(dumped("global\n  maxconn 5\n")["global"]["stats_timeout"].as<std::string>() == "10s");
}
