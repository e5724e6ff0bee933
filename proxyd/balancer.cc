// Server selection, modelled on HAProxy 2.6's lb_fwrr.c (roundrobin),
// lb_map.c (static-rr, map-based hashing), lb_fwlc.c (leastconn), lb_fas.c
// (first) and lb_chash.c (consistent hashing). The data structures are ours;
// the arithmetic that decides the order of picks follows HAProxy so that a
// backend balances the same way, pick for pick, where the text says so.
//
// Deliberate differences from HAProxy:
// - skip() is a hard exclusion. HAProxy's "server to avoid" (redispatch) is
//   still used as a last resort; our caller asks again without it instead.
// - static-rr and map-based source are static in HAProxy: `set weight` is
//   refused except 0% / 100%. Here a non-zero weight change is ignored (the
//   build-time weight stays), weight 0 takes the server out.
// - random: HAProxy 2.6 draws random keys on the consistent-hash ring and
//   keeps the less loaded of `random(2)` draws. We draw plainly by weight
//   from a seeded generator, so tests can fix the sequence.
// - source, consistent: the ring has 64 points per unit of weight (HAProxy
//   has 16) for a smoother spread; its keys are our own hash, so the ring
//   positions differ from HAProxy's. Stickiness and minimal movement hold.
//   Cost: 16 bytes per point, rebuilt on the first pick after a change
//   (100 servers of weight 256 would be 1.6M points; typical farms: a few k).
// - leastconn: a pick itself moves the server behind its equals (HAProxy
//   does so when the connection is counted), so ties rotate even if the
//   caller never reports connections.
// - source, map-based: a skipped server is replaced by the next map slot
//   (HAProxy would queue on it).
#include "proxyd/balancer.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <numeric>
#include <set>
#include <stdexcept>

namespace proxyd {
namespace {

// HAProxy's effective-weight scale (BE_WEIGHT_SCALE) and its derived ranges
// (SRV_UWGHT_RANGE, SRV_EWGHT_MAX): user weights 0..256 are multiplied by 16.
constexpr int64_t kWeightScale = 16;
constexpr int64_t kUweightRange = 256;
constexpr int64_t kEweightMax = 256 * kWeightScale;

// Consistent-hash ring points per unit of user weight.
constexpr int kRingPointsPerWeight = 64;

// murmur3's 64-bit finalizer (fmix64): full avalanche of a 64-bit word.
uint64_t mix64(uint64_t z) {
  z ^= z >> 33;
  z *= 0xff51afd7ed558ccdULL;
  z ^= z >> 33;
  z *= 0xc4ceb9fe1a85ec53ULL;
  z ^= z >> 33;
  return z;
}

bool candidate(const LbServer& s) {
  return s.usable && s.weight > 0;
}

// What every algorithm shares: the server set, connection counts and the
// choice of group (actives; else the first backup; else all backups).
class BalancerBase : public Balancer {
public:
  BalancerBase(std::vector<LbServer> servers, bool allbackups)
      : servers_(std::move(servers)), conns_(servers_.size(), 0), allbackups_(allbackups) {
    for (auto& s : servers_)
      s.weight = std::clamp(s.weight, 0, 256);
  }

  void setServer(size_t index, const LbServer& s) override {
    LbServer next = s;
    next.weight = std::clamp(next.weight, 0, 256);
    next = adjust(index, next);
    LbServer old = servers_.at(index);
    servers_[index] = next;
    changed(index, old);
  }
  const LbServer& server(size_t index) const override { return servers_.at(index); }
  size_t size() const override { return servers_.size(); }

  std::optional<size_t> pick(const PickInput& in) override {
    if (count(false) > 0) return pickFrom(false, in);
    if (!allbackups_) {
      // HAProxy's lbprm.fbck: the first usable backup, whatever the algorithm.
      for (size_t i = 0; i < servers_.size(); ++i) {
        if (!inGroup(i, true)) continue;
        if (skipped(in, i)) return std::nullopt;
        return i;
      }
      return std::nullopt;
    }
    if (count(true) > 0) return pickFrom(true, in);
    return std::nullopt;
  }

