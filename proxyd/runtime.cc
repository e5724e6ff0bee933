// The runtime API's pure core: see runtime.h. Formats follow HAProxy 2.6
// (src/cli.c, src/stats.c, src/server.c), checked against a running haproxy
// 2.6 by tests/integration/test_admin_socket.py.
#include "proxyd/runtime.h"

#include "common/values.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace proxyd::runtime {

const char* levelName(Level l) {
  switch (l) {
  case Level::User: return "user";
  case Level::Operator: return "operator";
  case Level::Admin: return "admin";
  }
  return "user";
}

std::string ServerView::addrText() const {
  if (ip.find(':') != std::string::npos) return "[" + ip + "]:" + std::to_string(port);
  return ip + ":" + std::to_string(port);
}

bool serverUsable(const ServerView& s) {
  return s.running && !s.stopping && s.admin == AdminState::Ready && s.weight > 0;
}

// ---------------------------------------------------------------------------
// show stat

const char* const kStatCsvHeader =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,"
    "wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,"
    "throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,"
    "check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,"
    "req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,"
    "lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,"
    "agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,"
    "agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,"
    "intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,"
    "qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,"
    "need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status,-,"
    "ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,"
    "h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,"
    "h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,"
    "h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,"
    "h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,"
    "h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,\n";

