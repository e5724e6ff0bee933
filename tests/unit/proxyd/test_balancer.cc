#include "proxyd/balancer.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace proxyd;

namespace {

std::vector<LbServer> weights(std::initializer_list<int> ws) {
  std::vector<LbServer> v;
  for (int w : ws)
    v.push_back(LbServer{w, false, true});
  return v;
}

BalancerPtr make(BalanceAlgo algo, std::vector<LbServer> s, bool allbackups = false,
                 HashType ht = HashType::MapBased, uint64_t seed = 0) {
  return makeBalancer(algo, ht, allbackups, std::move(s), seed);
}

// n picks as 1-based server numbers ("web1" = 1); 0 for "none".
std::vector<int> picks(Balancer& b, int n, const PickInput& in = {}) {
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    auto p = b.pick(in);
    out.push_back(p ? static_cast<int>(*p) + 1 : 0);
  }
  return out;
}

std::map<int, int> histogram(const std::vector<int>& v) {
  std::map<int, int> h;
  for (int x : v)
    ++h[x];
  return h;
}

void setUsable(Balancer& b, size_t i, bool usable) {
  LbServer s = b.server(i);
  s.usable = usable;
  b.setServer(i, s);
}

void setWeight(Balancer& b, size_t i, int w) {
  LbServer s = b.server(i);
  s.weight = w;
  b.setServer(i, s);
}

common::IpAddr v4(uint32_t hostOrder) {
  common::IpAddr a;
  a.family = AF_INET;
  a.v4.s_addr = htonl(hostOrder);
  return a;
}

PickInput hashed(uint64_t h) {
  PickInput in;
  in.hash = h;
  return in;
}

} // namespace

// ---------------------------------------------------------------- roundrobin

TEST_CASE("roundrobin 2,2,1 interleaves as HAProxy: web1 web2 web1 web2 web3", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({2, 2, 1}));
  auto p = picks(*b, 50);
  for (int cycle = 0; cycle < 10; ++cycle) {
    INFO("cycle " << cycle);
    std::vector<int> got(p.begin() + cycle * 5, p.begin() + cycle * 5 + 5);
    CHECK(got == std::vector<int>{1, 2, 1, 2, 3});
  }
  auto h = histogram(p);
  CHECK(h[1] == 20);
  CHECK(h[2] == 20);
  CHECK(h[3] == 10);
}

TEST_CASE("roundrobin keeps exact proportions across window switches", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({3, 1, 2}));
  auto h = histogram(picks(*b, 600));
  CHECK(h[1] == 300);
  CHECK(h[2] == 100);
  CHECK(h[3] == 200);
}

TEST_CASE("roundrobin with equal weights is plain rotation", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({1, 1, 1}));
  CHECK(picks(*b, 7) == std::vector<int>{1, 2, 3, 1, 2, 3, 1});
}

TEST_CASE("roundrobin never picks weight 0", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({1, 0, 1}));
  auto h = histogram(picks(*b, 100));
  CHECK(h.count(2) == 0);
  CHECK(h[1] == 50);
  CHECK(h[3] == 50);
}

TEST_CASE("roundrobin honours skip and still rotates among the rest", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({1, 1, 1}));
  PickInput in;
  in.skip = [](size_t i) { return i == 1; };
  auto h = histogram(picks(*b, 40, in));
  CHECK(h.count(2) == 0);
  CHECK(h[1] == 20);
  CHECK(h[3] == 20);
  // Nothing left once everything is skipped.
  in.skip = [](size_t) { return true; };
  CHECK_FALSE(b->pick(in).has_value());
  // And the skipped server comes back when no longer skipped.
  auto after = histogram(picks(*b, 30));
  CHECK(after[1] == 10);
  CHECK(after[2] == 10);
  CHECK(after[3] == 10);
}

TEST_CASE("roundrobin: a down server leaves rotation at once and comes back", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({1, 1, 1}));
  picks(*b, 2);
  setUsable(*b, 2, false);
  auto h = histogram(picks(*b, 20));
  CHECK(h.count(3) == 0);
  CHECK(h[1] == 10);
  CHECK(h[2] == 10);
  setUsable(*b, 2, true);
  auto back = histogram(picks(*b, 300));
  CHECK(back[3] >= 95);
  CHECK(back[3] <= 105);
}

