// parseConfig(): reads the files in order, section by section, then validates.
// Keywords live in registries in config_global.cc, config_proxy.cc,
// config_server.cc, config_tcpcheck.cc and config_log.cc; this file owns the
// section structure (global / defaults / frontend / backend / listen), the
// inheritance from defaults, and the shared diagnostic helpers.
#include "proxyd/config.h"
#include "proxyd/config_parse.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace proxyd {

int Config::find(const std::string& name, unsigned cap) const {
  for (size_t i = 0; i < proxies.size(); ++i) {
    if (proxies[i].name == name && (proxies[i].cap & cap) == cap) return static_cast<int>(i);
  }
  return -1;
}

namespace cfg {

void Diag::error(const common::SourceLoc& loc, const std::string& msg) {
  errors.push_back(loc.str() + ": " + msg);
}

void Diag::warn(const common::SourceLoc& loc, const std::string& msg) {
  warnings.push_back(loc.str() + ": " + msg);
}

common::SourceLoc LineRef::at(size_t i) const {
  if (i == 0 || i >= line.words.size()) return line.loc;
  return line.at(i);
}

void LineRef::unsupported(const std::string& kw, const std::string& suffix) const {
  diag.error(line.loc, "unsupported keyword '" + kw + "'" + suffix);
}

bool LineRef::noMoreThan(size_t from, const std::string& kw) const {
  if (size() <= from) return true;
  error(from, "'" + kw + "' cannot handle unexpected argument '" + word(from) + "'.");
  return false;
}

const std::string* LineRef::need(size_t i, const std::string& kw, const std::string& what) const {
  if (i < size()) return &word(i);
  error(0, "'" + kw + "' expects " + what + ".");
  return nullptr;
}

std::optional<Micros> durationArg(const LineRef& l, size_t i, const std::string& kw,
                                  bool positive) {
  const std::string* w = l.need(i, kw, "a time value (in milliseconds unless a unit is given)");
  if (!w) return std::nullopt;
  auto d = common::parseDuration(*w);
  if (!d) {
    l.error(i, "'" + kw + "': " + d.error());
    return std::nullopt;
  }
  if (positive && d->count() <= 0) {
    l.error(i, "invalid value " + *w + " for argument '" + kw + "' (must be > 0).");
    return std::nullopt;
  }
  return *d;
}

std::optional<int> intArg(const LineRef& l, size_t i, const std::string& kw, int lo, int hi) {
  const std::string* w = l.need(i, kw, "an integer argument");
  if (!w) return std::nullopt;
  auto v = common::parseInt(*w, lo, hi);
  if (!v) {
    l.error(i, "'" + kw + "': " + v.error());
    return std::nullopt;
  }
  return static_cast<int>(*v);
}

} // namespace cfg

namespace {

using cfg::Diag;
using cfg::LineRef;

// HAProxy sections we know of but do not implement: their lines are skipped
// after the section line itself is reported.
constexpr std::array<std::string_view, 11> kOtherSections = {
    "userlist", "peers", "resolvers", "mailers",   "program",       "http-errors",
    "ring",     "cache", "fcgi-app",  "crt-store", "namespace_list"};

// Proxy names: HAProxy allows letters, digits, '-', '_', '.' and ':'.
bool validName(const std::string& s, char* bad) {
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) {
      *bad = c;
      return false;
    }
  }
  return !s.empty();
}

class Parser {
public:
  Parser(ParseOutcome& out, const common::EnvLookup& env)
      : diag_{out.errors, out.warnings}, cfg_(out.config), env_(env) {}

  void file(const ConfigFile& f);
  void finish() { cfg::validate(cfg_, diag_); }

private:
  enum class Section { None, Global, Defaults, Proxy, Other };

  void line(const common::Line& ln);
  bool startSection(const LineRef& l);
  void startDefaults(const LineRef& l);
  void startProxy(const LineRef& l, unsigned cap);
  void oldStyleAddress(const LineRef& l);
  void checkDuplicate(const LineRef& l, const ProxyConfig& px);
  ProxyConfig& current() { return section_ == Section::Defaults ? defaults_ : cfg_.proxies.back(); }

  Diag diag_;
  Config& cfg_;
  Section section_ = Section::None;
  ProxyConfig defaults_; // cap == 0: the defaults in force
  bool ownTcpChecks_ = true;
  const common::EnvLookup& env_;
};

// Lexes one physical line (HAProxy has no line continuation, so a lexer
// error spoils only its own line), fixing up the line number.
std::optional<common::Line> lexOne(std::string_view text, const std::string& file, int lineNo,
                                   Diag& diag, const common::EnvLookup& env) {
  try {
    // Environment variables are expanded inside double quotes, as HAProxy.
    auto lines = env ? common::lexHaproxy(text, file, env) : common::lexHaproxy(text, file);
    if (lines.empty()) return std::nullopt;
    common::Line ln = std::move(lines.front());
    ln.loc.line = lineNo;
    return ln;
  } catch (const common::ConfigError& e) {
    common::SourceLoc loc = e.loc();
    loc.file = file;
    loc.line = lineNo;
    diag.error(loc, e.message());
    return std::nullopt;
  }
}

