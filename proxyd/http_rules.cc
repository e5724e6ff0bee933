// HttpHead editing, http-request/http-response rule evaluation, and the
// responses proxyd generates (default error pages, errorfiles, return,
// redirect), byte for byte as HAProxy 2.6.12 sends them (captured from the
// real haproxy: see tests/unit/proxyd/test_http_rules.cc).
#include "proxyd/http_rules.h"

#include "proxyd/config.h"

#include <array>
#include <cctype>
#include <utility>

namespace proxyd {
namespace {

// Header names are ASCII tokens: no locale (libc's tolower is a call per
// character, a visible cost on every proxied header).
std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

struct ErrorPage {
  int status;
  std::string_view reason; // as in the page's status line
  std::string_view text;   // the sentence under the title
};

// HAProxy 2.6's built-in pages (src/http.c http_err_msgs), in the form its
// HTX layer sends them: lower-case names, content-length first.
constexpr std::array<ErrorPage, 18> kErrorPages = {{
    {200, "OK", "Service ready."},
    {400, "Bad request", "Your browser sent an invalid request."},
    {401, "Unauthorized", "You need a valid user and password to access this content."},
    {403, "Forbidden", "Request forbidden by administrative rules."},
    {404, "Not Found", "The resource could not be found."},
    {405, "Method Not Allowed",
     "A request was made of a resource using a request method not supported by that resource"},
    {407, "Unauthorized", "You need a valid user and password to access this content."},
    {408, "Request Time-out", "Your browser didn't send a complete request in time."},
    {410, "Gone", "The resource is no longer available and will not be available again."},
    {413, "Payload Too Large", "The request entity exceeds the maximum allowed."},
    {422, "Unprocessable Content", "The server cannot process the contained instructions."},
    {425, "Too Early", "Your browser sent early data."},
    {429, "Too Many Requests", "You have sent too many requests in a given amount of time."},
    {500, "Internal Server Error", "An internal server error occurred."},
    {501, "Not Implemented",
     ".The server does not support the functionality required to fulfill the request."},
    {502, "Bad Gateway", "The server returned an invalid or incomplete response."},
    {503, "Service Unavailable", "No server is available to handle this request."},
    {504, "Gateway Time-out", "The server didn't respond in time."},
}};

const ErrorPage& pageFor(int status) {
  for (const ErrorPage& p : kErrorPages) {
    if (p.status == status) return p;
  }
  return pageFor(500); // HAProxy: an unknown code uses the 500 page
}

std::string defaultPage(int status) {
  const ErrorPage& p = pageFor(status);
  std::string title = std::to_string(p.status) + " " + std::string(p.reason);
  std::string body =
      "<html><body><h1>" + title + "</h1>\n" + std::string(p.text) + "\n</body></html>\n";
  return "HTTP/1.1 " + title + "\r\ncontent-length: " + std::to_string(body.size()) +
         "\r\ncache-control: no-cache\r\ncontent-type: text/html\r\n\r\n" + body;
}

} // namespace

// --- HttpHead ---

std::size_t HttpHead::find(std::string_view name, std::size_t from) const {
  for (std::size_t i = from; i < headers.size(); ++i) {
    if (http1::iequals(headers[i].first, name)) return i;
  }
  return std::string::npos;
}

const std::string* HttpHead::get(std::string_view name) const {
  std::size_t i = find(name);
  return i == std::string::npos ? nullptr : &headers[i].second;
}

void HttpHead::add(std::string name, std::string value) {
  headers.emplace_back(lower(name), std::move(value));
}

void HttpHead::set(std::string name, std::string value) {
  del(name);
  add(std::move(name), std::move(value));
}

std::size_t HttpHead::del(std::string_view name) {
  std::size_t before = headers.size();
  std::erase_if(headers, [&](const auto& h) { return http1::iequals(h.first, name); });
  return before - headers.size();
}

namespace {
// Where the path starts in a request target: after "scheme://authority" in
// absolute form, 0 in origin form; npos when there is no path ("*",
// authority form, or "http://host" without a path).
std::size_t pathStart(std::string_view t) {
  if (t.starts_with('/')) return 0;
  std::size_t sep = t.find("://");
  if (sep == std::string_view::npos) return std::string_view::npos;
  std::size_t slash = t.find('/', sep + 3);
  return slash;
}
} // namespace

std::string_view HttpHead::path() const {
  std::string_view t = target;
  std::size_t s = pathStart(t);
  if (s == std::string_view::npos) return {};
  t.remove_prefix(s);
  return t.substr(0, t.find('?'));
}

HttpHead fromMessage(const http1::Message& m) {
  HttpHead h;
  h.version = m.forwardedVersion();
  if (m.kind == http1::Kind::Request) {
    h.method = std::string(m.method);
    h.target = std::string(m.target);
  } else {
    h.status = m.status;
    h.reason = std::string(m.reason);
  }
  h.headers.reserve(m.headers.size());
  bool clSent = false;
  for (const http1::Header& f : m.headers) {
    if (http1::iequals(f.name, "content-length")) {
      // Repeated or listed equal values ("5, 5") were merged by the parser:
      // one field with the one value goes on, where the first one was.
      if (!std::exchange(clSent, true))
        h.headers.emplace_back("content-length", std::to_string(m.contentLength));
      continue;
    }
    h.headers.emplace_back(lower(f.name), std::string(f.value));
  }
  return h;
}

std::string serialize(const HttpHead& h, bool request) {
  std::string out;
  std::size_t size = 64;
  for (const auto& [n, v] : h.headers)
    size += n.size() + v.size() + 4;
  out.reserve(size);
  if (request) {
    out += h.method + " " + h.target + " " + h.version + "\r\n";
  } else {
    out += h.version + " " + std::to_string(h.status) + " " + h.reason + "\r\n";
  }
  for (const auto& [n, v] : h.headers) {
    out += n;
    out += ": ";
    out += v;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

HeadView::HeadView(const HttpHead& head, bool request) {
  msg_.kind = request ? http1::Kind::Request : http1::Kind::Response;
  msg_.method = head.method;
  msg_.methodKind = http1::methodFromToken(head.method);
  msg_.target = head.target;
  msg_.status = head.status;
  msg_.reason = head.reason;
  std::string_view v = head.version;
  if (v.size() == 8 && v.starts_with("HTTP/") && v[6] == '.') {
    msg_.versionMajor = v[5] - '0';
    msg_.versionMinor = v[7] - '0';
  }
  msg_.headers.reserve(head.headers.size());
  for (const auto& [n, val] : head.headers)
    msg_.headers.push_back(http1::Header{n, val});
}

// --- generated responses ---

bool isHandledErrorStatus(int status) {
  for (const ErrorPage& p : kErrorPages) {
    if (p.status == status) return true;
  }
  return false;
}

std::string errorResponse(int status, const ProxyConfig* withErrorfiles) {
  return errorResponse(status, withErrorfiles, nullptr);
}

std::string errorResponse(int status, const ProxyConfig* be, const ProxyConfig* fe) {
  for (const ProxyConfig* px : {be, fe}) {
    if (!px) continue;
    auto it = px->errorfiles.find(status);
    if (it != px->errorfiles.end()) return htxForm(it->second);
  }
  return defaultPage(status);
}

std::string htxForm(std::string_view raw) {
  std::size_t end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) return std::string(raw);
  std::string_view head = raw.substr(0, end + 2); // each line with its CRLF
  std::string out;
  out.reserve(raw.size());
  std::size_t eol = head.find("\r\n");
  out += head.substr(0, eol + 2); // the status line as written
  for (std::size_t pos = eol + 2; pos < head.size();) {
    std::size_t next = head.find("\r\n", pos);
    std::string_view line = head.substr(pos, next - pos);
    pos = next + 2;
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = lower(line.substr(0, colon));
    if (name == "connection") continue; // a hop-by-hop field HTX does not keep
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
      value.remove_suffix(1);
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  out += raw.substr(end + 4);
  return out;
}

int h1ErrorStatus(int parserStatus) {
  return parserStatus == 408 ? 408 : 400;
}

std::string h1ErrorResponse(int status) {
  const ErrorPage& p = pageFor(status);
  std::string title = std::to_string(p.status) + " " + std::string(p.reason);
  std::string body =
      "<html><body><h1>" + title + "</h1>\n" + std::string(p.text) + "\n</body></html>\n";
  return "HTTP/1.1 " + title + "\r\nContent-length: " + std::to_string(body.size()) +
         "\r\nCache-Control: no-cache\r\nConnection: close\r\nContent-Type: text/html\r\n\r\n" +
         body;
}

std::string withConnectionClose(std::string response) {
  std::size_t end = response.find("\r\n\r\n");
  if (end == std::string::npos) return response;
  // Already there (HAProxy's raw pages carry one): leave the head alone.
  for (std::size_t pos = response.find("\r\n") + 2; pos <= end;) {
    std::size_t next = response.find("\r\n", pos);
    if (next - pos >= 11 &&
        http1::iequals(std::string_view(response).substr(pos, 11), "connection:"))
      return response;
    pos = next + 2;
  }
  response.insert(end + 2, "connection: close\r\n");
  return response;
}

std::string_view reasonPhrase(int status) {
  // HAProxy 2.6's http_get_reason(), as its `http-request return` prints it.
  switch (status) {
  case 100:
    return "Continue";
  case 101:
    return "Switching Protocols";
  case 102:
    return "Processing";
  case 103:
    return "Early Hints";
  case 200:
    return "OK";
  case 201:
    return "Created";
  case 202:
    return "Accepted";
  case 203:
    return "Non-Authoritative Information";
  case 204:
    return "No Content";
  case 205:
    return "Reset Content";
  case 206:
    return "Partial Content";
  case 207:
    return "Multi-Status";
  case 210:
    return "Content Different";
  case 226:
    return "IM Used";
  case 300:
    return "Multiple Choices";
  case 301:
    return "Moved Permanently";
  case 302:
    return "Moved Temporarily";
  case 303:
    return "See Other";
  case 304:
    return "Not Modified";
  case 305:
    return "Use Proxy";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  case 310:
    return "Too many Redirects";
  case 400:
    return "Bad Request";
  case 401:
    return "Unauthorized";
  case 402:
    return "Payment Required";
  case 403:
    return "Forbidden";
  case 404:
    return "Not Found";
  case 405:
    return "Method Not Allowed";
  case 406:
    return "Not Acceptable";
  case 407:
    return "Proxy Authentication Required";
  case 408:
    return "Request Time-out";
  case 409:
    return "Conflict";
  case 410:
    return "Gone";
  case 411:
    return "Length Required";
  case 412:
    return "Precondition Failed";
  case 413:
    return "Request Entity Too Large";
  case 414:
    return "Request-URI Too Long";
  case 415:
    return "Unsupported Media Type";
  case 416:
    return "Requested range unsatisfiable";
  case 417:
    return "Expectation failed";
  case 418:
    return "I'm a teapot";
  case 421:
    return "Misdirected Request";
  case 422:
    return "Unprocessable Content";
  case 423:
    return "Locked";
  case 424:
    return "Method failure";
  case 425:
    return "Too Early";
  case 426:
    return "Upgrade Required";
  case 428:
    return "Precondition Required";
  case 429:
    return "Too Many Requests";
  case 431:
    return "Request Header Fields Too Large";
  case 449:
    return "Retry With";
  case 450:
    return "Blocked by Windows Parental Controls";
  case 451:
    return "Unavailable For Legal Reasons";
  case 456:
    return "Unrecoverable Error";
  case 499:
    return "client has closed connection";
  case 500:
    return "Internal Server Error";
  case 501:
    return "Not Implemented";
  case 502:
    return "Bad Gateway or Proxy Error";
  case 503:
    return "Service Unavailable";
  case 504:
    return "Gateway Time-out";
  case 505:
    return "HTTP Version not supported";
  case 506:
    return "Variant also negotiate";
  case 507:
    return "Insufficient storage";
  case 508:
    return "Loop detected";
  case 509:
    return "Bandwidth Limit Exceeded";
  case 510:
    return "Not extended";
  case 511:
    return "Network authentication required";
  case 520:
    return "Web server is returning an unknown error";
  default:
    break;
  }
  if (status >= 100 && status < 200) return "Informational";
  if (status >= 200 && status < 300) return "Success";
  if (status >= 300 && status < 400) return "Redirection";
  if (status >= 400 && status < 500) return "Client Error";
  if (status >= 500 && status < 600) return "Server Error";
  return "Other";
}

namespace {

// The reason phrases HAProxy's redirect rules write (not http_get_reason's).
std::string_view redirectReason(int code) {
  switch (code) {
  case 301:
    return "Moved Permanently";
  case 303:
    return "See Other";
  case 307:
    return "Temporary Redirect";
  case 308:
    return "Permanent Redirect";
  default:
    return "Found";
  }
}

std::string replyResponse(const Reply& r, const ProxyConfig* px) {
  if (r.raw) return htxForm(*r.raw);
  if (r.useErrorfile) return errorResponse(r.status, px);
  std::string out =
      "HTTP/1.1 " + std::to_string(r.status) + " " + std::string(reasonPhrase(r.status)) + "\r\n";
  for (const auto& [n, v] : r.headers)
    out += lower(n) + ": " + v + "\r\n";
  out += "content-length: " + std::to_string(r.body.size()) + "\r\n";
  if (!r.body.empty() && !r.contentType.empty()) out += "content-type: " + r.contentType + "\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

} // namespace

std::string buildResponse(const RuleResult& r, const ProxyConfig* px) {
  switch (r.kind) {
  case RuleResult::Kind::Deny:
  case RuleResult::Kind::Return:
    return replyResponse(r.reply, px);
  case RuleResult::Kind::Redirect: {
    std::string out = "HTTP/1.1 " + std::to_string(r.code) + " " +
                      std::string(redirectReason(r.code)) +
                      "\r\ncontent-length: 0\r\nlocation: " + r.location + "\r\n";
    if (r.code == 302 || r.code == 303 || r.code == 307) out += "cache-control: no-cache\r\n";
    return out + "\r\n";
  }
  case RuleResult::Kind::Continue:
  case RuleResult::Kind::Allow:
    break;
  }
  return {};
}

// --- rules ---

namespace {

bool condHolds(const std::optional<Condition>& cond, const SampleContext& ctx) {
  return !cond || cond->eval(ctx);
}

// HAProxy's exp_replace(): \0..\9 are groups, \xHH a byte, \c the char c.
using Groups = std::vector<std::pair<std::size_t, std::size_t>>;

std::string expandReplacement(const std::string& repl, std::string_view subject, const Groups& m) {
  std::string out;
  for (std::size_t i = 0; i < repl.size(); ++i) {
    char c = repl[i];
    if (c != '\\' || i + 1 >= repl.size()) {
      out.push_back(c);
      continue;
    }
    char n = repl[++i];
    if (n >= '0' && n <= '9') {
      std::size_t g = static_cast<std::size_t>(n - '0');
      if (g < m.size() && m[g].first != std::string_view::npos) {
        out += subject.substr(m[g].first, m[g].second);
      }
    } else if (n == 'x' && i + 2 < repl.size() &&
               std::isxdigit(static_cast<unsigned char>(repl[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(repl[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(repl.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(n);
    }
  }
  return out;
}

// replace-header: each whole occurrence whose value matches is replaced by
// the expansion (HAProxy replaces the full value, not the matched part).
// replace-value: the same on each comma-separated value.
void replaceHeader(HttpHead& head, const HeaderEdit& e, bool perValue) {
  for (auto& [n, v] : head.headers) {
    if (!http1::iequals(n, e.name)) continue;
    Groups m;
    if (!perValue) {
      if (e.regex->search(v, m)) v = expandReplacement(e.value, v, m);
      continue;
    }
    std::string out;
    std::size_t start = 0;
    while (true) {
      std::size_t comma = v.find(',', start);
      std::string part =
          v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      std::size_t b = part.find_first_not_of(" \t");
      std::string lead = b == std::string::npos ? part : part.substr(0, b);
      std::string val = b == std::string::npos ? "" : part.substr(b);
      if (e.regex->search(val, m)) val = expandReplacement(e.value, val, m);
      out += lead + val;
      if (comma == std::string::npos) break;
      out += ",";
      start = comma + 1;
    }
    v = out;
  }
}

// set-path: replaces the path, keeping the query string (and the scheme and
// authority of an absolute-form target).
void setPath(HttpHead& head, const std::string& path) {
  std::string& t = head.target;
  std::size_t s = pathStart(t);
  if (s == std::string::npos) {
    std::size_t sep = t.find("://");
    if (sep == std::string::npos) { // "*" or authority form: replaced whole
      t = path;
      return;
    }
    s = t.size(); // "http://host" without a path
  }
  std::size_t q = t.find('?', s);
  t = t.substr(0, s) + path + (q == std::string::npos ? "" : t.substr(q));
}

std::string redirectLocation(const Redirect& r, const HttpHead& head) {
  if (r.type == RedirectType::Location) return r.value;
  std::string pathq;
  std::size_t s = pathStart(head.target);
  if (s == std::string::npos) {
    pathq = "/";
  } else {
    pathq = head.target.substr(s);
    if (r.dropQuery) pathq = pathq.substr(0, pathq.find('?'));
  }
  std::string loc;
  if (r.type == RedirectType::Prefix) {
    // A prefix of "/" adds nothing, so that "prefix /" redirects to itself.
    if (r.value != "/") loc = r.value;
  } else {
    const std::string* host = head.get("host");
    loc = r.value + "://" + (host ? *host : std::string());
  }
  loc += pathq;
  if (r.appendSlash && !loc.empty() && loc.back() != '/') loc.push_back('/');
  return loc;
}

} // namespace

RuleResult applyRequestRules(const std::vector<HttpRequestRule>& rules, HttpHead& head,
                             const SampleContext& ctx) {
  using A = HttpRequestRule::Action;
  SampleContext c = ctx;
  RuleResult res;
  for (const HttpRequestRule& rule : rules) {
    if (rule.cond) {
      HeadView view(head, true);
      c.req = &view.message();
      if (!condHolds(rule.cond, c)) continue;
    }
    switch (rule.action) {
    case A::Allow:
      res.kind = RuleResult::Kind::Allow;
      res.rule = &rule;
      return res;
    case A::Deny:
    case A::Return:
      res.kind = rule.action == A::Deny ? RuleResult::Kind::Deny : RuleResult::Kind::Return;
      res.reply = rule.reply;
      res.rule = &rule;
      return res;
    case A::Redirect:
      res.kind = RuleResult::Kind::Redirect;
      res.code = rule.redirect.code;
      res.location = redirectLocation(rule.redirect, head);
      res.rule = &rule;
      return res;
    case A::SetHeader:
      head.set(rule.edit.name, rule.edit.value);
      break;
    case A::AddHeader:
      head.add(rule.edit.name, rule.edit.value);
      break;
    case A::DelHeader:
      head.del(rule.edit.name);
      break;
    case A::ReplaceHeader:
    case A::ReplaceValue:
      replaceHeader(head, rule.edit, rule.action == A::ReplaceValue);
      break;
    case A::SetPath:
      setPath(head, rule.edit.value);
      break;
    }
  }
  return res;
}

RuleResult applyResponseRules(const std::vector<HttpResponseRule>& rules, HttpHead& head,
                              const SampleContext& ctx) {
  using A = HttpResponseRule::Action;
  SampleContext c = ctx;
  RuleResult res;
  for (const HttpResponseRule& rule : rules) {
    if (rule.cond) {
      HeadView view(head, false);
      c.res = &view.message();
      if (!condHolds(rule.cond, c)) continue;
    }
    switch (rule.action) {
    case A::Allow:
      res.kind = RuleResult::Kind::Allow;
      res.rule = &rule;
      return res;
    case A::Deny:
      res.kind = RuleResult::Kind::Deny;
      res.reply = rule.reply;
      res.rule = &rule;
      return res;
    case A::SetHeader:
      head.set(rule.edit.name, rule.edit.value);
      break;
    case A::AddHeader:
      head.add(rule.edit.name, rule.edit.value);
      break;
    case A::DelHeader:
      head.del(rule.edit.name);
      break;
    case A::ReplaceHeader:
    case A::ReplaceValue:
      replaceHeader(head, rule.edit, rule.action == A::ReplaceValue);
      break;
    }
  }
  return res;
}

HttpConnMode effectiveConnMode(const ProxyConfig& fe, const ProxyConfig& be) {
  if (fe.httpConnMode == HttpConnMode::Close || be.httpConnMode == HttpConnMode::Close) {
    return HttpConnMode::Close;
  }
  if (fe.httpConnMode == HttpConnMode::ServerClose ||
      be.httpConnMode == HttpConnMode::ServerClose) {
    return HttpConnMode::ServerClose;
  }
  return HttpConnMode::KeepAlive;
}

} // namespace proxyd