  void connStarted(size_t index) override {
    ++conns_.at(index);
    connChanged(index);
  }
  void connEnded(size_t index) override {
    if (conns_.at(index) > 0) --conns_[index];
    connChanged(index);
  }

protected:
  // Lets static algorithms refuse weight changes.
  virtual LbServer adjust(size_t, const LbServer& s) { return s; }
  virtual void changed(size_t index, const LbServer& old) = 0;
  virtual std::optional<size_t> pickFrom(bool backup, const PickInput& in) = 0;
  virtual void connChanged(size_t) {}

  static bool skipped(const PickInput& in, size_t i) { return in.skip && in.skip(i); }
  bool inGroup(size_t i, bool backup) const {
    return candidate(servers_[i]) && servers_[i].backup == backup;
  }
  size_t count(bool backup) const {
    size_t n = 0;
    for (size_t i = 0; i < servers_.size(); ++i)
      n += inGroup(i, backup);
    return n;
  }

  std::vector<LbServer> servers_;
  std::vector<int> conns_;
  bool allbackups_;
};

// ---------------------------------------------------------------------------
// roundrobin: HAProxy's "fast weighted round robin" (lb_fwrr.c).
//
// Each group (active, backup) walks positions; a server with effective weight
// w placed at position p next comes back at p + next_weight / w (the
// remainder carried in rweight). Three ordered trees per group: `curr` holds
// servers by next position; `init` holds servers to start in this window,
// heaviest first; `next` collects those past the window. When curr and init
// run dry the window ends and init/next swap. Weight changes reposition the
// server at once.
class FwrrBalancer final : public BalancerBase {
public:
  FwrrBalancer(std::vector<LbServer> servers, bool allbackups)
      : BalancerBase(std::move(servers), allbackups), st_(servers_.size()) {
    for (int b = 0; b < 2; ++b) {
      Group& g = groups_[b];
      int64_t total = 0;
      for (size_t i = 0; i < servers_.size(); ++i)
        if (inGroup(i, b)) total += eweight(servers_[i]);
      g.currPos = g.currWeight = g.nextWeight = total;
      for (size_t i = 0; i < servers_.size(); ++i)
        if (inGroup(i, b)) queueByWeight(g, g.init, i);
    }
  }

private:
  enum : int { kNone = -1, kCurr = 0 };
  struct Node {
    int64_t key;
    uint64_t seq; // equal keys keep insertion order, as ebtree duplicates do
    size_t idx;
    bool operator<(const Node& o) const { return key != o.key ? key < o.key : seq < o.seq; }
  };
  struct Group {
    std::set<Node> trees[3]; // [0] curr, [1] and [2] swap roles init/next
    int init = 1;
    int next = 2;
    int64_t currPos = 0;
    int64_t currWeight = 0;
    int64_t nextWeight = 0;
  };
  struct SrvState {
    int tree = kNone;    // the tree it was last queued in (lb_tree)
    bool queued = false; // actually present in that tree
    Node node{};
    int64_t npos = 0;
    int64_t lpos = 0;
    int64_t rweight = 0;
  };

  static int64_t eweight(const LbServer& s) { return s.weight * kWeightScale; }
  Group& groupOf(size_t i) { return groups_[servers_[i].backup ? 1 : 0]; }

  void insert(Group& g, int tree, size_t i, int64_t key) {
    SrvState& s = st_[i];
    s.node = Node{key, seq_++, i};
    g.trees[tree].insert(s.node);
    s.tree = tree;
    s.queued = true;
  }
  void dequeue(Group& g, size_t i) {
    SrvState& s = st_[i];
    if (s.queued && s.tree >= 0 && s.tree < 3) g.trees[s.tree].erase(s.node);
    s.queued = false;
  }
  // Heaviest first, so heavy servers start early in a window.
  void queueByWeight(Group& g, int tree, size_t i) {
    insert(g, tree, i, kEweightMax - eweight(servers_[i]));
  }

