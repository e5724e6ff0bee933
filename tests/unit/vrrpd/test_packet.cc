// The VRRP codec: known bytes (by hand from the RFC layout, and captured from
// keepalived 2.2.7, see tests/data/vrrp/README.md), round trips, every
// rejection in its order, truncation and random input.
#include "common/checksum.h"
#include "vrrpd/packet.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace vrrpd;
using Bytes = std::vector<uint8_t>;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

common::IpAddr ip(const char* s) {
  auto r = common::parseIp(s);
  REQUIRE(r.ok());
  return *r;
}

// The VRRP message and metadata of a captured IPv4 packet file.
struct Captured {
  Bytes payload;
  RxMeta meta;
};

Captured loadCapture(const std::string& name) {
  std::ifstream in(std::string(SRC_DIR) + "/tests/data/vrrp/" + name);
  REQUIRE(in.good());
  Bytes pkt;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w)
      pkt.push_back(static_cast<uint8_t>(std::stoul(w, nullptr, 16)));
  }
  REQUIRE(pkt.size() >= 20);
  const size_t ihl = size_t{pkt[0] & 0x0fu} * 4;
  REQUIRE(pkt[9] == 112);
  Captured c;
  c.payload.assign(pkt.begin() + static_cast<long>(ihl), pkt.end());
  c.meta.ttl = pkt[8];
  c.meta.src.family = AF_INET;
  std::memcpy(&c.meta.src.v4.s_addr, &pkt[12], 4);
  c.meta.dst.family = AF_INET;
  std::memcpy(&c.meta.dst.v4.s_addr, &pkt[16], 4);
  c.meta.multicast = pkt[16] >= 224 && pkt[16] <= 239;
  c.meta.ifname = "vp-b";
  return c;
}

// keepalived's VI_1 of the capture, seen from the BACKUP (198.18.10.2).
Expectation captureInstance(int version, bool unicast, bool pass) {
  Expectation e;
  e.name = "VI_1";
  e.vrid = 51;
  e.version = version;
  e.advertInt = seconds(1);
  e.vips = {ip("198.18.10.100"), ip("198.18.10.101")};
  if (pass) {
    e.authType = AuthType::Pass;
    e.authPass = "vrrpd";
  }
  if (unicast) e.unicastPeers = {ip("198.18.10.1")};
  return e;
}

Accepted accepted(const DecodeResult& r) {
  if (auto* rej = std::get_if<Rejection>(&r)) FAIL("rejected: " << rej->text);
  return std::get<Accepted>(r);
}

Rejection rejected(const DecodeResult& r) {
  if (std::holds_alternative<Accepted>(r)) FAIL("accepted");
  return std::get<Rejection>(r);
}

Bytes encode(const Advert& a, const EncodeOptions& o) {
  Bytes out(kVrrpMaxLen + kVrrpAuthLen);
  const size_t n = encodeAdvert(a, o, out);
  REQUIRE(n > 0);
  out.resize(n);
  return out;
}

DecodeResult decode(const Bytes& p, const RxMeta& m, const Expectation& e) {
  return decodeAdvert(p, m, std::span<const Expectation>(&e, 1));
}

RxMeta mcastMeta(const char* src = "198.18.10.1") {
  RxMeta m;
  m.ttl = 255;
  m.src = ip(src);
  m.dst = ip("224.0.0.18");
  m.ifindex = 3;
  m.multicast = true;
  return m;
}

} // namespace

// ---------------------------------------------------------------- encoding

TEST_CASE("a v2 PASS advert is the RFC 3768 layout, byte for byte", "[packet]") {
  Advert a;
  a.version = 2;
  a.vrid = 51;
  a.priority = 150;
  a.advertInt = seconds(1);
  a.authType = AuthType::Pass;
  a.authData = authDataFromPass("vrrpd");
  a.addrs = {ip("198.18.10.100"), ip("198.18.10.101")};
  const Bytes expect = {
      0x21, 0x33, 0x96, 0x02,               // version 2, type 1; vrid 51; priority 150; 2 addresses
      0x01, 0x01, 0x59, 0xf7,               // auth type 1 (PASS); 1 s; checksum (message only)
      198,  18,   10,   100,                // 198.18.10.100
      198,  18,   10,   101,                // 198.18.10.101
      'v',  'r',  'r',  'p',  'd', 0, 0, 0, // password, zero padded to 8
  };
  CHECK(encode(a, {}) == expect);
  CHECK(advertLength(a) == 24);
}

