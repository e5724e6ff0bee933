#pragma once
// HTTP health checks, the pure part (HAProxy 2.6's tcpcheck_eval_send and
// tcpcheck_eval_expect_http for `option httpchk` rulesets): the bytes a send
// step writes, a reader for the server's response, and the verdict of an
// expect step with HAProxy's status and info text. No I/O: the checker
// (checker.cc) feeds the bytes it reads and carries the verdicts out.
#include "proxyd/config.h"
#include "proxyd/health.h"
#include "proxyd/http1.h"

#include <string>
#include <string_view>

namespace proxyd::httpcheck {

// The request of a send step, as HAProxy writes it: the request line, the
// rule's headers (names lower-cased, Content-Length and Connection left to
// the check), "content-length: N" when there is a body (0 for methods other
// than GET, HEAD, OPTIONS and DELETE), "connection: close" for HTTP/1.1, the
// empty line and the body.
std::string buildRequest(const HttpCheckRule& send);

// One response, fed as it arrives. Keeps the status, the reason and the body
// (de-chunked) within the check buffer (HAProxy's tune.bufsize, head
// included); interim 1xx responses are skipped.
class ResponseReader {
public:
  explicit ResponseReader(std::string_view method = "GET", size_t bufSize = 16384);
  void feed(std::string_view bytes);
  // The server closed its side (or the read failed).
  void closed();
  bool headDone() const { return head_; }
  // The bytes are not an HTTP response.
  bool failed() const { return failed_; }
  // No further byte can change a verdict: the response is complete, the
  // server closed, or the buffer is full.
  bool lastRead() const { return end_ || closed_ || full_ || failed_; }
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }
  const std::string& body() const { return body_; }

private:
  http1::Parser parser_;
  size_t limit_;
  size_t used_ = 0; // bytes fed
  bool head_ = false, failed_ = false, end_ = false, closed_ = false, full_ = false;
  int status_ = 0;
  std::string reason_;
  std::string body_;
};

// What an expect step decides from the response so far.
struct Verdict {
  enum class Kind { Wait, Pass, Fail } kind = Kind::Wait;
  CheckReport report; // Pass: L7OK and the code; Fail: status, code, info
};
Verdict evaluate(const HttpCheckRule& expect, const ResponseReader& r);

} // namespace proxyd::httpcheck
