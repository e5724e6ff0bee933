// log-format: each variable, flag and separator rule, and the parse errors,
// against what HAProxy 2.6 printed for the same format (lines captured from
// haproxy 2.6.12 with `log stdout format raw`).
#include "proxyd/logfmt.h"
#include "sockaddr_util.h"

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>

using namespace proxyd;
using proxyd::testing::v4;
using proxyd::testing::v6;

namespace {

using ms = std::chrono::milliseconds;
using TP = std::chrono::system_clock::time_point;

// An HTTP transaction as HAProxy logged it: accepted at 21:20:45.720 UTC,
// request 2 ms later.
LogRecord httpRecord() {
  LogRecord r;
  r.clientAddr = v4("127.0.0.1", 39802);
  r.frontendAddr = v4("127.0.0.1", 18080);
  r.backendSrcAddr = v4("127.0.0.1", 52968);
  r.serverAddr = v4("127.0.0.1", 18081);
  r.acceptTime = TP(ms(1795814445720LL));
  r.requestTime = TP(ms(1795814445722LL));
  r.frontend = "fe";
  r.backend = "be";
  r.server = "s1";
  r.th = 0;
  r.ti = 2;
  r.tR = 0;
  r.tw = 0;
  r.tc = 1;
  r.tr = 5;
  r.ta = 6;
  r.tt = 8;
  r.status = 404;
  r.bytesOut = 500;
  r.bytesIn = 99;
  r.actconn = r.feconn = 1;
  r.requestLine = "GET /foo/bar?x=1&y=\"q\" HTTP/1.1";
  r.pid = 4242;
  r.hostname = "vm";
  return r;
}

std::string fmt(const std::string& f, const LogRecord& r, bool http = true) {
  auto lf = LogFormat::compile(f, http);
  REQUIRE(lf.ok());
  return lf->format(r, true);
}

std::string error(const std::string& f, bool http = true) {
  auto lf = LogFormat::compile(f, http);
  REQUIRE_FALSE(lf.ok());
  return lf.error();
}

} // namespace

TEST_CASE("log-format: addresses, names and timers as HAProxy printed them", "[logfmt]") {
  // haproxy 2.6: "%ci|%cp|%fi|%fp|%bi|%bp|%si|%sp|%t|%tr|%T|%Ts|%ft|%f|%b|%s|
  // %TR|%Tw|%Tc|%Tr|%Ta|%Tt|%Th|%Ti|%Tq|%Tu|%ST|%B|%U (tcp)|%ts|%tsc|%ac|%fc|%bc|%sc|%rc|%sq|%bq"
  CHECK(fmt("%ci|%cp|%fi|%fp|%bi|%bp|%si|%sp|%t|%tr|%T|%Ts|%ft|%f|%b|%s", httpRecord()) ==
        "127.0.0.1|39802|127.0.0.1|18080|127.0.0.1|52968|127.0.0.1|18081|"
        "27/Nov/2026:21:20:45.720|27/Nov/2026:21:20:45.722|27/Nov/2026:21:20:45 +0000|"
        "1795814445|fe|fe|be|s1");
  CHECK(fmt("%TR|%Tw|%Tc|%Tr|%Ta|%Tt|%Th|%Ti|%Tq|%Tu|%ST|%B|%ts|%tsc", httpRecord()) ==
        "0|0|1|5|6|8|0|2|2|6|404|500|--|----");
  CHECK(fmt("%ac|%fc|%bc|%sc|%rc|%sq|%bq", httpRecord()) == "1|1|0|0|0|0|0");
}

TEST_CASE("log-format: the request line and its parts are '#'-encoded", "[logfmt]") {
  CHECK(fmt("%r|%HM|%HP|%HPO|%HQ|%HU|%HV", httpRecord()) ==
        "GET /foo/bar?x=1&y=#22q#22 HTTP/1.1|GET|/foo/bar|/foo/bar|?x=1&y=#22q#22|"
        "/foo/bar?x=1&y=#22q#22|HTTP/1.1");
  LogRecord r = httpRecord();
  r.requestLine = "GET http://h.x/p/q?z=1 HTTP/1.1";
  CHECK(fmt("%HQ|%HP|%HPO|%HU|%HV", r) == "?z=1|http://h.x/p/q|/p/q|http://h.x/p/q?z=1|HTTP/1.1");
  r.requestLine = "GET /a/b\"c HTTP/1.0";
  // No query: %HQ prints nothing (not "-").
  CHECK(fmt("%HQ|%HP", r) == "|/a/b#22c");
  r.requestLine.clear();
  CHECK(fmt("%r|%HM|%HP|%HU|%HV|%{+Q}r|%{+Q}HM", r) ==
        "<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|<BADREQ>|\"<BADREQ>\"|\"<BADREQ>\"");
}

