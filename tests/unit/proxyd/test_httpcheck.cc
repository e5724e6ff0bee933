// HTTP health checks: the configuration (option httpchk, http-check), the
// request written, and the verdict on responses. The expected texts are
// HAProxy 2.6.12's, observed with a test server (see
// tests/integration/test_http_checks.py).
#include "config_test_util.h"
#include "proxyd/httpcheck.h"

#include <string>

using namespace proxyd;
using namespace proxyd::test;
using Rule = HttpCheckRule;

namespace {

const ProxyConfig& backend(const ParseOutcome& o, const std::string& name = "b") {
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  return proxy(o, name, ProxyConfig::Backend);
}

ParseOutcome parseBackend(const std::string& lines) {
  return parse(std::string(kTimeouts) + "backend b\n" + lines + "  server s 127.0.0.1:80 check\n");
}

// The effective rule kinds as letters: C(onnect) S(end) E(xpect).
std::string shape(const ProxyConfig& px) {
  std::string s;
  for (const Rule& r : px.httpChecks)
    s += r.kind == Rule::Kind::Connect ? 'C' : r.kind == Rule::Kind::Send ? 'S' : 'E';
  return s;
}

Rule sendRule(std::string m, std::string uri, std::string ver) {
  Rule r;
  r.kind = Rule::Kind::Send;
  r.method = std::move(m);
  r.uri = std::move(uri);
  r.version = std::move(ver);
  return r;
}

Rule expectRule(Rule::Match m, std::string pattern, bool negate = false) {
  Rule r;
  r.kind = Rule::Kind::Expect;
  r.match = m;
  r.pattern = pattern;
  r.negate = negate;
  std::string err;
  if (m == Rule::Match::Status) r.codes = {{200, 399}};
  if (m == Rule::Match::Rstatus || m == Rule::Match::Rstring)
    r.regex = Regex::compile(pattern, false, err);
  return r;
}

httpcheck::ResponseReader reader(std::string_view bytes, bool close = false) {
  httpcheck::ResponseReader r;
  r.feed(bytes);
  if (close) r.closed();
  return r;
}

} // namespace

// ---- configuration ---------------------------------------------------------

TEST_CASE("option httpchk alone sends OPTIONS / HTTP/1.0 and expects 2xx or 3xx",
          "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk\n");
  const auto& px = backend(o);
  CHECK(px.httpCheck);
  REQUIRE(shape(px) == "CSE");
  CHECK(px.httpChecks[0].implicit);
  CHECK(px.httpChecks[1].method == "OPTIONS");
  CHECK(px.httpChecks[1].uri == "/");
  CHECK(px.httpChecks[1].version == "HTTP/1.0");
  CHECK(px.httpChecks[2].implicit);
  CHECK(px.httpChecks[2].codes == std::vector<std::pair<int, int>>{{200, 399}});
}

TEST_CASE("option httpchk takes URI, METH URI, or METH URI VERSION", "[httpcheck][config]") {
  auto one = parseBackend("  option httpchk /health\n");
  CHECK(backend(one).httpChecks[1].method == "OPTIONS");
  CHECK(backend(one).httpChecks[1].uri == "/health");
  auto two = parseBackend("  option httpchk GET /h\n");
  CHECK(backend(two).httpChecks[1].method == "GET");
  CHECK(backend(two).httpChecks[1].version == "HTTP/1.0");
  auto three = parseBackend("  option httpchk HEAD /h HTTP/1.1\n");
  CHECK(backend(three).httpChecks[1].version == "HTTP/1.1");
  auto four = parseBackend("  option httpchk a b c d\n");
  CHECK(has(four.errors, "'option httpchk' cannot handle unexpected argument 'd'."));
}

TEST_CASE("headers and a body hidden after the version are sent, with a warning",
          "[httpcheck][config]") {
  auto o = parseBackend(
      "  option httpchk POST /h \"HTTP/1.1\\r\\nHost: www\\r\\nX-A: b\\r\\n\\r\\nhi\"\n");
  const auto& px = backend(o);
  CHECK(has(o.warnings, "hiding headers or body at the end of the version string is deprecated"));
  const Rule& s = px.httpChecks[1];
  CHECK(s.version == "HTTP/1.1");
  CHECK(s.headers ==
        std::vector<std::pair<std::string, std::string>>{{"Host", "www"}, {"X-A", "b"}});
  CHECK(s.body == "hi");
}

