// parseConfig() diagnostics: every error and warning carries file:line, and
// parsing goes on after an error so all of them are reported.
#include "config_test_util.h"

using namespace proxyd;
using namespace proxyd::test;

TEST_CASE("an unknown keyword is an error in every section type", "[config][errors]") {
  auto o = parse("global\n"
                 "  tune.bufsize 1\n"
                 "defaults\n"
                 "  persist rdp-cookie\n"
                 "frontend f\n"
                 "  bind :80\n"
                 "  stick-table type ip size 1m\n"
                 "backend b\n"
                 "  option ssl-hello-chk\n"
                 "listen l\n"
                 "  bind :81\n"
                 "  timeout tarpit 1s\n"
                 "  stats enable\n");
  CHECK(has(o.errors, "t.cfg:2: unsupported keyword 'tune.bufsize'"));
  CHECK(has(o.errors, "t.cfg:4: unsupported keyword 'persist'"));
  CHECK(has(o.errors, "t.cfg:7: unsupported keyword 'stick-table'"));
  CHECK(has(o.errors, "t.cfg:9: unsupported keyword 'option ssl-hello-chk'"));
  CHECK(has(o.errors, "t.cfg:12: unsupported keyword 'timeout tarpit'"));
  CHECK(has(o.errors, "t.cfg:13: unsupported keyword 'stats enable'"));
  CHECK(o.errors.size() == 6);
}

TEST_CASE("a keyword before any section is an error", "[config][errors]") {
  auto o = parse("maxconn 10\n");
  CHECK(has(o.errors, "t.cfg:1: unsupported keyword 'maxconn' outside any section"));
}

TEST_CASE("other HAProxy sections are refused once and their lines skipped", "[config][errors]") {
  auto o = parse("userlist admins\n  user a password x\nbackend b\n");
  REQUIRE(o.errors.size() == 1);
  CHECK(has(o.errors, "t.cfg:1: unsupported keyword 'userlist'"));
  CHECK(o.config.find("b", ProxyConfig::Backend) == 0);
}

TEST_CASE("unknown server options are errors naming the keyword", "[config][errors]") {
  auto o = parse("backend b\n"
                 "  server s 127.0.0.1:80 check track s1 ssl\n"
                 "  default-server slowstart 10s\n");
  CHECK(has(o.errors, "t.cfg:2: unsupported keyword 'track' on server line"));
  CHECK_FALSE(has(o.errors, "'s1'")); // the rest of the line is not guessed at
  CHECK(has(o.errors, "t.cfg:3: unsupported keyword 'slowstart' on default-server line"));
}

TEST_CASE("keywords in a section HAProxy refuses them in are errors", "[config][errors]") {
  auto o = parse("defaults\n"
                 "  bind :80\n"
                 "  server s 127.0.0.1:1\n"
                 "  use_backend b\n"
                 "frontend f\n"
                 "  bind :80\n"
                 "  server s 127.0.0.1:1\n"
                 "  default-server check\n"
                 "backend b\n");
  CHECK(has(o.errors, "t.cfg:2: 'bind' not allowed in 'defaults' section."));
  CHECK(has(o.errors, "t.cfg:3: 'server' not allowed in 'defaults' section."));
  CHECK(has(o.errors, "t.cfg:4: 'use_backend' not allowed in 'defaults' section."));
  CHECK(has(o.errors,
            "t.cfg:7: 'server' not allowed because frontend 'f' has no backend capability."));
  CHECK(has(o.errors, "t.cfg:8: 'default-server' not allowed because frontend 'f' has no "
                      "backend capability."));
}

TEST_CASE("keywords HAProxy ignores on the wrong side are warnings", "[config][warnings]") {
  auto o = parse("frontend f\n"
                 "  bind :80\n"
                 "  balance source\n"
                 "  timeout server 1s\n"
                 "  default_backend b\n"
                 "backend b\n"
                 "  bind :81\n"
                 "  default_backend b\n"
                 "  timeout client 1s\n"
                 "  maxconn 5\n");
  CHECK(o.ok());
  CHECK(has(o.warnings, "t.cfg:3: 'balance' ignored because frontend 'f' has no backend "
                        "capability."));
  CHECK(has(o.warnings, "t.cfg:4: 'timeout server' ignored because frontend 'f'"));
  CHECK(has(o.warnings, "t.cfg:7: 'bind' ignored because backend 'b' has no frontend "
                        "capability."));
  CHECK(has(o.warnings, "t.cfg:8: 'default_backend' ignored because backend 'b'"));
  CHECK(has(o.warnings, "t.cfg:9: 'timeout client' ignored because backend 'b'"));
  CHECK(has(o.warnings, "t.cfg:10: 'maxconn' ignored because backend 'b'"));
  CHECK(o.config.proxies[1].binds.empty());
  CHECK(o.config.proxies[0].balance == BalanceAlgo::RoundRobin);
}

