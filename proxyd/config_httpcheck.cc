// HTTP health checks, as HAProxy 2.6 (src/tcpcheck.c):
//   option httpchk [[METH] URI [VERSION]]   (a lone argument is the URI; the
//       deprecated "VERSION\r\nHeader: v\r\n\r\nbody" form is understood)
//   http-check send [meth M] [uri U] [ver V] [hdr NAME VALUE]* [body S]
//                   [comment C]
//   http-check expect [comment C] [!] status CODES|rstatus RE|string S|rstring RE
//   http-check connect [port N] [comment C]
//   http-check comment C
//   http-check disable-on-404
// A section's first `option httpchk` or `http-check` line starts its own
// ruleset, replacing the one inherited from defaults (as HAProxy names a
// ruleset after its section). The request of `option httpchk` and the first
// `http-check send` are merged into one step, the later line's fields
// winning (tcpcheck_add_http_rule).
#include "proxyd/config_parse.h"

#include <algorithm>

namespace proxyd::cfg {
namespace {

using Rule = HttpCheckRule;

bool sameSection(const common::SourceLoc& a, const common::SourceLoc& b) {
  return a.file == b.file && a.line == b.line;
}

// The section's own ruleset (dropping inherited rules on first use).
std::vector<Rule>& ownRules(const ProxyLineCtx& c) {
  if (!sameSection(c.px.httpChecksOwner, c.px.loc)) {
    c.px.httpChecks.clear();
    c.px.httpChecksOwner = c.px.loc;
  }
  return c.px.httpChecks;
}

// The first rule that is not a comment, or nullptr.
Rule* firstRule(std::vector<Rule>& rules) {
  for (Rule& r : rules)
    if (r.kind != Rule::Kind::Comment) return &r;
  return nullptr;
}

Rule* lastRule(std::vector<Rule>& rules) {
  for (auto it = rules.rbegin(); it != rules.rend(); ++it)
    if (it->kind != Rule::Kind::Comment) return &*it;
  return nullptr;
}

// tcpcheck_overwrite_send_http_rule(): the fields `from` sets replace those
// of `into`.
void overwriteSend(Rule& into, const Rule& from) {
  if (!from.method.empty()) into.method = from.method;
  if (!from.uri.empty()) into.uri = from.uri;
  if (!from.version.empty()) into.version = from.version;
  if (!from.headers.empty()) into.headers = from.headers;
  if (from.body) into.body = from.body;
  if (!from.comment.empty()) into.comment = from.comment;
}

// Only the two versions HAProxy's checks speak are accepted (HAProxy sends
// any other string as HTTP/1.1 without saying so).
bool versionOk(const LineRef& l, size_t i, const std::string& kw, const std::string& v) {
  if (v == "HTTP/1.0" || v == "HTTP/1.1") return true;
  l.error(i, "'" + kw + "': unsupported HTTP version '" + v + "' (HTTP/1.0 or HTTP/1.1).");
  return false;
}

// "Name: value\r\nName2: value2" from the deprecated version-string form.
void legacyHeaders(std::string_view text, Rule& r) {
  while (!text.empty()) {
    size_t end = text.find("\r\n");
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
      value.remove_suffix(1);
    r.headers.emplace_back(std::string(line.substr(0, colon)), std::string(value));
  }
}

// The step number HAProxy names in ordering errors: explicit rules so far.
size_t stepOf(const std::vector<Rule>& rules) {
  size_t n = 0;
  for (const Rule& r : rules)
    if (!r.fromOption) ++n;
  return n + 1;
}

// tcpcheck_add_http_rule(), explicit rules: the order connect -> send ->
// expect (expects may follow each other).
bool orderOk(const LineRef& l, std::vector<Rule>& rules, const Rule& chk) {
  const Rule* last = lastRule(rules);
  if (!last || (last->kind == Rule::Kind::Send && last->fromOption)) return true;
  std::string step = std::to_string(stepOf(rules));
  std::string sub = l.word(1);
  if (chk.kind == Rule::Kind::Send && last->kind != Rule::Kind::Connect) {
    l.error(0, "'http-check " + sub + "' : unable to add http-check send rule at step " + step +
                   " (missing connect rule).");
    return false;
  }
  if (chk.kind == Rule::Kind::Expect && last->kind != Rule::Kind::Send &&
      last->kind != Rule::Kind::Expect) {
    l.error(0, "'http-check " + sub + "' : unable to add http-check expect rule at step " + step +
                   " (missing send rule).");
    return false;
  }
  if (chk.kind == Rule::Kind::Connect && last->kind != Rule::Kind::Expect) {
    l.error(0, "'http-check " + sub + "' : unable to add http-check connect rule at step " + step +
                   " (missing expect rule).");
    return false;
  }
  return true;
}

std::optional<Rule> parseConnect(const LineRef& l) {
  Rule r;
  r.kind = Rule::Kind::Connect;
  for (size_t i = 2; i < l.size(); i += 2) {
    const std::string& k = l.word(i);
    if (k != "port" && k != "comment") {
      l.unsupported(k, " on http-check connect line");
      return std::nullopt;
    }
    if (!l.need(i + 1, "http-check connect " + k, k == "port" ? "a port" : "a string"))
      return std::nullopt;
    if (k == "comment") {
      r.comment = l.word(i + 1);
      continue;
    }
    auto p = common::parseInt(l.word(i + 1), 1, 65535);
    if (!p) {
      l.error(i + 1, "'http-check connect' : expects a valid TCP port (from range 1 to 65535), "
                     "got " +
                         l.word(i + 1) + ".");
      return std::nullopt;
    }
    r.port = static_cast<uint16_t>(*p);
  }
  return r;
}

std::optional<Rule> parseSend(const LineRef& l) {
  const std::string kw = "http-check send";
  Rule r;
  r.kind = Rule::Kind::Send;
  for (size_t i = 2; i < l.size();) {
    const std::string& k = l.word(i);
    if (k == "uri-lf" || k == "body-lf") {
      l.unsupported(k, " on http-check send line (log-format)");
      return std::nullopt;
    }
    if (k == "hdr") {
      if (i + 2 >= l.size()) {
        l.error(i, "'" + kw + "' : 'hdr' expects <name> and <value> as arguments.");
        return std::nullopt;
      }
      const std::string& value = l.word(i + 2);
      if (value.find('%') != std::string::npos) {
        l.unsupported("hdr", " with a log-format value ('%') on http-check send line");
        return std::nullopt;
      }
      // HAProxy computes Content-Length itself.
      if (!http1::iequals(l.word(i + 1), "content-length"))
        r.headers.emplace_back(l.word(i + 1), value);
      i += 3;
      continue;
    }
    if (k != "meth" && k != "uri" && k != "ver" && k != "body" && k != "comment") {
      l.error(i, "'" + kw +
                     "' : expects 'comment', 'meth', 'uri', 'uri-lf', 'ver', 'hdr', "
                     "'body' or 'body-lf' but got '" +
                     k + "' as argument.");
      return std::nullopt;
    }
    if (i + 1 >= l.size()) {
      l.error(i, "'" + kw + "' : '" + k + "' expects a string as argument.");
      return std::nullopt;
    }
    const std::string& v = l.word(i + 1);
    if (k == "meth")
      r.method = v;
    else if (k == "uri")
      r.uri = v;
    else if (k == "ver") {
      if (!versionOk(l, i + 1, kw, v)) return std::nullopt;
      r.version = v;
    } else if (k == "body")
      r.body = v;
    else
      r.comment = v;
    i += 2;
  }
  return r;
}

// "200", "200-399", "200,301-302" (HAProxy 2.6's list of codes and ranges).
bool parseCodes(const LineRef& l, size_t i, Rule& r) {
  const std::string& s = l.word(i);
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t dash = item.find('-');
    std::string lo = item.substr(0, dash);
    std::string hi = dash == std::string::npos ? lo : item.substr(dash + 1);
    for (char ch : lo + hi) {
      if (ch < '0' || ch > '9') {
        l.error(i, "'http-check expect' : invalid character '" + std::string(1, ch) +
                       "' in the list of status codes.");
        return false;
      }
    }
    if (lo.empty() || hi.empty() || lo.size() > 4 || hi.size() > 4) {
      l.error(i, "'http-check expect' : invalid list of status codes '" + s + "'.");
      return false;
    }
    int a = std::stoi(lo), b = std::stoi(hi);
    if (b < a) {
      l.error(i, "'http-check expect' : invalid range of status codes '" + item + "'.");
      return false;
    }
    r.codes.emplace_back(a, b);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return true;
}

std::optional<Rule> parseExpect(const LineRef& l) {
  const std::string kw = "http-check expect";
  Rule r;
  r.kind = Rule::Kind::Expect;
  size_t i = 2;
  std::string match;
  for (; i < l.size(); ++i) {
    match = l.word(i);
    if (match == "comment") {
      if (!l.need(i + 1, kw + " comment", "a string")) return std::nullopt;
      r.comment = l.word(++i);
      continue;
    }
    if (match == "!") {
      r.negate = true;
      match.clear();
      continue;
    }
    if (match.starts_with("!")) {
      r.negate = true;
      match.erase(0, 1);
    }
    break;
  }
  if (match == "status") {
    r.match = Rule::Match::Status;
  } else if (match == "rstatus") {
    r.match = Rule::Match::Rstatus;
  } else if (match == "string") {
    r.match = Rule::Match::String;
  } else if (match == "rstring") {
    r.match = Rule::Match::Rstring;
  } else if (match == "min-recv" || match == "ok-status" || match == "error-status" ||
             match == "tout-status" || match == "on-success" || match == "on-error" ||
             match == "status-code" || match == "hdr" || match == "fhdr" || match == "string-lf" ||
             match == "rstring-lf") {
    l.unsupported(match, " on http-check expect line");
    return std::nullopt;
  } else {
    l.error(i < l.size() ? i : 0,
            "'" + kw +
                "' : only supports [!] status, rstatus, string, rstring or comment "
                "but got '" +
                match + "' as argument.");
    return std::nullopt;
  }
  if (i + 1 >= l.size()) {
    l.error(i, "'" + kw + "' : '" + match + "' expects a <pattern> as argument.");
    return std::nullopt;
  }
  if (i + 2 < l.size()) {
    l.error(i + 2, "'" + kw + "' : unexpected argument '" + l.word(i + 2) + "' after the pattern.");
    return std::nullopt;
  }
  r.pattern = l.word(i + 1);
  if (r.match == Rule::Match::Status) {
    if (!parseCodes(l, i + 1, r)) return std::nullopt;
  } else if (r.match == Rule::Match::Rstatus || r.match == Rule::Match::Rstring) {
    std::string err;
    r.regex = Regex::compile(r.pattern, false, err);
    if (!r.regex) {
      l.error(i + 1, "'" + kw + "' : " + err + ".");
      return std::nullopt;
    }
  }
  return r;
}

// HAProxy: with a connect step, the first step must be one (the implicit
// request of `option httpchk` does not count).
bool connectFirst(const LineRef& l, std::vector<Rule>& rules) {
  for (const Rule& r : rules) {
    if (r.kind == Rule::Kind::Comment || r.fromOption) continue;
    if (r.kind == Rule::Kind::Connect) return true;
    l.error(0, "'http-check connect' : first step MUST also be a 'connect' when there is a "
               "'connect' step in the tcp-check ruleset.");
    return false;
  }
  return true;
}

} // namespace

void parseOptionHttpchk(const ProxyLineCtx& c, size_t arg, bool) {
  const LineRef& l = c.l;
  if (!l.noMoreThan(arg + 3, "option httpchk")) return;
  Rule r;
  r.kind = Rule::Kind::Send;
  r.fromOption = true;
  r.loc = l.line.loc;
  size_t n = l.size() - arg;
  std::string version = n >= 3 ? l.word(arg + 2) : "HTTP/1.0";
  // "HTTP/1.1\r\nHost: x\r\n\r\nbody": headers and a body after the version.
  size_t hdrs = version.find("\r\n");
  if (hdrs != std::string::npos) {
    l.warn(arg + 2, "'option httpchk' : hiding headers or body at the end of the version string "
                    "is deprecated. Please, consider to use 'http-check send' directive instead.");
    std::string rest = version.substr(hdrs);
    version.erase(hdrs);
    size_t body = rest.find("\r\n\r\n");
    if (body != std::string::npos) {
      if (body + 4 < rest.size()) r.body = rest.substr(body + 4);
      rest.erase(body);
    }
    legacyHeaders(rest.size() > 2 ? std::string_view(rest).substr(2) : std::string_view{}, r);
  }
  if (!versionOk(l, arg + 2, "option httpchk", version)) return;
  r.method = n >= 2 ? l.word(arg) : "OPTIONS";
  r.uri = n == 1 ? l.word(arg) : n >= 2 ? l.word(arg + 1) : "/";
  r.version = version;

  c.px.httpCheck = true;
  c.px.tcpCheck = false;
  auto& rules = ownRules(c);
  // The first rule after a leading connect: a send to merge with, or the
  // place for this one.
  auto it = std::find_if(rules.begin(), rules.end(),
                         [](const Rule& x) { return x.kind != Rule::Kind::Comment; });
  if (it != rules.end() && it->kind == Rule::Kind::Connect)
    it = std::find_if(it + 1, rules.end(),
                      [](const Rule& x) { return x.kind != Rule::Kind::Comment; });
  if (it == rules.end() || it->kind != Rule::Kind::Send) {
    rules.insert(rules.begin(), std::move(r));
  } else if (it->fromOption) {
    *it = std::move(r);
  } else {
    overwriteSend(*it, r);
  }
}

void parseOptionTcpCheck(const ProxyLineCtx& c, size_t arg, bool) {
  if (!c.l.noMoreThan(arg, "option tcp-check")) return;
  c.px.tcpCheck = true;
  c.px.httpCheck = false;
}

void parseHttpCheckLine(const ProxyLineCtx& c) {
  const LineRef& l = c.l;
  const std::string sub = l.size() > 1 ? l.word(1) : "";
  std::optional<Rule> r;
  if (sub == "send") {
    r = parseSend(l);
  } else if (sub == "expect") {
    r = parseExpect(l);
  } else if (sub == "connect") {
    r = parseConnect(l);
  } else if (sub == "comment") {
    if (!l.need(2, "http-check comment", "a string as argument") ||
        !l.noMoreThan(3, "http-check comment"))
      return;
    r = Rule{};
    r->kind = Rule::Kind::Comment;
    r->comment = l.word(2);
  } else if (sub == "disable-on-404") {
    if (l.noMoreThan(2, "http-check")) c.px.disableOn404 = true;
    return;
  } else if (sub == "send-state" || sub.starts_with("set-var") || sub.starts_with("unset-var")) {
    l.unsupported("http-check " + sub);
    return;
  } else {
    l.error(0, "'http-check' only supports 'comment', 'connect', 'send' and 'expect' but got '" +
                   sub + "'.");
    return;
  }
  if (!r) return;
  r->loc = l.line.loc;
  auto& rules = ownRules(c);
  if (r->kind == Rule::Kind::Connect && !connectFirst(l, rules)) return;
  if (r->kind != Rule::Kind::Comment && !orderOk(l, rules, *r)) return;
  if (r->kind == Rule::Kind::Send) {
    // Merged with the request of `option httpchk`, then placed last.
    Rule* first = firstRule(rules);
    if (first && first->kind == Rule::Kind::Send && first->fromOption) {
      Rule merged = *first;
      overwriteSend(merged, *r);
      merged.fromOption = false;
      merged.loc = r->loc;
      rules.erase(rules.begin() + (first - rules.data()));
      r = std::move(merged);
    }
  }
  rules.push_back(std::move(*r));
}

// check_proxy_tcpcheck() for HTTP rulesets.
void finalizeHttpChecks(ProxyConfig& px, Diag& diag) {
  auto& rules = px.httpChecks;
  if (!px.isBackend()) {
    rules.clear();
    return;
  }
  if (!px.httpCheck) {
    if (!rules.empty() && px.isBackend()) {
      diag.warn(px.loc, proxyWord(px) + " '" + px.name +
                            "' uses http-check rules without 'option httpchk', so the rules are "
                            "ignored.");
    }
    rules.clear();
    return;
  }
  // Comments go to the following rules of the same kind.
  std::vector<Rule> out;
  std::string comment;
  Rule::Kind prev = Rule::Kind::Comment;
  for (Rule& r : rules) {
    if (r.kind != prev && prev != Rule::Kind::Comment) comment.clear();
    prev = r.kind;
    if (r.kind == Rule::Kind::Comment) {
      comment = r.comment;
      continue;
    }
    if (r.comment.empty()) r.comment = comment;
    if (r.kind == Rule::Kind::Connect) comment.clear();
    out.push_back(std::move(r));
  }
  // The request of `option httpchk` goes after a leading connect.
  if (!out.empty() && out.front().kind == Rule::Kind::Send && out.front().fromOption) {
    auto conn = std::find_if(out.begin(), out.end(),
                             [](const Rule& x) { return x.kind == Rule::Kind::Connect; });
    if (conn != out.end()) std::rotate(out.begin(), out.begin() + 1, conn + 1);
  }
  for (Rule& r : out) {
    if (r.kind != Rule::Kind::Send) continue;
    if (r.method.empty()) r.method = "OPTIONS";
    if (r.uri.empty()) r.uri = "/";
    if (r.version.empty()) r.version = "HTTP/1.0";
  }
  if (out.empty() || out.back().kind == Rule::Kind::Send) {
    if (out.empty()) {
      Rule send;
      send.kind = Rule::Kind::Send;
      send.method = "OPTIONS";
      send.uri = "/";
      send.version = "HTTP/1.0";
      send.implicit = true;
      out.push_back(std::move(send));
    }
    Rule expect;
    expect.kind = Rule::Kind::Expect;
    expect.match = Rule::Match::Status;
    expect.pattern = "200-399";
    expect.codes = {{200, 399}};
    expect.implicit = true;
    out.push_back(std::move(expect));
  }
  if (out.front().kind != Rule::Kind::Connect) {
    Rule conn;
    conn.kind = Rule::Kind::Connect;
    conn.implicit = true;
    out.insert(out.begin(), std::move(conn));
  }
  rules = std::move(out);
}

} // namespace proxyd::cfg