TEST_CASE("a v3 advert carries centiseconds and the pseudo-header checksum", "[packet]") {
  Advert a;
  a.version = 3;
  a.vrid = 51;
  a.priority = 150;
  a.advertInt = seconds(1);
  a.addrs = {ip("198.18.10.100"), ip("198.18.10.101")};
  EncodeOptions o{ip("198.18.10.1"), ip("224.0.0.18")};
  const Bytes expect = {
      0x31, 0x33, 0x96, 0x02, // version 3, type 1; vrid 51; priority 150; 2 addresses
      0x00, 0x64, 0xe6, 0xd0, // reserved 0, 100 cs; checksum incl. the IPv4 pseudo-header
      198,  18,   10,   100,  198, 18, 10, 101,
  };
  CHECK(encode(a, o) == expect);

  SECTION("without the pseudo-header when v3_checksum_as_v2") {
    o.v3ChecksumAsV2 = true;
    Bytes b = expect;
    b[6] = b[7] = 0;
    const uint16_t c = common::inetChecksum(b);
    b[6] = static_cast<uint8_t>(c >> 8);
    b[7] = static_cast<uint8_t>(c);
    CHECK(encode(a, o) == b);
  }
}

TEST_CASE("the encoder truncates intervals to the wire unit, as keepalived", "[packet]") {
  Advert a;
  a.vrid = 1;
  a.addrs = {ip("198.18.0.1")};
  a.advertInt = milliseconds(1500);
  CHECK(encode(a, {})[5] == 1); // v2: whole seconds
  a.version = 3;
  a.advertInt = milliseconds(1234);
  const Bytes b = encode(a, {ip("198.18.0.2"), ip("224.0.0.18")});
  CHECK(b[4] == 0x00);
  CHECK(b[5] == 123); // v3: centiseconds
  a.advertInt = milliseconds(40950);
  const Bytes m = encode(a, {ip("198.18.0.2"), ip("224.0.0.18")});
  CHECK(m[4] == 0x0f);
  CHECK(m[5] == 0xff); // 4095 cs, the 12-bit maximum
}

TEST_CASE("the encoder refuses what cannot go on the wire", "[packet]") {
  Advert a;
  a.vrid = 1;
  a.addrs = {ip("198.18.0.1")};
  Bytes out(kVrrpMaxLen + kVrrpAuthLen);
  const EncodeOptions o{ip("198.18.0.2"), ip("224.0.0.18")};
  REQUIRE(encodeAdvert(a, o, out) == 20); // 8 + 4 + 8 (auth data)

  SECTION("a buffer one byte short") {
    CHECK(encodeAdvert(a, o, std::span<uint8_t>(out).first(19)) == 0);
  }
  SECTION("unknown version") {
    a.version = 4;
    CHECK(encodeAdvert(a, o, out) == 0);
  }
  SECTION("v2 interval below a second or above 255") {
    a.advertInt = milliseconds(999);
    CHECK(encodeAdvert(a, o, out) == 0);
    a.advertInt = seconds(256);
    CHECK(encodeAdvert(a, o, out) == 0);
  }
  SECTION("v3 interval below a centisecond or above 4095") {
    a.version = 3;
    a.advertInt = milliseconds(9);
    CHECK(encodeAdvert(a, o, out) == 0);
    a.advertInt = milliseconds(40960);
    CHECK(encodeAdvert(a, o, out) == 0);
  }
  SECTION("more than 255 addresses") {
    a.addrs.assign(256, ip("198.18.0.1"));
    CHECK(encodeAdvert(a, o, out) == 0);
  }
  SECTION("an address of the other family") {
    a.addrs.push_back(ip("2001:db8::1"));
    CHECK(encodeAdvert(a, o, out) == 0);
  }
  SECTION("v3 without the pseudo-header addresses") {
    a.version = 3;
    CHECK(encodeAdvert(a, {}, out) == 0);
    EncodeOptions asV2;
    asV2.v3ChecksumAsV2 = true;
    CHECK(encodeAdvert(a, asV2, out) == 12); // needs none
  }
}

TEST_CASE("auth_pass goes on the wire as 8 bytes, zero padded or truncated", "[packet]") {
  CHECK(authDataFromPass("") == std::array<uint8_t, 8>{});
  CHECK(authDataFromPass("ab") == std::array<uint8_t, 8>{'a', 'b', 0, 0, 0, 0, 0, 0});
  CHECK(authDataFromPass("123456789") ==
        std::array<uint8_t, 8>{'1', '2', '3', '4', '5', '6', '7', '8'});
}

