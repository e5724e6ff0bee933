// The runtime API's pure core: command outputs from a fixed snapshot,
// compared byte for byte with what HAProxy 2.6 printed for the same
// configuration (tests/integration/test_admin_socket.py's reference config).
#include "proxyd/runtime.h"
#include "tests/unit/proxyd/runtime_fake.h"

#include <catch2/catch.hpp>

using namespace proxyd::runtime;
using proxyd::runtime::testing::FakeControl;

namespace {

// HAProxy 2.6.12's `show stat` header, captured from haproxy itself.
const char* const kHaproxyHeader =
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

// Its rows for the reference configuration, 7 s after start (no traffic).
const char* const kHaproxyRows =
    "fe,FRONTEND,,,0,0,1000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,0,,,,,,,,,,,0,0,0,,,"
    "0,0,0,0,,,,,,,,,,,,,,,,,,,,,tcp,,0,0,0,,0,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n"
    "app,web1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1,1,0,1,1,7,7,,1,3,1,,0,,2,0,,0,L4CON,,0,,,,,,,"
    ",,,,0,0,,,,,-1,Connection refused,,0,0,0,0,,,,Layer4 connection problem,,2,3,0,,,,"
    "127.0.0.1:19101,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,1,1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,"
    ",,,\n"
    "app,web2,0,0,0,0,10,0,0,0,,0,,0,0,0,0,no check,3,1,0,,,7,,,1,3,2,,0,,2,0,,0,,,,,,,,,,,,,"
    ",0,0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:19102,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,"
    "0,3,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
    "app,web3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,0,1,,,7,,,1,3,3,,0,,2,0,,0,,,,,,,,,,,,,,0,0,"
    ",,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:19103,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,1,,"
    ",,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
    "app,BACKEND,0,0,0,0,100,0,0,0,0,0,,0,0,0,0,UP,3,1,0,,0,7,0,,1,3,0,,0,,1,0,,0,,,,,,,,,,,,"
    ",,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,3,"
    "0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n"
    "lst,FRONTEND,,,0,0,1000,0,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,4,0,,,,0,0,0,0,,,,,,,,,,,0,0,0,,,"
    "0,0,0,0,,,,,,,,,,,,,,,,,,,,,tcp,,0,0,0,,0,0,0,,,,,,,,,,,0,,,,,,,,,-,0,0,0,0,0,0,0,0,0,0,"
    "0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n"
    "lst,s1,0,0,0,0,,0,0,0,,0,,0,0,0,0,no check,1,1,0,,,7,,,1,4,1,,0,,2,0,,0,,,,,,,,,,,,,,0,"
    "0,,,,,-1,,,0,0,0,0,,,,,,,,,,,,127.0.0.1:19201,,tcp,,,,,,,,0,0,0,,,0,,0,0,0,0,0,0,0,0,0,"
    "1,,,,-,0,0,0,,,,,,,,,,,,,,,,,,,,,,\n"
    "lst,BACKEND,0,0,0,0,100,0,0,0,0,0,,0,0,0,0,UP,1,1,0,,0,7,0,,1,4,0,,0,,1,0,,0,,,,,,,,,,,,"
    ",,0,0,0,0,0,0,-1,,,0,0,0,0,,,,,,,,,,,,,,tcp,roundrobin,,,,,,,0,0,0,,,,,0,0,0,0,0,,,,,1,"
    "0,0,0,-,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,\n";

// Runs one line in a fresh one-shot session at `level`.
std::string run(FakeControl& ctl, const std::string& line, Level level = Level::Admin) {
  CliSession s(ctl, level);
  LineResult r = s.handleLine(line);
  CHECK(r.close);
  return r.output;
}

} // namespace

TEST_CASE("show stat header is HAProxy 2.6's byte for byte", "[runtime]") {
  CHECK(std::string(kStatCsvHeader) == kHaproxyHeader);
}

TEST_CASE("show stat rows match HAProxy 2.6 for the reference snapshot", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "show stat") == std::string(kHaproxyHeader) + kHaproxyRows + "\n");
}

TEST_CASE("show stat filters up and no-maint", "[runtime]") {
  FakeControl ctl;
  std::string up = formatStatCsv(ctl.px, {.up = true});
  CHECK(up.find("app,web1,") == std::string::npos);
  CHECK(up.find("app,web3,") == std::string::npos);
  CHECK(up.find("app,web2,") != std::string::npos);
  std::string nm = formatStatCsv(ctl.px, {.noMaint = true});
  CHECK(nm.find("app,web1,") != std::string::npos);
  CHECK(nm.find("app,web3,") == std::string::npos);
  CHECK(run(ctl, "show stat json") == "proxyd supports only the CSV form of 'show stat'.\n\n");
}

// Row names (pxname,svname) of a show stat answer.
std::string rows(const std::string& csv) {
  std::string out;
  size_t pos = csv.find('\n') + 1; // past the header
  while (pos < csv.size() && csv[pos] != '\n') {
    size_t eol = csv.find('\n', pos);
    size_t c1 = csv.find(',', pos);
    size_t c2 = csv.find(',', c1 + 1);
    out += csv.substr(pos, c2 - pos) + " ";
    pos = eol + 1;
  }
  return out;
}