  // Places a server by its next position: into curr when it fits in this
  // window, else into next (position rebased on the next window).
  void queueSrv(Group& g, size_t i) {
    SrvState& s = st_[i];
    int64_t ew = eweight(servers_[i]);
    if (!candidate(servers_[i])) {
      s.tree = kNone;
      return;
    }
    if (ew <= 0 || s.npos >= 2 * g.currWeight || s.npos >= g.currWeight + g.nextWeight) {
      s.npos -= g.currWeight;
      queueByWeight(g, g.next, i);
    } else {
      insert(g, kCurr, i, kUweightRange * s.npos + (kEweightMax + s.rweight - ew) / kWeightScale);
    }
  }

  // Prepares a server taken out of its tree (fwrr_get_srv).
  void getSrv(Group& g, size_t i) {
    SrvState& s = st_[i];
    if (s.tree == g.init) {
      s.npos = s.rweight = 0;
    } else if (s.tree == g.next) {
      s.npos += g.currWeight;
    } else if (s.tree == kNone) {
      s.npos = g.currPos;
    }
  }

  void updatePosition(Group& g, size_t i) {
    SrvState& s = st_[i];
    int64_t ew = eweight(servers_[i]);
    if (ew == 0) return;
    if (s.npos == 0) s.npos = g.currPos; // first time in this window
    s.lpos = s.npos;
    s.npos += g.nextWeight / ew;
    s.rweight += g.nextWeight % ew;
    if (s.rweight >= ew) {
      s.rweight -= ew;
      ++s.npos;
    }
  }

  // The next server of the current tree, or one from init when curr is
  // empty or its head is not due yet ("a hole").
  std::optional<size_t> fromGroup(Group& g) {
    std::optional<size_t> s1;
    if (!g.trees[kCurr].empty()) {
      s1 = g.trees[kCurr].begin()->idx;
      if (eweight(servers_[*s1]) > 0 && st_[*s1].npos <= g.currPos) return s1;
    }
    if (!g.trees[g.init].empty()) {
      size_t s2 = g.trees[g.init].begin()->idx;
      if (eweight(servers_[s2]) > 0) {
        st_[s2].npos = st_[s2].rweight = 0;
        return s2;
      }
    }
    return s1;
  }

  std::optional<size_t> pickFrom(bool backup, const PickInput& in) override {
    Group& g = groups_[backup ? 1 : 0];
    bool switched = false;
    std::vector<size_t> passed; // skipped servers, requeued at the end
    std::optional<size_t> srv;
    while (true) {
      if (g.currWeight == 0) g.currPos = g.currWeight = g.nextWeight;
      srv = fromGroup(g);
      if (!srv) {
        if (switched) break;
        switched = true;
        std::swap(g.init, g.next); // a new window starts
        g.currWeight = g.nextWeight;
        g.currPos = g.currWeight;
        continue;
      }
      updatePosition(g, *srv);
      dequeue(g, *srv);
      ++g.currPos;
      if (!skipped(in, *srv)) break;
      passed.push_back(*srv);
      srv.reset();
    }
    if (srv) queueSrv(g, *srv);
    for (size_t i : passed) {
      // After a window switch their positions are meaningless: restart them.
      if (switched)
        queueByWeight(g, g.init, i);
      else
        queueSrv(g, i);
    }
    return srv;
  }

  void setDown(size_t i, const LbServer& old) {
    Group& g = groups_[old.backup ? 1 : 0];
    g.nextWeight -= eweight(old);
    dequeue(g, i);
    st_[i].tree = kNone;
  }
  void setUp(size_t i) {
    Group& g = groupOf(i);
    int64_t ew = eweight(servers_[i]);
    g.nextWeight += ew;
    getSrv(g, i);
    st_[i].npos = g.currPos + (g.nextWeight + g.currWeight - g.currPos) / ew;
    queueSrv(g, i);
  }

