#include "vrrpd/packet.h"

#include "common/bytes.h"
#include "common/checksum.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cstdio>
#include <cstring>

namespace vrrpd {

namespace {

constexpr uint8_t kProtoVrrp = 112;
constexpr uint8_t kTypeAdvert = 1;
constexpr int kV2IntUnitUs = 1'000'000; // v2: seconds
constexpr int kV3IntUnitUs = 10'000;    // v3: centiseconds
constexpr uint16_t kV3IntMask = 0x0fff;

static_assert(static_cast<int>(AuthType::None) == 0 && static_cast<int>(AuthType::Pass) == 1 &&
                  static_cast<int>(AuthType::Ah) == 2,
              "AuthType values are the wire values");

size_t addrLen(int family) {
  return family == AF_INET6 ? 16 : 4;
}
bool hasAuthData(int version, int family) {
  return version == 2 && family != AF_INET6;
}

size_t messageLen(int version, int family, size_t count) {
  return kVrrpHeaderLen + count * addrLen(family) +
         (hasAuthData(version, family) ? kVrrpAuthLen : 0);
}

const uint8_t* addrBytes(const common::IpAddr& a) {
  return a.family == AF_INET6 ? a.v6.s6_addr : reinterpret_cast<const uint8_t*>(&a.v4.s_addr);
}

common::IpAddr defaultGroup(int family) {
  common::IpAddr g;
  g.family = family;
  if (family == AF_INET6)
    inet_pton(AF_INET6, "ff02::12", &g.v6);
  else
    inet_pton(AF_INET, "224.0.0.18", &g.v4);
  return g;
}

// The pseudo-header sum for a message of `len` bytes; false when the
// addresses are not of `family`.
bool addPseudo(common::InetChecksum& c, int family, const common::IpAddr& src,
               const common::IpAddr& dst, size_t len) {
  if (src.family != family || dst.family != family) return false;
  if (family == AF_INET6)
    common::addIpv6PseudoHeader(c, src.v6, dst.v6, kProtoVrrp, static_cast<uint32_t>(len));
  else
    common::addIpv4PseudoHeader(c, src.v4, dst.v4, kProtoVrrp, static_cast<uint16_t>(len));
  return true;
}

// Constant time, as keepalived's memcmp_constant_time: the password check
// does not tell a sniffer how many bytes matched.
bool sameBytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<uint8_t>(a[i] ^ b[i]);
  return diff == 0;
}

// The parts of a message every check looks at, read once.
struct Raw {
  int version = 0;
  int type = 0;
  uint8_t vrid = 0;
  uint8_t priority = 0;
  uint8_t count = 0;
  uint8_t byte4 = 0; // v2: auth type
  uint8_t byte5 = 0; // v2: advert int (s)
  uint16_t word45 = 0;
  uint16_t checksum = 0;
};

Raw readHeader(std::span<const uint8_t> p) {
  common::ByteReader r(p);
  Raw h;
  const uint8_t vt = r.u8();
  h.version = vt >> 4;
  h.type = vt & 0x0f;
  h.vrid = r.u8();
  h.priority = r.u8();
  h.count = r.u8();
  h.byte4 = r.u8();
  h.byte5 = r.u8();
  h.word45 = static_cast<uint16_t>(h.byte4 << 8 | h.byte5);
  h.checksum = r.u16();
  return h;
}

// Reads the fields after the header into `a` (the length is already right).
Advert toAdvert(const Raw& h, std::span<const uint8_t> p, int family) {
  Advert a;
  a.version = h.version;
  a.family = family;
  a.vrid = h.vrid;
  a.priority = h.priority;
  a.checksum = h.checksum;
  if (h.version == 2) {
    a.advertInt = std::chrono::seconds(h.byte5);
    a.authType = static_cast<AuthType>(h.byte4 <= 2 ? h.byte4 : 0);
  } else {
    a.advertInt = common::Micros(int64_t{h.word45 & kV3IntMask} * kV3IntUnitUs);
  }
  common::ByteReader r(p);
  r.skip(kVrrpHeaderLen);
  a.addrs.reserve(h.count);
  for (int i = 0; i < h.count; ++i) {
    common::IpAddr ip;
    ip.family = family;
    if (family == AF_INET6)
      r.copy(ip.v6.s6_addr, 16);
    else
      r.copy(&ip.v4.s_addr, 4);
    a.addrs.push_back(ip);
  }
  if (hasAuthData(h.version, family)) r.copy(a.authData.data(), kVrrpAuthLen);
  return a;
}

std::string prefix(const Expectation* e) {
  return e ? "(" + e->name + ") " : std::string();
}

Rejection reject(Reason r, std::string text, int instance) {
  return Rejection{r, std::move(text), instance};
}

// The instance a VRID designates on this interface and family, or -1.
int findInstance(std::span<const Expectation> instances, uint8_t vrid, int family, int ifindex) {
  for (size_t i = 0; i < instances.size(); ++i) {
    const Expectation& e = instances[i];
    if (e.vrid == vrid && e.family == family &&
        (e.ifindex == 0 || ifindex == 0 || e.ifindex == ifindex))
      return static_cast<int>(i);
  }
  return -1;
}

// Checks the checksum; the form that matched, or nullopt.
std::optional<ChecksumForm> checkChecksum(std::span<const uint8_t> p, int version, int family,
                                          const RxMeta& meta, const Expectation* e) {
  if (family == AF_INET6) {
    common::InetChecksum c;
    if (addPseudo(c, family, meta.src, meta.dst, p.size()) && c.add(p).verify())
      return ChecksumForm::PseudoHeader;
    return std::nullopt;
  }
  if (version == 2) {
    if (common::InetChecksum().add(p).verify()) return ChecksumForm::Message;
    return std::nullopt;
  }
  {
    common::InetChecksum c;
    if (addPseudo(c, family, meta.src, meta.dst, p.size()) && c.add(p).verify())
      return ChecksumForm::PseudoHeader;
  }
  if (!meta.multicast) {
    const common::IpAddr group =
        e && e->mcastGroup.family == AF_INET ? e->mcastGroup : defaultGroup(AF_INET);
    common::InetChecksum c;
    if (addPseudo(c, family, meta.src, group, p.size()) && c.add(p).verify())
      return ChecksumForm::PseudoHeaderGroup;
  }
  if (common::InetChecksum().add(p).verify()) return ChecksumForm::WithoutPseudoHeader;
  return std::nullopt;
}

std::optional<Rejection> checkAuth(const Raw& h, std::span<const uint8_t> p, int family,
                                   const Expectation& e, int idx) {
  const std::string pre = prefix(&e);
  if (h.byte4 > 2)
    return reject(Reason::AuthTypeInvalid, pre + "Invalid auth type: " + std::to_string(h.byte4),
                  idx);
  if (h.byte4 == static_cast<uint8_t>(AuthType::Ah))
    return reject(Reason::AuthUnsupported, pre + "AH authentication is not supported", idx);
  if (h.byte4 != static_cast<uint8_t>(e.authType))
    return reject(Reason::AuthTypeMismatch,
                  pre + "received a " + std::to_string(h.byte4) + " auth, expecting " +
                      std::to_string(static_cast<int>(e.authType)) + "!",
                  idx);
  if (e.authType == AuthType::Pass) {
    const auto want = authDataFromPass(e.authPass);
    // v2 over IPv6 carries no authentication data: nothing can match.
    const bool ok =
        hasAuthData(2, family) && p.size() >= kVrrpAuthLen && sameBytes(p.last(kVrrpAuthLen), want);
    if (!ok) return reject(Reason::AuthFailure, pre + "received an invalid passwd!", idx);
  }
  return std::nullopt;
}

std::optional<Rejection> checkInterval(const Raw& h, const Expectation& e, int idx) {
  const std::string pre = prefix(&e);
  if (h.version == 2) {
    if (e.advertInt.count() != int64_t{h.byte5} * kV2IntUnitUs)
      return reject(Reason::AdvertInterval,
                    pre + "advertisement interval mismatch mine=" +
                        std::to_string(e.advertInt.count() / kV2IntUnitUs) +
                        " sec rcv'd=" + std::to_string(h.byte5) + " sec",
                    idx);
    return std::nullopt;
  }
  if ((h.word45 & kV3IntMask) == 0)
    return reject(Reason::AdvertIntervalZero, pre + "received an invalid advert_int 0", idx);
  return std::nullopt;
}

// The address list checks; `checkAddr` as keepalived's check_vip_addr.
std::optional<Rejection> checkAddresses(const Advert& a, const RxMeta& meta, const Expectation& e,
                                        int idx, bool checkAddr) {
  const std::string pre = prefix(&e);
  const bool unicastInstance = !e.unicastPeers.empty();
  if (meta.multicast == unicastInstance)
    return reject(Reason::CastMismatch,
                  pre + "Expected " + (unicastInstance ? "un" : "mult") +
                      "icast packet but received " + (unicastInstance ? "mult" : "un") +
                      "icast packet",
                  idx);
  if (!checkAddr) return std::nullopt;
  if (a.addrs.size() != e.vips.size())
    return reject(Reason::AddressCount,
                  pre + "received an unexpected ip number count " + std::to_string(a.addrs.size()) +
                      ", expected " + std::to_string(e.vips.size()) + "!",
                  idx);
  for (const auto& vip : e.vips) {
    bool found = false;
    for (const auto& got : a.addrs)
      found = found || got == vip;
    if (!found)
      return reject(Reason::AddressMissing,
                    pre + "ip address associated with VRID " + std::to_string(e.vrid) +
                        " not present in MASTER advert: " + vip.str(),
                    idx);
  }
  if (unicastInstance && e.checkUnicastSrc) {
    bool found = false;
    for (const auto& peer : e.unicastPeers)
      found = found || peer == meta.src;
    if (!found)
      return reject(Reason::UnicastSrc,
                    pre + "unicast source address " + meta.src.str() + " not a unicast peer", idx);
  }
  return std::nullopt;
}

} // namespace

