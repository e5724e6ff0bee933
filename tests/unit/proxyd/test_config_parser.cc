// parseConfig(): sections, defaults inheritance, keywords and their values.
#include "config_test_util.h"

using namespace proxyd;
using namespace proxyd::test;
using namespace std::chrono_literals;

namespace {
constexpr unsigned FE = ProxyConfig::Frontend;
constexpr unsigned BE = ProxyConfig::Backend;
constexpr unsigned LI = ProxyConfig::Listen;
} // namespace

TEST_CASE("an empty configuration is valid and has no proxies", "[config]") {
  auto o = parse("");
  CHECK(o.ok());
  CHECK(o.config.proxies.empty());
  CHECK(o.config.global.nbthread == 0); // not set: one thread per CPU at start-up
}

TEST_CASE("global keywords fill the global config", "[config][global]") {
  auto o = parse("global\n"
                 "  daemon\n"
                 "  maxconn 4000\n"
                 "  pidfile /run/p.pid\n"
                 "  user haproxy\n"
                 "  group haproxy\n"
                 "  chroot /var/empty\n"
                 "  nbthread 4\n");
  REQUIRE(o.ok());
  const GlobalConfig& g = o.config.global;
  CHECK(g.daemon);
  CHECK(g.maxconn == 4000);
  CHECK(g.pidfile == "/run/p.pid");
  CHECK(g.user == "haproxy");
  CHECK(g.group == "haproxy");
  CHECK(g.chroot == "/var/empty");
  CHECK(g.nbthread == 4);
}

TEST_CASE("a repeated pidfile keeps the first and warns, as HAProxy", "[config][global]") {
  auto o = parse("global\n  pidfile /a\n  pidfile /b\n");
  CHECK(o.ok());
  CHECK(o.config.global.pidfile == "/a");
  CHECK(has(o.warnings, "t.cfg:3: 'pidfile' already specified"));
}

TEST_CASE("log targets: address, unix path, stdout/stderr, format, facility, level",
          "[config][log]") {
  auto o = parse("global\n"
                 "  log 127.0.0.1 local2\n"
                 "  log 198.18.0.1:1514 daemon info\n"
                 "  log /dev/log local0\n"
                 "  log stdout format raw local0 debug\n"
                 "  log stderr format rfc3164 user err\n"
                 "  log udp@[::1]:515 local7\n");
  REQUIRE(o.ok());
  const auto& logs = o.config.global.logs;
  REQUIRE(logs.size() == 6);
  CHECK(logs[0].kind == LogTarget::Kind::Udp);
  CHECK(logs[0].addr.str() == "127.0.0.1:514");
  CHECK(logs[0].facility == 18);
  CHECK(logs[0].maxLevel == 7);
  CHECK(logs[1].addr.str() == "198.18.0.1:1514");
  CHECK(logs[1].facility == 3);
  CHECK(logs[1].maxLevel == 6);
  CHECK(logs[2].kind == LogTarget::Kind::Unix);
  CHECK(logs[2].path == "/dev/log");
  CHECK(logs[3].kind == LogTarget::Kind::Stdout);
  CHECK(logs[3].raw);
  CHECK(logs[4].kind == LogTarget::Kind::Stderr);
  CHECK_FALSE(logs[4].raw);
  CHECK(logs[4].maxLevel == 3);
  CHECK(logs[5].addr.str() == "[::1]:515");
  CHECK(logs[0].loc.line == 2);
}

TEST_CASE("bad log lines are errors with their line", "[config][log]") {
  auto o = parse("global\n"
                 "  log 127.0.0.1\n"
                 "  log 127.0.0.1 nofac\n"
                 "  log 127.0.0.1 local0 loud\n"
                 "  log 127.0.0.1 len 100 local0\n"
                 "  log stdout format rfc5424 local0\n"
                 "  log ring@buf local0\n"
                 "  log 127.0.0.1 local0 notice err\n"
                 "  log global\n");
  CHECK(has(o.errors, "t.cfg:2: 'log' expects"));
  CHECK(has(o.errors, "t.cfg:3:17: unknown log facility 'nofac'"));
  CHECK(has(o.errors, "t.cfg:4:24: unknown optional log level 'loud'"));
  CHECK(has(o.errors, "t.cfg:5: unsupported keyword 'len' on log line"));
  CHECK(has(o.errors, "t.cfg:6:21: log format 'rfc5424' is not supported yet"));
  CHECK(has(o.errors, "t.cfg:7:7: log target 'ring@buf' is not supported yet"));
  CHECK(has(o.errors, "t.cfg:8:31: a minimum log level ('err') is not supported yet"));
  CHECK(has(o.errors, "t.cfg:9:7: 'log global' is only valid in proxy sections"));
  CHECK(o.config.global.logs.empty());
}