// ------------------------------------------------------ captured keepalived

namespace {

struct CaptureCase {
  const char* file;
  int version;
  bool unicast;
  bool pass;
  int priority;
  ChecksumForm form;
};

const CaptureCase kCaptures[] = {
    {"v2_pass_master.hex", 2, false, true, 150, ChecksumForm::Message},
    {"v2_pass_prio0.hex", 2, false, true, 0, ChecksumForm::Message},
    {"v2_pass_backup_takeover.hex", 2, false, true, 100, ChecksumForm::Message},
    {"v3_mcast_master.hex", 3, false, false, 150, ChecksumForm::PseudoHeader},
    {"v3_mcast_prio0.hex", 3, false, false, 0, ChecksumForm::PseudoHeader},
    {"v3_unicast_master.hex", 3, true, false, 150, ChecksumForm::PseudoHeader},
    {"v3_unicast_oldck_master.hex", 3, true, false, 150, ChecksumForm::PseudoHeaderGroup},
    {"v2_unicast_master.hex", 2, true, false, 150, ChecksumForm::Message},
};

} // namespace

TEST_CASE("keepalived's adverts decode, and encode back to the same bytes", "[packet][capture]") {
  for (const auto& k : kCaptures) {
    INFO(k.file);
    const Captured c = loadCapture(k.file);
    Expectation e = captureInstance(k.version, k.unicast, k.pass);
    if (k.unicast) e.unicastPeers = {c.meta.src}; // either side may be the sender
    const Accepted& ok = accepted(decode(c.payload, c.meta, e));
    const Advert& a = ok.advert;
    CHECK(a.version == k.version);
    CHECK(a.vrid == 51);
    CHECK(a.priority == k.priority);
    CHECK(a.advertInt == seconds(1));
    CHECK(a.authType == (k.pass ? AuthType::Pass : AuthType::None));
    CHECK(a.addrs == std::vector<common::IpAddr>{ip("198.18.10.100"), ip("198.18.10.101")});
    CHECK(ok.checksum == k.form);
    CHECK(ok.addressesChecked);
    CHECK(c.meta.ttl == 255); // keepalived's unicast TTL is 255 too

    EncodeOptions o{c.meta.src, c.meta.dst};
    if (k.form == ChecksumForm::PseudoHeaderGroup) o.dst = ip("224.0.0.18"); // old_unicast_checksum
    CHECK(encode(a, o) == c.payload);
  }
}

TEST_CASE("a keepalived v3 checksum is wrong without the pseudo-header", "[packet][capture]") {
  Captured c = loadCapture("v3_mcast_master.hex");
  CHECK_FALSE(common::InetChecksum().add(c.payload).verify());
  common::InetChecksum sum;
  common::addIpv4PseudoHeader(sum, c.meta.src.v4, c.meta.dst.v4, 112,
                              static_cast<uint16_t>(c.payload.size()));
  CHECK(sum.add(c.payload).verify());
}

TEST_CASE("the password is the last 8 bytes of a captured v2 PASS advert", "[packet][capture]") {
  const Captured c = loadCapture("v2_pass_master.hex");
  Expectation e = captureInstance(2, false, true);
  e.authPass = "vrrpX";
  const Rejection& r = rejected(decode(c.payload, c.meta, e));
  CHECK(r.reason == Reason::AuthFailure);
  CHECK(r.text == "(VI_1) received an invalid passwd!");
  CHECK(r.instance == 0);
}

// ------------------------------------------------------- checksum forms

TEST_CASE("the decoder accepts a v3 checksum with or without the pseudo-header", "[packet]") {
  Advert a;
  a.version = 3;
  a.vrid = 51;
  a.priority = 100;
  a.addrs = {ip("198.18.10.100"), ip("198.18.10.101")};
  const RxMeta m = mcastMeta();
  const Expectation e = captureInstance(3, false, false);

  EncodeOptions o{m.src, m.dst};
  CHECK(accepted(decode(encode(a, o), m, e)).checksum == ChecksumForm::PseudoHeader);
  o.v3ChecksumAsV2 = true;
  CHECK(accepted(decode(encode(a, o), m, e)).checksum == ChecksumForm::WithoutPseudoHeader);

  SECTION("but not a pseudo-header with another source") {
    EncodeOptions other{ip("198.18.10.9"), m.dst};
    const Rejection& r = rejected(decode(encode(a, other), m, e));
    CHECK(r.reason == Reason::Checksum);
    CHECK(r.text == "(VI_1) Invalid VRRPv3 checksum");
  }
  SECTION("the group in the pseudo-header only for unicast adverts") {
    Expectation u = captureInstance(3, true, false);
    RxMeta um = m;
    um.dst = ip("198.18.10.2");
    um.multicast = false;
    CHECK(accepted(decode(encode(a, {m.src, m.dst}), um, u)).checksum ==
          ChecksumForm::PseudoHeaderGroup);
    CHECK(accepted(decode(encode(a, {m.src, um.dst}), um, u)).checksum ==
          ChecksumForm::PseudoHeader);
  }
}