std::array<uint8_t, 8> authDataFromPass(std::string_view pass) {
  std::array<uint8_t, 8> out{};
  std::memcpy(out.data(), pass.data(), std::min(pass.size(), out.size()));
  return out;
}

size_t advertLength(const Advert& a) {
  if ((a.version != 2 && a.version != 3) || (a.family != AF_INET && a.family != AF_INET6)) return 0;
  return messageLen(a.version, a.family, a.addrs.size());
}

size_t encodeAdvert(const Advert& a, const EncodeOptions& o, std::span<uint8_t> out) {
  const size_t len = advertLength(a);
  if (len == 0 || a.addrs.size() > kVrrpMaxAddrs || out.size() < len) return 0;
  for (const auto& ip : a.addrs)
    if (ip.family != a.family) return 0;

  common::ByteWriter w(out.first(len));
  w.u8(static_cast<uint8_t>(a.version << 4 | kTypeAdvert));
  w.u8(a.vrid);
  w.u8(a.priority);
  w.u8(static_cast<uint8_t>(a.addrs.size()));
  if (a.version == 2) {
    const int64_t secs = a.advertInt.count() / kV2IntUnitUs;
    if (secs < 1 || secs > 255) return 0;
    w.u8(static_cast<uint8_t>(a.authType));
    w.u8(static_cast<uint8_t>(secs));
  } else {
    const int64_t cs = a.advertInt.count() / kV3IntUnitUs;
    if (cs < 1 || cs > kV3IntMask) return 0;
    w.u16(static_cast<uint16_t>(cs)); // reserved bits zero
  }
  const size_t csumAt = w.pos();
  w.u16(0);
  for (const auto& ip : a.addrs)
    w.bytes(addrBytes(ip), addrLen(a.family));
  if (hasAuthData(a.version, a.family)) {
    if (a.authType == AuthType::Pass)
      w.bytes(a.authData.data(), kVrrpAuthLen);
    else
      w.zeros(kVrrpAuthLen);
  }

  common::InetChecksum c;
  const bool pseudo = a.family == AF_INET6 || (a.version == 3 && !o.v3ChecksumAsV2);
  if (pseudo && !addPseudo(c, a.family, o.src, o.dst, len)) return 0;
  c.add(w.written());
  w.patchU16(csumAt, c.checksum());
  return w.ok() ? len : 0;
}

