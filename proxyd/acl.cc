// ACL expressions, named ACLs and conditions (HAProxy 2.6: acl.c,
// pattern.c, sample.c, http_fetch.c). Error messages are HAProxy's where it
// has them (checked against haproxy 2.6.12 -c).
#include "proxyd/acl.h"

#include "common/file_read.h"

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>

namespace proxyd {

namespace {

// ---------------------------------------------------------------- samples

enum class SmpType { Str, Int, Bool, Addr, Meth };

struct Sample {
  SmpType type = SmpType::Str;
  std::string_view str; // Str, Meth (the method token)
  std::string owned;    // when str must own its bytes
  int64_t i = 0;        // Int, Bool
  common::IpAddr ip;    // Addr
};

// A fetch calls `out` for each value it finds; `out` returns true to stop
// (a match was found).
using Visit = std::function<bool(Sample&)>;

struct FetchArgs {
  std::string name; // hdr / url_param name ("" = any)
  int occ = 0;      // hdr occurrence: 0 = all, >0 from the first, <0 from the last
  char delim = 0;   // url_param extra delimiter
};

enum class Dir { Conn, Req, Res };

enum class Match { Found, Bool, Int, Ip, Str, Beg, End, Sub, Reg, Dom, Dir, Len, Meth };

// Argument shapes a fetch accepts inside its parentheses.
enum class Args { None, Header, UrlParam };

using FetchFn = bool (*)(const FetchArgs&, const SampleContext&, const Visit&);

struct FetchDef {
  std::string_view name;
  Match match; // default matching method
  Args args;
  Dir dir;
  FetchFn fn;
};

// --- helpers on the request ---

// The path a server takes from the target (RFC 9112 3.2, split by the
// parser's own reading so an ACL judges what is forwarded): origin-form's
// path; absolute-form's path, "/" when empty (RFC 9110 4.2.3: an empty path
// is "/"; HAProxy 2.6 finds no path there); none for "*" and authority-form.
bool pathOf(std::string_view target, std::string_view& path) {
  const http1::TargetParts t = http1::splitTarget(target);
  if (t.form == http1::TargetParts::Form::Origin) {
    path = t.path;
  } else if (t.form == http1::TargetParts::Form::Absolute) {
    path = t.path.empty() ? std::string_view("/") : t.path;
  } else {
    return false;
  }
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
    v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
    v.remove_suffix(1);
  return v;
}

// The values of headers named `name` (all headers when empty), split on
// commas unless `full`, in order.
std::vector<std::string_view> headerValues(const http1::Message& m, std::string_view name,
                                           bool full) {
  std::vector<std::string_view> out;
  for (const http1::Header& h : m.headers) {
    if (!name.empty() && !http1::iequals(h.name, name)) continue;
    if (full) {
      out.push_back(h.value);
      continue;
    }
    std::string_view v = h.value;
    while (true) {
      std::size_t c = v.find(',');
      out.push_back(trim(v.substr(0, c)));
      if (c == std::string_view::npos) break;
      v.remove_prefix(c + 1);
    }
  }
  return out;
}

bool visitStr(std::string_view s, const Visit& out) {
  Sample smp;
  smp.str = s;
  return out(smp);
}

bool visitOwned(std::string s, const Visit& out) {
  Sample smp;
  smp.owned = std::move(s);
  smp.str = smp.owned;
  return out(smp);
}

bool visitInt(int64_t i, const Visit& out, SmpType t = SmpType::Int) {
  Sample smp;
  smp.type = t;
  smp.i = i;
  return out(smp);
}

// hdr(name[,occ]): every value, or the occ-th.
bool headers(const FetchArgs& a, const SampleContext& c, const Visit& out, bool full) {
  if (!c.req) return false;
  auto vals = headerValues(*c.req, a.name, full);
  if (a.occ == 0) {
    for (std::string_view v : vals) {
      if (visitStr(v, out)) return true;
    }
    return false;
  }
  long n = static_cast<long>(vals.size());
  long idx = a.occ > 0 ? a.occ - 1 : n + a.occ;
  if (idx < 0 || idx >= n) return false;
  return visitStr(vals[static_cast<std::size_t>(idx)], out);
}

const http1::Message* resOf(const SampleContext& c) {
  return c.res;
}

// --- the fetches ---

bool fPath(const FetchArgs&, const SampleContext& c, const Visit& out) {
  std::string_view path;
  if (!c.req || !pathOf(c.req->target, path)) return false;
  return visitStr(path, out);
}
bool fPathLen(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  return fPath(a, c, out);
}
bool fUrl(const FetchArgs&, const SampleContext& c, const Visit& out) {
  return c.req && visitStr(c.req->target, out);
}
bool fQuery(const FetchArgs&, const SampleContext& c, const Visit& out) {
  if (!c.req) return false;
  std::size_t q = c.req->target.find('?');
  if (q == std::string_view::npos) return false;
  return visitStr(c.req->target.substr(q + 1), out);
}
// base: the first Host value then the path (as HAProxy: the Host alone for
// "*" and CONNECT, nothing when neither is there).
bool fBase(const FetchArgs&, const SampleContext& c, const Visit& out) {
  if (!c.req) return false;
  std::string_view path;
  const bool hasPath = pathOf(c.req->target, path);
  const http1::Header* host = c.req->find("host");
  if (!host && !hasPath) return false;
  std::string s = host ? std::string(host->value) : std::string();
  s += path;
  return visitOwned(std::move(s), out);
}
bool fUrlParam(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  if (!c.req) return false;
  std::string_view t = c.req->target;
  std::size_t q = t.find('?');
  if (q == std::string_view::npos && a.delim) q = t.find(a.delim);
  if (q == std::string_view::npos) return false;
  t.remove_prefix(q + 1);
  auto isDelim = [&](char ch) { return ch == '&' || ch == ';' || (a.delim && ch == a.delim); };
  bool any = false;
  while (!t.empty()) {
    std::size_t end = 0;
    while (end < t.size() && !isDelim(t[end]))
      ++end;
    std::string_view param = t.substr(0, end);
    std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && (a.name.empty() || param.substr(0, eq) == a.name)) {
      any = true;
      if (visitStr(param.substr(eq + 1), out)) return true;
    }
    if (end >= t.size()) break;
    t.remove_prefix(end + 1);
  }
  (void)any;
  return false;
}
bool fHdr(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  return headers(a, c, out, false);
}
bool fFhdr(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  return headers(a, c, out, true);
}
bool fHdrCnt(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  if (!c.req) return false;
  return visitInt(static_cast<int64_t>(headerValues(*c.req, a.name, false).size()), out);
}
bool fFhdrCnt(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  if (!c.req) return false;
  return visitInt(static_cast<int64_t>(headerValues(*c.req, a.name, true).size()), out);
}
bool fMethod(const FetchArgs&, const SampleContext& c, const Visit& out) {
  if (!c.req) return false;
  Sample smp;
  smp.type = SmpType::Meth;
  smp.str = c.req->method;
  return out(smp);
}
bool fReqVer(const FetchArgs&, const SampleContext& c, const Visit& out) {
  if (!c.req) return false;
  return visitOwned(std::to_string(c.req->versionMajor) + "." + std::to_string(c.req->versionMinor),
                    out);
}
bool fProtoHttp(const FetchArgs&, const SampleContext& c, const Visit& out) {
  return visitInt(c.req ? 1 : 0, out, SmpType::Bool);
}
bool visitAddr(const common::SockAddr& a, const Visit& out) {
  if (a.family() != AF_INET && a.family() != AF_INET6) return false;
  Sample smp;
  smp.type = SmpType::Addr;
  smp.ip = a.ip();
  return out(smp);
}
bool fSrc(const FetchArgs&, const SampleContext& c, const Visit& out) {
  return visitAddr(c.src, out);
}
bool fDst(const FetchArgs&, const SampleContext& c, const Visit& out) {
  return visitAddr(c.dst, out);
}
bool fSrcPort(const FetchArgs&, const SampleContext& c, const Visit& out) {
  if (c.src.family() != AF_INET && c.src.family() != AF_INET6) return false;
  return visitInt(c.src.port(), out);
}
bool fDstPort(const FetchArgs&, const SampleContext& c, const Visit& out) {
  if (c.dst.family() != AF_INET && c.dst.family() != AF_INET6) return false;
  return visitInt(c.dst.port(), out);
}
bool fSslFc(const FetchArgs&, const SampleContext& c, const Visit& out) {
  return visitInt(c.ssl ? 1 : 0, out, SmpType::Bool);
}
bool fTrue(const FetchArgs&, const SampleContext&, const Visit& out) {
  return visitInt(1, out, SmpType::Bool);
}
bool fFalse(const FetchArgs&, const SampleContext&, const Visit& out) {
  return visitInt(0, out, SmpType::Bool);
}
// Response fetches (http-response rules).
bool fStatus(const FetchArgs&, const SampleContext& c, const Visit& out) {
  const http1::Message* r = resOf(c);
  return r && visitInt(r->status, out);
}
bool fResHdr(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  SampleContext rc;
  rc.req = resOf(c);
  return headers(a, rc, out, false);
}
bool fResFhdr(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  SampleContext rc;
  rc.req = resOf(c);
  return headers(a, rc, out, true);
}
bool fResHdrCnt(const FetchArgs& a, const SampleContext& c, const Visit& out) {
  SampleContext rc;
  rc.req = resOf(c);
  return fHdrCnt(a, rc, out);
}

constexpr FetchDef F(std::string_view n, Match m, Args a, Dir d, FetchFn fn) {
  return FetchDef{n, m, a, d, fn};
}

using M = Match;
using A = Args;
constexpr std::array kFetches = {
    F("path", M::Str, A::None, Dir::Req, fPath),
    F("path_beg", M::Beg, A::None, Dir::Req, fPath),
    F("path_end", M::End, A::None, Dir::Req, fPath),
    F("path_sub", M::Sub, A::None, Dir::Req, fPath),
    F("path_reg", M::Reg, A::None, Dir::Req, fPath),
    F("path_dir", M::Dir, A::None, Dir::Req, fPath),
    F("path_dom", M::Dom, A::None, Dir::Req, fPath),
    F("path_len", M::Len, A::None, Dir::Req, fPathLen),
    F("url", M::Str, A::None, Dir::Req, fUrl),
    F("url_beg", M::Beg, A::None, Dir::Req, fUrl),
    F("url_end", M::End, A::None, Dir::Req, fUrl),
    F("url_sub", M::Sub, A::None, Dir::Req, fUrl),
    F("url_reg", M::Reg, A::None, Dir::Req, fUrl),
    F("url_dir", M::Dir, A::None, Dir::Req, fUrl),
    F("url_dom", M::Dom, A::None, Dir::Req, fUrl),
    F("url_len", M::Len, A::None, Dir::Req, fUrl),
    F("base", M::Str, A::None, Dir::Req, fBase),
    F("base_beg", M::Beg, A::None, Dir::Req, fBase),
    F("base_end", M::End, A::None, Dir::Req, fBase),
    F("base_sub", M::Sub, A::None, Dir::Req, fBase),
    F("base_reg", M::Reg, A::None, Dir::Req, fBase),
    F("base_dir", M::Dir, A::None, Dir::Req, fBase),
    F("base_dom", M::Dom, A::None, Dir::Req, fBase),
    F("base_len", M::Len, A::None, Dir::Req, fBase),
    F("query", M::Str, A::None, Dir::Req, fQuery),
    F("url_param", M::Str, A::UrlParam, Dir::Req, fUrlParam),
    F("urlp", M::Str, A::UrlParam, Dir::Req, fUrlParam),
    F("urlp_val", M::Int, A::UrlParam, Dir::Req, fUrlParam),
    F("hdr", M::Str, A::Header, Dir::Req, fHdr),
    F("req.hdr", M::Str, A::Header, Dir::Req, fHdr),
    F("hdr_beg", M::Beg, A::Header, Dir::Req, fHdr),
    F("hdr_end", M::End, A::Header, Dir::Req, fHdr),
    F("hdr_sub", M::Sub, A::Header, Dir::Req, fHdr),
    F("hdr_reg", M::Reg, A::Header, Dir::Req, fHdr),
    F("hdr_dir", M::Dir, A::Header, Dir::Req, fHdr),
    F("hdr_dom", M::Dom, A::Header, Dir::Req, fHdr),
    F("hdr_len", M::Len, A::Header, Dir::Req, fHdr),
    F("hdr_ip", M::Ip, A::Header, Dir::Req, fHdr),
    F("hdr_val", M::Int, A::Header, Dir::Req, fHdr),
    F("req.hdr_ip", M::Ip, A::Header, Dir::Req, fHdr),
    F("req.hdr_val", M::Int, A::Header, Dir::Req, fHdr),
    F("hdr_cnt", M::Int, A::Header, Dir::Req, fHdrCnt),
    F("req.hdr_cnt", M::Int, A::Header, Dir::Req, fHdrCnt),
    F("fhdr", M::Str, A::Header, Dir::Req, fFhdr),
    F("req.fhdr", M::Str, A::Header, Dir::Req, fFhdr),
    F("fhdr_cnt", M::Int, A::Header, Dir::Req, fFhdrCnt),
    F("req.fhdr_cnt", M::Int, A::Header, Dir::Req, fFhdrCnt),
    F("method", M::Meth, A::None, Dir::Req, fMethod),
    F("req.ver", M::Str, A::None, Dir::Req, fReqVer),
    F("req_ver", M::Str, A::None, Dir::Req, fReqVer),
    F("req.proto_http", M::Bool, A::None, Dir::Req, fProtoHttp),
    F("src", M::Ip, A::None, Dir::Conn, fSrc),
    F("dst", M::Ip, A::None, Dir::Conn, fDst),
    F("src_port", M::Int, A::None, Dir::Conn, fSrcPort),
    F("dst_port", M::Int, A::None, Dir::Conn, fDstPort),
    F("ssl_fc", M::Bool, A::None, Dir::Conn, fSslFc),
    F("always_true", M::Bool, A::None, Dir::Conn, fTrue),
    F("always_false", M::Bool, A::None, Dir::Conn, fFalse),
    F("status", M::Int, A::None, Dir::Res, fStatus),
    F("res.hdr", M::Str, A::Header, Dir::Res, fResHdr),
    F("shdr", M::Str, A::Header, Dir::Res, fResHdr),
    F("res.fhdr", M::Str, A::Header, Dir::Res, fResFhdr),
    F("res.hdr_cnt", M::Int, A::Header, Dir::Res, fResHdrCnt),
    F("shdr_cnt", M::Int, A::Header, Dir::Res, fResHdrCnt),
};

const FetchDef* findFetch(std::string_view name) {
  for (const FetchDef& f : kFetches) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

struct MatchName {
  std::string_view name;
  Match match;
};
constexpr std::array<MatchName, 12> kMatchNames = {{{"found", M::Found},
                                                    {"bool", M::Bool},
                                                    {"int", M::Int},
                                                    {"ip", M::Ip},
                                                    {"str", M::Str},
                                                    {"beg", M::Beg},
                                                    {"end", M::End},
                                                    {"sub", M::Sub},
                                                    {"reg", M::Reg},
                                                    {"dom", M::Dom},
                                                    {"dir", M::Dir},
                                                    {"len", M::Len}}};

// HAProxy's well-known methods (HTTP_METH_*); others compare as strings.
bool knownMethod(std::string_view m) {
  static constexpr std::array<std::string_view, 8> kKnown = {
      "OPTIONS", "GET", "HEAD", "POST", "PUT", "DELETE", "TRACE", "CONNECT"};
  return std::find(kKnown.begin(), kKnown.end(), m) != kKnown.end();
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// read_int64(): optional sign and leading digits; false when empty.
bool strToInt(std::string_view s, int64_t& v) {
  if (s.empty()) return false;
  std::size_t i = 0;
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    i = 1;
  }
  int64_t r = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    if (r > (std::numeric_limits<int64_t>::max() - 9) / 10) break;
    r = r * 10 + (s[i] - '0');
  }
  v = neg ? -r : r;
  return true;
}

// A strictly decimal integer (pattern values).
bool parseDecimal(std::string_view s, int64_t& v) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool isDelimiter(char c, std::string_view delims) {
  return delims.find(c) != std::string_view::npos;
}

bool charEq(char a, char b, bool icase) {
  if (!icase) return a == b;
  return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
}

bool strEq(std::string_view a, std::string_view b, bool icase) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (!charEq(a[i], b[i], icase)) return false;
  }
  return true;
}

