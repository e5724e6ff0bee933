// Mode http keywords: mode, connection-mode options, httplog, forwardfor,
// errorfile, and their inheritance from defaults.
#include "config_test_util.h"

#include <fstream>
#include <iterator>

using namespace proxyd;
using namespace proxyd::test;

namespace {
constexpr unsigned FE = ProxyConfig::Frontend;
constexpr unsigned BE = ProxyConfig::Backend;

std::string dataFile(const std::string& name) {
  return std::string(SRC_DIR) + "/tests/data/config/" + name;
}

const char* kHttpDefaults = "defaults\n"
                            "  mode http\n"
                            "  timeout connect 5s\n"
                            "  timeout client 30s\n"
                            "  timeout server 30s\n";
} // namespace

TEST_CASE("mode http is accepted and inherited from defaults", "[config][http]") {
  auto o = parse(std::string(kHttpDefaults) + "frontend f\n  bind :80\n  default_backend b\n"
                                              "backend b\n  server s 127.0.0.1:8080\n"
                                              "backend t\n  mode tcp\n");
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  CHECK(proxy(o, "f", FE).mode == Mode::Http);
  CHECK(proxy(o, "b", BE).mode == Mode::Http);
  CHECK(proxy(o, "t", BE).mode == Mode::Tcp);
}

TEST_CASE("connection mode: the last option wins, no-option resets only its own mode",
          "[config][http]") {
  auto mode = [](const std::string& lines) {
    auto o = parse(std::string(kHttpDefaults) + "backend b\n" + lines);
    INFO(joined(o.errors));
    REQUIRE(o.ok());
    return proxy(o, "b", BE).httpConnMode;
  };
  CHECK(mode("") == HttpConnMode::KeepAlive);
  CHECK(mode("  option http-server-close\n") == HttpConnMode::ServerClose);
  CHECK(mode("  option httpclose\n") == HttpConnMode::Close);
  CHECK(mode("  option httpclose\n  option http-server-close\n") == HttpConnMode::ServerClose);
  CHECK(mode("  option http-server-close\n  option httpclose\n") == HttpConnMode::Close);
  CHECK(mode("  option httpclose\n  option http-keep-alive\n") == HttpConnMode::KeepAlive);
  CHECK(mode("  option httpclose\n  no option http-server-close\n") == HttpConnMode::Close);
  CHECK(mode("  option httpclose\n  no option httpclose\n") == HttpConnMode::KeepAlive);
  CHECK(mode("  option http-server-close\n  no option http-server-close\n") ==
        HttpConnMode::KeepAlive);
}

TEST_CASE("connection mode is inherited from defaults and overridden", "[config][http]") {
  auto o = parse(std::string(kHttpDefaults) + "  option http-server-close\n"
                                              "backend a\n"
                                              "backend b\n  option httpclose\n"
                                              "backend c\n  no option http-server-close\n");
  REQUIRE(o.ok());
  CHECK(proxy(o, "a", BE).httpConnMode == HttpConnMode::ServerClose);
  CHECK(proxy(o, "a", BE).httpServerClose);
  CHECK(proxy(o, "b", BE).httpConnMode == HttpConnMode::Close);
  CHECK_FALSE(proxy(o, "b", BE).httpServerClose);
  CHECK(proxy(o, "c", BE).httpConnMode == HttpConnMode::KeepAlive);
}

TEST_CASE("effectiveConnMode: httpclose beats server-close beats keep-alive", "[config][http]") {
  ProxyConfig fe, be;
  CHECK(effectiveConnMode(fe, be) == HttpConnMode::KeepAlive);
  be.httpConnMode = HttpConnMode::ServerClose;
  CHECK(effectiveConnMode(fe, be) == HttpConnMode::ServerClose);
  fe.httpConnMode = HttpConnMode::Close;
  CHECK(effectiveConnMode(fe, be) == HttpConnMode::Close);
  fe.httpConnMode = HttpConnMode::KeepAlive;
  be.httpConnMode = HttpConnMode::Close;
  CHECK(effectiveConnMode(fe, be) == HttpConnMode::Close);
  fe.httpConnMode = HttpConnMode::ServerClose;
  be.httpConnMode = HttpConnMode::KeepAlive;
  CHECK(effectiveConnMode(fe, be) == HttpConnMode::ServerClose);
}

