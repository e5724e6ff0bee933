// Cookie persistence decisions and header edits (proxyd/persist.h), and the
// `cookie` / `server ... cookie` configuration.
#include "config_test_util.h"
#include "proxyd/http1.h"
#include "proxyd/persist.h"

#include <catch2/catch.hpp>
#include <string>

using namespace proxyd;
using namespace proxyd::persist;
using proxyd::test::has;
using proxyd::test::joined;
using proxyd::test::parse;

namespace {

constexpr int64_t kNow = 1'700'000'000;

CookieConfig cookie(const std::string& line) {
  auto o = parse("backend b\n  mode http\n  " + line + "\n");
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  return o.config.proxies[0].cookie;
}

HttpHead req(std::vector<std::pair<std::string, std::string>> hs) {
  HttpHead h;
  h.method = "GET";
  h.target = "/";
  h.version = "HTTP/1.1";
  h.headers = std::move(hs);
  return h;
}

HttpHead resp(int status, std::vector<std::pair<std::string, std::string>> hs = {}) {
  HttpHead h;
  h.status = status;
  h.version = "HTTP/1.1";
  h.headers = std::move(hs);
  return h;
}

const std::vector<ServerInfo> kServers = {{"a", true}, {"b", true}, {"", true}, {"d", false}};

std::vector<std::string> values(const HttpHead& h, const std::string& name) {
  std::vector<std::string> v;
  for (const auto& [n, val] : h.headers)
    if (http1::iequals(n, name)) v.push_back(val);
  return v;
}

ResponseContext served(size_t server, bool direct, const RequestResult& r = {}) {
  ResponseContext c;
  c.server = server;
  c.direct = direct;
  c.safeMethod = true;
  c.lastDate = r.lastDate;
  c.firstDate = r.firstDate;
  c.now = kNow;
  return c;
}

} // namespace

TEST_CASE("a valid cookie selects its server, insert+indirect hides it", "[persist]") {
  auto ck = cookie("cookie SRV insert indirect");
  auto h = req({{"Host", "x"}, {"Cookie", "SRV=b"}});
  auto r = processRequest(ck, false, kServers, h, kNow);
  CHECK(r.status == ClientCookie::Valid);
  CHECK(r.server == 1u);
  CHECK(h.get("cookie") == nullptr); // the whole header went

  h = req({{"Cookie", "x=1; SRV=a; y=2"}, {"Cookie", "z=3, SRV=a"}});
  r = processRequest(ck, false, kServers, h, kNow);
  CHECK(r.server == 0u);
  CHECK(values(h, "Cookie") == std::vector<std::string>{"x=1; y=2", "z=3"});

  // Without indirect the cookie reaches the server.
  auto plain = cookie("cookie SRV insert");
  h = req({{"Cookie", "SRV=a"}});
  r = processRequest(plain, false, kServers, h, kNow);
  CHECK(r.server == 0u);
  CHECK(values(h, "Cookie") == std::vector<std::string>{"SRV=a"});
}

TEST_CASE("request cookie statuses: none, invalid, down, persist", "[persist]") {
  auto ck = cookie("cookie SRV insert indirect");
  auto h = req({{"Cookie", "other=1"}});
  auto r = processRequest(ck, false, kServers, h, kNow);
  CHECK(r.status == ClientCookie::None);
  CHECK_FALSE(r.server);
  CHECK(values(h, "Cookie") == std::vector<std::string>{"other=1"}); // untouched

  h = req({{"Cookie", "SRV=zz"}});
  CHECK(processRequest(ck, false, kServers, h, kNow).status == ClientCookie::Invalid);
  h = req({{"Cookie", "SRV="}}); // an empty value never matches a cookie-less server
  r = processRequest(ck, false, kServers, h, kNow);
  CHECK(r.status == ClientCookie::Invalid);
  CHECK_FALSE(r.server);

  // "d" is down: balanced elsewhere, unless option persist.
  h = req({{"Cookie", "SRV=d"}});
  r = processRequest(ck, false, kServers, h, kNow);
  CHECK(r.status == ClientCookie::Down);
  CHECK_FALSE(r.server);
  h = req({{"Cookie", "SRV=d"}});
  r = processRequest(ck, true, kServers, h, kNow);
  CHECK(r.status == ClientCookie::Down);
  CHECK(r.server == 3u);

  // Two servers sharing a cookie: the first running one.
  std::vector<ServerInfo> shared = {{"s", false}, {"s", true}};
  h = req({{"Cookie", "SRV=s"}});
  r = processRequest(ck, false, shared, h, kNow);
  CHECK(r.status == ClientCookie::Valid);
  CHECK(r.server == 1u);
}