// pattern.c match_word(): the pattern (its own delimiters trimmed) appears in
// the sample as a whole word between delimiters.
bool matchWord(std::string_view smp, std::string_view pat, bool icase, std::string_view delims) {
  while (!pat.empty() && isDelimiter(pat.front(), delims))
    pat.remove_prefix(1);
  while (!pat.empty() && isDelimiter(pat.back(), delims))
    pat.remove_suffix(1);
  if (pat.empty() || pat.size() > smp.size()) return false;
  bool mayMatch = true;
  std::size_t last = smp.size() - pat.size();
  for (std::size_t c = 0; c <= last; ++c) {
    if (isDelimiter(smp[c], delims)) {
      mayMatch = true;
      continue;
    }
    if (!mayMatch) continue;
    if (strEq(smp.substr(c, pat.size()), pat, icase) &&
        (c == last || isDelimiter(smp[c + pat.size()], delims))) {
      return true;
    }
    mayMatch = false;
  }
  return false;
}

// An IPv4-mapped IPv6 address as IPv4, else unchanged.
common::IpAddr unmapped(const common::IpAddr& a) {
  if (a.family != AF_INET6) return a;
  const uint8_t* b = a.v6.s6_addr;
  static const uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (!std::equal(b, b + 12, kPrefix)) return a;
  common::IpAddr v4;
  v4.family = AF_INET;
  std::memcpy(&v4.v4, b + 12, 4);
  return v4;
}

