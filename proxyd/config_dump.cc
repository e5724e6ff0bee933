// dumpYaml(): the effective configuration for `proxyd --dump`. Every value is
// printed resolved (defaults applied, fallbacks such as fastinter -> inter
// taken), durations as formatDuration() writes them, "none" for no timeout.
// Each proxy prints the fields of the halves it has (frontend / backend).
#include "proxyd/config.h"
#include "proxyd/config_parse.h"

#include <cstdio>

#include <yaml-cpp/yaml.h>

namespace proxyd {
namespace {

std::string dur(const std::optional<Micros>& d) {
  return d ? common::formatDuration(*d) : std::string("none");
}

const char* modeName(Mode m) {
  return m == Mode::Tcp ? "tcp" : "http";
}

const char* balanceName(BalanceAlgo a) {
  switch (a) {
  case BalanceAlgo::RoundRobin:
    return "roundrobin";
  case BalanceAlgo::StaticRr:
    return "static-rr";
  case BalanceAlgo::LeastConn:
    return "leastconn";
  case BalanceAlgo::First:
    return "first";
  case BalanceAlgo::Source:
    return "source";
  case BalanceAlgo::Random:
    return "random";
  case BalanceAlgo::Uri:
    return "uri";
  case BalanceAlgo::UrlParam:
    return "url_param";
  case BalanceAlgo::Hdr:
    return "hdr";
  }
  return "?";
}

const char* hashFnName(HashFn f) {
  switch (f) {
  case HashFn::Sdbm:
    return "sdbm";
  case HashFn::Djb2:
    return "djb2";
  case HashFn::Wt6:
    return "wt6";
  case HashFn::Crc32:
    return "crc32";
  }
  return "?";
}

const char* cookieModeName(CookieConfig::Mode m) {
  switch (m) {
  case CookieConfig::Mode::Passive:
    return "passive";
  case CookieConfig::Mode::Insert:
    return "insert";
  case CookieConfig::Mode::Rewrite:
    return "rewrite";
  case CookieConfig::Mode::Prefix:
    return "prefix";
  }
  return "?";
}

std::string logTargetStr(const LogTarget& t) {
  switch (t.kind) {
  case LogTarget::Kind::Udp:
    return t.addr.str();
  case LogTarget::Kind::Unix:
    return t.path;
  case LogTarget::Kind::Stdout:
    return "stdout";
  case LogTarget::Kind::Stderr:
    return "stderr";
  }
  return "?";
}

// Empty lists print as "key: []" on one line.
template <class V> YAML::EMITTER_MANIP seqStyle(const V& v) {
  return v.empty() ? YAML::Flow : YAML::Block;
}

void emitLogs(YAML::Emitter& y, const std::vector<LogTarget>& logs) {
  y << YAML::Key << "logs" << YAML::Value << seqStyle(logs) << YAML::BeginSeq;
  for (const LogTarget& t : logs) {
    y << YAML::BeginMap;
    y << YAML::Key << "target" << YAML::Value << logTargetStr(t);
    y << YAML::Key << "format" << YAML::Value << (t.raw ? "raw" : "rfc3164");
    y << YAML::Key << "facility" << YAML::Value << cfg::facilityName(t.facility);
    y << YAML::Key << "level" << YAML::Value << cfg::levelName(t.maxLevel);
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
}

void emitGlobal(YAML::Emitter& y, const GlobalConfig& g) {
  y << YAML::Key << "global" << YAML::Value << YAML::BeginMap;
  y << YAML::Key << "daemon" << YAML::Value << g.daemon;
  y << YAML::Key << "maxconn" << YAML::Value << g.maxconn;
  y << YAML::Key << "nbthread" << YAML::Value << g.nbthread;
  y << YAML::Key << "pidfile" << YAML::Value << g.pidfile;
  y << YAML::Key << "user" << YAML::Value << g.user;
  y << YAML::Key << "group" << YAML::Value << g.group;
  y << YAML::Key << "chroot" << YAML::Value << g.chroot;
  emitLogs(y, g.logs);
  y << YAML::Key << "stats_sockets" << YAML::Value << seqStyle(g.statsSockets) << YAML::BeginSeq;
  for (const StatsSocketConfig& s : g.statsSockets) {
    char mode[16];
    std::snprintf(mode, sizeof mode, "%04o", s.mode);
    y << YAML::BeginMap;
    y << YAML::Key << "address" << YAML::Value << (s.tcp ? s.tcp->str() : "unix@" + s.path);
    y << YAML::Key << "mode" << YAML::Value << (s.tcp ? std::string("-") : s.mode == 0 ? std::string("umask") : std::string(mode));
    y << YAML::Key << "level" << YAML::Value << runtime::levelName(s.level);
    y << YAML::EndMap;
  }
  y << YAML::EndSeq;
  y << YAML::Key << "stats_timeout" << YAML::Value << dur(g.statsTimeout);
  y << YAML::EndMap;
}

void emitFrontend(YAML::Emitter& y, const ProxyConfig& px, const Config& cfg) {
  y << YAML::Key << "binds" << YAML::Value << seqStyle(px.binds) << YAML::BeginSeq;
  for (const BindConfig& b : px.binds)
    y << b.addr.str();
  y << YAML::EndSeq;
  y << YAML::Key << "maxconn" << YAML::Value << (px.maxconn ? px.maxconn : cfg.global.maxconn);
  int db = px.defaultBackendIndex;
  y << YAML::Key << "default_backend" << YAML::Value
    << (db >= 0 && db < static_cast<int>(cfg.proxies.size()) ? cfg.proxies[db].name : "");
  y << YAML::Key << "use_backend" << YAML::Value << seqStyle(px.useBackends) << YAML::BeginSeq;
  for (const UseBackendRule& r : px.useBackends)
    y << (r.cond ? r.backend + " " + r.cond->str() : r.backend);
  y << YAML::EndSeq;
}

void emitTimeouts(YAML::Emitter& y, const ProxyConfig& px) {
  const Timeouts& t = px.timeouts;
  y << YAML::Key << "timeouts" << YAML::Value << YAML::BeginMap;
  if (px.isFrontend()) y << YAML::Key << "client" << YAML::Value << dur(t.client);
  if (px.isBackend()) {
    y << YAML::Key << "connect" << YAML::Value << dur(t.connect);
    y << YAML::Key << "server" << YAML::Value << dur(t.server);
    y << YAML::Key << "queue" << YAML::Value << dur(t.queue ? t.queue : t.connect);
    y << YAML::Key << "check" << YAML::Value << (t.check ? dur(t.check) : "inter");
    y << YAML::Key << "tunnel" << YAML::Value << dur(t.tunnel);
  }
  y << YAML::Key << "http-request" << YAML::Value << dur(t.httpRequest);
  y << YAML::Key << "http-keep-alive" << YAML::Value << dur(t.httpKeepAlive);
  y << YAML::EndMap;
}

void emitServer(YAML::Emitter& y, const ServerConfig& s) {
  const ServerOptions& o = s.opt;
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << s.name;
  y << YAML::Key << "id" << YAML::Value << s.id;
  y << YAML::Key << "address" << YAML::Value << s.addr.str();
  y << YAML::Key << "check" << YAML::Value << o.check;
  y << YAML::Key << "check_address" << YAML::Value
    << (o.checkAddr ? o.checkAddr->str() : s.addr.ip().str());
  y << YAML::Key << "check_port" << YAML::Value << (o.checkPort ? o.checkPort : s.addr.port());
  y << YAML::Key << "inter" << YAML::Value << common::formatDuration(o.inter);
  y << YAML::Key << "fastinter" << YAML::Value
    << common::formatDuration(o.fastinter.value_or(o.inter));
  y << YAML::Key << "downinter" << YAML::Value
    << common::formatDuration(o.downinter.value_or(o.inter));
  y << YAML::Key << "rise" << YAML::Value << o.rise;
  y << YAML::Key << "fall" << YAML::Value << o.fall;
  y << YAML::Key << "weight" << YAML::Value << o.weight;
  y << YAML::Key << "backup" << YAML::Value << o.backup;
  y << YAML::Key << "disabled" << YAML::Value << o.disabled;
  y << YAML::Key << "maxconn" << YAML::Value << o.maxconn;
  y << YAML::Key << "maxqueue" << YAML::Value << o.maxqueue;
  if (!o.cookie.empty()) y << YAML::Key << "cookie" << YAML::Value << o.cookie;
  y << YAML::EndMap;
}

const char* matchName(TcpCheckRule::Match m) {
  switch (m) {
  case TcpCheckRule::Match::String:
    return "string";
  case TcpCheckRule::Match::Binary:
    return "binary";
  case TcpCheckRule::Match::Rstring:
    return "rstring";
  }
  return "?";
}

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

void emitTcpCheck(YAML::Emitter& y, const TcpCheckRule& r) {
  y << YAML::BeginMap;
  switch (r.kind) {
  case TcpCheckRule::Kind::Connect:
    y << YAML::Key << "connect" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "port" << YAML::Value << r.port << YAML::EndMap;
    break;
  case TcpCheckRule::Kind::Send:
    y << YAML::Key << "send" << YAML::Value << r.data;
    break;
  case TcpCheckRule::Kind::SendBinary:
    y << YAML::Key << "send-binary" << YAML::Value << hex(r.data);
    break;
  case TcpCheckRule::Kind::Expect:
    y << YAML::Key << "expect" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "negate" << YAML::Value << r.negate;
    y << YAML::Key << "match" << YAML::Value << matchName(r.match);
    y << YAML::Key << "pattern" << YAML::Value
      << (r.match == TcpCheckRule::Match::Binary ? hex(r.pattern) : r.pattern);
    y << YAML::EndMap;
    break;
  }
  y << YAML::EndMap;
}

// The effective http-check ruleset (implicit steps flagged).
void emitHttpCheck(YAML::Emitter& y, const HttpCheckRule& r) {
  using K = HttpCheckRule::Kind;
  static const char* const matches[] = {"status", "rstatus", "string", "rstring"};
  y << YAML::BeginMap;
  if (r.kind == K::Comment) { // only before validation attaches it
    y << YAML::Key << "comment" << YAML::Value << r.comment << YAML::EndMap;
    return;
  }
  switch (r.kind) {
  case K::Comment:
  case K::Connect:
    y << YAML::Key << "connect" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "port" << YAML::Value << r.port;
    break;
  case K::Send:
    y << YAML::Key << "send" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "meth" << YAML::Value << r.method;
    y << YAML::Key << "uri" << YAML::Value << r.uri;
    y << YAML::Key << "ver" << YAML::Value << r.version;
    y << YAML::Key << "hdr" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& [name, value] : r.headers)
      y << YAML::Flow << YAML::BeginSeq << name << value << YAML::EndSeq;
    y << YAML::EndSeq;
    if (r.body) y << YAML::Key << "body" << YAML::Value << *r.body;
    break;
  case K::Expect:
    y << YAML::Key << "expect" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "negate" << YAML::Value << r.negate;
    y << YAML::Key << "match" << YAML::Value << matches[static_cast<int>(r.match)];
    y << YAML::Key << "pattern" << YAML::Value << r.pattern;
    break;
  }
  if (!r.comment.empty()) y << YAML::Key << "comment" << YAML::Value << r.comment;
  if (r.implicit) y << YAML::Key << "implicit" << YAML::Value << true;
  y << YAML::EndMap << YAML::EndMap;
}

void emitBackend(YAML::Emitter& y, const ProxyConfig& px) {
  y << YAML::Key << "balance" << YAML::Value << balanceName(px.balance);
  y << YAML::Key << "hash-type" << YAML::Value
    << (px.hashType == HashType::Consistent ? "consistent" : "map-based");
  const BalanceArgs& a = px.balanceArgs;
  switch (px.balance) {
  case BalanceAlgo::Uri:
    y << YAML::Key << "uri" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "whole" << YAML::Value << a.uriWhole;
    y << YAML::Key << "path-only" << YAML::Value << a.uriPathOnly;
    y << YAML::Key << "len" << YAML::Value << a.uriLen;
    y << YAML::Key << "depth" << YAML::Value << a.uriDepth << YAML::EndMap;
    break;
  case BalanceAlgo::UrlParam:
    y << YAML::Key << "url_param" << YAML::Value << a.name;
    break;
  case BalanceAlgo::Hdr:
    y << YAML::Key << "hdr" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << a.name;
    y << YAML::Key << "use_domain_only" << YAML::Value << a.useDomainOnly << YAML::EndMap;
    break;
  default:
    break;
  }
  if (px.balance == BalanceAlgo::Uri || px.balance == BalanceAlgo::UrlParam ||
      px.balance == BalanceAlgo::Hdr) {
    y << YAML::Key << "hash-function" << YAML::Value << hashFnName(px.hashFn);
    y << YAML::Key << "hash-avalanche" << YAML::Value << px.hashAvalanche;
  }
  if (!px.cookie.name.empty()) {
    const CookieConfig& c = px.cookie;
    y << YAML::Key << "cookie" << YAML::Value << YAML::BeginMap;
    y << YAML::Key << "name" << YAML::Value << c.name;
    y << YAML::Key << "mode" << YAML::Value << cookieModeName(c.mode);
    y << YAML::Key << "indirect" << YAML::Value << c.indirect;
    y << YAML::Key << "nocache" << YAML::Value << c.nocache;
    y << YAML::Key << "postonly" << YAML::Value << c.postonly;
    y << YAML::Key << "preserve" << YAML::Value << c.preserve;
    y << YAML::Key << "httponly" << YAML::Value << c.httponly;
    y << YAML::Key << "secure" << YAML::Value << c.secure;
    y << YAML::Key << "domains" << YAML::Value << YAML::Flow << c.domains;
    y << YAML::Key << "attrs" << YAML::Value << YAML::Flow << c.attrs;
    auto orNone = [](Micros d) {
      return d.count() > 0 ? common::formatDuration(d) : std::string("none");
    };
    y << YAML::Key << "maxidle" << YAML::Value << orNone(c.maxidle);
    y << YAML::Key << "maxlife" << YAML::Value << orNone(c.maxlife);
    y << YAML::EndMap;
  }
  y << YAML::Key << "retries" << YAML::Value << px.retries;
  y << YAML::Key << "servers" << YAML::Value << seqStyle(px.servers) << YAML::BeginSeq;
  for (const ServerConfig& s : px.servers)
    emitServer(y, s);
  y << YAML::EndSeq;
  y << YAML::Key << "tcp-check" << YAML::Value << seqStyle(px.tcpChecks) << YAML::BeginSeq;
  for (const TcpCheckRule& r : px.tcpChecks)
    emitTcpCheck(y, r);
  y << YAML::EndSeq;
  y << YAML::Key << "http-check" << YAML::Value << seqStyle(px.httpChecks) << YAML::BeginSeq;
  for (const HttpCheckRule& r : px.httpChecks)
    emitHttpCheck(y, r);
  y << YAML::EndSeq;
}

const char* connModeName(HttpConnMode m) {
  switch (m) {
  case HttpConnMode::KeepAlive:
    return "keep-alive";
  case HttpConnMode::ServerClose:
    return "server-close";
  case HttpConnMode::Close:
    return "close";
  }
  return "?";
}

void emitOptions(YAML::Emitter& y, const ProxyConfig& px) {
  y << YAML::Key << "options" << YAML::Value << YAML::BeginMap;
  if (px.isFrontend()) {
    y << YAML::Key << "tcplog" << YAML::Value << px.tcplog;
    y << YAML::Key << "dontlognull" << YAML::Value << px.dontlognull;
  }
  if (px.isBackend()) {
    y << YAML::Key << "redispatch" << YAML::Value << px.redispatch;
    y << YAML::Key << "allbackups" << YAML::Value << px.allbackups;
    y << YAML::Key << "persist" << YAML::Value << px.persist;
    y << YAML::Key << "tcp-check" << YAML::Value << px.tcpCheck;
    y << YAML::Key << "httpchk" << YAML::Value << px.httpCheck;
    y << YAML::Key << "http-check-disable-on-404" << YAML::Value << px.disableOn404;
  }
  if (px.isFrontend()) {
    y << YAML::Key << "httplog" << YAML::Value
      << (px.httplog ? (px.httplogClf ? "clf" : "true") : "false");
    if (!px.logFormat.empty()) y << YAML::Key << "log-format" << YAML::Value << px.logFormat;
  }
  y << YAML::Key << "http-server-close" << YAML::Value << px.httpServerClose;
  y << YAML::Key << "http-no-delay" << YAML::Value << px.httpNoDelay;
  y << YAML::Key << "tcp-smart-accept" << YAML::Value << px.smartAccept();
  y << YAML::Key << "http-connection-mode" << YAML::Value << connModeName(px.httpConnMode);
  y << YAML::Key << "forwardfor" << YAML::Value << px.forwardFor;
  y << YAML::Key << "forwardfor-except" << YAML::Value
    << (px.forwardForExcept ? px.forwardForExcept->str() : "");
  y << YAML::Key << "forwardfor-header" << YAML::Value << px.forwardForHeader;
  y << YAML::Key << "forwardfor-if-none" << YAML::Value << px.forwardForIfNone;
  y << YAML::EndMap;
}

// mode http: errorfiles (status codes), ACL names, rule counts by action.
void emitHttp(YAML::Emitter& y, const ProxyConfig& px) {
  y << YAML::Key << "errorfiles" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& [status, bytes] : px.errorfiles)
    y << status;
  y << YAML::EndSeq;
  y << YAML::Key << "acls" << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& [name, acl] : px.acls)
    y << name;
  y << YAML::EndSeq;
  y << YAML::Key << "http-request" << YAML::Value << px.httpRequest.size();
  y << YAML::Key << "http-response" << YAML::Value << px.httpResponse.size();
}

void emitProxy(YAML::Emitter& y, const ProxyConfig& px, const Config& cfg) {
  y << YAML::BeginMap;
  y << YAML::Key << "name" << YAML::Value << px.name;
  y << YAML::Key << "kind" << YAML::Value << cfg::sectionName(px);
  y << YAML::Key << "mode" << YAML::Value << modeName(px.mode);
  if (px.isFrontend()) emitFrontend(y, px, cfg);
  emitTimeouts(y, px);
  if (px.isBackend()) emitBackend(y, px);
  emitOptions(y, px);
  emitHttp(y, px);
  y << YAML::Key << "log_global" << YAML::Value << px.logGlobal;
  emitLogs(y, px.logs);
  y << YAML::EndMap;
}

} // namespace

std::string dumpYaml(const Config& config) {
  YAML::Emitter y;
  y << YAML::BeginMap;
  emitGlobal(y, config.global);
  y << YAML::Key << "proxies" << YAML::Value << YAML::BeginSeq;
  for (const ProxyConfig& px : config.proxies)
    emitProxy(y, px, config);
  y << YAML::EndSeq;
  y << YAML::EndMap;
  return std::string(y.c_str()) + "\n";
}

} // namespace proxyd