// ------------------------------------------------------------------ IPv6

TEST_CASE("v3 over IPv6: 16-byte addresses and the IPv6 pseudo-header", "[packet][ipv6]") {
  Advert a;
  a.version = 3;
  a.family = AF_INET6;
  a.vrid = 7;
  a.priority = 200;
  a.advertInt = milliseconds(500);
  a.addrs = {ip("fe80::100"), ip("2001:db8::100")};
  RxMeta m;
  m.ttl = 255;
  m.src = ip("fe80::1");
  m.dst = ip("ff02::12");
  const Bytes b = encode(a, {m.src, m.dst});
  REQUIRE(b.size() == 8 + 2 * 16);
  CHECK(b[0] == 0x31);
  CHECK(b[3] == 2);
  CHECK(b[4] == 0x00);
  CHECK(b[5] == 50);

  common::InetChecksum c;
  common::addIpv6PseudoHeader(c, m.src.v6, m.dst.v6, 112, static_cast<uint32_t>(b.size()));
  CHECK(c.add(b).verify());

  Expectation e;
  e.name = "VI_6";
  e.vrid = 7;
  e.family = AF_INET6;
  e.version = 3;
  e.vips = a.addrs;
  const Accepted& ok = accepted(decode(b, m, e));
  CHECK(ok.advert.family == AF_INET6);
  CHECK(ok.advert.addrs == a.addrs);
  CHECK(ok.advert.advertInt == milliseconds(500));
  CHECK(ok.checksum == ChecksumForm::PseudoHeader);

  SECTION("an IPv4 instance of the same VRID does not match") {
    Expectation v4 = captureInstance(3, false, false);
    v4.vrid = 7;
    CHECK(rejected(decode(b, m, v4)).reason == Reason::UnknownVrid);
  }
  SECTION("a corrupted byte fails the checksum") {
    Bytes bad = b;
    bad[20] ^= 0x40;
    CHECK(rejected(decode(bad, m, e)).reason == Reason::Checksum);
  }
}

TEST_CASE("v2 over IPv6 has no authentication data, as keepalived", "[packet][ipv6]") {
  Advert a;
  a.family = AF_INET6;
  a.vrid = 9;
  a.addrs = {ip("2001:db8::9")};
  const Bytes b = encode(a, {ip("fe80::1"), ip("ff02::12")});
  CHECK(b.size() == 8 + 16);
  auto parsed = parseAdvert(b, AF_INET6);
  REQUIRE(parsed);
  CHECK(parsed->addrs == a.addrs);
}

// ------------------------------------------------------------ rejections

namespace {

// A valid v2 PASS advert with the instance that accepts it; each mutation
// breaks one check. Byte changes are made before the checksum is computed,
// so they fail only their own check.
struct Case {
  Advert advert;
  RxMeta meta = mcastMeta();
  Expectation exp = captureInstance(2, false, true);
  int versionNibble = -1; // -1: as encoded
  int typeNibble = -1;
  int authByte = -1;
  bool corruptChecksum = false;
  bool extraByte = false;
  bool truncate = false;