TEST_CASE("option httplog [clf] and tcplog: the last wins", "[config][http]") {
  auto o = parse(std::string(kHttpDefaults) + "  option tcplog\n"
                                              "frontend a\n  bind :80\n  option httplog\n"
                                              "frontend b\n  bind :81\n  option httplog clf\n"
                                              "frontend c\n  bind :82\n  option httplog\n"
                                              "  option tcplog\n"
                                              "frontend d\n  bind :83\n  option httplog x\n");
  INFO(joined(o.errors));
  CHECK(has(o.errors, "t.cfg:19:18: 'option httplog' only supports option 'clf'."));
  CHECK(o.errors.size() == 1);
  CHECK(proxy(o, "a", FE).httplog);
  CHECK_FALSE(proxy(o, "a", FE).tcplog);
  CHECK(proxy(o, "b", FE).httplogClf);
  CHECK(proxy(o, "c", FE).tcplog);
  CHECK_FALSE(proxy(o, "c", FE).httplog);
}

TEST_CASE("option forwardfor: except, header, if-none in any order", "[config][http]") {
  auto o = parse(std::string(kHttpDefaults) +
                 "backend a\n  option forwardfor\n"
                 "backend b\n  option forwardfor if-none header X-Client except 10.0.0.0/8\n"
                 "backend c\n  option forwardfor except ::1/128\n"
                 "backend d\n  option forwardfor except\n"
                 "backend e\n  option forwardfor header\n"
                 "backend f\n  option forwardfor bogus\n");
  CHECK(has(o.errors,
            "t.cfg:13:21: 'option forwardfor except' expects <address>[/mask] as argument."));
  CHECK(
      has(o.errors, "t.cfg:15:21: 'option forwardfor header' expects <header_name> as argument."));
  CHECK(has(o.errors, "t.cfg:17:21: 'option forwardfor' only supports optional values: "
                      "'except', 'header' and 'if-none'."));
  CHECK(o.errors.size() == 3);
  const ProxyConfig& a = proxy(o, "a", BE);
  CHECK(a.forwardFor);
  CHECK(a.forwardForHeader == "x-forwarded-for");
  CHECK_FALSE(a.forwardForIfNone);
  CHECK_FALSE(a.forwardForExcept);
  const ProxyConfig& b = proxy(o, "b", BE);
  CHECK(b.forwardForHeader == "x-client");
  CHECK(b.forwardForIfNone);
  REQUIRE(b.forwardForExcept);
  CHECK(b.forwardForExcept->str() == "10.0.0.0/8");
  REQUIRE(proxy(o, "c", BE).forwardForExcept);
}

TEST_CASE("errorfile reads the raw response at parse time", "[config][http]") {
  auto o = parse(std::string(kHttpDefaults) + "  errorfile 503 " + dataFile("errorfiles/503.http") +
                 "\nbackend a\n"
                 "backend b\n  errorfile 503 /dev/null\n"
                 "backend c\n  errorfile 418 /dev/null\n"
                 "backend d\n  errorfile 503 /nonexistent/x.http\n"
                 "backend e\n  errorfile 503 " +
                 dataFile("errorfiles/garbage.http") + "\n" + "backend f\n  errorfile 503\n");
  CHECK(has(o.errors, "t.cfg:11:13: errorfile : status code '418' not handled."));
  CHECK(has(o.errors, "t.cfg:13:17: errorfile : error opening file '/nonexistent/x.http'."));
  CHECK(has(o.errors, "t.cfg:15:17: errorfile : unable to convert custom error message file"));
  CHECK(has(o.errors, "t.cfg:17: errorfile : expects <status_code> and <file> as arguments."));
  CHECK(o.errors.size() == 4);
  const std::string want =
      "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: "
      "6\r\n\r\nsorry\n";
  CHECK(proxy(o, "a", BE).errorfiles.at(503) == want);
  CHECK(errorResponse(503, &proxy(o, "a", BE)) == want);
  CHECK(proxy(o, "b", BE).errorfiles.at(503).empty());
  CHECK(errorResponse(502, &proxy(o, "a", BE)).starts_with("HTTP/1.1 502 Bad Gateway\r\n"));
}

TEST_CASE("errorfile and return file read at most one buffer, even from an endless device",
          "[config][http]") {
  auto o = parse(std::string(kHttpDefaults) + "backend a\n  errorfile 503 /dev/zero\n"
                 "backend b\n  errorfile 503 /\n"
                 "backend c\n  http-request return status 200 file /dev/zero\n");
  CHECK(has(o.errors, "errorfile : unable to convert custom error message file '/dev/zero'"));
  CHECK(has(o.warnings, "larger than 16384 bytes. Truncating."));
  CHECK(has(o.errors, "errorfile : '/' is a directory."));
  CHECK(has(o.errors, "is larger than 16384 bytes."));
}