common::IpAddr mapped(const common::IpAddr& a) {
  if (a.family != AF_INET) return a;
  common::IpAddr v6;
  v6.family = AF_INET6;
  v6.v6.s6_addr[10] = 0xff;
  v6.v6.s6_addr[11] = 0xff;
  std::memcpy(v6.v6.s6_addr + 12, &a.v4, 4);
  return v6;
}

struct IntRange {
  int64_t lo = std::numeric_limits<int64_t>::min();
  int64_t hi = std::numeric_limits<int64_t>::max();
};

} // namespace

// ---------------------------------------------------------------- Regex

namespace {
// \d and \D (PCRE habits) become bracket expressions; inside a bracket,
// \d becomes 0-9. Other escapes are left to glibc (\w \s \b are GNU
// extensions it knows).
std::string translateRegex(const std::string& re) {
  std::string out;
  bool inBracket = false;
  for (std::size_t i = 0; i < re.size(); ++i) {
    char c = re[i];
    if (c == '\\' && i + 1 < re.size()) {
      char n = re[i + 1];
      if (n == 'd') {
        out += inBracket ? "0-9" : "[0-9]";
        ++i;
        continue;
      }
      if (n == 'D' && !inBracket) {
        out += "[^0-9]";
        ++i;
        continue;
      }
      if (!inBracket) {
        out += c;
        out += n;
        ++i;
        continue;
      }
    }
    if (c == '[' && !inBracket) {
      inBracket = true;
      out += c;
      // "[]..." and "[^]..." keep the ']' literal
      if (i + 1 < re.size() && re[i + 1] == '^') out += re[++i];
      if (i + 1 < re.size() && re[i + 1] == ']') out += re[++i];
      continue;
    }
    if (c == ']' && inBracket) inBracket = false;
    out += c;
  }
  return out;
}
} // namespace

