// Checked against HAProxy 2.6.12 (the requests a test server received, the
// log lines and `show stat` columns for each kind of answer); see
// tests/integration/test_http_checks.py.
#include "proxyd/httpcheck.h"

#include <algorithm>
#include <cctype>

namespace proxyd::httpcheck {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when the comma-separated Connection value holds `token`.
bool hasToken(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view t = value.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t'))
      t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t'))
      t.remove_suffix(1);
    if (http1::iequals(t, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace

std::string buildRequest(const HttpCheckRule& send) {
  std::string out = send.method + " " + send.uri + " " + send.version + "\r\n";
  std::string connection;
  for (const auto& [name, value] : send.headers) {
    std::string n = lower(name);
    if (n == "content-length") continue;
    if (n == "connection") {
      connection = value;
      continue;
    }
    out += n + ": " + value + "\r\n";
  }
  const std::string body = send.body.value_or("");
  const std::string& m = send.method;
  if (!body.empty())
    out += "content-length: " + std::to_string(body.size()) + "\r\n";
  else if (m != "GET" && m != "HEAD" && m != "OPTIONS" && m != "DELETE")
    out += "content-length: 0\r\n";
  bool keepAlive = hasToken(connection, "keep-alive");
  if (send.version == "HTTP/1.1" && !keepAlive) out += "connection: close\r\n";
  if (send.version != "HTTP/1.1" && keepAlive) out += "connection: keep-alive\r\n";
  out += "\r\n";
  out += body;
  return out;
}

ResponseReader::ResponseReader(std::string_view method, size_t bufSize)
    : parser_(http1::Kind::Response, http1::Limits{bufSize, 101}), limit_(bufSize) {
  parser_.setRequest(http1::RequestContext{http1::methodFromToken(method), false});
}

void ResponseReader::feed(std::string_view in) {
  if (lastRead()) return;
  if (in.size() >= limit_ - used_) {
    in = in.substr(0, limit_ - used_);
    full_ = true;
  }
  used_ += in.size();
  // Bounded: each turn consumes bytes or reports an event that moves the
  // message on (End comes after the last Data, even with no byte left).
  for (int turns = 0; !end_ && !failed_ && turns < 1 << 20; ++turns) {
    auto r = parser_.parse(in);
    in.remove_prefix(r.consumed);
    switch (r.event) {
    case http1::Event::NeedMore:
      return;
    case http1::Event::Error:
      failed_ = true;
      return;
    case http1::Event::Head: {
      const auto& m = parser_.message();
      if (m.interim) break; // 1xx: the real answer follows
      head_ = true;
      status_ = m.status;
      reason_ = std::string(m.reason);
      if (m.framing == http1::Framing::None || m.framing == http1::Framing::Tunnel) end_ = true;
      break;
    }
    case http1::Event::Data:
      if (head_) body_.append(r.data);
      break;
    case http1::Event::End:
      if (head_) end_ = true;
      break;
    }
  }
}

void ResponseReader::closed() {
  if (closed_) return;
  closed_ = true;
  if (!head_ && !failed_) failed_ = true; // nothing or a partial head
}

Verdict evaluate(const HttpCheckRule& e, const ResponseReader& r) {
  using Match = HttpCheckRule::Match;
  Verdict v;
  if (r.failed() || (!r.headDone() && r.lastRead())) {
    v.kind = Verdict::Kind::Fail;
    v.report.status = CheckStatus::L7Rsp;
    return v;
  }
  if (!r.headDone()) return v; // Wait
  v.report.code = r.status();
  bool matched = false;
  std::string info;
  switch (e.match) {
  case Match::Status:
    matched = std::any_of(e.codes.begin(), e.codes.end(), [&](const auto& range) {
      return r.status() >= range.first && r.status() <= range.second;
    });
    v.report.status = CheckStatus::L7Sts;
    info = r.reason();
    break;
  case Match::Rstatus:
    matched = e.regex && e.regex->search(std::to_string(r.status()));
    v.report.status = CheckStatus::L7Sts;
    info = r.reason();
    break;
  case Match::String:
  case Match::Rstring:
    matched = e.match == Match::String ? r.body().find(e.pattern) != std::string::npos
                                       : e.regex && e.regex->search(r.body());
    // A body still arriving may match later.
    if (!matched && !r.lastRead()) return v;
    v.report.status = CheckStatus::L7Rsp;
    info = e.negate ? "HTTP check matched unwanted content" : "HTTP content check did not match";
    break;
  }
  if (e.negate) matched = !matched;
  if (matched) {
    v.kind = Verdict::Kind::Pass;
    v.report.status = CheckStatus::L7Ok;
    return v;
  }
  v.kind = Verdict::Kind::Fail;
  if (!e.comment.empty()) info += " comment: " + e.comment;
  v.report.info = info;
  if (!checkStatusHasCode(v.report.status)) v.report.code = -1;
  return v;
}

} // namespace proxyd::httpcheck
