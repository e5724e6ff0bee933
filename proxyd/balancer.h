#pragma once
// Server selection for one backend, as HAProxy 2.6 does it. Pure: built from
// the server set, then told of state/weight/connection changes, and asked
// pick(). No I/O, no clock.
//
// Eligibility (all algorithms): a server is a candidate only while `usable`
// (UP and not in maintenance/drain) and its weight > 0. Active servers are
// used while at least one is a candidate; otherwise backup servers are: the
// first candidate backup in declaration order, or, with `allbackups`, all
// candidate backups balanced by the algorithm.
#include "proxyd/config.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace proxyd {

struct LbServer {
  int weight = 1;      // 0..256
  bool backup = false;
  bool usable = true;  // UP and not in maintenance/drain
};

struct PickInput {
  uint64_t hash = 0; // for source (hash of the client address), later uri/hdr
  // Servers to skip this time (e.g. at maxconn, or the one that just failed
  // when redispatching). Null: none skipped.
  std::function<bool(size_t)> skip;
};

class Balancer {
public:
  virtual ~Balancer() = default;
  // Changes one server's state or weight (index = position in the set).
  virtual void setServer(size_t index, const LbServer& s) = 0;
  // The server's current state.
  virtual const LbServer& server(size_t index) const = 0;
  virtual size_t size() const = 0;
  // The chosen server's index, or nullopt when no candidate exists.
  virtual std::optional<size_t> pick(const PickInput& in) = 0;
  // Connection accounting, used by leastconn and first.
  virtual void connStarted(size_t index) = 0;
  virtual void connEnded(size_t index) = 0;
};
using BalancerPtr = std::unique_ptr<Balancer>;

BalancerPtr makeBalancer(BalanceAlgo algo, HashType hashType, bool allbackups,
                         std::vector<LbServer> servers, uint64_t randomSeed = 0);

// Hash of a client address for `balance source` (as HAProxy: the address
// bytes, full avalanche).
uint64_t hashAddress(const common::IpAddr& ip);

} // namespace proxyd