TEST_CASE("insert: Set-Cookie for a new client, nothing for a direct one", "[persist]") {
  auto ck = cookie("cookie SRV insert indirect nocache httponly secure domain .ex.com attr "
                   "SameSite=Lax");
  auto h = resp(200, {{"ETag", "\"1\""}});
  CHECK(processResponse(ck, kServers, served(1, false), h) == ServerCookie::Inserted);
  CHECK(values(h, "Set-Cookie") ==
        std::vector<std::string>{"SRV=b; path=/; domain=.ex.com; HttpOnly; Secure; SameSite=Lax"});
  CHECK(values(h, "Cache-control") == std::vector<std::string>{"private"});

  h = resp(200, {{"ETag", "\"1\""}});
  CHECK(processResponse(ck, kServers, served(1, true), h) == ServerCookie::None);
  CHECK(h.headers.size() == 1);

  // A server without a cookie value makes the client forget its cookie.
  h = resp(200);
  processResponse(ck, kServers, served(2, false), h);
  CHECK(values(h, "Set-Cookie")[0].starts_with("SRV=; Expires=Thu, 01-Jan-1970 00:00:01 GMT; "
                                               "path=/"));
}

TEST_CASE("nocache only marks responses a cache could keep", "[persist]") {
  auto ck = cookie("cookie SRV insert nocache");
  auto privateAdded = [&](HttpHead h, bool safe = true) {
    auto c = served(0, false);
    c.safeMethod = safe;
    size_t before = values(h, "Cache-control").size();
    processResponse(ck, kServers, c, h);
    auto after = values(h, "Cache-control");
    return after.size() == before + 1 && after.back() == "private";
  };
  CHECK(privateAdded(resp(200, {{"ETag", "x"}})));
  CHECK(privateAdded(resp(404, {{"Last-Modified", "x"}})));
  CHECK(privateAdded(resp(200, {{"Expires", "x"}})));
  CHECK(privateAdded(resp(200, {{"Cache-Control", "max-age=60"}})));
  CHECK(privateAdded(resp(200, {{"Cache-Control", "public"}, {"ETag", "x"}})));
  CHECK_FALSE(privateAdded(resp(200)));                                // no freshness, no validator
  CHECK_FALSE(privateAdded(resp(200, {{"Cache-Control", "public"}}))); // idem
  CHECK_FALSE(privateAdded(resp(302, {{"ETag", "x"}})));               // status not cacheable
  CHECK_FALSE(privateAdded(resp(500, {{"ETag", "x"}})));
  CHECK_FALSE(privateAdded(resp(200, {{"ETag", "x"}}), false)); // POST
  CHECK_FALSE(privateAdded(resp(200, {{"Cache-Control", "no-cache"}, {"ETag", "x"}})));
  CHECK_FALSE(privateAdded(resp(200, {{"Cache-Control", "max-age=0"}})));
  CHECK_FALSE(privateAdded(resp(200, {{"Pragma", "no-cache"}, {"ETag", "x"}})));
}