TEST_CASE("show stat takes HAProxy's iid/proxy, type mask and server id filter", "[runtime]") {
  FakeControl ctl;
  // As haproxy 2.6 answers the same commands (checked side by side).
  CHECK(rows(run(ctl, "show stat 3 4 -1")) == "app,web1 app,web2 app,web3 ");
  CHECK(rows(run(ctl, "show stat app 2 -1")) == "app,BACKEND ");
  CHECK(rows(run(ctl, "show stat -1 1 -1")) == "fe,FRONTEND lst,FRONTEND ");
  CHECK(rows(run(ctl, "show stat 3 -1 2")) == "app,web2 app,BACKEND ");
  CHECK(rows(run(ctl, "show stat 3 4 -1 up")) == "app,web2 ");
  CHECK(run(ctl, "show stat nosuch 1 -1") == "No such proxy.\n\n");
  CHECK(run(ctl, "show stat 3 x -1") ==
        "Require 'up' and 'no-maint' flags or three numeric arguments.\n\n");
  // Fewer than three words: ignored, everything is shown (haproxy too).
  CHECK(run(ctl, "show stat 2") == run(ctl, "show stat"));
}

TEST_CASE("set timeout cli answers as HAProxy 2.6 and hands the timeout to the server",
          "[runtime]") {
  FakeControl ctl;
  CliSession s(ctl, Level::User);
  auto r = s.handleLine("set timeout cli 5");
  CHECK(r.output == "\n");
  CHECK(r.timeoutMs == 5000); // bare number: seconds
  CHECK(s.handleLine("set timeout cli 250ms").timeoutMs == 250);
  CHECK_FALSE(s.handleLine("show cli level").timeoutMs); // handed out once
  CHECK(s.handleLine("set timeout cli").output == "Expects an integer value.\n\n");
  CHECK(s.handleLine("set timeout cli abc").output == "Invalid timeout value.\n\n");
  CHECK(s.handleLine("set timeout cli 0").output == "Invalid timeout value.\n\n");
  CHECK(s.handleLine("set timeout foo 3").output == "'set timeout' only supports 'cli'.\n\n");
}

TEST_CASE("server status texts follow HAProxy's health and admin states", "[runtime]") {
  ServerView s;
  CHECK(serverStatusText(s) == "no check");
  s.check.enabled = true;
  s.check.rise = 2;
  s.check.fall = 3;
  s.check.health = 4;
  CHECK(serverStatusText(s) == "UP");
  s.check.health = 2;
  CHECK(serverStatusText(s) == "UP 1/3");
  s.admin = AdminState::Drain;
  CHECK(serverStatusText(s) == "DRAIN 1/3");
  s.check.health = 4;
  CHECK(serverStatusText(s) == "DRAIN");
  s.admin = AdminState::Maint;
  CHECK(serverStatusText(s) == "MAINT");
  s.admin = AdminState::Ready;
  s.running = false;
  s.check.health = 1;
  CHECK(serverStatusText(s) == "DOWN 1/2");
  s.check.health = 0;
  CHECK(serverStatusText(s) == "DOWN");
}

TEST_CASE("CSV fields with a comma or a quote are quoted", "[runtime]") {
  FakeControl ctl;
  ctl.px[1].servers[0].check.info = "a,\"b\"";
  CHECK(formatStatCsv(ctl.px).find(",-1,\"a,\"\"b\"\"\",,") != std::string::npos);
}

TEST_CASE("show servers state matches HAProxy 2.6", "[runtime]") {
  FakeControl ctl;
  const std::string head =
      "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight "
      "srv_iweight srv_time_since_last_change srv_check_status srv_check_result "
      "srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id "
      "srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr "
      "srv_agent_port\n";
  CHECK(run(ctl, "show servers state") ==
        head + "3 app 1 web1 127.0.0.1 0 0 1 1 7 8 2 0 6 0 0 0 - 19101 - 0 0 - - 0\n"
               "3 app 2 web2 127.0.0.1 2 0 3 3 7 1 0 2 0 0 0 0 - 19102 - 0 0 - - 0\n"
               "3 app 3 web3 127.0.0.1 0 5 1 1 7 1 0 0 8 0 0 0 - 19103 - 0 0 - - 0\n"
               "4 lst 1 s1 127.0.0.1 2 0 1 1 7 1 0 2 0 0 0 0 - 19201 - 0 0 - - 0\n\n");
  CHECK(run(ctl, "show servers state lst") ==
        head + "4 lst 1 s1 127.0.0.1 2 0 1 1 7 1 0 2 0 0 0 0 - 19201 - 0 0 - - 0\n\n");
  CHECK(run(ctl, "show servers state nope") == "Can't find backend.\n\n");
  CHECK(run(ctl, "show servers state fe") == "Can't find backend.\n\n");
  // Drain, CLI maintenance, a check address and port (HAProxy repeats them
  // in the agent columns).
  ServerView& w2 = ctl.server("app", "web2");
  w2.admin = AdminState::Drain;
  w2.check.port = 19101;
  w2.check.addr = "127.0.0.2";
  ctl.server("lst", "s1").admin = AdminState::Maint;
  std::string out = run(ctl, "show servers state");
  CHECK(out.find("3 app 2 web2 127.0.0.1 2 8 3 3 7 1 0 2 0 0 0 0 - 19102 - 0 19101 127.0.0.2 "
                 "127.0.0.2 19101\n") != std::string::npos);
  CHECK(out.find("4 lst 1 s1 127.0.0.1 2 1 1 1 7") != std::string::npos);
}