std::shared_ptr<const Regex> Regex::compile(const std::string& re, bool icase, std::string& err) {
  std::shared_ptr<Regex> r(new Regex());
  r->text_ = re;
  int rc = regcomp(&r->re_, translateRegex(re).c_str(), REG_EXTENDED | (icase ? REG_ICASE : 0));
  if (rc != 0) {
    char buf[256];
    regerror(rc, &r->re_, buf, sizeof buf);
    err = "regex '" + re + "' is invalid (error=" + buf + ")";
    return nullptr;
  }
  r->compiled_ = true;
  return r;
}

Regex::~Regex() {
  if (compiled_) regfree(&re_);
}

bool Regex::search(std::string_view s) const {
  regmatch_t m[1];
  m[0].rm_so = 0;
  m[0].rm_eo = static_cast<regoff_t>(s.size());
  return regexec(&re_, s.data() ? s.data() : "", 1, m, REG_STARTEND) == 0;
}

bool Regex::search(std::string_view s,
                   std::vector<std::pair<std::size_t, std::size_t>>& groups) const {
  regmatch_t m[10];
  m[0].rm_so = 0;
  m[0].rm_eo = static_cast<regoff_t>(s.size());
  groups.clear();
  if (regexec(&re_, s.data() ? s.data() : "", 10, m, REG_STARTEND) != 0) return false;
  for (const regmatch_t& g : m) {
    if (g.rm_so < 0) {
      groups.emplace_back(std::string_view::npos, 0);
    } else {
      groups.emplace_back(static_cast<std::size_t>(g.rm_so),
                          static_cast<std::size_t>(g.rm_eo - g.rm_so));
    }
  }
  return true;
}

