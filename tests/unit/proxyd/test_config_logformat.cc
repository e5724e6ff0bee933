// The log-format keyword: where it may appear, how it and option
// tcplog/httplog replace each other, and its errors at file:line (checked
// against `haproxy -c` 2.6).
#include "config_test_util.h"

using namespace proxyd;
using namespace proxyd::test;

namespace {

std::string fe(const std::string& mode, const std::string& lines) {
  return std::string(kTimeouts) + "frontend fe\n  mode " + mode + "\n  bind 127.0.0.1:8000\n" +
         lines + "  log 127.0.0.1:514 local0\n  default_backend be\nbackend be\n  mode " + mode +
         "\n  server s1 127.0.0.1:9000\n";
}

} // namespace

TEST_CASE("log-format compiles for the frontend, after its mode is known", "[config][logfmt]") {
  auto o = parse(fe("http", "  log-format \"%ci %HM %{+Q}r\"\n"));
  REQUIRE(o.ok());
  const auto& px = proxy(o, "fe", ProxyConfig::Frontend);
  CHECK(px.logFormat == "%ci %HM %{+Q}r");
  REQUIRE(px.logFormatCompiled);
  CHECK(px.logFormatCompiled->uses("HM"));
}

TEST_CASE("an unknown log-format variable is an error at the log-format line", "[config][logfmt]") {
  auto o = parse(fe("http", "  log-format \"%ci %zz\"\n"));
  CHECK(has(o.errors, "t.cfg:9: failed to parse log-format : no such format variable 'zz'. If "
                      "you wanted to emit the '%' character verbatim, you need to use '%%'."));
}

TEST_CASE("an HTTP variable in a tcp frontend is an error", "[config][logfmt]") {
  auto o = parse(fe("tcp", "  log-format \"%ci %r\"\n"));
  CHECK(has(o.errors, "t.cfg:9: failed to parse log-format : format variable 'r' is reserved "
                      "for HTTP mode."));
  // From defaults: checked against each frontend's own mode.
  auto d = parse(std::string(kTimeouts) + "  log-format \"%ci %HM\"\n" +
                 "frontend fe\n  mode http\n  bind 127.0.0.1:8000\n  log stdout local0\n"
                 "  default_backend be\n"
                 "backend be\n  mode http\n  server s1 127.0.0.1:9000\n");
  CHECK(d.ok());
  CHECK(proxy(d, "fe", ProxyConfig::Frontend).logFormatCompiled);
}

TEST_CASE("log-format wants exactly one argument", "[config][logfmt]") {
  auto o = parse(fe("tcp", "  log-format\n"));
  CHECK(has(o.errors, "t.cfg:9: log-format expects an argument."));
  auto two = parse(fe("tcp", "  log-format %ci %cp\n"));
  CHECK(has(two.errors,
            "t.cfg:9: log-format expects only one argument, don't forget to escape spaces!"));
  auto esc = parse(fe("tcp", "  log-format %ci\\ %cp\n"));
  REQUIRE(esc.ok());
  CHECK(proxy(esc, "fe", ProxyConfig::Frontend).logFormat == "%ci %cp");
}

TEST_CASE("log-format and option tcplog/httplog: the last line wins", "[config][logfmt]") {
  auto a = parse(fe("http", "  option httplog\n  log-format %ci\n"));
  REQUIRE(a.ok());
  const auto& pa = proxy(a, "fe", ProxyConfig::Frontend);
  CHECK_FALSE(pa.httplog);
  CHECK(pa.logFormat == "%ci");
  auto b = parse(fe("http", "  log-format %ci\n  option httplog clf\n"));
  REQUIRE(b.ok());
  const auto& pb = proxy(b, "fe", ProxyConfig::Frontend);
  CHECK(pb.logFormat.empty());
  CHECK(pb.httplogClf);
  REQUIRE(pb.logFormatCompiled);
  CHECK(pb.logFormatCompiled->uses("trg")); // HAProxy's clf format
}