TEST_CASE("show backend lists backends only", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "show backend") == "# name\napp\nlst\n\n");
}

TEST_CASE("show info prints 2.6's keys in order then VRRP states", "[runtime]") {
  FakeControl ctl;
  InfoView& i = ctl.infoView;
  i.name = "HAProxy";
  i.version = "2.6.12-1+deb12u4";
  i.releaseDate = "2026/10/17";
  i.nbthread = 2;
  i.pid = 8465;
  i.uptimeSec = 7;
  i.ulimitN = i.maxsock = 2032;
  i.cumConns = 12;
  i.cumReq = 5;
  i.tasks = 15;
  i.node = "vm";
  i.jobs = 6;
  i.listeners = 5;
  i.totalBytesOut = 30064;
  i.bytesOutRate = 3136;
  i.poolAllocBytes = i.poolUsedBytes = 107128;
  i.startTimeSec = 1795808405;
  // HAProxy 2.6.12's output for these values.
  const std::string expected =
      "Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nRelease_date: 2026/10/17\nNbthread: 2\n"
      "Nbproc: 1\nProcess_num: 1\nPid: 8465\nUptime: 0d 0h00m07s\nUptime_sec: 7\n"
      "Memmax_MB: 0\nPoolAlloc_MB: 0\nPoolUsed_MB: 0\nPoolFailed: 0\nUlimit-n: 2032\n"
      "Maxsock: 2032\nMaxconn: 1000\nHard_maxconn: 1000\nCurrConns: 0\nCumConns: 12\n"
      "CumReq: 5\nMaxSslConns: 0\nCurrSslConns: 0\nCumSslConns: 0\nMaxpipes: 0\n"
      "PipesUsed: 0\nPipesFree: 0\nConnRate: 0\nConnRateLimit: 0\nMaxConnRate: 0\n"
      "SessRate: 0\nSessRateLimit: 0\nMaxSessRate: 0\nSslRate: 0\nSslRateLimit: 0\n"
      "MaxSslRate: 0\nSslFrontendKeyRate: 0\nSslFrontendMaxKeyRate: 0\n"
      "SslFrontendSessionReuse_pct: 0\nSslBackendKeyRate: 0\nSslBackendMaxKeyRate: 0\n"
      "SslCacheLookups: 0\nSslCacheMisses: 0\nCompressBpsIn: 0\nCompressBpsOut: 0\n"
      "CompressBpsRateLim: 0\nTasks: 15\nRun_queue: 0\nIdle_pct: 100\nnode: vm\n"
      "Stopping: 0\nJobs: 6\nUnstoppable Jobs: 0\nListeners: 5\nActivePeers: 0\n"
      "ConnectedPeers: 0\nDroppedLogs: 0\nBusyPolling: 0\nFailedResolutions: 0\n"
      "TotalBytesOut: 30064\nTotalSplicdedBytesOut: 0\nBytesOutRate: 3136\n"
      "DebugCommandsIssued: 0\nCumRecvLogs: 0\nBuild info: 2.6.12-1+deb12u4\n"
      "Memmax_bytes: 0\nPoolAlloc_bytes: 107128\nPoolUsed_bytes: 107128\n"
      "Start_time_sec: 1795808405\nTainted: 0\n";
  CHECK(run(ctl, "show info") == expected + "\n");
  i.vrrp.push_back({"VI_1", "MASTER", 102});
  CHECK(run(ctl, "show info") == expected + "Vrrp_VI_1: MASTER 102\n\n");
  i.uptimeSec = 2 * 86400 + 3 * 3600 + 4 * 60 + 5;
  CHECK(run(ctl, "show info").find("Uptime: 2d 3h04m05s\nUptime_sec: 183845\n") !=
        std::string::npos);
}

