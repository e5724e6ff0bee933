// proxyd/http1: behaviour of the strict incremental HTTP/1.x parser. Every
// case is fed whole, split at every byte and one byte at a time
// (everySplit), and must give the same result each way.
#include "http1_test_util.h"
#include "proxyd/http1.h"

#include <catch2/catch.hpp>
#include <string>

using namespace proxyd::http1;
using namespace proxyd::http1::test;

namespace {

constexpr auto Req = Kind::Request;
constexpr auto Resp = Kind::Response;

std::size_t at(const std::string& s, std::string_view what, std::size_t from = 0) {
  const auto p = s.find(what, from);
  REQUIRE(p != std::string::npos);
  return p;
}

Outcome refused(Kind k, const std::string& s, Err code, int status, std::size_t offset,
                RequestContext ctx = {}, Limits limits = {}) {
  INFO(s);
  const Outcome o = everySplit(k, s, false, ctx, limits);
  INFO(o.text());
  REQUIRE(o.failed);
  CHECK(describe(o.error.code) == std::string(describe(code)));
  CHECK(o.error.status == status);
  CHECK(o.error.offset == offset);
  return o;
}

Outcome accepted(Kind k, const std::string& s, bool eof = false, RequestContext ctx = {},
                 Limits limits = {}) {
  INFO(s);
  const Outcome o = everySplit(k, s, eof, ctx, limits);
  INFO(o.text());
  REQUIRE_FALSE(o.failed);
  return o;
}

} // namespace

// ---------------------------------------------------------------- requests

TEST_CASE("a GET without body is a head then the end", "[http1]") {
  const std::string s = "GET /a?b=c HTTP/1.1\r\nHost: example.com\r\nAccept:  */* \r\n\r\n";
  const auto o = accepted(Req, s);
  REQUIRE(o.events.size() == 2);
  CHECK(o.events[0] == "HEAD GET /a?b=c HTTP/1.1 framing=none KEEPALIVE "
                       "[Host=example.com] [Accept=*/*]");
  CHECK(o.events[1] == "END");
  CHECK(o.forwarded == s);
}

TEST_CASE("the message views point into the head buffer", "[http1]") {
  Parser p(Req);
  const std::string s = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  auto r = p.parse(s);
  REQUIRE(r.event == Event::Head);
  CHECK(r.consumed == s.size() - 3);
  const auto& m = p.message();
  CHECK(m.methodKind == Method::Put);
  CHECK(m.target == "/x");
  CHECK(m.find("content-length")->value == "3");
  CHECK(m.find("x-absent") == nullptr);
  CHECK(p.rawHead() == s.substr(0, s.size() - 3));
  CHECK(m.target.data() >= p.rawHead().data());
  CHECK(p.inBody());
  r = p.parse(std::string_view(s).substr(r.consumed));
  REQUIRE(r.event == Event::Data);
  CHECK(r.data == "abc");
  r = p.parse({});
  CHECK(r.event == Event::End);
  CHECK(p.betweenMessages());
}

TEST_CASE("a Content-Length body is reported as data then the end", "[http1]") {
  const std::string s = "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
  const auto o = accepted(Req, s);
  REQUIRE(o.events.size() == 3);
  CHECK(o.events[0].find("framing=length:11") != std::string::npos);
  CHECK(o.events[1] == "BODY hello world");
  CHECK(o.forwarded == s);
}