TEST_CASE("postonly inserts only on POST, preserve keeps the server's cookie", "[persist]") {
  auto ck = cookie("cookie SRV insert postonly");
  auto h = resp(200);
  CHECK(processResponse(ck, kServers, served(0, false), h) == ServerCookie::None);
  auto c = served(0, false);
  c.post = true;
  CHECK(processResponse(ck, kServers, c, h) == ServerCookie::Inserted);

  auto keep = cookie("cookie SRV insert preserve");
  h = resp(200, {{"Set-Cookie", "SRV=mine; Max-Age=0"}});
  CHECK(processResponse(keep, kServers, served(0, false), h) == ServerCookie::Passive);
  CHECK(values(h, "Set-Cookie") == std::vector<std::string>{"SRV=mine; Max-Age=0"});

  // Without preserve, insert mode replaces the server's own cookie.
  auto ins = cookie("cookie SRV insert");
  h = resp(200, {{"Set-Cookie", "SRV=mine"}, {"Set-Cookie", "other=1"}});
  CHECK(processResponse(ins, kServers, served(0, false), h) == ServerCookie::Inserted);
  CHECK(values(h, "Set-Cookie") == std::vector<std::string>{"other=1", "SRV=a; path=/"});
  h = resp(200, {{"Set-Cookie", "SRV=mine"}});
  CHECK(processResponse(ins, kServers, served(0, true), h) == ServerCookie::Deleted);
  CHECK(values(h, "Set-Cookie").empty());
}

TEST_CASE("rewrite and prefix edit the server's cookie both ways", "[persist]") {
  auto rw = cookie("cookie JSESSIONID rewrite");
  auto h = resp(200, {{"Set-Cookie", "JSESSIONID=abc; Path=/"}});
  CHECK(processResponse(rw, kServers, served(1, false), h) == ServerCookie::Replaced);
  CHECK(values(h, "Set-Cookie") == std::vector<std::string>{"JSESSIONID=b; Path=/"});
  auto rq = req({{"Cookie", "JSESSIONID=b"}});
  CHECK(processRequest(rw, false, kServers, rq, kNow).server == 1u);
  CHECK(values(rq, "Cookie") == std::vector<std::string>{"JSESSIONID=b"});

  auto px = cookie("cookie JSESSIONID prefix");
  h = resp(200, {{"Set-Cookie", "JSESSIONID=abc; Path=/"}});
  CHECK(processResponse(px, kServers, served(0, false), h) == ServerCookie::Replaced);
  CHECK(values(h, "Set-Cookie") == std::vector<std::string>{"JSESSIONID=a~abc; Path=/"});
  rq = req({{"Cookie", "x=1; JSESSIONID=a~abc; y=2"}});
  auto r = processRequest(px, false, kServers, rq, kNow);
  CHECK(r.server == 0u);
  CHECK(r.status == ClientCookie::Valid);
  CHECK(values(rq, "Cookie") == std::vector<std::string>{"x=1; JSESSIONID=abc; y=2"});
  // A prefixed cookie of an unknown server is still unprefixed.
  rq = req({{"Cookie", "JSESSIONID=q~abc"}});
  CHECK(processRequest(px, false, kServers, rq, kNow).status == ClientCookie::Invalid);
  CHECK(values(rq, "Cookie") == std::vector<std::string>{"JSESSIONID=abc"});

  // indirect: a direct client's copy of the server's cookie is removed.
  auto ind = cookie("cookie JSESSIONID rewrite indirect");
  h = resp(200, {{"Set-Cookie", "JSESSIONID=abc"}});
  CHECK(processResponse(ind, kServers, served(0, true), h) == ServerCookie::Deleted);
  h = resp(200, {{"Set-Cookie", "JSESSIONID=abc"}});
  CHECK(processResponse(ind, kServers, served(0, false), h) == ServerCookie::Replaced);
}