TEST_CASE("bad values are errors at their line and column", "[config][errors]") {
  auto o = parse("global\n"
                 "  nbthread 0\n"
                 "  maxconn lots\n"
                 "defaults\n"
                 "  timeout connect soon\n"
                 "  retries -1\n"
                 "  mode udp\n"
                 "  balance roundrobin extra\n"
                 "frontend f\n"
                 "  bind 1.2.3:80\n"
                 "  bind :80 ssl crt /x.pem\n"
                 "backend b\n"
                 "  server s1 127.0.0.1:80 weight 300\n"
                 "  server s2 127.0.0.1:80 rise 0 fall 0\n"
                 "  server s3 127.0.0.1:80 inter 0\n"
                 "  server s4 127.0.0.1\n"
                 "  server s5 127.0.0.1:80 port 70000 addr nowhere\n"
                 "  server s6 127.0.0.1:80 inter\n"
                 "  server s7\n"
                 "  hash-type ketama\n");
  CHECK(has(o.errors, "t.cfg:2:12: 'nbthread' value must be between 1 and 64 (was 0)"));
  CHECK(has(o.errors, "t.cfg:3:11: 'maxconn': "));
  CHECK(has(o.errors, "t.cfg:5:19: 'timeout connect': "));
  CHECK(has(o.errors, "t.cfg:6:11: 'retries': "));
  CHECK(has(o.errors, "t.cfg:7:8: unknown proxy mode 'udp'."));
  CHECK(has(o.errors, "t.cfg:8:22: 'balance' cannot handle unexpected argument 'extra'."));
  CHECK(has(o.errors, "t.cfg:10:8: 'bind 1.2.3:80': "));
  CHECK(has(o.errors, "t.cfg:11: unsupported keyword 'ssl' on bind line"));
  CHECK_FALSE(has(o.errors, "'crt'"));
  CHECK(has(o.errors, "t.cfg:13:33: 'server b/s1': weight is not within 0 and 256 (300)."));
  CHECK(has(o.errors, "t.cfg:14:31: 'server b/s2': 'rise' has to be > 0."));
  CHECK(has(o.errors, "t.cfg:14:38: 'server b/s2': 'fall' has to be > 0."));
  CHECK(has(o.errors, "t.cfg:15:32: 'server b/s3': invalid value 0 for argument 'inter'."));
  CHECK(has(o.errors, "t.cfg:16:13: 'server b/s4': "));
  CHECK(has(o.errors, "t.cfg:17:31: 'server b/s5': 'port' must be between 1 and 65535"));
  CHECK(has(o.errors, "t.cfg:17:42: 'server b/s5': 'addr': "));
  CHECK(has(o.errors, "t.cfg:18:26: 'server b/s6': 'inter' expects an argument."));
  CHECK(has(o.errors, "t.cfg:19: 'server' expects <name> and <addr>"));
  CHECK(has(o.errors, "t.cfg:20:13: 'hash-type' expects 'map-based' or 'consistent'"));
}

TEST_CASE("features not supported yet are refused with a clear message", "[config][errors]") {
  auto o = parse("global\n"
                 "  stats socket /run/admin.sock expose-fd listeners\n"
                 "defaults\n"
                 "  mode http\n"
                 "frontend f\n"
                 "  bind :80\n"
                 "  default_backend b\n"
                 "  timeout client 1s\n"
                 "backend b\n"
                 "  balance rdp-cookie\n"
                 "  hash-type consistent djb2 fast\n"
                 "  cookie SRV insert dynamic\n");
  CHECK(has(o.errors, "t.cfg:2:32: 'stats socket' : 'expose-fd' is not supported (proxyd "
                      "reloads by restarting, it never passes its listeners to a new process)"));
  CHECK(has(o.errors, "t.cfg:10:11: balance 'rdp-cookie' is not supported yet"));
  CHECK(has(o.errors, "t.cfg:11:29: 'hash-type' only supports 'avalanche' as a modifier"));
  CHECK(has(o.errors, "t.cfg:12:21: 'cookie' option 'dynamic' is not supported"));
  CHECK(o.errors.size() == 4);
  CHECK(o.config.proxies[0].mode == Mode::Http); // mode http is supported
}