TEST_CASE("http-check send fills in the request of option httpchk", "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk GET /a HTTP/1.1\n"
                        "  http-check send uri /b hdr Host h body x\n"
                        "  http-check expect status 200\n");
  const auto& px = backend(o);
  REQUIRE(shape(px) == "CSE");
  const Rule& s = px.httpChecks[1];
  CHECK(s.method == "GET");
  CHECK(s.uri == "/b");
  CHECK(s.version == "HTTP/1.1");
  CHECK(s.body == "x");
  CHECK(httpcheck::buildRequest(s) ==
        "GET /b HTTP/1.1\r\nhost: h\r\ncontent-length: 1\r\nconnection: close\r\n\r\nx");
}

TEST_CASE("a backend's first http-check line replaces the rules of defaults",
          "[httpcheck][config]") {
  auto o = parse(std::string(kTimeouts) +
                 "  option httpchk GET /d HTTP/1.1\n"
                 "  http-check send hdr X-Def yes\n"
                 "  http-check expect status 200\n"
                 "backend inherits\n  server s 127.0.0.1:80 check\n"
                 "backend own_expect\n  http-check expect status 201\n"
                 "  server s 127.0.0.1:80 check\n"
                 "backend own_send\n  http-check send hdr X-Z 1\n  server s 127.0.0.1:80 check\n"
                 "backend own_option\n  option httpchk GET /y\n  server s 127.0.0.1:80 check\n");
  REQUIRE(o.ok());
  const auto& a = backend(o, "inherits");
  REQUIRE(shape(a) == "CSE");
  CHECK(a.httpChecks[1].uri == "/d");
  CHECK(a.httpChecks[2].codes == std::vector<std::pair<int, int>>{{200, 200}});
  // HAProxy then sends nothing and times out waiting: its own ruleset has
  // no request.
  CHECK(shape(backend(o, "own_expect")) == "CE");
  const auto& c = backend(o, "own_send");
  REQUIRE(shape(c) == "CSE");
  CHECK(httpcheck::buildRequest(c.httpChecks[1]) == "OPTIONS / HTTP/1.0\r\nx-z: 1\r\n\r\n");
  // Its own option httpchk: the defaults' header and expect are gone.
  const auto& d = backend(o, "own_option");
  REQUIRE(shape(d) == "CSE");
  CHECK(httpcheck::buildRequest(d.httpChecks[1]) == "GET /y HTTP/1.0\r\n\r\n");
  CHECK(d.httpChecks[2].implicit);
}

TEST_CASE("http-check connect steps and comments", "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk\n"
                        "  http-check connect port 8080\n"
                        "  http-check send meth GET uri /a\n"
                        "  http-check comment second\n"
                        "  http-check expect status 200\n"
                        "  http-check connect\n"
                        "  http-check send meth GET uri /b\n"
                        "  http-check expect comment own ! string down\n");
  const auto& px = backend(o);
  REQUIRE(shape(px) == "CSECSE");
  CHECK(px.httpChecks[0].port == 8080);
  CHECK(px.httpChecks[1].uri == "/a");
  CHECK(px.httpChecks[2].comment == "second");
  CHECK(px.httpChecks[4].uri == "/b");
  CHECK(px.httpChecks[5].negate);
  CHECK(px.httpChecks[5].comment == "own");
}

TEST_CASE("http-check rules without option httpchk are ignored with HAProxy's warning",
          "[httpcheck][config]") {
  auto o = parseBackend("  http-check send uri /x\n");
  CHECK(has(o.warnings, "backend 'b' uses http-check rules without 'option httpchk', so the "
                        "rules are ignored."));
  CHECK(backend(o).httpChecks.empty());
}

TEST_CASE("http-check disable-on-404 is a flag inherited from defaults", "[httpcheck][config]") {
  auto o = parse(std::string(kTimeouts) +
                 "  http-check disable-on-404\n"
                 "backend b\n  option httpchk\n  server s 127.0.0.1:80 check\n");
  CHECK(backend(o).disableOn404);
  CHECK(!backend(parseBackend("  option httpchk\n")).disableOn404);
}

TEST_CASE("the last of option httpchk and option tcp-check wins", "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk\n  option tcp-check\n");
  CHECK(!backend(o).httpCheck);
  CHECK(backend(o).tcpCheck);
  auto p = parseBackend("  option tcp-check\n  option httpchk\n");
  CHECK(backend(p).httpCheck);
  CHECK(!backend(p).tcpCheck);
}

