#include "common/values.h"

#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <limits>

namespace common {

namespace {

bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

bool allDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!isDigit(c)) return false;
  return true;
}

std::string quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// Parses a run of decimal digits into an unsigned 64-bit value.
bool toU64(std::string_view digits, uint64_t& out) {
  if (!allDigits(digits)) return false;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc() && p == digits.data() + digits.size();
}

struct Unit {
  std::string_view suffix;
  int64_t micros;
};
// Longest suffixes first so "ms" is not read as "m" + "s".
constexpr Unit kDurationUnits[] = {
    {"us", 1},         {"ms", 1000},        {"s", 1000000},
    {"m", 60000000LL}, {"h", 3600000000LL}, {"d", 86400000000LL},
};

} // namespace

// --- durations, sizes, integers ---------------------------------------------

Result<Micros> parseDuration(std::string_view s, Micros bareUnit) {
  const bool fractions = bareUnit >= std::chrono::seconds(1);
  auto invalid = [&] {
    return err("invalid duration " + quoted(s) +
               " (expected a number with an optional unit us, ms, s, m, h, d" +
               (fractions ? "; a bare number is in seconds)" : ")"));
  };
  if (!s.empty() && s[0] == '-')
    return err("invalid duration " + quoted(s) + " (must not be negative)");
  size_t i = 0;
  while (i < s.size() && isDigit(s[i]))
    ++i;
  const std::string_view intPart = s.substr(0, i);
  std::string_view fracPart;
  if (fractions && i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && isDigit(s[i]))
      ++i;
    fracPart = s.substr(start, i - start);
    if (fracPart.empty()) return invalid();
  }
  if (intPart.empty()) return invalid();
  const std::string_view suffix = s.substr(i);
  int64_t unit = bareUnit.count();
  if (!suffix.empty()) {
    unit = 0;
    for (const auto& u : kDurationUnits)
      if (suffix == u.suffix) unit = u.micros;
    if (unit == 0) return invalid();
  }
  uint64_t whole = 0;
  auto tooLarge = [&] { return err("duration " + quoted(s) + " is too large"); };
  if (!toU64(intPart, whole)) return tooLarge();
  const uint64_t max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (unit > 0 && whole > max / static_cast<uint64_t>(unit)) return tooLarge();
  uint64_t total = whole * static_cast<uint64_t>(unit);
  // fraction * unit / 10^digits, digit by digit so nothing overflows; the
  // remainder below a microsecond is dropped.
  uint64_t scale = static_cast<uint64_t>(unit);
  for (char c : fracPart) {
    if (scale == 0) break;
    total += static_cast<uint64_t>(c - '0') * scale / 10;
    scale /= 10;
  }
  if (total > max) return tooLarge();
  return Micros(static_cast<int64_t>(total));
}

Result<uint64_t> parseSize(std::string_view s) {
  auto invalid = [&] {
    return err("invalid size " + quoted(s) + " (expected a number with an optional unit k, m, g)");
  };
  size_t i = 0;
  while (i < s.size() && isDigit(s[i]))
    ++i;
  if (i == 0) return invalid();
  uint64_t mult = 1;
  if (i < s.size()) {
    if (i + 1 != s.size()) return invalid();
    switch (s[i]) {
    case 'k':
    case 'K':
      mult = 1ULL << 10;
      break;
    case 'm':
    case 'M':
      mult = 1ULL << 20;
      break;
    case 'g':
    case 'G':
      mult = 1ULL << 30;
      break;
    default:
      return invalid();
    }
  }
  uint64_t n = 0;
  if (!toU64(s.substr(0, i), n) || n > std::numeric_limits<uint64_t>::max() / mult)
    return err("size " + quoted(s) + " is too large");
  return n * mult;
}

Result<int64_t> parseInt(std::string_view s, int64_t lo, int64_t hi) {
  std::string_view digits = s;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
  const bool negative = !digits.empty() && digits[0] == '-';
  if (!allDigits(negative ? digits.substr(1) : digits))
    return err("invalid integer " + quoted(s) + " (expected a decimal integer)");
  int64_t v = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (ec != std::errc() || p != digits.data() + digits.size() || v < lo || v > hi)
    return err("integer " + quoted(s) + " is out of range (expected " + std::to_string(lo) +
               " to " + std::to_string(hi) + ")");
  return v;
}

// --- IP addresses -------------------------------------------------------------

bool IpAddr::operator==(const IpAddr& o) const {
  if (family != o.family) return false;
  if (family == AF_INET) return v4.s_addr == o.v4.s_addr;
  if (family == AF_INET6) return std::memcmp(&v6, &o.v6, sizeof v6) == 0;
  return true;
}

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET) return inet_ntop(AF_INET, &v4, buf, sizeof buf);
  if (family == AF_INET6) return inet_ntop(AF_INET6, &v6, buf, sizeof buf);
  return "*";
}