// ---------------------------------------------------------------- AclExpr

struct AclExpr {
  const FetchDef* fetch = nullptr;
  FetchArgs args;
  Match match = Match::Str;
  bool icase = false;
  std::string text; // the expression as written, for --dump
  std::vector<std::string> strs;
  std::vector<std::shared_ptr<const Regex>> regexes;
  std::vector<IntRange> ints;
  std::vector<common::Cidr> nets;

  bool matches(Sample& s) const;
  bool eval(const SampleContext& ctx) const {
    return fetch->fn(args, ctx, [this](Sample& s) { return matches(s); });
  }
};

namespace {

bool toStr(Sample& s) {
  switch (s.type) {
  case SmpType::Str:
  case SmpType::Meth:
    return true;
  case SmpType::Int:
  case SmpType::Bool:
    s.owned = std::to_string(s.i);
    break;
  case SmpType::Addr:
    s.owned = s.ip.str();
    break;
  }
  s.str = s.owned;
  return true;
}

bool toInt(const Sample& s, int64_t& v) {
  switch (s.type) {
  case SmpType::Int:
  case SmpType::Bool:
    v = s.i;
    return true;
  case SmpType::Str:
  case SmpType::Meth:
    return strToInt(s.str, v);
  case SmpType::Addr: {
    common::IpAddr a = unmapped(s.ip);
    if (a.family != AF_INET) return false;
    v = ntohl(a.v4.s_addr);
    return true;
  }
  }
  return false;
}

bool toIp(const Sample& s, common::IpAddr& ip) {
  if (s.type == SmpType::Addr) {
    ip = s.ip;
    return true;
  }
  if (s.type == SmpType::Str) {
    auto r = common::parseIp(trim(s.str));
    if (!r) return false;
    ip = *r;
    return true;
  }
  if (s.type == SmpType::Int) {
    ip.family = AF_INET;
    ip.v4.s_addr = htonl(static_cast<uint32_t>(s.i));
    return true;
  }
  return false;
}

bool inRanges(const std::vector<IntRange>& ranges, int64_t v) {
  for (const IntRange& r : ranges) {
    if (v >= r.lo && v <= r.hi) return true;
  }
  return false;
}

} // namespace

bool AclExpr::matches(Sample& s) const {
  switch (match) {
  case M::Found:
    return true;
  case M::Bool: {
    int64_t v = 0;
    return toInt(s, v) && v != 0;
  }
  case M::Int: {
    int64_t v = 0;
    return toInt(s, v) && inRanges(ints, v);
  }
  case M::Len:
    toStr(s);
    return inRanges(ints, static_cast<int64_t>(s.str.size()));
  case M::Ip: {
    common::IpAddr ip;
    if (!toIp(s, ip)) return false;
    for (const common::Cidr& n : nets) {
      common::IpAddr a = n.net.family == AF_INET ? unmapped(ip) : mapped(ip);
      if (a.family == n.net.family && n.contains(a)) return true;
    }
    return false;
  }
  case M::Meth:
    if (s.type == SmpType::Meth) {
      bool reqKnown = knownMethod(s.str);
      for (const std::string& p : strs) {
        if (knownMethod(p)) {
          if (s.str == p) return true;
        } else if (!reqKnown && strEq(s.str, p, icase)) {
          return true;
        }
      }
      return false;
    }
    [[fallthrough]];
  case M::Str:
    toStr(s);
    for (const std::string& p : strs) {
      if (strEq(s.str, p, icase)) return true;
    }
    return false;
  case M::Beg:
    toStr(s);
    for (const std::string& p : strs) {
      if (p.size() <= s.str.size() && strEq(s.str.substr(0, p.size()), p, icase)) return true;
    }
    return false;
  case M::End:
    toStr(s);
    for (const std::string& p : strs) {
      if (p.size() <= s.str.size() && strEq(s.str.substr(s.str.size() - p.size()), p, icase)) {
        return true;
      }
    }
    return false;
  case M::Sub:
    toStr(s);
    for (const std::string& p : strs) {
      if (p.empty()) return true;
      for (std::size_t i = 0; i + p.size() <= s.str.size(); ++i) {
        if (strEq(s.str.substr(i, p.size()), p, icase)) return true;
      }
    }
    return false;
  case M::Reg:
    toStr(s);
    for (const auto& r : regexes) {
      if (r->search(s.str)) return true;
    }
    return false;
  case M::Dom:
    toStr(s);
    for (const std::string& p : strs) {
      if (matchWord(s.str, p, icase, "/?.:")) return true;
    }
    return false;
  case M::Dir:
    toStr(s);
    for (const std::string& p : strs) {
      if (matchWord(s.str, p, icase, "/?")) return true;
    }
    return false;
  }
  return false;
}

// ---------------------------------------------------------------- Acl / Condition

Acl::~Acl() = default;

bool Acl::eval(const SampleContext& ctx) const {
  for (const auto& e : exprs_) {
    if (e->eval(ctx)) return true;
  }
  return false;
}

bool Acl::usesHttp() const {
  for (const auto& e : exprs_) {
    if (e->fetch->dir != Dir::Conn) return true;
  }
  return false;
}

bool Acl::usableIn(bool response) const {
  for (const auto& e : exprs_) {
    Dir d = e->fetch->dir;
    if (d == Dir::Conn || (d == Dir::Res) == response) return true;
  }
  return false;
}