  Case() {
    advert.vrid = 51;
    advert.priority = 100;
    advert.authType = AuthType::Pass;
    advert.authData = authDataFromPass("vrrpd");
    advert.addrs = {ip("198.18.10.100"), ip("198.18.10.101")};
  }
  Bytes bytes() const {
    Bytes b = encode(advert, {meta.src, meta.dst});
    if (versionNibble >= 0) b[0] = static_cast<uint8_t>(versionNibble << 4 | (b[0] & 0x0f));
    if (typeNibble >= 0) b[0] = static_cast<uint8_t>((b[0] & 0xf0) | typeNibble);
    if (authByte >= 0) b[4] = static_cast<uint8_t>(authByte);
    b[6] = b[7] = 0;
    uint16_t c = common::inetChecksum(b);
    if (corruptChecksum) c ^= 0x0101;
    b[6] = static_cast<uint8_t>(c >> 8);
    b[7] = static_cast<uint8_t>(c);
    if (extraByte) b.push_back(0);
    if (truncate) b.resize(7);
    return b;
  }
  DecodeResult run() const { return decode(bytes(), meta, exp); }
};

struct Mutation {
  Reason reason;
  const char* text;
  void (*apply)(Case&);
};

// In the order the decoder checks.
const Mutation kMutations[] = {
    {Reason::Ttl, "(VI_1) invalid TTL/HL. Received 254 and expect 255",
     [](Case& c) { c.meta.ttl = 254; }},
    {Reason::TooShort, "IPv4 VRRP packet too short - 7 bytes", [](Case& c) { c.truncate = true; }},
    {Reason::Length, "(VI_1) vrrp packet too long, length 25 and expect 24",
     [](Case& c) { c.extraByte = true; }},
    {Reason::Version, "(VI_1) wrong version. Received 2 and expect 3",
     [](Case& c) { c.exp.version = 3; }},
    {Reason::Checksum, "(VI_1) Invalid VRRPv2 checksum", [](Case& c) { c.corruptChecksum = true; }},
    {Reason::Type, "(VI_1) Invalid packet type. 2 and expect 1", [](Case& c) { c.typeNibble = 2; }},
    {Reason::UnknownVrid,
     "Unknown VRID(51) received on interface(vp-b) from 198.18.10.1. ignoring...",
     [](Case& c) {
       c.exp.vrid = 52;
       c.meta.ifname = "vp-b";
     }},
    {Reason::AuthTypeInvalid, "(VI_1) Invalid auth type: 7", [](Case& c) { c.authByte = 7; }},
    {Reason::AuthUnsupported, "(VI_1) AH authentication is not supported",
     [](Case& c) { c.authByte = 2; }},
    {Reason::AuthTypeMismatch, "(VI_1) received a 1 auth, expecting 0!",
     [](Case& c) { c.exp.authType = AuthType::None; }},
    {Reason::AuthFailure, "(VI_1) received an invalid passwd!",
     [](Case& c) { c.exp.authPass = "VRRPD"; }},
    {Reason::AdvertInterval, "(VI_1) advertisement interval mismatch mine=2 sec rcv'd=1 sec",
     [](Case& c) { c.exp.advertInt = seconds(2); }},
    {Reason::CastMismatch, "(VI_1) Expected multicast packet but received unicast packet",
     [](Case& c) { c.meta.multicast = false; }},
    {Reason::AddressCount, "(VI_1) received an unexpected ip number count 2, expected 3!",
     [](Case& c) { c.exp.vips.push_back(ip("198.18.10.102")); }},
    {Reason::AddressMissing,
     "(VI_1) ip address associated with VRID 51 not present in MASTER advert: 198.18.10.99",
     [](Case& c) { c.exp.vips[1] = ip("198.18.10.99"); }},
};
constexpr size_t kMutationCount = sizeof kMutations / sizeof kMutations[0];

// Pairs that cannot both hold: the same byte, or an instance check that
// needs the VRID to match (a version mismatch is against the instance).
bool conflicting(size_t i, size_t j) {
  auto is = [&](Reason a, Reason b) {
    return (kMutations[i].reason == a && kMutations[j].reason == b) ||
           (kMutations[i].reason == b && kMutations[j].reason == a);
  };
  return is(Reason::AuthTypeInvalid, Reason::AuthUnsupported) ||
         is(Reason::Version, Reason::UnknownVrid);
}

} // namespace

TEST_CASE("the unmutated case is accepted", "[packet][reject]") {
  Case c;
  const Accepted& ok = accepted(c.run());
  CHECK(ok.advert.priority == 100);
  CHECK(ok.instance == 0);
}

TEST_CASE("each check rejects with keepalived's words", "[packet][reject]") {
  for (const auto& m : kMutations) {
    Case c;
    m.apply(c);
    const Rejection& r = rejected(c.run());
    INFO(reasonName(m.reason) << ": " << r.text);
    CHECK(r.reason == m.reason);
    CHECK(r.text == m.text);
    CHECK(r.instance == (m.reason == Reason::UnknownVrid ? -1 : 0));
  }
}

