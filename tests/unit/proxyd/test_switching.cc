// The backend switching step (switchBackend), the same in mode tcp and mode
// http: use_backend conditions on layer-4 fetches decide in mode tcp too.
#include "config_test_util.h"
#include "proxyd/switching.h"
#include "sockaddr_util.h"

#include <catch2/catch.hpp>

using namespace proxyd;
using proxyd::test::parse;
using proxyd::testing::v4;

namespace {

ParseOutcome tcpConfig(const std::string& rules) {
  return parse(std::string(proxyd::test::kTimeouts) + "frontend fe\n  bind 127.0.0.1:8000\n" +
               rules +
               "  default_backend public\n"
               "backend internal\n  server a 127.0.0.1:9001\n"
               "backend public\n  server b 127.0.0.1:9002\n");
}

std::string nameOf(const ParseOutcome& o, int index) {
  if (index < 0) return "<none>";
  return o.config.proxies[static_cast<size_t>(index)].name;
}

std::string pick(const ParseOutcome& o, const SampleContext& ctx) {
  return nameOf(o, switchBackend(proxyd::test::proxy(o, "fe", ProxyConfig::Frontend), ctx));
}

SampleContext from(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
  SampleContext c;
  c.src = v4(src, sport);
  c.dst = v4(dst, dport);
  return c;
}

} // namespace

TEST_CASE("mode tcp: an allow-list on src sends other clients to the default backend") {
  auto o = tcpConfig("  use_backend internal if { src 10.0.0.0/8 }\n");
  REQUIRE(o.errors.empty());
  CHECK(pick(o, from("127.0.0.1", 40000, "127.0.0.1", 8000)) == "public");
  CHECK(pick(o, from("10.1.2.3", 40000, "127.0.0.1", 8000)) == "internal");
}

TEST_CASE("mode tcp: unless, named ACLs, ports and dst decide as written") {
  auto o = tcpConfig("  acl local src 127.0.0.0/8\n"
                     "  acl high_port src_port 50000:65535\n"
                     "  use_backend internal if local high_port\n"
                     "  use_backend internal if { dst_port 8443 }\n"
                     "  use_backend internal unless { dst 127.0.0.0/8 }\n");
  REQUIRE(o.errors.empty());
  CHECK(pick(o, from("127.0.0.1", 40000, "127.0.0.1", 8000)) == "public");
  CHECK(pick(o, from("127.0.0.1", 50001, "127.0.0.1", 8000)) == "internal");
  CHECK(pick(o, from("192.0.2.1", 50001, "127.0.0.1", 8443)) == "internal");
  CHECK(pick(o, from("192.0.2.1", 40000, "127.0.0.2", 8000)) == "public");
  CHECK(pick(o, from("192.0.2.1", 40000, "192.0.2.9", 8000)) == "internal");
}

TEST_CASE("the first matching rule wins; a rule without a condition always matches") {
  auto o = tcpConfig("  use_backend internal if FALSE\n"
                     "  use_backend public if TRUE\n"
                     "  use_backend internal\n");
  REQUIRE(o.errors.empty());
  CHECK(pick(o, from("10.0.0.1", 1, "127.0.0.1", 8000)) == "public");
}

TEST_CASE("mode tcp: an HTTP fetch finds nothing, so its rule does not match") {
  auto o = tcpConfig("  use_backend internal if { path_beg / }\n"
                     "  use_backend internal if !{ hdr(host) -m found }\n");
  CHECK(pick(o, from("127.0.0.1", 40000, "127.0.0.1", 8000)) == "internal");
  // Only the negated one matched: the first never does without a request.
  auto o2 = tcpConfig("  use_backend internal if { path_beg / }\n");
  CHECK(pick(o2, from("127.0.0.1", 40000, "127.0.0.1", 8000)) == "public");
}

TEST_CASE("no rule matches and no default backend: no backend") {
  auto o =
      parse(std::string(proxyd::test::kTimeouts) + "frontend fe\n  bind 127.0.0.1:8000\n"
                                                   "  use_backend internal if { src 10.0.0.0/8 }\n"
                                                   "backend internal\n  server a 127.0.0.1:9001\n");
  REQUIRE(o.errors.empty());
  CHECK(pick(o, from("127.0.0.1", 40000, "127.0.0.1", 8000)) == "<none>");
  CHECK(pick(o, from("10.0.0.1", 40000, "127.0.0.1", 8000)) == "internal");
}

TEST_CASE("switchingNeedsDst: only conditions make a stream ask for its local address") {
  CHECK_FALSE(switchingNeedsDst(proxyd::test::proxy(tcpConfig(""), "fe", ProxyConfig::Frontend)));
  CHECK_FALSE(switchingNeedsDst(
      proxyd::test::proxy(tcpConfig("  use_backend internal\n"), "fe", ProxyConfig::Frontend)));
  CHECK(switchingNeedsDst(proxyd::test::proxy(
      tcpConfig("  use_backend internal if { dst_port 1 }\n"), "fe", ProxyConfig::Frontend)));
}