TEST_CASE("show info json has HAProxy's layout", "[runtime]") {
  FakeControl ctl;
  ctl.infoView.name = "HAProxy";
  ctl.infoView.vrrp.push_back({"VI_1", "BACKUP", 100});
  std::string out = run(ctl, "show info json");
  CHECK(out.rfind("[{\"field\":{\"pos\":0,\"name\":\"Name\"},\"processNum\":1,\"tags\":{"
                  "\"origin\":\"Product\",\"nature\":\"Output\",\"scope\":\"Service\"},"
                  "\"value\":{\"type\":\"str\",\"value\":\"HAProxy\"}},",
                  0) == 0);
  CHECK(out.find("{\"field\":{\"pos\":6,\"name\":\"Pid\"},\"processNum\":1,\"tags\":{\"origin\":"
                 "\"Status\",\"nature\":\"Gauge\",\"scope\":\"Process\"},\"value\":{\"type\":"
                 "\"u32\",\"value\":4242}}") != std::string::npos);
  CHECK(out.find("{\"field\":{\"pos\":72,\"name\":\"Vrrp_VI_1\"},\"processNum\":1,\"tags\":{"
                 "\"origin\":\"Status\",\"nature\":\"Output\",\"scope\":\"Process\"},\"value\":{"
                 "\"type\":\"str\",\"value\":\"BACKUP 100\"}}]\n\n") != std::string::npos);
}

TEST_CASE("get weight and its errors", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "get weight app/web2", Level::User) == "3 (initial 3)\n\n");
  CHECK(run(ctl, "get weight #3/#2") == "3 (initial 3)\n\n");
  CHECK(run(ctl, "get weight app") == "Require 'backend/server'.\n\n");
  CHECK(run(ctl, "get weight") == "Require 'backend/server'.\n\n");
  CHECK(run(ctl, "get weight nope/web2") == "No such backend.\n\n");
  CHECK(run(ctl, "get weight fe/web2") == "No such backend.\n\n");
  CHECK(run(ctl, "get weight app/nope") == "No such server.\n\n");
}

TEST_CASE("set server weight takes an absolute or a percent of the initial weight", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "set server app/web2 weight 50%") == "\n");
  CHECK(ctl.server("app", "web2").weight == 1); // 3 * 50 / 100, rounded down
  CHECK(run(ctl, "set server app/web2 weight 256") == "\n");
  CHECK(run(ctl, "set weight app/web2 6") == "\n");
  CHECK(run(ctl, "get weight app/web2") == "6 (initial 3)\n\n");
  CHECK(run(ctl, "set server app/web2 weight 300") ==
        "Absolute weight can only be between 0 and 256 inclusive.\n\n");
  CHECK(run(ctl, "set server app/web2 weight -5") ==
        "Absolute weight can only be between 0 and 256 inclusive.\n\n");
  CHECK(run(ctl, "set server app/web2 weight -1%") == "Relative weight must be positive.\n\n");
  CHECK(run(ctl, "set server app/web2 weight abc") ==
        "Empty weight string empty or preceded by garbage\n");
  CHECK(run(ctl, "set server app/web2 weight 5x") == "Trailing garbage in weight string\n");
  CHECK(run(ctl, "set server app/web2 weight") == "Require <weight> or <weight%>.\n\n");
  CHECK(run(ctl, "set weight app/web2") == "Require <weight> or <weight%>.\n\n");
  ctl.px[1].dynamicWeights = false;
  CHECK(run(ctl, "set server app/web2 weight 2") ==
        "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n");
  CHECK(run(ctl, "set server app/web2 weight 0%") == "\n");
  CHECK(run(ctl, "set server app/web2 weight 100%") == "\n");
  CHECK(ctl.log == std::vector<std::string>{"weight app/web2 1", "weight app/web2 256",
                                            "weight app/web2 6", "weight app/web2 0",
                                            "weight app/web2 3"});
}

TEST_CASE("set server state and enable/disable server", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "set server app/web2 state drain") == "\n");
  CHECK(run(ctl, "show stat").find("app,web2,0,0,0,0,10,0,0,0,,0,,0,0,0,0,DRAIN,3,1,0,") !=
        std::string::npos);
  CHECK(run(ctl, "set server app/web2 state maint") == "\n");
  CHECK(run(ctl, "set server app/web2 state ready") == "\n");
  CHECK(run(ctl, "disable server app/web2") == "\n");
  CHECK(run(ctl, "enable server app/web2") == "\n");
  CHECK(ctl.log == std::vector<std::string>{"state app/web2 drain", "state app/web2 maint",
                                            "state app/web2 ready", "state app/web2 maint",
                                            "state app/web2 ready"});
  CHECK(run(ctl, "set server app/web2 state bogus") ==
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n");
  CHECK(run(ctl, "set server app/web2 state") ==
        "'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n");
  const char* usage = "usage: set server <backend>/<server> addr | agent | agent-addr | "
                      "agent-port | agent-send | check-addr | check-port | fqdn | health | ssl "
                      "| state | weight\n\n";
  CHECK(run(ctl, "set server app/web2") == usage);
  CHECK(run(ctl, "set server app/web2 foo") == usage);
  CHECK(run(ctl, "set server app/web2 addr 1.2.3.4") ==
        "'set server <srv> addr' is not supported by proxyd.\n\n");
  CHECK(run(ctl, "set server app state ready") == "Require 'backend/server'.\n\n");
  CHECK(run(ctl, "set server") == "Require 'backend/server'.\n\n");
  CHECK(run(ctl, "set server nope/x state ready") == "No such backend.\n\n");
  CHECK(run(ctl, "disable server app/web9") == "No such server.\n\n");
  CHECK(run(ctl, "enable server app") == "Require 'backend/server'.\n\n");
  // The daemon's own error text is passed through.
  ctl.nextError = "Server is being removed.\n";
  CHECK(run(ctl, "set server app/web2 state ready") == "Server is being removed.\n\n");
}

