// option httplog lines, byte for byte against lines HAProxy 2.6 printed.
#include "proxyd/logfmt.h"
#include "sockaddr_util.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <cstring>
#include <netinet/in.h>

using namespace proxyd;
using proxyd::testing::v4;
using proxyd::testing::v6;

namespace {

// 2009-02-06 12:14:14.655 UTC (configuration.txt's example date).
std::chrono::system_clock::time_point when() {
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(1233922454655LL));
}

HttpLogEntry docExample() {
  HttpLogEntry e;
  e.clientAddr = v4("10.0.1.2", 33317);
  e.requestTime = when();
  e.frontend = "http-in";
  e.backend = "static";
  e.server = "srv1";
  e.tR = 10;
  e.tw = 0;
  e.tc = 30;
  e.tr = 69;
  e.ta = 109;
  e.status = 200;
  e.bytesRead = 2750;
  e.actconn = 1;
  e.feconn = 1;
  e.beconn = 1;
  e.srvConn = 1;
  e.requestLine = "GET /index.html HTTP/1.1";
  return e;
}

} // namespace

TEST_CASE("httplog line of the documentation's example (no captures)", "[logfmt]") {
  CHECK(formatHttpLog(docExample(), true) ==
        "10.0.1.2:33317 [06/Feb/2009:12:14:14.655] http-in static/srv1 10/0/30/69/109 200 2750 "
        "- - ---- 1/1/1/1/0 0/0 \"GET /index.html HTTP/1.1\"");
}

TEST_CASE("httplog line of a request refused before any server (400, PR, BADREQ)", "[logfmt]") {
  // As HAProxy 2.6 logged a bare CR in a header:
  //   127.0.0.1:50632 [..] fe fe/<NOSRV> -1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 "<BADREQ>"
  HttpLogEntry e;
  e.clientAddr = v4("127.0.0.1", 50632);
  e.requestTime = when();
  e.frontend = "fe";
  e.ta = 0;
  e.status = 400;
  e.termState = formatTermState(TermCode::Proxy, TermPhase::Request);
  e.actconn = 1;
  e.feconn = 1;
  CHECK(formatHttpLog(e, true) == "127.0.0.1:50632 [06/Feb/2009:12:14:14.655] fe fe/<NOSRV> "
                                  "-1/-1/-1/-1/0 400 0 - - PR-- 1/1/0/0/0 0/0 \"<BADREQ>\"");
}

TEST_CASE("httplog line of a request timeout (408, cR)", "[logfmt]") {
  HttpLogEntry e;
  e.clientAddr = v4("127.0.0.1", 42144);
  e.requestTime = when();
  e.frontend = "fe";
  e.ta = 1027;
  e.status = 408;
  e.termState = "cR";
  e.actconn = 1;
  e.feconn = 1;
  CHECK(formatHttpLog(e, true) == "127.0.0.1:42144 [06/Feb/2009:12:14:14.655] fe fe/<NOSRV> "
                                  "-1/-1/-1/-1/1027 408 0 - - cR-- 1/1/0/0/0 0/0 \"<BADREQ>\"");
}

TEST_CASE("httplog: no status, redispatch, queues, logasap, IPv6 client", "[logfmt]") {
  HttpLogEntry e = docExample();
  e.clientAddr = v6("2001:db8::1", 443);
  e.tr = -1;
  e.status = -1;
  e.termState = "sH";
  e.retries = 3;
  e.redispatched = true;
  e.srvQueue = 2;
  e.backendQueue = 5;
  e.logasap = true;
  CHECK(formatHttpLog(e, true) == "2001:db8::1:443 [06/Feb/2009:12:14:14.655] http-in static/srv1 "
                                  "10/0/30/-1/+109 -1 +2750 - - sH-- 1/1/1/1/+3 2/5 "
                                  "\"GET /index.html HTTP/1.1\"");
}

TEST_CASE("httplog: the request line is quoted with double quotes, hash signs and controls encoded", "[logfmt]") {
  CHECK(quoteRequestLine("GET /a\"b#c HTTP/1.1") == "\"GET /a#22b#23c HTTP/1.1\"");
  CHECK(quoteRequestLine(std::string_view("GET /\x01\x7f\xff HTTP/1.0", 17)) ==
        "\"GET /#01#7F#FF HTTP/1.0\"");
  CHECK(quoteRequestLine("") == "\"<BADREQ>\"");
}

TEST_CASE("httplog: the frontend of a TLS listener gets '~'", "[logfmt]") {
  HttpLogEntry e = docExample();
  e.frontendTls = true;
  e.backend.clear();
  e.server.clear();
  CHECK(formatHttpLog(e, true).find(" http-in~ http-in/<NOSRV> ") != std::string::npos);
}