TEST_CASE("a packet wrong in two ways reports the earlier check", "[packet][reject]") {
  int pairs = 0;
  for (size_t i = 0; i < kMutationCount; ++i)
    for (size_t j = i + 1; j < kMutationCount; ++j) {
      if (conflicting(i, j)) continue;
      Case c;
      kMutations[j].apply(c);
      kMutations[i].apply(c);
      const Rejection& r = rejected(c.run());
      INFO(reasonName(kMutations[i].reason)
           << " + " << reasonName(kMutations[j].reason) << ": " << r.text);
      CHECK(r.reason == kMutations[i].reason);
      ++pairs;
    }
  CHECK(pairs == 103);
}

TEST_CASE("a version other than 2 or 3 is rejected even at the right length", "[packet][reject]") {
  Case c;
  c.versionNibble = 4; // sized as v3 would be: no auth data
  Bytes b = c.bytes();
  b.resize(b.size() - kVrrpAuthLen);
  b[6] = b[7] = 0;
  const uint16_t s = common::inetChecksum(b);
  b[6] = static_cast<uint8_t>(s >> 8);
  b[7] = static_cast<uint8_t>(s);
  const Rejection& r = rejected(decode(b, c.meta, c.exp));
  CHECK(r.reason == Reason::Version);
  CHECK(r.text == "(VI_1) wrong version. Received 4 and expect 2");
}

TEST_CASE("a short packet with too few addresses reports its length", "[packet][reject]") {
  Case c;
  Bytes b = c.bytes();
  b.resize(20); // count says 2 addresses: 8 + 8 + 8 = 24
  const Rejection& r = rejected(decode(b, c.meta, c.exp));
  CHECK(r.reason == Reason::Length);
  CHECK(r.text == "(VI_1) vrrp packet too short, length 20 and expect 24");
}

TEST_CASE("the TTL is not checked for unicast instances, as keepalived", "[packet][reject]") {
  Case c;
  c.exp.unicastPeers = {ip("198.18.10.1")};
  c.meta.multicast = false;
  c.meta.dst = ip("198.18.10.2");
  c.meta.ttl = 64;
  accepted(c.run());
  c.meta.ttl = -1; // unknown: never checked
  c.exp.unicastPeers.clear();
  c.meta.multicast = true;
  accepted(c.run());
}

TEST_CASE("a v2 advert with a different interval is dropped", "[packet][reject]") {
  Case c;
  c.advert.advertInt = seconds(3);
  const Rejection& r = rejected(c.run());
  CHECK(r.reason == Reason::AdvertInterval);
  CHECK(r.text == "(VI_1) advertisement interval mismatch mine=1 sec rcv'd=3 sec");
  CHECK(counterFor(r.reason) == Counter::AdvertInterval);
}

TEST_CASE("a v3 advert teaches the master's interval", "[packet]") {
  Advert a;
  a.version = 3;
  a.vrid = 51;
  a.priority = 200;
  a.advertInt = milliseconds(250);
  a.addrs = {ip("198.18.10.100"), ip("198.18.10.101")};
  const RxMeta m = mcastMeta();
  const Expectation e = captureInstance(3, false, false); // ours: 1 s
  CHECK(accepted(decode(encode(a, {m.src, m.dst}), m, e)).advert.advertInt == milliseconds(250));

  SECTION("the reserved bits are ignored") {
    Bytes b = encode(a, {m.src, m.dst});
    b[4] |= 0xf0;
    b[6] = b[7] = 0;
    common::InetChecksum s;
    common::addIpv4PseudoHeader(s, m.src.v4, m.dst.v4, 112, static_cast<uint16_t>(b.size()));
    const uint16_t v = s.add(b).checksum();
    b[6] = static_cast<uint8_t>(v >> 8);
    b[7] = static_cast<uint8_t>(v);
    CHECK(accepted(decode(b, m, e)).advert.advertInt == milliseconds(250));
  }
  SECTION("but a zero interval is refused") {
    Bytes b = encode(a, {m.src, m.dst});
    b[5] = 0;
    b[6] = b[7] = 0;
    common::InetChecksum s;
    common::addIpv4PseudoHeader(s, m.src.v4, m.dst.v4, 112, static_cast<uint16_t>(b.size()));
    const uint16_t v = s.add(b).checksum();
    b[6] = static_cast<uint8_t>(v >> 8);
    b[7] = static_cast<uint8_t>(v);
    const Rejection& r = rejected(decode(b, m, e));
    CHECK(r.reason == Reason::AdvertIntervalZero);
    CHECK(r.text == "(VI_1) received an invalid advert_int 0");
  }
}