TEST_CASE("cookie dates: encoded as HAProxy, refreshed, expired", "[persist]") {
  CHECK(encodeDate(0) == "AAAAA");
  CHECK(encodeDate(1) == "AAAAB");
  CHECK(encodeDate(64) == "AAABA");
  CHECK(decodeDate("AAABA") == 64u);
  CHECK(decodeDate(encodeDate(425'000'000)) == 425'000'000u);
  CHECK_FALSE(decodeDate("AA*AA"));
  CHECK_FALSE(decodeDate("AAA"));

  auto ck = cookie("cookie SRV insert indirect maxidle 30m maxlife 8h");
  auto h = resp(200);
  processResponse(ck, kServers, served(0, false), h);
  std::string stamp = encodeDate(static_cast<uint32_t>((kNow + 3) >> 2));
  CHECK(values(h, "Set-Cookie") ==
        std::vector<std::string>{"SRV=a|" + stamp + "|" + stamp + "; path=/"});

  // Fresh cookie: used, and re-sent (Updated) once its last date is past.
  std::string last = encodeDate(static_cast<uint32_t>((kNow - 60) >> 2));
  std::string first = encodeDate(static_cast<uint32_t>((kNow - 3600) >> 2));
  auto rq = req({{"Cookie", "SRV=a|" + last + "|" + first}});
  auto r = processRequest(ck, false, kServers, rq, kNow);
  CHECK(r.status == ClientCookie::Valid);
  CHECK(r.server == 0u);
  CHECK(r.firstDate == ((kNow - 3600) >> 2) << 2);
  h = resp(200);
  CHECK(processResponse(ck, kServers, served(0, true, r), h) == ServerCookie::Updated);
  CHECK(values(h, "Set-Cookie") ==
        std::vector<std::string>{"SRV=a|" + stamp + "|" + first + "; path=/"});

  // Idle too long: Expired, balanced as if absent, still removed.
  std::string idle = encodeDate(static_cast<uint32_t>((kNow - 3600) >> 2));
  rq = req({{"Cookie", "SRV=a|" + idle + "|" + first}});
  r = processRequest(ck, false, kServers, rq, kNow);
  CHECK(r.status == ClientCookie::Expired);
  CHECK_FALSE(r.server);
  CHECK(rq.get("cookie") == nullptr);
  // Too old: Old.
  std::string ancient = encodeDate(static_cast<uint32_t>((kNow - 9 * 3600) >> 2));
  rq = req({{"Cookie", "SRV=a|" + last + "|" + ancient}});
  CHECK(processRequest(ck, false, kServers, rq, kNow).status == ClientCookie::Old);
  // A day in the future: ignored too.
  std::string future = encodeDate(static_cast<uint32_t>((kNow + 2 * 86400) >> 2));
  rq = req({{"Cookie", "SRV=a|" + future}});
  CHECK(processRequest(ck, false, kServers, rq, kNow).status == ClientCookie::Expired);
}

TEST_CASE("interim responses are left alone", "[persist]") {
  auto ck = cookie("cookie SRV insert");
  auto h = resp(100);
  CHECK(processResponse(ck, kServers, served(0, false), h) == ServerCookie::None);
  CHECK(h.headers.empty());
}

