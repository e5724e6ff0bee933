#pragma once
// The runtime API (HAProxy 2.6's "stats socket" CLI), pure part: command
// parsing, access levels, and every command's output, computed from a
// read-only snapshot that the daemon provides (InfoView, ProxyView,
// ServerView) and carried out through a small mutation interface
// (RuntimeControl). No sockets here: admin_server.{h,cc} is the I/O shell.
//
// Output formats are HAProxy 2.6's, byte for byte where HAProxy's format is
// fixed (show stat CSV, show servers state, show info, error texts); see
// docs/runtime-api.md for the command list and our own commands
// (`watch health`, `set vrrp`).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proxyd::runtime {

// Access levels of a CLI session, lowest first (`stats socket ... level`).
enum class Level { User = 0, Operator = 1, Admin = 2 };
const char* levelName(Level l);

// A server's administrative state as set by `set server ... state` (or
// `disabled` in the configuration for Maint).
enum class AdminState { Ready, Drain, Maint };

// Traffic counters of one stats row. A frontend, a backend and a server each
// have one; a row shows only the columns HAProxy shows for its type.
struct Counters {
  uint64_t cur = 0, max = 0, total = 0;            // scur smax stot (sessions)
  uint64_t queueCur = 0, queueMax = 0;             // qcur qmax
  uint64_t bytesIn = 0, bytesOut = 0;              // bin bout
  uint64_t deniedReq = 0, deniedResp = 0;          // dreq dresp
  uint64_t reqErrors = 0;                          // ereq (frontend)
  uint64_t connErrors = 0, respErrors = 0;         // econ eresp
  uint64_t retries = 0, redispatches = 0;          // wretr wredis
  uint64_t cliAborts = 0, srvAborts = 0;           // cli_abrt srv_abrt
  uint64_t lbTotal = 0;                            // lbtot: times picked
  uint64_t connectAttempts = 0, reuses = 0;        // connect reuse
  uint64_t rate = 0, rateMax = 0;                  // sessions/s (last second)
  uint64_t connRate = 0, connRateMax = 0;          // frontend connections/s
  uint64_t connTotal = 0;                          // conn_tot (frontend)
  uint64_t reqRate = 0, reqRateMax = 0, reqTotal = 0; // HTTP requests
  uint64_t hrsp[6] = {};                           // 1xx 2xx 3xx 4xx 5xx other
  uint64_t deniedConn = 0, deniedSess = 0;         // dcon dses
  uint64_t rewriteFails = 0, internalErrors = 0;   // wrew eint
  uint64_t intercepted = 0;
  // Averages over the last requests and maxima, in ms.
  uint64_t qtime = 0, ctime = 0, rtime = 0, ttime = 0;
  uint64_t qtimeMax = 0, ctimeMax = 0, rtimeMax = 0, ttimeMax = 0;
  long lastSessSec = -1; // seconds since the last session; -1: never
};

// The last health check of a server.
struct CheckView {
  bool enabled = false; // the server has `check`
  int rise = 2, fall = 3;
  int health = 0;       // HealthCounter::health(): 0..rise+fall-1
  // HAProxy's short status ("L4OK", "L4CON", "L4TOUT", "L7OK", "L7STS",
  // "INI", "UNK" ...) and its description ("Layer4 check passed").
  std::string status = "INI";
  std::string desc = "Initializing";
  std::string info;     // last_chk: the error text, e.g. "Connection refused"
  int code = -1;        // layer 5-7 code; -1: none
  long durationMs = -1; // -1: none
  uint64_t failed = 0;  // chkfail: failed checks while UP
  uint64_t downs = 0;   // chkdown: UP->DOWN transitions
  bool inProgress = false; // a check is running now (CHK_ST_INPROGRESS)
  uint16_t port = 0;    // `port` (0: the server's)
  std::string addr;     // `addr` (empty: the server's)
};

struct ServerView {
  std::string name;
  int id = 0;           // srv_id, 1-based in its backend
  std::string ip;       // "127.0.0.1", "::1"
  uint16_t port = 0;
  bool backup = false;
  bool running = true;  // operational state: health says UP
  bool stopping = false; // running but NOLB (http-check disable-on-404)
  AdminState admin = AdminState::Ready;
  bool configMaint = false; // `disabled` in the configuration (still set)
  int weight = 1;           // current user weight
  int initialWeight = 1;    // from the configuration
  int maxconn = 0;          // 0: none
  int maxqueue = 0;         // 0: none
  CheckView check;
  long lastChangeSec = 0;   // since the last state change
  long downtimeSec = 0;
  uint64_t needConnEst = 0; // need_conn_est: connections HAProxy estimates it needs
  std::string cookie;       // `cookie VALUE` (the "cookie" column)
  Counters c;
  // "addr" column: "ip:port", IPv6 in brackets.
  std::string addrText() const;
};

