// http-request / http-response rules on an HttpHead, the responses proxyd
// generates (byte for byte as haproxy 2.6.12 sent them on loopback), and
// the rule lines' parsing and errors.
#include "acl_test_util.h"
#include "config_test_util.h"
#include "proxyd/http_rules.h"

using namespace proxyd;
using namespace proxyd::test;

namespace {

const char* kHttp = "defaults\n"
                    "  mode http\n"
                    "  timeout connect 5s\n"
                    "  timeout client 30s\n"
                    "  timeout server 30s\n"
                    "frontend f\n"
                    "  bind :80\n"; // rules follow on line 8

// Parses `lines` into frontend f and returns it.
ProxyConfig frontend(const std::string& lines) {
  auto o = parse(std::string(kHttp) + lines);
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  return o.config.proxies.at(0);
}

std::vector<std::string> errorsOf(const std::string& lines) {
  return parse(std::string(kHttp) + lines).errors;
}

struct Run {
  HttpHead head;
  RuleResult result;
  std::string response;
};

Run run(const std::string& lines, const std::string& raw, SampleContext ctx = {}) {
  ProxyConfig px = frontend(lines);
  Parsed p(raw);
  Run r;
  r.head = fromMessage(p.msg());
  r.result = applyRequestRules(px.httpRequest, r.head, ctx);
  if (r.result.stops()) r.response = buildResponse(r.result, &px);
  return r;
}

} // namespace

// ------------------------------------------------------------ HttpHead

TEST_CASE("fromMessage and serialize round-trip a head with lower-cased names", "[rules]") {
  Parsed p("GET /a?b HTTP/1.1\r\nHost: x\r\nX-Foo:  bar \r\nX-Foo: baz\r\n\r\n");
  HttpHead h = fromMessage(p.msg());
  CHECK(h.method == "GET");
  CHECK(h.target == "/a?b");
  CHECK(h.version == "HTTP/1.1");
  CHECK(h.path() == "/a");
  REQUIRE(h.headers.size() == 3);
  CHECK(h.headers[1] == std::pair<std::string, std::string>{"x-foo", "bar"});
  CHECK(serialize(h, true) == "GET /a?b HTTP/1.1\r\nhost: x\r\nx-foo: bar\r\nx-foo: baz\r\n\r\n");
  Parsed r("HTTP/1.0 404 Not Found\r\nServer: s\r\n\r\n", http1::Kind::Response);
  HttpHead rh = fromMessage(r.msg());
  CHECK(serialize(rh, false) == "HTTP/1.0 404 Not Found\r\nserver: s\r\n\r\n");
}

// Issue 10, "messages forwarded as received": the head goes on as HAProxy
// 2.6 sends it (checked against haproxy 2.6.12 on loopback).
TEST_CASE("fromMessage sends one Content-Length however it came", "[rules]") {
  Parsed p("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nX-A: 1\r\n"
           "content-length: 5\r\nCONTENT-LENGTH:5,5\r\n\r\n");
  CHECK(serialize(fromMessage(p.msg()), true) ==
        "POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\nx-a: 1\r\n\r\n");
  Parsed r("HTTP/1.1 200 OK\r\nContent-Length: 2, 2\r\nContent-Length: 2\r\n\r\n",
           http1::Kind::Response);
  CHECK(serialize(fromMessage(r.msg()), false) == "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n");
}

TEST_CASE("fromMessage sends HTTP/1.1 for a later minor version, HTTP/1.0 as is", "[rules]") {
  CHECK(fromMessage(Parsed("GET / HTTP/1.9\r\n\r\n").msg()).version == "HTTP/1.1");
  CHECK(fromMessage(Parsed("GET / HTTP/1.0\r\n\r\n").msg()).version == "HTTP/1.0");
  Parsed r("HTTP/1.9 204 No Content\r\n\r\n", http1::Kind::Response);
  CHECK(serialize(fromMessage(r.msg()), false) == "HTTP/1.1 204 No Content\r\n\r\n");
}

