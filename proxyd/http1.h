#pragma once
// A strict, incremental HTTP/1.x parser (RFC 9112) for requests and
// responses, and the message model it fills. Pure: no I/O, no allocation
// after construction (the head buffer and the header table are sized once
// from Limits) except for trailer fields, which are rare.
//
// One Parser per direction of a connection. The caller feeds whatever bytes
// it has; each parse() call consumes a prefix of them and reports one event:
//
//   NeedMore  every byte given was consumed; feed more. Before Head the
//             bytes are held in the parser's own head buffer (the caller may
//             drop them); after Head they were body framing (chunk-size
//             lines, chunk CRLFs, trailers) that belong to the message.
//   Head      the head is complete: message() is filled. The caller forwards
//             rawHead() or serializeHead(message()) in place of the head
//             bytes it fed so far.
//   Data      `data` is payload (a slice of the input); `consumed` counts it
//             plus any framing bytes before it (in a tunnel: every byte).
//   End       the message is complete (`consumed` counts its last framing
//             bytes, often 0). The next parse() starts the next message
//             (pipelining).
//   Error     the input is refused; `error` says why, at which byte offset
//             (counted from the first byte of this message) and which status
//             the proxy should answer. The parser stays failed until reset().
//
// Forwarding a body: after Head, every result carries `framing`, the body
// framing re-encoded from what this call validated (chunk-size lines as
// "<HEX>\r\n" without extensions, the CRLF after chunk data, the last chunk,
// the trailer fields other than Content-Length and Transfer-Encoding, the
// final CRLF). The caller forwards `framing` then `data` in place of
// input[0, consumed) -- never the consumed input itself. So only validated
// bytes leave: a chunk-size line or trailer field goes on once its CRLF has
// arrived and it is valid, and nothing of a line the parser refuses does.
// Content-Length bodies and tunnels have no framing (data is the input).
// Re-encoding never grows a message: the framing and data of any prefix of
// a body are at most as long as that prefix (callers may compact in place).
//
// A typical loop:
//   for (;;) {
//     auto r = parser.parse(in);
//     in.remove_prefix(r.consumed);
//     if (r.event == Event::NeedMore || r.event == Event::Error) break;
//     ...
//   }
//
// Views in message() and rawHead() point into the parser's head buffer: they
// stay valid until the parser starts the next message (the first parse()
// after End) or reset().
//
// Strictness (each choice is noted where RFC 9112, HAProxy 2.6 and nginx
// differ; the list is at the top of http1.cc): CR LF is the only line end in the
// head and in chunk framing (a bare LF or bare CR is refused); NUL is refused;
// obs-fold is refused; whitespace between a field name and its colon is
// refused; Transfer-Encoding with Content-Length is refused; differing
// Content-Length values are refused, identical ones (repeated fields or a
// "5, 5" list) are merged as HAProxy does (the caller sends one field with
// Message::contentLength); a chunk size above 2^52-1 is refused, as HAProxy
// does. Request targets: origin-form, absolute-form ("scheme://authority"
// then '/' or the end), authority-form for CONNECT, "*" for OPTIONS; no
// fragment. A Host field that differs from the
// target's authority, or a second Host that differs from the first, is
// refused; without Host, one is added from the authority (see checkHost).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace proxyd::http1 {

struct Limits {
  // The whole head (start line, fields, final CRLF) must fit: HAProxy's
  // tune.bufsize (HAProxy also keeps tune.maxrewrite free: pass bufsize -
  // maxrewrite for its exact figure). Also bounds a trailer section and one
  // chunk-size line.
  std::size_t maxHead = 16384;
  // Fields in the head (or in a trailer section), as HAProxy's
  // tune.http.maxhdr.
  std::size_t maxHeaders = 101;
};

enum class Kind { Request, Response };

enum class Method { Get, Head, Post, Put, Delete, Connect, Options, Trace, Patch, Other };
Method methodFromToken(std::string_view token);

// How the body is delimited (RFC 9112 section 6.3).
enum class Framing {
  None,          // no body (requests without CL/TE; 1xx, 204, 304, HEAD responses)
  ContentLength, // exactly Message::contentLength bytes
  Chunked,       // chunked transfer coding (last coding of Transfer-Encoding)
  UntilClose,    // responses only: body ends when the server closes (finish())
  Tunnel,        // responses only: 101, or 2xx to CONNECT; the bytes after the
                 // head are no longer HTTP (the parser passes them as Data)
};

struct Header {
  std::string_view name;  // as received (compare case-insensitively)
  std::string_view value; // leading and trailing whitespace removed
};