  void changed(size_t i, const LbServer& old) override {
    const LbServer& now = servers_[i];
    bool was = candidate(old);
    bool is = candidate(now);
    if (was && is && old.backup != now.backup) {
      setDown(i, old);
      setUp(i);
      return;
    }
    if (!was && !is) return;
    if (!was) return setUp(i);
    if (!is) return setDown(i, old);
    if (old.weight == now.weight) return;

    // Still usable with another weight: find it a new place at once.
    Group& g = groupOf(i);
    int64_t ew = eweight(now);
    g.nextWeight += ew - eweight(old);
    SrvState& s = st_[i];
    if (s.tree == g.init) {
      dequeue(g, i);
      queueByWeight(g, g.init, i);
      return;
    }
    if (s.tree == kNone) {
      dequeue(g, i);
      getSrv(g, i);
      s.npos = g.currPos + (g.nextWeight + g.currWeight - g.currPos) / ew;
      queueSrv(g, i);
      return;
    }
    getSrv(g, i);
    int64_t prevNext = s.npos;
    int64_t step = g.nextWeight / ew;
    s.npos = std::min(s.lpos + step, prevNext);
    s.rweight = 0;
    if (s.npos < g.currPos + 2) s.npos = g.currPos + step;
    dequeue(g, i);
    queueSrv(g, i);
  }

  Group groups_[2];
  std::vector<SrvState> st_;
  uint64_t seq_ = 0;
};

// ---------------------------------------------------------------------------
// static-rr and map-based hashing: HAProxy's server map (lb_map.c). The map
// holds each usable server of the group as many times as its weight (weights
// divided by their GCD at build time), spread smoothly: at each slot every
// server gains its weight in score and the highest (score+total)/total wins,
// the first declared on ties, then pays `total` back.
class MapBalancer final : public BalancerBase {
public:
  MapBalancer(std::vector<LbServer> servers, bool allbackups, bool hashed)
      : BalancerBase(std::move(servers), allbackups), hashed_(hashed),
        initialWeight_(servers_.size()) {
    int gcd = 0;
    for (size_t i = 0; i < servers_.size(); ++i) {
      initialWeight_[i] = servers_[i].weight;
      if (servers_[i].weight > 0) gcd = std::gcd(gcd, servers_[i].weight);
    }
    wmult_ = gcd > 0 ? gcd : 1;
  }

private:
  LbServer adjust(size_t i, const LbServer& s) override {
    LbServer r = s;
    if (r.weight != 0) r.weight = initialWeight_[i]; // static: only 0 or 100%
    return r;
  }
  void changed(size_t, const LbServer&) override { dirty_ = true; }

  int eweight(size_t i) const { return (servers_[i].weight + wmult_ - 1) / wmult_; }

  void recalc(bool backup) {
    map_.clear();
    std::vector<size_t> members;
    int total = 0;
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (!inGroup(i, backup)) continue;
      members.push_back(i);
      total += eweight(i);
    }
    std::vector<int> score(servers_.size(), 0);
    for (int o = 0; o < total; ++o) {
      if (total == 1) {
        map_.push_back(members.front());
        break;
      }
      std::optional<size_t> best;
      int max = 0;
      for (size_t i : members) {
        score[i] += eweight(i);
        int v = (score[i] + total) / total;
        if (!best || v > max) {
          max = v;
          best = i;
        }
      }
      map_.push_back(*best);
      score[*best] -= total;
    }
    dirty_ = false;
    mapBackup_ = backup;
  }

