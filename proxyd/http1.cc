// Strict incremental HTTP/1.x parser. See http1.h for the contract.
//
// How it works: the head is copied byte by byte into a fixed buffer of
// Limits::maxHead bytes while CR, LF and NUL are checked; each line is
// validated as soon as its CRLF arrives (so a bad request line is refused
// before the fields are read), and the framing is derived once the empty line
// arrives. Body framing (chunk-size lines, chunk CRLFs, trailers) is a byte
// state machine that keeps no bytes (but the trailer field being read);
// payload is returned as slices of the input and the framing re-encoded
// (Result::framing), so that what goes on never depends on how the sender
// spelled the framing. The ideas follow haproxy's src/h1.c (resumable,
// contract above each function) and nginx's ngx_http_parse.c (explicit
// state enum).
//
// Choices where RFC 9112 / HAProxy 2.6 / nginx differ:
// - Line ends: CRLF only, in the head, chunk lines and trailers. A bare LF is
//   refused (RFC 9112 2.2 allows recipients to accept it; HAProxy and nginx
//   do). A CR not followed by LF is refused everywhere.
// - Empty lines (CRLF) before a start line are skipped (RFC 9112 2.2 SHOULD;
//   HAProxy and nginx do); they count in the message's error offsets.
// - Transfer-Encoding together with Content-Length: refused (400/502), as
//   nginx; HAProxy drops Content-Length and closes after the message.
// - Content-Length repeated, or a list: identical values are merged (RFC 9110
//   8.6, as HAProxy); differing values are refused. Only 1*DIGIT, 64 bits.
// - Transfer-Encoding in an HTTP/1.0 message: refused (RFC 9112 6.1 says the
//   framing is faulty; HAProxy 2.6 accepts it).
// - Transfer-Encoding codings: "chunked" twice, "chunked" not last, or
//   parameters on "chunked" are refused in both directions. Requests: an
//   unknown coding (not gzip, x-gzip, deflate, compress, x-compress) is 501,
//   a known last coding other than chunked is 400 (RFC 9112 6.3). Responses:
//   any coding is forwarded; without chunked the body runs until close (RFC
//   9112 6.3 rule 4, as HAProxy).
// - Two Host fields in a request: identical ones (case-insensitively) are
//   merged, different ones refused, as HAProxy (RFC 9112 3.2 says 400 for
//   both). A missing Host in HTTP/1.1 is accepted, as HAProxy 2.6 does (the
//   RFC says 400).
// - Host and an authority in the target (absolute- or authority-form) must
//   agree, as HAProxy 2.6 checks (see checkHost); without Host, one is made
//   from the authority (HAProxy forwards none).
// - Version: "HTTP/" DIGIT "." DIGIT or 400; a major other than 1 is 505
//   (nginx's choice); HTTP/1.2+ is handled as 1.1.
// - Status line: the SP after the status code may be missing (HAProxy and
//   nginx accept "HTTP/1.1 200"); the code must be 100-999.
// - Request target: bytes 0x21-0x7E only (HAProxy refuses 8-bit bytes by
//   default too), no '#' (a fragment; HAProxy refuses it too). Forms: origin
//   ("/..."); absolute (scheme "://" authority, then '/' or the end); for
//   CONNECT authority-form (host ":" port, no userinfo) or absolute with a
//   port; "*" only for OPTIONS. So "x:/admin", "http:/admin", "a:80" for
//   GET, "http://h?q" are refused as HAProxy does; stricter than HAProxy:
//   "*" with other methods (HAProxy accepts "GET *" and "OPTIONS *x"), an
//   empty host ("http:///x"; RFC 9110 4.2.1 says to reject it), CONNECT
//   with an empty host, userinfo or a path ("CONNECT h:443/x").
// - Too many fields: 431 (HAProxy answers 400). Head over the limit: 414
//   while still in the request line, else 431.
// - Response errors always carry status 502: what the proxy answers.
// - Chunk-size lines: whitespace after the size is accepted before ";" or
//   CRLF (RFC BWS; HAProxy accepts it); extensions must be token[=token or
//   quoted-string]; a size needs 1+ hex digits and at most 2^52-1 (HAProxy's
//   bound, so that no hop reading sizes as doubles misreads one). Leading
//   zeros are accepted. One chunk line is bounded by Limits::maxHead. The
//   line goes on re-encoded, "<HEX>\r\n": no extension, no leading zero,
//   no whitespace (HAProxy re-encodes too).
// - Trailer fields are validated like head fields (no obs-fold, token names,
//   no CTLs) and bounded by Limits::maxHead and maxHeaders, but not
//   reported. Each goes on as received once its CRLF arrived, except
//   Content-Length and Transfer-Encoding, which are dropped (neither may
//   appear in a trailer; HAProxy drops Content-Length).
// - Websocket handshakes (Connection: upgrade, Upgrade naming websocket)
//   need Sec-WebSocket-Key in the request (else 400, any version) and
//   Sec-WebSocket-Accept in a 101 (else 502), as HAProxy 2.6 checks.
// - 1xx responses other than 101 are interim (Message::interim), and the
//   parser then reads the next response to the same request. 101 without an
//   upgrade request is refused; 101 and 2xx to CONNECT switch to a tunnel.
#include "proxyd/http1.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace proxyd::http1 {

namespace {

constexpr std::array<bool, 256> makeTchar() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c)
    t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c)
    t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c)
    t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~"))
    t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr std::array<bool, 256> kTchar = makeTchar();

bool isTchar(unsigned char c) {
  return kTchar[c];
}
bool isWs(unsigned char c) {
  return c == ' ' || c == '\t';
}
bool isDigit(unsigned char c) {
  return c >= '0' && c <= '9';
}
bool isAlpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// field-vchar / SP / HT / obs-text: everything but CTLs (except HT) and DEL.
bool isFieldByte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

