// Layer-7 hashing: HAProxy's hash functions, the element each algorithm
// hashes, and the round robin fallback when it is absent.
#include "acl_test_util.h"
#include "config_test_util.h"
#include "proxyd/balancer.h"
#include "proxyd/http_rules.h"

#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

using namespace proxyd;
using proxyd::test::parse;

namespace {

HttpHead request(std::string target, std::vector<std::pair<std::string, std::string>> hs = {}) {
  HttpHead h;
  h.method = "GET";
  h.target = std::move(target);
  h.version = "HTTP/1.1";
  h.headers = std::move(hs);
  return h;
}

std::optional<std::string> element(const std::string& balanceLine, const HttpHead& h) {
  auto o = parse("backend b\n  mode http\n  " + balanceLine + "\n");
  REQUIRE(o.ok());
  const ProxyConfig& be = o.config.proxies[0];
  auto e = hashedElement(be.balanceArgs, be.balance, h.target, h);
  if (!e) return std::nullopt;
  return std::string(*e);
}

std::vector<LbServer> three() {
  return {LbServer{1, false, true}, LbServer{1, false, true}, LbServer{1, false, true}};
}

} // namespace

TEST_CASE("hash functions give the published values", "[balancer][hash]") {
  // sdbm: h = c + (h << 6) + (h << 16) - h, i.e. h * 65599 + c.
  CHECK(hashBytes(HashFn::Sdbm, "") == 0);
  CHECK(hashBytes(HashFn::Sdbm, "a") == 97);
  CHECK(hashBytes(HashFn::Sdbm, "ab") == 97u * 65599u + 98u);
  // djb2: 5381 * 33 + c.
  CHECK(hashBytes(HashFn::Djb2, "") == 5381);
  CHECK(hashBytes(HashFn::Djb2, "a") == 5381u * 33u + 97u);
  // crc32 (IEEE, reflected): the standard check value.
  CHECK(hashBytes(HashFn::Crc32, "123456789") == 0xCBF43926u);
  // bytes above 127 count as unsigned (HAProxy reads unsigned chars).
  CHECK(hashBytes(HashFn::Sdbm, "\xff") == 255);
  // wt6 and avalanche are checked against HAProxy itself in
  // tests/integration/test_http_persist.py; here: they mix.
  CHECK(hashBytes(HashFn::Wt6, "a") != hashBytes(HashFn::Wt6, "b"));
  CHECK(fullHash(1) != fullHash(2));
  CHECK(fullHash(0) == fullHash(0));
}

TEST_CASE("every hash function spreads keys evenly, rotations by 0 included", "[balancer][hash]") {
  // Thousands of keys: wt6 meets rotation counts of 0 (a shift by 32 in
  // HAProxy's C, undefined behaviour the sanitizer build reports).
  for (HashFn fn : {HashFn::Sdbm, HashFn::Djb2, HashFn::Wt6, HashFn::Crc32}) {
    int buckets[3] = {0, 0, 0};
    for (int i = 0; i < 3000; ++i) {
      std::string key = "/" + std::to_string(i * 7919) + "/item";
      ++buckets[hashBytes(fn, key) % 3];
      CHECK(hashBytes(fn, key) == hashBytes(fn, key));
    }
    INFO("function " << static_cast<int>(fn));
    for (int b : buckets)
      CHECK(b > 750); // each of three gets over a quarter
  }
}

TEST_CASE("balance uri hashes the path, cut as configured", "[balancer][hash]") {
  CHECK(element("balance uri", request("/a/b/c?x=1")) == "/a/b/c");
  CHECK(element("balance uri whole", request("/a/b/c?x=1")) == "/a/b/c?x=1");
  CHECK(element("balance uri depth 2", request("/a/b/c?x=1")) == "/a/b");
  CHECK(element("balance uri depth 1", request("/a?x=/y")) == "/a");
  CHECK(element("balance uri len 3", request("/abcdef")) == "/ab");
  CHECK(element("balance uri len 5 whole", request("/a?bcdef")) == "/a?bc");
  // path-only drops the scheme and authority of an absolute URI.
  CHECK(element("balance uri", request("http://h.example/p?q")) == "http://h.example/p");
  CHECK(element("balance uri path-only", request("http://h.example/p?q")) == "/p");
  CHECK(element("balance uri path-only", request("http://h.example")) == "");
}

TEST_CASE("balance url_param takes the first NAME= parameter", "[balancer][hash]") {
  CHECK(element("balance url_param u", request("/x?a=1&u=joe&u=ann")) == "joe");
  CHECK(element("balance url_param u", request("/x?u=")) == "");
  CHECK(element("balance url_param u", request("/x?uu=1&u=2#f")) == "2#f");
  CHECK_FALSE(element("balance url_param u", request("/x?user=1")));
  CHECK_FALSE(element("balance url_param u", request("/x?a=u=1")));
  CHECK_FALSE(element("balance url_param u", request("/u=1")));
  CHECK_FALSE(element("balance url_param u", request("/x?u")));
}

