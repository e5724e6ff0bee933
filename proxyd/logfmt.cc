#include "proxyd/logfmt.h"

#include <arpa/inet.h>
#include <cstdio>
#include <ctime>
#include <netinet/in.h>
#include <unistd.h>

namespace proxyd {

std::string formatTermState(TermCode code, TermPhase phase) {
  return std::string{static_cast<char>(code), static_cast<char>(phase)};
}

std::string formatLogDate(std::chrono::system_clock::time_point t, bool utc) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  // Floor division, so instants before 1970 still get 0..999 ms.
  long long secs = ms / 1000;
  long long rem = ms % 1000;
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (utc)
    gmtime_r(&tt, &tm);
  else
    localtime_r(&tt, &tm);
  static const char* const kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d.%03lld", tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
  return buf;
}

std::string quoteRequestLine(std::string_view line) {
  if (line.empty()) return "\"<BADREQ>\"";
  static const char kHex[] = "0123456789ABCDEF";
  std::string s = "\"";
  for (unsigned char c : line) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '#') {
      s += '#';
      s += kHex[c >> 4];
      s += kHex[c & 15];
    } else {
      s += static_cast<char>(c);
    }
  }
  s += '"';
  return s;
}

} // namespace proxyd

// ---------------------------------------------------------------------------
// log-format