int hexValue(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view trimOws(std::string_view s) {
  while (!s.empty() && isWs(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && isWs(s.back()))
    s.remove_suffix(1);
  return s;
}

// Calls fn(element) for each comma-separated element, OWS trimmed; empty
// elements are passed too (callers decide). Stops when fn returns false.
template <class Fn> bool forEachElement(std::string_view v, Fn fn) {
  for (;;) {
    const auto comma = v.find(',');
    if (!fn(trimOws(v.substr(0, comma)))) return false;
    if (comma == std::string_view::npos) return true;
    v.remove_prefix(comma + 1);
  }
}

// quoted-string at the start of s; returns its length or 0 when malformed.
std::size_t quotedStringLength(std::string_view s) {
  if (s.empty() || s[0] != '"') return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (++i >= s.size() || !isFieldByte(static_cast<unsigned char>(s[i]))) return 0;
    } else if (!isFieldByte(c)) {
      return 0;
    }
  }
  return 0;
}

// transfer-coding = token *( OWS ";" OWS token OWS "=" OWS ( token / quoted-string ) )
// Splits one element into its coding name and whether it has parameters.
bool parseCoding(std::string_view elem, std::string_view& name, bool& hasParams) {
  std::size_t i = 0;
  while (i < elem.size() && isTchar(static_cast<unsigned char>(elem[i])))
    ++i;
  name = elem.substr(0, i);
  hasParams = false;
  if (name.empty()) return false;
  auto skipWs = [&] {
    while (i < elem.size() && isWs(static_cast<unsigned char>(elem[i])))
      ++i;
  };
  auto token = [&] {
    const auto start = i;
    while (i < elem.size() && isTchar(static_cast<unsigned char>(elem[i])))
      ++i;
    return i > start;
  };
  for (;;) {
    skipWs();
    if (i == elem.size()) return true;
    if (elem[i] != ';') return false;
    hasParams = true;
    ++i;
    skipWs();
    if (!token()) return false;
    skipWs();
    if (i == elem.size() || elem[i] != '=') return false;
    ++i;
    skipWs();
    if (i < elem.size() && elem[i] == '"') {
      const auto n = quotedStringLength(elem.substr(i));
      if (n == 0) return false;
      i += n;
    } else if (!token()) {
      return false;
    }
  }
}

bool knownCoding(std::string_view c) {
  return iequals(c, "gzip") || iequals(c, "x-gzip") || iequals(c, "deflate") ||
         iequals(c, "compress") || iequals(c, "x-compress");
}

// 1*DIGIT into a 64-bit value; false when empty, not digits or overflowing.
bool parseDecimal(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (unsigned char c : s) {
    if (!isDigit(c)) return false;
    const std::uint64_t d = c - '0';
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
  }
  out = v;
  return true;
}

// The length of a scheme (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ))
// at the start of t when it is followed by "://", else 0.
std::size_t schemeLength(std::string_view t) {
  if (t.empty() || !isAlpha(static_cast<unsigned char>(t[0]))) return 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c == ':') return t.substr(i, 3) == "://" ? i : 0;
    if (!isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.') return 0;
  }
  return 0;
}

bool allDigits(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return isDigit(static_cast<unsigned char>(c)); });
}

// authority = [ userinfo "@" ] host [ ":" port ]; false when the host is
// empty, the port is not digits, or an IP-literal is not closed.
bool splitAuthority(std::string_view a, TargetParts& p) {
  if (const auto at = a.rfind('@'); at != std::string_view::npos) a.remove_prefix(at + 1);
  p.authority = a;
  std::size_t hostEnd = 0;
  if (!a.empty() && a[0] == '[') {
    hostEnd = a.find(']');
    if (hostEnd == std::string_view::npos) return false;
    ++hostEnd;
    if (hostEnd < a.size() && a[hostEnd] != ':') return false;
  } else {
    hostEnd = std::min(a.find(':'), a.size());
  }
  p.host = a.substr(0, hostEnd);
  p.hasPort = hostEnd < a.size();
  if (p.hasPort) p.port = a.substr(hostEnd + 1);
  return !p.host.empty() && allDigits(p.port);
}

// A Host field value split as HAProxy does (http_get_host_port): the port is
// the digits after the last ':' when only digits follow it.
struct HostPort {
  std::string_view host, port;
  bool hasPort = false;
};
HostPort hostPortOf(std::string_view v) {
  std::size_t i = v.size();
  while (i > 0 && isDigit(static_cast<unsigned char>(v[i - 1])))
    --i;
  if (i > 0 && v[i - 1] == ':') return {v.substr(0, i - 1), v.substr(i), true};
  return {v, {}, false};
}

// HAProxy's http_is_default_port: an empty port always; without a scheme
// (CONNECT) 80 and 443; else 80 for http and 443 for https.
bool isDefaultPort(std::string_view scheme, std::string_view port) {
  if (port.empty()) return true;
  if (scheme.empty()) return port == "80" || port == "443";
  return (port == "80" && iequals(scheme, "http")) || (port == "443" && iequals(scheme, "https"));
}

int statusFor(Err e, Kind k) {
  if (k == Kind::Response) return 502;
  switch (e) {
  case Err::UriTooLong:
    return 414;
  case Err::HeadTooLarge:
  case Err::TrailerTooLarge:
  case Err::TooManyHeaders:
    return 431;
  case Err::UnknownTransferCoding:
    return 501;
  case Err::UnsupportedVersion:
    return 505;
  default:
    return 400;
  }
}

} // namespace