std::optional<Advert> parseAdvert(std::span<const uint8_t> payload, int family) {
  if (payload.size() < kVrrpHeaderLen) return std::nullopt;
  const Raw h = readHeader(payload);
  if (h.version != 2 && h.version != 3) return std::nullopt;
  if (payload.size() != messageLen(h.version, family, h.count)) return std::nullopt;
  return toAdvert(h, payload, family);
}

DecodeResult decodeAdvert(std::span<const uint8_t> p, const RxMeta& meta,
                          std::span<const Expectation> instances) {
  const int family = meta.src.family == AF_INET6 ? AF_INET6 : AF_INET;
  const char* fam = family == AF_INET6 ? "IPv6" : "IPv4";
  // The VRID names the instance (for texts and counters) as soon as it is
  // there; whether one exists is only a verdict at the VRID check.
  const int idx = p.size() >= 2 ? findInstance(instances, p[1], family, meta.ifindex) : -1;
  const Expectation* e = idx >= 0 ? &instances[static_cast<size_t>(idx)] : nullptr;
  const std::string pre = prefix(e);

  // TTL: keepalived checks it for instances without unicast peers.
  const bool ttlChecked = e ? e->unicastPeers.empty() : meta.multicast;
  if (ttlChecked && meta.ttl != -1 && meta.ttl != kVrrpTtl)
    return reject(Reason::Ttl,
                  pre + "invalid TTL/HL. Received " + std::to_string(meta.ttl) + " and expect " +
                      std::to_string(kVrrpTtl),
                  idx);

  if (p.size() < kVrrpHeaderLen)
    return reject(
        Reason::TooShort,
        std::string(fam) + " VRRP packet too short - " + std::to_string(p.size()) + " bytes", idx);
  const Raw h = readHeader(p);
  const size_t expected = messageLen(h.version, family, h.count);
  if (p.size() != expected)
    return reject(Reason::Length,
                  pre + "vrrp packet too " + (p.size() > expected ? "long" : "short") +
                      ", length " + std::to_string(p.size()) + " and expect " +
                      std::to_string(expected),
                  idx);

  if ((h.version != 2 && h.version != 3) || (e && e->version != h.version))
    return reject(Reason::Version,
                  pre + "wrong version. Received " + std::to_string(h.version) + " and expect " +
                      (e ? std::to_string(e->version) : std::string("2 or 3")),
                  idx);

  const auto form = checkChecksum(p, h.version, family, meta, e);
  if (!form)
    return reject(Reason::Checksum, pre + "Invalid VRRPv" + std::to_string(h.version) + " checksum",
                  idx);

  if (h.type != kTypeAdvert)
    return reject(Reason::Type,
                  pre + "Invalid packet type. " + std::to_string(h.type) + " and expect " +
                      std::to_string(kTypeAdvert),
                  idx);

  if (!e)
    return reject(Reason::UnknownVrid,
                  "Unknown VRID(" + std::to_string(h.vrid) + ") received on interface(" +
                      (meta.ifname.empty() ? std::to_string(meta.ifindex) : meta.ifname) +
                      ") from " + meta.src.str() + ". ignoring...",
                  -1);

  if (h.version == 2)
    if (auto r = checkAuth(h, p, family, *e, idx)) return *r;
  if (auto r = checkInterval(h, *e, idx)) return *r;

  Accepted ok;
  ok.advert = toAdvert(h, p, family);
  ok.instance = static_cast<size_t>(idx);
  ok.checksum = *form;
  ok.addressesChecked =
      !e->skipCheckAdvAddr || !e->currentMaster || !(*e->currentMaster == meta.src);
  if (auto r = checkAddresses(ok.advert, meta, *e, idx, ok.addressesChecked)) return *r;
  return ok;
}