struct Message {
  Kind kind = Kind::Request;
  // Request line.
  std::string_view method; // as received
  Method methodKind = Method::Other;
  std::string_view target;
  // Status line.
  int status = 0;
  std::string_view reason;
  // "HTTP/major.minor"; only major 1 is accepted. A minor above 1 is
  // treated as 1.1 (RFC 9112 section 2.3) but kept as received (the head
  // the proxy sends on says HTTP/1.1, see forwardedVersion()).
  int versionMajor = 1;
  int versionMinor = 1;

  // In order, duplicates kept (but a request's repeated Host equal to the
  // first is dropped). A request with an absolute- or authority-form target
  // and no Host gets one made from the authority, at the end: one field more
  // than Limits::maxHeaders is then possible.
  std::vector<Header> headers;

  Framing framing = Framing::None;
  std::uint64_t contentLength = 0; // when framing == ContentLength

  bool keepAlive = true;        // the connection may carry another message after this one
  bool connectionClose = false; // "Connection: close" was present
  bool expectContinue = false;  // request: HTTP/1.1 and "Expect: 100-continue"
  bool upgrade = false;         // request: HTTP/1.1, an Upgrade field and the
                                // "upgrade" Connection token. After such a
                                // request (or CONNECT) the caller stops feeding
                                // until the response says whether the switch
                                // happened (then startTunnel()).
  bool interim = false;         // response: 1xx other than 101 (another
                                // response to the same request follows)

  bool http11() const { return versionMajor == 1 && versionMinor >= 1; }
  // The version to send on: "HTTP/1.0" or "HTTP/1.1" (a higher minor is
  // sent as 1.1, as HAProxy does).
  std::string_view forwardedVersion() const { return http11() ? "HTTP/1.1" : "HTTP/1.0"; }
  // The first field with this name (case-insensitive), or nullptr.
  const Header* find(std::string_view name) const;
};

// Why a message was refused. Error::status carries the answer the proxy
// should give (from a response parser always 502: the server sent garbage).
enum class Err {
  None,
  BareCr,                   // CR not followed by LF
  BareLf,                   // LF without CR (head, chunk framing, trailers)
  Nul,                      // NUL in the head or trailers
  BadMethod,                // not a token, or empty
  BadTarget,                // empty, or SP/CTL/non-ASCII, or the wrong form
  BadVersion,               // not "HTTP/d.d"
  UnsupportedVersion,       // well formed but major != 1 (505)
  BadStatusLine,            // status not 3 digits 100-999, bad reason bytes
  BadStartLine,             // wrong number of parts/spaces
  UriTooLong,               // request line not ended within Limits::maxHead (414)
  HeadTooLarge,             // head not ended within Limits::maxHead (431)
  TooManyHeaders,           // more than Limits::maxHeaders fields (431)
  ObsFold,                  // a field line starting with SP/HT
  SpaceBeforeColon,         // "Name : value"
  BadHeaderName,            // empty or not a token
  MissingColon,             // a field line without ':'
  BadHeaderValue,           // a CTL other than HT in a field value
  BadContentLength,         // not 1*DIGIT (or a list of them), or overflows 64 bits
  ConflictingContentLength, // repeated with different values
  TransferEncodingAndContentLength,
  TransferEncodingHttp10, // Transfer-Encoding in an HTTP/1.0 message
  BadTransferEncoding,    // empty, bad syntax, parameters on chunked
  UnknownTransferCoding,  // request: not chunked/gzip/deflate/compress (501)
  ChunkedNotLast,         // chunked followed by another coding
  ChunkedTwice,
  NotChunkedLast,         // request: Transfer-Encoding whose last coding is not chunked
  DuplicateHost,          // two Host fields with different values
  HostMismatch,           // Host differs from the authority of the target
  UnexpectedSwitch,       // 101 to a request that asked for no upgrade
  MissingWebSocketKey,    // websocket upgrade without Sec-WebSocket-Key (HAProxy: 400)
  MissingWebSocketAccept, // websocket 101 without Sec-WebSocket-Accept (HAProxy: 502)
  BadChunkSize,           // empty, non-hex, sign, "0x"
  ChunkSizeOverflow,      // above 2^52-1 (HAProxy's bound: 13 hex digits)
  BadChunkExtension,
  ChunkLineTooLong,
  BadChunkEnd,     // chunk data not followed by CRLF
  TrailerTooLarge, // trailers over Limits::maxHead (431)
  Truncated,       // the connection closed inside a message
};
const char* describe(Err e);

struct Error {
  Err code = Err::None;
  int status = 0;           // 400, 414, 431, 501, 505; 502 for responses
  std::uint64_t offset = 0; // of the offending byte, from the message's first byte
};

enum class Event { NeedMore, Head, Data, End, Error };

