// libFuzzer target: the VRRP advert decoder (vrrpd/packet.h) on untrusted
// bytes. The first input byte picks the metadata (IPv4 multicast, IPv4
// unicast, IPv6 multicast; TTL 255 or not), the rest is the VRRP message.
// Beyond "no crash, no read outside the span" (ASan), an accepted advert must
// encode back to the same message (checksum and the bits the encoder
// normalises aside) and that encoding must be accepted again; a failure
// aborts so the fuzzer reports it.
#include "vrrpd/packet.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

using namespace vrrpd;

common::IpAddr ip(const char* s) {
  return *common::parseIp(s);
}

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "vrrp packet round trip failed: %s\n", what);
  std::abort();
}

std::vector<Expectation> instances(int family, bool unicast) {
  std::vector<Expectation> v;
  for (int version : {2, 3}) {
    Expectation e;
    e.name = version == 2 ? "VI_2" : "VI_3";
    e.vrid = version == 2 ? 51 : 52;
    e.family = family;
    e.version = version;
    e.authType = version == 2 ? AuthType::Pass : AuthType::None;
    e.authPass = "vrrpd";
    if (family == AF_INET6) {
      e.vips = {ip("2001:db8::100")};
      if (unicast) e.unicastPeers = {ip("2001:db8::1")};
    } else {
      e.vips = {ip("198.18.10.100"), ip("198.18.10.101")};
      if (unicast) e.unicastPeers = {ip("198.18.10.1")};
    }
    v.push_back(e);
  }
  return v;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t sel = data[0];
  const std::span<const uint8_t> payload(data + 1, size - 1);

  const bool v6 = (sel & 3) == 2;
  const bool unicast = !v6 && (sel & 3) == 1;
  RxMeta m;
  m.ttl = (sel & 4) ? 64 : 255;
  m.ifindex = 2;
  m.multicast = !unicast;
  m.src = ip(v6 ? "2001:db8::1" : "198.18.10.1");
  m.dst = ip(v6 ? "ff02::12" : unicast ? "198.18.10.2" : "224.0.0.18");
  const int family = v6 ? AF_INET6 : AF_INET;
  const auto insts = instances(family, unicast);

  (void)parseAdvert(payload, AF_INET);
  (void)parseAdvert(payload, AF_INET6);

  const DecodeResult r = decodeAdvert(payload, m, insts);
  const auto* ok = std::get_if<Accepted>(&r);
  if (!ok) {
    if (std::get<Rejection>(r).text.empty()) fail("rejection without a text");
    return 0;
  }

  EncodeOptions o{m.src, m.dst};
  if (ok->checksum == ChecksumForm::PseudoHeaderGroup) o.dst = ip("224.0.0.18");
  o.v3ChecksumAsV2 = ok->checksum == ChecksumForm::WithoutPseudoHeader;
  std::vector<uint8_t> out(kVrrpMaxLen + kVrrpAuthLen);
  const size_t n = encodeAdvert(ok->advert, o, out);
  if (n != payload.size()) fail("length");

  std::vector<uint8_t> want(payload.begin(), payload.end());
  if (ok->advert.version == 3) want[4] &= 0x0f; // reserved bits: written as zero
  if (ok->advert.version == 2 && family == AF_INET && ok->advert.authType == AuthType::None)
    for (size_t i = n - kVrrpAuthLen; i < n; ++i)
      want[i] = 0; // no password: zeros
  for (size_t i = 0; i < n; ++i)
    if (i != 6 && i != 7 && out[i] != want[i]) fail("bytes");

  out.resize(n);
  const DecodeResult again = decodeAdvert(out, m, insts);
  const auto* ok2 = std::get_if<Accepted>(&again);
  if (!ok2) fail("re-encoded advert rejected");
  if (ok2->checksum != ok->checksum) fail("checksum form");
  return 0;
}