std::string Acl::firstKeyword() const {
  return exprs_.empty() ? std::string() : std::string(exprs_.front()->fetch->name);
}

bool Condition::eval(const SampleContext& ctx) const {
  bool any = false;
  for (const auto& all : anyOf_) {
    bool ok = true;
    for (const Term& t : all) {
      if (t.acl->eval(ctx) == t.negate) {
        ok = false;
        break;
      }
    }
    if (ok) {
      any = true;
      break;
    }
  }
  return any != unless_;
}

bool Condition::usesHttp() const {
  for (const auto& all : anyOf_) {
    for (const Term& t : all) {
      if (t.acl->usesHttp()) return true;
    }
  }
  return false;
}

std::string Condition::str() const {
  std::string out = unless_ ? "unless" : "if";
  for (std::size_t i = 0; i < anyOf_.size(); ++i) {
    if (i) out += " or";
    for (const Term& t : anyOf_[i]) {
      out += t.negate ? " !" : " ";
      out += t.acl->name().empty() ? "{...}" : t.acl->name();
    }
  }
  return out;
}

bool isConditionWord(std::string_view w) {
  return w == "if" || w == "unless";
}

// ---------------------------------------------------------------- parsing

namespace {

// Splits "name(args)" and reports HAProxy's errors about it.
bool parseFetchWord(const std::string& word, std::string& name, std::vector<std::string>& args,
                    bool& hasArgs, std::string& err) {
  std::size_t open = word.find('(');
  std::size_t comma = word.find(',');
  if (comma != std::string::npos && (open == std::string::npos || comma < open)) {
    err = "converters ('" + word.substr(comma) + "') are not supported yet in ACL expression '" +
          word + "'";
    return false;
  }
  hasArgs = open != std::string::npos;
  name = word.substr(0, open);
  if (!hasArgs) return true;
  std::size_t close = word.find(')', open);
  if (close == std::string::npos) {
    err = "ACL keyword '" + name + "' : expected ')'";
    return false;
  }
  if (close + 1 < word.size()) {
    if (word[close + 1] == ',') {
      err = "converters ('" + word.substr(close + 1) +
            "') are not supported yet in ACL expression '" + word + "'";
    } else {
      err = "ACL keyword '" + name + "' : expected ')' before '" + word.substr(close + 1) + "'";
    }
    return false;
  }
  std::string inner = word.substr(open + 1, close - open - 1);
  std::size_t start = 0;
  while (true) {
    std::size_t c = inner.find(',', start);
    args.push_back(inner.substr(start, c == std::string::npos ? std::string::npos : c - start));
    if (c == std::string::npos) break;
    start = c + 1;
  }
  if (args.size() == 1 && args[0].empty()) args.clear();
  return true;
}

bool fillArgs(const FetchDef& f, const std::string& name, const std::vector<std::string>& args,
              FetchArgs& out, std::string& err) {
  std::size_t max = f.args == Args::None ? 0 : 2;
  if (args.size() > max) {
    std::string rest;
    for (std::size_t i = max; i < args.size(); ++i)
      rest += (i || max ? "," : "") + args[i];
    err = "ACL keyword '" + name + "' : expected ')' before '" + rest + ")'";
    return false;
  }
  if (!args.empty()) out.name = args[0];
  if (args.size() > 1 && f.args == Args::Header) {
    int64_t v = 0;
    if (!parseDecimal(args[1], v) || v < std::numeric_limits<int>::min() ||
        v > std::numeric_limits<int>::max()) {
      err = "ACL keyword '" + name + "' : failed to parse '" + args[1] +
            "' as type 'integer' at position 2";
      return false;
    }
    out.occ = static_cast<int>(v);
  }
  if (args.size() > 1 && f.args == Args::UrlParam && !args[1].empty()) out.delim = args[1][0];
  return true;
}

enum class Op { Eq, Le, Lt, Ge, Gt };

std::optional<Op> stdOp(std::string_view w) {
  if (w == "eq") return Op::Eq;
  if (w == "le") return Op::Le;
  if (w == "lt") return Op::Lt;
  if (w == "ge") return Op::Ge;
  if (w == "gt") return Op::Gt;
  return std::nullopt;
}

// pat_parse_int(): "N", "N:", ":N", "N:M".
bool parseIntRange(const std::string& w, IntRange& r, std::string& err) {
  std::size_t colon = w.find(':');
  if (colon == std::string::npos) {
    int64_t v = 0;
    if (!parseDecimal(w, v)) {
      err = "'" + w + "' is not a number";
      return false;
    }
    r.lo = r.hi = v;
    return true;
  }
  std::string a = w.substr(0, colon), b = w.substr(colon + 1);
  int64_t v = 0;
  if ((a.empty() && b.empty()) || b.find(':') != std::string::npos ||
      (!a.empty() && !parseDecimal(a, v)) || (!b.empty() && !parseDecimal(b, v))) {
    err = "'" + w + "' is not a valid number range";
    return false;
  }
  if (!a.empty()) parseDecimal(a, r.lo);
  if (!b.empty()) parseDecimal(b, r.hi);
  return true;
}

bool addPattern(AclExpr& e, const std::string& w, std::optional<Op>& op, std::string& err) {
  switch (e.match) {
  case M::Found:
  case M::Bool:
    return true; // patterns are ignored, as HAProxy
  case M::Int:
  case M::Len: {
    if (auto o = stdOp(w)) {
      op = o;
      return true;
    }
    IntRange r;
    bool plain = w.find(':') == std::string::npos && w.find('-') == std::string::npos;
    if (plain && op && *op != Op::Eq) {
      int64_t v = 0;
      if (!parseDecimal(w, v)) {
        err = "'" + w + "' is neither a number nor a supported operator";
        return false;
      }
      switch (*op) {
      case Op::Le:
        r.hi = v;
        break;
      case Op::Lt:
        r.hi = v - 1;
        break;
      case Op::Ge:
        r.lo = v;
        break;
      case Op::Gt:
        r.lo = v + 1;
        break;
      case Op::Eq:
        break;
      }
    } else if (!parseIntRange(w, r, err)) {
      return false;
    }
    e.ints.push_back(r);
    return true;
  }
  case M::Ip: {
    std::string v = w == "localhost" ? "127.0.0.1" : w;
    auto c = common::parseCidr(v);
    if (!c) {
      err = "'" + w + "' is not a valid IPv4 or IPv6 address";
      return false;
    }
    e.nets.push_back(*c);
    return true;
  }
  case M::Reg: {
    auto re = Regex::compile(w, e.icase, err);
    if (!re) return false;
    e.regexes.push_back(std::move(re));
    return true;
  }
  default:
    e.strs.push_back(w);
    return true;
  }
}

// Patterns from a -f file: one a line, blank lines and '#' lines skipped,
// surrounding blanks removed.
bool readPatternFile(const std::string& path, std::vector<std::string>& out, std::string& err) {
  // Bounded (64 MiB) and regular files only: a pattern file can be long
  // (address lists) but not endless (/dev/zero).
  common::FileRead f = common::readRegularFile(path, 64u << 20);
  if (f.status == common::ReadStatus::Truncated) {
    err = "pattern file <" + path + "> is larger than 64 MiB";
    return false;
  }
  if (f.status != common::ReadStatus::Ok) {
    err = "failed to open pattern file <" + path + ">";
    return false;
  }
  std::istringstream in(f.data);
  std::string line;
  while (std::getline(in, line)) {
    std::string_view v = line;
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front())))
      v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back())))
      v.remove_suffix(1);
    if (v.empty() || v.front() == '#') continue;
    out.emplace_back(v);
  }
  return true;
}