TEST_CASE("backend totals leave out drained and down and zero-weight servers", "[runtime]") {
  FakeControl ctl;
  ctl.server("app", "web2").admin = AdminState::Drain;
  std::string out = run(ctl, "show stat");
  CHECK(out.find("app,BACKEND,0,0,0,0,100,0,0,0,0,0,,0,0,0,0,DOWN,0,0,0,") != std::string::npos);
  // Backups take over when no active server is usable.
  ServerView& web3 = ctl.server("app", "web3");
  web3.admin = AdminState::Ready;
  web3.running = true;
  web3.weight = 5;
  out = run(ctl, "show stat");
  CHECK(out.find("app,BACKEND,0,0,0,0,100,0,0,0,0,0,,0,0,0,0,UP,5,0,1,") != std::string::npos);
}

TEST_CASE("set maxconn for a server or a frontend or global", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "set maxconn server app/web2 20") == "\n");
  CHECK(run(ctl, "set maxconn server app/web2 -1") == "\n");
  CHECK(run(ctl, "set maxconn server app/web2") == "Require <maxconn>.\n\n");
  CHECK(run(ctl, "set maxconn server app/web2 abc") ==
        "maxconn string empty or preceded by garbage\n");
  CHECK(run(ctl, "set maxconn server app/web2 5x") == "Trailing garbage in maxconn string\n");
  CHECK(run(ctl, "set maxconn server nope/x 3") == "No such backend.\n\n");
  CHECK(run(ctl, "set maxconn frontend fe 50") == "\n");
  CHECK(run(ctl, "set maxconn frontend lst 60") == "\n");
  CHECK(run(ctl, "set maxconn frontend app 5") == "No such frontend.\n\n");
  CHECK(run(ctl, "set maxconn frontend") == "A frontend name is expected.\n\n");
  CHECK(run(ctl, "set maxconn frontend fe") == "Integer value expected.\n\n");
  CHECK(run(ctl, "set maxconn frontend fe -1") == "Value out of range.\n\n");
  CHECK(run(ctl, "set maxconn global 900") == "\n");
  CHECK(run(ctl, "set maxconn global 5000") == "Value out of range.\n\n");
  CHECK(run(ctl, "set maxconn global 0") == "\n"); // 0: back to the hard limit
  CHECK(run(ctl, "set maxconn global") == "Expects an integer value.\n\n");
  CHECK(ctl.log == std::vector<std::string>{"maxconn app/web2 20", "maxconn app/web2 0",
                                            "fe-maxconn fe 50", "fe-maxconn lst 60",
                                            "global-maxconn 900", "global-maxconn 1000"});
}

TEST_CASE("shutdown sessions server and clear counters", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "shutdown sessions server app/web2") == "\n");
  CHECK(run(ctl, "shutdown sessions server app") == "Require 'backend/server'.\n\n");
  CHECK(run(ctl, "clear counters", Level::Operator) == "\n");
  CHECK(run(ctl, "clear counters all") == "\n");
  CHECK(ctl.log == std::vector<std::string>{"shutdown app/web2", "clear", "clear all"});
}

TEST_CASE("levels user < operator < admin are enforced as HAProxy 2.6 does", "[runtime]") {
  FakeControl ctl;
  const char* adminOnly[] = {"set server app/web2 state ready", "set server app/nope state ready",
                             "set server app/web2 weight 2",    "set weight app/web2 3",
                             "disable server app/web2",         "enable server app/web2",
                             "set maxconn server app/web2 20",  "set maxconn frontend fe 50",
                             "set maxconn global 900",          "shutdown sessions server app/web2",
                             "clear counters all"};
  for (const char* c : adminOnly) {
    INFO(c);
    CHECK(run(ctl, c, Level::User) == "Permission denied\n\n");
    CHECK(run(ctl, c, Level::Operator) == "Permission denied\n\n");
  }
  CHECK(ctl.log.empty());
  CHECK(run(ctl, "clear counters", Level::User) == "Permission denied\n\n");
  CHECK(run(ctl, "set vrrp VI_1 MASTER 100", Level::User) == "Permission denied\n\n");
  // Read-only commands work at user level.
  for (const char* c : {"show info", "show stat", "show backend", "show servers state",
                        "get weight app/web2", "help"}) {
    INFO(c);
    CHECK(run(ctl, c, Level::User).find("Permission denied") == std::string::npos);
  }
  CHECK(run(ctl, "show cli level", Level::Operator) == "operator\n\n");
}