// A frontend, backend or listen section.
struct ProxyView {
  std::string name;
  int id = 0;               // iid (HAProxy numbers proxies from 1)
  bool frontend = false;
  bool backend = false;
  bool http = false;        // mode http (else tcp)
  // frontend
  int maxconn = 0;          // slim of FRONTEND (effective maxconn)
  std::string feStatus = "OPEN"; // OPEN, STOP, PAUSED
  Counters fe;
  // backend
  std::string algo = "roundrobin"; // as written in `balance`
  std::string cookie;              // the backend's `cookie` name (the "cookie" column)
  bool dynamicWeights = true;      // false: static-rr, map-based hashing
  bool allbackups = false;
  int fullconn = 0;         // slim of BACKEND (HAProxy: 10% of the
                            // frontends' maxconn, rounded up)
  long lastChangeSec = 0;   // since the backend last went UP or DOWN
  long downtimeSec = 0;
  uint64_t chkdown = 0;     // times the whole backend went DOWN
  Counters be;
  std::vector<ServerView> servers;
};

// One VRRP instance as reported by vrrpd (`set vrrp`).
struct VrrpView {
  std::string instance;
  std::string state; // MASTER, BACKUP, FAULT, INIT, STOP
  int priority = 0;
};

struct InfoView {
  std::string name = "proxyd";
  std::string version;
  std::string releaseDate;
  int nbthread = 1;
  long pid = 0;
  long uptimeSec = 0;
  long startTimeSec = 0; // wall clock, seconds since the epoch
  long ulimitN = 0;
  long maxsock = 0;
  long maxconn = 0;
  long hardMaxconn = 0;
  long currConns = 0;
  uint64_t cumConns = 0;
  uint64_t cumReq = 0;
  uint64_t connRate = 0, maxConnRate = 0;
  uint64_t sessRate = 0, maxSessRate = 0;
  long tasks = 0;
  long runQueue = 0;
  int idlePct = 100;
  std::string node;
  std::string description; // shown only when set, as HAProxy
  bool stopping = false;
  long jobs = 0;
  long listeners = 0;
  uint64_t droppedLogs = 0;
  uint64_t totalBytesOut = 0;
  uint64_t bytesOutRate = 0;
  uint64_t poolAllocBytes = 0, poolUsedBytes = 0;
  std::vector<VrrpView> vrrp; // appended as "Vrrp_<instance>: <STATE> <prio>"
};

// What the daemon does for the mutating commands. Names are already
// resolved against proxies() (the backend/server exist) and values checked;
// each call returns an empty string on success or an error text (printed as
// is, HAProxy style, e.g. "No such server.\n").
class RuntimeControl {
public:
  virtual ~RuntimeControl() = default;
  // The snapshot. Called once per command that reads state.
  virtual InfoView info() const = 0;
  virtual std::vector<ProxyView> proxies() const = 0;

  virtual std::string setServerState(const std::string& backend, const std::string& server,
                                     AdminState st) = 0;
  // `weight`: absolute, 0..256, already derived from a percentage if one was
  // given.
  virtual std::string setServerWeight(const std::string& backend, const std::string& server,
                                      int weight) = 0;
  virtual std::string setServerMaxconn(const std::string& backend, const std::string& server,
                                       int maxconn) = 0; // 0: unlimited
  virtual std::string setFrontendMaxconn(const std::string& frontend, int maxconn) = 0;
  virtual std::string setGlobalMaxconn(int maxconn) = 0; // 1..hard maxconn
  // Closes every stream connected to the server.
  virtual std::string shutdownServerSessions(const std::string& backend,
                                             const std::string& server) = 0;
  // `clear counters`: max values and rates; `all`: every counter.
  virtual void clearCounters(bool all) = 0;
  // vrrpd reports an instance's state (ours).
  virtual std::string setVrrp(const VrrpView& v) = 0;
};

// ---- show stat / show info / show servers state formatters ---------------

// HAProxy 2.6's CSV header line ("# pxname,svname,...,\n").
extern const char* const kStatCsvHeader;
struct StatFilter {
  bool up = false;      // `show stat up`: only servers that are UP
  bool noMaint = false; // `show stat no-maint`: no servers in maintenance
  // `show stat {<iid>|<proxy>} <type> <sid>` (hatop -p/-f uses it): one
  // proxy by id or name (-1: all), the row types as a bit mask (1
  // frontends, 2 backends, 4 servers; -1 all), one server id (-1: all).
  int iid = -1;
  std::string proxy;
  int type = -1;
  int sid = -1;
};
std::string formatStatCsv(const std::vector<ProxyView>& proxies, StatFilter f = {});
std::string formatInfo(const InfoView& info);
std::string formatInfoJson(const InfoView& info);
// `show servers state [backend]` ("1\n# be_id ...\n" then one line a server).
std::string formatServersState(const std::vector<ProxyView>& proxies, const ProxyView* only);