namespace {

// Column positions of the CSV (HAProxy's ST_F_* order).
enum Col : int {
  PXNAME, SVNAME, QCUR, QMAX, SCUR, SMAX, SLIM, STOT, BIN, BOUT, DREQ, DRESP, EREQ, ECON, ERESP,
  WRETR, WREDIS, STATUS, WEIGHT, ACT, BCK, CHKFAIL, CHKDOWN, LASTCHG, DOWNTIME, QLIMIT, PID, IID,
  SID, THROTTLE, LBTOT, TRACKED, TYPE, RATE, RATE_LIM, RATE_MAX, CHECK_STATUS, CHECK_CODE,
  CHECK_DURATION, HRSP_1XX, HRSP_2XX, HRSP_3XX, HRSP_4XX, HRSP_5XX, HRSP_OTHER, HANAFAIL,
  REQ_RATE, REQ_RATE_MAX, REQ_TOT, CLI_ABRT, SRV_ABRT, COMP_IN, COMP_OUT, COMP_BYP, COMP_RSP,
  LASTSESS, LAST_CHK, LAST_AGT, QTIME, CTIME, RTIME, TTIME, AGENT_STATUS, AGENT_CODE,
  AGENT_DURATION, CHECK_DESC, AGENT_DESC, CHECK_RISE, CHECK_FALL, CHECK_HEALTH, AGENT_RISE,
  AGENT_FALL, AGENT_HEALTH, ADDR, COOKIE, MODE, ALGO, CONN_RATE, CONN_RATE_MAX, CONN_TOT,
  INTERCEPTED, DCON, DSES, WREW, CONNECT, REUSE, CACHE_LOOKUPS, CACHE_HITS, SRV_ICUR, SRC_ILIM,
  QTIME_MAX, CTIME_MAX, RTIME_MAX, TTIME_MAX, EINT, IDLE_CONN_CUR, SAFE_CONN_CUR, USED_CONN_CUR,
  NEED_CONN_EST, UWEIGHT, AGG_SERVER_STATUS, AGG_SERVER_CHECK_STATUS, AGG_CHECK_STATUS,
  STATIC_END, SSL_SESS, SSL_REUSED_SESS, SSL_FAILED_HANDSHAKE, H2_FIRST,
  H2_LAST = H2_FIRST + 12, H1_FIRST, H1_LAST = H1_FIRST + 7, NCOLS
};
static_assert(NCOLS == 128, "HAProxy 2.6 has 128 stats columns");

using Row = std::array<std::string, NCOLS>;

std::string num(uint64_t v) { return std::to_string(v); }

// CSV quoting as HAProxy: only when the text holds a comma or a quote.
std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void appendRow(std::string& out, const Row& r) {
  for (const auto& f : r) {
    out += csvField(f);
    out += ',';
  }
  out += '\n';
}

void zero(Row& r, int from, int to) {
  for (int i = from; i <= to; ++i) r[i] = "0";
}

// Columns after the static part ('-' then SSL, and for proxies H2/H1 muxes).
void tail(Row& r, bool proxyRow) {
  r[STATIC_END] = "-";
  zero(r, SSL_SESS, SSL_FAILED_HANDSHAKE);
  if (proxyRow) zero(r, H2_FIRST, H1_LAST);
}

void httpResponses(Row& r, const Counters& c) {
  for (int i = 0; i < 6; ++i) r[HRSP_1XX + i] = num(c.hrsp[i]);
}

void timings(Row& r, const Counters& c) {
  r[QTIME] = num(c.qtime);
  r[CTIME] = num(c.ctime);
  r[RTIME] = num(c.rtime);
  r[TTIME] = num(c.ttime);
  r[QTIME_MAX] = num(c.qtimeMax);
  r[CTIME_MAX] = num(c.ctimeMax);
  r[RTIME_MAX] = num(c.rtimeMax);
  r[TTIME_MAX] = num(c.ttimeMax);
}

// The columns servers and backends share.
void beOrServer(Row& r, const Counters& c) {
  r[QCUR] = num(c.queueCur);
  r[QMAX] = num(c.queueMax);
  r[SCUR] = num(c.cur);
  r[SMAX] = num(c.max);
  r[STOT] = num(c.total);
  r[BIN] = num(c.bytesIn);
  r[BOUT] = num(c.bytesOut);
  r[DRESP] = num(c.deniedResp);
  r[ECON] = num(c.connErrors);
  r[ERESP] = num(c.respErrors);
  r[WRETR] = num(c.retries);
  r[WREDIS] = num(c.redispatches);
  r[PID] = "1";
  r[LBTOT] = num(c.lbTotal);
  r[RATE] = num(c.rate);
  r[RATE_MAX] = num(c.rateMax);
  r[CLI_ABRT] = num(c.cliAborts);
  r[SRV_ABRT] = num(c.srvAborts);
  r[LASTSESS] = std::to_string(c.lastSessSec);
  timings(r, c);
  r[WREW] = num(c.rewriteFails);
  r[CONNECT] = num(c.connectAttempts);
  r[REUSE] = num(c.reuses);
  r[EINT] = num(c.internalErrors);
}

void frontendRow(std::string& out, const ProxyView& p) {
  Row r;
  const Counters& c = p.fe;
  r[PXNAME] = p.name;
  r[SVNAME] = "FRONTEND";
  r[SCUR] = num(c.cur);
  r[SMAX] = num(c.max);
  r[SLIM] = std::to_string(p.maxconn);
  r[STOT] = num(c.total);
  r[BIN] = num(c.bytesIn);
  r[BOUT] = num(c.bytesOut);
  r[DREQ] = num(c.deniedReq);
  r[DRESP] = num(c.deniedResp);
  r[EREQ] = num(c.reqErrors);
  r[STATUS] = p.feStatus;
  r[PID] = "1";
  r[IID] = std::to_string(p.id);
  r[SID] = "0";
  r[TYPE] = "0";
  r[RATE] = num(c.rate);
  r[RATE_LIM] = "0";
  r[RATE_MAX] = num(c.rateMax);
  if (p.http) httpResponses(r, c);
  r[REQ_RATE] = num(c.reqRate);
  r[REQ_RATE_MAX] = num(c.reqRateMax);
  r[REQ_TOT] = num(c.reqTotal);
  zero(r, COMP_IN, COMP_RSP);
  r[MODE] = p.http ? "http" : "tcp";
  r[CONN_RATE] = num(c.connRate);
  r[CONN_RATE_MAX] = num(c.connRateMax);
  r[CONN_TOT] = num(c.connTotal);
  if (p.http) r[INTERCEPTED] = num(c.intercepted);
  r[DCON] = num(c.deniedConn);
  r[DSES] = num(c.deniedSess);
  r[WREW] = num(c.rewriteFails);
  if (p.http) zero(r, CACHE_LOOKUPS, CACHE_HITS);
  r[EINT] = num(c.internalErrors);
  tail(r, true);
  appendRow(out, r);
}

void serverRow(std::string& out, const ProxyView& p, const ServerView& s) {
  Row r;
  const Counters& c = s.c;
  const CheckView& k = s.check;
  r[PXNAME] = p.name;
  r[SVNAME] = s.name;
  beOrServer(r, c);
  if (s.maxconn > 0) r[SLIM] = std::to_string(s.maxconn);
  r[STATUS] = serverStatusText(s);
  r[WEIGHT] = std::to_string(s.weight);
  r[ACT] = s.backup ? "0" : "1";
  r[BCK] = s.backup ? "1" : "0";
  if (k.enabled) {
    r[CHKFAIL] = num(k.failed);
    r[CHKDOWN] = num(k.downs);
    r[DOWNTIME] = std::to_string(s.downtimeSec);
  }
  r[LASTCHG] = std::to_string(s.lastChangeSec);
  if (s.maxqueue > 0) r[QLIMIT] = std::to_string(s.maxqueue);
  r[IID] = std::to_string(p.id);
  r[SID] = std::to_string(s.id);
  r[TYPE] = "2";
  if (k.enabled) {
    r[CHECK_STATUS] = k.status;
    if (k.code >= 0) r[CHECK_CODE] = std::to_string(k.code);
    if (k.durationMs >= 0) r[CHECK_DURATION] = std::to_string(k.durationMs);
    r[LAST_CHK] = k.info;
    r[CHECK_DESC] = k.desc;
    r[CHECK_RISE] = std::to_string(k.rise);
    r[CHECK_FALL] = std::to_string(k.fall);
    r[CHECK_HEALTH] = std::to_string(k.health);
  }
  if (p.http) {
    httpResponses(r, c);
    r[REQ_TOT] = num(c.reqTotal);
  }
  r[ADDR] = s.addrText();
  r[COOKIE] = s.cookie;
  r[MODE] = p.http ? "http" : "tcp";
  r[SRV_ICUR] = "0";
  zero(r, IDLE_CONN_CUR, USED_CONN_CUR);
  r[NEED_CONN_EST] = num(s.needConnEst);
  r[UWEIGHT] = std::to_string(s.weight);
  tail(r, false);
  appendRow(out, r);
}

// The servers a backend may use now, as HAProxy's srv_act/srv_bck and the
// total weights: active servers when any is usable, else the backups (all of
// them with `option allbackups`, else the first).
struct BackendTotals {
  int act = 0, bck = 0;
  int weight = 0;
};
BackendTotals totals(const ProxyView& p) {
  BackendTotals t;
  int wact = 0, wbck = 0, firstBck = -1;
  for (const auto& s : p.servers) {
    if (!serverUsable(s)) continue;
    if (s.backup) {
      ++t.bck;
      wbck += s.weight;
      if (firstBck < 0) firstBck = s.weight;
    } else {
      ++t.act;
      wact += s.weight;
    }
  }
  if (t.act) t.weight = wact;
  else if (t.bck) t.weight = p.allbackups ? wbck : firstBck;
  return t;
}

void backendRow(std::string& out, const ProxyView& p) {
  Row r;
  const Counters& c = p.be;
  BackendTotals t = totals(p);
  r[PXNAME] = p.name;
  r[SVNAME] = "BACKEND";
  beOrServer(r, c);
  r[SLIM] = std::to_string(p.fullconn);
  r[DREQ] = num(c.deniedReq);
  r[STATUS] = (t.act || t.bck) ? "UP" : "DOWN";
  r[WEIGHT] = std::to_string(t.weight);
  r[ACT] = std::to_string(t.act);
  r[BCK] = std::to_string(t.bck);
  r[CHKDOWN] = num(p.chkdown);
  r[LASTCHG] = std::to_string(p.lastChangeSec);
  r[DOWNTIME] = std::to_string(p.downtimeSec);
  r[IID] = std::to_string(p.id);
  r[SID] = "0";
  r[TYPE] = "1";
  if (p.http) {
    httpResponses(r, c);
    r[REQ_TOT] = num(c.reqTotal);
    zero(r, CACHE_LOOKUPS, CACHE_HITS);
  }
  zero(r, COMP_IN, COMP_RSP);
  r[MODE] = p.http ? "http" : "tcp";
  r[COOKIE] = p.cookie;
  r[ALGO] = p.algo;
  r[UWEIGHT] = std::to_string(t.weight);
  zero(r, AGG_SERVER_STATUS, AGG_CHECK_STATUS);
  tail(r, true);
  appendRow(out, r);
}

} // namespace