TEST_CASE("bad http-check lines are errors", "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk\n"
                        "  http-check expect foo 200\n"
                        "  http-check expect status\n"
                        "  http-check expect status 2x0\n"
                        "  http-check expect status 300-200\n"
                        "  http-check expect rstatus (\n"
                        "  http-check send meth\n"
                        "  http-check send foo bar\n"
                        "  http-check send hdr a\n"
                        "  http-check connect port 0\n"
                        "  http-check comment\n"
                        "  http-check foo\n"
                        "  no option httpchk\n");
  CHECK(has(o.errors, "t.cfg:8:21: 'http-check expect' : only supports"));
  CHECK(
      has(o.errors, "t.cfg:9:21: 'http-check expect' : 'status' expects a <pattern> as argument."));
  CHECK(has(o.errors, "'http-check expect' : invalid character 'x' in the list of status codes."));
  CHECK(has(o.errors, "'http-check expect' : invalid range of status codes '300-200'."));
  CHECK(has(o.errors, "t.cfg:12:29: 'http-check expect' : regex '(' is invalid"));
  CHECK(has(o.errors, "'http-check send' : 'meth' expects a string as argument."));
  CHECK(has(o.errors, "'http-check send' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', "
                      "'hdr', 'body' or 'body-lf' but got 'foo' as argument."));
  CHECK(has(o.errors, "'http-check send' : 'hdr' expects <name> and <value> as arguments."));
  CHECK(has(o.errors, "'http-check connect' : expects a valid TCP port (from range 1 to 65535)"));
  CHECK(has(o.errors, "'http-check comment' expects a string as argument."));
  CHECK(has(o.errors, "t.cfg:18: 'http-check' only supports"));
  CHECK(has(o.errors, "t.cfg:19: negation is not supported for 'option httpchk'"));
}

TEST_CASE("http-check steps out of order are refused as HAProxy does", "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk\n"
                        "  http-check expect status 200\n"
                        "  http-check connect\n");
  CHECK(has(o.errors, "'http-check connect' : first step MUST also be a 'connect'"));
  auto p = parseBackend("  option httpchk\n"
                        "  http-check connect\n"
                        "  http-check expect status 200\n");
  CHECK(has(p.errors, "unable to add http-check expect rule at step 2 (missing send rule)."));
  auto q = parseBackend("  option httpchk\n"
                        "  http-check connect\n"
                        "  http-check send uri /a\n"
                        "  http-check send uri /b\n");
  CHECK(has(q.errors, "unable to add http-check send rule at step 3 (missing connect rule)."));
}

TEST_CASE("what proxyd does not implement of http-check is refused by name",
          "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk\n"
                        "  http-check disable-on-404 x\n"
                        "  http-check send-state\n"
                        "  http-check set-var(check.x) str(a)\n"
                        "  http-check send uri-lf /%[srv_name]\n"
                        "  http-check send hdr X %[srv_name]\n"
                        "  http-check expect min-recv 10 string x\n"
                        "  http-check expect hdr name x\n"
                        "  option httpchk GET / HTTP/2\n");
  CHECK(has(o.errors, "t.cfg:8:29: 'http-check' cannot handle unexpected argument 'x'."));
  CHECK(has(o.errors, "t.cfg:9: unsupported keyword 'http-check send-state'"));
  CHECK(has(o.errors, "t.cfg:10: unsupported keyword 'http-check set-var(check.x)'"));
  CHECK(has(o.errors, "t.cfg:11: unsupported keyword 'uri-lf'"));
  CHECK(has(o.errors, "t.cfg:12: unsupported keyword 'hdr' with a log-format value"));
  CHECK(has(o.errors, "t.cfg:13: unsupported keyword 'min-recv'"));
  CHECK(has(o.errors, "t.cfg:14: unsupported keyword 'hdr'"));
  CHECK(has(o.errors, "unsupported HTTP version 'HTTP/2'"));
}