std::string describe(const Advert& a) {
  std::string s = "VRRPv" + std::to_string(a.version) + " vrid " + std::to_string(a.vrid) +
                  " prio " + std::to_string(a.priority) + " int " +
                  common::formatDuration(a.advertInt);
  if (a.version == 2) s += std::string(" auth ") + authName(a.authType);
  s += " addrs ";
  if (a.addrs.empty()) s += "-";
  for (size_t i = 0; i < a.addrs.size(); ++i)
    s += (i ? "," : "") + a.addrs[i].str();
  char csum[16];
  std::snprintf(csum, sizeof csum, " csum 0x%04x", a.checksum);
  return s + csum;
}

Counter counterFor(Reason r) {
  switch (r) {
  case Reason::Ttl:
    return Counter::Ttl;
  case Reason::TooShort:
  case Reason::Length:
    return Counter::PacketLength;
  case Reason::Version:
    return Counter::Version;
  case Reason::Checksum:
    return Counter::Checksum;
  case Reason::Type:
    return Counter::InvalidType;
  case Reason::UnknownVrid:
    return Counter::UnknownVrid;
  case Reason::AuthTypeInvalid:
    return Counter::AuthInvalidType;
  case Reason::AuthUnsupported:
  case Reason::AuthTypeMismatch:
    return Counter::AuthTypeMismatch;
  case Reason::AuthFailure:
    return Counter::AuthFailure;
  case Reason::AdvertInterval:
  case Reason::AdvertIntervalZero:
    return Counter::AdvertInterval;
  case Reason::CastMismatch:
  case Reason::AddressCount:
  case Reason::AddressMissing:
    return Counter::AddressList;
  case Reason::UnicastSrc:
    return Counter::Other;
  }
  return Counter::Other;
}