TEST_CASE("Content-Length: 0 ends at the head", "[http1]") {
  const auto o = accepted(Req, "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
  CHECK(o.events.size() == 2);
  CHECK(o.messages == 1);
}

TEST_CASE("a chunked body: payload reported, framing re-encoded, trailers kept", "[http1]") {
  const std::string head = "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string s = head + "5\r\nhello\r\n"
                               "1;name=value;q=\"a \\\"b\\\"\"\r\n \r\n"
                               "00006 ; ext\r\nworld!\r\n"
                               "0\r\nChecksum: abc\r\nX-T: \r\n\r\n";
  const auto o = accepted(Req, s);
  REQUIRE(o.events.size() == 3);
  CHECK(o.events[0].find("framing=chunked") != std::string::npos);
  CHECK(o.events[1] == "BODY hello world!");
  CHECK(o.events[2] == "END");
  CHECK(o.forwarded == head + "5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n"
                              "0\r\nChecksum: abc\r\nX-T: \r\n\r\n");
}

// Issue 10, "messages forwarded as received": a next hop must read the body
// as the proxy did, so what goes on is re-encoded, as HAProxy's is.
TEST_CASE("framing: chunk-size lines go on as upper-case hex, nothing else", "[http1]") {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto o = accepted(Req, head + "5 ;x=y\r\nhello\r\n000a\t\r\n0123456789\r\n"
                                      "fffffffffffff\r\nabc");
  CHECK(o.forwarded == head + "5\r\nhello\r\nA\r\n0123456789\r\nFFFFFFFFFFFFF\r\nabc");
  const auto last = accepted(Req, head + "0000;ext=\"v\"\r\n\r\n");
  CHECK(last.forwarded == head + "0\r\n\r\n");
}

TEST_CASE("framing: Content-Length and Transfer-Encoding trailers are dropped", "[http1]") {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto o = accepted(Req, head + "2\r\nab\r\n0\r\nX-T: 1\r\nContent-Length: 7\r\n"
                                      "transfer-encoding: chunked\r\nCONTENT-LENGTH:0\r\n"
                                      "Y:2\r\n\r\n");
  CHECK(o.forwarded == head + "2\r\nab\r\n0\r\nX-T: 1\r\nY:2\r\n\r\n");
  // The same for a response.
  const std::string rh = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  const auto r = accepted(Resp, rh + "0\r\nContent-Length: 5\r\n\r\n", true);
  CHECK(r.forwarded == rh + "0\r\n\r\n");
}

TEST_CASE("framing: nothing of a refused chunk line or trailer goes on", "[http1]") {
  // A 20 000-byte extension: the line is refused past Limits::maxHead and
  // not a byte of it was let through (only the head and the chunk before).
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string s =
      head + "1\r\nx\r\n5;a=" + std::string(20000, 'b') + "\r\nhello\r\n0\r\n\r\n";
  const auto o = refused(Req, s, Err::ChunkLineTooLong, 400, head.size() + 6 + 16384);
  CHECK(o.forwarded == head + "1\r\nx\r\n");
  // A bad trailer after a good one: the good one went on, the bad one not.
  const std::string t = head + "0\r\nA: 1\r\nB : 2\r\n\r\n";
  const auto b = refused(Req, t, Err::SpaceBeforeColon, 400, t.find("B :") + 1);
  CHECK(b.forwarded == head + "0\r\nA: 1\r\n");
}

TEST_CASE("chunk sizes are hex, case-insensitive, with whitespace before CRLF", "[http1]") {
  const auto o = accepted(Req, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                               "A\r\n0123456789\r\na \t\r\nabcdefghij\r\n0\r\n\r\n");
  CHECK(o.events[1] == "BODY 0123456789abcdefghij");
}

TEST_CASE("pipelined requests are parsed one after the other", "[http1]") {
  const std::string s = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                        "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab"
                        "PUT /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                        "2\r\ncd\r\n0\r\n\r\n"
                        "\r\n" // an empty line after a body is skipped (RFC 9112 2.2)
                        "HEAD /4 HTTP/1.0\r\n\r\n";
  const auto o = accepted(Req, s);
  CHECK(o.messages == 4);
  CHECK(o.events[0].rfind("HEAD GET /1", 0) == 0);
  CHECK(o.events[2].rfind("HEAD POST /2", 0) == 0);
  CHECK(o.events[3] == "BODY ab");
  CHECK(o.events[5].rfind("HEAD PUT /3", 0) == 0);
  CHECK(o.events[6] == "BODY cd");
  CHECK(o.events[8] == "HEAD HEAD /4 HTTP/1.0 framing=none");
  // The skipped empty line is the only thing not forwarded.
  std::string expect = s;
  expect.erase(at(s, "\r\nHEAD"), 2);
  CHECK(o.forwarded == expect);
}

TEST_CASE("empty lines before a request are skipped and counted in offsets", "[http1]") {
  accepted(Req, "\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  refused(Req, "\r\n\r\nGET / HTTP/1.1\r\nBad Name: x\r\n\r\n", Err::SpaceBeforeColon, 400, 23);
  refused(Req, "\r\n\nGET / HTTP/1.1\r\n\r\n", Err::BareLf, 400, 2);
}

TEST_CASE("a finished parser is reset for the next message by parse()", "[http1]") {
  Parser p(Req);
  std::string_view in = "GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n";
  auto r = p.parse(in);
  REQUIRE(r.event == Event::Head);
  CHECK(p.message().target == "/a");
  in.remove_prefix(r.consumed);
  REQUIRE(p.parse(in).event == Event::End);
  r = p.parse(in);
  REQUIRE(r.event == Event::Head);
  CHECK(p.message().target == "/b");
  CHECK(r.consumed == in.size());
}

TEST_CASE("connection persistence follows the version and Connection tokens", "[http1]") {
  auto head = [](const std::string& s) {
    const auto o = accepted(Req, s);
    return o.events.at(0);
  };
  CHECK(head("GET / HTTP/1.1\r\n\r\n").find("KEEPALIVE") != std::string::npos);
  CHECK(head("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n").find("KEEPALIVE") == std::string::npos);
  CHECK(head("GET / HTTP/1.0\r\n\r\n").find("KEEPALIVE") == std::string::npos);
  CHECK(head("GET / HTTP/1.0\r\nConnection: foo, Keep-Alive\r\n\r\n").find("KEEPALIVE") !=
        std::string::npos);
  CHECK(head("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
            .find("KEEPALIVE") == std::string::npos);
}

TEST_CASE("Expect: 100-continue is flagged on HTTP/1.1 requests only", "[http1]") {
  CHECK(accepted(Req, "POST / HTTP/1.1\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\nx")
            .events[0]
            .find("EXPECT100") != std::string::npos);
  CHECK(accepted(Req, "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx")
            .events[0]
            .find("EXPECT100") == std::string::npos);
}

TEST_CASE("Upgrade is flagged only with the upgrade Connection token", "[http1]") {
  CHECK(accepted(Req, "GET /ws HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n"
                      "Upgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n")
            .events[0]
            .find(" UPGRADE") != std::string::npos);
  CHECK(
      accepted(Req, "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").events[0].find(" UPGRADE") ==
      std::string::npos);
  CHECK(accepted(Req, "GET /ws HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n"
                      "Sec-WebSocket-Key: k\r\n\r\n")
            .events[0]
            .find(" UPGRADE") == std::string::npos);
}

// HAProxy 2.6 checks the websocket handshake's key fields (checked on
// loopback); other upgrades need none.
TEST_CASE("a websocket upgrade needs Sec-WebSocket-Key, its 101 Sec-WebSocket-Accept", "[http1]") {
  for (const char* v : {"1.1", "1.0"}) {
    const std::string s = std::string("GET / HTTP/") + v +
                          "\r\nConnection: Upgrade\r\nUpgrade: h2c, websocket\r\n\r\n";
    refused(Req, s, Err::MissingWebSocketKey, 400, at(s, "Upgrade: h2c"));
  }
  accepted(Req, "GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: foo\r\n\r\n");
  accepted(Req, "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n"); // no upgrade token
  const std::string r = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\n\r\n";
  refused(Resp, r, Err::MissingWebSocketAccept, 502, at(r, "Upgrade:"), {Method::Get, true});
  accepted(Resp, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: foo\r\nConnection: Upgrade\r\n\r\n",
           true, {Method::Get, true});
}

TEST_CASE("request targets: origin, absolute, authority for CONNECT, * for OPTIONS", "[http1]") {
  accepted(Req, "GET http://example.com/x HTTP/1.1\r\n\r\n");
  accepted(Req, "OPTIONS * HTTP/1.1\r\n\r\n");
  const auto o = accepted(Req, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  CHECK(o.events[0].rfind("HEAD CONNECT example.com:443", 0) == 0);
  refused(Req, "GET * HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "CONNECT /x HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
  refused(Req, "CONNECT example.com HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
  refused(Req, "GET example.com/ HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
}

// Targets whose path a fetch would not find while the server does (HAProxy
// 2.6 answers 400 to each): a scheme needs "://" and an authority.
TEST_CASE("a scheme without an authority is refused", "[http1][target]") {
  for (const char* t :
       {"x:/admin", "http:/admin", "http:admin", "HTTP:/admin", "mailto:x@y", "urn:x://a/admin"}) {
    refused(Req, std::string("GET ") + t + " HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 4);
  }
}

TEST_CASE("authority-form is for CONNECT only, with a port", "[http1][target]") {
  refused(Req, "GET a:80 HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "POST a.example:443 HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 5);
  refused(Req, "CONNECT a: HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
  refused(Req, "CONNECT a:x HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
  // Stricter than HAProxy, which accepts these three.
  refused(Req, "CONNECT :443 HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
  refused(Req, "CONNECT a:443/x HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
  refused(Req, "CONNECT u@a:443 HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
  accepted(Req, "CONNECT [::1]:443 HTTP/1.1\r\n\r\n");
  accepted(Req, "CONNECT http://a:443/ HTTP/1.1\r\nHost: a\r\n\r\n");
  refused(Req, "CONNECT http://a/ HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 8);
}

TEST_CASE("fragments and authorities not followed by a path are refused", "[http1][target]") {
  refused(Req, "GET /x#f HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 6);
  refused(Req, "GET /admin#/x HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 10);
  refused(Req, "GET http://a/x#f HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 14);
  refused(Req, "GET http://a#f HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 12);
  refused(Req, "GET http://a?x HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "GET http://a?x HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
  // An empty host (RFC 9110 4.2.1: reject; HAProxy accepts it without Host).
  refused(Req, "GET http:///admin HTTP/1.1\r\nHost: a\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "GET http://:80/x HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "GET http://u@/x HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "GET http://a:x/ HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "GET http://[::1/ HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
  accepted(Req, "GET http://a HTTP/1.1\r\nHost: a\r\n\r\n");
  accepted(Req, "GET HTTP://a/x HTTP/1.1\r\nHost: a\r\n\r\n");
  accepted(Req, "GET x://a/admin HTTP/1.1\r\nHost: a\r\n\r\n");
  accepted(Req, "GET //admin HTTP/1.1\r\nHost: a\r\n\r\n"); // a path with an empty segment
}

// The absolute-form authority and Host name one vhost (HAProxy 2.6's checks).
TEST_CASE("a Host that differs from the target's authority is refused", "[http1][host]") {
  auto mismatch = [](const std::string& s) {
    refused(Req, s, Err::HostMismatch, 400, at(s, "Host:"));
  };
  mismatch("GET http://internal.example/x HTTP/1.1\r\nHost: public.example\r\n\r\n");
  mismatch("GET https://internal.example/x HTTP/1.1\r\nHost: public.example\r\n\r\n");
  mismatch("GET http://u:p@internal.example/x HTTP/1.1\r\nHost: public.example\r\n\r\n");
  mismatch("GET http://a@b/x HTTP/1.1\r\nHost: a\r\n\r\n");
  mismatch("GET HTTP://a/x HTTP/1.1\r\nHost: b\r\n\r\n");
  mismatch("GET http://a/x HTTP/1.1\r\nHost:\r\n\r\n");
  mismatch("GET http://a/x HTTP/1.1\r\nHost: a, b\r\n\r\n");
  mismatch("GET http://a/x HTTP/1.1\r\nHost: a.\r\n\r\n");
  // Ports: only the scheme's default one may be left out.
  mismatch("GET http://a:8080/x HTTP/1.1\r\nHost: a\r\n\r\n");
  mismatch("GET http://a:080/x HTTP/1.1\r\nHost: a\r\n\r\n");
  mismatch("GET http://a/x HTTP/1.1\r\nHost: a:443\r\n\r\n");
  mismatch("GET https://a/x HTTP/1.1\r\nHost: a:80\r\n\r\n");
  mismatch("GET ftp://a:21/x HTTP/1.1\r\nHost: a\r\n\r\n");
  mismatch("CONNECT a:443 HTTP/1.1\r\nHost: public.example\r\n\r\n");
  mismatch("CONNECT a:443 HTTP/1.1\r\nHost: a:80\r\n\r\n");
  mismatch("CONNECT a:8443 HTTP/1.1\r\nHost: a\r\n\r\n");
  // The first Host is the one compared; a second one must equal it.
  const std::string two = "GET http://a/x HTTP/1.1\r\nHost: b\r\nHost: a\r\n\r\n";
  refused(Req, two, Err::DuplicateHost, 400, at(two, "Host: a"));
}

TEST_CASE("Host and authority that agree are accepted, default ports dropped from Host",
          "[http1][host]") {
  auto host = [](const std::string& s) {
    const auto o = accepted(Req, s);
    const auto& e = o.events[0];
    const auto b = e.find("[Host=");
    if (b == std::string::npos) return std::string("none");
    const auto end = std::min(e.find("] [", b), e.size() - 1); // the value may hold ']'
    return e.substr(b + 6, end - b - 6);
  };
  CHECK(host("GET http://a/x HTTP/1.1\r\nHost: a\r\n\r\n") == "a");
  CHECK(host("GET http://internal.example/x HTTP/1.1\r\nHost: INTERNAL.example\r\n\r\n") ==
        "INTERNAL.example");
  CHECK(host("GET http://a:80/x HTTP/1.1\r\nHost: a\r\n\r\n") == "a");
  CHECK(host("GET http://a/x HTTP/1.1\r\nHost: a:80\r\n\r\n") == "a:80");
  CHECK(host("GET http://a:80/x HTTP/1.1\r\nHost: a:80\r\n\r\n") == "a");
  CHECK(host("GET http://a:/x HTTP/1.1\r\nHost: a:\r\n\r\n") == "a");
  CHECK(host("GET https://a:443/x HTTP/1.1\r\nHost: a\r\n\r\n") == "a");
  CHECK(host("GET https://a/x HTTP/1.1\r\nHost: a:443\r\n\r\n") == "a:443");
  CHECK(host("GET http://u:p@a/x HTTP/1.1\r\nHost: a\r\n\r\n") == "a");
  CHECK(host("GET http://[::1]:80/x HTTP/1.1\r\nHost: [::1]\r\n\r\n") == "[::1]");
  CHECK(host("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n") == "a");
  CHECK(host("CONNECT a:80 HTTP/1.1\r\nHost: a\r\n\r\n") == "a");
  CHECK(host("CONNECT a:8443 HTTP/1.1\r\nHost: A:8443\r\n\r\n") == "A:8443");
  CHECK(host("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]\r\n\r\n") == "[::1]");
  // Origin-form: nothing to compare.
  CHECK(host("GET /x HTTP/1.1\r\nHost: a:80\r\n\r\n") == "a:80");
  CHECK(host("GET /x HTTP/1.1\r\nHost:\r\n\r\n") == "");
  CHECK(host("GET /x HTTP/1.1\r\n\r\n") == "none");
}

TEST_CASE("without Host, the target's authority gives one", "[http1][host]") {
  auto hosts = [](const std::string& s) {
    const auto o = accepted(Req, s);
    std::string out;
    for (auto b = o.events[0].find("[Host="); b != std::string::npos;
         b = o.events[0].find("[Host=", b + 1))
      out += o.events[0].substr(b, o.events[0].find(']', b) - b + 1);
    return out;
  };
  CHECK(hosts("GET http://internal.example/x HTTP/1.1\r\n\r\n") == "[Host=internal.example]");
  CHECK(hosts("GET http://internal.example/x HTTP/1.0\r\n\r\n") == "[Host=internal.example]");
  CHECK(hosts("GET http://u:p@a:8080/x HTTP/1.1\r\n\r\n") == "[Host=a:8080]");
  CHECK(hosts("GET http://a:80/x HTTP/1.1\r\n\r\n") == "[Host=a]");
  CHECK(hosts("GET https://a:443/x HTTP/1.1\r\n\r\n") == "[Host=a]");
  CHECK(hosts("GET https://a:80/x HTTP/1.1\r\n\r\n") == "[Host=a:80]");
  CHECK(hosts("CONNECT a:443 HTTP/1.1\r\n\r\n") == "[Host=a]");
  CHECK(hosts("CONNECT a:8443 HTTP/1.1\r\n\r\n") == "[Host=a:8443]");
  // The head forwarded (serializeHead) carries it.
  Parser p(Req);
  REQUIRE(p.parse("GET http://i.example/x HTTP/1.1\r\n\r\n").event == Event::Head);
  CHECK(serializeHead(p.message()) == "GET http://i.example/x HTTP/1.1\r\nHost: i.example\r\n\r\n");
}

TEST_CASE("splitTarget reads the four forms", "[http1][target]") {
  using F = TargetParts::Form;
  auto t = splitTarget("/a/b?c=d");
  CHECK((t.form == F::Origin && t.path == "/a/b" && t.hasQuery && t.query == "c=d"));
  t = splitTarget("HTTP://u:p@[::1]:8080/p?q");
  CHECK((t.form == F::Absolute && t.scheme == "HTTP" && t.authority == "[::1]:8080" &&
         t.host == "[::1]" && t.port == "8080" && t.path == "/p" && t.query == "q"));
  t = splitTarget("http://h");
  CHECK((t.form == F::Absolute && t.authority == "h" && !t.hasPort && t.path.empty()));
  t = splitTarget("h:443");
  CHECK((t.form == F::Authority && t.host == "h" && t.port == "443"));
  CHECK(splitTarget("*").form == F::Asterisk);
  CHECK(splitTarget("x:/admin").form == F::Invalid);
  CHECK(splitTarget("http:///x").form == F::Invalid);
  CHECK(splitTarget("").form == F::Invalid);
}

TEST_CASE("a CONNECT request parser switches to a tunnel when told", "[http1]") {
  Parser p(Req);
  std::string_view in = "CONNECT h:443 HTTP/1.1\r\n\r\n";
  REQUIRE(p.parse(in).event == Event::Head);
  CHECK(p.message().methodKind == Method::Connect);
  REQUIRE(p.parse({}).event == Event::End);
  p.startTunnel();
  const auto r = p.parse("\x16\x03\x01 not http");
  CHECK(r.event == Event::Data);
  CHECK(r.data == "\x16\x03\x01 not http");
  CHECK(p.finish().event == Event::NeedMore); // clean close
}

// ---------------------------------------------------------------- smuggling

TEST_CASE("smuggling: Content-Length with Transfer-Encoding is refused", "[http1]") {
  const std::string clte = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
                           "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  refused(Req, clte, Err::TransferEncodingAndContentLength, 400, at(clte, "Transfer-Encoding"));
  const std::string tecl = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                           "Content-Length: 5\r\n\r\n0\r\n\r\n";
  refused(Req, tecl, Err::TransferEncodingAndContentLength, 400, at(tecl, "Content-Length"));
  // Responses too, with 502.
  const std::string resp =
      "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n";
  refused(Resp, resp, Err::TransferEncodingAndContentLength, 502, at(resp, "Transfer"));
}

TEST_CASE("smuggling: differing Content-Length values are refused", "[http1]") {
  const std::string s = "POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 6\r\n\r\n";
  refused(Req, s, Err::ConflictingContentLength, 400, at(s, "content-length"));
  const std::string l = "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n";
  refused(Req, l, Err::ConflictingContentLength, 400, at(l, "Content-Length"));
}

TEST_CASE("identical Content-Length values are merged", "[http1]") {
  auto o = accepted(Req, "POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc");
  CHECK(o.events[1] == "BODY abc");
  o = accepted(Req, "POST / HTTP/1.1\r\nContent-Length: 3 ,3\r\n\r\nabc");
  CHECK(o.events[1] == "BODY abc");
}

TEST_CASE("smuggling: Content-Length must be plain digits within 64 bits", "[http1]") {
  for (const char* v : {"+5", "-1", "0x5", "5 5", "5;", "", "5,", "1e3", "\xd9\xa5",
                        "18446744073709551616", "99999999999999999999999"}) {
    const std::string s = std::string("POST / HTTP/1.1\r\nContent-Length: ") + v + "\r\n\r\n";
    INFO(v);
    refused(Req, s, Err::BadContentLength, 400, at(s, "Content-Length"));
  }
  const auto o = accepted(Req, "HEAD / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n");
  CHECK(o.events[0].find("length:18446744073709551615") != std::string::npos);
}

TEST_CASE("smuggling: Transfer-Encoding codings are checked", "[http1]") {
  auto te = [](const std::string& v) {
    return "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: " + v + "\r\n\r\n0\r\n\r\n";
  };
  auto teAt = [&](const std::string& v) { return at(te(v), "Transfer-Encoding"); };
  refused(Req, te("chunked, identity"), Err::ChunkedNotLast, 400, teAt("chunked, identity"));
  refused(Req, te("chunked, gzip"), Err::ChunkedNotLast, 400, teAt("chunked, gzip"));
  refused(Req, te("identity"), Err::UnknownTransferCoding, 501, teAt("identity"));
  refused(Req, te("xchunked"), Err::UnknownTransferCoding, 501, teAt("xchunked"));
  refused(Req, te("chunkedx"), Err::UnknownTransferCoding, 501, teAt("chunkedx"));
  refused(Req, te("gzip"), Err::NotChunkedLast, 400, teAt("gzip"));
  refused(Req, te("chunked, chunked"), Err::ChunkedTwice, 400, teAt("chunked, chunked"));
  refused(Req, te("chunked;x=1"), Err::BadTransferEncoding, 400, teAt("chunked;x=1"));
  refused(Req, te("\"chunked\""), Err::BadTransferEncoding, 400, teAt("\"chunked\""));
  refused(Req, te(""), Err::BadTransferEncoding, 400, teAt(""));
  refused(Req, te(" , "), Err::BadTransferEncoding, 400, teAt(" , "));
  refused(Req, te("chunked\x0b"), Err::BadHeaderValue, 400, at(te("chunked\x0b"), "\x0b"));
  // chunked in two fields is chunked twice.
  const std::string two = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  refused(Req, two, Err::ChunkedTwice, 400, at(two, "Transfer-Encoding", 20));
  // Accepted spellings.
  accepted(Req, te("Chunked"));
  accepted(Req, te("gzip;level=\"1\", chunked"));
  accepted(Req, te(", chunked"));
}

TEST_CASE("smuggling: Transfer-Encoding in HTTP/1.0 is refused", "[http1]") {
  const std::string s = "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
  refused(Req, s, Err::TransferEncodingHttp10, 400, at(s, "Transfer"));
}

TEST_CASE("smuggling: whitespace before the colon is refused", "[http1]") {
  const std::string s = "POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n";
  refused(Req, s, Err::SpaceBeforeColon, 400, at(s, " :"));
  const std::string t = "POST / HTTP/1.1\r\nTransfer-Encoding\t: chunked\r\n\r\n";
  refused(Req, t, Err::SpaceBeforeColon, 400, at(t, "\t"));
}

TEST_CASE("smuggling: obs-fold is refused", "[http1]") {
  const std::string s = "POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\n\r\n";
  refused(Req, s, Err::ObsFold, 400, at(s, " chunked"));
  const std::string t = "GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n";
  refused(Req, t, Err::ObsFold, 400, at(t, "\tb"));
  // Whitespace between the start line and the first field (RFC 9112 2.2).
  refused(Req, "GET / HTTP/1.1\r\n Host: h\r\n\r\n", Err::ObsFold, 400, 16);
}

TEST_CASE("smuggling: bad chunk sizes are refused at the offending byte", "[http1]") {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto chunk = [&](const std::string& body, Err e, std::size_t off) {
    refused(Req, head + body, e, 400, head.size() + off);
  };
  chunk("0x10\r\n", Err::BadChunkSize, 1);
  chunk("-1\r\n", Err::BadChunkSize, 0);
  chunk("+1\r\n", Err::BadChunkSize, 0);
  chunk(" 1\r\n", Err::BadChunkSize, 0);
  chunk("\r\n", Err::BadChunkSize, 0);
  chunk("g\r\n", Err::BadChunkSize, 0);
  chunk("1g\r\n", Err::BadChunkSize, 1);
  chunk("1 2\r\n", Err::BadChunkSize, 2);
  // Above 2^52-1 (13 hex digits), HAProxy's bound: refused at the digit
  // that passes it.
  chunk("10000000000000000\r\n", Err::ChunkSizeOverflow, 13); // 2^64
  chunk("fffffffffffffffff\r\n", Err::ChunkSizeOverflow, 13);
  chunk("10000000000000\r\n", Err::ChunkSizeOverflow, 13);   // 2^52
  chunk("ffffffffffffffff\r\n", Err::ChunkSizeOverflow, 13); // 2^64-1
  chunk("1\nx\r\n", Err::BareLf, 1);
  chunk("1\rx\r\n", Err::BareCr, 1);
  chunk("1\r\nxy\r\n", Err::BadChunkEnd, 4);   // data longer than the size
  chunk("1\r\nx\n0\r\n", Err::BadChunkEnd, 4); // LF without CR after data
  chunk("1\r\nx\r0\r\n", Err::BadChunkEnd, 5);
  // Leading zeros are fine, and the largest size is accepted (then truncated).
  accepted(Req, head + "000000000000000000001\r\nx\r\n0\r\n\r\n");
  accepted(Req, head + "fffffffffffff\r\nabc");
  accepted(Req, head + "0000fffffffffffff\r\nabc");
}

TEST_CASE("chunk extensions must follow the grammar", "[http1]") {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const char* ok :
       {"1;a\r\n", "1 ; a = b \r\n", "1;a=\"\"\r\n", "1;a;b=c;d=\"e;f\"\r\n", "1;a=\"\\\"\"\r\n"}) {
    INFO(ok);
    accepted(Req, head + ok + "x\r\n0\r\n\r\n");
  }
  for (const char* bad : {"1;\r\n", "1;=x\r\n", "1;a=\r\n", "1;a=\"x\r\n", "1;a b\r\n",
                          "1;a=b c\r\n", "1;a=\"x\"y\r\n", "1;a@\r\n", "1;a=\"\x01\"\r\n"}) {
    INFO(bad);
    const std::string s = head + bad + "x\r\n0\r\n\r\n";
    const auto o = everySplit(Req, s);
    REQUIRE(o.failed);
    CHECK(o.error.code == Err::BadChunkExtension);
    CHECK(o.error.status == 400);
  }
}

TEST_CASE("trailers are validated like fields", "[http1]") {
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  refused(Req, head + "X: a\r\n b\r\n\r\n", Err::ObsFold, 400, head.size() + 6);
  refused(Req, head + "X : a\r\n\r\n", Err::SpaceBeforeColon, 400, head.size() + 1);
  refused(Req, head + "X\r\n\r\n", Err::MissingColon, 400, head.size() + 1);
  refused(Req, head + "X: a\nY: b\r\n\r\n", Err::BareLf, 400, head.size() + 4);
  refused(Req, head + "X: a\rY: b\r\n\r\n", Err::BareCr, 400, head.size() + 4);
  refused(Req, head + "X: a\x7f\r\n\r\n", Err::BadHeaderValue, 400, head.size() + 4);
  refused(Req, head + "X: a" + std::string(1, '\0') + "\r\n\r\n", Err::Nul, 400, head.size() + 4);
  refused(Req, head + "\r\r\n", Err::BareCr, 400, head.size());
}

TEST_CASE("smuggling: bare CR, bare LF and NUL in the head are refused", "[http1]") {
  refused(Req, "GET / HTTP/1.1\rHost: h\r\n\r\n", Err::BareCr, 400, 14);
  refused(Req, "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", Err::BareCr, 400, 20);
  refused(Req, "GET / HTTP/1.1\r\nX: a\r\r\n\r\n", Err::BareCr, 400, 20);
  refused(Req, "GET / HTTP/1.1\nHost: h\n\n", Err::BareLf, 400, 14);
  refused(Req, "GET / HTTP/1.1\r\nHost: h\r\n\n", Err::BareLf, 400, 25);
  refused(Req, std::string("GET / HTTP/1.1\r\nX: a\0b\r\n\r\n", 26), Err::Nul, 400, 20);
  refused(Req, std::string("GET /\0 HTTP/1.1\r\n\r\n", 19), Err::Nul, 400, 5);
  refused(Resp, "HTTP/1.1 200 OK\nContent-Length: 0\n\n", Err::BareLf, 502, 15);
}

TEST_CASE("request lines: methods, targets and versions are strict", "[http1]") {
  refused(Req, "G(T / HTTP/1.1\r\n\r\n", Err::BadMethod, 400, 1);
  refused(Req, " GET / HTTP/1.1\r\n\r\n", Err::BadMethod, 400, 0);
  refused(Req, "GET  / HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 4);
  refused(Req, "GET /a b HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 6);
  refused(Req, "GET /a\tb HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 6);
  refused(Req, "GET /\x7f HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 5);
  refused(Req, "GET /\xc3\xa9 HTTP/1.1\r\n\r\n", Err::BadTarget, 400, 5);
  refused(Req, "GET / HTTP/1.1 \r\n\r\n", Err::BadTarget, 400, 5);
  refused(Req, "GET /\r\n\r\n", Err::BadStartLine, 400, 5);
  refused(Req, "GET\r\n\r\n", Err::BadStartLine, 400, 3);
  refused(Req, "GET / HTTP/2.0\r\n\r\n", Err::UnsupportedVersion, 505, 6);
  refused(Req, "GET / HTTP/0.9\r\n\r\n", Err::UnsupportedVersion, 505, 6);
  refused(Req, "GET / HTTP/1.10\r\n\r\n", Err::BadVersion, 400, 6);
  refused(Req, "GET / http/1.1\r\n\r\n", Err::BadVersion, 400, 6);
  refused(Req, "GET / HTTP/1\r\n\r\n", Err::BadVersion, 400, 6);
  // A well-formed later minor version is handled as HTTP/1.1.
  const auto o = accepted(Req, "GET / HTTP/1.2\r\n\r\n");
  CHECK(o.events[0].find("KEEPALIVE") != std::string::npos);
  // Methods are tokens, any of them.
  accepted(Req, "PROPFIND /dav HTTP/1.1\r\n\r\n");
}

TEST_CASE("field lines: names are tokens, values have no CTLs", "[http1]") {
  refused(Req, "GET / HTTP/1.1\r\n: x\r\n\r\n", Err::BadHeaderName, 400, 16);
  refused(Req, "GET / HTTP/1.1\r\nA(b: x\r\n\r\n", Err::BadHeaderName, 400, 17);
  refused(Req, "GET / HTTP/1.1\r\nNoColon\r\n\r\n", Err::MissingColon, 400, 23);
  refused(Req, "GET / HTTP/1.1\r\nNo colon\r\n\r\n", Err::MissingColon, 400, 18);
  refused(Req, "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", Err::BadHeaderValue, 400, 20);
  refused(Req, "GET / HTTP/1.1\r\nX: a\x7f\r\n\r\n", Err::BadHeaderValue, 400, 20);
  // HT and obs-text are allowed in values.
  const auto o = accepted(Req, "GET / HTTP/1.1\r\nX: a\tb \xc3\xa9\r\nEmpty:\r\n\r\n");
  CHECK(o.events[0].find("[X=a\tb \xc3\xa9] [Empty=]") != std::string::npos);
}

TEST_CASE("two different Host fields are refused, identical ones merged", "[http1]") {
  const std::string s = "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
  refused(Req, s, Err::DuplicateHost, 400, at(s, "Host: b"));
  const std::string e = "GET / HTTP/1.1\r\nHost: a\r\nHost:\r\n\r\n";
  refused(Req, e, Err::DuplicateHost, 400, at(e, "Host:\r"));
  // As HAProxy: an identical repeat (case-insensitively) is dropped.
  const auto o = accepted(Req, "GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\nHost: A\r\n\r\n");
  CHECK(o.events[0].ends_with("[Host=a] [X=1]"));
}

// ---------------------------------------------------------------- limits

TEST_CASE("limits: the whole head must fit in maxHead", "[http1]") {
  Limits lim;
  lim.maxHead = 64;
  std::string s = "GET / HTTP/1.1\r\nX: ";
  s += std::string(64 - s.size() - 4, 'a') + "\r\n\r\n";
  REQUIRE(s.size() == 64);
  accepted(Req, s, false, {}, lim);
  std::string big = s;
  big.insert(20, "a");
  refused(Req, big, Err::HeadTooLarge, 431, 64, {}, lim);
  // The request line alone over the limit is 414.
  const std::string longUri = "GET /" + std::string(100, 'u') + " HTTP/1.1\r\n\r\n";
  refused(Req, longUri, Err::UriTooLong, 414, 64, {}, lim);
  // Responses: 502.
  refused(Resp, "HTTP/1.1 200 OK\r\nX: " + std::string(100, 'v') + "\r\n\r\n", Err::HeadTooLarge,
          502, 64, {}, lim);
}

TEST_CASE("limits: the default head limit is 16384 bytes", "[http1]") {
  std::string s = "GET / HTTP/1.1\r\nX: ";
  s += std::string(16384 - s.size() - 4, 'a') + "\r\n\r\n";
  auto o = whole(Req, s);
  CHECK_FALSE(o.failed);
  s.insert(20, "a");
  o = whole(Req, s);
  REQUIRE(o.failed);
  CHECK(o.error.status == 431);
  CHECK(o.error.offset == 16384);
}

TEST_CASE("limits: at most 101 fields", "[http1]") {
  std::string s = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i)
    s += "X" + std::to_string(i) + ": v\r\n";
  auto o = whole(Req, s + "\r\n");
  CHECK_FALSE(o.failed);
  const auto off = s.size();
  s += "Y: v\r\n\r\n";
  o = whole(Req, s);
  REQUIRE(o.failed);
  CHECK(o.error.code == Err::TooManyHeaders);
  CHECK(o.error.status == 431);
  CHECK(o.error.offset == off);
}

TEST_CASE("limits: trailers and chunk lines are bounded", "[http1]") {
  Limits lim;
  lim.maxHead = 64;
  lim.maxHeaders = 2;
  const std::string head = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  refused(Req, head + "1;" + std::string(80, 'e') + "\r\n", Err::ChunkLineTooLong, 400,
          head.size() + 64, {}, lim);
  refused(Req, head + "0\r\nT: " + std::string(80, 't') + "\r\n\r\n", Err::TrailerTooLarge, 431,
          head.size() + 3 + 64, {}, lim);
  refused(Req, head + "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", Err::TooManyHeaders, 431,
          head.size() + 3 + 12, {}, lim);
}

// ---------------------------------------------------------------- responses

TEST_CASE("responses: 1xx are interim, then the final response follows", "[http1]") {
  const std::string s = "HTTP/1.1 100 Continue\r\n\r\n"
                        "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  const auto o = accepted(Resp, s);
  REQUIRE(o.events.size() == 7);
  CHECK(o.events[0] == "HEAD 100 'Continue' HTTP/1.1 framing=none KEEPALIVE INTERIM");
  CHECK(o.events[2].find("INTERIM") != std::string::npos);
  CHECK(o.events[4] == "HEAD 200 'OK' HTTP/1.1 framing=length:2 KEEPALIVE "
                       "[Content-Length=2]");
  CHECK(o.events[5] == "BODY ok");
  CHECK(o.forwarded == s);
}

TEST_CASE("responses: HEAD, 204 and 304 have no body whatever their fields say", "[http1]") {
  RequestContext head{Method::Head};
  const std::string h = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
  auto o = accepted(Resp, h, false, head);
  CHECK(o.messages == 2);
  CHECK(o.events[0].find("framing=none") != std::string::npos);
  o = accepted(Resp, "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\n"
                     "Content-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx");
  CHECK(o.messages == 3);
  CHECK(o.events.back() == "END");
  CHECK(o.events[5] == "BODY x");
}

TEST_CASE("responses: without length the body runs until close", "[http1]") {
  const std::string s = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nsome body";
  auto o = everySplit(Resp, s, true);
  REQUIRE_FALSE(o.failed);
  CHECK(o.events[0].find("framing=until-close") != std::string::npos);
  CHECK(o.events[0].find("KEEPALIVE") == std::string::npos);
  CHECK(o.events[1] == "BODY some body");
  CHECK(o.events[2] == "END");
  CHECK(o.forwarded == s);
  // Without the close it never ends.
  o = whole(Resp, s);
  CHECK(o.messages == 0);
}

TEST_CASE("responses: a last coding other than chunked runs until close", "[http1]") {
  const auto o = accepted(Resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzzz", true);
  CHECK(o.events[0].find("framing=until-close") != std::string::npos);
  CHECK(o.events[1] == "BODY zzz");
  // Unknown codings are the server's business; chunked framing still applies.
  accepted(Resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: br, chunked\r\n\r\n0\r\n\r\n");
  const std::string bad = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n";
  refused(Resp, bad, Err::ChunkedNotLast, 502, at(bad, "Transfer"));
}

TEST_CASE("responses: the close inside a message is a truncation", "[http1]") {
  auto o = everySplit(Resp, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", true);
  REQUIRE(o.failed);
  CHECK(o.error.code == Err::Truncated);
  CHECK(o.error.offset == 41);
  o = everySplit(Req, "GET / HTTP/1.1\r\nHo", true);
  REQUIRE(o.failed);
  CHECK(o.error.status == 400);
  o = everySplit(Req, "GET / HTTP/1.1\r\n\r\n\r\n", true); // an empty line after: clean
  CHECK_FALSE(o.failed);
}

TEST_CASE("responses: 101 switches to a tunnel only after an upgrade request", "[http1]") {
  const std::string s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                        "Sec-WebSocket-Accept: a\r\nConnection: Upgrade\r\n\r\n\x81\x05hello";
  const auto o = accepted(Resp, s, true, {Method::Get, true});
  REQUIRE(o.events.size() == 3);
  CHECK(o.events[0].find("framing=tunnel") != std::string::npos);
  CHECK(o.events[1] == "END");
  CHECK(o.events[2] == "BODY \x81\x05hello");
  CHECK(o.forwarded == s);
  refused(Resp, s, Err::UnexpectedSwitch, 502, 9);
}

TEST_CASE("responses: 2xx to CONNECT is a tunnel, other statuses are not", "[http1]") {
  RequestContext connect{Method::Connect};
  auto o = accepted(Resp, "HTTP/1.1 200 Connection established\r\n\r\nbytes", false, connect);
  CHECK(o.events[0].find("framing=tunnel") != std::string::npos);
  CHECK(o.events[2] == "BODY bytes");
  o = accepted(Resp, "HTTP/1.1 407 Auth\r\nContent-Length: 1\r\n\r\nx", false, connect);
  CHECK(o.events[0].find("framing=length:1") != std::string::npos);
}

TEST_CASE("responses: status lines", "[http1]") {
  auto o = accepted(Resp, "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n");
  CHECK(o.events[0].rfind("HEAD 200 ''", 0) == 0);
  o = accepted(Resp, "HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n");
  CHECK(o.events[0].find("KEEPALIVE") == std::string::npos);
  accepted(Resp, "HTTP/1.1 599 \xc3\xa9 whatever\t\r\nContent-Length: 0\r\n\r\n");
  refused(Resp, "HTTP/1.1 20 OK\r\n\r\n", Err::BadStatusLine, 502, 9);
  refused(Resp, "HTTP/1.1 099 OK\r\n\r\n", Err::BadStatusLine, 502, 9);
  refused(Resp, "HTTP/1.1 2000 OK\r\n\r\n", Err::BadStatusLine, 502, 12);
  refused(Resp, "HTTP/1.1  200 OK\r\n\r\n", Err::BadStatusLine, 502, 9);
  refused(Resp, "HTTP/1.1 200 O\x01K\r\n\r\n", Err::BadStatusLine, 502, 14);
  refused(Resp, "HTTP/2 200 OK\r\n\r\n", Err::BadVersion, 502, 0);
  refused(Resp, "HTTP/3.0 200 OK\r\n\r\n", Err::UnsupportedVersion, 502, 0);
  refused(Resp, "ICY 200 OK\r\n\r\n", Err::BadVersion, 502, 0);
}

// ---------------------------------------------------------------- API

TEST_CASE("a failed parser stays failed until reset", "[http1]") {
  Parser p(Req);
  auto r = p.parse("GET / HTTP/1.1\r\nX : y\r\n\r\n");
  REQUIRE(r.event == Event::Error);
  r = p.parse("GET / HTTP/1.1\r\n\r\n");
  CHECK(r.event == Event::Error);
  CHECK(r.consumed == 0);
  CHECK(p.finish().event == Event::Error);
  p.reset();
  CHECK(p.parse("GET / HTTP/1.1\r\n\r\n").event == Event::Head);
}

TEST_CASE("serializeHead writes the head back, edits included", "[http1]") {
  const std::string s = "GET /p HTTP/1.1\r\nHost: h\r\nX-Drop: 1\r\nAccept:\t*/* \r\n\r\n";
  Parser p(Req);
  REQUIRE(p.parse(s).event == Event::Head);
  CHECK(serializeHead(p.message()) ==
        "GET /p HTTP/1.1\r\nHost: h\r\nX-Drop: 1\r\nAccept: */*\r\n\r\n");
  Message m = p.message();
  const std::string value = "added";
  m.headers.erase(m.headers.begin() + 1);
  m.headers.push_back({"X-New", value});
  const std::string out = serializeHead(m);
  CHECK(out == "GET /p HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nX-New: added\r\n\r\n");
  // What is serialized parses back to the same message.
  Parser q(Req);
  REQUIRE(q.parse(out).event == Event::Head);
  CHECK(summary(q.message()) == summary(m));

  Parser r(Resp);
  REQUIRE(r.parse("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n").event == Event::Head);
  CHECK(serializeHead(r.message()) == "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
}

TEST_CASE("methodFromToken is case-sensitive", "[http1]") {
  CHECK(methodFromToken("HEAD") == Method::Head);
  CHECK(methodFromToken("head") == Method::Other);
  CHECK(methodFromToken("CONNECT") == Method::Connect);
}
