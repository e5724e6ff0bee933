#include "common/config_error.h"
#include "common/values.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>

using namespace common;
using namespace std::chrono_literals;

namespace {

IpAddr ip(const char* s) {
  auto r = parseIp(s);
  REQUIRE(r.ok());
  return *r;
}

Cidr cidr(const char* s) {
  auto r = parseCidr(s);
  REQUIRE(r.ok());
  return *r;
}

} // namespace

// --- config_error ---------------------------------------------------------------

TEST_CASE("a config error reads file:line:col: message", "[config_error]") {
  ConfigError e(SourceLoc{"/etc/proxyd.cfg", 12, 5}, "unknown keyword 'x'");
  CHECK(std::string(e.what()) == "/etc/proxyd.cfg:12:5: unknown keyword 'x'");
  CHECK(e.message() == "unknown keyword 'x'");
  CHECK(e.loc().line == 12);
}

TEST_CASE("a config error without a column reads file:line: message", "[config_error]") {
  CHECK(std::string(ConfigError(SourceLoc{"a.cfg", 3, 0}, "m").what()) == "a.cfg:3: m");
  CHECK(SourceLoc{"a.cfg", 3, 0}.str() == "a.cfg:3");
  CHECK(SourceLoc{"a.cfg", 3, 9}.str() == "a.cfg:3:9");
}

TEST_CASE("a config error without a line names only the file", "[config_error]") {
  CHECK(std::string(ConfigError(SourceLoc{"a.cfg", 0, 0}, "cannot read").what()) ==
        "a.cfg: cannot read");
  CHECK(std::string(ConfigError(SourceLoc{}, "bare").what()) == "bare");
}

// --- durations --------------------------------------------------------------------

TEST_CASE("a bare number is milliseconds by default", "[values]") {
  CHECK(*parseDuration("5000") == 5000ms);
  CHECK(*parseDuration("0") == 0ms);
}

TEST_CASE("a bare number is in the given unit", "[values]") {
  CHECK(*parseDuration("3", 1s) == 3s);
  CHECK(*parseDuration("7", 1us) == 7us);
}

TEST_CASE("every duration unit is understood", "[values]") {
  CHECK(*parseDuration("100us") == 100us);
  CHECK(*parseDuration("250ms") == 250ms);
  CHECK(*parseDuration("10s") == 10s);
  CHECK(*parseDuration("2m") == 2min);
  CHECK(*parseDuration("2h") == 2h);
  CHECK(*parseDuration("1d") == 24h);
}

TEST_CASE("keepalived seconds may be fractional", "[values]") {
  CHECK(*parseDuration("0.1", 1s) == 100ms);
  CHECK(*parseDuration("1.5", 1s) == 1500ms);
  CHECK(*parseDuration("0.25s", 1s) == 250ms);
  CHECK(*parseDuration("0.0000019", 1s) == 1us); // below a microsecond is dropped
}

TEST_CASE("HAProxy durations may not be fractional", "[values]") {
  auto r = parseDuration("1.5s");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error() ==
        "invalid duration '1.5s' (expected a number with an optional unit us, ms, s, m, h, d)");
}

TEST_CASE("a bad duration names what was expected", "[values]") {
  for (const char* bad : {"abc", "", "s", "10x", "10 s", "10S", "1e3", "10sec", "5ms5", " 5"}) {
    auto r = parseDuration(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == std::string("invalid duration '") + bad +
                           "' (expected a number with an optional unit us, ms, s, m, h, d)");
  }
  CHECK(parseDuration("1.", 1s).error() == "invalid duration '1.' (expected a number with an "
                                           "optional unit us, ms, s, m, h, d; a bare number is "
                                           "in seconds)");
  CHECK_FALSE(parseDuration(".5", 1s).ok());
}

TEST_CASE("a negative duration is an error", "[values]") {
  CHECK(parseDuration("-5s").error() == "invalid duration '-5s' (must not be negative)");
}