TEST_CASE("a frontend with binds, backends and use_backend is resolved", "[config][frontend]") {
  auto o = parse(std::string(kTimeouts) + "frontend www\n"
                                          "  bind *:80,127.0.0.1:8080\n"
                                          "  bind [::1]:8443 \n"
                                          "  bind 198.18.0.1:9000-9010\n"
                                          "  maxconn 100\n"
                                          "  use_backend other\n"
                                          "  default_backend app\n"
                                          "backend app\n"
                                          "backend other\n");
  REQUIRE(o.ok());
  const ProxyConfig& fe = proxy(o, "www", FE);
  REQUIRE(fe.binds.size() == 4);
  CHECK(fe.binds[0].addr.str() == "*:80");
  CHECK(fe.binds[1].addr.str() == "127.0.0.1:8080");
  CHECK(fe.binds[2].addr.str() == "[::1]:8443");
  CHECK(fe.binds[3].addr.portLo == 9000);
  CHECK(fe.binds[3].addr.portHi == 9010);
  CHECK(fe.binds[0].loc.line == 7);
  CHECK(fe.maxconn == 100);
  CHECK(fe.defaultBackendIndex == o.config.find("app", BE));
  REQUIRE(fe.useBackends.size() == 1);
  CHECK(fe.useBackends[0].backendIndex == o.config.find("other", BE));
}

TEST_CASE("a listen without default_backend serves itself", "[config][listen]") {
  auto o = parse(std::string(kTimeouts) + "listen db\n"
                                          "  bind 127.0.0.1:5432\n"
                                          "  balance leastconn\n"
                                          "  server d1 127.0.0.1:5433\n");
  REQUIRE(o.ok());
  const ProxyConfig& l = proxy(o, "db", LI);
  CHECK(l.cap == LI);
  CHECK(l.isFrontend());
  CHECK(l.isBackend());
  CHECK(l.defaultBackendIndex == o.config.find("db", LI));
  CHECK(l.balance == BalanceAlgo::LeastConn);
}

TEST_CASE("a listen may name another default_backend, as in HAProxy", "[config][listen]") {
  auto o = parse(std::string(kTimeouts) + "listen l\n  bind :1\n  default_backend b\n"
                                          "backend b\n");
  REQUIRE(o.ok());
  CHECK(proxy(o, "l", LI).defaultBackendIndex == o.config.find("b", BE));
}

TEST_CASE("each defaults section applies to the sections after it and starts from scratch",
          "[config][defaults]") {
  auto o = parse("defaults\n"
                 "  mode tcp\n"
                 "  retries 5\n"
                 "  balance leastconn\n"
                 "  option redispatch\n"
                 "  timeout connect 4s\n"
                 "  timeout client 40s\n"
                 "  timeout server 40s\n"
                 "backend first\n"
                 "defaults\n"
                 "  timeout connect 1s\n"
                 "backend second\n"
                 "  retries 7\n");
  const ProxyConfig& a = proxy(o, "first", BE);
  CHECK(a.retries == 5);
  CHECK(a.balance == BalanceAlgo::LeastConn);
  CHECK(a.redispatch);
  CHECK(a.timeouts.connect == Micros(4s));
  CHECK(a.timeouts.server == Micros(40s));
  const ProxyConfig& b = proxy(o, "second", BE);
  CHECK(b.retries == 7);
  CHECK(b.balance == BalanceAlgo::RoundRobin); // reset, not inherited from the first defaults
  CHECK_FALSE(b.redispatch);
  CHECK(b.timeouts.connect == Micros(1s));
  CHECK_FALSE(b.timeouts.server.has_value());
}

