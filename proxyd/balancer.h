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
#include <string_view>
#include <vector>

namespace proxyd {

struct LbServer {
  int weight = 1;      // 0..256
  bool backup = false;
  bool usable = true;  // UP and not in maintenance/drain
};

// What a hashing algorithm hashes for one connection or request: the key,
// or none when the hashed element is absent (a url_param or header that is
// not there), in which case HAProxy falls back to round robin over the same
// map or ring. Implicit from a hash so that `pick(hashAddress(ip))` reads.
struct PickKey {
  uint64_t hash = 0;
  bool absent = false;
  PickKey(uint64_t h = 0) : hash(h) {} // NOLINT: implicit on purpose
  static PickKey none() {
    PickKey k;
    k.absent = true;
    return k;
  }
};

struct PickInput {
  uint64_t hash = 0;   // source (the client address), uri, url_param, hdr
  bool noHash = false; // hashing algorithm without a key: round robin instead
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

// HAProxy 2.6's hash functions for `hash-type ... sdbm|djb2|wt6|crc32`
// (src/hash.c), and `avalanche` (Bob Jenkins' full avalanche, hash.h's
// full_hash), on 32 bits as HAProxy computes them.
uint32_t hashBytes(HashFn fn, std::string_view key);
uint32_t fullHash(uint32_t a);

// The element of a request that `balance uri|url_param|hdr(NAME)` hashes,
// as HAProxy 2.6's get_server_uh/ph/hh select it; nullopt when absent (no
// query parameter NAME, no header NAME or an empty value).
//   uri: the request target (from its path with path-only), cut at '?'
//        unless `whole`, at the (depth+1)-th '/' with `depth`, to `len`
//        characters with `len`.
//   url_param: the value after the first "NAME=" parameter of the query
//        string, up to the next '&'.
//   hdr: the first value of the first NAME header (a comma ends it); with
//        use_domain_only, the label before the last dot (example of
//        www.example.com, the whole value when it has no dot).
std::optional<std::string_view> hashedElement(const BalanceArgs& args, BalanceAlgo algo,
                                              std::string_view target, const HttpHead& head);

// The key a backend hashes one HTTP request with: the client address for
// `source`, hashedElement() through the backend's hash function otherwise
// (none when absent), 0 for non-hashing algorithms. With `hash-type
// consistent` a 32-bit hash is spread over the 64-bit ring (hash << 32), so
// that ring positions keep HAProxy's proportions.
PickKey requestKey(const ProxyConfig& be, const HttpHead& head, const common::IpAddr& client);

} // namespace proxyd