TEST_CASE("an overflowing duration is an error", "[values]") {
  CHECK(parseDuration("99999999999999999999").error() ==
        "duration '99999999999999999999' is too large");
  CHECK(parseDuration("9999999999999d").error() == "duration '9999999999999d' is too large");
  CHECK(parseDuration("9223372036854775807us").ok());
}

TEST_CASE("durations print in the largest exact unit", "[values]") {
  CHECK(formatDuration(10s) == "10s");
  CHECK(formatDuration(500ms) == "500ms");
  CHECK(formatDuration(1min) == "1m");
  CHECK(formatDuration(250us) == "250us");
  CHECK(formatDuration(2h) == "2h");
  CHECK(formatDuration(48h) == "2d");
  CHECK(formatDuration(1500ms) == "1500ms");
  CHECK(formatDuration(0ms) == "0ms");
}

// --- sizes and integers ---------------------------------------------------------------

TEST_CASE("sizes take k, m, g suffixes in powers of 1024", "[values]") {
  CHECK(*parseSize("16384") == 16384);
  CHECK(*parseSize("16k") == 16384);
  CHECK(*parseSize("16K") == 16384);
  CHECK(*parseSize("1m") == 1048576);
  CHECK(*parseSize("2M") == 2097152);
  CHECK(*parseSize("1g") == 1073741824ULL);
  CHECK(*parseSize("1G") == 1073741824ULL);
}

TEST_CASE("a bad size names what was expected", "[values]") {
  for (const char* bad : {"", "k", "16kb", "16t", "-1", "1.5k", "16 k"}) {
    auto r = parseSize(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == std::string("invalid size '") + bad +
                           "' (expected a number with an optional unit k, m, g)");
  }
  CHECK(parseSize("99999999999999999999").error() == "size '99999999999999999999' is too large");
  CHECK(parseSize("17179869184g").error() == "size '17179869184g' is too large");
}

TEST_CASE("integers are checked against their range", "[values]") {
  CHECK(*parseInt("42", 0, 100) == 42);
  CHECK(*parseInt("-3", -10, 10) == -3);
  CHECK(*parseInt("+7", 0, 10) == 7);
  CHECK(*parseInt("0", 0, 0) == 0);
  CHECK(parseInt("101", 0, 100).error() == "integer '101' is out of range (expected 0 to 100)");
  CHECK(parseInt("-1", 0, 100).error() == "integer '-1' is out of range (expected 0 to 100)");
  CHECK(parseInt("99999999999999999999", 0, 100).error() ==
        "integer '99999999999999999999' is out of range (expected 0 to 100)");
}

TEST_CASE("a non-integer names what was expected", "[values]") {
  for (const char* bad : {"", "x", "1x", "1.0", "0x10", " 1", "-", "+", "--1"}) {
    auto r = parseInt(bad, 0, 100);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() == std::string("invalid integer '") + bad + "' (expected a decimal integer)");
  }
}

// --- IP addresses -------------------------------------------------------------------------

TEST_CASE("IPv4 and IPv6 addresses parse and print", "[values]") {
  auto a = ip("192.168.1.10");
  CHECK(a.family == AF_INET);
  CHECK(a.v4.s_addr == htonl(0xc0a8010a));
  CHECK(a.str() == "192.168.1.10");
  auto b = ip("2001:DB8::1");
  CHECK(b.family == AF_INET6);
  CHECK(b.str() == "2001:db8::1");
  CHECK(ip("::").str() == "::");
  CHECK(ip("::ffff:1.2.3.4").family == AF_INET6);
  CHECK(IpAddr{}.str() == "*");
}

TEST_CASE("addresses compare by family and bytes", "[values]") {
  CHECK(ip("10.0.0.1") == ip("10.0.0.1"));
  CHECK_FALSE(ip("10.0.0.1") == ip("10.0.0.2"));
  CHECK(ip("::1") == ip("0::0:1"));
  CHECK_FALSE(ip("::") == ip("0.0.0.0"));
  CHECK(IpAddr{} == IpAddr{});
}