TEST_CASE("v3 has no authentication to check", "[packet]") {
  Advert a;
  a.version = 3;
  a.vrid = 51;
  a.addrs = {ip("198.18.10.100"), ip("198.18.10.101")};
  const RxMeta m = mcastMeta();
  Expectation e = captureInstance(3, false, true); // a PASS setting is ignored in v3
  accepted(decode(encode(a, {m.src, m.dst}), m, e));
}

TEST_CASE("check_unicast_src refuses a source that is not a peer", "[packet][reject]") {
  Case c;
  c.exp.unicastPeers = {ip("198.18.10.7")};
  c.exp.checkUnicastSrc = true;
  c.meta.multicast = false;
  c.meta.dst = ip("198.18.10.2");
  const Rejection& r = rejected(c.run());
  CHECK(r.reason == Reason::UnicastSrc);
  CHECK(r.text == "(VI_1) unicast source address 198.18.10.1 not a unicast peer");
  c.exp.checkUnicastSrc = false;
  accepted(c.run());
  c.exp.checkUnicastSrc = true;
  c.exp.unicastPeers.push_back(ip("198.18.10.1"));
  accepted(c.run());
}

TEST_CASE("a unicast instance refuses multicast adverts", "[packet][reject]") {
  Case c;
  c.exp.unicastPeers = {ip("198.18.10.1")};
  const Rejection& r = rejected(c.run());
  CHECK(r.reason == Reason::CastMismatch);
  CHECK(r.text == "(VI_1) Expected unicast packet but received multicast packet");
  CHECK(counterFor(r.reason) == Counter::AddressList);
}

TEST_CASE("vrrp_skip_check_adv_addr skips the address checks for the known master", "[packet]") {
  Case c;
  c.exp.vips = {ip("198.18.10.100"), ip("198.18.10.99")}; // differs from the advert
  c.exp.skipCheckAdvAddr = true;
  CHECK(rejected(c.run()).reason == Reason::AddressMissing); // no master known yet

  c.exp.currentMaster = ip("198.18.10.1");
  const Accepted& ok = accepted(c.run());
  CHECK_FALSE(ok.addressesChecked);

  c.exp.currentMaster = ip("198.18.10.5"); // a new master: checked
  CHECK(rejected(c.run()).reason == Reason::AddressMissing);

  c.exp.skipCheckAdvAddr = false;
  c.exp.currentMaster = ip("198.18.10.1");
  CHECK(rejected(c.run()).reason == Reason::AddressMissing);
}

TEST_CASE("the addresses may come in any order", "[packet]") {
  Case c;
  std::swap(c.exp.vips[0], c.exp.vips[1]);
  accepted(c.run());
}

TEST_CASE("the VRID, family and interface select the instance", "[packet]") {
  Case c;
  std::vector<Expectation> all(3, c.exp);
  all[0].vrid = 50;
  all[1].ifindex = 9; // same VRID, another interface
  all[2].ifindex = 3;
  all[2].name = "VI_3";
  const Bytes b = c.bytes();
  const auto r = decodeAdvert(b, c.meta, all);
  CHECK(accepted(r).instance == 2);

  all[2].advertInt = seconds(5);
  const Rejection& rej = rejected(decodeAdvert(b, c.meta, all));
  CHECK(rej.instance == 2);
  CHECK(rej.text.rfind("(VI_3) ", 0) == 0);

  c.meta.ifname.clear();
  const Rejection& none = rejected(decodeAdvert(b, c.meta, std::span(all).first(2)));
  CHECK(none.reason == Reason::UnknownVrid);
  CHECK(none.text == "Unknown VRID(51) received on interface(3) from 198.18.10.1. ignoring...");
  CHECK(rejected(decodeAdvert(b, c.meta, {})).reason == Reason::UnknownVrid);
}

// ------------------------------------------------------- robustness

