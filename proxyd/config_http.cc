// Keywords of mode http: errorfile, acl, use_backend conditions,
// http-request and http-response rules.
#include "common/file_read.h"
#include "proxyd/config_parse.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

namespace proxyd::cfg {
namespace {

// HAProxy reads at most tune.bufsize bytes of an errorfile.
constexpr std::size_t kMaxErrorfile = 16384;

// The file must hold a complete response head that our parser accepts
// (HAProxy converts it to HTX and refuses it otherwise).
bool validResponse(const std::string& bytes) {
  if (bytes.empty()) return true; // "errorfile 408 /dev/null": send nothing, close
  http1::Parser p(http1::Kind::Response);
  std::string_view in = bytes;
  while (true) {
    http1::Result r = p.parse(in);
    in.remove_prefix(r.consumed);
    if (r.event == http1::Event::Head) return true;
    if (r.event == http1::Event::Error || in.empty()) return false;
  }
}

std::vector<std::string> wordsOf(const LineRef& l) {
  std::vector<std::string> w;
  w.reserve(l.size());
  for (const common::Word& word : l.line.words)
    w.push_back(word.text);
  return w;
}

} // namespace

void parseErrorfileLine(const ProxyLineCtx& c) {
  const LineRef& l = c.l;
  if (l.size() < 3) {
    l.error(0, "errorfile : expects <status_code> and <file> as arguments.");
    return;
  }
  if (!l.noMoreThan(3, "errorfile")) return;
  auto code = common::parseInt(l.word(1), 0, 999);
  int status = code ? static_cast<int>(*code) : 0;
  if (!isHandledErrorStatus(status)) {
    l.error(1, "errorfile : status code '" + l.word(1) + "' not handled.");
    return;
  }
  const std::string& path = l.word(2);
  common::FileRead f = common::readRegularFile(path, kMaxErrorfile);
  if (f.status == common::ReadStatus::NotRegular) {
    l.error(2, "errorfile : '" + path + "' is a directory.");
    return;
  }
  if (f.status != common::ReadStatus::Ok && f.status != common::ReadStatus::Truncated) {
    l.error(2, "errorfile : error opening file '" + path + "'.");
    return;
  }
  std::string bytes = std::move(f.data);
  if (f.status == common::ReadStatus::Truncated) {
    l.warn(2, "custom error message file '" + path + "' larger than " +
                  std::to_string(kMaxErrorfile) + " bytes. Truncating.");
    bytes.resize(kMaxErrorfile);
  }
  if (!validResponse(bytes)) {
    l.error(2, "errorfile : unable to convert custom error message file '" + path +
                   "' in HTX (not a valid HTTP response).");
    return;
  }
  c.px.errorfiles[status] = std::move(bytes);
}

void parseAclDecl(const ProxyLineCtx& c) {
  AclError err;
  std::string warning;
  if (!parseAclLine(wordsOf(c.l), c.px.acls, err, &warning)) {
    c.l.error(err.word, err.message + ".");
  } else if (!warning.empty()) {
    c.l.warn(0, warning);
  }
}

namespace {

// The condition from word `first` on; `what` names the rule in errors as
// HAProxy does ("switching rule", "an 'http-request deny' condition").
std::optional<Condition> lineCondition(const ProxyLineCtx& c, size_t first,
                                       const std::string& what) {
  AclError err;
  auto cond = parseCondition(wordsOf(c.l), first, c.px.acls, err);
  if (!cond)
    c.l.error(err.word, "error detected while parsing " + what + " : " + err.message + ".");
  return cond;
}

// HAProxy's warning for ACLs whose fetches find nothing where they are used.
void warnNeverMatching(const ProxyLineCtx& c, const Condition& cond, bool response,
                       const std::string& where) {
  std::string ctx = sectionName(c.px) + " " + where;
  for (const auto& all : cond.anyOf()) {
    for (const Condition::Term& t : all) {
      if (t.acl->usableIn(response)) continue;
      if (t.acl->name().empty()) {
        c.l.warn(0, "anonymous acl will never match because it uses keyword '" +
                        t.acl->firstKeyword() + "' which is incompatible with '" + ctx + "'");
      } else {
        c.l.warn(0, "acl '" + t.acl->name() +
                        "' will never match because it only involves keywords that are "
                        "incompatible with '" +
                        ctx + "'");
      }
    }
  }
}

} // namespace

std::optional<Condition> parseLineCondition(const ProxyLineCtx& c, size_t first) {
  auto cond = lineCondition(c, first, "switching rule");
  if (cond) warnNeverMatching(c, *cond, false, "switching rule");
  return cond;
}

namespace {

// What an http-request/http-response line is being parsed into.
struct RuleCtx {
  const ProxyLineCtx& c;
  bool response;
  std::string kw;     // "http-request" / "http-response"
  std::string action; // its action word
  size_t end;         // index of "if"/"unless", or the line's size

