// ACLs: parsing (with HAProxy 2.6's error texts), every fetch with its
// matchers, -i, conditions (and/or/!/{ }), predefined ACLs, and the seed's
// static routing. Expected outcomes marked "haproxy" were observed on
// haproxy 2.6.12 with `http-request return ... if ACL` on loopback.
#include "acl_test_util.h"

#include <arpa/inet.h>

using namespace proxyd;
using namespace proxyd::test;

namespace {

// Evaluates `acl x LINE` (the words after the name) on a request.
bool match(const std::string& expr, const std::string& raw,
           const SampleContext& base = SampleContext{}) {
  AclTable t = acls({"acl x " + expr});
  Parsed p(raw);
  SampleContext ctx = base;
  ctx.req = &p.msg();
  return t.at("x")->eval(ctx);
}

bool matchPath(const std::string& expr, const std::string& target) {
  return match(expr, get(target));
}

common::SockAddr addr(const std::string& hostPort) {
  auto a = common::parseHostPort(hostPort);
  REQUIRE(a);
  return *a;
}

} // namespace

// ------------------------------------------------------------ parsing errors

TEST_CASE("acl line errors carry HAProxy's messages", "[acl][errors]") {
  CHECK(aclError("acl") == "'acl' expects a name and a fetch method");
  CHECK(aclError("acl a") ==
        "error detected while parsing ACL 'a' : missing fetch method in ACL expression ''");
  CHECK(aclError("acl b nosuchfetch x") ==
        "error detected while parsing ACL 'b' : unknown fetch method 'nosuchfetch' in ACL "
        "expression 'nosuchfetch'");
  CHECK(aclError("acl d path -m nosuch /x") ==
        "error detected while parsing ACL 'd' : unknown matching method 'nosuch' when parsing ACL "
        "expression");
  CHECK(aclError("acl f$ path /x") == "character '$' is not permitted in acl name 'f$'");
  CHECK(aclError("acl g hdr_cnt(host) lt x") ==
        "error detected while parsing ACL 'g' : 'x' is neither a number nor a supported operator");
  CHECK(aclError("acl h src 1.2.3.4/99") ==
        "error detected while parsing ACL 'h' : '1.2.3.4/99' is not a valid IPv4 or IPv6 address");
  CHECK(aclError("acl i path_reg ([")
            .starts_with("error detected while parsing ACL 'i' : regex '([' is invalid (error="));
  CHECK(aclError("acl j path -f /nonexistent") ==
        "error detected while parsing ACL 'j' : failed to open pattern file </nonexistent>");
  CHECK(aclError("acl m path(x) /a") ==
        "error detected while parsing ACL 'm' : ACL keyword 'path' : expected ')' before 'x)'");
  CHECK(aclError("acl m hdr(host,1,2) a") ==
        "error detected while parsing ACL 'm' : ACL keyword 'hdr' : expected ')' before ',2)'");
  CHECK(aclError("acl m hdr(host,x) a") ==
        "error detected while parsing ACL 'm' : ACL keyword 'hdr' : failed to parse 'x' as type "
        "'integer' at position 2");
  CHECK(aclError("acl m hdr(host x") ==
        "error detected while parsing ACL 'm' : ACL keyword 'hdr' : expected ')'");
  CHECK(aclError("acl e dst_port :80:") ==
        "error detected while parsing ACL 'e' : ':80:' is not a valid number range");
  CHECK(aclError("acl f dst_port 8x") ==
        "error detected while parsing ACL 'f' : '8x' is not a number");
  CHECK(aclError("acl f path -m len x") ==
        "error detected while parsing ACL 'f' : 'x' is not a number");
  CHECK(aclError("acl j path -u x") ==
        "error detected while parsing ACL 'j' : the argument of -u must be an integer");
  CHECK(aclError("acl l path -q x") ==
        "error detected while parsing ACL 'l' : '-q' is not a valid ACL option. Please use '--' "
        "before any pattern beginning with a '-'");
  CHECK(aclError("acl l path -m") ==
        "error detected while parsing ACL 'l' : missing argument after '-m'");
  CHECK(aclError("acl c path,lower /a").find("converters (',lower') are not supported yet") !=
        std::string::npos);
}