namespace proxyd {

const char* const kTcpLogFormat =
    "%ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq";
const char* const kHttpLogFormat = "%ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS "
                                   "%tsc %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r";
const char* const kClfHttpLogFormat =
    "%{+Q}o %{-Q}ci - - [%trg] %r %ST %B \"\" \"\" %cp %ms %ft %b %s %TR %Tw %Tc %Tr %Ta "
    "%tsc %ac %fc %bc %sc %rc %sq %bq %CC %CS %hrl %hsl";

namespace {

enum LogOpt : unsigned { OptQuote = 1, OptHex = 2, OptEsc = 4 };

enum class V {
  Option, // %o: sets the flags of the variables that follow
  ClientIp,
  ClientPort,
  FrontendIp,
  FrontendPort,
  BackendIp,
  BackendPort,
  ServerIp,
  ServerPort,
  AcceptDate,
  RequestDate,
  RequestDateGmt,
  RequestDateLocal,
  AcceptDateGmt,
  AcceptDateLocal,
  AcceptTs,
  AcceptMs,
  FrontendTransport,
  Frontend,
  Backend,
  Server,
  Hostname,
  Pid,
  UniqueId,
  Th,
  Ti,
  TR,
  Tw,
  Tc,
  Tr,
  Ta,
  Tt,
  Tq,
  Tu,
  Status,
  BytesOut,
  BytesIn,
  TermState,
  TermStateCookie,
  Actconn,
  Feconn,
  Beconn,
  SrvConn,
  Retries,
  SrvQueue,
  BackendQueue,
  Request,
  Method,
  Path,
  PathOnly,
  Query,
  Uri,
  Version,
  ReqHeaders,
  RespHeaders,
  ReqHeadersList,
  RespHeadersList,
  ReqCookie,
  RespCookie,
};

enum class Avail { Any, Http, Unsupported };

struct VarDef {
  std::string_view name;
  V var;
  Avail avail;
};

// configuration.txt 8.2.4's table, as HAProxy 2.6 accepts it. The variables
// marked Unsupported exist in HAProxy but are refused here.
constexpr VarDef kVars[] = {
    {"o", V::Option, Avail::Any},
    {"ci", V::ClientIp, Avail::Any},
    {"cp", V::ClientPort, Avail::Any},
    {"fi", V::FrontendIp, Avail::Any},
    {"fp", V::FrontendPort, Avail::Any},
    {"bi", V::BackendIp, Avail::Any},
    {"bp", V::BackendPort, Avail::Any},
    {"si", V::ServerIp, Avail::Any},
    {"sp", V::ServerPort, Avail::Any},
    {"t", V::AcceptDate, Avail::Any},
    {"tr", V::RequestDate, Avail::Http},
    {"trg", V::RequestDateGmt, Avail::Http},
    {"trl", V::RequestDateLocal, Avail::Http},
    {"T", V::AcceptDateGmt, Avail::Any},
    {"Tl", V::AcceptDateLocal, Avail::Any},
    {"Ts", V::AcceptTs, Avail::Any},
    {"ms", V::AcceptMs, Avail::Any},
    {"ft", V::FrontendTransport, Avail::Any},
    {"f", V::Frontend, Avail::Any},
    {"b", V::Backend, Avail::Any},
    {"s", V::Server, Avail::Any},
    {"H", V::Hostname, Avail::Any},
    {"pid", V::Pid, Avail::Any},
    {"ID", V::UniqueId, Avail::Any},
    {"Th", V::Th, Avail::Any},
    {"Ti", V::Ti, Avail::Http},
    {"TR", V::TR, Avail::Http},
    {"Tw", V::Tw, Avail::Any},
    {"Tc", V::Tc, Avail::Any},
    {"Tr", V::Tr, Avail::Http},
    {"Ta", V::Ta, Avail::Http},
    {"Tt", V::Tt, Avail::Any},
    {"Tq", V::Tq, Avail::Http},
    {"Tu", V::Tu, Avail::Any},
    {"Td", V::Tu, Avail::Unsupported},
    {"ST", V::Status, Avail::Any},
    {"B", V::BytesOut, Avail::Any},
    {"U", V::BytesIn, Avail::Any},
    {"ts", V::TermState, Avail::Any},
    {"tsc", V::TermStateCookie, Avail::Any},
    {"ac", V::Actconn, Avail::Any},
    {"fc", V::Feconn, Avail::Any},
    {"bc", V::Beconn, Avail::Any},
    {"sc", V::SrvConn, Avail::Any},
    {"rc", V::Retries, Avail::Any},
    {"sq", V::SrvQueue, Avail::Any},
    {"bq", V::BackendQueue, Avail::Any},
    {"lc", V::Pid, Avail::Unsupported},
    {"rt", V::Pid, Avail::Unsupported},
    {"sslc", V::Pid, Avail::Unsupported},
    {"sslv", V::Pid, Avail::Unsupported},
    {"r", V::Request, Avail::Http},
    {"HM", V::Method, Avail::Http},
    {"HP", V::Path, Avail::Http},
    {"HPO", V::PathOnly, Avail::Http},
    {"HQ", V::Query, Avail::Http},
    {"HU", V::Uri, Avail::Http},
    {"HV", V::Version, Avail::Http},
    {"hr", V::ReqHeaders, Avail::Any},
    {"hs", V::RespHeaders, Avail::Any},
    {"hrl", V::ReqHeadersList, Avail::Any},
    {"hsl", V::RespHeadersList, Avail::Any},
    {"CC", V::ReqCookie, Avail::Http},
    {"CS", V::RespCookie, Avail::Http},
};

const VarDef* findVar(std::string_view name) {
  for (const VarDef& d : kVars) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

bool isAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool isAlnum(char c) {
  return isAlpha(c) || (c >= '0' && c <= '9');
}

// "+Q,-X,...": applies the flags to `opts`; unknown flag names are ignored,
// as HAProxy ignores them.
void applyFlags(std::string_view args, unsigned& opts) {
  while (!args.empty()) {
    size_t comma = args.find(',');
    std::string_view a = args.substr(0, comma);
    args = comma == std::string_view::npos ? std::string_view{} : args.substr(comma + 1);
    if (a.size() < 2 || (a[0] != '+' && a[0] != '-')) continue;
    std::string_view name = a.substr(1);
    unsigned bit = 0;
    if (name == "Q") bit = OptQuote;
    if (name == "X") bit = OptHex;
    if (name == "E") bit = OptEsc;
    if (a[0] == '+')
      opts |= bit;
    else
      opts &= ~bit;
  }
}

} // namespace

common::Result<LogFormat> LogFormat::compile(std::string_view fmt, bool httpMode) {
  LogFormat out;
  auto& nodes = out.nodes_;
  unsigned defOpts = 0; // set by %o
  std::string text;
  auto flushText = [&] {
    if (text.empty()) return;
    LogFormat::Node n;
    n.kind = Node::Kind::Text;
    n.text = std::move(text);
    nodes.push_back(std::move(n));
    text.clear();
  };
  size_t i = 0;
  while (i < fmt.size()) {
    char c = fmt[i];
    if (c == ' ') {
      flushText();
      while (i < fmt.size() && fmt[i] == ' ')
        ++i;
      LogFormat::Node n;
      n.kind = Node::Kind::Separator;
      nodes.push_back(std::move(n));
      continue;
    }
    if (c != '%') {
      text += c;
      ++i;
      continue;
    }
    if (i + 1 >= fmt.size()) return common::err("truncated line after '%'.");
    if (fmt[i + 1] == '%') {
      text += '%';
      i += 2;
      continue;
    }
    size_t j = i + 1;
    unsigned opts = defOpts;
    bool braces = false;
    if (fmt[j] == '{') {
      size_t close = fmt.find('}', j + 1);
      if (close == std::string_view::npos)
        return common::err("truncated line after '" + std::string(fmt.substr(j + 1)) + "'.");
      applyFlags(fmt.substr(j + 1, close - j - 1), opts);
      j = close + 1;
      braces = true;
      if (j >= fmt.size())
        return common::err("parse argument modifier without variable name near '" +
                           std::string(fmt.substr(i, j - i)) + "'.");
    }
    if (fmt[j] == '[') {
      size_t close = fmt.find(']', j + 1);
      if (close == std::string_view::npos)
        return common::err("missing ']' after '" + std::string(fmt.substr(j + 1)) + "'.");
      return common::err("sample fetch expressions ('%" +
                         std::string(fmt.substr(j, close + 1 - j)) + "') are not supported yet.");
    }
    if (!braces && !isAlpha(fmt[j])) {
      return common::err("unexpected variable name near '" + std::string(1, fmt[j]) +
                         "' at position " + std::to_string(j) + " line : '" + std::string(fmt) +
                         "'. Maybe you want to write a single '%', use the syntax '%%'");
    }
    size_t end = j;
    while (end < fmt.size() && isAlnum(fmt[end]))
      ++end;
    std::string name(fmt.substr(j, end - j));
    const VarDef* d = findVar(name);
    if (!d)
      return common::err("no such format variable '" + name +
                         "'. If you wanted to emit the '%' character verbatim, you need to use "
                         "'%%'.");
    if (d->avail == Avail::Http && !httpMode)
      return common::err("format variable '" + name + "' is reserved for HTTP mode.");
    // %U would need a per-request count of the client's bytes that the
    // HTTP stream does not keep.
    if (d->avail == Avail::Unsupported || (d->var == V::BytesIn && httpMode))
      return common::err("format variable '" + name + "' is not supported yet" +
                         (d->var == V::BytesIn ? " in HTTP mode." : "."));
    i = end;
    if (d->var == V::Option) {
      defOpts = opts;
      continue;
    }
    flushText();
    LogFormat::Node n;
    n.kind = Node::Kind::Var;
    n.text = name;
    n.var = static_cast<int>(d->var);
    n.opts = opts;
    nodes.push_back(std::move(n));
  }
  flushText();
  out.usesBackendSource_ = out.uses("bi") || out.uses("bp");
  return out;
}

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

// HAProxy's lf_text: quoted with +Q, '"', '\\' and ']' escaped with +E; an
// empty value is "-" (or "" when quoted).
void text(std::string& out, std::string_view s, unsigned opts) {
  if (opts & OptQuote) out += '"';
  if (!s.empty()) {
    for (char c : s) {
      if ((opts & OptEsc) && (c == '"' || c == '\\' || c == ']')) out += '\\';
      out += c;
    }
  } else if (!(opts & OptQuote)) {
    out += '-';
  }
  if (opts & OptQuote) out += '"';
}

// A part of the request line: '"', '#', controls and non-ASCII as "#XX";
// quoted with +Q; empty prints nothing.
void encoded(std::string& out, std::string_view s, unsigned opts) {
  if (opts & OptQuote) out += '"';
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f || c == '"' || c == '#') {
      out += '#';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      if ((opts & OptEsc) && (c == '\\' || c == ']')) out += '\\';
      out += static_cast<char>(c);
    }
  }
  if (opts & OptQuote) out += '"';
}

