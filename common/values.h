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
// allowed). Fractions ("0.1", "1.5s") are accepted only when bareUnit is at
// least a second (the keepalived case), and are truncated to microseconds.
// Negative and overflowing values are errors.
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

// An address with a port, split as HAProxy's str2sa_range does: the port
// follows the last ':' that comes after any ']' — so "1.2.3.4:80", "[::1]:80"
// and also "::1:80" (address "::1", port 80; HAProxy's reading). The address
// may be bracketed, "*" or empty (any), or "localhost" (127.0.0.1, or ::1 with
// "ipv6@"); other host names are refused (no DNS at parse time). Prefixes
// "ipv4@" and "ipv6@" force the family. The port is decimal, 1-65535; it is
// required unless `portOptional`, in which case a missing port is 0 (and 0 is
// accepted). Beware: even with `portOptional`, the last ':' of an unbracketed
// IPv6 address is read as the port separator, so "::1" and "2001:db8::5" are
// refused, as HAProxy refuses them: bracket IPv6 addresses.
Result<SockAddr> parseHostPort(std::string_view s, bool portOptional = false);

// A bind address as HAProxy writes it: "*:80", ":80", "0.0.0.0:80",
// "[::]:443", "1.2.3.4:8000-8010" (a port range), with the same address
// rules as parseHostPort ("ipv6@:80" binds IPv6 any). The port is required.
// "*:80,*:81" is split by the caller.
struct BindAddr {
  IpAddr ip; // family 0 when "*" or empty (bind on IPv4 0.0.0.0)
  uint16_t portLo = 0;
  uint16_t portHi = 0; // == portLo for a single port
  std::string str() const;
};
Result<BindAddr> parseBindAddr(std::string_view s);

// "10.0.0.0/8", "127.0.0.1" (host route: /32 or /128), "::1/128",
// "10.0.0.0/255.0.0.0" (an IPv4 dotted mask, as HAProxy accepts).
struct Cidr {
  IpAddr net; // as written: host bits are kept (a keepalived VIP 10.0.0.5/24)
  int prefix = 0;
  bool contains(const IpAddr& a) const; // family must match; compares under the mask
  std::string str() const;
};
Result<Cidr> parseCidr(std::string_view s);

// Formats a duration the way --dump prints it: "10s", "500ms", "1m", "250us".
// Uses the largest unit that divides the value exactly; 0 is "0ms".
std::string formatDuration(Micros d);

} // namespace common