TEST_CASE("the http-check ruleset is in --dump", "[httpcheck][config]") {
  auto o = parseBackend("  option httpchk GET /h HTTP/1.1\n  http-check expect ! rstring ^down\n");
  REQUIRE(backend(o).httpCheck);
  std::string y = dumpYaml(o.config);
  CHECK(y.find("httpchk: true") != std::string::npos);
  CHECK(y.find("uri: /h") != std::string::npos);
  CHECK(y.find("match: rstring") != std::string::npos);
  CHECK(y.find("pattern: ^down") != std::string::npos);
}

// ---- the request -------------------------------------------------------------

TEST_CASE("check requests are written as HAProxy writes them", "[httpcheck][request]") {
  CHECK(httpcheck::buildRequest(sendRule("GET", "/h", "HTTP/1.0")) == "GET /h HTTP/1.0\r\n\r\n");
  CHECK(httpcheck::buildRequest(sendRule("GET", "/h", "HTTP/1.1")) ==
        "GET /h HTTP/1.1\r\nconnection: close\r\n\r\n");
  // Content-Length 0 for methods other than GET, HEAD, OPTIONS and DELETE.
  for (const char* m : {"POST", "PUT", "PATCH", "TRACE", "CONNECT", "FOO"})
    CHECK(httpcheck::buildRequest(sendRule(m, "/", "HTTP/1.0")) ==
          std::string(m) + " / HTTP/1.0\r\ncontent-length: 0\r\n\r\n");
  for (const char* m : {"GET", "HEAD", "OPTIONS", "DELETE"})
    CHECK(httpcheck::buildRequest(sendRule(m, "/", "HTTP/1.0")) ==
          std::string(m) + " / HTTP/1.0\r\n\r\n");
  Rule r = sendRule("PUT", "/a5", "HTTP/1.1");
  r.headers = {{"Host", "example.org"}, {"Content-Length", "5"}, {"Connection", "keep-alive"}};
  CHECK(httpcheck::buildRequest(r) ==
        "PUT /a5 HTTP/1.1\r\nhost: example.org\r\ncontent-length: 0\r\n\r\n");
  r.body = "hello world";
  r.headers = {{"X-Check", "yes"}};
  CHECK(httpcheck::buildRequest(r) == "PUT /a5 HTTP/1.1\r\nx-check: yes\r\ncontent-length: 11\r\n"
                                      "connection: close\r\n\r\nhello world");
}

// ---- the response ------------------------------------------------------------

TEST_CASE("the default expect passes 2xx and 3xx and names the reason otherwise",
          "[httpcheck][expect]") {
  Rule e = expectRule(Rule::Match::Status, "200-399");
  auto ok = httpcheck::evaluate(e, reader("HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n"));
  CHECK(ok.kind == httpcheck::Verdict::Kind::Pass);
  CHECK(ok.report.status == CheckStatus::L7Ok);
  CHECK(ok.report.code == 301);
  auto bad = httpcheck::evaluate(e, reader("HTTP/1.1 500 Internal Server Error\r\n\r\n"));
  CHECK(bad.kind == httpcheck::Verdict::Kind::Fail);
  CHECK(bad.report.status == CheckStatus::L7Sts);
  CHECK(bad.report.code == 500);
  CHECK(bad.report.info == "Internal Server Error");
  // The head decides a status: no need to wait for the body.
  auto early =
      httpcheck::evaluate(e, reader("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\n"));
  CHECK(early.kind == httpcheck::Verdict::Kind::Fail);
  CHECK(early.report.info == "Not Found");
}

TEST_CASE("status lists, rstatus and negation", "[httpcheck][expect]") {
  Rule e = expectRule(Rule::Match::Status, "200,300-310");
  e.codes = {{200, 200}, {300, 310}};
  CHECK(httpcheck::evaluate(e, reader("HTTP/1.1 305 X\r\n\r\n")).kind ==
        httpcheck::Verdict::Kind::Pass);
  CHECK(httpcheck::evaluate(e, reader("HTTP/1.1 201 X\r\n\r\n")).kind ==
        httpcheck::Verdict::Kind::Fail);
  Rule re = expectRule(Rule::Match::Rstatus, "^3");
  auto v = httpcheck::evaluate(re, reader("HTTP/1.1 201 Whatever\r\n\r\n"));
  CHECK(v.report.status == CheckStatus::L7Sts);
  CHECK(v.report.info == "Whatever");
  Rule neg = expectRule(Rule::Match::Status, "404", true);
  neg.codes = {{404, 404}};
  neg.comment = "no 404";
  auto n = httpcheck::evaluate(neg, reader("HTTP/1.1 404 Whatever\r\n\r\n"));
  CHECK(n.kind == httpcheck::Verdict::Kind::Fail);
  CHECK(n.report.code == 404);
  CHECK(n.report.info == "Whatever comment: no 404");
}

