#pragma once
// The VRRP advertisement codec: VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798),
// over IPv4 and IPv6, byte-compatible with keepalived 2.2. Pure: no sockets.
//
// Only the VRRP message is handled; the IP header is the kernel's (raw
// socket, IP_HDRINCL off) and reaches the decoder as metadata (RxMeta).
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-------+-------+---------------+---------------+---------------+
// |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
// +-------+-------+---------------+---------------+---------------+
// v2: |  Auth Type  |  Adver Int (s)  |          Checksum           |
// v3: |(rsvd)|  Max Adver Int (cs, 12 bits)  |       Checksum       |
// +---------------------------------------------------------------+
// |          IPvX Address(es): Count × 4 (IPv4) or × 16 (IPv6)    |
// +---------------------------------------------------------------+
// | v2 over IPv4 only: Authentication Data, 8 bytes               |
// +---------------------------------------------------------------+
//
// Checksums, as keepalived computes them:
//   v2/IPv4  over the VRRP message only (authentication data included);
//   v3/IPv4  with the IPv4 pseudo-header (src, dst, 0, 112, VRRP length)
//            first; keepalived's old_unicast_checksum puts the multicast
//            group in the pseudo-header instead of the unicast peer;
//            `v3ChecksumAsV2` leaves the pseudo-header out (as some other
//            vendors do);
//   IPv6     with the IPv6 pseudo-header (keepalived leaves it to the kernel,
//            IPV6_CHECKSUM); v2 over IPv6 has no authentication data, as in
//            keepalived.
#include "common/values.h"
#include "vrrpd/config.h" // AuthType: its values are the wire values (0, 1, 2)

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace vrrpd {

inline constexpr int kVrrpTtl = 255;         // TTL / hop limit of multicast adverts
inline constexpr size_t kVrrpHeaderLen = 8;  // the fixed fields
inline constexpr size_t kVrrpAuthLen = 8;    // v2 over IPv4: authentication data
inline constexpr size_t kVrrpMaxAddrs = 255; // Count IP Addrs is one byte
// The largest message: 255 IPv6 addresses (or 255 IPv4 ones plus auth).
inline constexpr size_t kVrrpMaxLen = kVrrpHeaderLen + kVrrpMaxAddrs * 16;

// One advertisement, in host terms.
struct Advert {
  int version = 2;      // 2 or 3
  int family = AF_INET; // of the addresses and of the IP packet carrying them
  uint8_t vrid = 0;
  uint8_t priority = 0; // 0: the master is stopping; 255: address owner
  // v2: whole seconds on the wire (1..255); v3: centiseconds, 12 bits
  // (1..4095). Encoding truncates to the unit, as keepalived does. Decoding a
  // v3 advert gives the master's interval: the caller learns it.
  common::Micros advertInt{std::chrono::seconds(1)};
  AuthType authType = AuthType::None; // v2 only; v3 has no authentication
  std::array<uint8_t, 8> authData{};  // v2 PASS: the password, zero padded
  std::vector<common::IpAddr> addrs;  // all of `family`
  uint16_t checksum = 0;              // decode: as received; encode: ignored (computed)
};

// auth_pass as keepalived puts it on the wire: at most 8 bytes, zero padded.
std::array<uint8_t, 8> authDataFromPass(std::string_view pass);

struct EncodeOptions {
  // The IP source and destination of the packet, for the v3/IPv6 pseudo-
  // header. For keepalived's old_unicast_checksum, pass the multicast group
  // as `dst` even when sending to a unicast peer.
  common::IpAddr src;
  common::IpAddr dst;
  bool v3ChecksumAsV2 = false; // v3 over IPv4: checksum without the pseudo-header
};

// The encoded length of `a` (0 when its version or family is unknown).
size_t advertLength(const Advert& a);
// Writes the VRRP message of `a` into `out`; returns its length, or 0 (and
// `out` is then unspecified) when `out` is too small or `a` cannot be encoded:
// version not 2 or 3, family not AF_INET/AF_INET6, more than 255 addresses or
// one of another family, interval out of range after truncation, or (v3/IPv6
// with a pseudo-header) src/dst not of `a.family`.
size_t encodeAdvert(const Advert& a, const EncodeOptions& o, std::span<uint8_t> out);

// Where and how a message arrived.
struct RxMeta {
  int ttl = -1;       // IPv4 TTL / IPv6 hop limit; -1: unknown, not checked
  common::IpAddr src; // its family selects IPv4 or IPv6 decoding (IPv4 unless AF_INET6)
  common::IpAddr dst;
  int ifindex = 0;
  std::string ifname;    // only for texts; empty: the ifindex is printed
  bool multicast = true; // sent to a multicast group (else to us, unicast)
};

// What a local instance accepts: one per vrrp_instance on the interface.
struct Expectation {
  std::string name; // "VI_1": texts start "(VI_1) ", as keepalived's
  int vrid = 0;
  int family = AF_INET;
  int ifindex = 0; // 0: any interface
  int version = 2;
  AuthType authType = AuthType::None;
  std::string authPass;                              // PASS: compared as 8 bytes, zero padded
  common::Micros advertInt{std::chrono::seconds(1)}; // v2: must equal the advert's
  std::vector<common::IpAddr> vips;                  // virtual_ipaddress of `family`, in order
  std::vector<common::IpAddr> unicastPeers;          // empty: a multicast instance
  bool checkUnicastSrc = false;                      // vrrp_check_unicast_src / check_unicast_src
  // vrrp_skip_check_adv_addr: adverts from `currentMaster` (the master heard
  // last, known in BACKUP state) skip the address checks, as in keepalived.
  // A MASTER leaves currentMaster empty: keepalived always checks there.
  bool skipCheckAdvAddr = false;
  std::optional<common::IpAddr> currentMaster;
  // The multicast group (family 0: 224.0.0.18 / ff02::12), to recognise
  // keepalived's old_unicast_checksum on v3 unicast adverts.
  common::IpAddr mcastGroup;
};

// Why a message was rejected, in the order the checks run: a message wrong
// in two ways reports the earlier check.
enum class Reason : uint8_t {
  Ttl,                // TTL/hop limit not 255 (multicast instances only)
  TooShort,           // fewer than 8 bytes
  Length,             // length not header + count × address size (+ auth for v2/IPv4)
  Version,            // not 2 or 3, or not the instance's
  Checksum,           // no accepted checksum form matches
  Type,               // not 1 (advertisement)
  UnknownVrid,        // no local instance for this VRID (family, interface)
  AuthTypeInvalid,    // v2: auth type not 0, 1 or 2
  AuthUnsupported,    // v2: auth type 2 (IPsec AH), which vrrpd does not implement
  AuthTypeMismatch,   // v2: auth type not the instance's
  AuthFailure,        // v2 PASS: the 8 bytes differ
  AdvertInterval,     // v2: interval not the instance's (keepalived drops it)
  AdvertIntervalZero, // v3: a zero interval (vrrpd's own check)
  CastMismatch,       // multicast advert to a unicast instance, or the reverse
  AddressCount,       // count not the number of configured VIPs
  AddressMissing,     // a configured VIP is not in the advert
  UnicastSrc,         // check_unicast_src: the source is not a unicast peer
};

// How the checksum of an accepted message was computed.
enum class ChecksumForm : uint8_t {
  Message,             // v2/IPv4: the VRRP message only
  PseudoHeader,        // v3/IPv4 and IPv6: pseudo-header with the received dst
  PseudoHeaderGroup,   // v3/IPv4 unicast: pseudo-header with the group as dst
                       // (keepalived's old_unicast_checksum)
  WithoutPseudoHeader, // v3/IPv4: as v2 (v3_checksum_as_v2 senders)
};

struct Accepted {
  Advert advert;
  size_t instance = 0; // index into the expectations
  ChecksumForm checksum = ChecksumForm::Message;
  bool addressesChecked = true; // false: skipped (skipCheckAdvAddr, same master)
};

struct Rejection {
  Reason reason = Reason::TooShort;
  std::string text; // keepalived's log line (without its timestamp)
  // The instance matched by VRID (family, interface) whose counters the
  // caller bumps; -1 when none (too short to say, or unknown VRID).
  int instance = -1;
};

using DecodeResult = std::variant<Accepted, Rejection>;

// Validates one VRRP message against the local instances, in this order,
// stopping at the first failure: TTL (instances without unicast peers; when
// no instance matches the VRID, packets received by multicast), length,
// version, checksum, type, VRID, authentication (v2), advert interval,
// address list (cast, count, each VIP, unicast source). Never reads outside
// `payload`, never throws on any input.
DecodeResult decodeAdvert(std::span<const uint8_t> payload, const RxMeta& meta,
                          std::span<const Expectation> instances);

// Structure only (length, version 2 or 3; no checksum, type or instance
// checks): the advert the bytes describe, or nullopt.
std::optional<Advert> parseAdvert(std::span<const uint8_t> payload, int family);

// "VRRPv2 vrid 51 prio 150 int 1s auth PASS addrs 198.18.10.100,198.18.10.101
// csum 0x5bf7" for debug logs (the password is never printed).
std::string describe(const Advert& a);

// The counters of keepalived's stats dump (/tmp/keepalived.stats), plus ours.
enum class Counter : uint8_t {
  PacketLength,     // Packet Errors: Length
  Ttl,              // Packet Errors: TTL
  InvalidType,      // Packet Errors: Invalid Type
  AdvertInterval,   // Packet Errors: Advertisement Interval
  AddressList,      // Packet Errors: Address List
  AuthInvalidType,  // Authentication Errors: Invalid Type
  AuthTypeMismatch, // Authentication Errors: Type Mismatch
  AuthFailure,      // Authentication Errors: Failure
  Checksum,         // keepalived counts it for SNMP only (chk_err)
  Version,          // keepalived counts it for SNMP only (vers_err)
  UnknownVrid,      // no instance: the caller's global counter
  Other,            // not counted by keepalived (unicast source)
};
Counter counterFor(Reason r);
// keepalived's field label ("Length", "Invalid Type", ...) and its section
// ("Packet Errors", "Authentication Errors"; "" for ours).
const char* counterName(Counter c);
const char* counterSection(Counter c);
// A short stable name of a reason, for debug output: "ttl", "length", ...
const char* reasonName(Reason r);

} // namespace vrrpd