TEST_CASE("a session can lower its level but never raise it", "[runtime]") {
  FakeControl ctl;
  CliSession s(ctl, Level::Admin);
  CHECK(s.handleLine("prompt").output == "\n> ");
  CHECK(s.handleLine("operator").output == "\n> ");
  CHECK(s.handleLine("show cli level").output == "operator\n\n> ");
  CHECK(s.handleLine("user").output == "\n> ");
  CHECK(s.handleLine("operator").output == "Permission denied\n\n> ");
  CHECK(s.level() == Level::User);
}

TEST_CASE("one-shot and interactive modes with chaining and quit", "[runtime]") {
  FakeControl ctl;
  {
    CliSession s(ctl, Level::Admin);
    LineResult r = s.handleLine("show backend;get weight app/web2; show cli level");
    CHECK(r.output == "# name\napp\nlst\n\n3 (initial 3)\n\nadmin\n\n");
    CHECK(r.close);
  }
  {
    // Pipelined one-shot input: the session stays while input remains.
    CliSession s(ctl, Level::Admin);
    LineResult r = s.handleLine("get weight app/web2", true);
    CHECK_FALSE(r.close);
    CHECK(s.handleLine("show backend\r").close);
  }
  {
    // An empty line is an empty command: HAProxy lists the commands.
    CliSession s(ctl, Level::Admin);
    LineResult r = s.handleLine("");
    CHECK(r.output.rfind("Unknown command. Please enter one of the following commands only:\n",
                         0) == 0);
    CHECK(r.close);
  }
  {
    CliSession s(ctl, Level::Admin);
    CHECK(s.handleLine("prompt").output == "\n> ");
    CHECK(s.interactive());
    LineResult r = s.handleLine("show backend;get weight app/web2");
    CHECK(r.output == "# name\napp\nlst\n\n> 3 (initial 3)\n\n> ");
    CHECK_FALSE(r.close);
    CHECK(s.handleLine("").output.rfind(
              "Unknown command. Please enter one of the following commands only:\n", 0) == 0);
    r = s.handleLine("get weight app/web2;quit;show backend");
    CHECK(r.output == "3 (initial 3)\n\n> ");
    CHECK(r.close);
  }
  {
    CliSession s(ctl, Level::Admin);
    s.handleLine("prompt", true);
    LineResult r = s.handleLine("prompt");
    CHECK(r.output == "\n");
    CHECK(r.close);
  }
  CHECK(run(ctl, "quit").empty());
}

TEST_CASE("splitting on blanks and semicolons with backslash escapes", "[runtime]") {
  using V = std::vector<std::vector<std::string>>;
  CHECK(splitCommands("get   weight \t app/web2  ") == V{{"get", "weight", "app/web2"}});
  CHECK(splitCommands("a;b c;;d") == V{{"a"}, {"b", "c"}, {}, {"d"}});
  CHECK(splitCommands("get weight app\\;x/web2") == V{{"get", "weight", "app;x/web2"}});
  CHECK(splitCommands("a\\ b") == V{{"a b"}});
  CHECK(splitCommands("") == V{{}});
  FakeControl ctl;
  CHECK(run(ctl, "get weight app\\;x/web2") == "No such backend.\n\n");
  CHECK(run(ctl, "get weight \"app/web2\"") == "No such backend.\n\n"); // no quoting
}

TEST_CASE("backslash escapes and semicolons split as in HAProxy 2.6's CLI", "[runtime]") {
  using V = std::vector<std::vector<std::string>>;
  // Checked on haproxy 2.6.12's own stats socket: "\\" is a backslash and
  // the ';' after it splits; any other escaped character stands for itself
  // ("sh\ow" is "show"); an escaped newline stays in the word.
  CHECK(splitCommands("show cli level\\\\;show cli level") ==
        V{{"show", "cli", "level\\"}, {"show", "cli", "level"}});
  CHECK(splitCommands("show cli level\\;show") == V{{"show", "cli", "level;show"}});
  CHECK(splitCommands("sh\\ow\\ cli") == V{{"show cli"}});
  CHECK(splitCommands("set vrrp VI\\;1\\ x MASTER 100") ==
        V{{"set", "vrrp", "VI;1 x", "MASTER", "100"}});
  CHECK(splitCommands("a\\\nb") == V{{"a\nb"}});
  CHECK(splitCommands("level\\") == V{{"level"}}); // a lone trailing backslash is dropped
  FakeControl ctl;
  CHECK(run(ctl, "show cli level\\\\;show cli level").ends_with("admin\n\n"));
  CHECK(run(ctl, "sh\\ow cli level") == "admin\n\n");
}

TEST_CASE("a command line ends at the first newline not escaped by a backslash", "[runtime]") {
  constexpr auto npos = std::string_view::npos;
  CHECK(findLineEnd("") == npos);
  CHECK(findLineEnd("show info") == npos);
  CHECK(findLineEnd("show info\nquit\n") == 9);
  CHECK(findLineEnd("\n") == 0);
  CHECK(findLineEnd("a\\\nb\n") == 4);     // a\ LF b LF: one line
  CHECK(findLineEnd("a\\\\\nb\n") == 3);   // a\\ LF: the backslash is escaped
  CHECK(findLineEnd("a\\\\\\\nb\n") == 6); // a\\\ LF: odd again
  CHECK(findLineEnd("a\\\n") == npos);     // continued, not complete yet
  CHECK(kMaxCommandLine == 16384 - 1024);  // HAProxy's tune.bufsize less maxrewrite
}