enum class Parser::State : std::uint8_t {
  BeforeHead, // skipping empty lines before the start line
  Head,
  Body, // Content-Length body, remaining_ bytes left
  UntilClose,
  ChunkSize,   // hex digits
  ChunkSizeWs, // BWS after the size
  ExtPreName,  // after ';'
  ExtName,
  ExtPostName, // BWS after a name
  ExtPreValue, // after '='
  ExtToken,
  ExtQuoted,
  ExtQuotedPair, // after '\' in a quoted value
  ExtPostValue,
  ChunkSizeLf, // CR seen at the end of a chunk-size line
  ChunkData,
  ChunkDataCr, // chunk data done, CR expected
  ChunkDataLf,
  TrailerStart, // at the start of a trailer line (or the final CRLF)
  TrailerName,
  TrailerValue,
  TrailerLf,
  TrailerEndLf,
  EndPending, // the message is complete; End not reported yet
  Done,       // End reported; the next parse() starts a new message
  Tunnel,
  Failed,
};

TargetParts splitTarget(std::string_view t) {
  TargetParts p;
  auto pathAndQuery = [&p](std::string_view rest) {
    const auto q = rest.find('?');
    p.path = rest.substr(0, q);
    if (q != std::string_view::npos) {
      p.query = rest.substr(q + 1);
      p.hasQuery = true;
    }
  };
  if (t.empty()) return p;
  if (t[0] == '/') {
    p.form = TargetParts::Form::Origin;
    pathAndQuery(t);
  } else if (t == "*") {
    p.form = TargetParts::Form::Asterisk;
  } else if (const auto n = schemeLength(t); n > 0) {
    p.scheme = t.substr(0, n);
    const auto rest = t.substr(n + 3);
    const auto end = std::min(rest.find_first_of("/?#"), rest.size());
    if (splitAuthority(rest.substr(0, end), p)) p.form = TargetParts::Form::Absolute;
    pathAndQuery(rest.substr(end));
  } else if (t.find_first_of("/?#@") == std::string_view::npos && splitAuthority(t, p) &&
             p.hasPort && !p.port.empty()) {
    p.form = TargetParts::Form::Authority; // host ":" port, as CONNECT takes it
  }
  return p;
}

Method methodFromToken(std::string_view t) {
  struct Entry {
    std::string_view name;
    Method m;
  };
  static constexpr Entry kMethods[] = {
      {"GET", Method::Get},         {"HEAD", Method::Head},     {"POST", Method::Post},
      {"PUT", Method::Put},         {"DELETE", Method::Delete}, {"CONNECT", Method::Connect},
      {"OPTIONS", Method::Options}, {"TRACE", Method::Trace},   {"PATCH", Method::Patch},
  };
  // Methods are case-sensitive (RFC 9110 9.1).
  for (const auto& e : kMethods)
    if (e.name == t) return e.m;
  return Method::Other;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

const Header* Message::find(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return &h;
  return nullptr;
}

const char* describe(Err e) {
  switch (e) {
  case Err::None:
    return "no error";
  case Err::BareCr:
    return "CR not followed by LF";
  case Err::BareLf:
    return "LF without CR";
  case Err::Nul:
    return "NUL byte";
  case Err::BadMethod:
    return "invalid method";
  case Err::BadTarget:
    return "invalid request target";
  case Err::BadVersion:
    return "invalid HTTP version";
  case Err::UnsupportedVersion:
    return "unsupported HTTP version";
  case Err::BadStatusLine:
    return "invalid status line";
  case Err::BadStartLine:
    return "malformed start line";
  case Err::UriTooLong:
    return "request line too long";
  case Err::HeadTooLarge:
    return "header block too large";
  case Err::TooManyHeaders:
    return "too many header fields";
  case Err::ObsFold:
    return "obsolete line folding";
  case Err::SpaceBeforeColon:
    return "whitespace between field name and colon";
  case Err::BadHeaderName:
    return "invalid field name";
  case Err::MissingColon:
    return "field line without colon";
  case Err::BadHeaderValue:
    return "invalid byte in field value";
  case Err::BadContentLength:
    return "invalid Content-Length";
  case Err::ConflictingContentLength:
    return "conflicting Content-Length values";
  case Err::TransferEncodingAndContentLength:
    return "both Transfer-Encoding and Content-Length";
  case Err::TransferEncodingHttp10:
    return "Transfer-Encoding in an HTTP/1.0 message";
  case Err::BadTransferEncoding:
    return "invalid Transfer-Encoding";
  case Err::UnknownTransferCoding:
    return "unknown transfer coding";
  case Err::ChunkedNotLast:
    return "chunked is not the last transfer coding";
  case Err::ChunkedTwice:
    return "chunked applied twice";
  case Err::NotChunkedLast:
    return "request transfer coding does not end with chunked";
  case Err::DuplicateHost:
    return "more than one Host field";
  case Err::HostMismatch:
    return "Host differs from the request target's authority";
  case Err::UnexpectedSwitch:
    return "101 without an upgrade request";
  case Err::MissingWebSocketKey:
    return "websocket upgrade without Sec-WebSocket-Key";
  case Err::MissingWebSocketAccept:
    return "websocket switch without Sec-WebSocket-Accept";
  case Err::BadChunkSize:
    return "invalid chunk size";
  case Err::ChunkSizeOverflow:
    return "chunk size overflows";
  case Err::BadChunkExtension:
    return "invalid chunk extension";
  case Err::ChunkLineTooLong:
    return "chunk-size line too long";
  case Err::BadChunkEnd:
    return "chunk data not followed by CRLF";
  case Err::TrailerTooLarge:
    return "trailer section too large";
  case Err::Truncated:
    return "connection closed inside a message";
  }
  return "?";
}

Parser::Parser(Kind kind, Limits limits)
    : kind_(kind), limits_(limits), state_(State::BeforeHead),
      buf_(new char[std::max<std::size_t>(limits.maxHead, 1)]) {
  msg_.headers.reserve(limits_.maxHeaders + 1); // + a Host made from the target
  out_.reserve(32); // "\r\n" + 13 hex digits + "\r\n": no allocation per chunk
  beginMessage();
}

void Parser::beginMessage() {
  auto headers = std::move(msg_.headers);
  headers.clear(); // keeps the capacity: no allocation per message
  msg_ = Message{};
  msg_.headers = std::move(headers);
  msg_.kind = kind_;
  state_ = State::BeforeHead;
  len_ = lineStart_ = 0;
  sawCr_ = startLineDone_ = false;
  msgOffset_ = skipped_ = remaining_ = 0;
  lineLen_ = trailerFields_ = 0;
  chunkDigits_ = 0;
  trailer_.clear();
}

void Parser::reset() {
  request_ = {};
  error_ = {};
  beginMessage();
}

void Parser::startTunnel() {
  state_ = State::Tunnel;
}

bool Parser::inBody() const {
  return state_ != State::BeforeHead && state_ != State::Head && state_ != State::Done &&
         state_ != State::Tunnel && state_ != State::Failed;
}

bool Parser::betweenMessages() const {
  return state_ == State::Done || (state_ == State::BeforeHead && !sawCr_);
}

Result Parser::fail(Err e, std::uint64_t offset) {
  state_ = State::Failed;
  error_ = {e, statusFor(e, kind_), offset};
  Result r;
  r.event = Event::Error;
  r.error = error_;
  r.framing = out_; // what this call validated before the error
  return r;
}

Result Parser::finish() {
  out_.clear();
  switch (state_) {
  case State::Failed:
    return {Event::Error, 0, {}, error_, {}};
  case State::UntilClose:
  case State::EndPending:
    state_ = msg_.framing == Framing::Tunnel ? State::Tunnel : State::Done;
    return {Event::End, 0, {}, {}, {}};
  case State::Tunnel:
  case State::Done:
    return {};
  case State::BeforeHead:
    if (!sawCr_) return {};
    [[fallthrough]];
  default:
    return fail(Err::Truncated, msgOffset_);
  }
}

Result Parser::parse(std::string_view in) {
  out_.clear();
  switch (state_) {
  case State::Failed:
    return {Event::Error, 0, {}, error_, {}};
  case State::Done:
    beginMessage();
    break;
  case State::EndPending:
    state_ = msg_.framing == Framing::Tunnel ? State::Tunnel : State::Done;
    return {Event::End, 0, {}, {}, {}};
  default:
    break;
  }
  if (state_ == State::BeforeHead || state_ == State::Head) return parseHead(in);

  std::size_t i = 0;
  while (i < in.size()) {
    switch (state_) {
    case State::Body:
    case State::ChunkData: {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size() - i));
      remaining_ -= n;
      if (remaining_ == 0) state_ = state_ == State::Body ? State::EndPending : State::ChunkDataCr;
      msgOffset_ += i + n;
      return withFraming({Event::Data, i + n, in.substr(i, n), {}, {}});
    }
    case State::UntilClose:
    case State::Tunnel:
      msgOffset_ += in.size();
      return {Event::Data, in.size(), in.substr(i), {}, {}};
    default: {
      const auto c = static_cast<unsigned char>(in[i]);
      const bool trailer = state_ >= State::TrailerStart && state_ <= State::TrailerEndLf;
      const Err e = trailer ? trailerByte(c) : chunkByte(c);
      // A bare CR is reported at the CR, the byte before this one.
      if (e != Err::None) return fail(e, msgOffset_ + i - (e == Err::BareCr ? 1 : 0));
      ++i;
      if (state_ == State::EndPending) {
        state_ = State::Done;
        msgOffset_ += i;
        return withFraming({Event::End, i, {}, {}, {}});
      }
    }
    }
  }
  msgOffset_ += i;
  return withFraming({Event::NeedMore, i, {}, {}, {}});
}