TEST_CASE("HttpHead edits: set, add, del, get, find", "[rules]") {
  HttpHead h;
  h.add("X-A", "1");
  h.add("x-b", "2");
  h.add("X-a", "3");
  CHECK(*h.get("x-A") == "1");
  CHECK(h.find("x-a", 1) == 2);
  h.set("X-A", "9");
  REQUIRE(h.headers.size() == 2);
  CHECK(h.headers[1] == std::pair<std::string, std::string>{"x-a", "9"});
  CHECK(h.del("X-B") == 1);
  CHECK(h.del("X-B") == 0);
  CHECK(h.get("x-b") == nullptr);
}

TEST_CASE("HeadView lets conditions see an edited head", "[rules]") {
  HttpHead h;
  h.method = "POST";
  h.target = "/new/path?q=1";
  h.version = "HTTP/1.0";
  h.add("Host", "example.com");
  HeadView v(h, true);
  CHECK(v.message().methodKind == http1::Method::Post);
  CHECK(v.message().versionMinor == 0);
  CHECK(v.message().find("host")->value == "example.com");
  AclTable t = acls({"acl p path_beg /new", "acl h hdr(host) example.com", "acl v req.ver 1.0"});
  SampleContext ctx;
  ctx.req = &v.message();
  CHECK(cond("if p h v", t).eval(ctx));
}

// ------------------------------------------------------------ rule actions

TEST_CASE("header actions edit the head in order", "[rules]") {
  auto r = run("  http-request set-header X-A one\n"
               "  http-request add-header X-A two\n"
               "  http-request add-header X-Pct 100%%\n"
               "  http-request del-header X-Drop\n"
               "  http-request set-header X-Cond yes if { hdr(x-a) two }\n"
               "  http-request set-header X-Never no if { path /nope }\n",
               get("/", "Host: x\r\nX-A: old\r\nX-Drop: 1\r\nx-drop: 2\r\n"));
  CHECK(r.result.kind == RuleResult::Kind::Continue);
  CHECK(serialize(r.head, true) == "GET / HTTP/1.1\r\nhost: x\r\nx-a: one\r\nx-a: two\r\n"
                                   "x-pct: 100%\r\nx-cond: yes\r\n\r\n");
}

TEST_CASE("replace-header replaces whole values, replace-value each list item", "[rules]") {
  auto r = run("  http-request replace-header Host ^(.*)\\.example\\.com$ \\1.internal\n"
               "  http-request replace-header X-L b B\n"
               "  http-request replace-value X-V ^a(.)$ A\\1\n",
               get("/", "Host: www.example.com\r\nX-L: abc\r\nX-V: a1, b2,a3\r\n"));
  CHECK(*r.head.get("host") == "www.internal");
  CHECK(*r.head.get("x-l") == "B"); // the full value is replaced (HAProxy)
  CHECK(*r.head.get("x-v") == "A1, b2,A3");
}

TEST_CASE("set-path keeps the query and the authority", "[rules]") {
  CHECK(run("  http-request set-path /new\n", get("/old?a=1")).head.target == "/new?a=1");
  CHECK(run("  http-request set-path /new\n", get("/old")).head.target == "/new");
  CHECK(run("  http-request set-path /n\n", get("http://h/o?q", "Host: h\r\n")).head.target ==
        "http://h/n?q");
  // A later rule sees the new path.
  auto r = run("  http-request set-path /static/x\n"
               "  http-request deny if { path_beg /static }\n",
               get("/a"));
  CHECK(r.result.kind == RuleResult::Kind::Deny);
}

TEST_CASE("allow stops the evaluation, deny answers 403 by default", "[rules]") {
  auto a = run("  http-request allow if { path /ok }\n  http-request deny\n", get("/ok"));
  CHECK(a.result.kind == RuleResult::Kind::Allow);
  auto d = run("  http-request allow if { path /ok }\n  http-request deny\n", get("/no"));
  CHECK(d.result.kind == RuleResult::Kind::Deny);
  CHECK(d.response == "HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\n"
                      "content-type: text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest "
                      "forbidden by administrative rules.\n</body></html>\n");
  auto s = run("  http-request deny deny_status 429\n", get("/"));
  CHECK(s.response.starts_with("HTTP/1.1 429 Too Many Requests\r\ncontent-length: 117\r\n"));
  auto u = run("  http-request deny unless { src 10.0.0.0/8 }\n", get("/"));
  CHECK(u.result.kind == RuleResult::Kind::Deny);
}