void ip(std::string& out, const std::optional<common::SockAddr>& a, unsigned opts) {
  if (!a || (a->family() != AF_INET && a->family() != AF_INET6)) return text(out, "", opts);
  if (opts & OptHex) {
    const unsigned char* b;
    size_t n;
    if (a->family() == AF_INET) {
      b = reinterpret_cast<const unsigned char*>(
          &reinterpret_cast<const sockaddr_in*>(&a->ss)->sin_addr);
      n = 4;
    } else {
      b = reinterpret_cast<const unsigned char*>(
          &reinterpret_cast<const sockaddr_in6*>(&a->ss)->sin6_addr);
      n = 16;
    }
    for (size_t k = 0; k < n; ++k) {
      out += kHex[b[k] >> 4];
      out += kHex[b[k] & 15];
    }
    return;
  }
  char buf[INET6_ADDRSTRLEN] = "";
  if (a->family() == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&a->ss)->sin_addr, buf, sizeof buf);
  else
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&a->ss)->sin6_addr, buf, sizeof buf);
  text(out, buf, opts);
}

void port(std::string& out, const std::optional<common::SockAddr>& a, unsigned opts) {
  if (!a || (a->family() != AF_INET && a->family() != AF_INET6)) return text(out, "", opts);
  unsigned p = a->port();
  if (opts & OptHex) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04X", p);
    out += buf;
  } else {
    out += std::to_string(p);
  }
}

