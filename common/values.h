#pragma once
// Typed values of both config dialects. Pure; each parser returns a value or
// an error message that names what was expected (the caller adds file:line).
#include "common/result.h"

#include <chrono>
#include <cstdint>
#include <netinet/in.h>
#include <string>
#include <string_view>
#include <sys/socket.h>

namespace common {

using Micros = std::chrono::microseconds;

// "10s", "5000ms", "1m", "100us", "2h", "1d"; a bare number is in `bareUnit`
// (HAProxy: milliseconds; keepalived: seconds, where fractions like "0.1" are
// allowed). Negative and overflowing values are errors.
Result<Micros> parseDuration(std::string_view s, Micros bareUnit = std::chrono::milliseconds(1));
// "16384", "16k", "1m", "1g" (powers of 1024).
Result<uint64_t> parseSize(std::string_view s);
// Decimal integer within [lo, hi].
Result<int64_t> parseInt(std::string_view s, int64_t lo, int64_t hi);

// An IPv4 or IPv6 address (no port), stored in network order.
struct IpAddr {
  int family = 0; // AF_INET or AF_INET6, 0 = unset/any
  in6_addr v6{};  // when AF_INET6
  in_addr v4{};   // when AF_INET
  bool operator==(const IpAddr&) const;
  std::string str() const; // "1.2.3.4" / "::1"
};
Result<IpAddr> parseIp(std::string_view s);

// An address with a port: sockaddr form for bind()/connect().
struct SockAddr {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family() const { return ss.ss_family; }
  uint16_t port() const;
  void setPort(uint16_t p);
  IpAddr ip() const;
  std::string str() const; // "1.2.3.4:80" / "[::1]:80"
  static SockAddr from(const IpAddr& ip, uint16_t port);
  static SockAddr fromRaw(const sockaddr* sa, socklen_t len);
};

// "1.2.3.4:80", "[::1]:80", "::1:80" is refused (ambiguous) unless bracketed
// or written as HAProxy accepts ("ipv6@::1:80" is not supported), "host:80"
// for "localhost" only (no DNS at parse time). Port required unless
// `portOptional`, then port 0 is returned.
Result<SockAddr> parseHostPort(std::string_view s, bool portOptional = false);

// A bind address as HAProxy writes it: "*:80", ":80", "0.0.0.0:80",
// "[::]:80", "::1:80" style not required, "1.2.3.4:8000-8010" (a port
// range), "*:80,*:81" is split by the caller. `any` = wildcard address
// (bind on IPv4 0.0.0.0 unless the address is IPv6).
struct BindAddr {
  IpAddr ip;      // family 0 when "*" or empty
  uint16_t portLo = 0;
  uint16_t portHi = 0; // == portLo for a single port
  std::string str() const;
};
Result<BindAddr> parseBindAddr(std::string_view s);

// "10.0.0.0/8", "127.0.0.1" (host route), "::1/128".
struct Cidr {
  IpAddr net;
  int prefix = 0;
  bool contains(const IpAddr& a) const; // family must match
  std::string str() const;
};
Result<Cidr> parseCidr(std::string_view s);

// Formats a duration the way --dump prints it: "10s", "500ms", "1m", "250us".
std::string formatDuration(Micros d);

} // namespace common