TEST_CASE("acl lines HAProxy accepts are accepted", "[acl]") {
  for (const char* l : {"acl c path_beg -m str /x",
                        "acl e path -m found /x",
                        "acl n ssl_fc -m bool 1",
                        "acl o path -m int 1",
                        "acl p dst_port -m str 80",
                        "acl q src -m beg 1",
                        "acl g src 10.0.0.0/255.0.0.0 ::1 fe80::/10 localhost",
                        "acl h path -i -m beg -- -x",
                        "acl i path_beg -n x",
                        "acl k path -M x",
                        "acl x hdr(host,0) a",
                        "acl x hdr() a",
                        "acl x url_param() a",
                        "acl x url_param(a,bc) 1",
                        "acl x dst_port 80:",
                        "acl x dst_port eq",
                        "acl TRUE path /x",
                        "acl 1a.b:c-d_e path /x",
                        "acl x path -m sub",
                        "acl x method get",
                        "acl x urlp(a) 1",
                        "acl x hdr_val(host) 1"}) {
    INFO(l);
    AclTable t;
    AclError err;
    CHECK(parseAclLine(split(l), t, err));
    INFO(err.message);
  }
}

TEST_CASE("an acl without patterns gets HAProxy's warning unless -m or -- says why", "[acl]") {
  auto warnOf = [](const std::string& l) {
    AclTable t;
    AclError err;
    std::string w;
    REQUIRE(parseAclLine(split(l), t, err, &w));
    return w;
  };
  CHECK(warnOf("acl x path")
            .starts_with("parsing acl keyword 'path' : no pattern to match against were provided"));
  CHECK(warnOf("acl x hdr_cnt").starts_with("parsing acl keyword 'hdr_cnt'"));
  CHECK(warnOf("acl x path --").empty());
  CHECK(warnOf("acl x path -m found").empty());
  CHECK(warnOf("acl x ssl_fc").empty());
  CHECK(warnOf("acl x path /a").empty());
}

// ------------------------------------------------------------ fetches x matchers

TEST_CASE("path and its matchers, with and without -i", "[acl][fetch]") {
  CHECK(matchPath("path /a/b", "/a/b"));
  CHECK(matchPath("path /a/b", "/a/b?x=1"));
  CHECK_FALSE(matchPath("path /a/B", "/a/b"));
  CHECK(matchPath("path -i /a/B", "/a/b"));
  CHECK(matchPath("path_beg /st", "/static"));
  CHECK_FALSE(matchPath("path_beg /ST", "/static"));
  CHECK(matchPath("path_beg -i /ST", "/static"));
  CHECK(matchPath("path_end .css", "/a.css?v=2"));
  CHECK(matchPath("path_end -i .CSS", "/a.css"));
  CHECK_FALSE(matchPath("path_end .css", "/a?x=.css"));
  CHECK(matchPath("path_sub tati", "/static"));
  CHECK(matchPath("path_sub -i TATI", "/static"));
  CHECK_FALSE(matchPath("path_sub TATI", "/static"));
  CHECK(matchPath("path_reg ^/api/v[0-9]+/", "/api/v2/x"));
  CHECK_FALSE(matchPath("path_reg ^/api/v[0-9]+/", "/api/vx/"));
  CHECK_FALSE(matchPath("path_reg ^/API/", "/api/x"));
  CHECK(matchPath("path_reg -i ^/API/", "/api/x"));
  CHECK(matchPath("path_dir img", "/img/x"));
  CHECK(matchPath("path_dir img", "/x/img"));
  CHECK(matchPath("path_dir /img/", "/a/img/b"));
  CHECK_FALSE(matchPath("path_dir img", "/x/imgs/y"));
  CHECK_FALSE(matchPath("path_dir img", "/x/IMG"));
  CHECK(matchPath("path_dir -i img", "/x/IMG")); // haproxy
  CHECK(matchPath("path_dom b", "/a.b.c"));
  CHECK_FALSE(matchPath("path_dom b", "/a.bc"));
  CHECK(matchPath("path_len 3", "/ab?x"));
  CHECK(matchPath("path_len gt 2", "/ab"));
  CHECK_FALSE(matchPath("path_len gt 3", "/ab"));
  CHECK(matchPath("path -m len 1:5", "/ab"));
  CHECK(matchPath("path -m found", "/"));
  CHECK(matchPath("path -m beg /a", "/abc"));
}