  std::optional<size_t> pickFrom(bool backup, const PickInput& in) override {
    if (dirty_ || mapBackup_ != backup) recalc(backup);
    size_t total = map_.size();
    if (total == 0) return std::nullopt;
    if (hashed_ && !in.noHash) {
      size_t start = static_cast<size_t>(in.hash % total);
      for (size_t k = 0; k < total; ++k) {
        size_t s = map_[(start + k) % total];
        if (!skipped(in, s)) return s;
      }
      return std::nullopt;
    }
    if (rrIdx_ >= total) rrIdx_ = 0;
    size_t idx = rrIdx_;
    do {
      size_t s = map_[idx++];
      if (!skipped(in, s)) {
        rrIdx_ = idx;
        return s;
      }
      if (idx == total) idx = 0;
    } while (idx != rrIdx_);
    return std::nullopt;
  }

  bool hashed_;
  std::vector<int> initialWeight_;
  int wmult_ = 1;
  std::vector<size_t> map_;
  bool dirty_ = true;
  bool mapBackup_ = false;
  size_t rrIdx_ = 0;
};

// ---------------------------------------------------------------------------
// leastconn (lb_fwlc.c): the lowest key wins, where key is 0 for an idle
// server and (conns + 1) * 4096 / (weight * 16) otherwise. Equal keys go to
// the server least recently repositioned (picked, or a connection started or
// ended), which is HAProxy's tree order and makes ties round robin.
class LeastConnBalancer final : public BalancerBase {
public:
  LeastConnBalancer(std::vector<LbServer> servers, bool allbackups)
      : BalancerBase(std::move(servers), allbackups), seq_(servers_.size()) {
    for (size_t i = 0; i < seq_.size(); ++i)
      seq_[i] = next_++;
  }

private:
  int64_t key(size_t i) const {
    int64_t n = conns_[i];
    return n ? (n + 1) * kEweightMax / (servers_[i].weight * kWeightScale) : 0;
  }
  void changed(size_t i, const LbServer& old) override {
    if (!candidate(old) || old.weight != servers_[i].weight) seq_[i] = next_++;
  }
  void connChanged(size_t i) override { seq_[i] = next_++; }

  std::optional<size_t> pickFrom(bool backup, const PickInput& in) override {
    std::optional<size_t> best;
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (!inGroup(i, backup) || skipped(in, i)) continue;
      if (!best || key(i) < key(*best) || (key(i) == key(*best) && seq_[i] < seq_[*best])) best = i;
    }
    if (best) seq_[*best] = next_++;
    return best;
  }

  std::vector<uint64_t> seq_;
  uint64_t next_ = 0;
};

// ---------------------------------------------------------------------------
// first (lb_fas.c): the first server in declaration order (HAProxy: lowest
// id) with a free slot; the caller's skip() says which are full.
class FirstBalancer final : public BalancerBase {
public:
  using BalancerBase::BalancerBase;

private:
  void changed(size_t, const LbServer&) override {}
  std::optional<size_t> pickFrom(bool backup, const PickInput& in) override {
    for (size_t i = 0; i < servers_.size(); ++i)
      if (inGroup(i, backup) && !skipped(in, i)) return i;
    return std::nullopt;
  }
};

// ---------------------------------------------------------------------------
// Consistent hashing (lb_chash.c): each server owns weight * 64 points on a
// 64-bit ring, at keys that depend only on (server position, point number),
// so a weight change or a server leaving moves only the keys of that server.
// A hash goes to the nearer of the two ring points around it, as HAProxy's
// chash_get_server_hash(); when that server is skipped, the walk continues
// clockwise to the next server that is not.
class ChashBalancer final : public BalancerBase {
public:
  using BalancerBase::BalancerBase;

private:
  struct Point {
    uint64_t key;
    size_t idx;
    bool operator<(const Point& o) const { return key != o.key ? key < o.key : idx < o.idx; }
  };

  void changed(size_t, const LbServer&) override { dirty_ = true; }