void num(std::string& out, long long v, bool plus = false) {
  if (plus) out += '+';
  out += std::to_string(v);
}

// "06/Feb/2009:12:12:51 +0000": GMT (`gmt`), or local time with its offset.
std::string dateWithZone(std::chrono::system_clock::time_point t, bool gmt) {
  using namespace std::chrono;
  std::time_t tt = system_clock::to_time_t(time_point_cast<seconds>(t));
  if (t < time_point_cast<seconds>(t)) --tt; // floor before 1970
  std::tm tm{};
  if (gmt)
    gmtime_r(&tt, &tm);
  else
    localtime_r(&tt, &tm);
  static const char* const kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  long off = gmt ? 0 : tm.tm_gmtoff / 60;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld", tm.tm_mday,
                kMonths[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
                off / 60, off % 60);
  return buf;
}

long long epochMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// The parts of "METHOD URI VERSION" (HAProxy splits at spaces).
struct ReqParts {
  std::string_view method, uri, version;
};
ReqParts splitRequest(std::string_view line) {
  ReqParts p;
  size_t a = line.find(' ');
  p.method = line.substr(0, a);
  if (a == std::string_view::npos) return p;
  std::string_view rest = line.substr(a + 1);
  size_t b = rest.find(' ');
  p.uri = rest.substr(0, b);
  if (b != std::string_view::npos) p.version = rest.substr(b + 1);
  return p;
}

// The path of a URI: an absolute URI loses its scheme and authority.
std::string_view pathOnly(std::string_view uri) {
  size_t q = uri.find('?');
  std::string_view p = uri.substr(0, q);
  size_t scheme = p.find("://");
  if (scheme != std::string_view::npos && p.find('/') > scheme) {
    size_t slash = p.find('/', scheme + 3);
    p = slash == std::string_view::npos ? std::string_view{} : p.substr(slash);
  }
  return p;
}

} // namespace

bool LogFormat::uses(std::string_view name) const {
  for (const Node& n : nodes_) {
    if (n.kind == Node::Kind::Var && n.text == name) return true;
  }
  return false;
}

