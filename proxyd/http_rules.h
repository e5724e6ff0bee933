#pragma once
// http-request / http-response rules and the responses proxyd generates
// itself (HAProxy 2.6's default error pages, errorfiles, deny, return,
// redirect). Pure: the rules edit an HttpHead in memory.
//
// The flow in a stream (mode http):
//   HttpHead head = fromMessage(parser.message());
//   SampleContext ctx{&parser.message(), src, dst, ssl};
//   RuleResult r = applyRequestRules(fe.httpRequest, head, ctx);
//   if (r.kind != RuleResult::Kind::Continue && r.kind != Allow) send
//       buildResponse(r, &fe) and close or keep alive as its headers say;
//   else: pick the backend with use_backend conditions evaluated on the
//       edited head (HeadView view(head); ctx.req = &view.message()),
//       then the backend's own http-request rules, then forward
//       serialize(head, true).
//   Responses: HttpHead rh = fromMessage(resp); applyResponseRules(be, ...)
//       then fe's; Deny -> buildResponse (502 by default).
#include "proxyd/acl.h"
#include "proxyd/http1.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace proxyd {

struct ProxyConfig;

// An editable message head (request or response). Header names keep their
// spelling; lookups are case-insensitive.
struct HttpHead {
  std::string method, target, version; // request line; version "HTTP/1.1"
  int status = 0;                      // status line (responses)
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;

  // Index of the first header named `name` at or after `from`, or npos.
  std::size_t find(std::string_view name, std::size_t from = 0) const;
  // The first value of `name`, or nullptr.
  const std::string* get(std::string_view name) const;
  void add(std::string name, std::string value);
  void set(std::string name, std::string value); // del(name) then add
  std::size_t del(std::string_view name);        // returns how many were removed
  // The path part of the target ("/a/b" of "/a/b?q" or "http://h/a/b?q").
  std::string_view path() const;
};

// The head to forward, normalised as HAProxy's HTX does: names lower-cased,
// the version HTTP/1.0 or HTTP/1.1 (a higher minor goes on as 1.1), and one
// Content-Length field with the merged value however the sender repeated it.
HttpHead fromMessage(const http1::Message& m);
// The head as it goes on the wire: start line, "name: value" lines, CRLF.
std::string serialize(const HttpHead& h, bool request);

// An http1::Message whose views point into an HttpHead, so that ACLs can be
// evaluated on an edited head. Valid while the head is neither changed nor
// destroyed. Framing fields (contentLength, keepAlive...) are not filled.
class HeadView {
public:
  HeadView(const HttpHead& head, bool request);
  const http1::Message& message() const { return msg_; }

private:
  http1::Message msg_;
};

// A header value, a redirect location, set-path's path: HAProxy reads them as
// log-format strings. proxyd supports only the literal subset: "%%" is "%"
// and any other "%" is refused at parse time.
struct HeaderEdit {
  std::string name;
  std::string value;                  // set/add: the value; replace: the replacement
  std::shared_ptr<const Regex> regex; // replace-header / replace-value
};

enum class RedirectType { Location, Prefix, Scheme };

struct Redirect {
  RedirectType type = RedirectType::Location;
  std::string value; // location, prefix or scheme
  int code = 302;    // 301, 302, 303, 307, 308
  bool dropQuery = false;
  bool appendSlash = false;
};

// deny and return: the reply. With `raw` (`errorfile FILE`), that complete
// response as is; with `useErrorfile`, the proxy's errorfile for `status`
// (or HAProxy's default page); otherwise a generated response with the
// content type, headers and body given (none: an empty body).
struct Reply {
  int status = 200;
  std::optional<std::string> raw;
  bool useErrorfile = false;
  std::string contentType;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; // `hdr NAME VALUE`
};

struct HttpRequestRule {
  enum class Action {
    Allow,
    Deny,
    Return,
    Redirect,
    SetHeader,
    AddHeader,
    DelHeader,
    ReplaceHeader,
    ReplaceValue,
    SetPath
  };
  Action action = Action::Allow;
  HeaderEdit edit;           // header actions; SetPath: edit.value
  Reply reply;               // Deny, Return
  proxyd::Redirect redirect; // Redirect
  std::optional<Condition> cond;
  common::SourceLoc loc;
};

