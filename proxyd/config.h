#pragma once
// proxyd's configuration model: what haproxy.cfg says, with defaults resolved.
// Built by parseConfig() (config_parser.cc); pure data, no I/O.
#include "common/config_error.h"
#include "common/lexer_haproxy.h"
#include "common/values.h"
#include "proxyd/acl.h"
#include "proxyd/http_rules.h"
#include "proxyd/logfmt.h"
#include "proxyd/runtime.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace proxyd {

using common::Micros;
using namespace std::chrono_literals;

enum class Mode { Tcp, Http };
enum class BalanceAlgo { RoundRobin, StaticRr, LeastConn, First, Source, Random, Uri, UrlParam, Hdr };
enum class HashType { MapBased, Consistent };
// hash-type's function (HAProxy's gen_hash): sdbm is the default.
enum class HashFn { Sdbm, Djb2, Wt6, Crc32 };

// Arguments of the layer-7 hashing algorithms (mode http only).
struct BalanceArgs {
  // balance uri [whole] [len N] [depth N] [path-only]
  bool uriWhole = false;    // hash the query string too
  bool uriPathOnly = false; // hash from the path's first '/' (absolute URIs)
  int uriLen = 0;           // hash at most N characters; 0: all
  int uriDepth = 0;         // hash at most N directories; 0: all
  // balance url_param NAME / balance hdr(NAME) [use_domain_only]
  std::string name;
  bool useDomainOnly = false;
};

// `cookie NAME [rewrite|insert|prefix] [indirect] [nocache] [postonly]
// [preserve] [httponly] [secure] [domain D]* [maxidle T] [maxlife T]
// [attr A]*` (HAProxy 2.6's cookie-based persistence). Empty name: none.
struct CookieConfig {
  enum class Mode { Passive, Insert, Rewrite, Prefix };
  std::string name;
  Mode mode = Mode::Passive;
  bool indirect = false;
  bool nocache = false;
  bool postonly = false;
  bool preserve = false;
  bool httponly = false;
  bool secure = false;
  std::vector<std::string> domains; // each adds "; domain=D"
  std::vector<std::string> attrs;   // each adds "; A"
  Micros maxidle{0};                // 0: none
  Micros maxlife{0};                // 0: none
  common::SourceLoc loc;
};

// How an HTTP connection is handled after a response, as HAProxy's
// `option http-keep-alive` (default), `option http-server-close` (keep the
// client side, close the server side after each response) and `option
// httpclose` (close both sides after each response). Within a proxy the
// last of the three options wins; `no option X` returns to KeepAlive only
// when X is the mode in force (HAProxy 2.6).
enum class HttpConnMode { KeepAlive, ServerClose, Close };

// A `log` line: "log 127.0.0.1:514 local2 [info]", "log /dev/log local0",
// "log stdout format raw local0", "log stderr ...".
struct LogTarget {
  enum class Kind { Udp, Unix, Stdout, Stderr } kind = Kind::Udp;
  common::SockAddr addr; // Udp (default port 514)
  std::string path;      // Unix (datagram socket, e.g. /dev/log)
  int facility = 16;     // syslog facility number (local0 = 16)
  int maxLevel = 7;      // syslog severity: only messages <= this are sent
  bool raw = false;      // "format raw": message only, no syslog header
  common::SourceLoc loc;
};

// Options shared by `server` and `default-server` lines.
struct ServerOptions {
  bool check = false;
  Micros inter = 2s;
  std::optional<Micros> fastinter; // unset: inter
  std::optional<Micros> downinter; // unset: inter
  int rise = 2;
  int fall = 3;
  int weight = 1;  // 0..256; 0 = never picked by the balancer
  bool backup = false;
  bool disabled = false; // starts in maintenance
  int maxconn = 0;       // 0 = unlimited; above it connections queue
  int maxqueue = 0;      // 0 = unlimited queue for this server
  std::string cookie;    // `cookie VALUE`: this server's persistence cookie value
  uint16_t checkPort = 0;                // `port`: health-check port (0 = server's)
  std::optional<common::IpAddr> checkAddr; // `addr`: health-check address
};

struct ServerConfig {
  std::string name;
  common::SockAddr addr;
  ServerOptions opt;
  int id = 0; // 1-based position in its backend, as HAProxy's srv_id
  common::SourceLoc loc;
};

// Unset timeouts mean "none" as in HAProxy (infinite), except where noted.
struct Timeouts {
  std::optional<Micros> connect;
  std::optional<Micros> client;
  std::optional<Micros> server;
  std::optional<Micros> queue;  // unset: timeout connect (as HAProxy)
  std::optional<Micros> check;  // unset: inter (as HAProxy, connect part)
  std::optional<Micros> tunnel;
  std::optional<Micros> httpRequest;   // accepted, used by mode http
  std::optional<Micros> httpKeepAlive; // accepted, used by mode http
};