// HAProxy's status text of a server row: "UP", "DOWN", "UP 1/3", "DOWN 1/2",
// "DRAIN", "DRAIN 2/3", "MAINT", "no check".
std::string serverStatusText(const ServerView& s);
// A server the balancer may pick: running and Ready.
bool serverUsable(const ServerView& s);

// ---- watch health (ours) --------------------------------------------------
// One line per state: "health ok backend=app active=2/3 backup=0/1 event=change\n".
// Without a backend: "health ok backends=3 down=1 event=initial\n" (always ok:
// the line itself proves proxyd answers). A backend is ok while at least one
// of its servers is usable (status UP in show stat).
enum class HealthEvent { Initial, Change, Heartbeat };
struct HealthSummary {
  bool ok = true;
  std::string backend; // empty: the whole process
  int activeUp = 0, activeTotal = 0, backupUp = 0, backupTotal = 0;
  int backends = 0, backendsDown = 0;
  // Equal summaries mean no change worth a line.
  bool operator==(const HealthSummary&) const = default;
};
// nullopt: no such backend.
std::optional<HealthSummary> summarizeHealth(const std::vector<ProxyView>& proxies,
                                             const std::string& backend);
std::string formatHealthLine(const HealthSummary& h, HealthEvent e);

// ---- the command interpreter ---------------------------------------------

// A `watch health` request accepted by the interpreter; the server keeps the
// connection open and streams lines.
struct WatchRequest {
  std::string backend;   // empty: whole process
  long heartbeatMs = 1000;
};

// The outcome of one input line (possibly several `;`-separated commands).
struct LineResult {
  std::string output;    // bytes to write, prompts and terminators included
  bool close = false;    // close after writing (quit, or one-shot mode done)
  std::optional<WatchRequest> watch; // switch the connection to watch mode
  std::optional<long long> timeoutMs; // `set timeout cli`: this session's idle timeout
};

// One CLI connection's state: its level (which `user`/`operator` lower) and
// interactive mode (`prompt`). Pure: the server feeds it lines.
class CliSession {
public:
  CliSession(RuntimeControl& ctl, Level level) : ctl_(ctl), level_(level) {}
  // Handles one line (without its "\n"; a trailing "\r" is ignored).
  // `moreInput`: more bytes are already buffered after this line (a one-shot
  // connection keeps going while pipelined input remains, as HAProxy).
  LineResult handleLine(std::string_view line, bool moreInput = false);
  Level level() const { return level_; }
  bool interactive() const { return interactive_; }

private:
  enum class Flow { Continue, Quit, Watch };
  Flow runCommand(const std::vector<std::string>& args, std::string& out,
                  std::optional<WatchRequest>& watch);
  RuntimeControl& ctl_;
  Level level_;
  bool interactive_ = false;
  std::optional<long long> timeoutMs_; // set by `set timeout cli`, handed out once
};

// Splits a line into commands at unescaped ';' and each command into words
// (blanks separate; a backslash makes the next character literal, be it ';',
// a blank, a backslash or a newline, and is itself dropped), as HAProxy
// 2.6's CLI does. Exposed for tests.
std::vector<std::vector<std::string>> splitCommands(std::string_view line);

// ---- the line protocol's limits (HAProxy 2.6's) ---------------------------

// HAProxy reads a command line into one buffer, tune.bufsize (16384) less
// its reserve (1024): a longer line, "\n" included, is never run (HAProxy
// stops reading that session; the admin server closes it).
inline constexpr size_t kMaxCommandLine = 15360;

// The index of the "\n" that ends the first command line of `buf`, or npos
// while that line is incomplete. A "\n" after an odd run of backslashes is
// escaped: the command goes on past it, with a newline in the word, as in
// HAProxy 2.6: "a\<LF>b<LF>" is one line and one word "a<LF>b";
// "a\\<LF>" is a line whose word is "a\".
size_t findLineEnd(std::string_view buf);

// The name a unix stats socket is bound under before it is renamed over
// `path` once its mode is set (HAProxy's "<path>.<pid>.tmp", in the same
// directory so that rename() is atomic). When that name does not fit a
// sockaddr_un (`maxLen` bytes with the NUL), "<dir>/.<pid>.tmp"; empty when
// even that does not fit.
std::string socketTempName(std::string_view path, long pid, size_t maxLen = 108);

// ---- set vrrp (ours) -----------------------------------------------------

// At most this many VRRP instances are recorded (`set vrrp` for a new name
// beyond it is refused), and an instance name has at most kMaxVrrpName
// bytes and no control character.
inline constexpr size_t kMaxVrrpInstances = 256;
inline constexpr size_t kMaxVrrpName = 128;

// Records `v` in `table` (replacing the entry of the same instance name).
// Empty on success, else the error text to print.
std::string recordVrrp(std::vector<VrrpView>& table, const VrrpView& v);

// The help text ("The following commands are valid at this level:\n...").
std::string helpText(const std::vector<std::string>& filter = {});

} // namespace proxyd::runtime