struct HttpResponseRule {
  enum class Action { Allow, Deny, SetHeader, AddHeader, DelHeader, ReplaceHeader, ReplaceValue };
  Action action = Action::Allow;
  HeaderEdit edit;
  Reply reply; // Deny: status 502 by default
  std::optional<Condition> cond;
  common::SourceLoc loc;
};

struct RuleResult {
  enum class Kind { Continue, Allow, Deny, Return, Redirect };
  Kind kind = Kind::Continue;
  Reply reply;                // Deny, Return
  int code = 0;               // Redirect: 301..308
  std::string location;       // Redirect
  const void* rule = nullptr; // the rule that stopped evaluation (for logs)
  bool stops() const { return kind != Kind::Continue && kind != Kind::Allow; }
};

// Evaluates the rules in order, editing `head`. Continue: every rule ran (or
// none matched a final action); Allow: an allow rule stopped evaluation (the
// request goes on); Deny/Return/Redirect: answer with buildResponse().
// Conditions see the head as edited by the earlier rules; ctx.req is
// ignored (replaced by a view of `head`), ctx's addresses are used.
RuleResult applyRequestRules(const std::vector<HttpRequestRule>& rules, HttpHead& head,
                             const SampleContext& ctx);
// Response rules: Continue, Allow or Deny. `head` is the response; ctx.req
// may point to the request (HAProxy's request fetches do not work in
// response rules, so ACLs on them find nothing there too).
RuleResult applyResponseRules(const std::vector<HttpResponseRule>& rules, HttpHead& head,
                              const SampleContext& ctx);

// The complete response (head and body) for a final RuleResult: errorfile or
// default page for a deny, the generated reply for a return, the redirect.
// `px` gives the errorfiles (may be null).
std::string buildResponse(const RuleResult& r, const ProxyConfig* px);

// HAProxy 2.6's response for an error proxyd generates itself, byte for
// byte: the proxy's `errorfile` for that status when configured, else the
// built-in page (200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 425, 429,
// 500, 501, 502, 503, 504; other codes fall back to 500's page as HAProxy
// does). `withErrorfiles` may be null.
std::string errorResponse(int status, const ProxyConfig* withErrorfiles);
// The same for a stream: the backend's errorfile, else the frontend's (as
// HAProxy's http_error_message looks them up), else the built-in page.
// Either proxy may be null.
std::string errorResponse(int status, const ProxyConfig* be, const ProxyConfig* fe);

// A raw response (an errorfile) as HAProxy 2.6 sends it after converting it
// to its internal form: status line as written, header names lower-cased,
// values trimmed, Connection fields dropped, body unchanged.
std::string htxForm(std::string_view raw);

// HAProxy 2.6's H1 layer answers a request it cannot parse, and a request
// that did not come in time, by itself: 408 for a timeout, 400 for every
// parse error (proxyd's parser says 414, 431, 501 or 505 for some), with
// the raw built-in page below; errorfiles are not used there.
int h1ErrorStatus(int parserStatus);
// That raw page: capitalized names and its own "Connection: close", e.g.
// "HTTP/1.1 400 Bad request\r\nContent-length: 90\r\nCache-Control:
// no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n<html>...".
std::string h1ErrorResponse(int status);

// `response` with "connection: close" as the last header field, as HAProxy's
// H1 layer adds it when the client's request asked to close (HTTP/1.0
// without keep-alive, "Connection: close", option httpclose). Unchanged when
// the head already has a Connection field, or is empty (an empty errorfile).
std::string withConnectionClose(std::string response);

// The status codes HAProxy can generate (and `errorfile` accepts).
bool isHandledErrorStatus(int status);
// The reason phrase HAProxy uses for a status ("Found", "Service Unavailable").
std::string_view reasonPhrase(int status);

} // namespace proxyd