// One `tcp-check` rule in its basic form.
struct TcpCheckRule {
  enum class Kind { Connect, Send, SendBinary, Expect } kind = Kind::Connect;
  // connect
  uint16_t port = 0; // 0: the check's port
  // send / send-binary: bytes to write (send-binary decoded from hex)
  std::string data;
  // expect [!] string|binary|rstring PATTERN
  enum class Match { String, Binary, Rstring } match = Match::String;
  bool negate = false;
  std::string pattern; // decoded bytes for binary
  std::shared_ptr<const Regex> regex; // rstring, compiled at parse time
  common::SourceLoc loc;
};

// One `http-check` step (HAProxy 2.6's HTTP tcpcheck rules). `option httpchk
// [[METH] URI [VER]]` gives the request of the first send step; `http-check
// send` lines fill in or add to it (see config_httpcheck.cc for the merge).
// After validation a backend with `option httpchk` holds its effective
// ruleset: a connect first, defaults filled in, comments attached, and an
// `expect status 200-399` after a trailing send.
struct HttpCheckRule {
  enum class Kind { Connect, Send, Expect, Comment } kind = Kind::Connect;
  // Added to the info of a failed expect (" comment: X"): from `http-check
  // comment X` before it, or `expect comment X`.
  std::string comment;
  // connect [port N]
  uint16_t port = 0; // 0: the check's port
  // send: each field empty when not given (then OPTIONS, /, HTTP/1.0)
  std::string method, uri, version;
  std::vector<std::pair<std::string, std::string>> headers; // hdr NAME VALUE
  std::optional<std::string> body;
  bool fromOption = false; // the implicit send of an `option httpchk` line
  // expect [!] status CODES | rstatus RE | string S | rstring RE
  enum class Match { Status, Rstatus, String, Rstring } match = Match::Status;
  bool negate = false;
  std::string pattern;                    // as written
  std::vector<std::pair<int, int>> codes; // status: ranges, inclusive
  std::shared_ptr<const Regex> regex;     // rstatus, rstring
  bool implicit = false; // added by validation (connect, expect 200-399)
  common::SourceLoc loc;
};

struct BindConfig {
  common::BindAddr addr;
  common::SourceLoc loc;
};

struct UseBackendRule {
  std::string backend;
  int backendIndex = -1; // into Config::proxies, resolved after parsing
  common::SourceLoc loc;
  std::optional<Condition> cond; // unset: unconditional
};

// frontend, backend and listen share one struct, as in HAProxy; `cap` says
// which halves are present.
struct ProxyConfig {
  enum Cap : unsigned { Frontend = 1, Backend = 2, Listen = 3 };
  unsigned cap = 0;
  std::string name;
  common::SourceLoc loc;
  Mode mode = Mode::Tcp;

  // frontend side
  std::vector<BindConfig> binds;
  int maxconn = 0; // 0: global maxconn
  std::string defaultBackend;
  common::SourceLoc defaultBackendLoc; // the default_backend line (maybe in defaults)
  int defaultBackendIndex = -1; // for listen: itself
  std::vector<UseBackendRule> useBackends;

  // backend side
  BalanceAlgo balance = BalanceAlgo::RoundRobin;
  HashType hashType = HashType::MapBased;
  HashFn hashFn = HashFn::Sdbm;
  bool hashAvalanche = false; // hash-type ... avalanche
  BalanceArgs balanceArgs;
  common::SourceLoc balanceLoc; // the balance line (maybe in defaults)
  CookieConfig cookie;
  bool persist = false; // option persist: a cookie may still select a DOWN server
  ServerOptions defaultServer;
  std::vector<ServerConfig> servers;
  int retries = 3;
  bool redispatch = false;
  bool allbackups = false;
  bool tcpCheck = false; // option tcp-check
  std::vector<TcpCheckRule> tcpChecks;
  bool httpCheck = false; // option httpchk (the last of the two options wins)
  // http-check disable-on-404: a 404 to a running server's check puts it in
  // NOLB ("stopping": checked, but given no new traffic).
  bool disableOn404 = false;
  std::vector<HttpCheckRule> httpChecks;
  // The section (its line) whose lines built httpChecks: a backend's first
  // `option httpchk` or `http-check` line starts its own ruleset instead of
  // the one inherited from defaults (HAProxy 2.6).
  common::SourceLoc httpChecksOwner;

  // both
  Timeouts timeouts;
  bool tcplog = false;
  bool dontlognull = false;
  bool logGlobal = false; // `log global`: use global's targets
  std::vector<LogTarget> logs;