TEST_CASE("roundrobin applies a weight change at once", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({1, 1}));
  picks(*b, 3);
  setWeight(*b, 0, 3);
  auto h = histogram(picks(*b, 400));
  CHECK(h[1] >= 295);
  CHECK(h[1] <= 305);
  setWeight(*b, 0, 0); // weight 0: out of rotation
  auto h0 = histogram(picks(*b, 10));
  CHECK(h0.count(1) == 0);
  CHECK(h0[2] == 10);
  setWeight(*b, 0, 1);
  auto h1 = histogram(picks(*b, 200));
  CHECK(h1[1] >= 95);
  CHECK(h1[1] <= 105);
}

TEST_CASE("roundrobin with nothing usable picks nothing, then recovers", "[balancer]") {
  auto b = make(BalanceAlgo::RoundRobin, weights({1, 1}));
  setUsable(*b, 0, false);
  setUsable(*b, 1, false);
  CHECK_FALSE(b->pick({}).has_value());
  setUsable(*b, 1, true);
  CHECK(picks(*b, 3) == std::vector<int>{2, 2, 2});
}

TEST_CASE("a backend that starts with every server down fills in as they come up", "[balancer]") {
  std::vector<LbServer> s = weights({1, 1});
  for (auto& x : s)
    x.usable = false;
  auto b = make(BalanceAlgo::RoundRobin, s);
  CHECK_FALSE(b->pick({}).has_value());
  setUsable(*b, 0, true);
  setUsable(*b, 1, true);
  auto h = histogram(picks(*b, 100));
  CHECK(h[1] == 50);
  CHECK(h[2] == 50);
}

// ---------------------------------------------------------------- backups

TEST_CASE("backups serve only when no active server is usable", "[balancer]") {
  for (auto algo : {BalanceAlgo::RoundRobin, BalanceAlgo::StaticRr, BalanceAlgo::LeastConn,
                    BalanceAlgo::First, BalanceAlgo::Source, BalanceAlgo::Random}) {
    INFO("algo " << static_cast<int>(algo));
    std::vector<LbServer> s = {
        {1, false, true}, {1, false, true}, {1, true, true}, {1, true, true}};
    auto b = make(algo, s);
    for (int i = 0; i < 20; ++i) {
      auto p = b->pick(hashed(static_cast<uint64_t>(i) * 7919));
      REQUIRE(p);
      CHECK(*p < 2);
    }
    setUsable(*b, 0, false);
    setUsable(*b, 1, false);
    // Without allbackups: the first usable backup only.
    for (int i = 0; i < 10; ++i)
      CHECK(b->pick(hashed(static_cast<uint64_t>(i))) == 2u);
    setUsable(*b, 2, false);
    for (int i = 0; i < 10; ++i)
      CHECK(b->pick(hashed(static_cast<uint64_t>(i))) == 3u);
    setUsable(*b, 2, true);
    CHECK(b->pick({}) == 2u);
    // An active server back: backups idle again.
    setUsable(*b, 1, true);
    for (int i = 0; i < 10; ++i)
      CHECK(b->pick(hashed(static_cast<uint64_t>(i))) == 1u);
  }
}

TEST_CASE("the first backup skipped means no server", "[balancer]") {
  std::vector<LbServer> s = {{1, false, false}, {1, true, true}, {1, true, true}};
  auto b = make(BalanceAlgo::RoundRobin, s);
  PickInput in;
  in.skip = [](size_t i) { return i == 1; };
  CHECK_FALSE(b->pick(in).has_value());
}

TEST_CASE("allbackups balances over every usable backup", "[balancer]") {
  std::vector<LbServer> s = {{1, false, false}, {2, true, true}, {1, true, true}, {0, true, true}};
  auto b = make(BalanceAlgo::RoundRobin, s, true);
  auto h = histogram(picks(*b, 60));
  CHECK(h[2] == 40);
  CHECK(h[3] == 20);
  CHECK(h.count(4) == 0);
  setUsable(*b, 0, true);
  CHECK(histogram(picks(*b, 10))[1] == 10);
}

// ---------------------------------------------------------------- static-rr

TEST_CASE("static-rr 2,2,1: HAProxy's map order and exact shares", "[balancer]") {
  auto b = make(BalanceAlgo::StaticRr, weights({2, 2, 1}));
  auto p = picks(*b, 50);
  CHECK(std::vector<int>(p.begin(), p.begin() + 10) ==
        std::vector<int>{1, 2, 1, 2, 3, 1, 2, 1, 2, 3});
  auto h = histogram(p);
  CHECK(h[1] == 20);
  CHECK(h[2] == 20);
  CHECK(h[3] == 10);
}

