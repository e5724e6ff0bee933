#include "proxyd/logfmt.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cstring>
#include <netinet/in.h>

using namespace proxyd;

namespace {

common::SockAddr addr(const char* ip, uint16_t port) {
  common::SockAddr a;
  if (std::strchr(ip, ':')) {
    auto* s = reinterpret_cast<sockaddr_in6*>(&a.ss);
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &s->sin6_addr);
    a.len = sizeof(sockaddr_in6);
  } else {
    auto* s = reinterpret_cast<sockaddr_in*>(&a.ss);
    s->sin_family = AF_INET;
    s->sin_port = htons(port);
    inet_pton(AF_INET, ip, &s->sin_addr);
    a.len = sizeof(sockaddr_in);
  }
  return a;
}

// 2026-11-27 18:30:00.123 UTC
std::chrono::system_clock::time_point when() {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1795804200123LL));
}

TcpLogEntry base() {
  TcpLogEntry e;
  e.clientAddr = addr("198.18.0.10", 45678);
  e.acceptTime = when();
  e.frontend = "fe_main";
  e.backend = "app";
  e.server = "web1";
  e.tw = 0;
  e.tc = 1;
  e.tt = 5007;
  e.bytesRead = 212;
  e.termState = "--";
  e.actconn = 3;
  e.feconn = 2;
  e.backendQueue = 0;
  e.beconn = 1;
  e.srvConn = 1;
  return e;
}

} // namespace

TEST_CASE("log date is dd/Mon/yyyy:HH:MM:SS.mmm", "[logfmt]") {
  CHECK(formatLogDate(when(), true) == "27/Nov/2026:18:30:00.123");
  auto early = std::chrono::system_clock::time_point(std::chrono::milliseconds(1233922371005LL));
  CHECK(formatLogDate(early, true) == "06/Feb/2009:12:12:51.005");
  CHECK(formatLogDate(std::chrono::system_clock::time_point{}, true) == "01/Jan/1970:00:00:00.000");
}

TEST_CASE("tcplog line for a normal session", "[logfmt]") {
  CHECK(formatTcpLog(base(), true) == "198.18.0.10:45678 [27/Nov/2026:18:30:00.123] fe_main "
                                      "app/web1 0/1/5007 212 -- 3/2/1/1/0 0/0");
}

TEST_CASE("tcplog line with no server, unreached timers and an error state", "[logfmt]") {
  TcpLogEntry e = base();
  e.server.clear();
  e.tw = -1;
  e.tc = -1;
  e.tt = 0;
  e.bytesRead = 0;
  e.termState = formatTermState(TermCode::ServerAbort, TermPhase::Connect);
  e.srvConn = 0;
  CHECK(formatTcpLog(e, true) == "198.18.0.10:45678 [27/Nov/2026:18:30:00.123] fe_main "
                                 "app/<NOSRV> -1/-1/0 0 SC 3/2/1/0/0 0/0");
}

TEST_CASE("tcplog: no backend yet shows the frontend's name", "[logfmt]") {
  TcpLogEntry e = base();
  e.backend.clear();
  e.server.clear();
  CHECK(formatTcpLog(e, true).find(" fe_main fe_main/<NOSRV> ") != std::string::npos);
}

TEST_CASE("tcplog: retries, redispatch, queues, IPv6, TLS and logasap", "[logfmt]") {
  TcpLogEntry e = base();
  e.clientAddr = addr("2001:db8::7", 61000);
  e.frontendTls = true;
  e.tw = 120;
  e.tc = 3001;
  e.tt = 9000;
  e.retries = 3;
  e.redispatched = true;
  e.srvQueue = 2;
  e.backendQueue = 5;
  e.termState = formatTermState(TermCode::ClientTimeout, TermPhase::Data);
  CHECK(formatTcpLog(e, true) == "2001:db8::7:61000 [27/Nov/2026:18:30:00.123] fe_main~ "
                                 "app/web1 120/3001/9000 212 cD 3/2/1/1/+3 2/5");
  e.logasap = true;
  e.redispatched = false;
  CHECK(formatTcpLog(e, true) == "2001:db8::7:61000 [27/Nov/2026:18:30:00.123] fe_main~ "
                                 "app/web1 120/3001/+9000 +212 cD 3/2/1/1/3 2/5");
}

TEST_CASE("termination states", "[logfmt]") {
  CHECK(formatTermState(TermCode::None, TermPhase::None) == "--");
  CHECK(formatTermState(TermCode::ClientAbort, TermPhase::Data) == "CD");
  CHECK(formatTermState(TermCode::ServerAbort, TermPhase::Data) == "SD");
  CHECK(formatTermState(TermCode::ServerTimeout, TermPhase::Connect) == "sC");
  CHECK(formatTermState(TermCode::ServerAbort, TermPhase::Connect) == "SC");
  CHECK(formatTermState(TermCode::ClientTimeout, TermPhase::Data) == "cD");
  CHECK(formatTermState(TermCode::ClientAbort, TermPhase::Queue) == "CQ");
  CHECK(formatTermState(TermCode::ServerTimeout, TermPhase::Queue) == "sQ");
  CHECK(formatTermState(TermCode::Killed, TermPhase::Data) == "KD");
  CHECK(formatTermState(TermCode::Resource, TermPhase::Connect) == "RC");
  CHECK(formatTermState(TermCode::ServerDown, TermPhase::Queue) == "DQ");
}