TEST_CASE("option tcp-smart-accept: on in mode http, off in mode tcp, either way by option",
          "[config][defaults]") {
  auto o = parse(std::string(kTimeouts) + "frontend h\n"
                                          "  mode http\n"
                                          "  bind :80\n"
                                          "frontend t\n"
                                          "  mode tcp\n"
                                          "  bind :81\n"
                                          "frontend t2\n"
                                          "  mode tcp\n"
                                          "  bind :82\n"
                                          "  option tcp-smart-accept\n"
                                          "frontend h2\n"
                                          "  mode http\n"
                                          "  bind :83\n"
                                          "  no option tcp-smart-accept\n");
  REQUIRE(o.ok());
  CHECK(proxy(o, "h", FE).smartAccept());
  CHECK_FALSE(proxy(o, "t", FE).smartAccept());
  CHECK(proxy(o, "t2", FE).smartAccept());
  CHECK_FALSE(proxy(o, "h2", FE).smartAccept());
  // From defaults, and refused with arguments.
  auto d = parse(std::string(kTimeouts) + "  mode http\n"
                                          "  no option tcp-smart-accept\n"
                                          "frontend h\n"
                                          "  bind :80\n");
  REQUIRE(d.ok());
  CHECK_FALSE(proxy(d, "h", FE).smartAccept());
  CHECK_FALSE(parse(std::string(kTimeouts) + "frontend h\n  bind :80\n"
                                             "  option tcp-smart-accept now\n")
                  .ok());
}

TEST_CASE("a section overrides what defaults set", "[config][defaults]") {
  auto o = parse(std::string(kTimeouts) + "  option dontlognull\n"
                                          "  maxconn 3000\n"
                                          "  default_backend app\n"
                                          "frontend f\n"
                                          "  bind :80\n"
                                          "  no option dontlognull\n"
                                          "  timeout client 5s\n"
                                          "backend app\n");
  REQUIRE(o.ok());
  const ProxyConfig& f = proxy(o, "f", FE);
  CHECK_FALSE(f.dontlognull);
  CHECK(f.maxconn == 3000);
  CHECK(f.timeouts.client == Micros(5s));
  CHECK(f.defaultBackend == "app");
  CHECK(f.defaultBackendIndex == o.config.find("app", BE));
  // backend-only proxies do not carry the frontend's inherited fields
  CHECK(proxy(o, "app", BE).defaultBackend.empty());
}

TEST_CASE("timeouts: units, bare milliseconds, all kinds", "[config][timeout]") {
  auto o = parse("defaults\n"
                 "  timeout connect 5000\n"
                 "  timeout client 1m\n"
                 "  timeout server 2h\n"
                 "  timeout queue 30s\n"
                 "  timeout check 500ms\n"
                 "  timeout tunnel 1d\n"
                 "  timeout http-request 10s\n"
                 "  timeout http-keep-alive 2s\n"
                 "backend b\n");
  REQUIRE(o.ok());
  const Timeouts& t = proxy(o, "b", BE).timeouts;
  CHECK(t.connect == Micros(5s));
  CHECK(t.client == Micros(1min));
  CHECK(t.server == Micros(2h));
  CHECK(t.queue == Micros(30s));
  CHECK(t.check == Micros(500ms));
  CHECK(t.tunnel == Micros(24h));
  CHECK(t.httpRequest == Micros(10s));
  CHECK(t.httpKeepAlive == Micros(2s));
}

TEST_CASE("balance and hash-type values", "[config][backend]") {
  const std::pair<const char*, BalanceAlgo> algos[] = {
      {"roundrobin", BalanceAlgo::RoundRobin}, {"static-rr", BalanceAlgo::StaticRr},
      {"leastconn", BalanceAlgo::LeastConn},   {"first", BalanceAlgo::First},
      {"source", BalanceAlgo::Source},         {"random", BalanceAlgo::Random}};
  for (auto [name, algo] : algos) {
    auto o = parse(std::string("backend b\n  balance ") + name + "\n");
    INFO(name);
    REQUIRE(o.ok());
    CHECK(o.config.proxies[0].balance == algo);
  }
  auto c = parse("backend b\n  hash-type consistent\nbackend m\n  hash-type map-based sdbm\n");
  REQUIRE(c.ok());
  CHECK(proxy(c, "b", BE).hashType == HashType::Consistent);
  CHECK(proxy(c, "m", BE).hashType == HashType::MapBased);
}