std::string serverStatusText(const ServerView& s) {
  if (s.admin == AdminState::Maint) return "MAINT";
  const CheckView& k = s.check;
  char buf[64];
  if (s.running) {
    bool goingDown = k.enabled && k.health < k.rise + k.fall - 1;
    const char* word = s.admin == AdminState::Drain ? "DRAIN" : s.stopping ? "NOLB" : "UP";
    if (goingDown)
      std::snprintf(buf, sizeof buf, "%s %d/%d", word, k.health - k.rise + 1, k.fall);
    else if (s.admin == AdminState::Drain || s.stopping)
      return word;
    else
      return k.enabled ? "UP" : "no check";
    return buf;
  }
  if (k.enabled && k.health > 0) {
    std::snprintf(buf, sizeof buf, "DOWN %d/%d", k.health, k.rise);
    return buf;
  }
  return "DOWN";
}

std::string formatStatCsv(const std::vector<ProxyView>& proxies, StatFilter f) {
  std::string out = kStatCsvHeader;
  auto want = [&](int bit) { return f.type == -1 || (f.type & bit); };
  for (const auto& p : proxies) {
    if (f.iid != -1 && p.id != f.iid) continue;
    if (!f.proxy.empty() && p.name != f.proxy) continue;
    if (p.frontend && want(1)) frontendRow(out, p);
    if (!p.backend) continue;
    if (want(4))
      for (const auto& s : p.servers) {
        if (f.sid != -1 && s.id != f.sid) continue;
        if (f.up && !(s.running && s.admin != AdminState::Maint)) continue;
        if (f.noMaint && s.admin == AdminState::Maint) continue;
        serverRow(out, p, s);
      }
    if (want(2)) backendRow(out, p);
  }
  return out;
}

// ---------------------------------------------------------------------------
// show servers state

namespace {

// HAProxy's HCHK_STATUS_* numbers and CHK_RES_* results.
int checkStatusCode(const std::string& st) {
  static const std::pair<const char*, int> table[] = {
      {"UNK", 0},    {"INI", 1},     {"HANA", 4},      {"SOCKERR", 5},  {"L4OK", 6},
      {"L4TOUT", 7}, {"L4CON", 8},   {"L6OK", 9},      {"L6TOUT", 10},  {"L6RSP", 11},
      {"L7TOUT", 12}, {"L7RSP", 13}, {"L7OK", 15},     {"L7OKC", 16},   {"L7STS", 17},
      {"PROCERR", 18}, {"PROCTOUT", 19}, {"PROCOK", 20}};
  for (const auto& [name, code] : table)
    if (st == name) return code;
  return 0;
}

int checkResult(const std::string& st) {
  if (st == "UNK" || st == "INI" || st.empty()) return 0;
  if (st == "L7OKC") return 4;
  if (st.size() >= 2 && st.compare(st.size() - 2, 2, "OK") == 0) return 3;
  return 2;
}

} // namespace