TEST_CASE("body expects wait for the body and report HAProxy's texts", "[httpcheck][expect]") {
  Rule s = expectRule(Rule::Match::String, "world");
  httpcheck::ResponseReader r;
  r.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello");
  CHECK(httpcheck::evaluate(s, r).kind == httpcheck::Verdict::Kind::Wait);
  r.feed(" world");
  auto ok = httpcheck::evaluate(s, r);
  CHECK(ok.kind == httpcheck::Verdict::Kind::Pass);
  CHECK(ok.report.code == 200);

  Rule miss = expectRule(Rule::Match::String, "nope");
  auto m = httpcheck::evaluate(miss, reader("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"));
  CHECK(m.kind == httpcheck::Verdict::Kind::Fail);
  CHECK(m.report.status == CheckStatus::L7Rsp);
  CHECK(m.report.code == -1); // L7RSP carries no code
  CHECK(m.report.info == "HTTP content check did not match");

  Rule unwanted = expectRule(Rule::Match::String, "world", true);
  auto u = httpcheck::evaluate(unwanted,
                               reader("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"));
  CHECK(u.report.info == "HTTP check matched unwanted content");
  // Not there (yet): a negated expect waits for the whole body.
  httpcheck::ResponseReader partial;
  partial.feed("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello");
  CHECK(httpcheck::evaluate(unwanted, partial).kind == httpcheck::Verdict::Kind::Wait);
  partial.closed();
  CHECK(httpcheck::evaluate(unwanted, partial).kind == httpcheck::Verdict::Kind::Pass);

  Rule rs = expectRule(Rule::Match::Rstring, "^h.*d$");
  CHECK(httpcheck::evaluate(rs, reader("HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world"))
            .kind == httpcheck::Verdict::Kind::Pass);
}