TEST_CASE("options and their negations", "[config][option]") {
  auto o = parse("defaults\n"
                 "  option redispatch\n"
                 "  option allbackups\n"
                 "  option tcplog\n"
                 "  option dontlognull\n"
                 "  option http-server-close\n"
                 "  option forwardfor except 127.0.0.0/8\n"
                 "  log global\n"
                 "  log 127.0.0.1 local0\n"
                 "backend b\n"
                 "  no option redispatch\n"
                 "  no option allbackups\n"
                 "  no option http-server-close\n"
                 "listen l\n"
                 "  bind :1\n"
                 "  no log\n");
  const ProxyConfig& b = proxy(o, "b", BE);
  CHECK_FALSE(b.redispatch);
  CHECK_FALSE(b.allbackups);
  CHECK_FALSE(b.httpServerClose);
  CHECK(b.forwardFor);
  REQUIRE(b.forwardForExcept.has_value());
  CHECK(b.forwardForExcept->str() == "127.0.0.0/8");
  CHECK(b.logGlobal);
  CHECK(b.logs.size() == 1);
  const ProxyConfig& l = proxy(o, "l", LI);
  CHECK(l.tcplog);
  CHECK(l.dontlognull);
  CHECK(l.redispatch);
  CHECK_FALSE(l.logGlobal);
  CHECK(l.logs.empty());
}

TEST_CASE("options HAProxy does not let you negate are errors", "[config][option]") {
  auto o = parse("defaults\n"
                 "  no option tcplog\n"
                 "  no option forwardfor\n"
                 "  no option tcp-check\n"
                 "  no retries\n");
  CHECK(has(o.errors, "t.cfg:2: negation is not supported for 'option tcplog'"));
  CHECK(has(o.errors, "t.cfg:3: negation is not supported for 'option forwardfor'"));
  CHECK(has(o.errors, "t.cfg:4: negation is not supported for 'option tcp-check'"));
  CHECK(has(o.errors, "t.cfg:5: negation is not supported for 'retries'"));
}

TEST_CASE("default-server options are inherited by servers and overridden by the server line",
          "[config][server]") {
  auto o = parse(std::string(kTimeouts) + "  default-server inter 3s rise 4\n"
                                          "backend b\n"
                                          "  default-server fall 5 weight 10 check\n"
                                          "  server s1 127.0.0.1:81\n"
                                          "  server s2 127.0.0.1:82 inter 1s weight 20 no-check\n"
                                          "  default-server maxconn 7\n"
                                          "  server s3 127.0.0.1:83\n"
                                          "backend c\n"
                                          "  server c1 127.0.0.1:84\n");
  REQUIRE(o.ok());
  const auto& s = proxy(o, "b", BE).servers;
  REQUIRE(s.size() == 3);
  CHECK(s[0].opt.inter == Micros(3s));
  CHECK(s[0].opt.rise == 4);
  CHECK(s[0].opt.fall == 5);
  CHECK(s[0].opt.weight == 10);
  CHECK(s[0].opt.check);
  CHECK(s[0].opt.maxconn == 0);
  CHECK(s[1].opt.inter == Micros(1s));
  CHECK(s[1].opt.weight == 20);
  CHECK_FALSE(s[1].opt.check);
  CHECK(s[1].opt.rise == 4);
  CHECK(s[2].opt.maxconn == 7); // a later default-server applies to later servers
  CHECK(s[0].id == 1);
  CHECK(s[2].id == 3);
  CHECK(s[2].loc.line == 12);
  // the defaults section's default-server, without the backend's own lines
  const auto& c = proxy(o, "c", BE).servers;
  REQUIRE(c.size() == 1);
  CHECK(c[0].opt.inter == Micros(3s));
  CHECK(c[0].opt.fall == 3);
  CHECK_FALSE(c[0].opt.check);
}

TEST_CASE("every server option", "[config][server]") {
  auto o = parse("backend b\n"
                 "  server s 198.18.0.5:8080 check inter 2s fastinter 500ms downinter 10s "
                 "rise 3 fall 4 weight 256 backup disabled maxconn 50 maxqueue 9 port 9090 "
                 "addr 198.18.0.6\n"
                 "  server t 127.0.0.1:1 backup no-backup disabled enabled weight 0\n");
  REQUIRE(o.ok());
  const auto& s = o.config.proxies[0].servers;
  const ServerOptions& a = s[0].opt;
  CHECK(s[0].addr.str() == "198.18.0.5:8080");
  CHECK(a.check);
  CHECK(a.inter == Micros(2s));
  CHECK(a.fastinter == Micros(500ms));
  CHECK(a.downinter == Micros(10s));
  CHECK(a.rise == 3);
  CHECK(a.fall == 4);
  CHECK(a.weight == 256);
  CHECK(a.backup);
  CHECK(a.disabled);
  CHECK(a.maxconn == 50);
  CHECK(a.maxqueue == 9);
  CHECK(a.checkPort == 9090);
  REQUIRE(a.checkAddr.has_value());
  CHECK(a.checkAddr->str() == "198.18.0.6");
  const ServerOptions& b = s[1].opt;
  CHECK_FALSE(b.backup);
  CHECK_FALSE(b.disabled);
  CHECK(b.weight == 0);
  CHECK_FALSE(b.fastinter.has_value());
}