TEST_CASE("references to missing backends are errors at the referring line", "[config][errors]") {
  auto o = parse("defaults\n"
                 "  default_backend ghost\n"
                 "frontend f\n"
                 "  bind :80\n"
                 "  use_backend nope\n"
                 "frontend g\n"
                 "  bind :81\n"
                 "  default_backend f\n");
  CHECK(has(o.errors, "t.cfg:2:19: proxy 'f': unable to find required default_backend: "
                      "'ghost'."));
  CHECK(has(o.errors, "t.cfg:5:15: proxy 'f': unable to find required use_backend: 'nope'."));
  // a frontend is not a backend
  CHECK(has(o.errors, "t.cfg:8:19: proxy 'g': unable to find required default_backend: 'f'."));
}

TEST_CASE("duplicate proxy and server names are errors", "[config][errors]") {
  auto o = parse("frontend a\n  bind :1\n"
                 "frontend a\n  bind :2\n"
                 "backend b\n"
                 "  server s 127.0.0.1:1\n"
                 "  server s 127.0.0.1:2\n"
                 "backend b\n"
                 "listen a\n  bind :3\n"
                 "listen b\n  bind :4\n"
                 "listen l\n  bind :5\n"
                 "backend l\n");
  CHECK(has(o.errors, "t.cfg:3: frontend 'a' has the same name as frontend 'a' declared at "
                      "t.cfg:1."));
  CHECK(has(o.errors, "t.cfg:7: backend 'b', another server named 's' was already defined at "
                      "line 6, please use distinct names."));
  CHECK(has(o.errors, "t.cfg:8: backend 'b' has the same name as backend 'b' declared at "
                      "t.cfg:5."));
  CHECK(has(o.errors, "t.cfg:9: listen 'a' has the same name as frontend 'a'"));
  CHECK(has(o.errors, "t.cfg:11: listen 'b' has the same name as backend 'b'"));
  CHECK(has(o.errors, "t.cfg:15: backend 'l' has the same name as listen 'l'"));
}

TEST_CASE("bad section lines are errors", "[config][errors]") {
  auto o = parse("frontend\n"
                 "backend bad/name\n"
                 "backend b 1.2.3.4:80\n"
                 "frontend f from defs\n"
                 "  bind :80\n");
  CHECK(has(o.errors, "t.cfg:1: 'frontend' expects <name> as an argument."));
  CHECK(has(o.errors, "t.cfg:2:9: character '/' is not permitted in 'backend' name 'bad/name'."));
  CHECK(has(o.errors, "t.cfg:3:11: 'backend' takes no address"));
  CHECK(has(o.errors, "t.cfg:4: unsupported keyword 'from'"));
}

TEST_CASE("a frontend without bind is an error, a listen without bind a warning",
          "[config][errors]") {
  auto o = parse("defaults\n  timeout client 1s\n"
                 "frontend f\n  default_backend l\n"
                 "listen l\n");
  CHECK(has(o.errors, "t.cfg:3: frontend 'f' has no 'bind' directive."));
  CHECK(has(o.warnings, "t.cfg:5: listen 'l' has no 'bind' directive. Please declare it as a "
                        "backend if this was intended."));
}

TEST_CASE("a backend without servers is fine", "[config]") {
  auto o = parse("backend empty\n");
  CHECK(o.ok());
  CHECK(o.warnings.empty());
}

TEST_CASE("missing timeouts produce HAProxy's warning", "[config][warnings]") {
  auto o = parse("defaults\n  mode tcp\n"
                 "frontend f\n  bind :80\n  default_backend b\n"
                 "backend b\n  timeout connect 1s\n  timeout tunnel 1h\n  server s 127.0.0.1:1\n"
                 "backend c\n  timeout connect 1s\n  timeout server 0\n  server s 127.0.0.1:1\n"
                 "backend empty\n"
                 "listen l\n  bind :81\n  timeout client 1s\n  server s 127.0.0.1:1\n");
  CHECK(o.ok());
  CHECK(has(o.warnings, "t.cfg:3: missing timeouts for frontend 'f'. While not properly "
                        "invalid, you will certainly encounter various problems with such a "
                        "configuration. To fix this, please ensure that all following timeouts "
                        "are set to a non-zero value: 'client', 'connect', 'server'."));
  CHECK_FALSE(has(o.warnings, "backend 'b'")); // tunnel stands in for server in tcp mode
  CHECK(has(o.warnings, "t.cfg:10: missing timeouts for backend 'c'.")); // 0 is missing
  CHECK_FALSE(has(o.warnings, "'empty'")); // no servers, nothing to time out
  CHECK(has(o.warnings, "t.cfg:15: missing timeouts for proxy 'l'."));
}

