// Cookie persistence, following HAProxy 2.6's http_ana.c (client side and
// server side cookie management) decision for decision; the header editing
// is ours (items are rebuilt instead of moved in place).
//
// Deliberate differences from HAProxy:
// - A Cookie header that loses a cookie is rebuilt from its remaining
//   items joined by their own delimiter and one space; HAProxy moves bytes
//   in place, which gives the same text for the usual "a=1; b=2" spelling.
// - Spaces around '=' are kept (HAProxy removes them from every cookie).
#include "proxyd/persist.h"

#include "proxyd/http1.h"

#include <array>

namespace proxyd::persist {
namespace {

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool spht(char c) {
  return c == ' ' || c == '\t';
}

// One cookie of a Cookie header: [begin, end) is its text without the
// delimiters around it; `delim` is the character before it (0 for the first).
struct Item {
  size_t begin = 0, end = 0;
  size_t attBeg = 0, attEnd = 0; // the name
  size_t valBeg = 0, valEnd = 0; // the value (valBeg == valEnd: empty)
  bool hasValue = false;         // an '=' was found
  char delim = 0;
};

// HAProxy's http_find_cookie_value_end: the next unquoted ',' or ';'.
size_t valueEnd(std::string_view s, size_t i) {
  bool quoted = false, pair = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (pair) {
      pair = false;
    } else if (quoted) {
      if (c == '\\')
        pair = true;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',' || c == ';') {
      return i;
    }
  }
  return i;
}

std::vector<Item> splitCookies(std::string_view s) {
  std::vector<Item> items;
  size_t prev = 0;
  bool first = true;
  while (prev < s.size() || first) {
    Item it;
    it.delim = first ? 0 : s[prev];
    size_t p = first ? prev : prev + 1;
    first = false;
    while (p < s.size() && spht(s[p]))
      ++p;
    it.begin = it.attBeg = it.attEnd = p;
    size_t eq = p;
    while (eq < s.size() && s[eq] != '=' && s[eq] != ',' && s[eq] != ';') {
      if (!spht(s[eq])) it.attEnd = eq + 1;
      ++eq;
    }
    size_t next;
    if (eq < s.size() && s[eq] == '=') {
      it.hasValue = true;
      it.valBeg = eq + 1;
      while (it.valBeg < s.size() && spht(s[it.valBeg]))
        ++it.valBeg;
      next = valueEnd(s, it.valBeg);
      it.valEnd = next;
      while (it.valEnd > it.valBeg && spht(s[it.valEnd - 1]))
        --it.valEnd;
      it.end = it.valEnd;
    } else {
      it.valBeg = it.valEnd = next = eq;
      it.end = it.attEnd;
    }
    items.push_back(it);
    if (next >= s.size()) break;
    prev = next;
  }
  return items;
}

// HAProxy removes the spaces around the '=' of each cookie it looks at:
// "a = 1" becomes "a=1". Edits `s` in place; `first` limits it to the first
// cookie (Set-Cookie, whose attributes follow it). True when changed.
bool tightenEquals(std::string& s, bool first) {
  std::vector<Item> items = splitCookies(s);
  if (first) items.resize(1);
  bool changed = false;
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    if (!it->hasValue) continue;
    size_t eq = s.find('=', it->attEnd);
    if (it->attEnd == eq && it->valBeg == eq + 1) continue;
    s.replace(it->attEnd, it->valBeg - it->attEnd, "=");
    changed = true;
  }
  return changed;
}

// The cookie's date field at `pos` (5 base64 characters), in seconds.
int64_t dateAt(std::string_view v, size_t pos) {
  auto d = decodeDate(v.substr(pos, 5));
  return d && *d > 0 ? static_cast<int64_t>(*d) << 2 : 0;
}

bool cacheableStatus(int st) {
  static constexpr std::array<int, 11> kStatuses = {200, 203, 204, 206, 300, 301,
                                                    404, 405, 410, 414, 501};
  for (int s : kStatuses)
    if (s == st) return true;
  return false;
}

bool startsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http1::iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && spht(v.front()))
    v.remove_prefix(1);
  while (!v.empty() && spht(v.back()))
    v.remove_suffix(1);
  return v;
}