TEST_CASE("a bad address names what was expected", "[values]") {
  for (const char* bad :
       {"", "1.2.3", "1.2.3.256", "example.com", "::g", "[::1]", "1.2.3.4:80", "fe80::1%eth0"}) {
    auto r = parseIp(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error() ==
          std::string("invalid IP address '") + bad + "' (expected an IPv4 or IPv6 address)");
  }
}

// --- host:port -------------------------------------------------------------------------------

TEST_CASE("host:port parses IPv4, bracketed IPv6 and localhost", "[values]") {
  auto a = parseHostPort("10.0.0.5:8080");
  REQUIRE(a.ok());
  CHECK(a->family() == AF_INET);
  CHECK(a->port() == 8080);
  CHECK(a->len == sizeof(sockaddr_in));
  CHECK(a->str() == "10.0.0.5:8080");

  auto b = parseHostPort("[::1]:80");
  REQUIRE(b.ok());
  CHECK(b->family() == AF_INET6);
  CHECK(b->len == sizeof(sockaddr_in6));
  CHECK(b->str() == "[::1]:80");

  CHECK(parseHostPort("localhost:80")->str() == "127.0.0.1:80");
  CHECK(parseHostPort("ipv6@localhost:80")->str() == "[::1]:80");
}

TEST_CASE("an unbracketed IPv6 host:port splits at the last colon, as HAProxy does", "[values]") {
  CHECK(parseHostPort("::1:80")->str() == "[::1]:80");
  CHECK(parseHostPort("2001:db8::5:443")->str() == "[2001:db8::5]:443");
}

TEST_CASE("a wildcard host:port is IPv4 any unless ipv6@ is given", "[values]") {
  CHECK(parseHostPort("*:80")->str() == "0.0.0.0:80");
  CHECK(parseHostPort(":80")->str() == "0.0.0.0:80");
  CHECK(parseHostPort("ipv6@:80")->str() == "[::]:80");
  CHECK(parseHostPort("ipv4@1.2.3.4:80")->str() == "1.2.3.4:80");
}

TEST_CASE("an optional port defaults to 0", "[values]") {
  CHECK(parseHostPort("10.0.0.5", true)->str() == "10.0.0.5:0");
  CHECK(parseHostPort("[2001:db8::1]", true)->str() == "[2001:db8::1]:0");
  CHECK(parseHostPort("10.0.0.5:0", true)->port() == 0);
  // HAProxy's reading: the last colon starts the port, so an unbracketed
  // IPv6 address without a port is refused (HAProxy: "could not resolve ':'").
  CHECK(parseHostPort("::1", true).error().rfind("invalid address ':' in '::1'", 0) == 0);
  CHECK(parseHostPort("2001:db8::5", true).error().rfind("invalid address '2001:db8:'", 0) == 0);
  CHECK(parseHostPort(":::8081")->str() == "[::]:8081");
}

TEST_CASE("bad host:port forms name what was expected", "[values]") {
  CHECK(parseHostPort("10.0.0.5").error() == "missing port in '10.0.0.5' (expected address:port)");
  CHECK(parseHostPort("10.0.0.5:").error() ==
        "missing port in '10.0.0.5:' (expected address:port)");
  CHECK(parseHostPort("[::1]").error() == "missing port in '[::1]' (expected address:port)");
  CHECK(parseHostPort("10.0.0.5:0").error() ==
        "invalid port '0' in '10.0.0.5:0' (expected 1 to 65535)");
  CHECK(parseHostPort("10.0.0.5:65536").error() ==
        "invalid port '65536' in '10.0.0.5:65536' (expected 1 to 65535)");
  CHECK(parseHostPort("10.0.0.5:80x").error() ==
        "invalid port '80x' in '10.0.0.5:80x' (expected 1 to 65535)");
  CHECK(parseHostPort("10.0.0.5:+1").error() ==
        "invalid port '+1' in '10.0.0.5:+1' (expected 1 to 65535)");
  CHECK(parseHostPort("10.0.0.5:80-90").error() ==
        "port range not allowed in '10.0.0.5:80-90' (expected a single port)");
  CHECK(parseHostPort("web1:80").error() ==
        "invalid address 'web1' in 'web1:80' (expected an IPv4 address, an IPv6 address, '*' "
        "or localhost, then ':port')");
  CHECK(parseHostPort("[::1]80").error().rfind("invalid address '[::1]80'", 0) == 0);
  CHECK(parseHostPort("ipv4@::1:80").error().rfind("invalid address '::1'", 0) == 0);
  CHECK(parseHostPort("unix@/run/x.sock").error() ==
        "unsupported address prefix 'unix@' in 'unix@/run/x.sock' (expected ipv4@ or ipv6@)");
}