std::string LogFormat::format(const LogRecord& r, bool utc) const {
  std::string out;
  out.reserve(256);
  bool lastSpace = true; // no separator at the start, nor two in a row
  const bool badreq = r.requestLine.empty();
  const ReqParts rp = splitRequest(r.requestLine);
  for (const Node& n : nodes_) {
    if (n.kind == Node::Kind::Separator) {
      if (!lastSpace) out += ' ';
      lastSpace = true;
      continue;
    }
    if (n.kind == Node::Kind::Text) {
      out += n.text;
      lastSpace = false;
      continue;
    }
    unsigned o = n.opts;
    switch (static_cast<V>(n.var)) {
    case V::Option:
      continue;
    case V::ReqHeaders:
    case V::RespHeaders:
    case V::ReqHeadersList:
    case V::RespHeadersList:
      continue; // no captures: nothing, and the separator is not doubled
    case V::ClientIp:
      ip(out, r.clientAddr, o);
      break;
    case V::ClientPort:
      port(out, r.clientAddr, o);
      break;
    case V::FrontendIp:
      ip(out, r.frontendAddr, o);
      break;
    case V::FrontendPort:
      port(out, r.frontendAddr, o);
      break;
    case V::BackendIp:
      ip(out, r.backendSrcAddr, o);
      break;
    case V::BackendPort:
      port(out, r.backendSrcAddr, o);
      break;
    case V::ServerIp:
      ip(out, r.serverAddr, o);
      break;
    case V::ServerPort:
      port(out, r.serverAddr, o);
      break;
    case V::AcceptDate:
      out += formatLogDate(r.acceptTime, utc);
      break;
    case V::RequestDate:
      out += formatLogDate(r.requestTime, utc);
      break;
    case V::RequestDateGmt:
      out += dateWithZone(r.requestTime, true);
      break;
    case V::RequestDateLocal:
      out += dateWithZone(r.requestTime, utc);
      break;
    case V::AcceptDateGmt:
      out += dateWithZone(r.acceptTime, true);
      break;
    case V::AcceptDateLocal:
      out += dateWithZone(r.acceptTime, utc);
      break;
    case V::AcceptTs: {
      long long ms = epochMs(r.acceptTime);
      long long s = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
      if (o & OptHex) {
        char buf[24];
        std::snprintf(buf, sizeof buf, "%08llX", static_cast<unsigned long long>(s));
        out += buf;
      } else {
        out += std::to_string(s);
      }
      break;
    }
    case V::AcceptMs: {
      long long ms = ((epochMs(r.acceptTime) % 1000) + 1000) % 1000;
      char buf[8];
      std::snprintf(buf, sizeof buf, "%03lld", ms);
      out += buf;
      break;
    }
    case V::FrontendTransport:
      text(out, r.frontend + (r.frontendTls ? "~" : ""), o);
      break;
    case V::Frontend:
      text(out, r.frontend, o);
      break;
    case V::Backend:
      text(out, r.backend.empty() ? r.frontend : r.backend, o);
      break;
    case V::Server:
      text(out, r.server.empty() ? "<NOSRV>" : r.server, o);
      break;
    case V::Hostname:
      text(out, r.hostname, o);
      break;
    case V::Pid:
      num(out, r.pid);
      break;
    case V::UniqueId:
      text(out, "", o);
      break;
    case V::Th:
      num(out, r.th);
      break;
    case V::Ti:
      num(out, r.ti);
      break;
    case V::TR:
      num(out, r.tR);
      break;
    case V::Tw:
      num(out, r.tw);
      break;
    case V::Tc:
      num(out, r.tc);
      break;
    case V::Tr:
      num(out, r.tr);
      break;
    case V::Ta:
      num(out, r.ta, r.logasap);
      break;
    case V::Tt:
      num(out, r.tt, r.logasap);
      break;
    case V::Tq:
      num(out, r.tR < 0 ? -1 : r.th + r.ti + r.tR);
      break;
    case V::Tu:
      num(out, r.tt < 0 ? -1 : r.tt - r.ti, r.logasap);
      break;
    case V::Status:
      num(out, r.status);
      break;
    case V::BytesOut:
      num(out, r.bytesOut, r.logasap);
      break;
    case V::BytesIn:
      num(out, r.bytesIn);
      break;
    case V::TermState:
      out += r.termState.size() == 2 ? r.termState : std::string("--");
      break;
    case V::TermStateCookie:
      out += r.termState.size() == 2 ? r.termState : std::string("--");
      out += r.cookieState.size() == 2 ? r.cookieState : std::string("--");
      break;
    case V::Actconn:
      num(out, r.actconn);
      break;
    case V::Feconn:
      num(out, r.feconn);
      break;
    case V::Beconn:
      num(out, r.beconn);
      break;
    case V::SrvConn:
      num(out, r.srvConn);
      break;
    case V::Retries:
      num(out, r.retries, r.redispatched);
      break;
    case V::SrvQueue:
      num(out, r.srvQueue);
      break;
    case V::BackendQueue:
      num(out, r.backendQueue);
      break;
    case V::Request:
      encoded(out, badreq ? "<BADREQ>" : r.requestLine, o);
      break;
    case V::Method:
      encoded(out, badreq ? "<BADREQ>" : rp.method, o);
      break;
    case V::Uri:
      encoded(out, badreq ? "<BADREQ>" : rp.uri, o);
      break;
    case V::Version:
      encoded(out, badreq ? "<BADREQ>" : rp.version, o);
      break;
    case V::Path:
      encoded(out, badreq ? "<BADREQ>" : rp.uri.substr(0, rp.uri.find('?')), o);
      break;
    case V::PathOnly:
      encoded(out, badreq ? "<BADREQ>" : pathOnly(rp.uri), o);
      break;
    case V::Query: {
      size_t q = rp.uri.find('?');
      encoded(out, badreq ? "<BADREQ>" : q == std::string_view::npos ? "" : rp.uri.substr(q), o);
      break;
    }
    case V::ReqCookie:
    case V::RespCookie:
      text(out, "", o);
      break;
    }
    lastSpace = false;
  }
  return out;
}

} // namespace proxyd