TEST_CASE("acl lines and use_backend conditions in a frontend", "[config][http][acl]") {
  auto o = parse(std::string(kHttpDefaults) +
                 "frontend main\n"
                 "  bind :80\n"
                 "  acl url_static path_beg -i /static /images /javascript /stylesheets\n"
                 "  acl url_static path_end -i .jpg .gif .png .css .js\n"
                 "  use_backend static if url_static\n"
                 "  use_backend api if { path_beg /api } !{ src 10.0.0.0/8 }\n"
                 "  use_backend app\n"
                 "  default_backend app\n"
                 "backend static\n"
                 "backend api\n"
                 "backend app\n");
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  CHECK(o.warnings.empty());
  const ProxyConfig& fe = proxy(o, "main", FE);
  REQUIRE(fe.useBackends.size() == 3);
  REQUIRE(fe.useBackends[0].cond);
  CHECK(fe.useBackends[0].cond->str() == "if url_static");
  CHECK(fe.useBackends[0].backendIndex == o.config.find("static", BE));
  CHECK(fe.useBackends[1].cond->str() == "if {...} !{...}");
  CHECK_FALSE(fe.useBackends[2].cond);
  CHECK(fe.acls.count("url_static") == 1);
}

TEST_CASE("acl and condition errors carry file:line:col", "[config][http][acl]") {
  auto o = parse(std::string(kHttpDefaults) + "frontend f\n"
                                              "  bind :80\n"
                                              "  acl a nosuch x\n"
                                              "  acl b$ path /x\n"
                                              "  use_backend b if nosuchacl\n"
                                              "  use_backend b foo\n"
                                              "  use_backend b if { path /x\n"
                                              "  use_backend b if a\n"
                                              "backend b\n");
  CHECK(has(o.errors, "t.cfg:8:9: error detected while parsing ACL 'a' : unknown fetch method "
                      "'nosuch' in ACL expression 'nosuch'."));
  CHECK(has(o.errors, "t.cfg:9:7: character '$' is not permitted in acl name 'b$'."));
  CHECK(has(o.errors, "t.cfg:10:20: error detected while parsing switching rule : no such ACL : "
                      "'nosuchacl'."));
  CHECK(has(o.errors, "t.cfg:11:17: unexpected keyword 'foo' after switching rule, only 'if' and "
                      "'unless' are allowed."));
  CHECK(has(o.errors, "t.cfg:12:20: error detected while parsing switching rule : missing "
                      "closing '}' in condition."));
  // 'a' failed to parse, so it does not exist (as HAProxy).
  CHECK(has(o.errors, "t.cfg:13:20: error detected while parsing switching rule : no such ACL : "
                      "'a'."));
  CHECK(o.errors.size() == 6);
}

TEST_CASE("acl is refused in defaults, acl without patterns warns", "[config][http][acl]") {
  auto o = parse("defaults\n  acl a path /x\n");
  CHECK(has(o.errors, "t.cfg:2: 'acl' not allowed in 'defaults' section."));
  auto w = parse(std::string(kHttpDefaults) + "backend b\n  acl a path\n");
  CHECK(w.ok());
  CHECK(has(w.warnings, "t.cfg:7: parsing acl keyword 'path' : no pattern to match against"));
}

TEST_CASE("an http frontend cannot use a tcp backend", "[config][http]") {
  auto o = parse(std::string(kHttpDefaults) + "frontend f\n"
                                              "  bind :80\n"
                                              "  use_backend t if { path /x }\n"
                                              "  default_backend t\n"
                                              "backend t\n"
                                              "  mode tcp\n"
                                              "frontend g\n"
                                              "  mode tcp\n"
                                              "  bind :81\n"
                                              "  default_backend h\n"
                                              "backend h\n");
  CHECK(has(o.errors, "t.cfg:9:19: http frontend 'f' (t.cfg:6) tries to use incompatible tcp "
                      "backend 't' (t.cfg:10) as its default backend (see 'mode')."));
  CHECK(has(o.errors, "t.cfg:8:15: http frontend 'f' (t.cfg:6) tries to use incompatible tcp "
                      "backend 't' (t.cfg:10) in a 'use_backend' rule (see 'mode')."));
  CHECK(o.errors.size() == 2); // a tcp frontend may use an http backend
}

TEST_CASE("the seed's 1.5 configuration routes with its ACLs and its stats socket",
          "[config][http][acl]") {
  std::ifstream in(std::string(SRC_DIR) + "/conf/seed-1.5.cfg");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto o = parse(text, "seed-1.5.cfg");
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  REQUIRE(o.config.global.statsSockets.size() == 1);
  CHECK(o.config.global.statsSockets[0].path == "/var/lib/haproxy/stats");
  CHECK(o.config.global.statsSockets[0].level == runtime::Level::Operator);
  const ProxyConfig& fe = proxy(o, "main", FE);
  REQUIRE(fe.useBackends.size() == 1);
  CHECK(fe.useBackends[0].backend == "static");
  CHECK(fe.useBackends[0].cond->usesHttp());
}
