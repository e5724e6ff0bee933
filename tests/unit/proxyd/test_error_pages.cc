// The responses proxyd writes itself, as HAProxy 2.6.12 sent them on the
// wire (raw captures; tests/integration/test_error_responses.py checks the
// same bytes end to end against both binaries).
#include "config_test_util.h"
#include "proxyd/http_rules.h"

using namespace proxyd;

TEST_CASE("the H1 layer's own pages: raw form, capitalized, with Connection: close",
          "[http][errors]") {
  CHECK(h1ErrorResponse(400) ==
        "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>400 Bad "
        "request</h1>\nYour browser sent an invalid request.\n</body></html>\n");
  CHECK(h1ErrorResponse(408) ==
        "HTTP/1.1 408 Request Time-out\r\nContent-length: 110\r\nCache-Control: no-cache\r\n"
        "Connection: close\r\nContent-Type: text/html\r\n\r\n<html><body><h1>408 Request "
        "Time-out</h1>\nYour browser didn't send a complete request in time.\n</body></html>\n");
}

TEST_CASE("every parse error is HAProxy's 400, a timeout stays 408", "[http][errors]") {
  for (int s : {400, 414, 431, 501, 505})
    CHECK(h1ErrorStatus(s) == 400);
  CHECK(h1ErrorStatus(408) == 408);
}

TEST_CASE("connection: close goes last in the head, once", "[http][errors]") {
  CHECK(withConnectionClose("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok") ==
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok");
  CHECK(withConnectionClose("HTTP/1.1 200 OK\r\n\r\n") ==
        "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n");
  std::string raw = h1ErrorResponse(400);
  CHECK(withConnectionClose(raw) == raw);
  CHECK(withConnectionClose("").empty());
}

TEST_CASE("errorfiles are sent as HAProxy's internal form re-serializes them", "[http][errors]") {
  CHECK(htxForm("HTTP/1.1 503 Down\r\nX-Custom:  Yes \r\nContent-Length: 4\r\n"
                "Connection: close\r\n\r\ndown") ==
        "HTTP/1.1 503 Down\r\nx-custom: Yes\r\ncontent-length: 4\r\n\r\ndown");
  CHECK(htxForm("") == "");
}

TEST_CASE("a stream's errorfile: the backend's, else the frontend's, else built-in",
          "[http][errors]") {
  ProxyConfig fe, be;
  fe.errorfiles[503] = "HTTP/1.1 503 FE\r\n\r\n";
  be.errorfiles[503] = "HTTP/1.1 503 BE\r\n\r\n";
  fe.errorfiles[504] = "HTTP/1.1 504 FE\r\n\r\n";
  CHECK(errorResponse(503, &be, &fe) == "HTTP/1.1 503 BE\r\n\r\n");
  CHECK(errorResponse(504, &be, &fe) == "HTTP/1.1 504 FE\r\n\r\n");
  CHECK(errorResponse(504, nullptr, &fe) == "HTTP/1.1 504 FE\r\n\r\n");
  CHECK(errorResponse(502, &be, &fe).starts_with("HTTP/1.1 502 Bad Gateway\r\ncontent-length: "));
}