TEST_CASE("deny uses the proxy's errorfile for its status", "[rules]") {
  std::string file = std::string(SRC_DIR) + "/tests/data/config/errorfiles/503.http";
  auto r = run("  errorfile 503 " + file + "\n  http-request deny deny_status 503\n", get("/"));
  CHECK(r.response == "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n"
                      "content-length: 6\r\n\r\nsorry\n");
  auto e = run("  http-request deny status 503 errorfile " + file + "\n", get("/"));
  CHECK(e.response == r.response);
  auto t = run("  http-request deny status 403 content-type text/plain string no\n", get("/"));
  CHECK(t.response == "HTTP/1.1 403 Forbidden\r\ncontent-length: 2\r\n"
                      "content-type: text/plain\r\n\r\nno");
}

TEST_CASE("return builds haproxy's exact responses", "[rules]") {
  CHECK(run("  http-request return status 200 content-type text/plain string static\n", get("/"))
            .response == "HTTP/1.1 200 OK\r\ncontent-length: 6\r\ncontent-type: text/plain\r\n"
                         "\r\nstatic");
  CHECK(run("  http-request return status 404\n", get("/")).response ==
        "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n");
  CHECK(run("  http-request return status 201\n", get("/")).response ==
        "HTTP/1.1 201 Created\r\ncontent-length: 0\r\n\r\n");
  CHECK(run("  http-request return\n", get("/")).response ==
        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");
  CHECK(run("  http-request return status 200 content-type text/plain string hi hdr X-Foo bar\n",
            get("/"))
            .response == "HTTP/1.1 200 OK\r\nx-foo: bar\r\ncontent-length: 2\r\n"
                         "content-type: text/plain\r\n\r\nhi");
  CHECK(run("  http-request return status 302\n", get("/")).response ==
        "HTTP/1.1 302 Moved Temporarily\r\ncontent-length: 0\r\n\r\n");
  CHECK(run("  http-request return status 404 default-errorfiles\n", get("/"))
            .response.starts_with("HTTP/1.1 404 Not Found\r\ncontent-length: 83\r\n"));
  std::string body = std::string(SRC_DIR) + "/tests/data/config/errorfiles/body.txt";
  CHECK(
      run("  http-request return content-type text/plain file " + body + "\n", get("/")).response ==
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-type: text/plain\r\n"
      "\r\nbody\n");
}

TEST_CASE("redirects: exact Location and code, as haproxy", "[rules]") {
  auto loc = [](const std::string& rule, const std::string& target) {
    return run("  http-request redirect " + rule + "\n", get(target)).response;
  };
  CHECK(loc("location /new", "/r1?a=b") ==
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\nlocation: /new\r\ncache-control: "
        "no-cache\r\n\r\n");
  CHECK(loc("location /new code 301", "/r") ==
        "HTTP/1.1 301 Moved Permanently\r\ncontent-length: 0\r\nlocation: /new\r\n\r\n");
  CHECK(loc("prefix /pre", "/r2/x?q=1") ==
        "HTTP/1.1 302 Found\r\ncontent-length: 0\r\n"
        "location: /pre/r2/x?q=1\r\ncache-control: no-cache\r\n\r\n");
  CHECK(loc("prefix /", "/r3/y?q").find("location: /r3/y?q\r\n") != std::string::npos);
  CHECK(loc("scheme https", "/r4/z?q").find("location: https://x/r4/z?q\r\n") != std::string::npos);
  CHECK(loc("prefix /p drop-query", "/r5/a?q=1").find("location: /p/r5/a\r\n") !=
        std::string::npos);
  CHECK(loc("prefix /p append-slash", "/r6/a?q").find("location: /p/r6/a?q/\r\n") !=
        std::string::npos);
  CHECK(loc("prefix /p append-slash", "/r6/b/").find("location: /p/r6/b/\r\n") !=
        std::string::npos);
  CHECK(loc("location /x code 308", "/") ==
        "HTTP/1.1 308 Permanent Redirect\r\ncontent-length: 0\r\nlocation: /x\r\n\r\n");
  CHECK(loc("location /x code 303", "/") == "HTTP/1.1 303 See Other\r\ncontent-length: 0\r\n"
                                            "location: /x\r\ncache-control: no-cache\r\n\r\n");
  CHECK(loc("location /x code 307", "/") ==
        "HTTP/1.1 307 Temporary Redirect\r\ncontent-length: 0\r\nlocation: /x\r\n"
        "cache-control: no-cache\r\n\r\n");
  auto r = run("  http-request redirect scheme https if !{ ssl_fc }\n", get("/a"));
  CHECK(r.result.kind == RuleResult::Kind::Redirect);
  CHECK(r.result.code == 302);
  CHECK(r.result.location == "https://x/a");
  SampleContext tls;
  tls.ssl = true;
  CHECK(run("  http-request redirect scheme https if !{ ssl_fc }\n", get("/a"), tls).result.kind ==
        RuleResult::Kind::Continue);
}

TEST_CASE("http-response rules edit the response and deny with 502", "[rules]") {
  ProxyConfig px = frontend("  http-response set-header X-Served-By proxyd\n"
                            "  http-response del-header Server\n"
                            "  http-response add-header X-A 1 if { status 200 }\n"
                            "  http-response replace-header Location ^http://(.*) https://\\1\n"
                            "  http-response deny if { res.hdr(x-secret) -m found }\n");
  Parsed ok("HTTP/1.1 200 OK\r\nServer: s\r\nLocation: http://h/x\r\n\r\n", http1::Kind::Response);
  HttpHead h = fromMessage(ok.msg());
  RuleResult r = applyResponseRules(px.httpResponse, h, SampleContext{});
  CHECK(r.kind == RuleResult::Kind::Continue);
  CHECK(serialize(h, false) == "HTTP/1.1 200 OK\r\nlocation: https://h/x\r\n"
                               "x-served-by: proxyd\r\nx-a: 1\r\n\r\n");
  Parsed bad("HTTP/1.1 404 Not Found\r\nX-Secret: 1\r\n\r\n", http1::Kind::Response);
  HttpHead b = fromMessage(bad.msg());
  RuleResult d = applyResponseRules(px.httpResponse, b, SampleContext{});
  CHECK(d.kind == RuleResult::Kind::Deny);
  CHECK(b.get("x-a") == nullptr);
  CHECK(buildResponse(d, &px).starts_with("HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\n"));
}

// ------------------------------------------------------------ default errors

TEST_CASE("default error responses are haproxy 2.6's, byte for byte", "[rules][errors]") {
  // Captured from haproxy 2.6.12 ("http-request deny deny_status N").
  CHECK(errorResponse(400, nullptr) ==
        "HTTP/1.1 400 Bad request\r\ncontent-length: 90\r\ncache-control: no-cache\r\n"
        "content-type: text/html\r\n\r\n<html><body><h1>400 Bad request</h1>\nYour browser sent "
        "an invalid request.\n</body></html>\n");
  CHECK(errorResponse(403, nullptr) ==
        "HTTP/1.1 403 Forbidden\r\ncontent-length: 93\r\ncache-control: no-cache\r\ncontent-type: "
        "text/html\r\n\r\n<html><body><h1>403 Forbidden</h1>\nRequest forbidden by administrative "
        "rules.\n</body></html>\n");
  CHECK(errorResponse(408, nullptr) ==
        "HTTP/1.1 408 Request Time-out\r\ncontent-length: 110\r\ncache-control: no-cache\r\n"
        "content-type: text/html\r\n\r\n<html><body><h1>408 Request Time-out</h1>\nYour browser "
        "didn't send a complete request in time.\n</body></html>\n");
  CHECK(errorResponse(500, nullptr) ==
        "HTTP/1.1 500 Internal Server Error\r\ncontent-length: 97\r\ncache-control: no-cache\r\n"
        "content-type: text/html\r\n\r\n<html><body><h1>500 Internal Server Error</h1>\nAn "
        "internal server error occurred.\n</body></html>\n");
  CHECK(errorResponse(502, nullptr) ==
        "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 107\r\ncache-control: no-cache\r\n"
        "content-type: text/html\r\n\r\n<html><body><h1>502 Bad Gateway</h1>\nThe server "
        "returned an invalid or incomplete response.\n</body></html>\n");
  CHECK(errorResponse(503, nullptr) ==
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 107\r\ncache-control: no-cache\r\n"
        "content-type: text/html\r\n\r\n<html><body><h1>503 Service Unavailable</h1>\nNo server "
        "is available to handle this request.\n</body></html>\n");
  CHECK(errorResponse(504, nullptr) ==
        "HTTP/1.1 504 Gateway Time-out\r\ncontent-length: 92\r\ncache-control: no-cache\r\n"
        "content-type: text/html\r\n\r\n<html><body><h1>504 Gateway Time-out</h1>\nThe server "
        "didn't respond in time.\n</body></html>\n");
  CHECK(errorResponse(200, nullptr).ends_with("<h1>200 OK</h1>\nService ready.\n</body></html>\n"));
  CHECK(errorResponse(501, nullptr).find("content-length: 136\r\n") != std::string::npos);
  CHECK(errorResponse(405, nullptr).find("content-length: 146\r\n") != std::string::npos);
  CHECK(errorResponse(407, nullptr).starts_with("HTTP/1.1 407 Unauthorized\r\n"));
  CHECK(errorResponse(413, nullptr).find("content-length: 106\r\n") != std::string::npos);
  CHECK(errorResponse(425, nullptr).find("content-length: 80\r\n") != std::string::npos);
  CHECK(errorResponse(422, nullptr).find("content-length: 116\r\n") != std::string::npos);
  // Every page's content-length is its body's size.
  for (int s :
       {200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 422, 425, 429, 500, 501, 502, 503, 504}) {
    INFO(s);
    CHECK(isHandledErrorStatus(s));
    std::string r = errorResponse(s, nullptr);
    std::size_t cl = r.find("content-length: ") + 16;
    std::size_t body = r.find("\r\n\r\n") + 4;
    CHECK(std::stoul(r.substr(cl)) == r.size() - body);
  }
  CHECK_FALSE(isHandledErrorStatus(418));
  CHECK(errorResponse(418, nullptr) == errorResponse(500, nullptr));
}

TEST_CASE("reason phrases are haproxy's", "[rules]") {
  CHECK(reasonPhrase(200) == "OK");
  CHECK(reasonPhrase(302) == "Moved Temporarily");
  CHECK(reasonPhrase(413) == "Request Entity Too Large");
  CHECK(reasonPhrase(502) == "Bad Gateway or Proxy Error");
  CHECK(reasonPhrase(299) == "Success");
  CHECK(reasonPhrase(450) == "Blocked by Windows Parental Controls");
  CHECK(reasonPhrase(599) == "Server Error");
}

// ------------------------------------------------------------ parsing

TEST_CASE("http-request and http-response line errors", "[rules][errors]") {
  auto first = [](const std::string& line) {
    auto e = errorsOf(line + "\n");
    REQUIRE_FALSE(e.empty());
    return e.front();
  };
  const std::string pre = "error detected in frontend 'f' while parsing ";
  CHECK(first("  http-request deny foo") ==
        "t.cfg:8:21: 'http-request deny' expects either 'if' or 'unless' followed by a condition "
        "but found 'foo'.");
  CHECK(first("  http-request allow x") ==
        "t.cfg:8:22: 'http-request allow' expects either 'if' or 'unless' followed by a condition "
        "but found 'x'.");
  CHECK(first("  http-request set-header X") ==
        "t.cfg:8: " + pre + "'http-request set-header' rule : expects exactly 2 arguments.");
  CHECK(first("  http-request replace-header a b") ==
        "t.cfg:8: " + pre + "'http-request replace-header' rule : expects exactly 3 arguments.");
  CHECK(first("  http-request del-header") ==
        "t.cfg:8: " + pre + "'http-request del-header' rule : expects at least 1 argument.");
  CHECK(first("  http-request set-path") ==
        "t.cfg:8: " + pre + "'http-request set-path' rule : expects exactly 1 argument <format>.");
  CHECK(first("  http-request nosuchaction")
            .starts_with("t.cfg:8:16: 'http-request' expects 'allow', 'deny', "));
  CHECK(first("  http-request tarpit") ==
        "t.cfg:8:16: 'http-request tarpit' is not supported yet.");
  CHECK(first("  http-request redirect location") ==
        "t.cfg:8:25: " + pre + "'http-request redirect' rule : missing argument for 'location'.");
  CHECK(first("  http-request redirect location /x code 304") ==
        "t.cfg:8:42: " + pre +
            "'http-request redirect' rule : 'code': unsupported HTTP code '304' (must be one of "
            "301, 302, 303, 307 or 308).");
  CHECK(first("  http-request redirect foo /x") ==
        "t.cfg:8:25: " + pre +
            "'http-request redirect' rule : expects 'code', 'prefix', 'location', 'scheme', "
            "'set-cookie', 'clear-cookie', 'drop-query', 'ignore-empty' or 'append-slash' (was "
            "'foo').");
  CHECK(first("  http-request return status 99") ==
        "t.cfg:8:30: " + pre + "'http-request return' rule : Unexpected status code '99'.");
  CHECK(first("  http-request deny deny_status 999") ==
        "t.cfg:8:33: " + pre + "'http-request deny' rule : Unexpected status code '999'.");
  CHECK(first("  http-request deny deny_status 418") ==
        "t.cfg:8: " + pre +
            "'http-request deny' rule : status code '418' not handled by default with "
            "'default-errorfiles' argument..");
  CHECK(first("  http-request return status 200 string x") ==
        "t.cfg:8: " + pre +
            "'http-request return' rule : a content type must be defined when non-empty payload "
            "is configured.");
  CHECK(first("  http-request return status 200 hdr") ==
        "t.cfg:8:34: " + pre +
            "'http-request return' rule : 'hdr' expects <name> and <value> "
            "as arguments.");
  CHECK(first("  http-request set-header X 100%") ==
        "t.cfg:8:29: " + pre + "'http-request set-header' rule : truncated line after '%'.");
  CHECK(first("  http-request set-header X %[path]") ==
        "t.cfg:8:29: " + pre +
            "'http-request set-header' rule : log-format expressions ('%[path]') are not "
            "supported yet; write '%%' for a literal '%'.");
  CHECK(first("  http-request replace-header X ([ y")
            .starts_with("t.cfg:8:33: " + pre +
                         "'http-request replace-header' rule : regex '([' is invalid"));
  CHECK(first("  http-request deny if nosuch") ==
        "t.cfg:8:24: error detected while parsing an 'http-request deny' condition : no such ACL "
        ": 'nosuch'.");
  CHECK(first("  http-response return status 200") ==
        "t.cfg:8:17: 'http-response return' is not supported yet.");
  CHECK(first("  http-request") == "t.cfg:8: 'http-request' expects an action.");
}

TEST_CASE("http rules are refused in defaults and ignored with a warning in tcp mode",
          "[rules][errors]") {
  auto o = parse("defaults\n  http-request deny\n");
  CHECK(has(o.errors, "t.cfg:2: 'http-request' not allowed in 'defaults' section."));
  auto t = parse("defaults\n  timeout client 1s\nfrontend f\n  mode tcp\n  bind :80\n"
                 "  http-request deny\n  http-response deny\n  option httplog\n");
  CHECK(t.ok());
  CHECK(has(t.warnings,
            "t.cfg:3: 'http-request' rules ignored for frontend 'f' as they require HTTP mode."));
  CHECK(has(t.warnings,
            "t.cfg:3: 'http-response' rules ignored for frontend 'f' as they require HTTP mode."));
  CHECK(has(t.warnings, "t.cfg:3: 'option httplog' not usable with frontend 'f' (needs 'mode "
                        "http'). Falling back to 'option tcplog'."));
  CHECK(t.config.proxies[0].tcplog);
}

TEST_CASE("conditions on the wrong side warn as HAProxy does", "[rules]") {
  auto o = parse(std::string(kHttp) + "  acl p path /x\n"
                                      "  http-response deny if { path /x }\n"
                                      "  http-response deny if p\n"
                                      "  http-request deny if { status 200 }\n");
  CHECK(o.ok());
  CHECK(has(o.warnings, "t.cfg:9: anonymous acl will never match because it uses keyword 'path' "
                        "which is incompatible with 'frontend http-response header rule'"));
  CHECK(has(o.warnings, "t.cfg:10: acl 'p' will never match because it only involves keywords "
                        "that are incompatible with 'frontend http-response header rule'"));
  CHECK(has(o.warnings, "t.cfg:11: anonymous acl will never match because it uses keyword "
                        "'status' which is incompatible with 'frontend http-request header rule'"));
}