TEST_CASE("a unix socket's temporary name is beside it and fits a sockaddr_un", "[runtime]") {
  CHECK(socketTempName("/run/proxyd/admin.sock", 4242) == "/run/proxyd/admin.sock.4242.tmp");
  CHECK(socketTempName("admin.sock", 7) == "admin.sock.7.tmp");
  std::string dir = "/" + std::string(80, 'd');
  std::string path = dir + "/" + std::string(20, 'n'); // 102 bytes: path.pid.tmp is too long
  CHECK(socketTempName(path, 123456) == dir + "/.123456.tmp");
  CHECK(socketTempName("/" + std::string(104, 'd') + "/a", 123456).empty());
  CHECK(socketTempName("/x/a.sock", 1, 16) == "/x/a.sock.1.tmp");
  CHECK(socketTempName("/x/a.sock", 12, 16) == "/x/.12.tmp");
}

TEST_CASE("set vrrp refuses bad instance names and caps the number of instances", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "set vrrp VI\\;1 MASTER 100", Level::Operator) == "\n");
  CHECK(ctl.log == std::vector<std::string>{"vrrp VI;1 MASTER 100"});
  CHECK(run(ctl, "set vrrp VI\\\n1 MASTER 100", Level::Operator) ==
        "Instance name must not contain control characters.\n\n");
  CHECK(run(ctl, "set vrrp VI\t1 MASTER 100", Level::Operator) ==
        "State must be one of MASTER, BACKUP, FAULT, INIT, STOP.\n\n"); // a tab separates
  CHECK(run(ctl, "set vrrp VI\\\t1 MASTER 100", Level::Operator) ==
        "Instance name must not contain control characters.\n\n");
  CHECK(run(ctl, "set vrrp " + std::string(kMaxVrrpName, 'v') + " MASTER 1", Level::Operator) ==
        "\n");
  CHECK(run(ctl, "set vrrp " + std::string(kMaxVrrpName + 1, 'v') + " MASTER 1", Level::Operator) ==
        "Instance name too long (at most 128 bytes).\n\n");
  CHECK(ctl.log.size() == 2);

  std::vector<VrrpView> table;
  for (size_t i = 0; i < kMaxVrrpInstances; ++i)
    CHECK(recordVrrp(table, {"VI_" + std::to_string(i), "BACKUP", 100}).empty());
  CHECK(recordVrrp(table, {"one_more", "BACKUP", 100}) ==
        "Too many VRRP instances (at most 256).\n");
  CHECK(recordVrrp(table, {"VI_7", "MASTER", 101}).empty()); // a known one is updated
  CHECK(table.size() == kMaxVrrpInstances);
  CHECK(table[7].state == "MASTER");
  CHECK(table[7].priority == 101);
}

TEST_CASE("help lists our commands in HAProxy's format and unknown commands get suggestions", "[runtime]") {
  FakeControl ctl;
  std::string help = run(ctl, "help", Level::User);
  CHECK(help.rfind("The following commands are valid at this level:\n"
                   "  clear counters [all]                    : clear max statistics counters "
                   "(or all counters)\n",
                   0) == 0);
  CHECK(help.find("  show stat [desc|json|no-maint|typed|up]*: report counters for each proxy "
                  "and server\n") != std::string::npos);
  const std::string trailer =
      "  help [<command>]                        : list matching or all commands\n"
      "  prompt                                  : toggle interactive mode with prompt\n"
      "  quit                                    : disconnect\n\n";
  CHECK(help.size() > trailer.size());
  CHECK(help.compare(help.size() - trailer.size(), trailer.size(), trailer) == 0);
  CHECK(run(ctl, "set maxconn bogus 4") ==
        "Unknown command, but maybe one of the following ones is a better match:\n"
        "  set maxconn frontend <frontend> <value> : change a frontend's maxconn setting\n"
        "  set maxconn global <value>              : change the per-process maxconn setting\n"
        "  set maxconn server <bk>/<srv>           : change a server's maxconn setting\n" +
            trailer);
  CHECK(run(ctl, "shutdown sessions") ==
        "Unknown command, but maybe one of the following ones is a better match:\n"
        "  shutdown sessions server <bk>/<srv>     : kill sessions on a server\n" +
            trailer);
  CHECK(run(ctl, "frobnicate").rfind(
            "Unknown command. Please enter one of the following commands only:\n", 0) == 0);
  std::string helpSet = run(ctl, "help set maxconn");
  CHECK(helpSet.find("set maxconn global") != std::string::npos);
  CHECK(helpSet.find("show stat") == std::string::npos);
}