TEST_CASE("option forwardfor in tcp mode warns as HAProxy does", "[config][warnings]") {
  auto o = parse(std::string(kTimeouts) + "  option forwardfor except 127.0.0.0/8\n"
                                          "  option http-server-close\n"
                                          "frontend main\n  bind :80\n  default_backend app\n"
                                          "backend app\n");
  CHECK(o.ok());
  CHECK(has(o.warnings, "t.cfg:8: 'option forwardfor' ignored for frontend 'main' as it "
                        "requires HTTP mode."));
  CHECK(has(o.warnings, "t.cfg:11: 'option forwardfor' ignored for backend 'app' as it "
                        "requires HTTP mode."));
  CHECK(o.warnings.size() == 2); // http-server-close is silent in tcp mode, as in HAProxy
}

TEST_CASE("parsing continues after a lexer error on one line", "[config][errors]") {
  auto o = parse("backend b\n"
                 "  tcp-check send \"unterminated\n"
                 "  server s 127.0.0.1:1 bogus\n");
  REQUIRE(o.errors.size() == 2);
  CHECK(o.errors[0].rfind("t.cfg:2:", 0) == 0);
  CHECK(has(o.errors, "t.cfg:3: unsupported keyword 'bogus' on server line"));
  CHECK(o.config.proxies[0].servers.size() == 1);
}

TEST_CASE("too many arguments are errors", "[config][errors]") {
  auto o = parse("global\n  daemon now\n  nbthread 2 3\n"
                 "backend b\n  retries 3 4\n  option redispatch 1\n  mode tcp tcp\n");
  CHECK(has(o.errors, "t.cfg:2:10: 'daemon' cannot handle unexpected argument 'now'."));
  CHECK(has(o.errors, "t.cfg:3:14: 'nbthread' cannot handle unexpected argument '3'."));
  CHECK(has(o.errors, "t.cfg:5:13: 'retries' cannot handle unexpected argument '4'."));
  CHECK(has(o.errors, "t.cfg:6:21: 'option redispatch' cannot handle unexpected argument"));
  CHECK(has(o.errors, "t.cfg:7:12: 'mode' cannot handle unexpected argument 'tcp'."));
}

TEST_CASE("stats socket and stats timeout are parsed, bad options are errors", "[config][errors]") {
  auto o = parse("global\n"
                 "  stats socket /run/a.sock mode 600 level admin\n"
                 "  stats socket unix@/run/b.sock\n"
                 "  stats socket ipv4@127.0.0.1:9999 level user\n"
                 "  stats timeout 30s\n");
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  const auto& g = o.config.global;
  REQUIRE(g.statsSockets.size() == 3);
  CHECK(g.statsSockets[0].path == "/run/a.sock");
  CHECK(g.statsSockets[0].mode == 0600);
  CHECK(g.statsSockets[0].level == runtime::Level::Admin);
  CHECK(g.statsSockets[1].path == "/run/b.sock");
  CHECK(g.statsSockets[1].level == runtime::Level::Operator);
  CHECK(g.statsSockets[2].tcp);
  CHECK(g.statsSockets[2].tcp->port() == 9999);
  CHECK(g.statsSockets[2].level == runtime::Level::User);
  CHECK(g.statsTimeout == std::chrono::seconds(30));

  auto e = parse("global\n"
                 "  stats socket /run/a.sock mode 9z\n"
                 "  stats socket /run/b.sock level root\n"
                 "  stats socket /run/c.sock accept-proxy\n"
                 "  stats socket\n"
                 "  stats socket /run/d.sock\n"
                 "  stats socket /run/d.sock\n"
                 "  stats timeout 0\n");
  CHECK(has(e.errors, "t.cfg:2:33: 'mode' : invalid octal value '9z'"));
  CHECK(has(e.errors, "t.cfg:3:34: 'level' only supports 'user', 'operator', and 'admin' (got 'root')"));
  CHECK(has(e.errors, "t.cfg:4:28: 'stats socket' : unsupported bind option 'accept-proxy'"));
  CHECK(has(e.errors, "'stats socket' expects a path or an address"));
  CHECK(has(e.errors, "t.cfg:7:16: 'stats socket' : '/run/d.sock' is already declared at t.cfg:6"));
  CHECK(has(e.errors, "invalid value 0 for argument 'stats timeout' (must be > 0)."));
  CHECK(e.errors.size() == 6);
}