namespace proxyd {
namespace {

LogFormat compiled(const char* fmt) {
  // The predefined formats are known to compile.
  return LogFormat::compile(fmt, true).value();
}

void commonFields(LogRecord& r, const common::SockAddr& client, const std::string& fe, bool tls,
                  const std::string& be, const std::string& srv) {
  r.clientAddr = client;
  r.frontend = fe;
  r.frontendTls = tls;
  r.backend = be;
  r.server = srv;
}

} // namespace

void fillProcessFacts(LogRecord& r) {
  static const std::string host = [] {
    char buf[256] = "";
    if (gethostname(buf, sizeof buf - 1) != 0) buf[0] = '\0';
    return std::string(buf);
  }();
  r.hostname = host;
  r.pid = static_cast<long>(getpid());
}

std::string formatTcpLog(const TcpLogEntry& e, bool utc) {
  static const LogFormat fmt = compiled(kTcpLogFormat);
  LogRecord r;
  commonFields(r, e.clientAddr, e.frontend, e.frontendTls, e.backend, e.server);
  r.acceptTime = r.requestTime = e.acceptTime;
  r.tw = e.tw;
  r.tc = e.tc;
  r.tt = e.tt;
  r.bytesOut = e.bytesRead;
  r.termState = e.termState;
  r.actconn = e.actconn;
  r.feconn = e.feconn;
  r.beconn = e.beconn;
  r.srvConn = e.srvConn;
  r.retries = e.retries;
  r.redispatched = e.redispatched;
  r.srvQueue = e.srvQueue;
  r.backendQueue = e.backendQueue;
  r.logasap = e.logasap;
  return fmt.format(r, utc);
}

std::string formatHttpLog(const HttpLogEntry& e, bool utc) {
  static const LogFormat fmt = compiled(kHttpLogFormat);
  LogRecord r;
  commonFields(r, e.clientAddr, e.frontend, e.frontendTls, e.backend, e.server);
  r.acceptTime = r.requestTime = e.requestTime;
  r.tR = e.tR;
  r.tw = e.tw;
  r.tc = e.tc;
  r.tr = e.tr;
  r.ta = e.ta;
  r.status = e.status;
  r.bytesOut = e.bytesRead;
  r.termState = e.termState;
  r.cookieState = e.cookieState;
  r.actconn = e.actconn;
  r.feconn = e.feconn;
  r.beconn = e.beconn;
  r.srvConn = e.srvConn;
  r.retries = e.retries;
  r.redispatched = e.redispatched;
  r.srvQueue = e.srvQueue;
  r.backendQueue = e.backendQueue;
  r.requestLine = e.requestLine;
  r.logasap = e.logasap;
  return fmt.format(r, utc);
}

} // namespace proxyd
