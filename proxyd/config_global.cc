// The global section's keywords: one registry entry per keyword.
#include "proxyd/config_parse.h"

#include <array>
#include <string_view>

namespace proxyd::cfg {
namespace {

using GlobalFn = void (*)(const LineRef& l, GlobalConfig& g);

struct GlobalKw {
  std::string_view name;
  GlobalFn parse;
};

// A path or name that may be given once; HAProxy keeps the first and warns.
void setOnce(const LineRef& l, std::string& field) {
  const std::string& kw = l.word(0);
  const std::string* v = l.need(1, kw, "an argument");
  if (!v || !l.noMoreThan(2, kw)) return;
  if (!field.empty()) {
    l.warn(0, "'" + kw + "' already specified. Continuing.");
    return;
  }
  field = *v;
}

void parseDaemon(const LineRef& l, GlobalConfig& g) {
  if (l.noMoreThan(1, "daemon")) g.daemon = true;
}

void parseMaxconn(const LineRef& l, GlobalConfig& g) {
  if (!l.noMoreThan(2, "maxconn")) return;
  if (auto v = intArg(l, 1, "maxconn", 0, 10'000'000)) g.maxconn = *v;
}

void parseNbthread(const LineRef& l, GlobalConfig& g) {
  if (!l.noMoreThan(2, "nbthread")) return;
  const std::string* w = l.need(1, "nbthread", "an integer argument");
  if (!w) return;
  auto v = common::parseInt(*w, INT32_MIN, INT32_MAX);
  if (!v) {
    l.error(1, "'nbthread': " + v.error());
  } else if (*v < 1 || *v > 64) {
    l.error(1, "'nbthread' value must be between 1 and 64 (was " + *w + ")");
  } else {
    g.nbthread = static_cast<int>(*v);
  }
}

void parseLog(const LineRef& l, GlobalConfig& g) {
  if (l.size() > 1 && l.word(1) == "global") {
    l.error(1, "'log global' is only valid in proxy sections and defaults.");
    return;
  }
  if (auto t = parseLogTarget(l, 1)) g.logs.push_back(*t);
}

// The admin socket is the runtime API's job; until it exists we refuse it
// rather than pretend to listen.
void parseStats(const LineRef& l, GlobalConfig&) {
  if (l.size() > 1 && l.word(1) == "socket") {
    l.error(0, "'stats socket' is not supported yet (the admin socket comes with the runtime "
               "API)");
  } else {
    l.unsupported(l.size() > 1 ? "stats " + l.word(1) : "stats");
  }
}

constexpr std::array<GlobalKw, 10> kGlobalKeywords = {{
    {"daemon", parseDaemon},
    {"maxconn", parseMaxconn},
    {"pidfile", [](const LineRef& l, GlobalConfig& g) { setOnce(l, g.pidfile); }},
    {"user", [](const LineRef& l, GlobalConfig& g) { setOnce(l, g.user); }},
    {"group", [](const LineRef& l, GlobalConfig& g) { setOnce(l, g.group); }},
    {"chroot", [](const LineRef& l, GlobalConfig& g) { setOnce(l, g.chroot); }},
    {"nbthread", parseNbthread},
    {"log", parseLog},
    {"stats", parseStats},
    {"no", [](const LineRef& l,
              GlobalConfig&) { l.unsupported(l.size() > 1 ? "no " + l.word(1) : "no"); }},
}};

} // namespace

void parseGlobalLine(const LineRef& l, GlobalConfig& g) {
  for (const GlobalKw& kw : kGlobalKeywords) {
    if (kw.name == l.word(0)) {
      kw.parse(l, g);
      return;
    }
  }
  l.unsupported(l.word(0));
}

} // namespace proxyd::cfg