TEST_CASE("a socket address round-trips through its raw form", "[values]") {
  auto a = *parseHostPort("[2001:db8::2]:443");
  auto b = SockAddr::fromRaw(reinterpret_cast<const sockaddr*>(&a.ss), a.len);
  CHECK(b.str() == "[2001:db8::2]:443");
  CHECK(b.ip() == ip("2001:db8::2"));
  b.setPort(8443);
  CHECK(b.port() == 8443);
  CHECK(SockAddr::from(ip("1.2.3.4"), 5).str() == "1.2.3.4:5");
  CHECK(SockAddr::from(IpAddr{}, 5).str() == "0.0.0.0:5");
  CHECK(SockAddr::fromRaw(nullptr, 0).len == 0);
  CHECK(SockAddr{}.str() == "?");
}

// --- bind addresses --------------------------------------------------------------------------

TEST_CASE("a bind wildcard has no family", "[values]") {
  for (const char* s : {"*:80", ":80"}) {
    auto b = parseBindAddr(s);
    REQUIRE(b.ok());
    CHECK(b->ip.family == 0);
    CHECK(b->portLo == 80);
    CHECK(b->portHi == 80);
    CHECK(b->str() == "*:80");
  }
}

TEST_CASE("a bind address may be explicit IPv4 or IPv6 any", "[values]") {
  auto v4 = *parseBindAddr("0.0.0.0:80");
  CHECK(v4.ip.family == AF_INET);
  CHECK(v4.str() == "0.0.0.0:80");
  auto v6 = *parseBindAddr("[::]:443");
  CHECK(v6.ip.family == AF_INET6);
  CHECK(v6.str() == "[::]:443");
  CHECK(parseBindAddr("::1:80")->str() == "[::1]:80");
  CHECK(parseBindAddr("ipv6@:80")->ip.family == AF_INET6);
  CHECK(parseBindAddr("ipv4@*:80")->str() == "0.0.0.0:80");
}

TEST_CASE("a bind address may carry a port range", "[values]") {
  auto b = *parseBindAddr("1.2.3.4:8000-8010");
  CHECK(b.portLo == 8000);
  CHECK(b.portHi == 8010);
  CHECK(b.str() == "1.2.3.4:8000-8010");
  CHECK(parseBindAddr("[::1]:1-65535")->str() == "[::1]:1-65535");
}

TEST_CASE("bad bind addresses name what was expected", "[values]") {
  CHECK(parseBindAddr("1.2.3.4").error() ==
        "missing port in bind address '1.2.3.4' (expected address:port)");
  CHECK(parseBindAddr("*:").error() == "missing port in bind address '*:' (expected address:port)");
  CHECK(parseBindAddr("*:0").error() == "invalid port '0' in '*:0' (expected 1 to 65535)");
  CHECK(parseBindAddr("*:8010-8000").error() ==
        "invalid port range '8010-8000' in '*:8010-8000' (expected low-high with low <= high)");
  CHECK(parseBindAddr("*:80-").error() == "invalid port '' in '*:80-' (expected 1 to 65535)");
  CHECK(parseBindAddr("*:80-70000").error() ==
        "invalid port '70000' in '*:80-70000' (expected 1 to 65535)");
  CHECK_FALSE(parseBindAddr("/run/proxyd.sock").ok());
  CHECK_FALSE(parseBindAddr("example.com:80").ok());
}

// --- CIDR ------------------------------------------------------------------------------------

