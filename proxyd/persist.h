#pragma once
// Cookie-based persistence (`cookie NAME ...` in a backend, `server ...
// cookie VALUE`), as HAProxy 2.6's http_manage_client_side_cookies and
// http_manage_server_side_cookies plus the Set-Cookie insertion of
// http_process_res_common. Pure: it reads and edits an HttpHead; the stream
// only calls it.
//
// A request: processRequest() looks for cookie NAME in every Cookie header
// (';' or ',' separate cookies, '$' attributes are skipped). Its value
// names a server ("VALUE", "VALUE|lastseen|firstseen" with maxidle/maxlife,
// "VALUE~app" in prefix mode). The first server with that cookie value is
// used directly (no balancing) when it runs, or with `option persist` even
// when DOWN. In insert+indirect mode the cookie is removed from the request
// (the whole Cookie header when nothing else is left); in prefix mode its
// "VALUE~" part is removed.
//
// A response: processResponse() handles the server's own Set-Cookie NAME
// (kept with `preserve`; removed in insert mode, or in indirect mode when
// the client came with a valid cookie; value replaced in rewrite mode;
// prefixed "VALUE~" in prefix mode), then, in insert mode, adds
// "Set-Cookie: NAME=VALUE; path=/" (+ domain, HttpOnly, Secure, attrs) when
// the client did not come directly to this server, or to refresh the dates
// of maxidle/maxlife cookies; `postonly` only on POST; `nocache` adds
// "Cache-control: private" when the response would otherwise be cacheable.
#include "proxyd/config.h"
#include "proxyd/http_rules.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace proxyd::persist {

// The cookie pair of the httplog termination state (%tsc's last two
// characters, HAProxy's sess_cookie and sess_set_cookie).
enum class ClientCookie : char {
  None = 'N',    // the client sent no persistence cookie
  Invalid = 'I', // it names no server (or is empty)
  Down = 'D',    // it names a server that is down (used with option persist)
  Valid = 'V',   // it names a running server, which got the request
  Expired = 'E', // last-seen date older than maxidle (or a day in the future)
  Old = 'O',     // first-seen date older than maxlife (or a day in the future)
  Unused = 'U',  // a second cookie after the server was already chosen
};
enum class ServerCookie : char {
  None = 'N',     // no persistence cookie in the response
  Passive = 'P',  // the server's cookie went through untouched
  Deleted = 'D',  // the server's cookie was removed
  Inserted = 'I', // proxyd added its cookie
  Replaced = 'R', // the server's cookie was rewritten or prefixed
  Updated = 'U',  // proxyd re-sent the client's cookie with fresh dates
};

struct ServerInfo {
  std::string_view cookie; // the server's `cookie` value; empty: none
  bool running = true;     // neither DOWN nor in maintenance (drain runs)
};

struct RequestResult {
  ClientCookie status = ClientCookie::None;
  std::optional<size_t> server; // use it without balancing (HAProxy's SF_DIRECT)
  int64_t lastDate = 0;         // unix seconds from the cookie's dates; 0: none
  int64_t firstDate = 0;
};

// Whether %tsc shows the cookie characters: HAProxy shows them for a mode
// (insert, rewrite, prefix) or indirect, not for a plain passive cookie.
inline bool showsInLog(const CookieConfig& ck) {
  return !ck.name.empty() && (ck.mode != CookieConfig::Mode::Passive || ck.indirect);
}

// `now`: unix seconds (maxidle/maxlife).
RequestResult processRequest(const CookieConfig& ck, bool optionPersist,
                             const std::vector<ServerInfo>& servers, HttpHead& req, int64_t now);

struct ResponseContext {
  std::optional<size_t> server; // the server that answered
  bool direct = false;          // reached through the client's cookie, not redispatched
  bool post = false;            // the request method is POST
  bool safeMethod = false;      // GET, HEAD, OPTIONS or TRACE (may be cached)
  int64_t lastDate = 0;         // from RequestResult
  int64_t firstDate = 0;
  int64_t now = 0; // unix seconds
};

// Edits the response head (status in resp.status). Interim responses
// (1xx but 101) are left alone and reported None.
ServerCookie processResponse(const CookieConfig& ck, const std::vector<ServerInfo>& servers,
                             const ResponseContext& ctx, HttpHead& resp);

// HAProxy's cookie dates: a 30-bit count of 4-second units since the
// epoch, as 5 base64 characters (s30tob64 / b64tos30).
std::string encodeDate(uint32_t units);
std::optional<uint32_t> decodeDate(std::string_view five);

} // namespace proxyd::persist