std::string formatServersState(const std::vector<ProxyView>& proxies, const ProxyView* only) {
  std::string out =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
      "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
      "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
      "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
      "srv_agent_port\n";
  for (const auto& p : proxies) {
    if (!p.backend || (only && only->name != p.name)) continue;
    for (const auto& s : p.servers) {
      const CheckView& k = s.check;
      bool maint = s.admin == AdminState::Maint;
      int admin = (maint ? 0x01 : 0) | (maint && s.configMaint ? 0x04 : 0) |
                  (s.admin == AdminState::Drain ? 0x08 : 0);
      int health = k.enabled ? k.health : (s.running ? k.rise : 0);
      int chkState = (k.enabled ? 0x06 : 0) | (k.enabled && k.inProgress ? 0x01 : 0) |
                     (maint && s.configMaint ? 0x08 : 0);
      std::string chkAddr = k.addr.empty() ? "-" : k.addr;
      out += std::to_string(p.id) + ' ' + p.name + ' ' + std::to_string(s.id) + ' ' + s.name +
             ' ' + s.ip + ' ' + (!s.running ? "0" : s.stopping ? "3" : "2") + ' ' +
             std::to_string(admin) + ' ' +
             std::to_string(s.weight) + ' ' + std::to_string(s.initialWeight) + ' ' +
             std::to_string(s.lastChangeSec) + ' ' +
             std::to_string(k.enabled ? checkStatusCode(k.status) : 1) + ' ' +
             std::to_string(k.enabled ? checkResult(k.status) : 0) + ' ' +
             std::to_string(health) + ' ' + std::to_string(chkState) + " 0 0 0 - " +
             std::to_string(s.port) + " - 0 " + std::to_string(k.port) + ' ' + chkAddr + ' ' +
             chkAddr + ' ' + std::to_string(k.port) + '\n';
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// show info

namespace {

struct InfoField {
  int pos;
  const char* name;
  const char* origin;
  const char* nature;
  const char* scope;
  const char* type; // "str", "u32", "u64"
  std::string value;
};

std::string uptimeText(long s) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%ldd %ldh%02ldm%02lds", s / 86400, s % 86400 / 3600,
                s % 3600 / 60, s % 60);
  return buf;
}

// 2.6's show info fields in order, with their json tags. Zlib fields (45,
// 46) are absent as in a build without zlib; description (51) only when set.
std::vector<InfoField> infoFields(const InfoView& i) {
  auto n = [](uint64_t v) { return std::to_string(v); };
  const uint64_t mb = 1024 * 1024;
  std::vector<InfoField> f = {
      {0, "Name", "Product", "Output", "Service", "str", i.name},
      {1, "Version", "Product", "Output", "Service", "str", i.version},
      {2, "Release_date", "Product", "Output", "Service", "str", i.releaseDate},
      {3, "Nbthread", "Config", "Gauge", "Service", "u32", n(i.nbthread)},
      {4, "Nbproc", "Config", "Gauge", "Service", "u32", "1"},
      {5, "Process_num", "Key", "Gauge", "Process", "u32", "1"},
      {6, "Pid", "Status", "Gauge", "Process", "u32", n(i.pid)},
      {7, "Uptime", "Metric", "Duration", "Process", "str", uptimeText(i.uptimeSec)},
      {8, "Uptime_sec", "Metric", "Duration", "Process", "u32", n(i.uptimeSec)},
      {9, "Memmax_MB", "Config", "Limit", "Process", "u32", "0"},
      {10, "PoolAlloc_MB", "Metric", "Gauge", "Process", "u32", n(i.poolAllocBytes / mb)},
      {11, "PoolUsed_MB", "Metric", "Gauge", "Process", "u32", n(i.poolUsedBytes / mb)},
      {12, "PoolFailed", "Metric", "Counter", "Process", "u32", "0"},
      {13, "Ulimit-n", "Config", "Limit", "Process", "u32", n(i.ulimitN)},
      {14, "Maxsock", "Config", "Limit", "Process", "u32", n(i.maxsock)},
      {15, "Maxconn", "Config", "Limit", "Process", "u32", n(i.maxconn)},
      {16, "Hard_maxconn", "Config", "Limit", "Process", "u32", n(i.hardMaxconn)},
      {17, "CurrConns", "Metric", "Gauge", "Process", "u32", n(i.currConns)},
      {18, "CumConns", "Metric", "Counter", "Process", "u32", n(i.cumConns)},
      {19, "CumReq", "Metric", "Counter", "Process", "u32", n(i.cumReq)},
      {20, "MaxSslConns", "Metric", "Max", "Process", "u32", "0"},
      {21, "CurrSslConns", "Metric", "Gauge", "Process", "u32", "0"},
      {22, "CumSslConns", "Metric", "Counter", "Process", "u32", "0"},
      {23, "Maxpipes", "Config", "Limit", "Process", "u32", "0"},
      {24, "PipesUsed", "Metric", "Gauge", "Process", "u32", "0"},
      {25, "PipesFree", "Metric", "Gauge", "Process", "u32", "0"},
      {26, "ConnRate", "Metric", "Rate", "Process", "u32", n(i.connRate)},
      {27, "ConnRateLimit", "Config", "Limit", "Process", "u32", "0"},
      {28, "MaxConnRate", "Metric", "Max", "Process", "u32", n(i.maxConnRate)},
      {29, "SessRate", "Metric", "Rate", "Process", "u32", n(i.sessRate)},
      {30, "SessRateLimit", "Config", "Limit", "Process", "u32", "0"},
      {31, "MaxSessRate", "Metric", "Rate", "Process", "u32", n(i.maxSessRate)},
      {32, "SslRate", "Metric", "Rate", "Process", "u32", "0"},
      {33, "SslRateLimit", "Config", "Limit", "Process", "u32", "0"},
      {34, "MaxSslRate", "Metric", "Max", "Process", "u32", "0"},
      {35, "SslFrontendKeyRate", "Metric", "Gauge", "Process", "u32", "0"},
      {36, "SslFrontendMaxKeyRate", "Metric", "Max", "Process", "u32", "0"},
      {37, "SslFrontendSessionReuse_pct", "Metric", "Gauge", "Process", "u32", "0"},
      {38, "SslBackendKeyRate", "Metric", "Rate", "Process", "u32", "0"},
      {39, "SslBackendMaxKeyRate", "Metric", "Max", "Process", "u32", "0"},
      {40, "SslCacheLookups", "Metric", "Counter", "Process", "u32", "0"},
      {41, "SslCacheMisses", "Metric", "Counter", "Process", "u32", "0"},
      {42, "CompressBpsIn", "Metric", "Rate", "Process", "u32", "0"},
      {43, "CompressBpsOut", "Metric", "Rate", "Process", "u32", "0"},
      {44, "CompressBpsRateLim", "Config", "Limit", "Process", "u32", "0"},
      {47, "Tasks", "Metric", "Gauge", "Process", "u32", n(i.tasks)},
      {48, "Run_queue", "Metric", "Gauge", "Process", "u32", n(i.runQueue)},
      {49, "Idle_pct", "Metric", "Avg", "Process", "u32", n(i.idlePct)},
      {50, "node", "Config", "Output", "Service", "str", i.node},
  };
  if (!i.description.empty())
    f.push_back({51, "description", "Config", "Output", "Service", "str", i.description});
  std::vector<InfoField> rest = {
      {52, "Stopping", "Metric", "Gauge", "Process", "u32", i.stopping ? "1" : "0"},
      {53, "Jobs", "Metric", "Gauge", "Process", "u32", n(i.jobs)},
      {54, "Unstoppable Jobs", "Metric", "Gauge", "Process", "u32", "0"},
      {55, "Listeners", "Metric", "Gauge", "Process", "u32", n(i.listeners)},
      {56, "ActivePeers", "Metric", "Gauge", "Process", "u32", "0"},
      {57, "ConnectedPeers", "Metric", "Gauge", "Process", "u32", "0"},
      {58, "DroppedLogs", "Metric", "Gauge", "Process", "u32", n(i.droppedLogs)},
      {59, "BusyPolling", "Metric", "Gauge", "Process", "u32", "0"},
      {60, "FailedResolutions", "Metric", "Gauge", "Process", "u32", "0"},
      {61, "TotalBytesOut", "Metric", "Gauge", "Process", "u64", n(i.totalBytesOut)},
      {62, "TotalSplicdedBytesOut", "Metric", "Gauge", "Process", "u64", "0"},
      {63, "BytesOutRate", "Metric", "Rate", "Process", "u64", n(i.bytesOutRate)},
      {64, "DebugCommandsIssued", "Metric", "Gauge", "Process", "u32", "0"},
      {65, "CumRecvLogs", "Metric", "Counter", "Process", "u32", "0"},
      {66, "Build info", "Product", "Output", "Service", "str", i.version},
      {67, "Memmax_bytes", "Config", "Limit", "Process", "u32", "0"},
      {68, "PoolAlloc_bytes", "Metric", "Gauge", "Process", "u64", n(i.poolAllocBytes)},
      {69, "PoolUsed_bytes", "Metric", "Gauge", "Process", "u64", n(i.poolUsedBytes)},
      {70, "Start_time_sec", "Metric", "Duration", "Process", "u32", n(i.startTimeSec)},
      {71, "Tainted", "Status", "Gauge", "Process", "str", "0"},
  };
  f.insert(f.end(), rest.begin(), rest.end());
  return f;
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

} // namespace

std::string formatInfo(const InfoView& info) {
  std::string out;
  for (const auto& f : infoFields(info)) out += std::string(f.name) + ": " + f.value + "\n";
  for (const auto& v : info.vrrp)
    out += "Vrrp_" + v.instance + ": " + v.state + " " + std::to_string(v.priority) + "\n";
  return out;
}

std::string formatInfoJson(const InfoView& info) {
  std::vector<InfoField> fields = infoFields(info);
  int pos = 72;
  for (const auto& v : info.vrrp)
    fields.push_back({pos++, nullptr, "Status", "Output", "Process", "str",
                      v.state + " " + std::to_string(v.priority)});
  std::string out = "[";
  size_t vrrpIndex = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    const auto& f = fields[i];
    std::string name = f.name ? f.name : "Vrrp_" + info.vrrp[vrrpIndex++].instance;
    if (i) out += ',';
    out += "{\"field\":{\"pos\":" + std::to_string(f.pos) + ",\"name\":" + jsonString(name) +
           "},\"processNum\":1,\"tags\":{\"origin\":\"" + f.origin + "\",\"nature\":\"" +
           f.nature + "\",\"scope\":\"" + f.scope + "\"},\"value\":{\"type\":\"" + f.type +
           "\",\"value\":" + (std::string(f.type) == "str" ? jsonString(f.value) : f.value) +
           "}}";
  }
  return out + "]\n";
}

// ---------------------------------------------------------------------------
// watch health

std::optional<HealthSummary> summarizeHealth(const std::vector<ProxyView>& proxies,
                                             const std::string& backend) {
  HealthSummary h;
  h.backend = backend;
  bool found = false;
  for (const auto& p : proxies) {
    if (!p.backend) continue;
    int up = 0;
    for (const auto& s : p.servers) up += serverUsable(s);
    if (backend.empty()) {
      ++h.backends;
      h.backendsDown += up == 0;
      continue;
    }
    if (p.name != backend) continue;
    found = true;
    for (const auto& s : p.servers) {
      (s.backup ? h.backupTotal : h.activeTotal)++;
      if (serverUsable(s)) (s.backup ? h.backupUp : h.activeUp)++;
    }
    h.ok = up > 0;
    break;
  }
  if (!backend.empty() && !found) return std::nullopt;
  return h;
}

std::string formatHealthLine(const HealthSummary& h, HealthEvent e) {
  static const char* const events[] = {"initial", "change", "heartbeat"};
  std::string out = h.ok ? "health ok" : "health fail";
  if (h.backend.empty()) {
    out += " backends=" + std::to_string(h.backends) + " down=" + std::to_string(h.backendsDown);
  } else {
    out += " backend=" + h.backend + " active=" + std::to_string(h.activeUp) + "/" +
           std::to_string(h.activeTotal) + " backup=" + std::to_string(h.backupUp) + "/" +
           std::to_string(h.backupTotal);
  }
  return out + " event=" + events[static_cast<int>(e)] + "\n";
}

// ---------------------------------------------------------------------------
// Parsing and help

std::vector<std::vector<std::string>> splitCommands(std::string_view line) {
  std::vector<std::vector<std::string>> cmds(1);
  std::string word;
  bool inWord = false;
  auto endWord = [&] {
    if (inWord) cmds.back().push_back(word);
    word.clear();
    inWord = false;
  };
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\') { // a trailing lone backslash is dropped, as HAProxy does
      if (i + 1 < line.size()) word += line[++i];
      inWord = true;
    } else if (c == ';') {
      endWord();
      cmds.emplace_back();
    } else if (c == ' ' || c == '\t') {
      endWord();
    } else {
      word += c;
      inWord = true;
    }
  }
  endWord();
  return cmds;
}

