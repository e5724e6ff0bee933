#pragma once
// Internals shared by the config_*.cc files that make up parseConfig(). Not
// part of the model's contract (that is config.h).
//
// The parser is a set of keyword registries (global, proxy, server options,
// tcp-check), each entry a small function that reads one line's arguments
// into the model. Diagnostics go to a Diag, so parsing continues after an
// error and every problem is reported, as HAProxy does.
#include "common/lexer_haproxy.h"
#include "proxyd/config.h"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proxyd::cfg {

// Collects "file:line[:col]: message" diagnostics.
struct Diag {
  std::vector<std::string>& errors;
  std::vector<std::string>& warnings;
  void error(const common::SourceLoc& loc, const std::string& msg);
  void warn(const common::SourceLoc& loc, const std::string& msg);
};

// Where a line sits, for diagnostics about its words.
struct LineRef {
  const common::Line& line;
  Diag& diag;
  size_t size() const { return line.words.size(); }
  const std::string& word(size_t i) const { return line.words[i].text; }
  // The location of word i (its column when i > 0, the line when i == 0).
  common::SourceLoc at(size_t i) const;
  void error(size_t i, const std::string& msg) const { diag.error(at(i), msg); }
  void warn(size_t i, const std::string& msg) const { diag.warn(at(i), msg); }
  // "unsupported keyword 'kw'" at the line (the project's one form for it).
  void unsupported(const std::string& kw, const std::string& suffix = "") const;
  // Reports the first word at or after `from` as unexpected when the line is
  // longer than `from` words; returns false then.
  bool noMoreThan(size_t from, const std::string& kw) const;
  // Word i, or reports "'kw' expects WHAT" and returns nullptr.
  const std::string* need(size_t i, const std::string& kw, const std::string& what) const;
};

// --- values, with HAProxy's wording in errors; nullopt after reporting ---
std::optional<Micros> durationArg(const LineRef& l, size_t i, const std::string& kw,
                                  bool positive = false);
std::optional<int> intArg(const LineRef& l, size_t i, const std::string& kw, int lo, int hi);

// --- log targets (config_log.cc), shared by global and proxies ---
// Parses "TARGET [format F] FACILITY [LEVEL]" starting at word `first`.
std::optional<LogTarget> parseLogTarget(const LineRef& l, size_t first);
std::string facilityName(int facility);
std::string levelName(int level);

// --- global section (config_global.cc) ---
void parseGlobalLine(const LineRef& l, GlobalConfig& g);

// --- proxy sections (config_proxy.cc) ---
// `px` is the proxy being filled; for a defaults section, cap == 0.
struct ProxyLineCtx {
  const LineRef& l;
  ProxyConfig& px;
  // False while px.tcpChecks still holds the rules inherited from defaults:
  // the section's first tcp-check line replaces them (HAProxy's inheritance).
  bool& ownTcpChecks;
  bool isDefaults() const { return px.cap == 0; }
};
void parseProxyLine(const ProxyLineCtx& c);
// `log-format FORMAT` in defaults/frontend/listen (config_log.cc; ignored
// in backends, as HAProxy does).
void parseLogFormatLine(const ProxyLineCtx& c, size_t arg);
// Compiles a frontend's traffic log format into px.logFormatCompiled
// (config_log.cc), reporting errors at the log-format line. Runs after the
// mode is final. Without log targets the format is dropped with HAProxy's
// warning.
void compileLogFormat(ProxyConfig& px, bool hasTargets, Diag& diag);
// In defaults, HAProxy's warning when `now` (log-format, option tcplog,
// option httplog [clf]) replaces a format set before it.
void warnLogFormatOverride(const ProxyLineCtx& c, const std::string& now);
// "frontend", "backend", "listen" or "defaults"; HAProxy calls a listen a
// "proxy" in its post-parse messages, as `proxyWord` does.
std::string sectionName(const ProxyConfig& px);
std::string proxyWord(const ProxyConfig& px);

// --- server / default-server options (config_server.cc) ---
// Applies "KEYWORD VALUE..." options from word `first` on; `who` names the
// line in errors ("'server app/s1'" or "'default-server'").
void parseServerOptions(const LineRef& l, size_t first, const std::string& who, ServerOptions& opt);
void parseServerLine(const ProxyLineCtx& c);
void parseDefaultServerLine(const ProxyLineCtx& c);

// --- mode http: errorfile, acl, conditions, http-request/response
// (config_http.cc) ---
void parseErrorfileLine(const ProxyLineCtx& c);
void parseAclDecl(const ProxyLineCtx& c);
// The condition from word `first` ("if"/"unless") to the end of the line,
// against the section's ACLs; nullopt after reporting.
std::optional<Condition> parseLineCondition(const ProxyLineCtx& c, size_t first);
void parseHttpRequestLine(const ProxyLineCtx& c);
void parseHttpResponseLine(const ProxyLineCtx& c);

// --- tcp-check rules (config_tcpcheck.cc) ---
void parseTcpCheckLine(const ProxyLineCtx& c);

// --- HTTP checks (config_httpcheck.cc) ---
// `option httpchk` and `option tcp-check`: the last of the two wins.
void parseOptionHttpchk(const ProxyLineCtx& c, size_t arg, bool negate);
void parseOptionTcpCheck(const ProxyLineCtx& c, size_t arg, bool negate);
void parseHttpCheckLine(const ProxyLineCtx& c);
// After parsing: the effective ruleset of a backend with `option httpchk`
// (implicit connect and expect added, comments attached), or a warning and
// no rules without it.
void finalizeHttpChecks(ProxyConfig& px, Diag& diag);

// --- validation after all files are read (config_validate.cc) ---
void validate(Config& cfg, Diag& diag);

} // namespace proxyd::cfg