// Head bytes: copied into buf_, CR/LF/NUL checked per byte, each line
// validated when its CRLF arrives.
Result Parser::parseHead(std::string_view in) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    const std::uint64_t off = msgOffset_ + i;
    if (state_ == State::BeforeHead) {
      if (sawCr_) {
        if (c != '\n') return fail(Err::BareCr, off - 1);
        sawCr_ = false;
        skipped_ += 2;
        continue;
      }
      if (c == '\r') {
        sawCr_ = true;
        continue;
      }
      if (c == '\n') return fail(Err::BareLf, off);
      state_ = State::Head;
    }
    if (len_ == limits_.maxHead)
      return fail(startLineDone_ ? Err::HeadTooLarge : Err::UriTooLong, off);
    if (sawCr_) {
      if (c != '\n') return fail(Err::BareCr, off - 1);
      sawCr_ = false;
      buf_[len_++] = '\n';
      const std::size_t start = lineStart_, end = len_ - 2;
      lineStart_ = len_;
      if (start == end) { // the empty line: the head is complete
        std::size_t errAt = 0;
        if (const Err e = headDone(errAt); e != Err::None) return fail(e, skipped_ + errAt);
        msgOffset_ += i + 1;
        return {Event::Head, i + 1, {}, {}, {}};
      }
      std::size_t errAt = start;
      if (const Err e = lineDone(start, end, errAt); e != Err::None)
        return fail(e, skipped_ + errAt);
      continue;
    }
    if (c == '\r') {
      sawCr_ = true;
    } else if (c == '\n') {
      return fail(Err::BareLf, off);
    } else if (c == 0) {
      return fail(Err::Nul, off);
    }
    buf_[len_++] = static_cast<char>(c);
  }
  msgOffset_ += in.size();
  return {Event::NeedMore, in.size(), {}, {}, {}};
}

// One complete head line buf_[start, end) (CRLF excluded). errAt: buffer
// index of the offending byte when an error is returned.
Err Parser::lineDone(std::size_t start, std::size_t end, std::size_t& errAt) {
  const std::string_view line(buf_.get() + start, end - start);
  if (!startLineDone_) {
    startLineDone_ = true;
    return startLine(line, errAt);
  }
  return fieldLine(line, errAt);
}

Err Parser::startLine(std::string_view line, std::size_t& errAt) {
  return kind_ == Kind::Request ? requestLine(line, errAt) : statusLine(line, errAt);
}