Result<IpAddr> parseIp(std::string_view s) {
  const std::string str(s);
  IpAddr a;
  if (str.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, str.c_str(), &a.v4) == 1) {
      a.family = AF_INET;
      return a;
    }
  } else if (inet_pton(AF_INET6, str.c_str(), &a.v6) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return err("invalid IP address " + quoted(s) + " (expected an IPv4 or IPv6 address)");
}

// --- socket addresses -----------------------------------------------------------

uint16_t SockAddr::port() const {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

void SockAddr::setPort(uint16_t p) {
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(p);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(p);
}

IpAddr SockAddr::ip() const {
  IpAddr a;
  if (family() == AF_INET) {
    a.family = AF_INET;
    a.v4 = reinterpret_cast<const sockaddr_in*>(&ss)->sin_addr;
  } else if (family() == AF_INET6) {
    a.family = AF_INET6;
    a.v6 = reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_addr;
  }
  return a;
}

std::string SockAddr::str() const {
  // Appended piece by piece: g++ 12 at -O3 takes `"[" + std::string` for an
  // overlapping copy (a false -Wrestrict that stopped Release builds).
  if (family() != AF_INET6 && family() != AF_INET) return "?";
  std::string out;
  if (family() == AF_INET6) out += '[';
  out += ip().str();
  if (family() == AF_INET6) out += ']';
  out += ':';
  out += std::to_string(this->port());
  return out;
}

SockAddr SockAddr::from(const IpAddr& ip, uint16_t port) {
  SockAddr s;
  if (ip.family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&s.ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_addr = ip.v6;
    sin6->sin6_port = htons(port);
    s.len = sizeof(sockaddr_in6);
  } else { // AF_INET, or unset = IPv4 any
    auto* sin = reinterpret_cast<sockaddr_in*>(&s.ss);
    sin->sin_family = AF_INET;
    sin->sin_addr = ip.family == AF_INET ? ip.v4 : in_addr{htonl(INADDR_ANY)};
    sin->sin_port = htons(port);
    s.len = sizeof(sockaddr_in);
  }
  return s;
}

SockAddr SockAddr::fromRaw(const sockaddr* sa, socklen_t len) {
  SockAddr s;
  if (sa && len > 0 && static_cast<size_t>(len) <= sizeof(s.ss)) {
    std::memcpy(&s.ss, sa, len);
    s.len = len;
  }
  return s;
}

namespace {

// An address with its port text, split the way HAProxy's str2sa_range does.
struct SplitAddr {
  IpAddr ip;                 // family 0 = wildcard ("*" or empty), no forced family
  std::string_view portText; // without the ':'
  bool hasPort = false;
};

Result<SplitAddr> splitAddr(std::string_view s) {
  int forced = 0;
  std::string_view rest = s;
  if (rest.substr(0, 5) == "ipv4@") {
    forced = AF_INET;
    rest.remove_prefix(5);
  } else if (rest.substr(0, 5) == "ipv6@") {
    forced = AF_INET6;
    rest.remove_prefix(5);
  } else if (const size_t at = rest.find('@'); at != std::string_view::npos) {
    return err("unsupported address prefix " + quoted(rest.substr(0, at + 1)) + " in " + quoted(s) +
               " (expected ipv4@ or ipv6@)");
  }

  SplitAddr out;
  // The port separator is the last ':' not inside brackets.
  const size_t sep = rest.find_last_of(":]");
  std::string_view host = rest;
  if (sep != std::string_view::npos && rest[sep] == ':') {
    host = rest.substr(0, sep);
    out.portText = rest.substr(sep + 1);
    out.hasPort = true;
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);

  if (host.empty() || host == "*") {
    out.ip.family = forced; // 0 = wildcard, let the caller pick
    return out;
  }
  if (host == "localhost") {
    auto ip = parseIp(forced == AF_INET6 ? "::1" : "127.0.0.1");
    out.ip = *ip;
    return out;
  }
  auto ip = parseIp(host);
  if (!ip || (forced && ip->family != forced))
    return err("invalid address " + quoted(host) + " in " + quoted(s) +
               " (expected an IPv4 address, an IPv6 address, '*' or localhost, then ':port')");
  out.ip = *ip;
  return out;
}

// Parses a decimal port within [lo, 65535].
Result<uint16_t> parsePort(std::string_view text, std::string_view whole, int lo) {
  uint64_t v = 0;
  if (!toU64(text, v) || v < static_cast<uint64_t>(lo) || v > 65535)
    return err("invalid port " + quoted(text) + " in " + quoted(whole) + " (expected " +
               std::to_string(lo) + " to 65535)");
  return static_cast<uint16_t>(v);
}

IpAddr wildcardOf(int family) {
  IpAddr a;
  a.family = family;
  if (family == AF_INET) a.v4.s_addr = htonl(INADDR_ANY);
  if (family == AF_INET6) a.v6 = in6addr_any;
  return a;
}

} // namespace

Result<SockAddr> parseHostPort(std::string_view s, bool portOptional) {
  auto split = splitAddr(s);
  if (!split) return err(split.error());
  uint16_t port = 0;
  if (split->hasPort && !split->portText.empty()) {
    if (split->portText.find('-') != std::string_view::npos)
      return err("port range not allowed in " + quoted(s) + " (expected a single port)");
    auto p = parsePort(split->portText, s, portOptional ? 0 : 1);
    if (!p) return err(p.error());
    port = *p;
  } else if (!portOptional) {
    return err("missing port in " + quoted(s) + " (expected address:port)");
  }
  // A wildcard without a forced family is IPv4 any, as in HAProxy.
  return SockAddr::from(split->ip.family ? split->ip : wildcardOf(AF_INET), port);
}

std::string BindAddr::str() const {
  std::string host = ip.family == AF_INET6 ? "[" + ip.str() + "]" : ip.str();
  std::string out = host + ":" + std::to_string(portLo);
  if (portHi != portLo) out += "-" + std::to_string(portHi);
  return out;
}

Result<BindAddr> parseBindAddr(std::string_view s) {
  auto split = splitAddr(s);
  if (!split) return err(split.error());
  if (!split->hasPort || split->portText.empty())
    return err("missing port in bind address " + quoted(s) + " (expected address:port)");
  BindAddr b;
  b.ip = split->ip; // family 0 for "*" / empty, the forced family's any with ipv4@/ipv6@
  std::string_view lo = split->portText, hi = split->portText;
  if (const size_t dash = lo.find('-'); dash != std::string_view::npos) {
    hi = lo.substr(dash + 1);
    lo = lo.substr(0, dash);
  }
  auto pl = parsePort(lo, s, 1);
  if (!pl) return err(pl.error());
  auto ph = parsePort(hi, s, 1);
  if (!ph) return err(ph.error());
  if (*pl > *ph)
    return err("invalid port range " + quoted(split->portText) + " in " + quoted(s) +
               " (expected low-high with low <= high)");
  b.portLo = *pl;
  b.portHi = *ph;
  return b;
}

// --- CIDR ------------------------------------------------------------------------

namespace {

// Prefix length of a contiguous IPv4 netmask, or -1.
int maskToPrefix(in_addr mask) {
  const uint32_t m = ntohl(mask.s_addr);
  int n = 0;
  while (n < 32 && (m & (0x80000000u >> n)))
    ++n;
  const uint32_t expect = n == 0 ? 0 : 0xffffffffu << (32 - n);
  return m == expect ? n : -1;
}

// True when the first `prefix` bits of `a` and `b` (each `len` bytes) agree.
bool samePrefix(const uint8_t* a, const uint8_t* b, int prefix) {
  const int full = prefix / 8;
  if (std::memcmp(a, b, full) != 0) return false;
  const int bits = prefix % 8;
  if (bits == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits));
  return (a[full] & mask) == (b[full] & mask);
}

} // namespace