size_t findLineEnd(std::string_view buf) {
  size_t backslashes = 0;
  for (size_t i = 0; i < buf.size(); ++i) {
    if (buf[i] == '\n' && backslashes % 2 == 0) return i;
    backslashes = buf[i] == '\\' ? backslashes + 1 : 0;
  }
  return std::string_view::npos;
}

std::string socketTempName(std::string_view path, long pid, size_t maxLen) {
  std::string suffix = "." + std::to_string(pid) + ".tmp";
  std::string name = std::string(path) + suffix;
  if (name.size() < maxLen) return name;
  size_t slash = path.rfind('/');
  name =
      (slash == std::string_view::npos ? std::string() : std::string(path.substr(0, slash + 1))) +
      suffix;
  return name.size() < maxLen ? name : std::string();
}

std::string recordVrrp(std::vector<VrrpView>& table, const VrrpView& v) {
  for (auto& x : table) {
    if (x.instance == v.instance) {
      x = v;
      return "";
    }
  }
  if (table.size() >= kMaxVrrpInstances)
    return "Too many VRRP instances (at most " + std::to_string(kMaxVrrpInstances) + ").\n";
  table.push_back(v);
  return "";
}

namespace {

struct HelpEntry {
  const char* usage;
  const char* desc;
};

// Our commands with HAProxy 2.6's usage texts, sorted as HAProxy lists them.
const HelpEntry kHelp[] = {
    {"clear counters [all]", "clear max statistics counters (or all counters)"},
    {"disable server (DEPRECATED)",
     "disable a server for maintenance (use 'set server' instead)"},
    {"enable server  (DEPRECATED)", "enable a disabled server (use 'set server' instead)"},
    {"get weight <bk>/<srv>", "report a server's current weight"},
    {"operator", "lower the level of the current CLI session to operator"},
    {"set maxconn frontend <frontend> <value>", "change a frontend's maxconn setting"},
    {"set maxconn global <value>", "change the per-process maxconn setting"},
    {"set maxconn server <bk>/<srv>", "change a server's maxconn setting"},
    {"set server <bk>/<srv> [opts]", "change a server's state, weight, address or ssl"},
    {"set timeout cli <delay>", "change a timeout setting"},
    {"set vrrp <inst> <state> <prio>", "record a VRRP instance's state (from vrrpd)"},
    {"set weight <bk>/<srv>  (DEPRECATED)",
     "change a server's weight (use 'set server' instead)"},
    {"show backend", "list backends in the current running config"},
    {"show cli level", "display the level of the current CLI session"},
    {"show info [desc|json|typed|float]*", "report information about the running process"},
    {"show servers state [<backend>]",
     "dump volatile server information (all or for a single backend)"},
    {"show stat [desc|json|no-maint|typed|up]*", "report counters for each proxy and server"},
    {"shutdown sessions server <bk>/<srv>", "kill sessions on a server"},
    {"user", "lower the level of the current CLI session to user"},
    {"watch health [backend <bk>] [heartbeat <ms>]",
     "stream health lines: at once, on change, every heartbeat"},
};
const HelpEntry kHelpTrailer[] = {
    {"help [<command>]", "list matching or all commands"},
    {"prompt", "toggle interactive mode with prompt"},
    {"quit", "disconnect"},
};

std::string helpLine(const HelpEntry& e) {
  std::string u = e.usage;
  if (u.size() < 40) u.resize(40, ' ');
  return "  " + u + ": " + e.desc + "\n";
}

// The leading literal words of a usage text ("set", "maxconn", "server").
std::vector<std::string> keywords(const char* usage) {
  std::vector<std::string> out;
  auto cmds = splitCommands(usage);
  for (const auto& w : cmds[0]) {
    if (w[0] == '<' || w[0] == '[' || w[0] == '(') break;
    out.push_back(w);
  }
  return out;
}

size_t matchedWords(const HelpEntry& e, const std::vector<std::string>& args) {
  auto kw = keywords(e.usage);
  size_t n = 0;
  while (n < kw.size() && n < args.size() && kw[n] == args[n]) ++n;
  return n;
}

std::string listing(const char* title, const std::vector<std::string>& args, size_t atLeast) {
  std::string out = title;
  for (const auto& e : kHelp)
    if (atLeast == 0 || matchedWords(e, args) >= atLeast) out += helpLine(e);
  for (const auto& e : kHelpTrailer) out += helpLine(e);
  return out;
}

size_t bestMatch(const std::vector<std::string>& args) {
  size_t best = 0;
  for (const auto& e : kHelp) best = std::max(best, matchedWords(e, args));
  return best;
}

std::string unknownCommand(const std::vector<std::string>& args) {
  size_t best = bestMatch(args);
  if (best == 0)
    return listing("Unknown command. Please enter one of the following commands only:\n", args,
                   0);
  return listing("Unknown command, but maybe one of the following ones is a better match:\n",
                 args, best);
}

} // namespace