  std::string rulePrefix() const {
    return "error detected in " + sectionName(c.px) + " '" + c.px.name + "' while parsing '" + kw +
           " " + action + "' rule : ";
  }
  void fail(size_t word, const std::string& msg) const { c.l.error(word, rulePrefix() + msg); }
  size_t nargs() const { return end - 2; }
  const std::string& arg(size_t i) const { return c.l.word(2 + i); }
};

// The literal subset of HAProxy's log-format: "%%" is "%"; other '%'
// sequences (%[sample], %ci, ...) are refused.
bool logFormat(const RuleCtx& r, size_t word, std::string& out) {
  const std::string& in = r.c.l.word(word);
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 1 >= in.size()) {
      r.fail(word, "truncated line after '%'.");
      return false;
    }
    if (in[i + 1] == '%') {
      out.push_back('%');
      ++i;
      continue;
    }
    r.fail(word, "log-format expressions ('" + in.substr(i) +
                     "') are not supported yet; write '%%' for a literal '%'.");
    return false;
  }
  return true;
}

std::shared_ptr<const Regex> compileRegex(const RuleCtx& r, size_t word) {
  std::string err;
  auto re = Regex::compile(r.c.l.word(word), false, err);
  if (!re) r.fail(word, err + ".");
  return re;
}

std::optional<std::string> readFile(const RuleCtx& r, size_t word) {
  const std::string& path = r.c.l.word(word);
  // HAProxy keeps such a file in one buffer (tune.bufsize).
  common::FileRead f = common::readRegularFile(path, kMaxErrorfile);
  if (f.status == common::ReadStatus::Truncated) {
    r.fail(word, "file '" + path + "' is larger than " + std::to_string(kMaxErrorfile) + " bytes.");
    return std::nullopt;
  }
  if (f.status == common::ReadStatus::NotRegular) {
    r.fail(word, "'" + path + "' is a directory.");
    return std::nullopt;
  }
  if (f.status != common::ReadStatus::Ok) {
    r.fail(word, "error opening file '" + path + "'.");
    return std::nullopt;
  }
  return std::move(f.data);
}

// Header actions: set-header/add-header NAME VALUE, del-header NAME,
// replace-header/replace-value NAME REGEX REPLACEMENT, set-path PATH.
bool parseEdit(const RuleCtx& r, size_t want, HeaderEdit& e) {
  if (r.nargs() != want) {
    if (r.action == "set-path") {
      r.fail(0, "expects exactly 1 argument <format>.");
    } else if (r.action == "del-header") {
      r.fail(0, r.nargs() == 0 ? "expects at least 1 argument."
                               : "'-m' and other options are not supported yet.");
    } else {
      r.fail(0, "expects exactly " + std::to_string(want) + " arguments.");
    }
    return false;
  }
  if (r.action == "set-path") return logFormat(r, 2, e.value);
  e.name = r.arg(0);
  if (want == 2) return logFormat(r, 3, e.value);
  if (want == 3) {
    e.regex = compileRegex(r, 3);
    return e.regex && logFormat(r, 4, e.value);
  }
  return true;
}

