// libFuzzer target for proxyd/http1. The first input byte picks the
// direction, the request a response answers, whether the close follows, and
// small limits; the next two pick a split point; the rest is the stream.
// Checked, each failure an abort():
// - the contract: consumed <= input, NeedMore consumes everything, Data is a
//   slice ending at `consumed`, error offsets lie inside what was fed;
// - the stream fed whole, split in two, and in small uneven pieces gives the
//   same events, bodies, errors and forwarded bytes (heads, then each
//   result's re-encoded framing and data, an Error's framing included: what
//   was validated before the bad byte);
// - a body's forwarded framing and data are never longer than the input
//   consumed for it (the stream compacts in place);
// - serializeHead() of every head parses back to the same message.
#include "proxyd/http1.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

using namespace proxyd::http1;

namespace {

[[noreturn]] void fail(const char* what, const std::string& a = {}, const std::string& b = {}) {
  std::fprintf(stderr, "fuzz_http1: %s\n--- a\n%s\n--- b\n%s\n", what, a.c_str(), b.c_str());
  std::abort();
}

struct Setup {
  Kind kind = Kind::Request;
  RequestContext ctx;
  bool eof = false;
  Limits limits;
};

std::string summary(const Message& m) {
  std::string s;
  s += m.kind == Kind::Request ? std::string(m.method) + " " + std::string(m.target)
                               : std::to_string(m.status) + " " + std::string(m.reason);
  s += " v" + std::to_string(m.versionMajor) + "." + std::to_string(m.versionMinor);
  s += " f" + std::to_string(static_cast<int>(m.framing)) + ":" + std::to_string(m.contentLength);
  s += m.keepAlive ? " ka" : "";
  s += m.connectionClose ? " close" : "";
  s += m.expectContinue ? " 100c" : "";
  s += m.upgrade ? " upg" : "";
  s += m.interim ? " interim" : "";
  for (const auto& h : m.headers)
    s += " [" + std::string(h.name) + "=" + std::string(h.value) + "]";
  return s;
}

void checkRoundTrip(const Parser& p, const Setup& st) {
  const std::string head = serializeHead(p.message());
  Limits big = st.limits;
  big.maxHead = head.size() + 1;
  big.maxHeaders = st.limits.maxHeaders + 1; // a request may gain a Host made from its target
  Parser q(st.kind, big);
  q.setRequest(st.ctx);
  const Result r = q.parse(head);
  if (r.event != Event::Head) fail("serialized head does not parse back", head);
  if (r.consumed != head.size()) fail("serialized head not consumed whole", head);
  if (summary(q.message()) != summary(p.message()))
    fail("serialized head parses to another message", summary(p.message()), summary(q.message()));
}

// Feeds the pieces; returns the transcript.
std::string drive(const Setup& st, const std::vector<std::string_view>& pieces, bool roundTrip) {
  Parser p(st.kind, st.limits);
  p.setRequest(st.ctx);
  std::string t, body, fwd;
  std::uint64_t fed = 0;                 // bytes of the current message given so far
  std::uint64_t bodyIn = 0, bodyOut = 0; // consumed and forwarded since the last head
  auto flush = [&] {
    if (!body.empty()) t += "B" + std::to_string(body.size()) + ":" + body + "\n";
    body.clear();
  };
  auto onError = [&](const Result& r) {
    if (r.error.offset > fed) fail("error offset beyond the bytes fed");
    if (r.error.status < 400 || r.error.status > 505) fail("odd status");
    flush();
    t += "E" + std::to_string(static_cast<int>(r.error.code)) + "@" +
         std::to_string(r.error.offset) + "/" + std::to_string(r.error.status) + "\n";
    fwd.append(r.framing);
  };
  for (std::string_view in : pieces) {
    std::uint64_t pieceStart = fed;
    for (;;) {
      const Result r = p.parse(in);
      if (r.consumed > in.size()) fail("consumed more than given");
      if (r.event == Event::NeedMore && r.consumed != in.size()) fail("NeedMore kept bytes");
      if (r.event != Event::Head && r.event != Event::Error) {
        fwd.append(r.framing).append(r.data);
        bodyIn += r.consumed;
        bodyOut += r.framing.size() + r.data.size();
        if (bodyOut > bodyIn) fail("forwarded more than consumed", fwd);
      }
      if (r.event == Event::Error) {
        fed = pieceStart + in.size();
        onError(r);
        return t + "FWD:" + fwd;
      }
      switch (r.event) {
      case Event::Head:
        flush();
        t += "H " + summary(p.message()) + "\n";
        fwd.append(p.rawHead());
        bodyIn = bodyOut = 0;
        if (roundTrip) checkRoundTrip(p, st);
        break;
      case Event::Data:
        if (r.data.data() + r.data.size() != in.data() + r.consumed) fail("Data slice misplaced");
        body.append(r.data);
        break;
      case Event::End:
        flush();
        t += "END\n";
        break;
      default:
        break;
      }
      in.remove_prefix(r.consumed);
      pieceStart += r.consumed;
      fed = pieceStart;
      if (r.event == Event::End) {
        fed = pieceStart = 0; // offsets restart with the next message
        p.setRequest(st.ctx);
      }
      if (r.event == Event::NeedMore) break;
    }
  }
  if (st.eof) {
    const Result r = p.finish();
    if (r.event == Event::Error)
      onError(r);
    else if (r.event == Event::End) {
      flush();
      t += "END\n";
    }
  }
  flush();
  return t + "FWD:" + fwd;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  Setup st;
  const uint8_t sel = data[0];
  st.kind = (sel & 1) ? Kind::Response : Kind::Request;
  static constexpr Method kMethods[] = {Method::Get, Method::Head, Method::Connect, Method::Post};
  st.ctx.method = kMethods[(sel >> 1) & 3];
  st.ctx.upgrade = (sel >> 3) & 1;
  st.eof = (sel >> 4) & 1;
  if ((sel >> 5) & 1) {
    st.limits.maxHead = 128;
    st.limits.maxHeaders = 4;
  }
  const std::size_t split = (static_cast<std::size_t>(data[1]) << 8 | data[2]);
  const std::string_view s(reinterpret_cast<const char*>(data) + 3, size - 3);

  const std::string ref = drive(st, {s}, true);

  const std::size_t cut = s.empty() ? 0 : split % (s.size() + 1);
  const std::string two = drive(st, {s.substr(0, cut), s.substr(cut)}, false);
  if (two != ref) fail("split in two differs", ref, two);

  std::vector<std::string_view> pieces;
  for (std::size_t i = 0, n = 1; i < s.size(); i += n, n = n % 7 + 1)
    pieces.push_back(s.substr(i, n));
  const std::string small = drive(st, pieces, false);
  if (small != ref) fail("small pieces differ", ref, small);
  return 0;
}