// Whether a client cache could keep this response (HAProxy 2.6: a safe
// method, a cacheable status, no Pragma: no-cache, no Cache-Control
// private/no-cache/no-store/max-age=0/s-maxage=0 unless a later "public",
// and freshness information or a validator).
bool cacheable(const ResponseContext& ctx, const HttpHead& resp) {
  bool ok = ctx.safeMethod && cacheableStatus(resp.status);
  if (const std::string* pragma = resp.get("pragma"); pragma && http1::iequals(*pragma, "no-cache"))
    return false;
  bool fresh = false;
  for (const auto& [name, value] : resp.headers) {
    if (!http1::iequals(name, "cache-control")) continue;
    std::string_view rest = value;
    while (true) {
      size_t comma = rest.find(',');
      std::string_view v = trim(rest.substr(0, comma));
      if (http1::iequals(v, "public")) {
        ok = true;
      } else if (http1::iequals(v, "private") || http1::iequals(v, "no-cache") ||
                 http1::iequals(v, "no-store") || http1::iequals(v, "max-age=0") ||
                 http1::iequals(v, "s-maxage=0")) {
        ok = false;
      } else if (startsWithNoCase(v, "s-maxage") || startsWithNoCase(v, "max-age")) {
        fresh = true;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (!fresh) fresh = resp.get("expires") != nullptr;
  bool validator = resp.get("etag") || resp.get("last-modified");
  return ok && (fresh || validator);
}

std::string setCookieValue(const CookieConfig& ck, const ServerInfo& srv,
                           const ResponseContext& ctx) {
  std::string v = ck.name + "=";
  if (srv.cookie.empty()) {
    v += "; Expires=Thu, 01-Jan-1970 00:00:01 GMT; path=/";
  } else {
    v += srv.cookie;
    if (ck.maxidle.count() > 0 || ck.maxlife.count() > 0) {
      uint32_t nowUnits = static_cast<uint32_t>((ctx.now + 3) >> 2);
      v += '|';
      v += encodeDate(nowUnits);
      if (ck.maxlife.count() > 0) {
        v += '|';
        v += encodeDate(ctx.firstDate ? static_cast<uint32_t>(ctx.firstDate >> 2) : nowUnits);
      }
    }
    v += "; path=/";
  }
  for (const std::string& d : ck.domains)
    v += "; domain=" + d;
  if (ck.httponly) v += "; HttpOnly";
  if (ck.secure) v += "; Secure";
  for (const std::string& a : ck.attrs)
    v += "; " + a;
  return v;
}

int64_t seconds(Micros d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

} // namespace

std::string encodeDate(uint32_t units) {
  std::string out(5, 'A');
  for (int i = 0; i < 5; ++i) {
    out[static_cast<size_t>(i)] = kBase64[(units >> 24) & 0x3f];
    units <<= 6;
  }
  return out;
}

std::optional<uint32_t> decodeDate(std::string_view five) {
  if (five.size() < 5) return std::nullopt;
  uint32_t out = 0;
  for (size_t i = 0; i < 5; ++i) {
    const char* p = std::char_traits<char>::find(kBase64, 64, five[i]);
    if (!p) return std::nullopt;
    out = (out << 6) + static_cast<uint32_t>(p - kBase64);
  }
  return out;
}

RequestResult processRequest(const CookieConfig& ck, bool optionPersist,
                             const std::vector<ServerInfo>& servers, HttpHead& req, int64_t now) {
  RequestResult r;
  if (ck.name.empty()) return r;
  bool prefixMode = ck.mode == CookieConfig::Mode::Prefix;
  bool removeOurs = ck.mode == CookieConfig::Mode::Insert && ck.indirect;
  for (size_t h = 0; h < req.headers.size();) {
    if (!http1::iequals(req.headers[h].first, "cookie")) {
      ++h;
      continue;
    }
    std::string value = req.headers[h].second;
    bool tightened = tightenEquals(value, false);
    std::vector<Item> items = splitCookies(value);
    std::vector<std::string> texts; // kept items, rewritten where needed
    std::vector<char> delims;
    bool changed = false;
    bool deleting = false; // '$' attributes after a removed cookie go with it
    for (const Item& it : items) {
      std::string_view whole(value);
      std::string_view att = whole.substr(it.attBeg, it.attEnd - it.attBeg);
      std::string text(whole.substr(it.begin, it.end - it.begin));
      if (!att.empty() && att[0] == '$') {
        if (deleting) {
          changed = true;
        } else {
          texts.push_back(text);
          delims.push_back(it.delim);
        }
        continue;
      }
      deleting = false;
      if (!it.hasValue || att != ck.name) {
        texts.push_back(text);
        delims.push_back(it.delim);
        continue;
      }
      std::string_view val = whole.substr(it.valBeg, it.valEnd - it.valBeg);
      size_t delim = val.size();
      if (prefixMode) {
        size_t tilde = val.find('~');
        if (tilde != std::string_view::npos) delim = tilde;
      } else if (size_t bar = val.find('|'); bar != std::string_view::npos) {
        delim = bar;
        if (val.size() - (bar + 1) >= 5) {
          if (int64_t d = dateAt(val, bar + 1)) r.lastDate = d;
        }
        size_t bar2 = val.find('|', bar + 1);
        if (bar2 != std::string_view::npos && val.size() - bar2 > 5) {
          if (int64_t d = dateAt(val, bar2 + 1)) r.firstDate = d;
        }
      }
      int64_t maxlife = seconds(ck.maxlife), maxidle = seconds(ck.maxidle);
      if (r.firstDate && maxlife && (now - r.firstDate > maxlife || r.firstDate - now > 86400)) {
        r.status = ClientCookie::Old;
        delim = 0; // as if there were no cookie
        r.firstDate = r.lastDate = 0;
      } else if (r.lastDate && maxidle &&
                 (now - r.lastDate > maxidle || r.lastDate - now > 86400)) {
        r.status = ClientCookie::Expired;
        delim = 0;
        r.firstDate = r.lastDate = 0;
      }
      std::string_view id = val.substr(0, delim);
      bool found = false;
      if (!id.empty() && !r.server) {
        for (size_t s = 0; s < servers.size(); ++s) {
          if (servers[s].cookie.empty() || servers[s].cookie != id) continue;
          if (servers[s].running || optionPersist) {
            r.status = servers[s].running ? ClientCookie::Valid : ClientCookie::Down;
            r.server = s;
            found = true;
            break;
          }
          r.status = ClientCookie::Down; // look on: another server may share it
        }
      }
      // HAProxy tests the DOWN/EXPIRED/OLD bits, which cover every status
      // but None: only a first verdict is set here.
      if (!found && r.status == ClientCookie::None)
        r.status = r.server ? ClientCookie::Unused : ClientCookie::Invalid;
      if (prefixMode && delim != val.size()) {
        // "NAME=SRV~APP" goes to the server as "NAME=APP".
        size_t cut = it.valBeg - it.begin;
        text.erase(cut, delim + 1);
        texts.push_back(text);
        delims.push_back(it.delim);
        changed = true;
      } else if (removeOurs) {
        deleting = true;
        changed = true;
      } else {
        texts.push_back(text);
        delims.push_back(it.delim);
      }
    }
    if (!changed) {
      if (tightened) req.headers[h].second = value;
      ++h;
      continue;
    }
    if (texts.empty()) {
      req.headers.erase(req.headers.begin() + static_cast<std::ptrdiff_t>(h));
      continue;
    }
    std::string out;
    for (size_t i = 0; i < texts.size(); ++i) {
      if (i > 0) {
        out += delims[i] ? delims[i] : ';';
        out += ' ';
      }
      out += texts[i];
    }
    req.headers[h].second = std::move(out);
    ++h;
  }
  return r;
}

ServerCookie processResponse(const CookieConfig& ck, const std::vector<ServerInfo>& servers,
                             const ResponseContext& ctx, HttpHead& resp) {
  ServerCookie flag = ServerCookie::None;
  if (ck.name.empty()) return flag;
  if (resp.status < 200 && resp.status != 101) return flag;
  const ServerInfo* srv =
      ctx.server && *ctx.server < servers.size() ? &servers[*ctx.server] : nullptr;
  bool insertMode = ck.mode == CookieConfig::Mode::Insert;
  bool serverSentIt = false;
  for (size_t h = 0; h < resp.headers.size();) {
    auto& [name, value] = resp.headers[h];
    if (!http1::iequals(name, "set-cookie")) {
      ++h;
      continue;
    }
    // One cookie per Set-Cookie header; attributes follow its ';'.
    tightenEquals(value, true);
    std::vector<Item> items = splitCookies(value);
    const Item& it = items.front();
    std::string_view att = std::string_view(value).substr(it.attBeg, it.attEnd - it.attBeg);
    if (!it.hasValue || att != ck.name) {
      ++h;
      continue;
    }
    serverSentIt = true;
    flag = ServerCookie::Passive;
    if (ck.preserve) {
      ++h;
      continue;
    }
    if ((srv && insertMode) || (ctx.direct && ck.indirect)) {
      resp.headers.erase(resp.headers.begin() + static_cast<std::ptrdiff_t>(h));
      flag = ServerCookie::Deleted;
      continue;
    }
    if (srv && !srv->cookie.empty() && ck.mode == CookieConfig::Mode::Rewrite) {
      value.replace(it.valBeg, it.valEnd - it.valBeg, srv->cookie);
      flag = ServerCookie::Replaced;
    } else if (srv && !srv->cookie.empty() && ck.mode == CookieConfig::Mode::Prefix) {
      value.insert(it.valBeg, std::string(srv->cookie) + "~");
      flag = ServerCookie::Replaced;
    }
    ++h;
  }

  bool refresh =
      !ctx.direct ||
      ((ck.maxidle.count() > 0 || ctx.lastDate) && (!ctx.lastDate || ctx.lastDate - ctx.now < 0)) ||
      (ck.maxlife.count() > 0 && !ctx.firstDate) || (ck.maxlife.count() == 0 && ctx.firstDate);
  if (srv && insertMode && !(serverSentIt && ck.preserve) && refresh &&
      (!ck.postonly || ctx.post)) {
    bool mayCache = ck.nocache && cacheable(ctx, resp);
    resp.add("Set-Cookie", setCookieValue(ck, *srv, ctx));
    flag = !srv->cookie.empty() && ctx.direct ? ServerCookie::Updated : ServerCookie::Inserted;
    if (mayCache) resp.add("Cache-control", "private");
  }
  return flag;
}

} // namespace proxyd::persist