// deny/return: [status|deny_status N] [content-type T]
// [string S | file F | errorfile F | default-errorfiles] [hdr NAME VALUE]*
bool parseReply(const RuleCtx& r, Reply& reply, int defaultStatus, bool isReturn) {
  reply.status = defaultStatus;
  enum class Body { None, Errorfiles, Errorfile, Payload } body = Body::None;
  std::string errorfileBytes;
  bool haveType = false;
  for (size_t i = 2; i < r.end; ++i) {
    const std::string& w = r.c.l.word(i);
    auto needArg = [&](const std::string& what) {
      if (i + 1 < r.end) return true;
      r.fail(i, "'" + w + "' expects " + what + " as argument.");
      return false;
    };
    if (w == "status" || w == "deny_status") {
      if (w == "deny_status" && isReturn) {
        r.fail(i, "unknown keyword 'deny_status'.");
        return false;
      }
      if (!needArg("<status_code>")) return false;
      auto v = common::parseInt(r.c.l.word(i + 1), 0, 999);
      if (!v || *v < 200 || *v > 599) {
        r.fail(i + 1, "Unexpected status code '" + r.c.l.word(i + 1) + "'.");
        return false;
      }
      reply.status = static_cast<int>(*v);
      ++i;
    } else if (w == "content-type") {
      if (!needArg("<ctype>")) return false;
      reply.contentType = r.c.l.word(++i);
      haveType = true;
    } else if (w == "string" || w == "file" || w == "errorfile") {
      if (!needArg(w == "string" ? "<str>" : "<file>")) return false;
      if (w == "string") {
        reply.body = r.c.l.word(++i);
        body = Body::Payload;
      } else {
        auto bytes = readFile(r, ++i);
        if (!bytes) return false;
        if (w == "file") {
          reply.body = *bytes;
          body = Body::Payload;
        } else {
          errorfileBytes = *bytes;
          body = Body::Errorfile;
        }
      }
    } else if (w == "default-errorfiles") {
      body = Body::Errorfiles;
    } else if (w == "hdr") {
      if (i + 2 >= r.end) {
        r.fail(i, "'hdr' expects <name> and <value> as arguments.");
        return false;
      }
      std::string value;
      if (!logFormat(r, i + 2, value)) return false;
      reply.headers.emplace_back(r.c.l.word(i + 1), value);
      i += 2;
    } else if (w == "errorfiles" || w == "lf-string" || w == "lf-file") {
      r.fail(i, "'" + w + "' is not supported yet.");
      return false;
    } else if (i == 2 && !isReturn) {
      r.c.l.error(i, "'" + r.kw + " " + r.action +
                         "' expects either 'if' or 'unless' followed by a condition but found '" +
                         w + "'.");
      return false;
    } else {
      r.fail(i, "unknown keyword '" + w + "'.");
      return false;
    }
  }
  if (body == Body::None && !isReturn) body = Body::Errorfiles; // deny [deny_status N]
  switch (body) {
  case Body::Errorfiles:
  case Body::Errorfile:
    if (!isHandledErrorStatus(reply.status)) {
      r.fail(0, "status code '" + std::to_string(reply.status) +
                    "' not handled by default with 'default-errorfiles' argument..");
      return false;
    }
    if (haveType) {
      r.c.l.warn(0, "content-type '" + reply.contentType +
                        "' ignored by the http reply because neither errorfile nor payload "
                        "defined.");
      reply.contentType.clear();
    }
    if (body == Body::Errorfile) {
      reply.raw = errorfileBytes; // a specific errorfile, sent as is
    } else {
      reply.useErrorfile = true;
    }
    break;
  case Body::Payload:
    if (!reply.body.empty() && !haveType) {
      r.fail(0, "a content type must be defined when non-empty payload is configured.");
      return false;
    }
    break;
  case Body::None:
    if (haveType) {
      r.c.l.warn(0, "content-type '" + reply.contentType +
                        "' ignored by the http reply because neither errorfile nor payload "
                        "defined.");
      reply.contentType.clear();
    }
    break;
  }
  return true;
}

