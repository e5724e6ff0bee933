// The global section's keywords: one registry entry per keyword.
#include "proxyd/config_parse.h"

#include <array>
#include <cstdlib>
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

// "stats socket ADDRESS [mode OCTAL] [level L] [expose-fd listeners]" and
// "stats timeout DURATION" (HAProxy 2.6). Several sockets may be declared.
void parseStatsSocket(const LineRef& l, GlobalConfig& g) {
  const std::string* w = l.need(2, "stats socket", "a path or an address");
  if (!w) return;
  StatsSocketConfig s;
  s.address = *w;
  s.loc = l.at(0);
  std::string a = *w;
  if (a.rfind("unix@", 0) == 0) {
    s.path = a.substr(5);
  } else if (a.rfind("ipv4@", 0) == 0 || a.rfind("ipv6@", 0) == 0 ||
             (!a.empty() && a[0] != '/' && a.find(':') != std::string::npos)) {
    auto sa = common::parseHostPort(a, /*portOptional=*/true);
    if (!sa) {
      l.error(2, "'stats socket' : " + sa.error());
      return;
    }
    s.tcp = *sa;
  } else {
    s.path = a;
  }
  if (!s.tcp) {
    if (s.path.empty()) {
      l.error(2, "'stats socket' : missing socket path");
      return;
    }
    if (s.path.size() >= 108) {
      l.error(2, "'stats socket' : socket path '" + s.path + "' is too long (max 107 bytes)");
      return;
    }
  }
  bool ok = true;
  for (size_t i = 3; i < l.size(); ++i) {
    const std::string& kw = l.word(i);
    if (kw == "mode") {
      const std::string* v = l.need(i + 1, "mode", "an octal value");
      if (!v) return;
      ++i;
      char* end = nullptr;
      unsigned long m = std::strtoul(v->c_str(), &end, 8);
      if (v->empty() || *end || m > 07777) {
        l.error(i, "'mode' : invalid octal value '" + *v + "'");
        ok = false;
      } else {
        s.mode = static_cast<unsigned>(m);
      }
    } else if (kw == "level") {
      const std::string* v = l.need(i + 1, "level", "'user', 'operator' or 'admin'");
      if (!v) return;
      ++i;
      if (*v == "user") s.level = runtime::Level::User;
      else if (*v == "operator") s.level = runtime::Level::Operator;
      else if (*v == "admin") s.level = runtime::Level::Admin;
      else {
        l.error(i, "'level' only supports 'user', 'operator', and 'admin' (got '" + *v + "')");
        ok = false;
      }
    } else if (kw == "expose-fd") {
      l.error(i, "'stats socket' : 'expose-fd' is not supported (proxyd reloads by restarting, "
                 "it never passes its listeners to a new process)");
      ok = false;
      if (i + 1 < l.size()) ++i;
    } else {
      l.error(i, "'stats socket' : unsupported bind option '" + kw +
                     "' (proxyd supports 'mode' and 'level')");
      ok = false;
    }
  }
  if (!ok) return;
  for (const auto& o : g.statsSockets) {
    if (o.address == s.address) {
      l.error(2, "'stats socket' : '" + s.address + "' is already declared at " + o.loc.str());
      return;
    }
  }
  g.statsSockets.push_back(std::move(s));
}

void parseStats(const LineRef& l, GlobalConfig& g) {
  std::string sub = l.size() > 1 ? l.word(1) : "";
  if (sub == "socket") {
    parseStatsSocket(l, g);
  } else if (sub == "timeout") {
    if (!l.noMoreThan(3, "stats timeout")) return;
    if (auto d = durationArg(l, 2, "stats timeout", /*positive=*/true)) g.statsTimeout = *d;
  } else {
    l.unsupported(sub.empty() ? "stats" : "stats " + sub);
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
