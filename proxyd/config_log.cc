// `log` targets, shared by the global section and proxies, and the traffic
// log format of proxies (`log-format`, compiled after parsing).
//
// `log` targets:
//   log <target> [format raw|rfc3164] <facility> [<max level>]
// target: ADDR[:PORT] (UDP, default port 514), udp@ADDR[:PORT], an absolute
// unix datagram socket path (/dev/log), unix@PATH, stdout, stderr.
#include "proxyd/config_parse.h"

#include <array>
#include <string_view>

namespace proxyd::cfg {
namespace {

// Indexed by facility number, as syslog(3) numbers them.
constexpr std::array<std::string_view, 24> kFacilities = {
    "kern",   "user",   "mail",   "daemon", "auth",   "syslog", "lpr",    "news",
    "uucp",   "cron",   "auth2",  "ftp",    "ntp",    "audit",  "alert",  "cron2",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7"};

constexpr std::array<std::string_view, 8> kLevels = {"emerg",   "alert",  "crit", "err",
                                                     "warning", "notice", "info", "debug"};

template <size_t N> int indexOf(const std::array<std::string_view, N>& names, std::string_view s) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == s) return static_cast<int>(i);
  }
  return -1;
}

bool startsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Fills the target's kind and address from word i; false after reporting.
bool parseTarget(const LineRef& l, size_t i, LogTarget& t) {
  std::string_view w = l.word(i);
  if (w == "stdout" || w == "stderr") {
    t.kind = w == "stdout" ? LogTarget::Kind::Stdout : LogTarget::Kind::Stderr;
    return true;
  }
  if (startsWith(w, "unix@")) w.remove_prefix(5);
  if (startsWith(w, "/")) {
    t.kind = LogTarget::Kind::Unix;
    t.path = std::string(w);
    return true;
  }
  if (startsWith(w, "udp@") || startsWith(w, "udp4@") || startsWith(w, "udp6@")) {
    w.remove_prefix(w.find('@') + 1);
  } else if (w.find('@') != std::string_view::npos) {
    l.error(i, "log target '" + l.word(i) +
                   "' is not supported yet (use ADDR[:PORT], a unix socket path, stdout or "
                   "stderr)");
    return false;
  }
  auto addr = common::parseHostPort(w, /*portOptional=*/true);
  if (!addr) {
    l.error(i, "'log': " + addr.error());
    return false;
  }
  t.kind = LogTarget::Kind::Udp;
  t.addr = *addr;
  if (t.addr.port() == 0) t.addr.setPort(514);
  return true;
}

// "format raw|rfc3164"; false after reporting.
bool parseFormat(const LineRef& l, size_t i, LogTarget& t) {
  const std::string* f = l.need(i, "log format", "a format name");
  if (!f) return false;
  if (*f == "raw" || *f == "rfc3164") {
    t.raw = *f == "raw";
    return true;
  }
  l.error(i, "log format '" + *f + "' is not supported yet (raw and rfc3164 are)");
  return false;
}

} // namespace

std::string facilityName(int facility) {
  if (facility < 0 || facility >= static_cast<int>(kFacilities.size())) return "?";
  return std::string(kFacilities[facility]);
}

std::string levelName(int level) {
  if (level < 0 || level >= static_cast<int>(kLevels.size())) return "?";
  return std::string(kLevels[level]);
}

std::optional<LogTarget> parseLogTarget(const LineRef& l, size_t first) {
  if (l.size() < first + 2) {
    l.error(0, "'log' expects either <address[:port]> followed by <facility>, or 'global'.");
    return std::nullopt;
  }
  LogTarget t;
  t.loc = l.line.loc;
  if (!parseTarget(l, first, t)) return std::nullopt;
  size_t i = first + 1;
  while (i < l.size() && indexOf(kFacilities, l.word(i)) < 0) {
    if (l.word(i) == "format") {
      if (!parseFormat(l, i + 1, t)) return std::nullopt;
      i += 2;
    } else if (l.word(i) == "len" || l.word(i) == "sample") {
      l.unsupported(l.word(i), " on log line");
      return std::nullopt;
    } else {
      l.error(i, "unknown log facility '" + l.word(i) + "'");
      return std::nullopt;
    }
  }
  if (i >= l.size()) {
    l.error(0, "'log' expects a <facility> after the address.");
    return std::nullopt;
  }
  t.facility = indexOf(kFacilities, l.word(i++));
  if (i < l.size()) {
    t.maxLevel = indexOf(kLevels, l.word(i));
    if (t.maxLevel < 0) {
      l.error(i, "unknown optional log level '" + l.word(i) + "'");
      return std::nullopt;
    }
    ++i;
  }
  if (i < l.size() && indexOf(kLevels, l.word(i)) >= 0) {
    l.error(i, "a minimum log level ('" + l.word(i) + "') is not supported yet");
    return std::nullopt;
  }
  if (!l.noMoreThan(i, "log")) return std::nullopt;
  return t;
}

void parseLogFormatLine(const ProxyLineCtx& c, size_t arg) {
  const LineRef& l = c.l;
  if (arg >= l.size() || l.word(arg).empty()) {
    l.error(0, "log-format expects an argument.");
    return;
  }
  if (arg + 1 < l.size()) {
    l.error(0, "log-format expects only one argument, don't forget to escape spaces!");
    return;
  }
  warnLogFormatOverride(c, "log-format");
  if (!c.isDefaults() && !c.px.isFrontend()) {
    l.warn(0, "backend '" + c.px.name + "' : 'log-format' directive is ignored in backends.");
    return;
  }
  c.px.logFormat = l.word(arg);
  c.px.logFormatLoc = l.line.loc;
  c.px.tcplog = c.px.httplog = c.px.httplogClf = false;
}

void compileLogFormat(ProxyConfig& px, bool hasTargets, Diag& diag) {
  px.logFormatCompiled.reset();
  std::string fmt;
  if (!px.logFormat.empty())
    fmt = px.logFormat;
  else if (px.httplog)
    fmt = px.httplogClf ? kClfHttpLogFormat : kHttpLogFormat;
  else if (px.tcplog)
    fmt = kTcpLogFormat;
  else
    return;
  auto compiled = LogFormat::compile(fmt, px.mode == Mode::Http);
  if (!compiled) {
    diag.error(px.logFormatLoc, "failed to parse log-format : " + compiled.error());
    return;
  }
  if (!hasTargets) {
    diag.warn(px.loc, "log format ignored for " + proxyWord(px) + " '" + px.name +
                          "' since it has no log address.");
    return;
  }
  px.logFormatCompiled = std::make_shared<const LogFormat>(std::move(compiled).value());
}

void warnLogFormatOverride(const ProxyLineCtx& c, const std::string& now) {
  if (!c.isDefaults()) return;
  const ProxyConfig& px = c.px;
  if (!px.tcplog && !px.httplog && px.logFormat.empty()) return;
  std::string previous = !px.logFormat.empty() ? "log-format"
                         : px.tcplog           ? "option tcplog"
                         : px.httplogClf       ? "option httplog clf"
                                               : "option httplog";
  c.l.warn(0, "'" + now + "' overrides previous '" + previous + "' in 'defaults' section.");
}

} // namespace proxyd::cfg