TEST_CASE("path: absolute form, and targets without a path", "[acl][fetch]") {
  CHECK(match("path /static/x", get("http://host/static/x", "Host: host\r\n")));
  CHECK(match("path /a.css", get("http://host/a.css?q", "Host: host\r\n")));
  CHECK_FALSE(match("path -m found", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK_FALSE(match("path -m found", "CONNECT h:443 HTTP/1.1\r\n\r\n"));
  CHECK(match("url *", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
}

// The path and authority an ACL judges are the ones the server takes from
// the target (RFC 9112 3.2.2), whatever form the client chose.
TEST_CASE("path: an absolute target without a path has the path /", "[acl][fetch][authority]") {
  // The server serves "/" (RFC 9110 4.2.3); HAProxy 2.6 finds no path here.
  CHECK(match("path /", get("http://host", "Host: host\r\n")));
  CHECK(match("base host/", get("http://host", "Host: host\r\n")));
  CHECK(match("path_beg /admin", get("HTTP://host/admin", "Host: host\r\n")));
  CHECK(match("path_beg /admin", get("http://u:p@host:80/admin?x", "Host: host\r\n")));
}

TEST_CASE("hdr(host) and base see the target's authority when Host is missing",
          "[acl][fetch][authority]") {
  const std::string abs = "GET http://internal.example/x HTTP/1.1\r\n\r\n";
  CHECK(match("hdr(host) -i internal.example", abs));
  CHECK(match("req.hdr(host) -i internal.example", abs));
  CHECK(match("base internal.example/x", abs));
  CHECK(match("hdr(host) -i a", "GET http://a:80/x HTTP/1.0\r\n\r\n"));
  CHECK(match("hdr(host) -i a:8080", "GET http://u@a:8080/x HTTP/1.0\r\n\r\n"));
  // CONNECT: base is the Host alone, as HAProxy.
  CHECK(match("base a", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"));
  CHECK(match("hdr(host) a", "CONNECT a:443 HTTP/1.1\r\n\r\n"));
  CHECK(match("base a", "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"));
}

TEST_CASE("url, query, base and url_param", "[acl][fetch]") {
  CHECK(matchPath("url /a?b=1", "/a?b=1"));
  CHECK(matchPath("url_beg /a?", "/a?b=1"));
  CHECK(matchPath("url_end =1", "/a?b=1"));
  CHECK(matchPath("url_sub -i B=1", "/a?b=1"));
  CHECK(matchPath("url_reg b=[0-9]$", "/a?b=1"));
  CHECK(matchPath("url_len 6", "/a?b=1"));
  CHECK(matchPath("query b=1", "/a?b=1"));
  CHECK(matchPath("query -m found", "/x?"));
  CHECK(matchPath("query -m len 0", "/x?"));
  CHECK_FALSE(matchPath("query -m found", "/x"));
  CHECK(match("base www.example.com/shop", get("/shop?x=1", "Host: www.example.com\r\n")));
  CHECK(match("base_beg www.example.com/sh", get("/shop", "Host: www.example.com\r\n")));
  CHECK_FALSE(match("base -m sub ?", get("/x?a")));
  CHECK(match("base /shop", "GET /shop HTTP/1.0\r\n\r\n"));
  CHECK(matchPath("url_param(id) -m int 10:20", "/x?id=15"));
  CHECK_FALSE(matchPath("url_param(id) -m int 10:20", "/x?id=25"));
  CHECK(matchPath("url_param(id) -m int 10:20", "/x?a=1&id=12"));
  CHECK_FALSE(matchPath("url_param(id) -m int 10:20", "/x?id="));
  CHECK_FALSE(matchPath("url_param(id) 15", "/x;id=15"));
  CHECK(matchPath("url_param(id) 15", "/x?a=1;id=15"));
  CHECK(matchPath("url_param(id) 2", "/x?id=1&id=2")); // every occurrence is tried
  CHECK_FALSE(matchPath("url_param(id) -m found", "/x?id"));
  CHECK(matchPath("url_param(id,|) 3", "/x|id=3"));
  CHECK(matchPath("urlp(ID) 1", "/x?ID=1"));
  CHECK_FALSE(matchPath("urlp(ID) 1", "/x?id=1"));
  CHECK(matchPath("url_param 7", "/x?any=7"));
  CHECK(matchPath("urlp_val(n) gt 5", "/x?n=6"));
}

TEST_CASE("hdr: every comma-separated value, occurrences, counts, full lines", "[acl][fetch]") {
  const std::string two = get("/x", "Host: x\r\nX-A: a\r\nX-A: c\r\n");
  const std::string oneLine = get("/x", "Host: x\r\nX-A: a, c\r\n");
  CHECK(match("hdr(x-a) c", two));
  CHECK(match("hdr(x-a) c", oneLine));
  CHECK(match("hdr(X-A) a", oneLine));
  CHECK_FALSE(match("hdr(x-a) C", oneLine));
  CHECK(match("hdr(x-a) -i C", oneLine));
  CHECK(match("req.hdr(x-a) a", two));
  CHECK(match("hdr(x-a,2) c", two));                              // haproxy
  CHECK(match("hdr(x-a,2) c", oneLine));                          // haproxy
  CHECK_FALSE(match("hdr(x-a,-1) d", get("/", "X-A: d, a\r\n"))); // haproxy
  CHECK(match("hdr(x-a,-1) d", get("/", "X-A: a,d\r\n")));        // haproxy
  CHECK(match("hdr(x-a,1) a", two));
  CHECK_FALSE(match("hdr(x-a,3) a", two));
  CHECK(match("req.fhdr(x-b) a,b", get("/", "X-B: a,b\r\n")));
  CHECK_FALSE(match("hdr(x-b) a,b", get("/", "X-B: a,b\r\n")));
  CHECK(match("hdr_cnt(x-a) 2", two));
  CHECK(match("hdr_cnt(x-a) ge 2", oneLine));
  CHECK(match("fhdr_cnt(x-a) 1", oneLine));
  CHECK(match("hdr_cnt(x-z) 0", two));
  CHECK(match("hdr_cnt 3", two)); // every header
  CHECK(match("hdr_beg(host) -i WWW.", get("/", "Host: www.x\r\n")));
  CHECK(match("hdr_end(host) :8080", get("/", "Host: x:8080\r\n")));
  CHECK(match("hdr_sub(user-agent) -i curl", get("/", "User-Agent: Curl/8\r\n")));
  CHECK(match("hdr_reg(host) ^[a-z]+\\.example\\.com$", get("/", "Host: api.example.com\r\n")));
  CHECK(match("hdr_dom(host) -i example.com", get("/", "Host: www.EXAMPLE.com\r\n"))); // haproxy
  CHECK(match("hdr_dom(host) -i example.com", get("/", "Host: example.com:80\r\n")));  // haproxy
  CHECK_FALSE(match("hdr_dom(host) -i example.com", get("/", "Host: notexample.com\r\n")));
  CHECK(match("hdr_len(host) 4", get("/", "Host: abcd\r\n")));
  CHECK(match("hdr_ip(x-forwarded-for) 10.0.0.0/8", get("/", "X-Forwarded-For: 10.1.2.3\r\n")));
  CHECK_FALSE(match("hdr_ip(x-forwarded-for) 10.0.0.0/8", get("/", "X-Forwarded-For: junk\r\n")));
  CHECK(match("hdr_val(content-length) gt 0", "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n"));
  CHECK(match("hdr(host) -m found", get("/")));
  CHECK_FALSE(match("hdr(x-none) -m found", get("/")));
  CHECK(match("hdr -m sub ab", get("/", "X-Q: zabz\r\n"))); // any header
}

TEST_CASE("method: known methods compare exactly, others as strings with -i", "[acl][fetch]") {
  auto req = [](const std::string& m) { return m + " /x HTTP/1.1\r\nHost: x\r\n\r\n"; };
  CHECK(match("method GET", req("GET")));
  CHECK(match("method GET HEAD", req("HEAD")));
  CHECK_FALSE(match("method get", req("GET")));
  CHECK_FALSE(match("method -i get", req("GET"))); // HAProxy: a known method is not a string
  CHECK(match("method -i patch", req("PATCH")));   // haproxy
  CHECK(match("method -i patch", req("patch")));   // haproxy
  CHECK_FALSE(match("method patch", req("PATCH")));
  CHECK(match("method PROPFIND", req("PROPFIND")));
  CHECK(match("method -m beg PO", req("POST")));
}

TEST_CASE("connection fetches: src, dst, ports, ssl_fc", "[acl][fetch]") {
  SampleContext c;
  c.src = addr("10.1.2.3:40000");
  c.dst = addr("[::1]:443");
  c.ssl = true;
  auto m = [&](const std::string& expr) {
    AclTable t = acls({"acl x " + expr});
    return t.at("x")->eval(c); // no request: tcp mode
  };
  CHECK(m("src 10.0.0.0/8"));
  CHECK(m("src 10.0.0.0/255.0.0.0"));
  CHECK(m("src 192.168.0.0/16 10.1.2.3"));
  CHECK_FALSE(m("src 192.168.0.0/16"));
  CHECK(m("src ::/0")); // an IPv4 client is ::ffff:a.b.c.d to IPv6 patterns
  CHECK(m("dst ::1"));
  CHECK_FALSE(m("dst 127.0.0.1"));
  CHECK(m("dst_port 443"));
  CHECK(m("dst_port 1024:") == false);
  CHECK(m("dst_port :1023"));
  CHECK(m("dst_port 400:500"));
  CHECK(m("dst_port eq 443"));
  CHECK(m("dst_port ge 443"));
  CHECK_FALSE(m("dst_port gt 443"));
  CHECK(m("dst_port le 443"));
  CHECK_FALSE(m("dst_port lt 443"));
  CHECK(m("dst_port lt 80 ge 443")); // the operator applies until the next one
  CHECK(m("src_port gt 1023"));
  CHECK(m("dst_port -m str 443"));
  CHECK(m("ssl_fc"));
  CHECK(m("src -m found"));
  CHECK_FALSE(m("path -m found")); // HTTP fetches find nothing without a request
  c.ssl = false;
  CHECK_FALSE(m("ssl_fc"));
  // An IPv4-mapped IPv6 client matches IPv4 patterns, and the reverse.
  c.src = addr("[::ffff:10.0.0.1]:1");
  CHECK(m("src 10.0.0.0/8"));
  c.src = addr("10.0.0.1:1");
  CHECK(m("src ::ffff:10.0.0.0/104"));
}

TEST_CASE("patterns from a file with -f", "[acl]") {
  std::string path = std::string(SRC_DIR) + "/tests/data/config/acl-paths.lst";
  CHECK(matchPath("path_beg -i -f " + path, "/Static/x"));
  CHECK(matchPath("path_beg -f " + path, "/api/x"));
  CHECK_FALSE(matchPath("path_beg -f " + path, "/other"));
  // A '#' line is a comment, not a pattern (a target cannot hold '#': a header can).
  CHECK_FALSE(match("hdr_beg(x) -f " + path, get("/", "Host: x\r\nX: #not\r\n")));
  CHECK(match("hdr_beg(x) -f " + path, get("/", "Host: x\r\nX: /static\r\n")));
}

// ------------------------------------------------------------ conditions

TEST_CASE("conditions: AND by juxtaposition, or/||, !, { }, unless", "[acl][cond]") {
  AclTable t = acls({"acl a path_beg /a", "acl b path_end .b", "acl c hdr(x-c) 1"});
  auto eval = [&](const std::string& text, const std::string& target,
                  const std::string& hdrs = "") {
    Parsed p(get(target, "Host: x\r\n" + hdrs));
    SampleContext ctx;
    ctx.req = &p.msg();
    return cond(text, t).eval(ctx);
  };
  CHECK(eval("if a", "/a"));
  CHECK_FALSE(eval("unless a", "/a"));
  CHECK(eval("if a b", "/a.b"));
  CHECK_FALSE(eval("if a b", "/a"));
  CHECK(eval("if a or b", "/x.b"));
  CHECK(eval("if a || b", "/x.b"));
  CHECK(eval("if a OR b", "/x.b"));
  CHECK_FALSE(eval("if a or b", "/x"));
  CHECK(eval("if !a", "/x"));
  CHECK(eval("if ! a", "/x")); // a lone '!' negates the next term (HAProxy)
  CHECK(eval("if !!a", "/a"));
  CHECK(eval("if a !b or c", "/a", "X-C: 1\r\n"));
  CHECK(eval("if a !b or c", "/a.x"));
  CHECK_FALSE(eval("if a !b or c", "/a.b"));
  CHECK(eval("if { path /x }", "/x"));
  CHECK(eval("if !{ path /x }", "/y"));
  CHECK(eval("if a { path_end .z }", "/a.z"));
  CHECK(eval("if a or", "/a")); // a trailing 'or' adds nothing (HAProxy)
  CHECK(eval("if or a", "/a"));
  CHECK(eval("if a or or b", "/x.b"));
  CHECK_FALSE(eval("if", "/a")); // no term: never, as HAProxy
  CHECK(eval("unless", "/a"));
  CHECK(eval("if TRUE", "/"));
  CHECK_FALSE(eval("if FALSE", "/"));
  CHECK(eval("unless FALSE", "/"));
}

TEST_CASE("condition errors", "[acl][cond][errors]") {
  AclTable t = acls({"acl a path /a"});
  CHECK(condError("if nosuchacl", t) == "no such ACL : 'nosuchacl'");
  CHECK(condError("if {", t) == "missing closing '}' in condition");
  CHECK(condError("if { path /x", t) == "missing closing '}' in condition");
  CHECK(condError("if { path /x } }", t) == "no such ACL : '}'");
  CHECK(condError("if {path /x}", t) == "no such ACL : '{path'");
  CHECK(condError("if { }", t) == "missing fetch method in ACL expression ''");
  CHECK(condError("if { nosuch 1 }", t) ==
        "unknown fetch method 'nosuch' in ACL expression 'nosuch'");
  CHECK(condError("when a", t) == "conditions must start with either 'if' or 'unless'");
}

TEST_CASE("a condition sees acl lines added after it, as HAProxy", "[acl][cond]") {
  AclTable t = acls({"acl a path /a"});
  Condition c = cond("if a", t);
  AclError err;
  REQUIRE(parseAclLine(split("acl a path /b"), t, err));
  Parsed p(get("/b"));
  SampleContext ctx;
  ctx.req = &p.msg();
  CHECK(c.eval(ctx));
}

TEST_CASE("a user acl overrides a predefined one of the same name", "[acl][cond]") {
  AclTable t = acls({"acl TRUE path /never"});
  Parsed p(get("/x"));
  SampleContext ctx;
  ctx.req = &p.msg();
  CHECK_FALSE(cond("if TRUE", t).eval(ctx));
}

TEST_CASE("predefined ACLs", "[acl][cond]") {
  auto eval = [](const std::string& name, const std::string& raw,
                 SampleContext ctx = SampleContext{}) {
    Parsed p(raw);
    ctx.req = &p.msg();
    return cond("if " + name).eval(ctx);
  };
  CHECK(eval("METH_GET", get("/")));
  CHECK(eval("METH_GET", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK_FALSE(eval("METH_GET", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  CHECK(eval("METH_POST", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  CHECK(eval("METH_PUT", "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  CHECK(eval("METH_DELETE", "DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(eval("METH_OPTIONS", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(eval("METH_TRACE", "TRACE / HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(eval("METH_CONNECT", "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"));
  CHECK(eval("HTTP_1.1", get("/")));
  CHECK_FALSE(eval("HTTP_1.0", get("/")));
  CHECK(eval("HTTP_1.0", "GET / HTTP/1.0\r\n\r\n")); // haproxy
  CHECK(eval("HTTP", get("/")));
  CHECK(eval("HTTP_URL_SLASH", get("/")));
  CHECK(eval("HTTP_URL_ABS", get("http://h/x", "Host: h\r\n"))); // haproxy
  CHECK_FALSE(eval("HTTP_URL_ABS", get("/x")));
  CHECK(eval("HTTP_URL_STAR", "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(eval("HTTP_CONTENT", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n"));
  CHECK_FALSE(eval("HTTP_CONTENT", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  SampleContext local;
  local.src = addr("127.0.0.5:1");
  CHECK(eval("LOCALHOST", get("/"), local));
  local.src = addr("[::1]:1");
  CHECK(eval("LOCALHOST", get("/"), local));
  local.src = addr("10.0.0.1:1");
  CHECK_FALSE(eval("LOCALHOST", get("/"), local));
}

// ------------------------------------------------------------ the seed's routing

TEST_CASE("the seed's url_static routing matches as haproxy 2.6 does", "[acl][seed]") {
  AclTable t = acls({"acl url_static path_beg -i /static /images /javascript /stylesheets",
                     "acl url_static path_end -i .jpg .gif .png .css .js"});
  Condition c = cond("if url_static", t);
  // Outcomes observed on haproxy 2.6.12 (use_backend static if url_static).
  struct Case {
    const char* target;
    bool isStatic;
  };
  const Case cases[] = {
      {"/", false},
      {"/static", true},
      {"/static/", true},
      {"/STATIC/x", true},
      {"/staticfoo", true},
      {"/x/static/y", false},
      {"/images/a.png", true},
      {"/Images/a", true},
      {"/javascript", true},
      {"/stylesheets/site", true},
      {"/a.jpg", true},
      {"/a.JPG", true},
      {"/a.jpeg", false},
      {"/a.js", true},
      {"/a.json", false},
      {"/a.css?x=1", true},
      {"/a?x=.css", false},
      {"/dir/a.gif", true},
      {"/a.png/", false},
      {"/img/x", false},
      {"/api/v2/x", false},
      {"/x?id=15", false},
      {"/style.CSS", true},
      {"/js/app.js?v=3", true},
      {"/images", true},
      {"/image", false},
      {"/imagesx/y.txt", true},
  };
  for (const Case& k : cases) {
    INFO(k.target);
    Parsed p(get(k.target));
    SampleContext ctx;
    ctx.req = &p.msg();
    CHECK(c.eval(ctx) == k.isStatic);
  }
  // Absolute form, as haproxy (with a matching Host).
  Parsed abs(get("http://host/static/x", "Host: host\r\n"));
  SampleContext ctx;
  ctx.req = &abs.msg();
  CHECK(c.eval(ctx));
  // In tcp mode there is no request: the ACL never matches.
  CHECK_FALSE(c.eval(SampleContext{}));
  CHECK(c.usesHttp());
  CHECK(c.str() == "if url_static");
}

TEST_CASE("Condition::str shows the condition normalised", "[acl][cond]") {
  AclTable t = acls({"acl a path /a", "acl b path /b"});
  CHECK(cond("unless !a b || { path /c }", t).str() == "unless !a b or {...}");
}

TEST_CASE("usableIn tells request fetches from response fetches", "[acl]") {
  AclTable t = acls({"acl p path /a", "acl s status 200", "acl n src 1.2.3.4"});
  CHECK(t.at("p")->usableIn(false));
  CHECK_FALSE(t.at("p")->usableIn(true));
  CHECK(t.at("s")->usableIn(true));
  CHECK_FALSE(t.at("s")->usableIn(false));
  CHECK(t.at("n")->usableIn(true));
  CHECK(t.at("n")->usableIn(false));
  CHECK(t.at("p")->firstKeyword() == "path");
}

TEST_CASE("response fetches: status and res.hdr", "[acl][fetch]") {
  AclTable t = acls({"acl ok status 200:299", "acl js res.hdr(content-type) -m beg text/",
                     "acl two res.hdr_cnt(set-cookie) 2"});
  Parsed r("HTTP/1.1 204 No Content\r\nContent-Type: text/plain\r\nSet-Cookie: a=1\r\n"
           "Set-Cookie: b=2\r\n\r\n",
           http1::Kind::Response);
  SampleContext ctx;
  ctx.res = &r.msg();
  CHECK(t.at("ok")->eval(ctx));
  CHECK(t.at("js")->eval(ctx));
  CHECK(t.at("two")->eval(ctx));
  CHECK_FALSE(t.at("ok")->eval(SampleContext{}));
}

TEST_CASE("regular expressions: ERE, the digit class, -i, and long values without recursion",
          "[acl][regex]") {
  CHECK(matchPath("path_reg ^/v\\d+/", "/v12/x"));
  CHECK_FALSE(matchPath("path_reg ^/v\\d+/", "/vx/"));
  CHECK(matchPath("path_reg ^/[\\d]+$", "/123"));
  CHECK(matchPath("path_reg ^/a(b|c)+$", "/abcb"));
  CHECK(matchPath("path_reg -i ^/ABC", "/abc"));
  // 16000 bytes in one value: std::regex would overflow the stack here.
  std::string big(16000, 'a');
  CHECK_FALSE(match("hdr_reg(x-big) ^(.*)\\.example$", get("/", "X-Big: " + big + "\r\n")));
  CHECK(match("hdr_reg(x-big) (a|b)*$", get("/", "X-Big: " + big + "\r\n")));
  std::string err;
  CHECK_FALSE(Regex::compile("a{2,1}", false, err));
  CHECK(err.starts_with("regex 'a{2,1}' is invalid (error="));
  auto re = Regex::compile("^(x)?(a+)", false, err);
  REQUIRE(re);
  std::vector<std::pair<std::size_t, std::size_t>> g;
  REQUIRE(re->search("aab", g));
  CHECK(g[1].first == std::string_view::npos);
  CHECK(g[2] == std::pair<std::size_t, std::size_t>{0, 2});
}
