// Keywords of defaults / frontend / backend / listen sections.
//
// Each entry says which side of a proxy the keyword acts on, whether a
// defaults section may carry it, and what HAProxy 2.6 does when it is used on
// the wrong side: an error for `server`/`default-server`, otherwise a warning
// and the line is ignored ("'balance' ignored because frontend 'x' has no
// backend capability."). Keywords with a sub-keyword ("option X",
// "timeout X") are registered under both words.
#include "proxyd/config_parse.h"

#include <array>
#include <optional>
#include <string_view>

namespace proxyd::cfg {
namespace {

constexpr unsigned FE = ProxyConfig::Frontend;
constexpr unsigned BE = ProxyConfig::Backend;
constexpr unsigned ANY = ProxyConfig::Listen;

// `arg` is the index of the first argument after the keyword's words.
using ProxyFn = void (*)(const ProxyLineCtx& c, size_t arg, bool negate);

struct ProxyKw {
  std::string_view name;
  unsigned side;
  bool inDefaults;
  bool strict; // wrong side is an error, not a warning
  bool negatable;
  ProxyFn parse;
};

// --- mode, bind, routing ---

void parseMode(const ProxyLineCtx& c, size_t arg, bool) {
  const std::string* m = c.l.need(arg, "mode", "'tcp' or 'http'");
  if (!m || !c.l.noMoreThan(arg + 1, "mode")) return;
  if (*m == "tcp") {
    c.px.mode = Mode::Tcp;
  } else if (*m == "http") {
    c.px.mode = Mode::Http;
  } else {
    c.l.error(arg, "unknown proxy mode '" + *m + "'.");
  }
}

void parseBind(const ProxyLineCtx& c, size_t arg, bool) {
  const std::string* list = c.l.need(arg, "bind", "[addr]:port[-end][,...] as an argument");
  if (!list) return;
  std::string_view rest = *list;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view one = rest.substr(0, comma);
    auto a = common::parseBindAddr(one);
    if (!a) {
      c.l.error(arg, "'bind " + *list + "': " + a.error());
    } else {
      c.px.binds.push_back(BindConfig{*a, c.l.at(arg)});
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  // We do not know an unknown option's arity, so only the first is named.
  if (arg + 1 < c.l.size()) c.l.unsupported(c.l.word(arg + 1), " on bind line");
}

void parseDefaultBackend(const ProxyLineCtx& c, size_t arg, bool) {
  const std::string* b = c.l.need(arg, "default_backend", "a backend name");
  if (!b || !c.l.noMoreThan(arg + 1, "default_backend")) return;
  c.px.defaultBackend = *b;
  c.px.defaultBackendLoc = c.l.at(arg);
}

void parseUseBackend(const ProxyLineCtx& c, size_t arg, bool) {
  const std::string* b = c.l.need(arg, "use_backend", "a backend name");
  if (!b) return;
  UseBackendRule rule{*b, -1, c.l.at(arg), std::nullopt};
  if (c.l.size() > arg + 1) {
    if (!isConditionWord(c.l.word(arg + 1))) {
      c.l.error(arg + 1, "unexpected keyword '" + c.l.word(arg + 1) +
                             "' after switching rule, only 'if' and 'unless' are allowed.");
      return;
    }
    rule.cond = parseLineCondition(c, arg + 1);
    if (!rule.cond) return;
  }
  c.px.useBackends.push_back(std::move(rule));
}

// --- backend side ---

struct Algo {
  std::string_view name;
  BalanceAlgo algo;
};
constexpr std::array<Algo, 6> kAlgos = {{{"roundrobin", BalanceAlgo::RoundRobin},
                                         {"static-rr", BalanceAlgo::StaticRr},
                                         {"leastconn", BalanceAlgo::LeastConn},
                                         {"first", BalanceAlgo::First},
                                         {"source", BalanceAlgo::Source},
                                         {"random", BalanceAlgo::Random}}};

// A strictly positive count for `balance uri len|depth N` (HAProxy: atoi > 0).
std::optional<int> positiveArg(const ProxyLineCtx& c, size_t i) {
  const std::string& kw = c.l.word(i);
  std::string v = i + 1 < c.l.size() ? c.l.word(i + 1) : "";
  auto n = common::parseInt(v, 1, 1'000'000);
  if (!n) {
    c.l.error(i, "balance uri : '" + kw + "' expects a positive integer (got '" + v + "').");
    return std::nullopt;
  }
  return static_cast<int>(*n);
}

// balance uri [len N] [depth N] [whole] [path-only], in any order.
bool parseBalanceUri(const ProxyLineCtx& c, size_t arg, BalanceArgs& a) {
  for (size_t i = arg; i < c.l.size();) {
    const std::string& w = c.l.word(i);
    if (w == "len" || w == "depth") {
      auto n = positiveArg(c, i);
      if (!n) return false;
      (w == "len" ? a.uriLen : a.uriDepth) = *n;
      i += 2;
    } else if (w == "whole") {
      a.uriWhole = true;
      ++i;
    } else if (w == "path-only") {
      a.uriPathOnly = true;
      ++i;
    } else {
      c.l.error(i, "balance uri only accepts parameters 'len', 'depth', 'path-only', and 'whole' "
                   "(got '" +
                       w + "').");
      return false;
    }
  }
  return true;
}

// balance url_param NAME. HAProxy's `check_post` (look for the parameter in
// a POST body) is refused: proxyd never buffers a request body.
bool parseBalanceUrlParam(const ProxyLineCtx& c, size_t arg, BalanceArgs& a) {
  if (arg >= c.l.size() || c.l.word(arg).empty()) {
    c.l.error(arg - 1, "balance url_param requires an URL parameter name.");
    return false;
  }
  a.name = c.l.word(arg);
  if (arg + 1 < c.l.size() && c.l.word(arg + 1) == "check_post") {
    c.l.error(arg + 1, "balance url_param: 'check_post' is not supported (proxyd does not look "
                       "for the parameter in a request body)");
    return false;
  }
  return c.l.noMoreThan(arg + 1, "balance url_param");
}

// balance hdr(NAME) [use_domain_only]
bool parseBalanceHdr(const ProxyLineCtx& c, size_t arg, BalanceArgs& a) {
  const std::string& w = c.l.word(arg - 1);
  if (w.size() < 6 || w.back() != ')') {
    c.l.error(arg - 1, "balance hdr requires an http header field name.");
    return false;
  }
  a.name = w.substr(4, w.size() - 5);
  if (arg < c.l.size()) {
    if (c.l.word(arg) != "use_domain_only") {
      c.l.error(arg, "balance " + w + " only accepts 'use_domain_only' modifier (got '" +
                         c.l.word(arg) + "').");
      return false;
    }
    a.useDomainOnly = true;
    return c.l.noMoreThan(arg + 1, "balance hdr");
  }
  return true;
}

void parseBalance(const ProxyLineCtx& c, size_t arg, bool) {
  const std::string* a = c.l.need(arg, "balance", "an algorithm");
  if (!a) return;
  for (const Algo& known : kAlgos) {
    if (known.name == *a) {
      if (c.l.noMoreThan(arg + 1, "balance")) {
        c.px.balance = known.algo;
        c.px.balanceArgs = {};
        c.px.balanceLoc = c.l.at(arg);
      }
      return;
    }
  }
  std::string_view s = *a;
  BalanceArgs args;
  BalanceAlgo algo = BalanceAlgo::Uri;
  bool ok = false;
  if (s == "uri") {
    ok = parseBalanceUri(c, arg + 1, args);
  } else if (s == "url_param") {
    algo = BalanceAlgo::UrlParam;
    ok = parseBalanceUrlParam(c, arg + 1, args);
  } else if (s.starts_with("hdr(")) {
    algo = BalanceAlgo::Hdr;
    ok = parseBalanceHdr(c, arg + 1, args);
  } else if (s.starts_with("rdp-cookie") || s.starts_with("random(") || s == "hash") {
    c.l.error(arg, "balance '" + *a + "' is not supported yet");
    return;
  } else {
    c.l.error(arg, "'balance' only supports 'roundrobin', 'static-rr', 'leastconn', 'first', "
                   "'source', 'random', 'uri', 'url_param' and 'hdr(name)' (got '" +
                       *a + "').");
    return;
  }
  if (!ok) return;
  c.px.balance = algo;
  c.px.balanceArgs = std::move(args);
  c.px.balanceLoc = c.l.at(arg);
}

// hash-type map-based|consistent [sdbm|djb2|wt6|crc32] [avalanche]
// (HAProxy 2.6: the function is optional, the modifier needs a function).
void parseHashType(const ProxyLineCtx& c, size_t arg, bool) {
  const std::string* t = c.l.need(arg, "hash-type", "'map-based' or 'consistent'");
  if (!t) return;
  HashType type;
  if (*t == "map-based") {
    type = HashType::MapBased;
  } else if (*t == "consistent") {
    type = HashType::Consistent;
  } else {
    c.l.error(arg, "'hash-type' expects 'map-based' or 'consistent' (got '" + *t + "').");
    return;
  }
  HashFn fn = HashFn::Sdbm;
  bool avalanche = false;
  size_t i = arg + 1;
  if (i < c.l.size()) {
    const std::string& w = c.l.word(i);
    if (w == "sdbm") {
      fn = HashFn::Sdbm;
    } else if (w == "djb2") {
      fn = HashFn::Djb2;
    } else if (w == "wt6") {
      fn = HashFn::Wt6;
    } else if (w == "crc32") {
      fn = HashFn::Crc32;
    } else {
      c.l.error(i, "'hash-type' only supports 'sdbm', 'djb2', 'crc32', or 'wt6' hash functions.");
      return;
    }
    ++i;
  }
  if (i < c.l.size()) {
    if (c.l.word(i) != "avalanche") {
      c.l.error(i, "'hash-type' only supports 'avalanche' as a modifier for hash functions.");
      return;
    }
    avalanche = true;
    if (!c.l.noMoreThan(i + 1, "hash-type")) return;
  }
  c.px.hashType = type;
  c.px.hashFn = fn;
  c.px.hashAvalanche = avalanche;
}

// cookie NAME [options...] (HAProxy 2.6's wording in errors). `dynamic`
// (cookies derived from a secret key) is refused.
void parseCookie(const ProxyLineCtx& c, size_t arg, bool) {
  if (arg >= c.l.size() || c.l.word(arg).empty()) {
    c.l.error(0, "'cookie' expects <cookie_name> as argument.");
    return;
  }
  CookieConfig ck;
  ck.name = c.l.word(arg);
  ck.loc = c.l.at(0);
  int modes = 0;
  for (size_t i = arg + 1; i < c.l.size(); ++i) {
    const std::string w = c.l.word(i);
    auto value = [&](const char* what) -> const std::string* {
      if (i + 1 >= c.l.size() || c.l.word(i + 1).empty()) {
        c.l.error(i, "'cookie' option '" + w + "' expects " + what + " as argument.");
        return nullptr;
      }
      return &c.l.word(++i);
    };
    if (w == "rewrite" || w == "insert" || w == "prefix") {
      ck.mode = w == "rewrite"  ? CookieConfig::Mode::Rewrite
                : w == "insert" ? CookieConfig::Mode::Insert
                                : CookieConfig::Mode::Prefix;
      ++modes;
    } else if (w == "indirect") {
      ck.indirect = true;
    } else if (w == "nocache") {
      ck.nocache = true;
    } else if (w == "postonly") {
      ck.postonly = true;
    } else if (w == "preserve") {
      ck.preserve = true;
    } else if (w == "httponly") {
      ck.httponly = true;
    } else if (w == "secure") {
      ck.secure = true;
    } else if (w == "domain") {
      const std::string* d = value("<domain>");
      if (!d) return;
      ck.domains.push_back(*d);
    } else if (w == "attr") {
      const std::string* a = value("<value>");
      if (!a) return;
      for (char ch : *a) {
        if (ch == ';' || static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
          c.l.error(i, "'cookie' attr value '" + *a + "' contains a forbidden character.");
          return;
        }
      }
      ck.attrs.push_back(*a);
    } else if (w == "maxidle" || w == "maxlife") {
      if (!value("<time>")) return;
      auto d = durationArg(c.l, i, "cookie " + w);
      if (!d) return;
      (w == "maxidle" ? ck.maxidle : ck.maxlife) = *d;
    } else if (w == "dynamic") {
      c.l.error(i, "'cookie' option 'dynamic' is not supported (no dynamic-cookie-key).");
      return;
    } else {
      c.l.error(i, "'cookie' supports 'rewrite', 'insert', 'prefix', 'indirect', 'nocache', "
                   "'postonly', 'domain', 'maxidle', 'dynamic', 'maxlife' and 'attr' options.");
      return;
    }
  }
  if (modes > 1) {
    c.l.error(0, "cookie 'rewrite', 'insert' and 'prefix' modes are incompatible.");
    return;
  }
  if (ck.preserve && ck.mode != CookieConfig::Mode::Insert && !ck.indirect) {
    c.l.error(0, "cookie 'preserve' requires at least 'insert' or 'indirect'.");
    return;
  }
  c.px.cookie = std::move(ck);
}

void parseRetries(const ProxyLineCtx& c, size_t arg, bool) {
  if (!c.l.noMoreThan(arg + 1, "retries")) return;
  if (auto v = intArg(c.l, arg, "retries", 0, 1'000'000)) c.px.retries = *v;
}

void parseMaxconn(const ProxyLineCtx& c, size_t arg, bool) {
  if (!c.l.noMoreThan(arg + 1, "maxconn")) return;
  if (auto v = intArg(c.l, arg, "maxconn", 0, 10'000'000)) c.px.maxconn = *v;
}

// --- timeouts ---

template <std::optional<Micros> Timeouts::*field>
void parseTimeout(const ProxyLineCtx& c, size_t arg, bool) {
  std::string kw = "timeout " + c.l.word(arg - 1);
  if (!c.l.noMoreThan(arg + 1, kw)) return;
  if (auto d = durationArg(c.l, arg, kw)) c.px.timeouts.*field = *d;
}

// --- options ---

template <bool ProxyConfig::*field> void parseFlag(const ProxyLineCtx& c, size_t arg, bool negate) {
  if (!c.l.noMoreThan(arg, "option " + c.l.word(arg - 1))) return;
  c.px.*field = !negate;
}

void parseTcpSmartAccept(const ProxyLineCtx& c, size_t arg, bool negate) {
  if (!c.l.noMoreThan(arg, "option " + c.l.word(arg - 1))) return;
  c.px.tcpSmartAccept = !negate;
}

// option forwardfor [except NET] [header NAME] [if-none], in any order
// (HAProxy 2.6 resets all three on each line).
void parseForwardFor(const ProxyLineCtx& c, size_t arg, bool) {
  std::optional<common::Cidr> except;
  std::string header = "x-forwarded-for";
  bool ifNone = false;
  for (size_t i = arg; i < c.l.size();) {
    const std::string& w = c.l.word(i);
    if (w == "except") {
      std::optional<common::Cidr> cidr;
      if (i + 1 < c.l.size()) {
        auto r = common::parseCidr(c.l.word(i + 1));
        if (r) cidr = *r;
      }
      if (!cidr) {
        c.l.error(i, "'option forwardfor except' expects <address>[/mask] as argument.");
        return;
      }
      except = cidr;
      i += 2;
    } else if (w == "header") {
      if (i + 1 >= c.l.size() || c.l.word(i + 1).empty()) {
        c.l.error(i, "'option forwardfor header' expects <header_name> as argument.");
        return;
      }
      header = c.l.word(i + 1);
      i += 2;
    } else if (w == "if-none") {
      ifNone = true;
      i += 1;
    } else {
      c.l.error(i, "'option forwardfor' only supports optional values: 'except', 'header' and "
                   "'if-none'.");
      return;
    }
  }
  for (char& ch : header)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  c.px.forwardFor = true;
  c.px.forwardForExcept = except;
  c.px.forwardForHeader = header;
  c.px.forwardForIfNone = ifNone;
}

// option http-keep-alive | http-server-close | httpclose: the last wins;
// "no option X" falls back to keep-alive only when X is in force (HAProxy).
template <HttpConnMode mode> void parseConnMode(const ProxyLineCtx& c, size_t arg, bool negate) {
  if (!c.l.noMoreThan(arg, "option " + c.l.word(arg - 1))) return;
  if (!negate) {
    c.px.httpConnMode = mode;
  } else if (c.px.httpConnMode == mode) {
    c.px.httpConnMode = HttpConnMode::KeepAlive;
  }
  c.px.httpServerClose = c.px.httpConnMode == HttpConnMode::ServerClose;
}

// option tcplog / option httplog [clf]: one log format, the last line wins.
void parseTcpLog(const ProxyLineCtx& c, size_t arg, bool) {
  if (!c.l.noMoreThan(arg, "option tcplog")) return;
  warnLogFormatOverride(c, "option tcplog");
  c.px.tcplog = true;
  c.px.httplog = false;
  c.px.httplogClf = false;
  c.px.logFormat.clear();
}

void parseHttpLog(const ProxyLineCtx& c, size_t arg, bool) {
  bool clf = false;
  if (arg < c.l.size()) {
    if (c.l.word(arg) != "clf") {
      c.l.error(arg, "'option httplog' only supports option 'clf'.");
      return;
    }
    clf = true;
    if (!c.l.noMoreThan(arg + 1, "option httplog")) return;
  }
  warnLogFormatOverride(c, clf ? "option httplog clf" : "option httplog");
  c.px.httplog = true;
  c.px.httplogClf = clf;
  c.px.tcplog = false;
  c.px.logFormat.clear();
}

void parseLog(const ProxyLineCtx& c, size_t arg, bool negate) {
  if (negate) {
    if (!c.l.noMoreThan(arg, "no log")) return;
    c.px.logs.clear();
    c.px.logGlobal = false;
    return;
  }
  if (arg < c.l.size() && c.l.word(arg) == "global") {
    if (c.l.noMoreThan(arg + 1, "log global")) c.px.logGlobal = true;
    return;
  }
  if (auto t = parseLogTarget(c.l, arg)) c.px.logs.push_back(*t);
}

void logFormatLine(const ProxyLineCtx& c, size_t arg, bool) {
  parseLogFormatLine(c, arg);
}
void serverLine(const ProxyLineCtx& c, size_t, bool) {
  parseServerLine(c);
}
void defaultServerLine(const ProxyLineCtx& c, size_t, bool) {
  parseDefaultServerLine(c);
}
void tcpCheckLine(const ProxyLineCtx& c, size_t, bool) {
  parseTcpCheckLine(c);
}
void httpCheckLine(const ProxyLineCtx& c, size_t, bool) {
  parseHttpCheckLine(c);
}
void errorfileLine(const ProxyLineCtx& c, size_t, bool) {
  parseErrorfileLine(c);
}
void aclLine(const ProxyLineCtx& c, size_t, bool) {
  parseAclDecl(c);
}
void httpRequestLine(const ProxyLineCtx& c, size_t, bool) {
  parseHttpRequestLine(c);
}
void httpResponseLine(const ProxyLineCtx& c, size_t, bool) {
  parseHttpResponseLine(c);
}

// The size follows the list (std::to_array): adding a keyword is one line.
constexpr auto kProxyKeywords = std::to_array<ProxyKw>({
    // name                      side  defaults strict negatable
    {"mode", ANY, true, false, false, parseMode},
    {"bind", FE, false, false, false, parseBind},
    {"default_backend", FE, true, false, false, parseDefaultBackend},
    {"use_backend", FE, false, false, false, parseUseBackend},
    {"maxconn", FE, true, false, false, parseMaxconn},
    {"balance", BE, true, false, false, parseBalance},
    {"hash-type", BE, true, false, false, parseHashType},
    {"retries", BE, true, false, false, parseRetries},
    {"cookie", BE, true, false, false, parseCookie},
    {"server", BE, false, true, false, serverLine},
    {"default-server", BE, true, true, false, defaultServerLine},
    {"tcp-check", BE, true, false, false, tcpCheckLine},
    {"http-check", BE, true, false, false, httpCheckLine},
    {"log", ANY, true, false, true, parseLog},
    {"timeout connect", BE, true, false, false, parseTimeout<&Timeouts::connect>},
    {"timeout client", FE, true, false, false, parseTimeout<&Timeouts::client>},
    {"timeout server", BE, true, false, false, parseTimeout<&Timeouts::server>},
    {"timeout queue", BE, true, false, false, parseTimeout<&Timeouts::queue>},
    {"timeout check", BE, true, false, false, parseTimeout<&Timeouts::check>},
    {"timeout tunnel", BE, true, false, false, parseTimeout<&Timeouts::tunnel>},
    {"timeout http-request", ANY, true, false, false, parseTimeout<&Timeouts::httpRequest>},
    {"timeout http-keep-alive", ANY, true, false, false, parseTimeout<&Timeouts::httpKeepAlive>},
    {"option redispatch", BE, true, false, true, parseFlag<&ProxyConfig::redispatch>},
    {"option allbackups", BE, true, false, true, parseFlag<&ProxyConfig::allbackups>},
    {"option persist", BE, true, false, true, parseFlag<&ProxyConfig::persist>},
    {"option tcplog", FE, true, false, false, parseTcpLog},
    {"option httplog", FE, true, false, false, parseHttpLog},
    {"log-format", ANY, true, false, false, logFormatLine},
    {"option dontlognull", FE, true, false, true, parseFlag<&ProxyConfig::dontlognull>},
    {"option tcp-check", BE, true, false, false, parseOptionTcpCheck},
    {"option httpchk", BE, true, false, false, parseOptionHttpchk},
    {"option http-server-close", ANY, true, false, true, parseConnMode<HttpConnMode::ServerClose>},
    {"option http-no-delay", ANY, true, false, true, parseFlag<&ProxyConfig::httpNoDelay>},
    {"option tcp-smart-accept", FE, true, false, true, parseTcpSmartAccept},
    {"option httpclose", ANY, true, false, true, parseConnMode<HttpConnMode::Close>},
    {"option http-keep-alive", ANY, true, false, true, parseConnMode<HttpConnMode::KeepAlive>},
    {"option forwardfor", ANY, true, false, false, parseForwardFor},
    {"errorfile", ANY, true, false, false, errorfileLine},
    {"acl", ANY, false, false, false, aclLine},
    {"http-request", ANY, false, false, false, httpRequestLine},
    {"http-response", ANY, false, false, false, httpResponseLine},
});

// Finds the entry for the words starting at `first`; sets `words` to how many
// words its name takes.
const ProxyKw* lookup(const LineRef& l, size_t first, size_t* words) {
  const std::string& w = l.word(first);
  bool twoWords = w == "option" || w == "timeout";
  if (twoWords && first + 1 >= l.size()) return nullptr;
  std::string name = twoWords ? w + " " + l.word(first + 1) : w;
  *words = twoWords ? 2 : 1;
  for (const ProxyKw& kw : kProxyKeywords) {
    if (kw.name == name) return &kw;
  }
  return nullptr;
}

// The keyword's name as written, for "unsupported keyword" messages.
std::string spelled(const LineRef& l, size_t first) {
  const std::string& w = l.word(first);
  if ((w == "option" || w == "timeout" || w == "stats") && first + 1 < l.size()) {
    return w + " " + l.word(first + 1);
  }
  return w;
}

// False (after reporting) when the keyword may not act in this section.
bool allowedHere(const ProxyLineCtx& c, const ProxyKw& kw) {
  std::string name(kw.name);
  if (c.isDefaults()) {
    if (!kw.inDefaults) c.l.error(0, "'" + name + "' not allowed in 'defaults' section.");
    return kw.inDefaults;
  }
  if (c.px.cap & kw.side) return true;
  std::string missing = kw.side == FE ? "frontend" : "backend";
  std::string who = sectionName(c.px) + " '" + c.px.name + "'";
  if (kw.strict) {
    c.l.error(0,
              "'" + name + "' not allowed because " + who + " has no " + missing + " capability.");
  } else {
    c.l.warn(0, "'" + name + "' ignored because " + who + " has no " + missing + " capability.");
  }
  return false;
}

} // namespace

std::string sectionName(const ProxyConfig& px) {
  switch (px.cap) {
  case ProxyConfig::Frontend:
    return "frontend";
  case ProxyConfig::Backend:
    return "backend";
  case ProxyConfig::Listen:
    return "listen";
  default:
    return "defaults";
  }
}

std::string proxyWord(const ProxyConfig& px) {
  return px.cap == ProxyConfig::Listen ? "proxy" : sectionName(px);
}

void parseProxyLine(const ProxyLineCtx& c) {
  bool negate = c.l.word(0) == "no";
  size_t first = negate ? 1 : 0;
  if (first >= c.l.size()) {
    c.l.error(0, "'no' expects a keyword (e.g. 'no option redispatch').");
    return;
  }
  size_t words = 1;
  const ProxyKw* kw = lookup(c.l, first, &words);
  if (!kw) {
    c.l.unsupported((negate ? "no " : "") + spelled(c.l, first));
    return;
  }
  if (negate && !kw->negatable) {
    c.l.error(0, "negation is not supported for '" + std::string(kw->name) + "'.");
    return;
  }
  if (!allowedHere(c, *kw)) return;
  kw->parse(c, first + words, negate);
}

} // namespace proxyd::cfg