  void rebuild(bool backup) {
    ring_.clear();
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (!inGroup(i, backup)) continue;
      uint64_t points = static_cast<uint64_t>(servers_[i].weight) * kRingPointsPerWeight;
      for (uint64_t p = 0; p < points; ++p)
        ring_.push_back(Point{mix64(((static_cast<uint64_t>(i) + 1) << 32) | p), i});
    }
    std::sort(ring_.begin(), ring_.end());
    dirty_ = false;
    ringBackup_ = backup;
  }

  std::optional<size_t> pickFrom(bool backup, const PickInput& in) override {
    if (dirty_ || ringBackup_ != backup) rebuild(backup);
    if (ring_.empty()) return std::nullopt;
    if (in.noHash) {
      // HAProxy's chash_get_next_server: walk the ring point by point, so
      // servers come round in proportion to their weights.
      for (size_t k = 0; k < ring_.size(); ++k) {
        rrPos_ = (rrPos_ + 1) % ring_.size();
        size_t s = ring_[rrPos_].idx;
        if (!skipped(in, s)) return s;
      }
      return std::nullopt;
    }
    uint64_t h = in.hash;
    auto it = std::lower_bound(ring_.begin(), ring_.end(), Point{h, 0});
    size_t next = it == ring_.end() ? 0 : static_cast<size_t>(it - ring_.begin());
    size_t prev = next == 0 ? ring_.size() - 1 : next - 1;
    size_t chosen = next;
    if (ring_[prev].idx != ring_[next].idx) {
      uint64_t dp = h - ring_[prev].key; // unsigned: distances wrap the ring
      uint64_t dn = ring_[next].key - h;
      if (dp <= dn) chosen = prev;
    }
    for (size_t k = 0; k < ring_.size(); ++k) {
      size_t s = ring_[(chosen + k) % ring_.size()].idx;
      if (!skipped(in, s)) return s;
    }
    return std::nullopt;
  }

  std::vector<Point> ring_;
  bool dirty_ = true;
  bool ringBackup_ = false;
  size_t rrPos_ = 0; // last ring point used without a key
};

// ---------------------------------------------------------------------------
// random: weighted draw among the candidates that are not skipped, from a
// splitmix64 sequence seeded at build time.
class RandomBalancer final : public BalancerBase {
public:
  RandomBalancer(std::vector<LbServer> servers, bool allbackups, uint64_t seed)
      : BalancerBase(std::move(servers), allbackups), state_(seed) {}

private:
  uint64_t nextRandom() {
    state_ += 0x9e3779b97f4a7c15ULL;
    return mix64(state_);
  }
  void changed(size_t, const LbServer&) override {}
  std::optional<size_t> pickFrom(bool backup, const PickInput& in) override {
    // Two passes over the candidates (skip() must answer the same both times)
    // rather than a vector per pick.
    uint64_t total = 0;
    for (size_t i = 0; i < servers_.size(); ++i)
      if (inGroup(i, backup) && !skipped(in, i)) total += static_cast<uint64_t>(servers_[i].weight);
    if (total == 0) return std::nullopt;
    uint64_t r = nextRandom() % total;
    std::optional<size_t> last;
    for (size_t i = 0; i < servers_.size(); ++i) {
      if (!inGroup(i, backup) || skipped(in, i)) continue;
      uint64_t w = static_cast<uint64_t>(servers_[i].weight);
      if (r < w) return i;
      r -= w;
      last = i;
    }
    return last;
  }

  uint64_t state_;
};

} // namespace

BalancerPtr makeBalancer(BalanceAlgo algo, HashType hashType, bool allbackups,
                         std::vector<LbServer> servers, uint64_t randomSeed) {
  switch (algo) {
  case BalanceAlgo::RoundRobin:
    return std::make_unique<FwrrBalancer>(std::move(servers), allbackups);
  case BalanceAlgo::StaticRr:
    return std::make_unique<MapBalancer>(std::move(servers), allbackups, false);
  case BalanceAlgo::LeastConn:
    return std::make_unique<LeastConnBalancer>(std::move(servers), allbackups);
  case BalanceAlgo::First:
    return std::make_unique<FirstBalancer>(std::move(servers), allbackups);
  case BalanceAlgo::Source:
  case BalanceAlgo::Uri:
  case BalanceAlgo::UrlParam:
  case BalanceAlgo::Hdr:
    if (hashType == HashType::Consistent)
      return std::make_unique<ChashBalancer>(std::move(servers), allbackups);
    return std::make_unique<MapBalancer>(std::move(servers), allbackups, true);
  case BalanceAlgo::Random:
    return std::make_unique<RandomBalancer>(std::move(servers), allbackups, randomSeed);
  }
  throw std::invalid_argument("makeBalancer: unknown algorithm");
}