namespace {

// "HTTP/" DIGIT "." DIGIT
Err parseVersion(std::string_view v, int& major, int& minor) {
  static constexpr std::string_view kPrefix = "HTTP/";
  if (v.size() != 8 || v.substr(0, 5) != kPrefix || !isDigit(v[5]) || v[6] != '.' || !isDigit(v[7]))
    return Err::BadVersion;
  major = v[5] - '0';
  minor = v[7] - '0';
  if (major != 1) return Err::UnsupportedVersion;
  return Err::None;
}

// Which target forms a method may use (RFC 9112 3.2, as HAProxy 2.6 accepts
// them, stricter where noted in the list at the top of this file).
Err checkTargetForm(std::string_view target, Method m) {
  if (target.find('#') != std::string_view::npos) return Err::BadTarget; // fragment
  const TargetParts t = splitTarget(target);
  using F = TargetParts::Form;
  switch (t.form) {
  case F::Origin:
    return m == Method::Connect ? Err::BadTarget : Err::None;
  case F::Asterisk:
    return m == Method::Options ? Err::None : Err::BadTarget;
  case F::Authority:
    return m == Method::Connect ? Err::None : Err::BadTarget;
  case F::Absolute:
    // The authority ends at '/' or the end: "http://h?q" is refused (HAProxy
    // reads "h?q" as the authority). CONNECT needs a port.
    if (t.hasQuery && t.path.empty()) return Err::BadTarget;
    if (m == Method::Connect && t.port.empty()) return Err::BadTarget;
    return Err::None;
  case F::Invalid:
    break;
  }
  return Err::BadTarget;
}

} // namespace

// request-line = method SP request-target SP HTTP-version
Err Parser::requestLine(std::string_view line, std::size_t& errAt) {
  const std::size_t base = static_cast<std::size_t>(line.data() - buf_.get());
  const auto sp1 = line.find(' ');
  const auto sp2 = line.rfind(' ');
  // The method first, so "GE\tT / HTTP/1.1" is a bad method, not a bad line.
  const auto methodEnd = sp1 == std::string_view::npos ? line.size() : sp1;
  for (std::size_t i = 0; i < methodEnd; ++i) {
    if (!isTchar(static_cast<unsigned char>(line[i]))) {
      errAt = base + i;
      return Err::BadMethod;
    }
  }
  if (methodEnd == 0) {
    errAt = base;
    return Err::BadMethod;
  }
  if (sp1 == std::string_view::npos || sp1 == sp2) {
    errAt = base + line.size();
    return Err::BadStartLine;
  }
  const std::string_view method = line.substr(0, sp1);
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const std::string_view version = line.substr(sp2 + 1);
  errAt = base + sp1 + 1;
  if (target.empty()) return Err::BadTarget;
  for (std::size_t i = 0; i < target.size(); ++i) {
    const auto c = static_cast<unsigned char>(target[i]);
    if (c <= 0x20 || c >= 0x7f) {
      errAt = base + sp1 + 1 + i;
      return Err::BadTarget;
    }
  }
  const Method m = methodFromToken(method);
  if (const Err e = checkTargetForm(target, m); e != Err::None) {
    errAt = base + sp1 + 1;
    if (const auto hash = target.find('#'); hash != std::string_view::npos) errAt += hash;
    return e;
  }
  if (const Err e = parseVersion(version, msg_.versionMajor, msg_.versionMinor); e != Err::None) {
    errAt = base + sp2 + 1;
    return e;
  }
  msg_.method = method;
  msg_.methodKind = m;
  msg_.target = target;
  return Err::None;
}

// status-line = HTTP-version SP status-code SP [ reason-phrase ]
// (the second SP may be missing, as HAProxy and nginx accept).
Err Parser::statusLine(std::string_view line, std::size_t& errAt) {
  const std::size_t base = static_cast<std::size_t>(line.data() - buf_.get());
  errAt = base;
  const auto sp = line.find(' ');
  if (const Err e = parseVersion(line.substr(0, sp), msg_.versionMajor, msg_.versionMinor);
      e != Err::None)
    return e;
  errAt = base + 9;
  if (sp != 8 || line.size() < 12) return Err::BadStatusLine;
  const auto code = line.substr(9, 3);
  if (code[0] < '1' || code[0] > '9' || !isDigit(code[1]) || !isDigit(code[2]))
    return Err::BadStatusLine;
  msg_.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (line.size() > 12) {
    errAt = base + 12;
    if (line[12] != ' ') return Err::BadStatusLine;
    for (std::size_t i = 13; i < line.size(); ++i) {
      if (!isFieldByte(static_cast<unsigned char>(line[i]))) {
        errAt = base + i;
        return Err::BadStatusLine;
      }
    }
    msg_.reason = line.substr(13);
  }
  return Err::None;
}

// field-line = field-name ":" OWS field-value OWS
Err Parser::fieldLine(std::string_view line, std::size_t& errAt) {
  const std::size_t base = static_cast<std::size_t>(line.data() - buf_.get());
  errAt = base;
  if (isWs(static_cast<unsigned char>(line[0]))) return Err::ObsFold;
  if (msg_.headers.size() >= limits_.maxHeaders) return Err::TooManyHeaders;
  std::size_t i = 0;
  while (i < line.size() && isTchar(static_cast<unsigned char>(line[i])))
    ++i;
  errAt = base + i;
  if (i == line.size()) return Err::MissingColon;
  if (line[i] != ':') {
    const bool colonLater = line.find(':', i) != std::string_view::npos;
    if (colonLater && i > 0 && isWs(static_cast<unsigned char>(line[i])))
      return Err::SpaceBeforeColon;
    return colonLater ? Err::BadHeaderName : Err::MissingColon;
  }
  if (i == 0) return Err::BadHeaderName;
  for (std::size_t j = i + 1; j < line.size(); ++j) {
    if (!isFieldByte(static_cast<unsigned char>(line[j]))) {
      errAt = base + j;
      return Err::BadHeaderValue;
    }
  }
  const Header h{line.substr(0, i), trimOws(line.substr(i + 1))};
  if (kind_ == Kind::Request && iequals(h.name, "host")) {
    // A repeated Host: HAProxy drops a copy equal to the first (case-
    // insensitively) and refuses a different one (RFC 9112 3.2: 400).
    if (const Header* first = msg_.find("host")) {
      errAt = base;
      return iequals(first->value, h.value) ? Err::None : Err::DuplicateHost;
    }
  }
  msg_.headers.push_back(h);
  return Err::None;
}