TEST_CASE("log-format: +Q quotes strings and addresses, never numbers or states", "[logfmt]") {
  CHECK(fmt("%{+Q}ci|%{+Q}cp|%{+Q}ft|%{+Q}b|%{+Q}s|%{+Q}r|%{+Q}HM|%{+Q}HU|%{+Q}HV|%{+Q}ts|"
            "%{+Q}tsc|%{+Q}ST|%{+Q}CC|%{+Q}hr|%{+Q}ID",
            httpRecord()) == "\"127.0.0.1\"|39802|\"fe\"|\"be\"|\"s1\"|"
                             "\"GET /foo/bar?x=1&y=#22q#22 HTTP/1.1\"|\"GET\"|"
                             "\"/foo/bar?x=1&y=#22q#22\"|\"HTTP/1.1\"|--|----|404|\"\"||\"\"");
}

TEST_CASE("log-format: +X writes addresses, ports and %Ts in hex, other numbers as is",
          "[logfmt]") {
  LogRecord r = httpRecord();
  r.clientAddr = v4("127.0.0.1", 51298);
  r.acceptTime = TP(ms(1795814445720LL));
  CHECK(fmt("%{+X}ci|%{+X}cp|%{+X}Ts|%{+X}ST|%{+X}B|%{+X}Tt|%{+X}ac", r) ==
        "7F000001|C862|6B09F42D|404|500|8|1");
  r.clientAddr = v6("2001:db8::1", 443);
  CHECK(fmt("%{+X}ci:%{+X}cp %ci", r) == "20010DB8000000000000000000000001:01BB 2001:db8::1");
}

TEST_CASE("log-format: +E escapes double quotes, backslashes and closing brackets in strings", "[logfmt]") {
  LogRecord r = httpRecord();
  r.server = "a\"b\\c]d";
  CHECK(fmt("%{+E}s %{+Q,+E}s %s", r) == "a\\\"b\\\\c\\]d \"a\\\"b\\\\c\\]d\" a\"b\\c]d");
}

TEST_CASE("log-format: %o sets the flags of the variables after it", "[logfmt]") {
  // haproxy 2.6 printed: E |/a/b#22c|... "127.0.0.1" "be" 503 s1 "GET ..." "" [x] ...
  LogRecord r = httpRecord();
  r.status = 503;
  r.requestLine = "GET /a HTTP/1.0";
  CHECK(fmt("%{+Q}o %ci %b %ST %{-Q}s %r %ID [x] %{-Q}o %HU", r) ==
        "\"127.0.0.1\" \"be\" 503 s1 \"GET /a HTTP/1.0\" \"\" [x] /a");
}

TEST_CASE("log-format: spaces are one separator, none at the start, none after an empty capture",
          "[logfmt]") {
  // haproxy 2.6: "C  %ci  %hr %hs %cp    %%   x%ID%%%CC-%hr-" -> "C 127.0.0.1 33246 % x-%---"
  LogRecord r = httpRecord();
  r.clientAddr = v4("127.0.0.1", 33246);
  CHECK(fmt("C  %ci  %hr %hs %cp    %%   x%ID%%%CC-%hr-", r) == "C 127.0.0.1 33246 % x-%---");
  CHECK(fmt("  %ci", r) == "127.0.0.1");
  CHECK(fmt("%ci  ", r) == "127.0.0.1 ");
  CHECK(fmt("%hr %hs %hrl %hsl %ci", r) == "127.0.0.1");
}

TEST_CASE("log-format: unknown or absent values print '-'", "[logfmt]") {
  LogRecord r = httpRecord();
  r.frontendAddr.reset();
  r.backendSrcAddr.reset();
  r.serverAddr.reset();
  r.server.clear();
  r.backend.clear();
  // haproxy 2.6 for a denied request: "127.0.0.1|-|-|-|-|fd|<NOSRV>"
  CHECK(fmt("%ci|%bi|%bp|%si|%sp|%b|%s|%ID|%CC|%CS|%fi", r) ==
        "127.0.0.1|-|-|-|-|fe|<NOSRV>|-|-|-|-");
  CHECK(fmt("%{+Q}bi|%{+Q}sp", r) == "\"\"|\"\"");
}

TEST_CASE("log-format: dates, %ms, %pid, %H, and the '+' of logasap and redispatch", "[logfmt]") {
  LogRecord r = httpRecord();
  r.acceptTime = TP(ms(1795814464020LL));
  CHECK(fmt("%ms|%Tl|%trg|%trl|%pid|%H", r) == "020|27/Nov/2026:21:21:04 +0000|"
                                               "27/Nov/2026:21:20:45 +0000|"
                                               "27/Nov/2026:21:20:45 +0000|4242|vm");
  r.logasap = true;
  r.redispatched = true;
  r.retries = 1;
  CHECK(fmt("%Tt %Ta %B %rc %Tw", r) == "+8 +6 +500 +1 0");
}