bool parseRedirect(const RuleCtx& r, Redirect& rd) {
  bool haveTarget = false;
  for (size_t i = 2; i < r.end; ++i) {
    const std::string& w = r.c.l.word(i);
    if (w == "location" || w == "prefix" || w == "scheme") {
      if (i + 1 >= r.end) {
        r.fail(i, "missing argument for '" + w + "'.");
        return false;
      }
      rd.type = w == "location" ? RedirectType::Location
                : w == "prefix" ? RedirectType::Prefix
                                : RedirectType::Scheme;
      if (!logFormat(r, i + 1, rd.value)) return false;
      haveTarget = true;
      ++i;
    } else if (w == "code") {
      if (i + 1 >= r.end) {
        r.fail(i, "missing argument for 'code'.");
        return false;
      }
      auto v = common::parseInt(r.c.l.word(i + 1), 0, 999);
      int code = v ? static_cast<int>(*v) : 0;
      if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
        r.fail(i + 1, "'code': unsupported HTTP code '" + r.c.l.word(i + 1) +
                          "' (must be one of 301, 302, 303, 307 or 308).");
        return false;
      }
      rd.code = code;
      ++i;
    } else if (w == "drop-query") {
      rd.dropQuery = true;
    } else if (w == "append-slash") {
      rd.appendSlash = true;
    } else if (w == "set-cookie" || w == "clear-cookie" || w == "ignore-empty") {
      r.fail(i, "'" + w + "' is not supported yet.");
      return false;
    } else {
      r.fail(i, "expects 'code', 'prefix', 'location', 'scheme', 'set-cookie', 'clear-cookie', "
                "'drop-query', 'ignore-empty' or 'append-slash' (was '" +
                    w + "').");
      return false;
    }
  }
  if (!haveTarget) {
    r.fail(0, "redirect: missing 'location', 'prefix' or 'scheme'.");
    return false;
  }
  return true;
}

// Actions HAProxy has that proxyd does not implement yet.
bool knownElsewhere(std::string_view a) {
  static constexpr std::array<std::string_view, 30> kOther = {
      "auth",          "capture",       "tarpit",           "reject",        "set-var",
      "unset-var",     "set-log-level", "set-nice",         "set-tos",       "set-mark",
      "track-sc0",     "track-sc1",     "track-sc2",        "set-method",    "set-uri",
      "set-query",     "set-pathq",     "replace-path",     "replace-pathq", "replace-uri",
      "normalize-uri", "early-hint",    "use-service",      "wait-for-body", "set-src",
      "set-dst",       "silent-drop",   "disable-l7-retry", "set-timeout",   "cache-use"};
  return std::find(kOther.begin(), kOther.end(), a) != kOther.end() || a.starts_with("set-var(") ||
         a.starts_with("unset-var(") || a.starts_with("sc-") || a.starts_with("add-acl(") ||
         a.starts_with("del-acl(") || a.starts_with("set-map(") || a.starts_with("del-map(");
}

// Splits off the condition; returns false after reporting.
bool ruleCondition(const RuleCtx& r, std::optional<Condition>& cond) {
  if (r.end >= r.c.l.size()) return true;
  cond = lineCondition(r.c, r.end, "an '" + r.kw + " " + r.action + "' condition");
  if (!cond) return false;
  warnNeverMatching(r.c, *cond, r.response, r.kw + " header rule");
  return true;
}

size_t conditionStart(const LineRef& l) {
  for (size_t i = 2; i < l.size(); ++i) {
    if (isConditionWord(l.word(i))) return i;
  }
  return l.size();
}

// HAProxy refuses extra words after actions that take a fixed number.
bool noExtra(const RuleCtx& r, size_t args) {
  if (r.nargs() <= args) return true;
  r.c.l.error(2 + args,
              "'" + r.kw + " " + r.action +
                  "' expects either 'if' or 'unless' followed by a condition but found '" +
                  r.arg(args) + "'.");
  return false;
}