bool Cidr::contains(const IpAddr& a) const {
  if (a.family != net.family) return false;
  if (a.family == AF_INET)
    return samePrefix(reinterpret_cast<const uint8_t*>(&net.v4),
                      reinterpret_cast<const uint8_t*>(&a.v4), prefix);
  if (a.family == AF_INET6) return samePrefix(net.v6.s6_addr, a.v6.s6_addr, prefix);
  return false;
}

std::string Cidr::str() const {
  return net.str() + "/" + std::to_string(prefix);
}

Result<Cidr> parseCidr(std::string_view s) {
  const size_t slash = s.find('/');
  auto ip = parseIp(s.substr(0, slash));
  if (!ip)
    return err("invalid network " + quoted(s) +
               " (expected an IPv4 or IPv6 address with an optional /prefix)");
  Cidr c;
  c.net = *ip;
  const int maxPrefix = ip->family == AF_INET ? 32 : 128;
  if (slash == std::string_view::npos) {
    c.prefix = maxPrefix;
    return c;
  }
  const std::string_view len = s.substr(slash + 1);
  uint64_t v = 0;
  if (toU64(len, v) && v <= static_cast<uint64_t>(maxPrefix)) {
    c.prefix = static_cast<int>(v);
    return c;
  }
  if (ip->family == AF_INET) {
    auto mask = parseIp(len);
    if (mask && mask->family == AF_INET && maskToPrefix(mask->v4) >= 0) {
      c.prefix = maskToPrefix(mask->v4);
      return c;
    }
  }
  return err("invalid prefix length " + quoted(len) + " in " + quoted(s) + " (expected 0 to " +
             std::to_string(maxPrefix) +
             (ip->family == AF_INET ? " or a contiguous dotted netmask)" : ")"));
}

// --- formatting -------------------------------------------------------------------

std::string formatDuration(Micros d) {
  const int64_t us = d.count();
  if (us == 0) return "0ms";
  // Largest unit first; "ms" before "us" so 1000us prints as 1ms.
  const Unit order[] = {kDurationUnits[5], kDurationUnits[4], kDurationUnits[3],
                        kDurationUnits[2], kDurationUnits[1], kDurationUnits[0]};
  for (const auto& u : order)
    if (us % u.micros == 0) return std::to_string(us / u.micros) + std::string(u.suffix);
  return std::to_string(us) + "us";
}

} // namespace common