TEST_CASE("balance hdr takes the header's first value", "[balancer][hash]") {
  CHECK(element("balance hdr(X-T)", request("/", {{"x-t", " a , b"}})) == "a");
  CHECK_FALSE(element("balance hdr(X-T)", request("/", {{"x-t", ""}})));
  CHECK_FALSE(element("balance hdr(X-T)", request("/")));
  auto host = [](const char* v) { return request("/", {{"Host", v}}); };
  CHECK(element("balance hdr(host) use_domain_only", host("www.example.com")) == "example");
  CHECK(element("balance hdr(host) use_domain_only", host("example.com")) == "example");
  CHECK(element("balance hdr(host) use_domain_only", host("a.b.c.example.org:8080")) == "example");
  CHECK(element("balance hdr(host) use_domain_only", host("localhost")) == "localhost");
  // HAProxy's quirks, checked against haproxy 2.6 (with a non-Host header:
  // HAProxy rewrites some Host values first).
  CHECK(element("balance hdr(host) use_domain_only", host(".org")) == ".org");
  CHECK(element("balance hdr(host) use_domain_only", host("..org")) == ".");
  CHECK(element("balance hdr(host) use_domain_only", host("a..org")) == "a.");
  CHECK(element("balance hdr(host) use_domain_only", host("example.org.")) == "org");
  CHECK(element("balance hdr(host) use_domain_only", host("..")) == ".");
}

// The parser gives an absolute-form request without Host the Host of its
// authority: the server serves that vhost, and the hash follows it.
TEST_CASE("balance hdr(host) hashes the target's authority when Host is missing",
          "[balancer][hash][authority]") {
  const proxyd::test::Parsed abs("GET http://u@internal.example:80/x HTTP/1.1\r\n\r\n");
  CHECK(element("balance hdr(host)", fromMessage(abs.msg())) == "internal.example");
  const proxyd::test::Parsed origin("GET /x HTTP/1.1\r\nHost: internal.example\r\n\r\n");
  CHECK(element("balance hdr(host)", fromMessage(origin.msg())) == "internal.example");
}

TEST_CASE("requestKey: the backend's function, none when absent", "[balancer][hash]") {
  auto o = parse("backend m\n  mode http\n  balance url_param u\n"
                 "backend c\n  mode http\n  balance url_param u\n  hash-type consistent djb2\n"
                 "backend a\n  mode http\n  balance url_param u\n  hash-type map-based sdbm "
                 "avalanche\n");
  REQUIRE(o.ok());
  common::IpAddr ip{};
  HttpHead h = request("/?u=joe");
  CHECK(requestKey(o.config.proxies[0], h, ip).hash == hashBytes(HashFn::Sdbm, "joe"));
  CHECK(requestKey(o.config.proxies[1], h, ip).hash ==
        (uint64_t{hashBytes(HashFn::Djb2, "joe")} << 32));
  CHECK(requestKey(o.config.proxies[2], h, ip).hash == fullHash(hashBytes(HashFn::Sdbm, "joe")));
  CHECK(requestKey(o.config.proxies[0], request("/"), ip).absent);
  CHECK_FALSE(requestKey(o.config.proxies[0], h, ip).absent);
}

TEST_CASE("a hashing balancer without a key round-robins", "[balancer][hash]") {
  for (HashType ht : {HashType::MapBased, HashType::Consistent}) {
    auto b = makeBalancer(BalanceAlgo::Uri, ht, false, three());
    PickInput none;
    none.noHash = true;
    std::map<size_t, int> seen;
    for (int i = 0; i < 300; ++i)
      ++seen[*b->pick(none)];
    INFO(static_cast<int>(ht));
    REQUIRE(seen.size() == 3);
    if (ht == HashType::MapBased) {
      for (auto [s, n] : seen)
        CHECK(n == 100);
    } else {
      for (auto [s, n] : seen)
        CHECK(n > 50); // ring points of equal weights, walked in turn
    }
    // A key still goes to one server, every time.
    PickInput key;
    key.hash = uint64_t{hashBytes(HashFn::Sdbm, "/x")} << (ht == HashType::Consistent ? 32 : 0);
    std::set<size_t> one;
    for (int i = 0; i < 10; ++i)
      one.insert(*b->pick(key));
    CHECK(one.size() == 1);
  }
}

TEST_CASE("map-based uri hashing is HAProxy's map[hash % total]", "[balancer][hash]") {
  auto b = makeBalancer(BalanceAlgo::Uri, HashType::MapBased, false, three());
  for (const char* u : {"/a", "/b", "/index.html", "/img/logo.png"}) {
    PickInput in;
    in.hash = hashBytes(HashFn::Sdbm, u);
    CHECK(*b->pick(in) == in.hash % 3);
  }
}