// A request whose target names an authority (absolute- or authority-form)
// has one authority: a Host field that differs is refused, as HAProxy 2.6
// does (h1_validate_connect_authority, h1_validate_mismatch_authority: the
// hosts compare case-insensitively, and a port that is the default one may
// be missing on either side). RFC 9112 3.2.2 says to ignore Host there; the
// refusal keeps an ACL on hdr(host) from judging another vhost than the one
// the server serves. Without a Host field, one is added from the authority
// (userinfo removed) so that hdr(host), base and routing see it; HAProxy
// forwards no Host there, RFC 9112 3.2.2 says a proxy MUST generate it.
// A default port is dropped from Host as HAProxy normalizes it.
Err Parser::checkHost(std::size_t& errAt) {
  const TargetParts t = splitTarget(msg_.target);
  if (t.form != TargetParts::Form::Absolute && t.form != TargetParts::Form::Authority)
    return Err::None;
  const bool connect = msg_.methodKind == Method::Connect;
  // CONNECT compares without a scheme: 80 and 443 are both default there.
  const std::string_view scheme = connect ? std::string_view{} : t.scheme;
  Header* host = nullptr;
  for (auto& h : msg_.headers) {
    if (iequals(h.name, "host")) {
      host = &h; // the only one: fieldLine keeps no second Host
      break;
    }
  }
  if (!host) {
    const bool dropPort = t.hasPort && isDefaultPort(scheme, t.port);
    msg_.headers.push_back({"Host", dropPort ? t.host : t.authority});
    return Err::None;
  }
  errAt = static_cast<std::size_t>(host->name.data() - buf_.get());
  const HostPort hv = hostPortOf(host->value);
  if (connect) {
    if (!hv.port.empty()) {
      if (!iequals(hv.host, t.host) || hv.port != t.port) return Err::HostMismatch;
    } else if (!isDefaultPort(scheme, t.port) || !iequals(hv.host, t.host)) {
      return Err::HostMismatch;
    }
  } else if (!iequals(host->value, t.authority)) {
    if (!t.hasPort && !hv.hasPort) return Err::HostMismatch;
    if (t.hasPort && !isDefaultPort(scheme, t.port)) return Err::HostMismatch;
    if (hv.hasPort && !isDefaultPort(scheme, hv.port)) return Err::HostMismatch;
    if (!iequals(hv.host, t.host)) return Err::HostMismatch;
  }
  // HAProxy normalizes Host "h:443" to "h" for CONNECT, and for an absolute
  // target naming the scheme's default port drops that port from Host too.
  const bool normalize = connect ? !hv.port.empty() && isDefaultPort(scheme, hv.port)
                                 : t.hasPort && isDefaultPort(scheme, t.port) && hv.hasPort &&
                                       isDefaultPort(scheme, hv.port);
  if (normalize) host->value = hv.host;
  return Err::None;
}