TEST_CASE("every truncation is rejected for its length", "[packet][robust]") {
  std::vector<std::pair<Bytes, RxMeta>> packets;
  for (const auto& k : kCaptures) {
    const Captured c = loadCapture(k.file);
    packets.push_back({c.payload, c.meta});
  }
  Case big;
  big.advert.addrs.assign(255, ip("198.18.0.1"));
  big.exp.vips = big.advert.addrs;
  packets.push_back({big.bytes(), big.meta});
  REQUIRE(packets.back().first.size() == 8 + 255 * 4 + 8);

  const Expectation e = captureInstance(2, false, true);
  for (const auto& [p, meta] : packets) {
    for (size_t n = 0; n < p.size(); ++n) {
      const Bytes cut(p.begin(), p.begin() + static_cast<long>(n));
      const Rejection& r = rejected(decode(cut, meta, e));
      CHECK((r.reason == (n < 8 ? Reason::TooShort : Reason::Length)));
      CHECK_FALSE(parseAdvert(cut, AF_INET));
    }
  }
}

TEST_CASE("random bytes never crash the decoder", "[packet][robust]") {
  std::mt19937 rng(5798);
  const Expectation insts[] = {captureInstance(2, false, true), captureInstance(3, false, false),
                               captureInstance(3, true, false)};
  Case base;
  const Bytes valid = base.bytes();
  int acceptedCount = 0;
  for (int i = 0; i < 4000; ++i) {
    Bytes b;
    if (i % 2 == 0) {
      b.resize(rng() % 80);
      for (auto& x : b)
        x = static_cast<uint8_t>(rng());
      if (b.size() > 1 && rng() % 2) b[1] = 51; // reach the instance checks more often
    } else {
      b = valid; // a valid advert with a few bytes flipped
      for (int f = 0, n = 1 + static_cast<int>(rng() % 3); f < n; ++f)
        b[rng() % b.size()] ^= static_cast<uint8_t>(1 + rng() % 255);
    }
    RxMeta m = mcastMeta();
    m.multicast = rng() % 4 != 0;
    m.ttl = rng() % 8 == 0 ? static_cast<int>(rng() % 256) : 255;
    if (rng() % 5 == 0) m.src = ip("2001:db8::1"), m.dst = ip("ff02::12");
    const auto r = decodeAdvert(b, m, insts);
    if (auto* ok = std::get_if<Accepted>(&r)) {
      ++acceptedCount;
      CHECK(advertLength(ok->advert) == b.size());
      CHECK(ok->instance < 3);
    } else {
      CHECK_FALSE(std::get<Rejection>(r).text.empty());
    }
    (void)parseAdvert(b, AF_INET);
    (void)parseAdvert(b, AF_INET6);
  }
  CHECK(acceptedCount < 4000);
}

// ------------------------------------------------------------ reporting

TEST_CASE("describe() names the fields but never the password", "[packet]") {
  const Captured c = loadCapture("v2_pass_master.hex");
  const auto a = parseAdvert(c.payload, AF_INET);
  REQUIRE(a);
  CHECK(describe(*a) ==
        "VRRPv2 vrid 51 prio 150 int 1s auth PASS addrs 198.18.10.100,198.18.10.101 "
        "csum 0x59f7");
  Advert v3;
  v3.version = 3;
  v3.vrid = 1;
  v3.advertInt = milliseconds(350);
  CHECK(describe(v3) == "VRRPv3 vrid 1 prio 0 int 350ms addrs - csum 0x0000");
}

TEST_CASE("reasons map onto keepalived's stats counters", "[packet]") {
  CHECK(counterFor(Reason::Ttl) == Counter::Ttl);
  CHECK(counterFor(Reason::TooShort) == Counter::PacketLength);
  CHECK(counterFor(Reason::Length) == Counter::PacketLength);
  CHECK(counterFor(Reason::Type) == Counter::InvalidType);
  CHECK(counterFor(Reason::AuthTypeInvalid) == Counter::AuthInvalidType);
  CHECK(counterFor(Reason::AuthTypeMismatch) == Counter::AuthTypeMismatch);
  CHECK(counterFor(Reason::AuthFailure) == Counter::AuthFailure);
  CHECK(counterFor(Reason::AddressMissing) == Counter::AddressList);
  CHECK(counterFor(Reason::UnknownVrid) == Counter::UnknownVrid);
  CHECK(std::string(counterName(Counter::PacketLength)) == "Length");
  CHECK(std::string(counterSection(Counter::PacketLength)) == "Packet Errors");
  CHECK(std::string(counterName(Counter::AuthFailure)) == "Failure");
  CHECK(std::string(counterSection(Counter::AuthFailure)) == "Authentication Errors");
  CHECK(std::string(counterSection(Counter::Checksum)).empty());
  for (int r = 0; r <= static_cast<int>(Reason::UnicastSrc); ++r)
    CHECK(std::string(reasonName(static_cast<Reason>(r))) != "unknown");
}