// The address's 32-bit (IPv4) or two 64-bit (IPv6) big-endian words, each
// folded in with murmur3's fmix64 after a family-specific start value.
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) hash as the IPv4 address, so a
// dual-stack listener keeps a client on the same server.
uint64_t hashAddress(const common::IpAddr& ip) {
  constexpr uint64_t kV4 = 0x9e3779b97f4a7c15ULL;
  constexpr uint64_t kV6 = 0xc2b2ae3d27d4eb4fULL;
  if (ip.family == AF_INET) return mix64(kV4 ^ ntohl(ip.v4.s_addr));
  if (ip.family == AF_INET6) {
    const uint8_t* b = ip.v6.s6_addr;
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0) {
      uint32_t v4 = (uint32_t{b[12]} << 24) | (uint32_t{b[13]} << 16) | (uint32_t{b[14]} << 8) |
                    uint32_t{b[15]};
      return mix64(kV4 ^ v4);
    }
    uint64_t hi = 0, lo = 0;
    for (int k = 0; k < 8; ++k)
      hi = (hi << 8) | b[k];
    for (int k = 8; k < 16; ++k)
      lo = (lo << 8) | b[k];
    return mix64(mix64(kV6 ^ hi) ^ lo);
  }
  return 0;
}

uint32_t hashBytes(HashFn fn, std::string_view key) {
  const auto* p = reinterpret_cast<const unsigned char*>(key.data());
  size_t n = key.size();
  switch (fn) {
  case HashFn::Djb2: {
    uint32_t h = 5381;
    for (size_t i = 0; i < n; ++i)
      h = ((h << 5) + h) + p[i];
    return h;
  }
  case HashFn::Wt6: {
    // HAProxy writes the rotations as (x << s) | (x >> (32 - s)), which for
    // s == 0 shifts by 32: undefined in C++, and x on x86 (the count is
    // taken mod 32), i.e. a rotation by 0. rotl() gives that defined.
    auto rotl = [](uint32_t x, unsigned s) { return s ? (x << s) | (x >> (32 - s)) : x; };
    uint32_t h0 = 0xa53c965aU, h1 = 0x5ca6953aU;
    unsigned step0 = 6, step1 = 18;
    for (size_t i = 0; i < n; ++i) {
      uint32_t t = p[i];
      h0 = ~(h0 ^ t);
      h1 = ~(h1 + t);
      t = rotl(h1, step0);
      h1 = rotl(h0, step1);
      h0 = t;
      t = ((h0 >> 16) ^ h1) & 0xffff;
      step0 = t & 0x1f;
      step1 = t >> 11;
    }
    return h0 ^ h1;
  }
  case HashFn::Crc32: {
    uint32_t h = ~0U;
    for (size_t i = 0; i < n; ++i) {
      h ^= p[i];
      for (int bit = 0; bit < 8; ++bit)
        h = (h >> 1) ^ ((h & 1) ? 0xedb88320U : 0);
    }
    return ~h;
  }
  case HashFn::Sdbm:
    break;
  }
  uint32_t h = 0;
  for (size_t i = 0; i < n; ++i)
    h = p[i] + (h << 6) + (h << 16) - h;
  return h;
}

uint32_t fullHash(uint32_t a) {
  a = (a + 0x7ed55d16U) + (a << 12);
  a = (a ^ 0xc761c23cU) ^ (a >> 19);
  a = (a + 0x165667b1U) + (a << 5);
  a = (a + 0xd3a2646cU) ^ (a << 9);
  a = (a + 0xfd7046c5U) + (a << 3);
  a = (a ^ 0xb55a4f09U) ^ (a >> 16);
  return a * 3221225473U;
}

