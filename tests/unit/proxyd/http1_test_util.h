#pragma once
// Test driver for proxyd/http1: feeds a byte stream in given pieces and
// writes down what the parser reported as one comparable transcript, while
// checking the invariants of the contract (NeedMore consumes everything,
// what is forwarded -- heads, then framing and data -- is never longer than
// what was consumed).
#include "proxyd/http1.h"

#include <catch2/catch.hpp>
#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace proxyd::http1::test {

inline const char* framingName(Framing f) {
  switch (f) {
  case Framing::None:
    return "none";
  case Framing::ContentLength:
    return "length";
  case Framing::Chunked:
    return "chunked";
  case Framing::UntilClose:
    return "until-close";
  case Framing::Tunnel:
    return "tunnel";
  }
  return "?";
}

inline std::string summary(const Message& m) {
  std::ostringstream o;
  if (m.kind == Kind::Request)
    o << m.method << ' ' << m.target;
  else
    o << m.status << " '" << m.reason << "'";
  o << " HTTP/" << m.versionMajor << '.' << m.versionMinor << " framing=" << framingName(m.framing);
  if (m.framing == Framing::ContentLength) o << ':' << m.contentLength;
  if (m.keepAlive) o << " KEEPALIVE";
  if (m.connectionClose) o << " CLOSE";
  if (m.expectContinue) o << " EXPECT100";
  if (m.upgrade) o << " UPGRADE";
  if (m.interim) o << " INTERIM";
  for (const auto& h : m.headers)
    o << " [" << h.name << '=' << h.value << ']';
  return o.str();
}

struct Outcome {
  std::vector<std::string> events; // "HEAD ...", "BODY ...", "END", "ERROR ..."
  // What a proxy sends on: rawHead(), then each result's framing and data
  // (an Error's framing included: what the parser validated before it).
  std::string forwarded;
  int messages = 0;
  bool failed = false;
  Error error;
  std::uint64_t errorAt = 0; // the error's offset counted from the stream's first byte

  std::string text() const {
    std::string s;
    for (const auto& e : events)
      s += e + "\n";
    return s;
  }
};

// Feeds `chunks` to a fresh parser; with `eof`, calls finish() at the end.
// A response parser is given `ctx` before each response.
inline Outcome drive(Kind kind, const std::vector<std::string_view>& chunks, bool eof,
                     RequestContext ctx = {}, Limits limits = {}) {
  Parser p(kind, limits);
  p.setRequest(ctx);
  Outcome out;
  std::string body;
  bool inMessage = false;                // Head seen, End not yet
  std::uint64_t total = 0;               // bytes consumed so far
  std::uint64_t msgStart = 0;            // where the current message started
  std::uint64_t bodyIn = 0, bodyOut = 0; // this body's consumed and forwarded bytes
  auto flushBody = [&] {
    if (!body.empty()) out.events.push_back("BODY " + body);
    body.clear();
  };
  auto handle = [&](const Result& r, std::string_view in) {
    total += r.consumed;
    if (r.event != Event::Head) {
      // Body framing is re-encoded, never longer than what it replaces.
      if (!inMessage) REQUIRE(r.framing.empty());
      out.forwarded.append(r.framing);
      bodyIn += r.consumed;
      bodyOut += r.framing.size() + r.data.size();
      // (An Error consumes nothing: its framing stands for the valid bytes
      // before the bad one.)
      if (r.event != Event::Error) REQUIRE(bodyOut <= bodyIn);
    }
    switch (r.event) {
    case Event::NeedMore:
      break;
    case Event::Head:
      inMessage = true;
      bodyIn = bodyOut = 0;
      out.forwarded.append(p.rawHead());
      out.events.push_back("HEAD " + summary(p.message()));
      break;
    case Event::Data: // inside a message, or tunnel bytes after one
      REQUIRE(r.data.data() >= in.data());
      REQUIRE(r.data.data() + r.data.size() == in.data() + r.consumed);
      body.append(r.data);
      out.forwarded.append(r.data);
      break;
    case Event::End:
      REQUIRE(inMessage);
      flushBody();
      out.events.push_back("END");
      ++out.messages;
      inMessage = false;
      msgStart = total;
      break;
    case Event::Error:
      out.errorAt = msgStart + r.error.offset;
      flushBody();
      out.failed = true;
      out.error = r.error;
      out.events.push_back("ERROR " + std::string(describe(r.error.code)) + " " +
                           std::to_string(r.error.status) + " @" + std::to_string(r.error.offset));
      break;
    }
  };
  for (std::string_view in : chunks) {
    while (!out.failed) {
      const Result r = p.parse(in);
      REQUIRE(r.consumed <= in.size());
      if (r.event == Event::NeedMore) REQUIRE(r.consumed == in.size());
      handle(r, in);
      in.remove_prefix(r.consumed);
      if (r.event == Event::NeedMore || r.event == Event::Error) break;
      if (r.event == Event::End) p.setRequest(ctx);
    }
    if (out.failed) break;
  }
  if (eof && !out.failed) {
    const Result r = p.finish();
    if (r.event != Event::NeedMore) handle(r, {});
  }
  flushBody();
  return out;
}

inline Outcome whole(Kind kind, std::string_view s, bool eof = false, RequestContext ctx = {},
                     Limits limits = {}) {
  return drive(kind, {s}, eof, ctx, limits);
}

// Checks that feeding `s` split at every point, and one byte at a time,
// gives the same transcript and forwards the same bytes (up to an error
// too) as feeding it whole; returns that outcome.
// Inputs over 4 KiB (limit tests) are split at every point near their ends
// and near 16 KiB, and every 31st byte elsewhere, to stay quick.
inline Outcome everySplit(Kind kind, std::string_view s, bool eof = false, RequestContext ctx = {},
                          Limits limits = {}) {
  const Outcome ref = whole(kind, s, eof, ctx, limits);
  auto tried = [&](std::size_t cut) {
    if (s.size() <= 4096) return true;
    const auto near = [&](std::size_t p) { return (cut > p ? cut - p : p - cut) < 512; };
    return cut % 31 == 0 || near(0) || near(s.size()) || near(16384);
  };
  for (std::size_t cut = 1; cut < s.size(); ++cut) {
    if (!tried(cut)) continue;
    const Outcome o = drive(kind, {s.substr(0, cut), s.substr(cut)}, eof, ctx, limits);
    INFO("split at " << cut);
    REQUIRE(o.text() == ref.text());
    REQUIRE(o.forwarded == ref.forwarded);
  }
  std::vector<std::string_view> bytes;
  for (std::size_t i = 0; i < s.size(); ++i)
    bytes.push_back(s.substr(i, 1));
  const Outcome o = drive(kind, bytes, eof, ctx, limits);
  INFO("byte at a time");
  REQUIRE(o.text() == ref.text());
  REQUIRE(o.forwarded == ref.forwarded);
  return ref;
}

} // namespace proxyd::http1::test