// Parses "FETCH [flags] [--] PATTERNS" from words[first]; `err.word`
// indexes `words`. `warning` receives HAProxy's "no pattern" warning.
std::shared_ptr<AclExpr> parseExpr(const std::vector<std::string>& words, std::size_t first,
                                   std::size_t end, AclError& err, std::string* warning) {
  if (first >= end || words[first].empty()) {
    err = {std::min(first, words.size() - 1), "missing fetch method in ACL expression ''"};
    return nullptr;
  }
  const std::string& kw = words[first];
  auto e = std::make_shared<AclExpr>();
  std::string name, msg;
  std::vector<std::string> args;
  bool hasArgs = false;
  if (!parseFetchWord(kw, name, args, hasArgs, msg)) {
    err = {first, msg};
    return nullptr;
  }
  e->fetch = findFetch(name);
  if (!e->fetch) {
    err = {first, "unknown fetch method '" + name + "' in ACL expression '" + name + "'"};
    return nullptr;
  }
  if (!fillArgs(*e->fetch, name, args, e->args, msg)) {
    err = {first, msg};
    return nullptr;
  }
  e->match = e->fetch->match;
  e->text = kw;
  bool explicitMatch = false, dashdash = false;
  std::vector<std::pair<std::string, std::size_t>> patterns; // value, word index
  std::size_t i = first + 1;
  for (; i < end; ++i) {
    const std::string& w = words[i];
    if (w.size() < 2 || w[0] != '-') break;
    if (w == "--") {
      dashdash = true;
      ++i;
      break;
    }
    if (w == "-i") {
      e->icase = true;
    } else if (w == "-n" || w == "-M") {
      // -n: no DNS resolution (we never resolve); -M: for maps only
    } else if (w == "-m" || w == "-f" || w == "-u") {
      if (i + 1 >= end) {
        err = {i, "missing argument after '" + w + "'"};
        return nullptr;
      }
      const std::string& v = words[++i];
      if (w == "-m") {
        auto it = std::find_if(kMatchNames.begin(), kMatchNames.end(),
                               [&](const MatchName& n) { return n.name == v; });
        if (it == kMatchNames.end()) {
          err = {i, "unknown matching method '" + v + "' when parsing ACL expression"};
          return nullptr;
        }
        e->match = it->match;
        explicitMatch = true;
      } else if (w == "-f") {
        std::vector<std::string> fromFile;
        if (!readPatternFile(v, fromFile, msg)) {
          err = {i, msg};
          return nullptr;
        }
        for (std::string& p : fromFile)
          patterns.emplace_back(std::move(p), i);
      } else {
        int64_t id = 0;
        if (!parseDecimal(v, id)) {
          err = {i, "the argument of -u must be an integer"};
          return nullptr;
        }
      }
    } else {
      err = {i, "'" + w +
                    "' is not a valid ACL option. Please use '--' before any pattern beginning "
                    "with a '-'"};
      return nullptr;
    }
  }
  for (; i < end; ++i)
    patterns.emplace_back(words[i], i);
  // The matching method is known only now (-m may follow -i).
  std::optional<Op> op;
  for (const auto& [p, at] : patterns) {
    if (!addPattern(*e, p, op, msg)) {
      err = {at, msg};
      return nullptr;
    }
  }
  for (std::size_t k = first + 1; k < end; ++k)
    e->text += " " + words[k];
  if (patterns.empty() && !dashdash && !explicitMatch && e->match != M::Bool &&
      e->match != M::Found && warning) {
    *warning = "parsing acl keyword '" + name +
               "' : no pattern to match against were provided, so this ACL will never match. If "
               "this is what you intended, please add '--' to get rid of this warning. If you "
               "intended to match only for existence, please use '-m found'. If you wanted to "
               "force an int to match as a bool, please use '-m bool'.";
  }
  return e;
}