std::string helpText(const std::vector<std::string>& filter) {
  return listing("The following commands are valid at this level:\n", filter,
                 filter.empty() ? 0 : bestMatch(filter));
}

// ---------------------------------------------------------------------------
// Commands

namespace {

const char* const kDenied = "Permission denied\n";
const char* const kRequireBs = "Require 'backend/server'.\n";

bool is(const std::vector<std::string>& a, std::initializer_list<const char*> words) {
  if (a.size() < words.size()) return false;
  size_t i = 0;
  for (const char* w : words)
    if (a[i++] != w) return false;
  return true;
}

// "name" or "#id".
template <class T> bool nameMatches(const T& obj, const std::string& ref) {
  if (!ref.empty() && ref[0] == '#') return std::to_string(obj.id) == ref.substr(1);
  return obj.name == ref;
}

const ProxyView* findBackend(const std::vector<ProxyView>& px, const std::string& ref) {
  for (const auto& p : px)
    if (p.backend && nameMatches(p, ref)) return &p;
  return nullptr;
}

const ProxyView* findFrontend(const std::vector<ProxyView>& px, const std::string& ref) {
  for (const auto& p : px)
    if (p.frontend && nameMatches(p, ref)) return &p;
  return nullptr;
}

struct ServerRef {
  const ProxyView* backend = nullptr;
  const ServerView* server = nullptr;
  std::string error;
};

// Resolves "backend/server" as HAProxy's get_backend_server() callers do.
ServerRef resolveServer(const std::vector<ProxyView>& px, const std::string& arg) {
  ServerRef r;
  size_t slash = arg.find('/');
  if (slash == std::string::npos) {
    r.error = kRequireBs;
    return r;
  }
  r.backend = findBackend(px, arg.substr(0, slash));
  if (!r.backend) {
    r.error = "No such backend.\n";
    return r;
  }
  std::string sv = arg.substr(slash + 1);
  for (const auto& s : r.backend->servers)
    if (nameMatches(s, sv)) r.server = &s;
  if (!r.server) r.error = "No such server.\n";
  return r;
}

const std::string& argAt(const std::vector<std::string>& a, size_t i) {
  static const std::string empty;
  return i < a.size() ? a[i] : empty;
}

// strtol-like: sign and digits; `rest` is what follows. False: no digits.
bool leadingInt(const std::string& s, long& v, std::string& rest) {
  const char* b = s.c_str();
  char* end = nullptr;
  v = std::strtol(b, &end, 10);
  if (end == b) return false;
  rest = end;
  return true;
}

// `set server B/S weight W[%]`: the absolute weight or HAProxy's error text.
std::string parseWeight(const std::string& text, const ProxyView& be, const ServerView& s,
                        int& weight) {
  long w = 0;
  std::string rest;
  if (!leadingInt(text, w, rest)) return "Empty weight string empty or preceded by garbage";
  if (rest == "%") {
    if (w < 0) return "Relative weight must be positive.\n";
    w = std::min(w, 25600L);
    w = std::min(s.initialWeight * w / 100, 256L);
  } else if (w < 0 || w > 256) {
    return "Absolute weight can only be between 0 and 256 inclusive.\n";
  } else if (!rest.empty()) {
    return "Trailing garbage in weight string";
  }
  if (w && w != s.initialWeight && !be.dynamicWeights)
    return "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n";
  weight = static_cast<int>(w);
  return {};
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

} // namespace

LineResult CliSession::handleLine(std::string_view line, bool moreInput) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  LineResult r;
  for (const auto& args : splitCommands(line)) {
    std::string out;
    Flow f = runCommand(args, out, r.watch);
    if (f == Flow::Quit) {
      r.close = true;
      return r;
    }
    r.output += out;
    if (timeoutMs_) r.timeoutMs = std::exchange(timeoutMs_, std::nullopt);
    if (f == Flow::Watch) return r;
    r.output += "\n";
    if (interactive_) r.output += "> ";
  }
  if (!interactive_ && !moreInput) r.close = true;
  return r;
}