TEST_CASE("static-rr ignores non-zero weight changes, 0 takes a server out", "[balancer]") {
  auto b = make(BalanceAlgo::StaticRr, weights({1, 1}));
  setWeight(*b, 0, 5);
  CHECK(b->server(0).weight == 1);
  auto h = histogram(picks(*b, 20));
  CHECK(h[1] == 10);
  setWeight(*b, 0, 0);
  CHECK(b->server(0).weight == 0);
  CHECK(histogram(picks(*b, 10))[2] == 10);
  setWeight(*b, 0, 7); // back to its configured weight
  CHECK(b->server(0).weight == 1);
  CHECK(histogram(picks(*b, 20))[1] == 10);
}

TEST_CASE("static-rr skip and runtime state", "[balancer]") {
  auto b = make(BalanceAlgo::StaticRr, weights({1, 1, 1}));
  PickInput in;
  in.skip = [](size_t i) { return i == 0; };
  auto h = histogram(picks(*b, 20, in));
  CHECK(h.count(1) == 0);
  CHECK(h[2] == 10);
  CHECK(h[3] == 10);
  setUsable(*b, 1, false);
  CHECK(histogram(picks(*b, 10, in))[3] == 10);
  in.skip = [](size_t) { return true; };
  CHECK_FALSE(b->pick(in).has_value());
  setUsable(*b, 1, true);
  auto all = histogram(picks(*b, 30));
  CHECK(all[1] == 10);
  CHECK(all[2] == 10);
  CHECK(all[3] == 10);
}

// ---------------------------------------------------------------- leastconn

TEST_CASE("leastconn ties go round robin", "[balancer]") {
  auto b = make(BalanceAlgo::LeastConn, weights({1, 1, 1}));
  CHECK(picks(*b, 6) == std::vector<int>{1, 2, 3, 1, 2, 3});
}

TEST_CASE("leastconn picks the fewest connections relative to weight", "[balancer]") {
  auto b = make(BalanceAlgo::LeastConn, weights({2, 1}));
  // Pick and hold: conns track the picks.
  std::vector<int> seq;
  for (int i = 0; i < 6; ++i) {
    auto p = b->pick({});
    REQUIRE(p);
    b->connStarted(*p);
    seq.push_back(static_cast<int>(*p) + 1);
  }
  auto h = histogram(seq);
  CHECK(h[1] == 4); // 4/2 == 2/1
  CHECK(h[2] == 2);
  // Release two on server 1: it is now the least loaded.
  b->connEnded(0);
  b->connEnded(0);
  CHECK(b->pick({}) == 0u);
}

TEST_CASE("leastconn prefers an idle server", "[balancer]") {
  auto b = make(BalanceAlgo::LeastConn, weights({1, 1, 1}));
  b->connStarted(0);
  b->connStarted(1);
  for (int i = 0; i < 3; ++i)
    CHECK(b->pick({}) == 2u);
  b->connEnded(1);
  CHECK(b->pick({}) != 0u);
}

TEST_CASE("leastconn honours skip, weight 0 and down servers", "[balancer]") {
  auto b = make(BalanceAlgo::LeastConn, weights({1, 0, 1, 1}));
  PickInput in;
  in.skip = [](size_t i) { return i == 0; };
  auto h = histogram(picks(*b, 20, in));
  CHECK(h.count(1) == 0);
  CHECK(h.count(2) == 0);
  CHECK(h[3] == 10);
  CHECK(h[4] == 10);
  setUsable(*b, 2, false);
  CHECK(histogram(picks(*b, 5, in))[4] == 5);
}

// ---------------------------------------------------------------- first

TEST_CASE("first fills servers in declaration order", "[balancer]") {
  auto b = make(BalanceAlgo::First, weights({1, 1, 1}));
  CHECK(picks(*b, 3) == std::vector<int>{1, 1, 1});
  // The caller says server 1 is at maxconn, then server 2 too.
  std::set<size_t> full;
  PickInput in;
  in.skip = [&](size_t i) { return full.count(i) > 0; };
  full.insert(0);
  CHECK(b->pick(in) == 1u);
  full.insert(1);
  CHECK(b->pick(in) == 2u);
  full.insert(2);
  CHECK_FALSE(b->pick(in).has_value());
  full.erase(0);
  CHECK(b->pick(in) == 0u);
}

TEST_CASE("first skips down and weight-0 servers", "[balancer]") {
  auto b = make(BalanceAlgo::First, weights({0, 1, 1}));
  CHECK(b->pick({}) == 1u);
  setUsable(*b, 1, false);
  CHECK(b->pick({}) == 2u);
}

// ---------------------------------------------------------------- source