TEST_CASE("tcp-check rules are parsed and decoded", "[config][tcp-check]") {
  auto o = parse("backend b\n"
                 "  option tcp-check\n"
                 "  tcp-check connect port 6379\n"
                 "  tcp-check send \"PING\\r\\n\"\n"
                 "  tcp-check expect string +PONG\n"
                 "  tcp-check send-binary 0a0B\n"
                 "  tcp-check expect ! binary ff00\n"
                 "  tcp-check expect !rstring ^ERR.*\n");
  REQUIRE(o.ok());
  const ProxyConfig& b = o.config.proxies[0];
  CHECK(b.tcpCheck);
  const auto& r = b.tcpChecks;
  REQUIRE(r.size() == 6);
  CHECK(r[0].kind == TcpCheckRule::Kind::Connect);
  CHECK(r[0].port == 6379);
  CHECK(r[1].kind == TcpCheckRule::Kind::Send);
  CHECK(r[1].data == "PING\r\n");
  CHECK(r[2].kind == TcpCheckRule::Kind::Expect);
  CHECK(r[2].match == TcpCheckRule::Match::String);
  CHECK_FALSE(r[2].negate);
  CHECK(r[2].pattern == "+PONG");
  CHECK(r[3].kind == TcpCheckRule::Kind::SendBinary);
  CHECK(r[3].data == std::string("\x0a\x0b"));
  CHECK(r[4].negate);
  CHECK(r[4].match == TcpCheckRule::Match::Binary);
  CHECK(r[4].pattern == std::string("\xff\x00", 2));
  CHECK(r[5].negate);
  CHECK(r[5].match == TcpCheckRule::Match::Rstring);
  CHECK(r[5].loc.line == 8);
}

TEST_CASE("tcp-check rules of defaults are used until a backend writes its own",
          "[config][tcp-check]") {
  auto o = parse("defaults\n"
                 "  option tcp-check\n"
                 "  tcp-check send hello\n"
                 "backend inherits\n"
                 "backend own\n"
                 "  tcp-check send bye\n");
  REQUIRE(o.ok());
  const auto& a = proxy(o, "inherits", BE).tcpChecks;
  REQUIRE(a.size() == 1);
  CHECK(a[0].data == "hello");
  const auto& b = proxy(o, "own", BE).tcpChecks;
  REQUIRE(b.size() == 1);
  CHECK(b[0].data == "bye");
}

TEST_CASE("bad tcp-check rules are errors", "[config][tcp-check]") {
  auto o = parse("backend b\n"
                 "  tcp-check send hi\n"
                 "  tcp-check connect\n"
                 "  tcp-check send-binary abc\n"
                 "  tcp-check send-binary zz\n"
                 "  tcp-check expect rstring (\n"
                 "  tcp-check expect min-recv 3 string x\n"
                 "  tcp-check expect regex x\n"
                 "  tcp-check connect port 0\n"
                 "  tcp-check comment hi\n"
                 "  tcp-check\n"
                 "backend c\n"
                 "  tcp-check connect ssl\n");
  CHECK(has(o.errors, "t.cfg:3: 'tcp-check connect': first step MUST also be a 'connect'"));
  CHECK(has(o.errors, "t.cfg:4:25: 'tcp-check send-binary': 'abc' invalid binary string"));
  CHECK(has(o.errors, "t.cfg:5:25: 'tcp-check send-binary': invalid binary string"));
  CHECK(has(o.errors, "t.cfg:6:28: 'tcp-check expect': regex '(' is invalid"));
  CHECK(has(o.errors, "t.cfg:7: unsupported keyword 'min-recv' on tcp-check expect line"));
  CHECK(has(o.errors, "t.cfg:8:20: 'tcp-check expect' expects [!] string|binary|rstring"));
  CHECK(has(o.errors, "t.cfg:9:"));
  CHECK(has(o.errors, "t.cfg:10: unsupported keyword 'tcp-check comment'"));
  CHECK(has(o.errors, "t.cfg:11: 'tcp-check' expects"));
  CHECK(has(o.errors, "t.cfg:13: unsupported keyword 'ssl' on tcp-check connect line"));
}