TEST_CASE("set vrrp records an instance state shown by show info", "[runtime]") {
  FakeControl ctl;
  CHECK(run(ctl, "set vrrp VI_1 master 102", Level::Operator) == "\n");
  CHECK(ctl.log == std::vector<std::string>{"vrrp VI_1 MASTER 102"});
  CHECK(run(ctl, "show info").find("Tainted: 0\nVrrp_VI_1: MASTER 102\n\n") != std::string::npos);
  CHECK(run(ctl, "set vrrp VI_1 LEADER 1") ==
        "State must be one of MASTER, BACKUP, FAULT, INIT, STOP.\n\n");
  CHECK(run(ctl, "set vrrp VI_1 BACKUP 256") ==
        "Priority must be an integer between 0 and 255.\n\n");
  CHECK(run(ctl, "set vrrp VI_1 BACKUP") == "Require 'set vrrp <inst> <state> <prio>'.\n\n");
}

TEST_CASE("watch health summaries and lines", "[runtime]") {
  FakeControl ctl;
  auto app = summarizeHealth(ctl.px, "app");
  REQUIRE(app);
  CHECK(formatHealthLine(*app, HealthEvent::Initial) ==
        "health ok backend=app active=1/2 backup=0/1 event=initial\n");
  ctl.server("app", "web2").running = false;
  app = summarizeHealth(ctl.px, "app");
  CHECK(formatHealthLine(*app, HealthEvent::Change) ==
        "health fail backend=app active=0/2 backup=0/1 event=change\n");
  auto all = summarizeHealth(ctl.px, "");
  CHECK(formatHealthLine(*all, HealthEvent::Heartbeat) ==
        "health ok backends=2 down=1 event=heartbeat\n");
  CHECK_FALSE(summarizeHealth(ctl.px, "nope"));
  CHECK_FALSE(summarizeHealth(ctl.px, "fe"));
}

TEST_CASE("watch health command gives an initial line and checks its options", "[runtime]") {
  FakeControl ctl;
  CliSession s(ctl, Level::User);
  LineResult r = s.handleLine("watch health backend app heartbeat 250");
  CHECK(r.output == "health ok backend=app active=1/2 backup=0/1 event=initial\n");
  REQUIRE(r.watch);
  CHECK(r.watch->backend == "app");
  CHECK(r.watch->heartbeatMs == 250);
  CHECK_FALSE(r.close);
  CHECK(run(ctl, "watch health backend nope") == "No such backend.\n\n");
  CHECK(run(ctl, "watch health heartbeat 5") ==
        "Heartbeat must be between 10 and 3600000 ms.\n\n");
  CHECK(run(ctl, "watch health sideways") ==
        "Usage: watch health [backend <bk>] [heartbeat <ms>]\n\n");
  CliSession d(ctl, Level::User);
  r = d.handleLine("watch health");
  REQUIRE(r.watch);
  CHECK(r.watch->heartbeatMs == 1000);
  CHECK(r.output == "health ok backends=2 down=0 event=initial\n");
}

TEST_CASE("a check under way and an HTTP check's code show as in HAProxy", "[runtime]") {
  FakeControl ctl;
  ServerView& w1 = ctl.server("app", "web1");
  w1.check.inProgress = true; // CHK_ST_INPROGRESS: srv_check_state 6 -> 7
  CHECK(run(ctl, "show servers state app").find("3 app 1 web1 127.0.0.1 0 0 1 1 7 8 2 0 7 0 ") !=
        std::string::npos);
  w1.check.status = "L7STS";
  w1.check.desc = "Layer7 wrong status";
  w1.check.code = 500;
  w1.check.durationMs = 3;
  w1.check.info = "Internal Server Error";
  std::string csv = run(ctl, "show stat");
  CHECK(csv.find(",L7STS,500,3,") != std::string::npos);
  CHECK(csv.find(",Internal Server Error,") != std::string::npos);
  CHECK(run(ctl, "show servers state app").find("3 app 1 web1 127.0.0.1 0 0 1 1 7 17 2 0 7 ") !=
        std::string::npos);
}

TEST_CASE("a stopping server (disable-on-404) is NOLB and takes no traffic", "[runtime]") {
  FakeControl ctl;
  ServerView& w2 = ctl.server("app", "web2");
  w2.check.enabled = true; // rise 2 fall 3, health 2: one failure from DOWN
  w2.check.health = 2;
  w2.stopping = true;
  w2.check.status = "L7OKC";
  w2.check.code = 404;
  CHECK(serverStatusText(w2) == "NOLB 1/3");
  w2.check.health = 4;
  CHECK(serverStatusText(w2) == "NOLB");
  CHECK(!serverUsable(w2));
  // srv_op_state 3 (SRV_ST_STOPPING), HCHK_STATUS_L7OKCD 16, CHK_RES_CONDPASS 4.
  CHECK(run(ctl, "show servers state app").find("3 app 2 web2 127.0.0.1 3 0 3 3 7 16 4 4 6 ") !=
        std::string::npos);
}