TEST_CASE("source is sticky: the same address always gets the same server", "[balancer]") {
  for (auto ht : {HashType::MapBased, HashType::Consistent}) {
    auto b = make(BalanceAlgo::Source, weights({1, 1, 1, 1}), false, ht);
    auto h = hashAddress(v4(0xC6120007)); // 198.18.0.7
    auto first = b->pick(hashed(h));
    REQUIRE(first);
    for (int i = 0; i < 1000; ++i)
      CHECK(b->pick(hashed(h)) == first);
  }
}

TEST_CASE("source spreads addresses by weight", "[balancer]") {
  for (auto ht : {HashType::MapBased, HashType::Consistent}) {
    INFO("consistent " << (ht == HashType::Consistent));
    auto b = make(BalanceAlgo::Source, weights({2, 1, 1}), false, ht);
    std::map<size_t, int> h;
    for (uint32_t k = 0; k < 10000; ++k)
      ++h[*b->pick(hashed(hashAddress(v4(0x0A000000 + k))))];
    CHECK(h[0] > 4300);
    CHECK(h[0] < 5700);
    CHECK(h[1] > 2000);
    CHECK(h[2] > 2000);
  }
}

TEST_CASE("consistent hashing moves only the leaving server's keys (about 1/N)", "[balancer]") {
  const int kKeys = 10000;
  auto b = make(BalanceAlgo::Source, weights({1, 1, 1, 1}), false, HashType::Consistent);
  std::vector<size_t> before(kKeys);
  for (int k = 0; k < kKeys; ++k)
    before[k] = *b->pick(hashed(hashAddress(v4(0xC6120000 + static_cast<uint32_t>(k)))));
  setUsable(*b, 2, false);
  int moved = 0;
  for (int k = 0; k < kKeys; ++k) {
    size_t now = *b->pick(hashed(hashAddress(v4(0xC6120000 + static_cast<uint32_t>(k)))));
    CHECK(now != 2u);
    if (now != before[k]) {
      ++moved;
      CHECK(before[k] == 2u); // keys of the other servers never move
    }
  }
  double fraction = static_cast<double>(moved) / kKeys;
  CHECK(fraction > 0.15);
  CHECK(fraction < 0.35);
  // The server returns: every key goes back where it was.
  setUsable(*b, 2, true);
  for (int k = 0; k < kKeys; ++k)
    CHECK(*b->pick(hashed(hashAddress(v4(0xC6120000 + static_cast<uint32_t>(k))))) == before[k]);
}

TEST_CASE("map-based hashing moves most keys when a server leaves", "[balancer]") {
  const int kKeys = 10000;
  auto b = make(BalanceAlgo::Source, weights({1, 1, 1, 1}), false, HashType::MapBased);
  std::vector<size_t> before(kKeys);
  for (int k = 0; k < kKeys; ++k)
    before[k] = *b->pick(hashed(hashAddress(v4(0xC6120000 + static_cast<uint32_t>(k)))));
  setUsable(*b, 3, false);
  int moved = 0;
  for (int k = 0; k < kKeys; ++k) {
    size_t now = *b->pick(hashed(hashAddress(v4(0xC6120000 + static_cast<uint32_t>(k)))));
    moved += now != before[k];
  }
  CHECK(static_cast<double>(moved) / kKeys > 0.6);
}

TEST_CASE("map-based source is hash modulo total weight over the weighted map", "[balancer]") {
  // Map for weights 2,2,1 is web1 web2 web1 web2 web3.
  auto b = make(BalanceAlgo::Source, weights({2, 2, 1}));
  std::vector<size_t> expect = {0, 1, 0, 1, 2};
  for (uint64_t h = 0; h < 20; ++h)
    CHECK(b->pick(hashed(h)) == expect[h % 5]);
}

TEST_CASE("source honours skip by moving on", "[balancer]") {
  for (auto ht : {HashType::MapBased, HashType::Consistent}) {
    auto b = make(BalanceAlgo::Source, weights({1, 1, 1}), false, ht);
    for (uint32_t k = 0; k < 200; ++k) {
      auto h = hashAddress(v4(0x0A000000 + k));
      size_t home = *b->pick(hashed(h));
      PickInput in = hashed(h);
      in.skip = [home](size_t i) { return i == home; };
      auto other = b->pick(in);
      REQUIRE(other);
      CHECK(*other != home);
      in.skip = [](size_t) { return true; };
      CHECK_FALSE(b->pick(in).has_value());
    }
  }
}