CliSession::Flow CliSession::runCommand(const std::vector<std::string>& a, std::string& out,
                                        std::optional<WatchRequest>& watch) {
  auto need = [&](Level l) {
    if (level_ >= l) return true;
    out = kDenied;
    return false;
  };
  if (a.empty()) {
    out = unknownCommand(a);
    return Flow::Continue;
  }
  if (is(a, {"quit"})) return Flow::Quit;
  if (is(a, {"help"})) {
    out = helpText({a.begin() + 1, a.end()});
  } else if (is(a, {"prompt"})) {
    interactive_ = !interactive_;
  } else if (is(a, {"user"})) {
    level_ = Level::User;
  } else if (is(a, {"operator"})) {
    if (need(Level::Operator)) level_ = Level::Operator;
  } else if (is(a, {"show", "cli", "level"})) {
    out = std::string(levelName(level_)) + "\n";
  } else if (is(a, {"show", "info"})) {
    bool json = std::find(a.begin() + 2, a.end(), "json") != a.end();
    out = json ? formatInfoJson(ctl_.info()) : formatInfo(ctl_.info());
  } else if (is(a, {"show", "stat"})) {
    StatFilter f;
    size_t i = 2;
    auto keyword = [](const std::string& w) {
      return w == "up" || w == "no-maint" || w == "json" || w == "typed" || w == "desc";
    };
    // {<iid>|<proxy>} <type> <sid>: only as a complete triple (HAProxy
    // ignores fewer words and shows everything).
    if (a.size() >= 5 && !keyword(a[2])) {
      auto num = [](const std::string& w, int& v) {
        char* end = nullptr;
        long x = std::strtol(w.c_str(), &end, 10);
        if (w.empty() || *end || x < -1 || x > 1000000) return false;
        v = static_cast<int>(x);
        return true;
      };
      if (!num(a[2], f.iid)) {
        f.iid = -1;
        f.proxy = a[2];
        bool found = false;
        for (const auto& p : ctl_.proxies()) found = found || p.name == f.proxy;
        if (!found) {
          out = "No such proxy.\n";
          return Flow::Continue;
        }
      }
      if (!num(a[3], f.type) || !num(a[4], f.sid)) {
        out = "Require 'up' and 'no-maint' flags or three numeric arguments.\n";
        return Flow::Continue;
      }
      i = 5;
    }
    for (; i < a.size(); ++i) {
      if (a[i] == "up") f.up = true;
      else if (a[i] == "no-maint") f.noMaint = true;
      else if (a[i] == "json" || a[i] == "typed") {
        out = "proxyd supports only the CSV form of 'show stat'.\n";
        return Flow::Continue;
      }
    }
    out = formatStatCsv(ctl_.proxies(), f);
  } else if (is(a, {"show", "backend"})) {
    out = "# name\n";
    for (const auto& p : ctl_.proxies())
      if (p.backend) out += p.name + "\n";
  } else if (is(a, {"show", "servers", "state"})) {
    auto px = ctl_.proxies();
    const ProxyView* only = nullptr;
    if (a.size() > 3) {
      only = findBackend(px, a[3]);
      if (!only) {
        out = "Can't find backend.\n";
        return Flow::Continue;
      }
    }
    out = formatServersState(px, only);
  } else if (is(a, {"set", "timeout"})) {
    // HAProxy 2.6: only `cli`, this session's idle timeout (seconds by
    // default, units allowed; hatop sends it).
    if (argAt(a, 2) != "cli") {
      out = "'set timeout' only supports 'cli'.\n";
    } else if (argAt(a, 3).empty()) {
      out = "Expects an integer value.\n";
    } else {
      auto d = common::parseDuration(argAt(a, 3), std::chrono::seconds(1));
      if (!d || d->count() <= 0) out = "Invalid timeout value.\n";
      else timeoutMs_ = std::chrono::duration_cast<std::chrono::milliseconds>(*d).count();
    }
  } else if (is(a, {"get", "weight"})) {
    auto px = ctl_.proxies();
    ServerRef r = resolveServer(px, argAt(a, 2));
    if (!r.error.empty()) out = r.error;
    else
      out = std::to_string(r.server->weight) + " (initial " +
            std::to_string(r.server->initialWeight) + ")\n";
  } else if (is(a, {"set", "weight"}) || is(a, {"set", "server"})) {
    if (!need(Level::Admin)) return Flow::Continue;
    auto px = ctl_.proxies();
    ServerRef r = resolveServer(px, argAt(a, 2));
    if (!r.error.empty()) {
      out = r.error;
      return Flow::Continue;
    }
    const std::string& be = r.backend->name;
    const std::string& sv = r.server->name;
    std::string what = a[1] == "weight" ? "weight" : argAt(a, 3);
    size_t valueAt = a[1] == "weight" ? 3 : 4;
    if (what == "weight") {
      if (argAt(a, valueAt).empty()) {
        out = "Require <weight> or <weight%>.\n";
        return Flow::Continue;
      }
      int w = 0;
      out = parseWeight(a[valueAt], *r.backend, *r.server, w);
      if (out.empty()) out = ctl_.setServerWeight(be, sv, w);
    } else if (what == "state") {
      const std::string& st = argAt(a, 4);
      if (st == "ready") out = ctl_.setServerState(be, sv, AdminState::Ready);
      else if (st == "drain") out = ctl_.setServerState(be, sv, AdminState::Drain);
      else if (st == "maint") out = ctl_.setServerState(be, sv, AdminState::Maint);
      else out = "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n";
    } else if (what == "addr" || what == "agent" || what == "agent-addr" ||
               what == "agent-port" || what == "agent-send" || what == "check-addr" ||
               what == "check-port" || what == "fqdn" || what == "health" || what == "ssl") {
      out = "'set server <srv> " + what + "' is not supported by proxyd.\n";
    } else {
      out = "usage: set server <backend>/<server> addr | agent | agent-addr | agent-port | "
            "agent-send | check-addr | check-port | fqdn | health | ssl | state | weight\n";
    }
  } else if (is(a, {"enable", "server"}) || is(a, {"disable", "server"})) {
    if (!need(Level::Admin)) return Flow::Continue;
    auto px = ctl_.proxies();
    ServerRef r = resolveServer(px, argAt(a, 2));
    if (!r.error.empty()) out = r.error;
    else
      out = ctl_.setServerState(r.backend->name, r.server->name,
                                a[0] == "enable" ? AdminState::Ready : AdminState::Maint);
  } else if (is(a, {"set", "maxconn", "server"})) {
    if (!need(Level::Admin)) return Flow::Continue;
    auto px = ctl_.proxies();
    ServerRef r = resolveServer(px, argAt(a, 3));
    long v = 0;
    std::string rest;
    if (!r.error.empty()) out = r.error;
    else if (argAt(a, 4).empty()) out = "Require <maxconn>.\n";
    else if (!leadingInt(a[4], v, rest)) out = "maxconn string empty or preceded by garbage";
    else if (!rest.empty()) out = "Trailing garbage in maxconn string";
    else out = ctl_.setServerMaxconn(r.backend->name, r.server->name, static_cast<int>(std::max(0L, v)));
  } else if (is(a, {"set", "maxconn", "frontend"})) {
    if (!need(Level::Admin)) return Flow::Continue;
    auto px = ctl_.proxies();
    const ProxyView* fe = nullptr;
    if (argAt(a, 3).empty()) out = "A frontend name is expected.\n";
    else if (!(fe = findFrontend(px, a[3]))) out = "No such frontend.\n";
    else if (argAt(a, 4).empty()) out = "Integer value expected.\n";
    else if (std::atoi(a[4].c_str()) < 0) out = "Value out of range.\n";
    else out = ctl_.setFrontendMaxconn(fe->name, std::atoi(a[4].c_str()));
  } else if (is(a, {"set", "maxconn", "global"})) {
    if (!need(Level::Admin)) return Flow::Continue;
    long hard = ctl_.info().hardMaxconn;
    long v = std::atol(argAt(a, 3).c_str());
    if (argAt(a, 3).empty()) out = "Expects an integer value.\n";
    else if (v > hard) out = "Value out of range.\n";
    else out = ctl_.setGlobalMaxconn(static_cast<int>(v > 0 ? v : hard));
  } else if (is(a, {"shutdown", "sessions", "server"})) {
    if (!need(Level::Admin)) return Flow::Continue;
    auto px = ctl_.proxies();
    ServerRef r = resolveServer(px, argAt(a, 3));
    out = r.error.empty() ? ctl_.shutdownServerSessions(r.backend->name, r.server->name) : r.error;
  } else if (is(a, {"clear", "counters"})) {
    bool all = argAt(a, 2) == "all";
    if (!need(all ? Level::Admin : Level::Operator)) return Flow::Continue;
    ctl_.clearCounters(all);
  } else if (is(a, {"set", "vrrp"})) {
    if (!need(Level::Operator)) return Flow::Continue;
    VrrpView v;
    v.instance = argAt(a, 2);
    v.state = upper(argAt(a, 3));
    long prio = -1;
    std::string rest;
    bool prioOk = leadingInt(argAt(a, 4), prio, rest) && rest.empty() && prio >= 0 && prio <= 255;
    if (v.instance.empty() || a.size() < 5)
      out = "Require 'set vrrp <inst> <state> <prio>'.\n";
    else if (v.instance.size() > kMaxVrrpName)
      out = "Instance name too long (at most " + std::to_string(kMaxVrrpName) + " bytes).\n";
    else if (std::any_of(v.instance.begin(), v.instance.end(), [](char ch) {
               auto u = static_cast<unsigned char>(ch);
               return u < 0x20 || u == 0x7f;
             }))
      out = "Instance name must not contain control characters.\n";
    else if (v.state != "MASTER" && v.state != "BACKUP" && v.state != "FAULT" &&
             v.state != "INIT" && v.state != "STOP")
      out = "State must be one of MASTER, BACKUP, FAULT, INIT, STOP.\n";
    else if (!prioOk) out = "Priority must be an integer between 0 and 255.\n";
    else {
      v.priority = static_cast<int>(prio);
      out = ctl_.setVrrp(v);
    }
  } else if (is(a, {"watch", "health"})) {
    WatchRequest w;
    for (size_t i = 2; i < a.size(); i += 2) {
      long ms = 0;
      std::string rest;
      if (a[i] == "backend" && i + 1 < a.size()) {
        w.backend = a[i + 1];
      } else if (a[i] == "heartbeat" && i + 1 < a.size() && leadingInt(a[i + 1], ms, rest) &&
                 (rest.empty() || rest == "ms")) {
        if (ms < 10 || ms > 3600000) {
          out = "Heartbeat must be between 10 and 3600000 ms.\n";
          return Flow::Continue;
        }
        w.heartbeatMs = ms;
      } else {
        out = "Usage: watch health [backend <bk>] [heartbeat <ms>]\n";
        return Flow::Continue;
      }
    }
    auto h = summarizeHealth(ctl_.proxies(), w.backend);
    if (!h) {
      out = "No such backend.\n";
      return Flow::Continue;
    }
    out = formatHealthLine(*h, HealthEvent::Initial);
    watch = w;
    return Flow::Watch;
  } else {
    out = unknownCommand(a);
  }
  return Flow::Continue;
}

} // namespace proxyd::runtime