TEST_CASE("bodies: chunked is de-chunked, until-close ends at the close, truncated is kept",
          "[httpcheck][expect]") {
  Rule s = expectRule(Rule::Match::String, "abcdef");
  auto c = reader(
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n");
  CHECK(c.body() == "abcdef");
  CHECK(httpcheck::evaluate(s, c).kind == httpcheck::Verdict::Kind::Pass);
  auto u = reader("HTTP/1.1 200 OK\r\n\r\nbody-until-close", true);
  CHECK(u.body() == "body-until-close");
  auto t = reader("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", true);
  CHECK(httpcheck::evaluate(expectRule(Rule::Match::String, "abc"), t).kind ==
        httpcheck::Verdict::Kind::Pass);
}

TEST_CASE("no response, a partial head or garbage is an invalid response", "[httpcheck][expect]") {
  Rule e = expectRule(Rule::Match::Status, "200-399");
  for (const char* bytes : {"", "HTTP/1.1 200 OK\r\n", "garbage\r\n\r\n"}) {
    INFO(bytes);
    auto v = httpcheck::evaluate(e, reader(bytes, true));
    CHECK(v.kind == httpcheck::Verdict::Kind::Fail);
    CHECK(v.report.status == CheckStatus::L7Rsp);
    CHECK(v.report.info.empty());
  }
  // Before the close, a partial head waits.
  CHECK(httpcheck::evaluate(e, reader("HTTP/1.1 200 OK\r\n")).kind ==
        httpcheck::Verdict::Kind::Wait);
  // A status line without a reason is fine.
  CHECK(httpcheck::evaluate(e, reader("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n")).kind ==
        httpcheck::Verdict::Kind::Pass);
  // Interim responses are skipped.
  auto i = reader("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 Busy\r\n\r\n");
  CHECK(i.status() == 503);
}

TEST_CASE("a response fed byte by byte gets the same verdict", "[httpcheck][expect]") {
  const std::string resp =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  Rule neg = expectRule(Rule::Match::String, "maintenance", true);
  httpcheck::ResponseReader r;
  for (size_t i = 0; i + 1 < resp.size(); ++i) {
    r.feed(resp.substr(i, 1));
    INFO("after byte " << i);
    REQUIRE(httpcheck::evaluate(neg, r).kind == httpcheck::Verdict::Kind::Wait);
  }
  r.feed(resp.substr(resp.size() - 1));
  CHECK(r.body() == "hello world");
  CHECK(httpcheck::evaluate(neg, r).kind == httpcheck::Verdict::Kind::Pass);
}

TEST_CASE("the response is read within the check buffer", "[httpcheck][expect]") {
  httpcheck::ResponseReader r("GET", 64);
  r.feed("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
  CHECK(!r.lastRead());
  r.feed(std::string(100, 'x') + "needle");
  CHECK(r.lastRead()); // full: no further bytes are read
  CHECK(r.body().size() < 64);
  auto v = httpcheck::evaluate(expectRule(Rule::Match::String, "needle"), r);
  CHECK(v.kind == httpcheck::Verdict::Kind::Fail);
  CHECK(v.report.info == "HTTP content check did not match");
}

// ---- statuses ----------------------------------------------------------------

TEST_CASE("check statuses carry HAProxy's names, descriptions and code rule", "[health]") {
  CHECK(std::string(checkStatusName(CheckStatus::L7Sts)) == "L7STS");
  CHECK(std::string(checkStatusDesc(CheckStatus::L7Sts)) == "Layer7 wrong status");
  CHECK(std::string(checkStatusDesc(CheckStatus::L7Rsp)) == "Layer7 invalid response");
  CHECK(std::string(checkStatusDesc(CheckStatus::L4Tout)) == "Layer4 timeout");
  CHECK(checkStatusHasCode(CheckStatus::L7Ok));
  CHECK(checkStatusHasCode(CheckStatus::L7Sts));
  CHECK(!checkStatusHasCode(CheckStatus::L7Rsp));
  CHECK(!checkStatusHasCode(CheckStatus::L7Tout));
  CHECK(checkStatusPassed(CheckStatus::L4Ok));
  CHECK(!checkStatusPassed(CheckStatus::L7Sts));
}

TEST_CASE("the transition line of an HTTP check", "[health]") {
  TransitionInfo t;
  t.backend = "app";
  t.server = "web1";
  t.reason = "Layer7 wrong status";
  t.code = 500;
  t.info = "Internal Server Error";
  t.durationMs = 1;
  CHECK(formatTransition(t) ==
        "Server app/web1 is DOWN, reason: Layer7 wrong status, code: 500, info: \"Internal "
        "Server Error\", check duration: 1ms. 0 active and 0 backup servers left. 0 sessions "
        "active, 0 requeued, 0 remaining in queue.");
  t.up = true;
  t.reason = "Layer7 check passed";
  t.code = 200;
  t.info.clear();
  t.activeLeft = 1;
  CHECK(formatTransition(t) ==
        "Server app/web1 is UP, reason: Layer7 check passed, code: 200, check duration: 1ms. "
        "1 active and 0 backup servers online. 0 sessions requeued, 0 total in queue.");
  // disable-on-404 (HAProxy 2.6.12's line for a backup server).
  t.backup = true;
  t.stopping = true;
  t.reason = "Layer7 check conditionally passed";
  t.code = 404;
  t.durationMs = 3;
  CHECK(formatTransition(t) ==
        "Backup Server app/web1 is stopping, reason: Layer7 check conditionally passed, code: "
        "404, check duration: 3ms. 1 active and 0 backup servers online. 0 sessions requeued, 0 "
        "total in queue.");
}

TEST_CASE("tcp-check and http-check regexes survive a long server answer",
          "[httpcheck][tcp-check]") {
  auto o = parseBackend("  option tcp-check\n  tcp-check expect rstring ^(a|b)*c\n");
  const auto& px = backend(o);
  REQUIRE(px.tcpChecks.size() == 1);
  REQUIRE(px.tcpChecks[0].regex);
  // std::regex recurses per byte here and overflows the stack (anchored so
  // that the search tries one start only).
  const std::string answer(256 << 10, 'a');
  CHECK(!px.tcpChecks[0].regex->search(answer));
  CHECK(px.tcpChecks[0].regex->search(answer + "c"));
  Rule e = expectRule(Rule::Match::Rstring, "^(a|b)*c");
  httpcheck::ResponseReader r("GET", 1 << 20);
  r.feed("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(answer.size()) + "\r\n\r\n");
  r.feed(answer);
  CHECK(httpcheck::evaluate(e, r).kind == httpcheck::Verdict::Kind::Fail);
}