  // Options that only act in mode http (HAProxy warns about forwardfor and
  // httplog in tcp mode).
  bool httpServerClose = false; // mirrors httpConnMode == ServerClose
  bool forwardFor = false;
  std::optional<common::Cidr> forwardForExcept;
  std::string forwardForHeader = "x-forwarded-for"; // `header NAME` (lower-cased)
  bool forwardForIfNone = false;                    // `if-none`: only when absent
  HttpConnMode httpConnMode = HttpConnMode::KeepAlive;
  bool httplog = false;    // option httplog (in tcp mode: falls back to tcplog)
  // option http-no-delay: no MSG_MORE while a message is incomplete, so each
  // piece of a paused body leaves at once (interactive streams).
  bool httpNoDelay = false;
  // option tcp-smart-accept (frontends): the kernel does not acknowledge the
  // request by itself, the response carries the ACK (one segment less per
  // connection). Unset: on in mode http, off in mode tcp, as HAProxy.
  std::optional<bool> tcpSmartAccept;
  bool smartAccept() const { return tcpSmartAccept.value_or(mode == Mode::Http); }
  bool httplogClf = false; // option httplog clf
  // `log-format FORMAT` as written (quotes and escapes resolved); set, it
  // replaces option tcplog/httplog (the last of these lines wins).
  std::string logFormat;
  common::SourceLoc logFormatLoc;
  // What a frontend logs each transaction with, compiled after parsing:
  // log-format, else option httplog [clf], else option tcplog; null: none.
  std::shared_ptr<const LogFormat> logFormatCompiled;

  // mode http
  // errorfile CODE FILE: the file's bytes (a complete raw HTTP response,
  // checked at parse time), by status. Inherited from defaults.
  std::map<int, std::string> errorfiles;
  AclTable acls; // named ACLs of this section (conditions hold their own refs)
  std::vector<HttpRequestRule> httpRequest;
  std::vector<HttpResponseRule> httpResponse;

  bool isFrontend() const { return cap & Frontend; }
  bool isBackend() const { return cap & Backend; }
};

// The mode for a transaction through frontend `fe` and backend `be`
// (possibly the same listen): httpclose on either side wins over
// http-server-close on either side, which wins over keep-alive.
HttpConnMode effectiveConnMode(const ProxyConfig& fe, const ProxyConfig& be);

// A `stats socket` line (the runtime API, docs/runtime-api.md):
// "stats socket PATH|unix@PATH|ipv4@ADDR:PORT|ipv6@[ADDR]:PORT [mode OCTAL]
// [level user|operator|admin]".
struct StatsSocketConfig {
  std::string address;                 // as written
  std::string path;                    // unix socket (when tcp is unset)
  std::optional<common::SockAddr> tcp; // ipv4@ / ipv6@ / ADDR:PORT
  unsigned mode = 0;                   // permissions of the unix socket; 0: umask's
  runtime::Level level = runtime::Level::Operator; // HAProxy's default
  common::SourceLoc loc;
};

struct GlobalConfig {
  bool daemon = false;
  int maxconn = 0; // 0: derived from the fd limit at start-up
  std::string pidfile;
  std::string user;
  std::string group;
  std::string chroot;
  int nbthread = 0; // 0: not set (proxyd runs one thread per CPU)
  std::vector<LogTarget> logs;
  std::vector<StatsSocketConfig> statsSockets;
  Micros statsTimeout = 10s; // `stats timeout`: idle CLI sessions
};

struct Config {
  GlobalConfig global;
  std::vector<ProxyConfig> proxies;
  // Index of the proxy named `name` with capability `cap`, or -1.
  int find(const std::string& name, unsigned cap) const;
};

// Diagnostics are "file:line: message" (as HAProxy prints them, with our
// column where known: "file:line:col: message").
struct ParseOutcome {
  Config config;
  std::vector<std::string> errors;   // non-empty: the configuration is invalid
  std::vector<std::string> warnings; // printed, but the configuration runs
  bool ok() const { return errors.empty(); }
};

struct ConfigFile {
  std::string name; // as given on the command line (used in diagnostics)
  std::string text;
};

// Parses the files in order (as HAProxy does with several -f), then
// validates: backend references, duplicate names, ranges, mode support.
// `env` expands "${NAME}" inside double quotes (HAProxy's environment
// variables); empty: nothing is expanded.
ParseOutcome parseConfig(const std::vector<ConfigFile>& files, const common::EnvLookup& env = {});

// The effective configuration (defaults resolved) as YAML, for --dump.
std::string dumpYaml(const Config& config);

} // namespace proxyd