TEST_CASE("consistent hashing follows weight changes", "[balancer]") {
  auto b = make(BalanceAlgo::Source, weights({1, 1}), false, HashType::Consistent);
  setWeight(*b, 0, 3);
  std::map<size_t, int> h;
  for (uint32_t k = 0; k < 10000; ++k)
    ++h[*b->pick(hashed(hashAddress(v4(0x0A000000 + k))))];
  CHECK(h[0] > 6800);
  CHECK(h[0] < 8200);
}

TEST_CASE("hashAddress mixes every byte and maps IPv4-mapped IPv6 to IPv4", "[balancer]") {
  CHECK(hashAddress(v4(0x0A000001)) != hashAddress(v4(0x0A000002)));
  CHECK(hashAddress(v4(0x0A000001)) != hashAddress(v4(0x0B000001)));
  common::IpAddr mapped;
  mapped.family = AF_INET6;
  inet_pton(AF_INET6, "::ffff:10.0.0.1", &mapped.v6);
  CHECK(hashAddress(mapped) == hashAddress(v4(0x0A000001)));
  common::IpAddr a6, b6;
  a6.family = b6.family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::1", &a6.v6);
  inet_pton(AF_INET6, "2001:db8::2", &b6.v6);
  CHECK(hashAddress(a6) != hashAddress(b6));
  // Adjacent addresses differ in about half of the bits (avalanche).
  int bits = __builtin_popcountll(hashAddress(v4(0x0A000001)) ^ hashAddress(v4(0x0A000002)));
  CHECK(bits > 16);
  CHECK(bits < 48);
}

// ---------------------------------------------------------------- random

TEST_CASE("random draws roughly by weight and is reproducible with a seed", "[balancer]") {
  auto b = make(BalanceAlgo::Random, weights({2, 2, 1}), false, HashType::MapBased, 42);
  auto p = picks(*b, 5000);
  auto h = histogram(p);
  CHECK(h[1] > 1800);
  CHECK(h[1] < 2200);
  CHECK(h[2] > 1800);
  CHECK(h[2] < 2200);
  CHECK(h[3] > 850);
  CHECK(h[3] < 1150);
  auto again = make(BalanceAlgo::Random, weights({2, 2, 1}), false, HashType::MapBased, 42);
  CHECK(picks(*again, 5000) == p);
  auto other = make(BalanceAlgo::Random, weights({2, 2, 1}), false, HashType::MapBased, 43);
  CHECK(picks(*other, 5000) != p);
}

TEST_CASE("random never picks weight 0, skipped or down servers", "[balancer]") {
  auto b = make(BalanceAlgo::Random, weights({1, 0, 1, 1}), false, HashType::MapBased, 7);
  PickInput in;
  in.skip = [](size_t i) { return i == 3; };
  setUsable(*b, 0, false);
  CHECK(histogram(picks(*b, 100, in))[3] == 100);
  in.skip = [](size_t) { return true; };
  CHECK_FALSE(b->pick(in).has_value());
}

// ---------------------------------------------------------------- all algorithms

TEST_CASE("every algorithm: weight 0 never picked, down server out and back", "[balancer]") {
  for (auto algo : {BalanceAlgo::RoundRobin, BalanceAlgo::StaticRr, BalanceAlgo::LeastConn,
                    BalanceAlgo::Source, BalanceAlgo::Random}) {
    for (auto ht : {HashType::MapBased, HashType::Consistent}) {
      INFO("algo " << static_cast<int>(algo) << " consistent " << (ht == HashType::Consistent));
      auto b = make(algo, weights({1, 0, 1}), false, ht, 1);
      std::set<size_t> seen;
      for (uint64_t k = 0; k < 300; ++k)
        seen.insert(*b->pick(hashed(hashAddress(v4(k)))));
      CHECK(seen == std::set<size_t>{0, 2});
      setUsable(*b, 0, false);
      seen.clear();
      for (uint64_t k = 0; k < 300; ++k)
        seen.insert(*b->pick(hashed(hashAddress(v4(k)))));
      CHECK(seen == std::set<size_t>{2});
      setUsable(*b, 0, true);
      seen.clear();
      for (uint64_t k = 0; k < 300; ++k)
        seen.insert(*b->pick(hashed(hashAddress(v4(k)))));
      CHECK(seen == std::set<size_t>{0, 2});
    }
  }
}

TEST_CASE("an empty backend picks nothing", "[balancer]") {
  for (auto algo : {BalanceAlgo::RoundRobin, BalanceAlgo::StaticRr, BalanceAlgo::LeastConn,
                    BalanceAlgo::First, BalanceAlgo::Source, BalanceAlgo::Random}) {
    auto b = make(algo, {});
    CHECK(b->size() == 0);
    CHECK_FALSE(b->pick({}).has_value());
  }
}