namespace {

// The path of a request target and what follows it (query included), as
// HAProxy's http_parse_path: origin-form as is, absolute-form from the
// first '/' after the authority (empty when there is none), else empty.
std::string_view pathOf(std::string_view target) {
  if (target.starts_with("/")) return target;
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return {};
  size_t slash = target.find('/', scheme + 3);
  return slash == std::string_view::npos ? std::string_view{} : target.substr(slash);
}

std::string_view uriElement(const BalanceArgs& a, std::string_view uri) {
  if (a.uriPathOnly) uri = pathOf(uri);
  if (a.uriLen > 0 && static_cast<size_t>(a.uriLen) < uri.size()) uri = uri.substr(0, a.uriLen);
  int slashes = 0;
  size_t end = 0;
  for (; end < uri.size(); ++end) {
    char c = uri[end];
    if (c == '/') {
      if (++slashes == a.uriDepth + 1 && a.uriDepth > 0) break;
    } else if (c == '?' && !a.uriWhole) {
      break;
    }
  }
  return uri.substr(0, end);
}

std::optional<std::string_view> urlParamElement(std::string_view name, std::string_view uri) {
  size_t q = uri.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view params = uri.substr(q + 1);
  // HAProxy compares "NAME=" at the start of each '&'-separated parameter.
  while (params.size() > name.size()) {
    if (params[name.size()] == '=' && params.starts_with(name)) {
      std::string_view v = params.substr(name.size() + 1);
      return v.substr(0, v.find('&'));
    }
    size_t amp = params.find('&');
    if (amp == std::string_view::npos) return std::nullopt;
    params.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::string_view trimSpaces(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

std::optional<std::string_view> hdrElement(const BalanceArgs& a, const HttpHead& head) {
  const std::string* value = head.get(a.name);
  if (!value) return std::nullopt;
  std::string_view v = *value;
  v = trimSpaces(v.substr(0, v.find(',')));
  if (v.empty()) return std::nullopt;
  if (!a.useDomainOnly) return v;
  // HAProxy's walk back from the end: the last dot ends the domain, which
  // starts after the previous dot, always keeping the character before the
  // last dot ("a." of "a..org") and never looking at the first character
  // as a dot (".org" hashes whole).
  size_t p = v.size(), end = v.size();
  bool inDomain = false;
  for (size_t len = v.size(); len > 0; --len, --p) {
    if (inDomain) {
      if (v[p - 1] == '.') break;
    } else if (p < v.size() && v[p] == '.') {
      end = p;
      inDomain = true;
    }
  }
  return v.substr(p, end - p);
}

} // namespace

std::optional<std::string_view> hashedElement(const BalanceArgs& args, BalanceAlgo algo,
                                              std::string_view target, const HttpHead& head) {
  switch (algo) {
  case BalanceAlgo::Uri:
    return uriElement(args, target);
  case BalanceAlgo::UrlParam:
    return urlParamElement(args.name, target);
  case BalanceAlgo::Hdr:
    return hdrElement(args, head);
  default:
    return std::nullopt;
  }
}

PickKey requestKey(const ProxyConfig& be, const HttpHead& head, const common::IpAddr& client) {
  switch (be.balance) {
  case BalanceAlgo::Source:
    return hashAddress(client);
  case BalanceAlgo::Uri:
  case BalanceAlgo::UrlParam:
  case BalanceAlgo::Hdr: {
    auto e = hashedElement(be.balanceArgs, be.balance, head.target, head);
    if (!e) return PickKey::none();
    uint32_t h = hashBytes(be.hashFn, *e);
    if (be.hashAvalanche) h = fullHash(h);
    return be.hashType == HashType::Consistent ? (uint64_t{h} << 32) : uint64_t{h};
  }
  default:
    return 0;
  }
}

} // namespace proxyd
