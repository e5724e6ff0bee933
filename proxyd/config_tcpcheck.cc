// tcp-check rules in their basic form:
//   tcp-check connect [port N]
//   tcp-check send STRING
//   tcp-check send-binary HEX
//   tcp-check expect [!] string|binary|rstring PATTERN
// A backend with no rules of its own uses those of its defaults section; its
// first tcp-check line replaces them (HAProxy 2.6).
#include "proxyd/config_parse.h"

#include <array>
#include <string_view>

namespace proxyd::cfg {
namespace {

using Rule = TcpCheckRule;

int hexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes HAProxy's hex strings ("0a0b"); nullopt after reporting.
std::optional<std::string> decodeHex(const LineRef& l, size_t i, const std::string& kw) {
  const std::string& s = l.word(i);
  if (s.empty() || s.size() % 2 != 0) {
    l.error(i, "'" + kw + "': '" + s +
                   "' invalid binary string (an even number of hex digits is expected).");
    return std::nullopt;
  }
  std::string out;
  for (size_t k = 0; k < s.size(); k += 2) {
    int hi = hexDigit(s[k]), lo = hexDigit(s[k + 1]);
    if (hi < 0 || lo < 0) {
      char bad = hi < 0 ? s[k] : s[k + 1];
      l.error(i, "'" + kw + "': invalid binary string (an hex digit is expected (found '" +
                     std::string(1, bad) + "')).");
      return std::nullopt;
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<Rule> parseConnect(const LineRef& l) {
  Rule r;
  for (size_t i = 2; i < l.size(); i += 2) {
    if (l.word(i) != "port") {
      l.unsupported(l.word(i), " on tcp-check connect line");
      return std::nullopt;
    }
    auto p = intArg(l, i + 1, "tcp-check connect port", 1, 65535);
    if (!p) return std::nullopt;
    r.port = static_cast<uint16_t>(*p);
  }
  return r;
}

std::optional<Rule> parseSend(const LineRef& l, bool binary) {
  const std::string kw = binary ? "tcp-check send-binary" : "tcp-check send";
  if (!l.need(2, kw, binary ? "a hexadecimal string" : "a string") || !l.noMoreThan(3, kw)) {
    return std::nullopt;
  }
  Rule r;
  r.kind = binary ? Rule::Kind::SendBinary : Rule::Kind::Send;
  if (!binary) {
    r.data = l.word(2);
  } else if (auto d = decodeHex(l, 2, kw)) {
    r.data = *d;
  } else {
    return std::nullopt;
  }
  return r;
}

std::optional<Rule> parseExpect(const LineRef& l) {
  const std::string kw = "tcp-check expect";
  Rule r;
  r.kind = Rule::Kind::Expect;
  size_t i = 2;
  std::string match = i < l.size() ? l.word(i) : "";
  if (match == "!") {
    r.negate = true;
    match = ++i < l.size() ? l.word(i) : "";
  } else if (match.starts_with("!")) {
    r.negate = true;
    match.erase(0, 1);
  }
  if (match == "string") {
    r.match = Rule::Match::String;
  } else if (match == "binary") {
    r.match = Rule::Match::Binary;
  } else if (match == "rstring") {
    r.match = Rule::Match::Rstring;
  } else if (match == "min-recv" || match == "rbinary" || match == "string-lf" ||
             match == "binary-lf" || match == "comment" || match.ends_with("-status") ||
             match.starts_with("on-")) {
    l.unsupported(match, " on tcp-check expect line");
    return std::nullopt;
  } else {
    l.error(i, "'" + kw + "' expects [!] string|binary|rstring <pattern> (got '" + match + "').");
    return std::nullopt;
  }
  if (!l.need(i + 1, kw + " " + match, "a pattern")) return std::nullopt;
  if (i + 2 < l.size()) {
    l.unsupported(l.word(i + 2), " on tcp-check expect line");
    return std::nullopt;
  }
  r.pattern = l.word(i + 1);
  if (r.match == Rule::Match::Binary) {
    auto d = decodeHex(l, i + 1, kw);
    if (!d) return std::nullopt;
    r.pattern = *d;
  } else if (r.match == Rule::Match::Rstring) {
    std::string err;
    r.regex = Regex::compile(r.pattern, false, err);
    if (!r.regex) {
      l.error(i + 1, "'" + kw + "': " + err + ".");
      return std::nullopt;
    }
  }
  return r;
}

// HAProxy: when a ruleset has a connect step, the first step must be one.
bool connectFirst(const LineRef& l, const std::vector<Rule>& rules) {
  if (rules.empty() || rules.front().kind == Rule::Kind::Connect) return true;
  l.error(0, "'tcp-check connect': first step MUST also be a 'connect' when there is a "
             "'connect' step in the tcp-check ruleset.");
  return false;
}

} // namespace

void parseTcpCheckLine(const ProxyLineCtx& c) {
  const LineRef& l = c.l;
  if (!l.need(1, "tcp-check", "'connect', 'send', 'send-binary' or 'expect'")) return;
  if (!c.ownTcpChecks) {
    c.px.tcpChecks.clear();
    c.ownTcpChecks = true;
  }
  const std::string& sub = l.word(1);
  std::optional<Rule> r;
  if (sub == "connect") {
    if (!connectFirst(l, c.px.tcpChecks)) return;
    r = parseConnect(l);
  } else if (sub == "send" || sub == "send-binary") {
    r = parseSend(l, sub == "send-binary");
  } else if (sub == "expect") {
    r = parseExpect(l);
  } else {
    l.unsupported("tcp-check " + sub);
    return;
  }
  if (!r) return;
  r->loc = l.line.loc;
  c.px.tcpChecks.push_back(std::move(*r));
}

} // namespace proxyd::cfg