bool validAclName(const std::string& s, char& bad) {
  for (char c : s) {
    bool ok =
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) {
      bad = c;
      return false;
    }
  }
  return true;
}

// HAProxy's predefined ACLs (acl.c default_acl_list) that proxyd can serve.
const AclTable& predefined() {
  static const AclTable table = [] {
    AclTable t;
    const std::vector<std::vector<std::string>> defs = {
        {"TRUE", "always_true"},
        {"FALSE", "always_false"},
        {"LOCALHOST", "src", "127.0.0.1/8", "::1"},
        {"HTTP", "req.proto_http"},
        {"HTTP_1.0", "req.ver", "1.0"},
        {"HTTP_1.1", "req.ver", "1.1"},
        {"HTTP_2.0", "req.ver", "2.0"},
        {"HTTP_3.0", "req.ver", "3.0"},
        {"HTTP_CONTENT", "req.hdr_val(content-length)", "gt", "0"},
        {"HTTP_URL_ABS", "url_reg", "^[^/:]*://"},
        {"HTTP_URL_SLASH", "url_beg", "/"},
        {"HTTP_URL_STAR", "url", "*"},
        {"METH_CONNECT", "method", "CONNECT"},
        {"METH_DELETE", "method", "DELETE"},
        {"METH_GET", "method", "GET", "HEAD"},
        {"METH_HEAD", "method", "HEAD"},
        {"METH_OPTIONS", "method", "OPTIONS"},
        {"METH_POST", "method", "POST"},
        {"METH_PUT", "method", "PUT"},
        {"METH_TRACE", "method", "TRACE"},
    };
    for (const auto& d : defs) {
      std::vector<std::string> words = {"acl"};
      words.insert(words.end(), d.begin(), d.end());
      AclError err;
      parseAclLine(words, t, err);
    }
    return t;
  }();
  return table;
}

} // namespace

bool parseAclLine(const std::vector<std::string>& words, AclTable& table, AclError& err,
                  std::string* warning) {
  if (words.size() < 2 || words[1].empty()) {
    err = {0, "'acl' expects a name and a fetch method"};
    return false;
  }
  const std::string& name = words[1];
  char bad = 0;
  if (!validAclName(name, bad)) {
    err = {1, std::string("character '") + bad + "' is not permitted in acl name '" + name + "'"};
    return false;
  }
  std::string warn;
  auto expr = parseExpr(words, 2, words.size(), err, &warn);
  if (!expr) {
    err.message = "error detected while parsing ACL '" + name + "' : " + err.message;
    return false;
  }
  if (warning) *warning = warn;
  auto it = table.find(name);
  if (it == table.end()) it = table.emplace(name, std::make_shared<Acl>(name)).first;
  it->second->add(std::move(expr));
  return true;
}

std::optional<Condition> parseCondition(const std::vector<std::string>& words, size_t first,
                                        const AclTable& table, AclError& err) {
  if (first >= words.size() || !isConditionWord(words[first])) {
    err = {std::min(first, words.size() - 1), "conditions must start with either 'if' or 'unless'"};
    return std::nullopt;
  }
  bool unless = words[first] == "unless";
  std::vector<std::vector<Condition::Term>> anyOf;
  bool newSuite = true;
  bool neg = false;
  for (std::size_t i = first + 1; i < words.size(); ++i) {
    std::string_view w = words[i];
    while (!w.empty() && w.front() == '!') {
      neg = !neg;
      w.remove_prefix(1);
    }
    if (w.empty()) continue; // a lone "!" applies to the next term, as HAProxy
    if (w == "||" || lower(w) == "or") {
      newSuite = true;
      neg = false;
      continue;
    }
    std::shared_ptr<const Acl> acl;
    if (w == "{") {
      std::size_t close = i + 1;
      while (close < words.size() && words[close] != "}")
        ++close;
      if (close >= words.size()) {
        err = {i, "missing closing '}' in condition"};
        return std::nullopt;
      }
      std::string warn; // HAProxy does not warn for anonymous ACLs without patterns either
      auto expr = parseExpr(words, i + 1, close, err, nullptr);
      if (!expr) return std::nullopt;
      auto anon = std::make_shared<Acl>("");
      anon->add(std::move(expr));
      acl = std::move(anon);
      i = close;
    } else {
      auto it = table.find(w);
      if (it != table.end()) {
        acl = it->second;
      } else {
        const AclTable& pre = predefined();
        auto p = pre.find(w);
        if (p == pre.end()) {
          err = {i, "no such ACL : '" + std::string(w) + "'"};
          return std::nullopt;
        }
        acl = p->second;
      }
    }
    if (newSuite) {
      anyOf.emplace_back();
      newSuite = false;
    }
    anyOf.back().push_back(Condition::Term{std::move(acl), neg});
    neg = false;
  }
  return Condition(unless, std::move(anyOf));
}

} // namespace proxyd