TEST_CASE("cookie configuration as HAProxy 2.6 parses it", "[persist][config]") {
  auto o = parse("defaults\n  mode http\n  cookie SRV insert indirect nocache\n"
                 "backend b\n  default-server cookie dflt\n"
                 "  server s1 127.0.0.1:80 cookie one\n  server s2 127.0.0.1:81\n"
                 "  option persist\n");
  INFO(joined(o.errors));
  REQUIRE(o.ok());
  const ProxyConfig& b = o.config.proxies[0];
  CHECK(b.cookie.name == "SRV");
  CHECK(b.cookie.mode == CookieConfig::Mode::Insert);
  CHECK(b.cookie.indirect);
  CHECK(b.cookie.nocache);
  CHECK(b.persist);
  CHECK(b.servers[0].opt.cookie == "one");
  CHECK(b.servers[1].opt.cookie == "dflt");

  auto bad = parse("backend b1\n  cookie SRV insert rewrite\n"
                   "backend b2\n  cookie SRV preserve\n"
                   "backend b3\n  cookie\n"
                   "backend b4\n  cookie SRV bogus\n"
                   "backend b5\n  cookie SRV insert dynamic\n"
                   "backend b6\n  cookie SRV insert maxidle soon\n"
                   "backend b7\n  balance url_param p check_post\n"
                   "backend b8\n  balance uri len 0\n"
                   "backend b9\n  balance hdr()\n"
                   "backend b10\n  hash-type consistent none\n");
  CHECK(has(bad.errors, "t.cfg:2: cookie 'rewrite', 'insert' and 'prefix' modes are "
                        "incompatible."));
  CHECK(has(bad.errors, "t.cfg:4: cookie 'preserve' requires at least 'insert' or 'indirect'."));
  CHECK(has(bad.errors, "t.cfg:6: 'cookie' expects <cookie_name> as argument."));
  CHECK(has(bad.errors, "t.cfg:8:14: 'cookie' supports 'rewrite', 'insert', 'prefix'"));
  CHECK(has(bad.errors, "'cookie' option 'dynamic' is not supported"));
  CHECK(has(bad.errors, "t.cfg:12:29: 'cookie maxidle': "));
  CHECK(has(bad.errors, "'check_post' is not supported"));
  CHECK(has(bad.errors, "balance uri : 'len' expects a positive integer (got '0')."));
  CHECK(has(bad.errors, "balance hdr requires an http header field name."));
  CHECK(has(bad.errors, "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash "
                        "functions."));
  CHECK(bad.errors.size() == 10);
}

TEST_CASE("layer-7 persistence and hashing in tcp mode: HAProxy's warnings", "[persist][config]") {
  auto o = parse("backend b\n  mode tcp\n  balance uri\n  cookie SRV insert\n"
                 "  server s1 127.0.0.1:80 cookie a\n");
  INFO(joined(o.warnings));
  REQUIRE(o.ok());
  CHECK(has(o.warnings, "cookie will be ignored for backend 'b' (needs 'mode http')."));
  CHECK(has(o.warnings, "Layer 7 hash not possible for backend 'b' (needs 'mode http'). "
                        "Falling back to round robin."));
  CHECK(has(o.warnings, "backend 'b' : ignoring cookie for server 's1' as HTTP mode is "
                        "disabled."));
  const ProxyConfig& b = o.config.proxies[0];
  CHECK(b.balance == BalanceAlgo::RoundRobin);
  CHECK(b.cookie.name.empty());
  CHECK(b.servers[0].opt.cookie.empty());
}

TEST_CASE("spaces around '=' are removed, as HAProxy does", "[persist]") {
  auto ck = cookie("cookie SRV insert indirect");
  auto h = req({{"Cookie", "x = 1; SRV = a"}});
  CHECK(processRequest(ck, false, kServers, h, kNow).server == 0u);
  CHECK(values(h, "Cookie") == std::vector<std::string>{"x=1"});
  h = req({{"Cookie", "x = 1;y=2"}}); // nothing else changes: edited in place
  processRequest(ck, false, kServers, h, kNow);
  CHECK(values(h, "Cookie") == std::vector<std::string>{"x=1;y=2"});
  auto rw = cookie("cookie SRV rewrite");
  auto r = resp(200, {{"Set-Cookie", "SRV = abc ; Path=/"}, {"Set-Cookie", "o = 1; Path = /"}});
  processResponse(rw, kServers, served(0, false), r);
  CHECK(values(r, "Set-Cookie") == std::vector<std::string>{"SRV=a ; Path=/", "o=1; Path = /"});
}

TEST_CASE("the log shows cookie flags for a mode or indirect only", "[persist]") {
  CHECK(showsInLog(cookie("cookie SRV insert")));
  CHECK(showsInLog(cookie("cookie SRV indirect")));
  CHECK(showsInLog(cookie("cookie SRV prefix")));
  CHECK_FALSE(showsInLog(cookie("cookie SRV")));
  CHECK_FALSE(showsInLog(CookieConfig{}));
}