void Parser::file(const ConfigFile& f) {
  section_ = Section::None; // as HAProxy: sections do not span files, defaults do
  std::string_view text = f.text;
  int lineNo = 0;
  while (!text.empty()) {
    ++lineNo;
    size_t nl = text.find('\n');
    std::string_view one = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (auto ln = lexOne(one, f.name, lineNo, diag_, env_)) line(*ln);
  }
}

void Parser::line(const common::Line& ln) {
  LineRef l{ln, diag_};
  if (startSection(l)) return;
  switch (section_) {
  case Section::None:
    l.unsupported(l.word(0), " outside any section");
    break;
  case Section::Other:
    break;
  case Section::Global:
    cfg::parseGlobalLine(l, cfg_.global);
    break;
  case Section::Defaults:
  case Section::Proxy:
    cfg::parseProxyLine(cfg::ProxyLineCtx{l, current(), ownTcpChecks_});
    break;
  }
}

bool Parser::startSection(const LineRef& l) {
  const std::string& kw = l.word(0);
  if (kw == "global") {
    section_ = Section::Global;
    l.noMoreThan(1, kw);
  } else if (kw == "defaults") {
    startDefaults(l);
  } else if (kw == "frontend") {
    startProxy(l, ProxyConfig::Frontend);
  } else if (kw == "backend") {
    startProxy(l, ProxyConfig::Backend);
  } else if (kw == "listen") {
    startProxy(l, ProxyConfig::Listen);
  } else if (std::find(kOtherSections.begin(), kOtherSections.end(), kw) != kOtherSections.end()) {
    section_ = Section::Other;
    l.unsupported(kw, " (section not supported; its lines are skipped)");
  } else {
    return false;
  }
  return true;
}

// Each defaults section starts again from the built-in defaults, as HAProxy
// 2.6 does for every new defaults section.
void Parser::startDefaults(const LineRef& l) {
  section_ = Section::Defaults;
  defaults_ = ProxyConfig{};
  defaults_.loc = l.line.loc;
  ownTcpChecks_ = true;
  if (l.size() > 1) defaults_.name = l.word(1);
  if (l.size() > 2 && l.word(2) == "from") {
    l.unsupported("from", " (defaults inheritance by name)");
  } else {
    l.noMoreThan(2, "defaults");
  }
}

void Parser::startProxy(const LineRef& l, unsigned cap) {
  section_ = Section::Proxy;
  ProxyConfig px = defaults_;
  px.cap = cap;
  px.loc = l.line.loc;
  px.name.clear();
  px.binds.clear();
  px.servers.clear();
  px.useBackends.clear();
  if (!(cap & ProxyConfig::Frontend)) {
    px.defaultBackend.clear();
    px.defaultBackendLoc = {};
    px.maxconn = 0;
  }
  ownTcpChecks_ = false; // rules inherited from defaults until the first tcp-check line
  const std::string kind = l.word(0);
  if (l.size() < 2) {
    l.error(0, "'" + kind + "' expects <name> as an argument.");
  } else {
    px.name = l.word(1);
    char bad = 0;
    if (!validName(px.name, &bad)) {
      l.error(1, std::string("character '") + bad + "' is not permitted in '" + kind + "' name '" +
                     px.name + "'.");
    }
  }
  checkDuplicate(l, px);
  cfg_.proxies.push_back(std::move(px));
  if (l.size() > 2) {
    if (l.word(2) == "from") {
      l.unsupported("from", " (defaults inheritance by name)");
    } else if (cap & ProxyConfig::Frontend) {
      oldStyleAddress(l);
    } else {
      l.error(2, "'backend' takes no address: use 'server' lines");
    }
  }
}

// "frontend main *:80": the address form of HAProxy 1.x. HAProxy 2.6 refuses
// it; we accept it as a bind and say so.
void Parser::oldStyleAddress(const LineRef& l) {
  const std::string kind = l.word(0);
  diag_.warn(l.line.loc, "an address on the '" + kind +
                             "' line is refused by HAProxy 2.6 (\"please use the 'bind' keyword "
                             "for listening addresses\"); accepted here as 'bind " +
                             l.word(2) + "'");
  std::vector<common::Word> words = {common::Word{"bind", l.line.words[0].col, false}};
  words.insert(words.end(), l.line.words.begin() + 2, l.line.words.end());
  common::Line bindLine{l.line.loc, std::move(words)};
  LineRef bl{bindLine, diag_};
  cfg::parseProxyLine(cfg::ProxyLineCtx{bl, current(), ownTcpChecks_});
}

// HAProxy: a frontend and a backend may share a name; a listen clashes with
// both, and two sections of the same kind clash.
void Parser::checkDuplicate(const LineRef& l, const ProxyConfig& px) {
  if (px.name.empty()) return;
  for (const ProxyConfig& other : cfg_.proxies) {
    if (other.name != px.name || !(other.cap & px.cap)) continue;
    l.error(0, cfg::sectionName(px) + " '" + px.name + "' has the same name as " +
                   cfg::sectionName(other) + " '" + other.name + "' declared at " +
                   other.loc.str() + ".");
    return;
  }
}

} // namespace

ParseOutcome parseConfig(const std::vector<ConfigFile>& files, const common::EnvLookup& env) {
  ParseOutcome out;
  Parser p(out, env);
  for (const ConfigFile& f : files)
    p.file(f);
  p.finish();
  return out;
}

} // namespace proxyd