const char* counterName(Counter c) {
  switch (c) {
  case Counter::PacketLength:
    return "Length";
  case Counter::Ttl:
    return "TTL";
  case Counter::InvalidType:
    return "Invalid Type";
  case Counter::AdvertInterval:
    return "Advertisement Interval";
  case Counter::AddressList:
    return "Address List";
  case Counter::AuthInvalidType:
    return "Invalid Type";
  case Counter::AuthTypeMismatch:
    return "Type Mismatch";
  case Counter::AuthFailure:
    return "Failure";
  case Counter::Checksum:
    return "Checksum";
  case Counter::Version:
    return "Version";
  case Counter::UnknownVrid:
    return "Unknown VRID";
  case Counter::Other:
    return "Other";
  }
  return "Other";
}

const char* counterSection(Counter c) {
  switch (c) {
  case Counter::PacketLength:
  case Counter::Ttl:
  case Counter::InvalidType:
  case Counter::AdvertInterval:
  case Counter::AddressList:
    return "Packet Errors";
  case Counter::AuthInvalidType:
  case Counter::AuthTypeMismatch:
  case Counter::AuthFailure:
    return "Authentication Errors";
  default:
    return "";
  }
}

const char* reasonName(Reason r) {
  switch (r) {
  case Reason::Ttl:
    return "ttl";
  case Reason::TooShort:
    return "too-short";
  case Reason::Length:
    return "length";
  case Reason::Version:
    return "version";
  case Reason::Checksum:
    return "checksum";
  case Reason::Type:
    return "type";
  case Reason::UnknownVrid:
    return "unknown-vrid";
  case Reason::AuthTypeInvalid:
    return "auth-type-invalid";
  case Reason::AuthUnsupported:
    return "auth-unsupported";
  case Reason::AuthTypeMismatch:
    return "auth-type-mismatch";
  case Reason::AuthFailure:
    return "auth-failure";
  case Reason::AdvertInterval:
    return "advert-interval";
  case Reason::AdvertIntervalZero:
    return "advert-interval-zero";
  case Reason::CastMismatch:
    return "cast-mismatch";
  case Reason::AddressCount:
    return "address-count";
  case Reason::AddressMissing:
    return "address-missing";
  case Reason::UnicastSrc:
    return "unicast-src";
  }
  return "unknown";
}

} // namespace vrrpd
