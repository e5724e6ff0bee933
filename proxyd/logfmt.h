#pragma once
// HAProxy 2.6's TCP log line (`option tcplog`), pure. The format is HAProxy's
//   %ci:%cp [%t] %ft %b/%s %Tw/%Tc/%Tt %B %ts %ac/%fc/%bc/%sc/%rc %sq/%bq
// e.g.
//   10.0.1.2:33313 [06/Feb/2009:12:12:51.443] fnt bck/srv1 0/0/5007 212 -- 0/0/0/0/3 0/0
// (configuration.txt 8.2.2). The syslog header is the logger's business.
#include "common/result.h"
#include "common/values.h"

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proxyd {

// Termination state (configuration.txt 8.5), first character: what ended
// the session.
enum class TermCode : char {
  None = '-',          // normal end, both sides closed
  ClientAbort = 'C',   // the client aborted or closed with an error
  ServerAbort = 'S',   // the server aborted, refused, or sent an error
  Proxy = 'P',         // aborted by the proxy (rule, security check)
  Local = 'L',         // served locally by the proxy
  Resource = 'R',      // a proxy resource was exhausted (memory, sockets, ports)
  Internal = 'I',      // internal error
  ServerDown = 'D',    // the server went DOWN and the session was killed
  ServerUp = 'U',      // killed because a backup was left for an active server
  Killed = 'K',        // killed by an admin action
  ClientTimeout = 'c', // client-side timeout
  ServerTimeout = 's', // server-side timeout, or no server could take it in time
};

// Termination state, second character: the session's phase when it ended.
enum class TermPhase : char {
  None = '-',    // normal end, after data
  Request = 'R', // waiting for the client's request
  Queue = 'Q',   // waiting in the queue for a server
  Connect = 'C', // waiting for the connection to the server
  Headers = 'H', // waiting for the server's response headers (http)
  Data = 'D',    // in the data phase
  Last = 'L',    // sending the last data to the client
  Tarpit = 'T',  // tarpitted (http)
};

// The two characters of %ts, e.g. (ServerTimeout, Connect) -> "sC".
std::string formatTermState(TermCode code, TermPhase phase);

struct TcpLogEntry {
  common::SockAddr clientAddr;                      // %ci:%cp
  std::chrono::system_clock::time_point acceptTime; // %t, with milliseconds
  std::string frontend;                             // %ft
  bool frontendTls = false;                         // %ft gets a '~' suffix
  std::string backend;                              // %b (empty: the frontend's name)
  std::string server;                               // %s (empty: "<NOSRV>")
  long tw = -1;                                     // ms waiting in queues; -1: never reached
  long tc = -1;                 // ms to connect to the server; -1: never connected
  long tt = -1;                 // ms from accept to close
  long long bytesRead = 0;      // %B: bytes sent from the server to the client
  std::string termState = "--"; // %ts (see formatTermState)
  int actconn = 0;              // %ac: connections on the process
  int feconn = 0;               // %fc: connections on the frontend
  int beconn = 0;               // %bc: connections on the backend
  int srvConn = 0;              // %sc: connections on the server
  int retries = 0;              // %rc
  bool redispatched = false;    // %rc gets a '+' prefix
  int srvQueue = 0;             // %sq: requests ahead in the server's queue
  int backendQueue = 0;         // %bq: requests ahead in the backend's queue
  bool logasap = false;         // `option logasap`: %Tt and %B get a '+' prefix
};

// The accept date as %t writes it: "06/Feb/2009:12:12:51.443". HAProxy uses
// local time; `utc` formats in UTC instead (for tests, and TZ-less hosts).
std::string formatLogDate(std::chrono::system_clock::time_point t, bool utc = false);

// The whole line, without the syslog header and without a trailing newline.
std::string formatTcpLog(const TcpLogEntry& e, bool utc = false);

// HAProxy 2.6's HTTP log line (`option httplog`, configuration.txt 8.2.3):
//   %ci:%cp [%tr] %ft %b/%s %TR/%Tw/%Tc/%Tr/%Ta %ST %B %CC %CS %tsc
//   %ac/%fc/%bc/%sc/%rc %sq/%bq %hr %hs %{+Q}r
// e.g.
//   10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1
//   10/0/30/69/109 200 2750 - - ---- 1/1/1/1/0 0/0 "GET /index.html HTTP/1.1"
// Captures (%hr, %hs, %CC, %CS) are not supported: %hr and %hs print
// nothing and, as HAProxy does for an empty field, take no separator; %CC
// and %CS print "-". %tsc's cookie characters are "--".
struct HttpLogEntry {
  common::SockAddr clientAddr;                       // %ci:%cp
  std::chrono::system_clock::time_point requestTime; // %tr: when the request began
  std::string frontend;                              // %ft
  bool frontendTls = false;
  std::string backend;          // %b (empty: the frontend's name)
  std::string server;           // %s (empty: "<NOSRV>")
  long tR = -1;                 // ms to receive the whole head; -1: never complete
  long tw = -1;                 // ms in queues; -1: never reached
  long tc = -1;                 // ms to connect; -1: never connected
  long tr = -1;                 // ms from the request sent to the response head; -1: none
  long ta = -1;                 // ms from %tr to the end of the response
  int status = -1;              // %ST: status sent to the client; -1: none
  long long bytesRead = 0;      // %B: bytes sent to the client, head included
  std::string termState = "--"; // %ts, the first two characters of %tsc
  std::string cookieState = "--"; // %tsc's last two: persistence cookie (request, response)
  int actconn = 0, feconn = 0, beconn = 0, srvConn = 0;
  int retries = 0;
  bool redispatched = false;
  int srvQueue = 0, backendQueue = 0;
  // %r: "METHOD TARGET VERSION" as received; empty: "<BADREQ>".
  std::string requestLine;
  bool logasap = false; // `option logasap`: %Ta and %B get a '+' prefix
};

std::string formatHttpLog(const HttpLogEntry& e, bool utc = false);

// %r as %{+Q}r writes it: quoted, with '"', '#', control and non-ASCII
// bytes written "#XX" (HAProxy's log encoding of the request line).
std::string quoteRequestLine(std::string_view line);

// ---------------------------------------------------------------------------
// `log-format` (configuration.txt 8.2.4): a format string compiled once at
// configuration time into nodes, then applied to the facts of each
// transaction. `option tcplog`, `option httplog` and `option httplog clf`
// are the log-format strings below, run through the same engine.

// HAProxy 2.6's own definitions of its three predefined formats.
extern const char* const kTcpLogFormat;
extern const char* const kHttpLogFormat;
extern const char* const kClfHttpLogFormat;

// What a log line can say about one transaction (a TCP session, or one HTTP
// request). Timers are in ms, -1 when the step was never reached.
struct LogRecord {
  common::SockAddr clientAddr;                       // %ci %cp
  std::optional<common::SockAddr> frontendAddr;      // %fi %fp (the accepting address)
  std::optional<common::SockAddr> backendSrcAddr;    // %bi %bp (our end towards the server)
  std::optional<common::SockAddr> serverAddr;        // %si %sp
  std::chrono::system_clock::time_point acceptTime;  // %t %T %Tl %Ts %ms
  std::chrono::system_clock::time_point requestTime; // %tr %trg %trl
  std::string frontend;                              // %f %ft
  bool frontendTls = false;                          // %ft gets a '~' suffix
  std::string backend;                               // %b (empty: the frontend's name)
  std::string server;                                // %s (empty: "<NOSRV>")
  long th = 0;                                       // %Th: handshake time
  long ti = 0;                                       // %Ti: idle time before the request
  long tR = -1;                                      // %TR: time to receive the request head
  long tw = -1, tc = -1;                             // %Tw %Tc
  long tr = -1;                                      // %Tr: server response time
  long ta = -1;                                      // %Ta: from %tr to the end
  long tt = -1;                                      // %Tt: from %t to the end
  int status = -1;                                   // %ST
  long long bytesOut = 0;                            // %B: server to client
  long long bytesIn = 0;                             // %U: client to server
  std::string termState = "--";                      // %ts
  std::string cookieState = "--"; // %tsc's last two: the persistence cookie's flags
  int actconn = 0, feconn = 0, beconn = 0, srvConn = 0; // %ac %fc %bc %sc
  int retries = 0;                                      // %rc
  bool redispatched = false;                            // %rc gets a '+' prefix
  int srvQueue = 0, backendQueue = 0;                   // %sq %bq
  std::string requestLine;               // %r and %H*: "METHOD TARGET VERSION"; empty: "<BADREQ>"
  bool logasap = false;                  // `option logasap`: %Tt, %Ta and %B get a '+' prefix
  unsigned long long requestCounter = 0; // %rt: requests (or sessions) of the process so far
  unsigned long long logCounter = 0;     // %lc: lines logged by the frontend so far
  long pid = 0;                          // %pid
  std::string hostname;                  // %H
};

// Fills the facts about the process itself (%pid, %H).
void fillProcessFacts(LogRecord& r);

class LogFormat {
public:
  // One compiled piece of the format.
  struct Node {
    enum class Kind { Text, Separator, Var };
    Kind kind = Kind::Text;
    std::string text;  // Text: the literal; Var: the variable's name (without '%')
    int var = 0;       // Var: which variable (internal index)
    unsigned opts = 0; // Var: the +Q/+X/+E flags in force
  };

  // Compiles HAProxy's log-format `fmt` (as the configuration lexer left
  // it: quotes and backslash escapes already resolved). `httpMode`: the
  // proxy's mode is http; otherwise the HTTP-only variables are refused, as
  // HAProxy does. The error text is HAProxy's, e.g. "no such format
  // variable 'zz'. If you wanted to emit the '%' character verbatim, you
  // need to use '%%'." Sample fetches (%[...]) are refused as unsupported.
  static common::Result<LogFormat> compile(std::string_view fmt, bool httpMode);

  // The line for `r` (no syslog header, no newline). `utc`: dates that
  // HAProxy writes in local time are written in UTC (for tests).
  std::string format(const LogRecord& r, bool utc = false) const;

  const std::vector<Node>& nodes() const { return nodes_; }
  // True when the format has the variable `name` (e.g. "bi"), so a caller
  // can skip collecting facts nobody prints.
  bool uses(std::string_view name) const;
  // uses("bi") || uses("bp"), decided once: asked on every server connection.
  bool usesBackendSource() const { return usesBackendSource_; }

private:
  std::vector<Node> nodes_;
  bool usesBackendSource_ = false;
};

} // namespace proxyd