struct Result {
  Event event = Event::NeedMore;
  std::size_t consumed = 0; // bytes of the input used by this call
  std::string_view data;    // Data: the payload slice
  Error error;              // Error
  // Body framing to forward before `data` (any event after Head; see the
  // contract above). Points into the parser: valid until the next call.
  std::string_view framing;
};

// The parts of a request target (RFC 9112 section 3.2), as views into it.
// One reading of the target for the parser, the sample fetches and routing,
// so that an ACL sees the authority and path the server will use.
struct TargetParts {
  enum class Form { Invalid, Origin, Asterisk, Absolute, Authority };
  Form form = Form::Invalid;
  std::string_view scheme;    // absolute-form, without "://"
  std::string_view authority; // absolute- and authority-form, userinfo removed
  std::string_view host;      // authority without ":port"
  std::string_view port;      // digits after ':' (may be empty: "h:")
  bool hasPort = false;
  std::string_view path;  // origin- and absolute-form: from '/' to '?' (may be empty)
  std::string_view query; // after '?', without it
  bool hasQuery = false;
};
// Splits a target the parser accepted. Any string is accepted (Form::Invalid
// when it is none of the four forms, e.g. after a set-uri rule).
TargetParts splitTarget(std::string_view target);

// What the response parser must know about the request it answers.
struct RequestContext {
  Method method = Method::Get;
  bool upgrade = false; // the request asked for a protocol switch
};

class Parser {
public:
  explicit Parser(Kind kind, Limits limits = {});

  Result parse(std::string_view in);

  // The peer closed its side. Returns End when that completes the message
  // (an until-close response body), NeedMore when no message was under way
  // (a clean close between messages), Error(Truncated) otherwise.
  Result finish();

  // Response parsers: the request the next response answers (HEAD and
  // CONNECT change the framing; 101 needs an upgrade request). Call before
  // feeding that response's bytes; interim responses keep it.
  void setRequest(RequestContext ctx) { request_ = ctx; }
  static RequestContext contextOf(const Message& request) {
    return {request.methodKind, request.upgrade};
  }

  // After a request that asked to switch protocols (Upgrade, CONNECT) got a
  // response that accepted it: every further byte is passed as Data.
  void startTunnel();

  // Back to the state of a new parser (limits and kind kept).
  void reset();

  const Message& message() const { return msg_; }
  // The head bytes as received (without leading empty lines).
  std::string_view rawHead() const { return {buf_.get(), len_}; }
  bool inBody() const;          // Head reported, End not yet
  bool betweenMessages() const; // no byte of a next message fed yet
  Kind kind() const { return kind_; }

private:
  enum class State : std::uint8_t;

  void beginMessage();
  Result fail(Err e, std::uint64_t offset);
  Result parseHead(std::string_view in);
  Err lineDone(std::size_t start, std::size_t end, std::size_t& errAt);
  Err startLine(std::string_view line, std::size_t& errAt);
  Err requestLine(std::string_view line, std::size_t& errAt);
  Err statusLine(std::string_view line, std::size_t& errAt);
  Err fieldLine(std::string_view line, std::size_t& errAt);
  Err headDone(std::size_t& errAt);
  Err checkHost(std::size_t& errAt);
  Err chunkByte(unsigned char c);
  Err trailerByte(unsigned char c);
  void emitChunkSize(std::uint64_t size);
  void trailerLineDone();
  Result withFraming(Result r) const {
    r.framing = out_;
    return r;
  }

  Kind kind_;
  Limits limits_;
  State state_;
  std::unique_ptr<char[]> buf_; // the head, limits_.maxHead bytes
  std::size_t len_ = 0;         // bytes in buf_
  std::size_t lineStart_ = 0;   // where the current head line starts in buf_
  bool sawCr_ = false;          // the previous head/trailer byte was CR
  bool startLineDone_ = false;
  std::uint64_t msgOffset_ = 0; // bytes of this message consumed before this call
  std::uint64_t skipped_ = 0;   // leading empty-line bytes of this message
  std::uint64_t remaining_ = 0; // body bytes left (CL body or current chunk)
  std::size_t lineLen_ = 0;     // chunk-size line or trailer section length so far
  std::size_t trailerFields_ = 0;
  int chunkDigits_ = 0;
  std::string out_;     // body framing re-encoded in this parse() call
  std::string trailer_; // the trailer field line being read (CRLF excluded)
  Message msg_;
  RequestContext request_;
  Error error_;
};

// The head as it goes on the wire: start line, each field as "name: value",
// and the empty line. For set-header/del-header: copy the message, edit its
// headers (views to strings the caller keeps alive), serialize.
std::string serializeHead(const Message& m);

// Case-insensitive ASCII comparison, as field names and tokens compare.
bool iequals(std::string_view a, std::string_view b);

} // namespace proxyd::http1