TEST_CASE("log-format in defaults warns when it replaces a format", "[config][logfmt]") {
  auto o = parse(std::string(kTimeouts) + "  option tcplog\n  log-format %ci\n" +
                 "listen l\n  bind 127.0.0.1:8000\n  server s1 127.0.0.1:9000\n");
  REQUIRE(o.ok());
  CHECK(has(o.warnings,
            "t.cfg:7: 'log-format' overrides previous 'option tcplog' in 'defaults' section."));
  CHECK(proxy(o, "l", ProxyConfig::Listen).logFormat == "%ci");
}

TEST_CASE("log-format in a backend is ignored with HAProxy's warning", "[config][logfmt]") {
  auto o = parse(std::string(kTimeouts) + "backend be\n  log-format %zz\n" +
                 "  server s1 127.0.0.1:9000\n");
  REQUIRE(o.ok());
  CHECK(has(o.warnings, "t.cfg:7: backend 'be' : 'log-format' directive is ignored in backends."));
}

TEST_CASE("log-format-sd and sample fetches are refused clearly", "[config][logfmt]") {
  auto sd = parse(fe("http", "  log-format-sd %ci\n"));
  CHECK(has(sd.errors, "t.cfg:9: unsupported keyword 'log-format-sd'"));
  auto smp = parse(fe("http", "  log-format \"%[src]\"\n"));
  CHECK(has(smp.errors, "t.cfg:9: failed to parse log-format : sample fetch expressions "
                        "('%[src]') are not supported yet."));
}

TEST_CASE("option tcplog/httplog in defaults warn when they replace a format",
          "[config][logfmt]") {
  auto o = parse(std::string(kTimeouts) + "  log-format %ci\n  option httplog\n" +
                 "  option tcplog\n  option httplog clf\n  option httplog\n" +
                 "listen l\n  bind 127.0.0.1:8000\n  server s1 127.0.0.1:9000\n");
  REQUIRE(o.ok());
  CHECK(has(o.warnings,
            "t.cfg:7: 'option httplog' overrides previous 'log-format' in 'defaults' section."));
  CHECK(has(o.warnings,
            "t.cfg:8: 'option tcplog' overrides previous 'option httplog' in 'defaults' section."));
  CHECK(has(o.warnings, "t.cfg:9: 'option httplog clf' overrides previous 'option tcplog' in "
                        "'defaults' section."));
  CHECK(has(o.warnings, "t.cfg:10: 'option httplog' overrides previous 'option httplog clf' in "
                        "'defaults' section."));
}

TEST_CASE("a log format without a log address is dropped with HAProxy's warning",
          "[config][logfmt]") {
  const std::string fes = "frontend a\n  bind 127.0.0.1:8000\n  option tcplog\n"
                          "  default_backend be\n"
                          "frontend b\n  bind 127.0.0.1:8001\n  log global\n  log-format %ci\n"
                          "  default_backend be\n"
                          "backend be\n  server s1 127.0.0.1:9000\n";
  auto o = parse(std::string(kTimeouts) + fes);
  REQUIRE(o.ok());
  CHECK(has(o.warnings, "log format ignored for frontend 'a' since it has no log address."));
  CHECK(has(o.warnings, "log format ignored for frontend 'b' since it has no log address."));
  CHECK_FALSE(proxy(o, "a", ProxyConfig::Frontend).logFormatCompiled);
  // `log global` with global targets is an address.
  auto g = parse("global\n  log 127.0.0.1:514 local0\n" + std::string(kTimeouts) + fes);
  REQUIRE(g.ok());
  CHECK(has(g.warnings, "log format ignored for frontend 'a' since it has no log address."));
  CHECK_FALSE(has(g.warnings, "frontend 'b' since it has no log address."));
  CHECK(proxy(g, "b", ProxyConfig::Frontend).logFormatCompiled);
  // A bad format is an error, not a warning, even without an address.
  auto bad = parse(std::string(kTimeouts) + "frontend c\n  bind 127.0.0.1:8000\n"
                                            "  log-format %zz\n  default_backend be\n"
                                            "backend be\n  server s1 127.0.0.1:9000\n");
  CHECK(has(bad.errors, "no such format variable 'zz'"));
  CHECK_FALSE(has(bad.warnings, "no log address"));
}
