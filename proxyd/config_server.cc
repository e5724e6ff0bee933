// `server NAME ADDR:PORT [options]` and `default-server [options]`.
// A server starts from its backend's default-server options (themselves
// inherited from defaults), then its own line overrides them.
#include "proxyd/config_parse.h"

#include <array>
#include <string_view>

namespace proxyd::cfg {
namespace {

// Applies one option; `v` is the index of its value (unused by flags).
using OptFn = bool (*)(const LineRef& l, size_t v, const std::string& who, ServerOptions& o);

struct ServerKw {
  std::string_view name;
  bool takesValue;
  OptFn apply;
};

std::string prefix(const std::string& who) {
  return who + ": ";
}

// inter / fastinter / downinter: a strictly positive time.
template <auto field>
bool setTime(const LineRef& l, size_t v, const std::string& who, ServerOptions& o) {
  auto d = common::parseDuration(l.word(v));
  if (!d) {
    l.error(v, prefix(who) + "'" + l.word(v - 1) + "': " + d.error());
    return false;
  }
  if (d->count() <= 0) {
    l.error(v,
            prefix(who) + "invalid value " + l.word(v) + " for argument '" + l.word(v - 1) + "'.");
    return false;
  }
  o.*field = *d;
  return true;
}

// An integer within [lo, hi], with HAProxy's wording for the failures.
bool intIn(const LineRef& l, size_t v, const std::string& who, int64_t lo, int64_t hi, int* out) {
  auto n = common::parseInt(l.word(v), INT32_MIN, INT32_MAX);
  if (!n) {
    l.error(v, prefix(who) + "'" + l.word(v - 1) + "': " + n.error());
    return false;
  }
  if (*n < lo || *n > hi) {
    const std::string& kw = l.word(v - 1);
    if (kw == "weight") {
      l.error(v, prefix(who) + "weight is not within 0 and 256 (" + l.word(v) + ").");
    } else if (lo == 1 && *n < 1) {
      l.error(v, prefix(who) + "'" + kw + "' has to be > 0.");
    } else {
      l.error(v, prefix(who) + "'" + kw + "' must be between " + std::to_string(lo) + " and " +
                     std::to_string(hi) + " (was " + l.word(v) + ").");
    }
    return false;
  }
  *out = static_cast<int>(*n);
  return true;
}

template <int ServerOptions::*field, int lo, int hi>
bool setInt(const LineRef& l, size_t v, const std::string& who, ServerOptions& o) {
  return intIn(l, v, who, lo, hi, &(o.*field));
}

template <bool ServerOptions::*field, bool value>
bool setFlag(const LineRef&, size_t, const std::string&, ServerOptions& o) {
  o.*field = value;
  return true;
}

bool setPort(const LineRef& l, size_t v, const std::string& who, ServerOptions& o) {
  int p = 0;
  if (!intIn(l, v, who, 1, 65535, &p)) return false;
  o.checkPort = static_cast<uint16_t>(p);
  return true;
}

bool setAddr(const LineRef& l, size_t v, const std::string& who, ServerOptions& o) {
  auto ip = common::parseIp(l.word(v));
  if (!ip) {
    l.error(v, prefix(who) + "'addr': " + ip.error());
    return false;
  }
  o.checkAddr = *ip;
  return true;
}

// cookie VALUE: the value of the backend's persistence cookie that selects
// this server (also in default-server, as HAProxy 2.6 allows).
bool setCookie(const LineRef& l, size_t v, const std::string&, ServerOptions& o) {
  o.cookie = l.word(v);
  return true;
}

constexpr int kMax = 10'000'000;

constexpr std::array<ServerKw, 17> kServerKeywords = {{
    {"check", false, setFlag<&ServerOptions::check, true>},
    {"no-check", false, setFlag<&ServerOptions::check, false>},
    {"backup", false, setFlag<&ServerOptions::backup, true>},
    {"no-backup", false, setFlag<&ServerOptions::backup, false>},
    {"disabled", false, setFlag<&ServerOptions::disabled, true>},
    {"enabled", false, setFlag<&ServerOptions::disabled, false>},
    {"inter", true, setTime<&ServerOptions::inter>},
    {"fastinter", true, setTime<&ServerOptions::fastinter>},
    {"downinter", true, setTime<&ServerOptions::downinter>},
    {"rise", true, setInt<&ServerOptions::rise, 1, kMax>},
    {"fall", true, setInt<&ServerOptions::fall, 1, kMax>},
    {"weight", true, setInt<&ServerOptions::weight, 0, 256>},
    {"maxconn", true, setInt<&ServerOptions::maxconn, 0, kMax>},
    {"maxqueue", true, setInt<&ServerOptions::maxqueue, 0, kMax>},
    {"port", true, setPort},
    {"addr", true, setAddr},
    {"cookie", true, setCookie},
}};

} // namespace

void parseServerOptions(const LineRef& l, size_t first, const std::string& who,
                        ServerOptions& opt) {
  size_t i = first;
  while (i < l.size()) {
    const std::string& name = l.word(i);
    const ServerKw* kw = nullptr;
    for (const ServerKw& k : kServerKeywords) {
      if (k.name == name) kw = &k;
    }
    if (!kw) {
      // Its arity is unknown, so the rest of the line cannot be read.
      l.unsupported(name, " on " + l.word(0) + " line"); // server / default-server
      return;
    }
    if (kw->takesValue && i + 1 >= l.size()) {
      l.error(i, prefix(who) + "'" + name + "' expects an argument.");
      return;
    }
    kw->apply(l, i + 1, who, opt);
    i += kw->takesValue ? 2 : 1;
  }
}

void parseServerLine(const ProxyLineCtx& c) {
  const LineRef& l = c.l;
  if (l.size() < 3) {
    l.error(0, "'server' expects <name> and <addr>[:<port>] as arguments.");
    return;
  }
  ServerConfig s;
  s.name = l.word(1);
  s.loc = l.line.loc;
  s.opt = c.px.defaultServer;
  s.id = static_cast<int>(c.px.servers.size()) + 1;
  std::string who = "'server " + c.px.name + "/" + s.name + "'";
  auto addr = common::parseHostPort(l.word(2));
  if (!addr) {
    l.error(2, prefix(who) + addr.error());
  } else {
    s.addr = *addr;
  }
  parseServerOptions(l, 3, who, s.opt);
  c.px.servers.push_back(std::move(s));
}

void parseDefaultServerLine(const ProxyLineCtx& c) {
  parseServerOptions(c.l, 1, "'default-server'", c.px.defaultServer);
}

} // namespace proxyd::cfg