TEST_CASE("a CIDR parses prefix lengths and host addresses", "[values]") {
  CHECK(cidr("10.0.0.0/8").prefix == 8);
  CHECK(cidr("10.0.0.0/8").str() == "10.0.0.0/8");
  CHECK(cidr("127.0.0.1").prefix == 32);
  CHECK(cidr("::1").prefix == 128);
  CHECK(cidr("2001:db8::/32").str() == "2001:db8::/32");
  CHECK(cidr("10.0.0.0/255.255.0.0").prefix == 16);
  CHECK(cidr("0.0.0.0/0.0.0.0").prefix == 0);
}

TEST_CASE("a CIDR keeps the host bits it was written with", "[values]") {
  auto c = cidr("192.168.1.10/24");
  CHECK(c.net.str() == "192.168.1.10");
  CHECK(c.str() == "192.168.1.10/24");
  CHECK(c.contains(ip("192.168.1.200")));
}

TEST_CASE("an IPv4 CIDR contains the addresses under its mask", "[values]") {
  auto c = cidr("198.18.0.0/15");
  CHECK(c.contains(ip("198.18.0.1")));
  CHECK(c.contains(ip("198.19.255.255")));
  CHECK_FALSE(c.contains(ip("198.20.0.0")));
  CHECK_FALSE(c.contains(ip("198.17.255.255")));
  auto odd = cidr("10.1.2.128/25");
  CHECK(odd.contains(ip("10.1.2.255")));
  CHECK_FALSE(odd.contains(ip("10.1.2.127")));
}

TEST_CASE("a /0 contains every address of its family only", "[values]") {
  CHECK(cidr("0.0.0.0/0").contains(ip("255.255.255.255")));
  CHECK(cidr("0.0.0.0/0").contains(ip("1.2.3.4")));
  CHECK_FALSE(cidr("0.0.0.0/0").contains(ip("::1")));
  CHECK(cidr("::/0").contains(ip("2001:db8::1")));
  CHECK_FALSE(cidr("::/0").contains(ip("1.2.3.4")));
}

TEST_CASE("a /32 or /128 contains exactly its address", "[values]") {
  CHECK(cidr("10.0.0.1/32").contains(ip("10.0.0.1")));
  CHECK_FALSE(cidr("10.0.0.1/32").contains(ip("10.0.0.0")));
  CHECK(cidr("::1/128").contains(ip("::1")));
  CHECK_FALSE(cidr("::1/128").contains(ip("::2")));
}

TEST_CASE("an IPv6 CIDR contains the addresses under its mask", "[values]") {
  auto c = cidr("2001:db8:abcc::/46");
  CHECK(c.contains(ip("2001:db8:abcd::1")));
  CHECK(c.contains(ip("2001:db8:abcf:ffff::1")));
  CHECK_FALSE(c.contains(ip("2001:db8:abcb:ffff::1")));
  CHECK_FALSE(c.contains(ip("2001:db8:abd0::1")));
  CHECK_FALSE(c.contains(IpAddr{}));
}

TEST_CASE("bad CIDRs name what was expected", "[values]") {
  CHECK(parseCidr("10.0.0.0/33").error() ==
        "invalid prefix length '33' in '10.0.0.0/33' (expected 0 to 32 or a contiguous dotted "
        "netmask)");
  CHECK(parseCidr("::/129").error() ==
        "invalid prefix length '129' in '::/129' (expected 0 to 128)");
  CHECK(
      parseCidr("10.0.0.0/").error() ==
      "invalid prefix length '' in '10.0.0.0/' (expected 0 to 32 or a contiguous dotted netmask)");
  CHECK(parseCidr("10.0.0.0/255.0.255.0").error() ==
        "invalid prefix length '255.0.255.0' in '10.0.0.0/255.0.255.0' (expected 0 to 32 or a "
        "contiguous dotted netmask)");
  CHECK(parseCidr("10.0.0.0/-1").ok() == false);
  CHECK(parseCidr("10.0.0/8").error() ==
        "invalid network '10.0.0/8' (expected an IPv4 or IPv6 address with an optional /prefix)");
  CHECK_FALSE(parseCidr("").ok());
}