TEST_CASE("log-format: the predefined formats are HAProxy's strings", "[logfmt]") {
  LogRecord r = httpRecord();
  r.clientAddr = v4("127.0.0.1", 52300);
  r.acceptTime = TP(ms(1795814551342LL));
  r.requestTime = TP(ms(1795814551342LL));
  r.frontend = "fc";
  r.tR = 0;
  r.tw = 0;
  r.tc = -1;
  r.tr = -1;
  r.ta = 3008;
  r.status = 503;
  r.bytesOut = 217;
  r.termState = "SC";
  r.actconn = r.feconn = 1;
  r.retries = 3;
  r.requestLine = "GET /clf?q HTTP/1.0";
  // haproxy 2.6, `option httplog clf`, byte for byte (trailing space included).
  CHECK(fmt(kClfHttpLogFormat, r) ==
        "127.0.0.1 - - [27/Nov/2026:21:22:31 +0000] \"GET /clf?q HTTP/1.0\" 503 217 \"\" \"\" "
        "52300 342 \"fc\" \"be\" \"s1\" 0 0 -1 -1 3008 SC-- 1 1 0 0 3 0 0 \"\" \"\" ");
  CHECK(fmt(kHttpLogFormat, r) ==
        "127.0.0.1:52300 [27/Nov/2026:21:22:31.342] fc be/s1 0/0/-1/-1/3008 503 217 - - SC-- "
        "1/1/0/0/3 0/0 \"GET /clf?q HTTP/1.0\"");
  CHECK(fmt(kTcpLogFormat, r, false)
            .rfind("127.0.0.1:52300 [27/Nov/2026:21:22:31.342] fc be/s1 ", 0) == 0);
}

TEST_CASE("log-format: parse errors in HAProxy's words", "[logfmt]") {
  CHECK(error("%ci %zz") == "no such format variable 'zz'. If you wanted to emit the '%' "
                            "character verbatim, you need to use '%%'.");
  CHECK(error("%ci1") == "no such format variable 'ci1'. If you wanted to emit the '%' "
                         "character verbatim, you need to use '%%'.");
  CHECK(error("%{+Q}1").find("no such format variable '1'") == 0);
  CHECK(error("%") == "truncated line after '%'.");
  CHECK(error("a%") == "truncated line after '%'.");
  CHECK(error("%{+Q") == "truncated line after '+Q'.");
  CHECK(error("%{+Q}") == "parse argument modifier without variable name near '%{+Q}'.");
  CHECK(error("%1") == "unexpected variable name near '1' at position 1 line : '%1'. Maybe you "
                       "want to write a single '%', use the syntax '%%'");
  CHECK(error("%[src") == "missing ']' after 'src'.");
  CHECK(error("%[src]") == "sample fetch expressions ('%[src]') are not supported yet.");
  CHECK(error("%{+Q}[src]") == "sample fetch expressions ('%[src]') are not supported yet.");
  CHECK(error("%Td") == "format variable 'Td' is not supported yet.");
  CHECK(error("%U") == "format variable 'U' is not supported yet in HTTP mode.");
  for (const char* v : {"r", "HM", "HP", "HPO", "HQ", "HU", "HV", "CC", "CS", "TR", "Tr", "Ta",
                        "Ti", "Tq", "tr", "trg", "trl"}) {
    CAPTURE(v);
    CHECK(error(std::string("%ci %") + v, false) ==
          std::string("format variable '") + v + "' is reserved for HTTP mode.");
  }
}

TEST_CASE("log-format: %tsc ends with the persistence cookie's two flags", "[logfmt]") {
  LogRecord r = httpRecord();
  r.termState = "SC";
  r.cookieState = "NI";
  CHECK(fmt("%ts %tsc", r) == "SC SCNI");
  r.cookieState.clear();
  CHECK(fmt("%tsc", r) == "SC--");
}

TEST_CASE("log-format: tcp mode takes every variable that is not HTTP-only", "[logfmt]") {
  LogRecord r = httpRecord();
  r.status = 0;
  CHECK(fmt("%ST %U %tsc %hr %ID %{+Z}ci %%", r, false) == "0 99 ---- - 127.0.0.1 %");
  CHECK(LogFormat::compile("%ci", false)->uses("ci"));
  CHECK_FALSE(LogFormat::compile("%ci", false)->uses("bi"));
  CHECK_FALSE(LogFormat::compile(kHttpLogFormat, true)->usesBackendSource());
  CHECK(LogFormat::compile("%ci %{+X}bp", true)->usesBackendSource());
}
