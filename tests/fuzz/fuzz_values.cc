// libFuzzer target: every parser of common/values.h on the input, plus the
// round trips the rest of the code relies on (what str()/formatDuration()
// print parses back to the same value, as --dump output must). A failed
// round trip aborts with both texts, so the fuzzer reports it as a crash.
#include "common/values.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace {

[[noreturn]] void fail(const char* what, std::string_view in, const std::string& out) {
  std::fprintf(stderr, "round trip failed (%s): input '%.*s' printed as '%s'\n", what,
               static_cast<int>(in.size()), in.data(), out.c_str());
  std::abort();
}

bool sameSock(const common::SockAddr& a, const common::SockAddr& b) {
  return a.family() == b.family() && a.port() == b.port() && a.ip() == b.ip();
}

void durations(std::string_view s, common::Micros bareUnit) {
  auto d = common::parseDuration(s, bareUnit);
  if (!d) return;
  if (d->count() < 0) fail("duration is negative", s, common::formatDuration(*d));
  const std::string text = common::formatDuration(*d);
  auto back = common::parseDuration(text, bareUnit);
  if (!back || *back != *d) fail("duration", s, text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);

  durations(s, std::chrono::milliseconds(1)); // HAProxy
  durations(s, std::chrono::seconds(1));      // keepalived
  durations(s, std::chrono::microseconds(1));

  (void)common::parseSize(s).ok();

  if (auto v = common::parseInt(s, std::numeric_limits<int64_t>::min(),
                                std::numeric_limits<int64_t>::max())) {
    const std::string text = std::to_string(*v);
    auto back = common::parseInt(text, *v, *v);
    if (!back || *back != *v) fail("int", s, text);
  }
  if (auto v = common::parseInt(s, 1, 65535); v && (*v < 1 || *v > 65535))
    fail("int out of its range", s, std::to_string(*v));

  if (auto ip = common::parseIp(s)) {
    const std::string text = ip->str();
    auto back = common::parseIp(text);
    if (!back || !(*back == *ip)) fail("ip", s, text);
  }

  for (bool portOptional : {false, true}) {
    if (auto sa = common::parseHostPort(s, portOptional)) {
      const std::string text = sa->str();
      auto back = common::parseHostPort(text, portOptional);
      if (!back || !sameSock(*back, *sa)) fail("host:port", s, text);
      if (sa->len == 0) fail("host:port has no length", s, text);
    }
  }

  if (auto b = common::parseBindAddr(s)) {
    const std::string text = b->str();
    if (b->portLo == 0 || b->portLo > b->portHi) fail("bind port range", s, text);
    auto back = common::parseBindAddr(text);
    if (!back || !(back->ip == b->ip) || back->portLo != b->portLo || back->portHi != b->portHi)
      fail("bind", s, text);
  }

  if (auto c = common::parseCidr(s)) {
    const std::string text = c->str();
    const int maxPrefix = c->net.family == AF_INET ? 32 : 128;
    if (c->prefix < 0 || c->prefix > maxPrefix) fail("cidr prefix", s, text);
    if (!c->contains(c->net)) fail("cidr does not contain its own address", s, text);
    auto back = common::parseCidr(text);
    if (!back || !(back->net == c->net) || back->prefix != c->prefix) fail("cidr", s, text);
  }
  return 0;
}