// The empty line arrived: derive the framing and connection flags from the
// fields (RFC 9112 6.3), refusing the ambiguous shapes.
Err Parser::headDone(std::size_t& errAt) {
  bool haveCl = false, haveTe = false, chunked = false, lastChunked = false;
  bool closeTok = false, keepAliveTok = false, upgradeTok = false, upgradeField = false;
  bool expect = false;
  bool websocket = false, wsKey = false; // Upgrade names websocket; its key (or accept) is there
  const Header* clField = nullptr;
  const Header* upgradeHdr = nullptr;
  const Header* teField = nullptr;
  std::uint64_t cl = 0;
  const bool request = kind_ == Kind::Request;

  for (const auto& h : msg_.headers) {
    errAt = static_cast<std::size_t>(h.name.data() - buf_.get());
    if (iequals(h.name, "content-length")) {
      if (!clField) clField = &h;
      Err e = Err::None;
      forEachElement(h.value, [&](std::string_view v) {
        std::uint64_t n = 0;
        if (!parseDecimal(v, n))
          e = Err::BadContentLength;
        else if (haveCl && n != cl)
          e = Err::ConflictingContentLength;
        cl = n;
        haveCl = true;
        return e == Err::None;
      });
      if (e != Err::None) return e;
    } else if (iequals(h.name, "transfer-encoding")) {
      if (!teField) teField = &h;
      if (h.value.empty()) return Err::BadTransferEncoding;
      Err e = Err::None;
      forEachElement(h.value, [&](std::string_view elem) {
        if (elem.empty()) return true; // empty list elements are allowed (RFC 9110 5.6.1)
        std::string_view name;
        bool params = false;
        if (!parseCoding(elem, name, params))
          e = Err::BadTransferEncoding;
        else if (iequals(name, "chunked")) {
          if (chunked)
            e = Err::ChunkedTwice;
          else if (params)
            e = Err::BadTransferEncoding;
          chunked = lastChunked = true;
        } else if (chunked) {
          e = Err::ChunkedNotLast;
        } else if (request && !knownCoding(name)) {
          e = Err::UnknownTransferCoding;
        } else {
          lastChunked = false;
        }
        haveTe = true;
        return e == Err::None;
      });
      if (e != Err::None) return e;
      if (!haveTe) return Err::BadTransferEncoding; // only empty elements
    } else if (iequals(h.name, "connection")) {
      forEachElement(h.value, [&](std::string_view tok) {
        if (iequals(tok, "close"))
          closeTok = true;
        else if (iequals(tok, "keep-alive"))
          keepAliveTok = true;
        else if (iequals(tok, "upgrade"))
          upgradeTok = true;
        return true;
      });
    } else if (iequals(h.name, "expect")) {
      if (iequals(h.value, "100-continue")) expect = true;
    } else if (iequals(h.name, "upgrade")) {
      if (!h.value.empty()) upgradeField = true;
      if (!upgradeHdr) upgradeHdr = &h;
      forEachElement(h.value, [&](std::string_view tok) {
        websocket = websocket || iequals(tok, "websocket");
        return true;
      });
    } else if (iequals(h.name, request ? "sec-websocket-key" : "sec-websocket-accept")) {
      wsKey = true;
    }
  }
  if (request) {
    if (const Err e = checkHost(errAt); e != Err::None) return e;
  }

  if (haveCl && haveTe) {
    // Reported at whichever of the two came second.
    errAt =
        static_cast<std::size_t>(std::max(clField->name.data(), teField->name.data()) - buf_.get());
    return Err::TransferEncodingAndContentLength;
  }
  if (haveTe && !msg_.http11()) {
    errAt = static_cast<std::size_t>(teField->name.data() - buf_.get());
    return Err::TransferEncodingHttp10;
  }
  if (haveTe && request && !lastChunked) {
    errAt = static_cast<std::size_t>(teField->name.data() - buf_.get());
    return Err::NotChunkedLast;
  }

  msg_.connectionClose = closeTok;
  msg_.keepAlive = msg_.http11() ? !closeTok : (keepAliveTok && !closeTok);
  msg_.contentLength = cl;

  if (request) {
    msg_.expectContinue = expect && msg_.http11();
    msg_.upgrade = upgradeField && upgradeTok && msg_.http11();
    if (upgradeTok && websocket && !wsKey) { // as HAProxy, whatever the version
      errAt = static_cast<std::size_t>(upgradeHdr->name.data() - buf_.get());
      return Err::MissingWebSocketKey;
    }
    msg_.framing = haveTe ? Framing::Chunked : haveCl ? Framing::ContentLength : Framing::None;
  } else {
    const int s = msg_.status;
    if (s == 101) {
      if (!request_.upgrade) {
        errAt = 9;
        return Err::UnexpectedSwitch;
      }
      if (upgradeTok && websocket && !wsKey) {
        errAt = static_cast<std::size_t>(upgradeHdr->name.data() - buf_.get());
        return Err::MissingWebSocketAccept;
      }
      msg_.framing = Framing::Tunnel;
    } else if (request_.method == Method::Connect && s >= 200 && s < 300) {
      msg_.framing = Framing::Tunnel;
    } else if (s < 200) {
      msg_.interim = true;
      msg_.framing = Framing::None;
    } else if (request_.method == Method::Head || s == 204 || s == 304) {
      msg_.framing = Framing::None;
    } else if (haveTe) {
      msg_.framing = lastChunked ? Framing::Chunked : Framing::UntilClose;
    } else {
      msg_.framing = haveCl ? Framing::ContentLength : Framing::UntilClose;
    }
    if (msg_.framing == Framing::UntilClose || msg_.framing == Framing::Tunnel)
      msg_.keepAlive = false;
  }

  switch (msg_.framing) {
  case Framing::None:
  case Framing::Tunnel:
    state_ = State::EndPending;
    break;
  case Framing::ContentLength:
    remaining_ = cl;
    state_ = cl == 0 ? State::EndPending : State::Body;
    break;
  case Framing::Chunked:
    state_ = State::ChunkSize;
    remaining_ = 0;
    chunkDigits_ = 0;
    lineLen_ = 0;
    break;
  case Framing::UntilClose:
    state_ = State::UntilClose;
    break;
  }
  return Err::None;
}

// chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ( token / quoted-string ) ] )
Err Parser::chunkByte(unsigned char c) {
  const bool lineState = state_ != State::ChunkDataCr && state_ != State::ChunkDataLf;
  if (lineState && ++lineLen_ > limits_.maxHead) return Err::ChunkLineTooLong;
  if (lineState && c == '\n' && state_ != State::ChunkSizeLf) return Err::BareLf;
  switch (state_) {
  case State::ChunkSize:
    if (const int h = hexValue(c); h >= 0) {
      if (remaining_ >> 48) return Err::ChunkSizeOverflow; // another digit passes 2^52-1
      remaining_ = (remaining_ << 4) | static_cast<unsigned>(h);
      ++chunkDigits_;
      return Err::None;
    }
    if (chunkDigits_ == 0) return Err::BadChunkSize;
    if (isWs(c))
      state_ = State::ChunkSizeWs;
    else if (c == ';')
      state_ = State::ExtPreName;
    else if (c == '\r')
      state_ = State::ChunkSizeLf;
    else
      return Err::BadChunkSize;
    return Err::None;
  case State::ChunkSizeWs:
    if (isWs(c)) return Err::None;
    if (c == ';')
      state_ = State::ExtPreName;
    else if (c == '\r')
      state_ = State::ChunkSizeLf;
    else
      return Err::BadChunkSize;
    return Err::None;
  case State::ExtPreName:
    if (isWs(c)) return Err::None;
    if (!isTchar(c)) return Err::BadChunkExtension;
    state_ = State::ExtName;
    return Err::None;
  case State::ExtName:
  case State::ExtPostName:
    if (state_ == State::ExtName && isTchar(c)) return Err::None;
    if (isWs(c))
      state_ = State::ExtPostName;
    else if (c == '=')
      state_ = State::ExtPreValue;
    else if (c == ';')
      state_ = State::ExtPreName;
    else if (c == '\r')
      state_ = State::ChunkSizeLf;
    else
      return Err::BadChunkExtension;
    return Err::None;
  case State::ExtPreValue:
    if (isWs(c)) return Err::None;
    if (c == '"')
      state_ = State::ExtQuoted;
    else if (isTchar(c))
      state_ = State::ExtToken;
    else
      return Err::BadChunkExtension;
    return Err::None;
  case State::ExtToken:
  case State::ExtPostValue:
    if (state_ == State::ExtToken && isTchar(c)) return Err::None;
    if (isWs(c))
      state_ = State::ExtPostValue;
    else if (c == ';')
      state_ = State::ExtPreName;
    else if (c == '\r')
      state_ = State::ChunkSizeLf;
    else
      return Err::BadChunkExtension;
    return Err::None;
  case State::ExtQuoted:
    if (c == '"')
      state_ = State::ExtPostValue;
    else if (c == '\\')
      state_ = State::ExtQuotedPair;
    else if (!isFieldByte(c))
      return Err::BadChunkExtension;
    return Err::None;
  case State::ExtQuotedPair:
    if (!isFieldByte(c)) return Err::BadChunkExtension;
    state_ = State::ExtQuoted;
    return Err::None;
  case State::ChunkSizeLf:
    if (c != '\n') return Err::BareCr;
    lineLen_ = 0;
    emitChunkSize(remaining_);
    if (remaining_ == 0) { // last-chunk: the trailer section follows
      state_ = State::TrailerStart;
      trailerFields_ = 0;
    } else {
      state_ = State::ChunkData;
    }
    return Err::None;
  case State::ChunkDataCr:
    if (c != '\r') return Err::BadChunkEnd;
    state_ = State::ChunkDataLf;
    return Err::None;
  case State::ChunkDataLf:
    if (c != '\n') return Err::BadChunkEnd;
    out_.append("\r\n");
    state_ = State::ChunkSize;
    chunkDigits_ = 0;
    remaining_ = 0;
    return Err::None;
  default:
    return Err::None; // unreachable: parse() routes only chunk states here
  }
}

// trailer-section = *( field-line CRLF ) CRLF, validated like head fields.
Err Parser::trailerByte(unsigned char c) {
  if (++lineLen_ > limits_.maxHead) return Err::TrailerTooLarge;
  if (c == 0) return Err::Nul;
  const bool lfState = state_ == State::TrailerLf || state_ == State::TrailerEndLf;
  if (c == '\n' && !lfState) return Err::BareLf;
  switch (state_) {
  case State::TrailerStart:
    trailer_.clear();
    if (c == '\r')
      state_ = State::TrailerEndLf;
    else if (isWs(c))
      return Err::ObsFold;
    else if (!isTchar(c))
      return Err::BadHeaderName;
    else if (++trailerFields_ > limits_.maxHeaders)
      return Err::TooManyHeaders;
    else
      state_ = State::TrailerName;
    if (state_ == State::TrailerName) trailer_.push_back(static_cast<char>(c));
    return Err::None;
  case State::TrailerName:
    if (isTchar(c)) {
      trailer_.push_back(static_cast<char>(c));
      return Err::None;
    }
    if (c == ':') {
      trailer_.push_back(':');
      state_ = State::TrailerValue;
      return Err::None;
    }
    if (isWs(c)) return Err::SpaceBeforeColon;
    return c == '\r' ? Err::MissingColon : Err::BadHeaderName;
  case State::TrailerValue:
    if (c == '\r')
      state_ = State::TrailerLf;
    else if (!isFieldByte(c))
      return Err::BadHeaderValue;
    else
      trailer_.push_back(static_cast<char>(c));
    return Err::None;
  case State::TrailerLf:
    if (c != '\n') return Err::BareCr;
    trailerLineDone();
    state_ = State::TrailerStart;
    return Err::None;
  case State::TrailerEndLf:
    if (c != '\n') return Err::BareCr;
    out_.append("\r\n");
    state_ = State::EndPending;
    return Err::None;
  default:
    return Err::None;
  }
}

// A chunk-size line as it goes on: the size in upper-case hex (as HAProxy
// writes it), nothing else.
void Parser::emitChunkSize(std::uint64_t size) {
  char digits[16];
  int n = 0;
  do {
    digits[n++] = "0123456789ABCDEF"[size & 0xf];
    size >>= 4;
  } while (size != 0);
  while (n > 0)
    out_.push_back(digits[--n]);
  out_.append("\r\n");
}

// A valid trailer field line is complete (trailer_, "name:value"): it goes
// on unless it is Content-Length or Transfer-Encoding, which frame the
// message and have no meaning (nor any safe reading) in a trailer.
void Parser::trailerLineDone() {
  const std::string_view line = trailer_;
  const std::string_view name = line.substr(0, line.find(':'));
  if (!iequals(name, "content-length") && !iequals(name, "transfer-encoding"))
    out_.append(line).append("\r\n");
  trailer_.clear();
}

std::string serializeHead(const Message& m) {
  std::size_t size = 64;
  for (const auto& h : m.headers)
    size += h.name.size() + h.value.size() + 4;
  size += m.method.size() + m.target.size() + m.reason.size();
  std::string out;
  out.reserve(size);
  const char version[] = {'H', 'T',
                          'T', 'P',
                          '/', static_cast<char>('0' + m.versionMajor),
                          '.', static_cast<char>('0' + m.versionMinor)};
  if (m.kind == Kind::Request) {
    out.append(m.method).append(" ").append(m.target).append(" ");
    out.append(version, sizeof version);
  } else {
    out.append(version, sizeof version).append(" ");
    out.append(std::to_string(m.status));
    if (!m.reason.empty()) out.append(" ").append(m.reason);
  }
  out.append("\r\n");
  for (const auto& h : m.headers)
    out.append(h.name).append(": ").append(h.value).append("\r\n");
  out.append("\r\n");
  return out;
}

} // namespace proxyd::http1