bool hasAction(const ProxyLineCtx& c, const std::string& kw) {
  if (c.l.size() >= 2) return true;
  c.l.error(0, "'" + kw + "' expects an action.");
  return false;
}

} // namespace

void parseHttpRequestLine(const ProxyLineCtx& c) {
  using A = HttpRequestRule::Action;
  if (!hasAction(c, "http-request")) return;
  RuleCtx r{c, false, "http-request", c.l.word(1), conditionStart(c.l)};
  HttpRequestRule rule;
  rule.loc = c.l.line.loc;
  const std::string& a = r.action;
  bool ok = false;
  if (a == "allow") {
    rule.action = A::Allow;
    ok = noExtra(r, 0);
  } else if (a == "deny") {
    rule.action = A::Deny;
    ok = parseReply(r, rule.reply, 403, false);
  } else if (a == "return") {
    rule.action = A::Return;
    ok = parseReply(r, rule.reply, 200, true);
  } else if (a == "redirect") {
    rule.action = A::Redirect;
    ok = parseRedirect(r, rule.redirect);
  } else if (a == "set-header" || a == "add-header") {
    rule.action = a == "set-header" ? A::SetHeader : A::AddHeader;
    ok = parseEdit(r, 2, rule.edit);
  } else if (a == "del-header") {
    rule.action = A::DelHeader;
    ok = parseEdit(r, 1, rule.edit);
  } else if (a == "replace-header" || a == "replace-value") {
    rule.action = a == "replace-header" ? A::ReplaceHeader : A::ReplaceValue;
    ok = parseEdit(r, 3, rule.edit);
  } else if (a == "set-path") {
    rule.action = A::SetPath;
    ok = parseEdit(r, 1, rule.edit);
  } else if (knownElsewhere(a)) {
    c.l.error(1, "'http-request " + a + "' is not supported yet.");
  } else {
    c.l.error(1, "'http-request' expects 'allow', 'deny', 'return', 'redirect', 'set-header', "
                 "'add-header', 'del-header', 'replace-header', 'replace-value' or 'set-path', "
                 "but got '" +
                     a + "'.");
  }
  if (!ok || !ruleCondition(r, rule.cond)) return;
  c.px.httpRequest.push_back(std::move(rule));
}

void parseHttpResponseLine(const ProxyLineCtx& c) {
  using A = HttpResponseRule::Action;
  if (!hasAction(c, "http-response")) return;
  RuleCtx r{c, true, "http-response", c.l.word(1), conditionStart(c.l)};
  HttpResponseRule rule;
  rule.loc = c.l.line.loc;
  const std::string& a = r.action;
  bool ok = false;
  if (a == "allow") {
    rule.action = A::Allow;
    ok = noExtra(r, 0);
  } else if (a == "deny") {
    rule.action = A::Deny;
    ok = parseReply(r, rule.reply, 502, false);
  } else if (a == "set-header" || a == "add-header") {
    rule.action = a == "set-header" ? A::SetHeader : A::AddHeader;
    ok = parseEdit(r, 2, rule.edit);
  } else if (a == "del-header") {
    rule.action = A::DelHeader;
    ok = parseEdit(r, 1, rule.edit);
  } else if (a == "replace-header" || a == "replace-value") {
    rule.action = a == "replace-header" ? A::ReplaceHeader : A::ReplaceValue;
    ok = parseEdit(r, 3, rule.edit);
  } else if (a == "return" || a == "redirect" || knownElsewhere(a)) {
    c.l.error(1, "'http-response " + a + "' is not supported yet.");
  } else {
    c.l.error(1, "'http-response' expects 'allow', 'deny', 'set-header', 'add-header', "
                 "'del-header', 'replace-header' or 'replace-value', but got '" +
                     a + "'.");
  }
  if (!ok || !ruleCondition(r, rule.cond)) return;
  c.px.httpResponse.push_back(std::move(rule));
}

} // namespace proxyd::cfg