TEST_CASE("several files are read in order, defaults carry over, sections do not",
          "[config][files]") {
  auto o = parseConfig({
      ConfigFile{"a.cfg", "global\n  maxconn 10\n" + std::string(kTimeouts) + "  retries 9\n"},
      ConfigFile{"b.cfg", "  server x 127.0.0.1:1\nbackend b\n  server s 127.0.0.1:2\n"},
      ConfigFile{"c.cfg", "frontend f\n  bind :80\n  default_backend b\n"},
  });
  // b.cfg's first line is outside any section: the defaults section of a.cfg
  // ended with its file.
  CHECK(has(o.errors, "b.cfg:1: unsupported keyword 'server' outside any section"));
  REQUIRE(o.errors.size() == 1);
  CHECK(o.config.global.maxconn == 10);
  REQUIRE(o.config.proxies.size() == 2);
  CHECK(o.config.proxies[0].name == "b");
  CHECK(o.config.proxies[0].retries == 9);
  CHECK(o.config.proxies[0].loc.file == "b.cfg");
  CHECK(o.config.proxies[1].name == "f");
  CHECK(o.config.proxies[1].defaultBackendIndex == 0);
}

TEST_CASE("the old 'frontend NAME ADDR' form is a bind, with a warning", "[config][compat]") {
  auto o = parse(std::string(kTimeouts) + "frontend  main *:80\n  default_backend b\n"
                                          "backend b\n");
  REQUIRE(o.ok());
  const ProxyConfig& f = proxy(o, "main", FE);
  REQUIRE(f.binds.size() == 1);
  CHECK(f.binds[0].addr.str() == "*:80");
  CHECK(has(o.warnings, "t.cfg:6: an address on the 'frontend' line is refused by HAProxy 2.6"));
  CHECK(has(o.warnings, "please use the 'bind' keyword"));
}

TEST_CASE("quoted words and comments are handled by the lexer", "[config]") {
  auto o = parse("backend b # trailing comment\n"
                 "  # a comment line\n"
                 "  tcp-check send 'two words'\n");
  REQUIRE(o.ok());
  CHECK(o.config.proxies[0].tcpChecks.at(0).data == "two words");
}

TEST_CASE("Config::find matches name and capability", "[config]") {
  auto o = parse("frontend x\n  bind :1\n  default_backend x\nbackend x\nlisten l\n  bind :2\n");
  REQUIRE(o.ok()); // a frontend and a backend may share a name
  CHECK(o.config.find("x", FE) == 0);
  CHECK(o.config.find("x", BE) == 1);
  CHECK(o.config.find("l", FE) == 2);
  CHECK(o.config.find("l", BE) == 2);
  CHECK(o.config.find("l", LI) == 2);
  CHECK(o.config.find("x", LI) == -1);
  CHECK(o.config.find("nope", FE) == -1);
  CHECK(o.config.proxies[0].defaultBackendIndex == 1);
}

TEST_CASE("environment variables expand inside double quotes only", "[config][env]") {
  std::string text = std::string(kTimeouts) +
                     "frontend f\n"
                     "  bind \"127.0.0.1:${FE_PORT}\"\n"
                     "  default_backend b\n"
                     "backend b\n"
                     "  server s \"${SRV_ADDR}:9000\"\n";
  auto env = [](const std::string& n) -> std::optional<std::string> {
    if (n == "FE_PORT") return "8123";
    if (n == "SRV_ADDR") return "127.0.0.7";
    return std::nullopt;
  };
  auto o = parseConfig({ConfigFile{"t.cfg", text}}, env);
  REQUIRE(o.ok());
  CHECK(proxy(o, "f", FE).binds.at(0).addr.portLo == 8123);
  CHECK(proxy(o, "b", BE).servers.at(0).addr.str() == "127.0.0.7:9000");

  // Without a lookup nothing expands, so the port is not a number.
  auto plain = parse(text);
  CHECK_FALSE(plain.ok());
}
