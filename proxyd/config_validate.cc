// Checks that need the whole configuration: references between proxies,
// duplicate server names, listeners, and HAProxy's post-parse warnings.
#include "proxyd/config_parse.h"

namespace proxyd::cfg {
namespace {

std::string who(const ProxyConfig& px) {
  return proxyWord(px) + " '" + px.name + "'";
}

// Resolves default_backend; a listen without one serves itself.
void resolveDefaultBackend(Config& cfg, size_t self, Diag& diag) {
  ProxyConfig& px = cfg.proxies[self];
  if (px.defaultBackend.empty()) {
    if (px.isBackend()) px.defaultBackendIndex = static_cast<int>(self);
    return;
  }
  px.defaultBackendIndex = cfg.find(px.defaultBackend, ProxyConfig::Backend);
  if (px.defaultBackendIndex < 0) {
    diag.error(px.defaultBackendLoc, "proxy '" + px.name +
                                         "': unable to find required default_backend: '" +
                                         px.defaultBackend + "'.");
  }
}

void resolveUseBackends(Config& cfg, ProxyConfig& px, Diag& diag) {
  for (UseBackendRule& r : px.useBackends) {
    r.backendIndex = cfg.find(r.backend, ProxyConfig::Backend);
    if (r.backendIndex < 0) {
      diag.error(r.loc, "proxy '" + px.name + "': unable to find required use_backend: '" +
                            r.backend + "'.");
    }
  }
}

// A frontend that listens nowhere is an error here (HAProxy only warns); a
// listen without bind is a backend in all but name, as HAProxy says.
void checkBinds(const ProxyConfig& px, Diag& diag) {
  if (!px.binds.empty()) return;
  std::string msg = sectionName(px) + " '" + px.name + "' has no 'bind' directive.";
  if (px.cap == ProxyConfig::Frontend) {
    diag.error(px.loc, msg + " A frontend needs at least one listening address.");
  } else {
    diag.warn(px.loc, msg + " Please declare it as a backend if this was intended.");
  }
}

void checkServers(const ProxyConfig& px, Diag& diag) {
  for (size_t i = 0; i < px.servers.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (px.servers[j].name != px.servers[i].name) continue;
      diag.error(px.servers[i].loc, "backend '" + px.name + "', another server named '" +
                                        px.servers[i].name + "' was already defined at line " +
                                        std::to_string(px.servers[j].loc.line) +
                                        ", please use distinct names.");
      break;
    }
  }
}

bool unset(const std::optional<Micros>& t) {
  return !t || t->count() == 0;
}

// HAProxy's warning, word for word (on one line): a frontend needs 'client';
// a backend with servers needs 'connect' and 'server' (or 'tunnel' in tcp).
void checkTimeouts(const ProxyConfig& px, Diag& diag) {
  const Timeouts& t = px.timeouts;
  bool fe = px.isFrontend() && unset(t.client);
  bool be = px.isBackend() && !px.servers.empty() &&
            (unset(t.connect) || (unset(t.server) && unset(t.tunnel)));
  if (!fe && !be) return;
  diag.warn(px.loc, "missing timeouts for " + who(px) +
                        ". While not properly invalid, you will certainly encounter various "
                        "problems with such a configuration. To fix this, please ensure that all "
                        "following timeouts are set to a non-zero value: 'client', 'connect', "
                        "'server'.");
}

// HAProxy's warnings for HTTP features in a tcp-mode proxy. They stay in
// the model (a stream in tcp mode never looks at them).
void checkHttpOnlyOptions(ProxyConfig& px, Diag& diag) {
  if (px.mode != Mode::Tcp) return;
  if (px.forwardFor) {
    diag.warn(px.loc, "'option forwardfor' ignored for " + who(px) + " as it requires HTTP mode.");
  }
  if (px.httplog && px.isFrontend()) {
    diag.warn(px.loc, "'option httplog' not usable with " + who(px) +
                          " (needs 'mode http'). Falling back to 'option tcplog'.");
    px.httplog = false;
    px.httplogClf = false;
    px.tcplog = true;
  }
  if (!px.httpRequest.empty()) {
    diag.warn(px.loc,
              "'http-request' rules ignored for " + who(px) + " as they require HTTP mode.");
  }
  if (!px.httpResponse.empty()) {
    diag.warn(px.loc,
              "'http-response' rules ignored for " + who(px) + " as they require HTTP mode.");
  }
}

// HAProxy 2.6's warnings for layer-7 persistence and hashing in a tcp-mode
// backend: the cookie is dropped and the algorithm falls back to roundrobin.
void checkLayer7Backend(ProxyConfig& px, Diag& diag) {
  if (px.mode != Mode::Tcp || !px.isBackend()) return;
  if (!px.cookie.name.empty()) {
    diag.warn(px.cookie.loc, "cookie will be ignored for " + who(px) + " (needs 'mode http').");
    px.cookie = {};
  }
  if (px.balance == BalanceAlgo::Uri || px.balance == BalanceAlgo::UrlParam ||
      px.balance == BalanceAlgo::Hdr) {
    diag.warn(px.balanceLoc, "Layer 7 hash not possible for " + who(px) +
                                 " (needs 'mode http'). Falling back to round robin.");
    px.balance = BalanceAlgo::RoundRobin;
    px.balanceArgs = {};
  }
  for (ServerConfig& s : px.servers) {
    if (s.opt.cookie.empty()) continue;
    diag.warn(s.loc,
              who(px) + " : ignoring cookie for server '" + s.name + "' as HTTP mode is disabled.");
    s.opt.cookie.clear();
  }
}

// An http frontend cannot hand its requests to a tcp backend (HAProxy 2.6
// refuses it; the other way round is allowed).
void checkModes(const Config& cfg, const ProxyConfig& px, Diag& diag) {
  if (px.mode != Mode::Http) return;
  auto check = [&](int idx, const common::SourceLoc& loc, const std::string& how) {
    if (idx < 0 || static_cast<size_t>(idx) >= cfg.proxies.size()) return;
    const ProxyConfig& be = cfg.proxies[static_cast<size_t>(idx)];
    if (be.mode != Mode::Tcp || &be == &px) return;
    diag.error(loc, "http " + who(px) + " (" + px.loc.str() + ") tries to use incompatible tcp " +
                        proxyWord(be) + " '" + be.name + "' (" + be.loc.str() + ") " + how +
                        " (see 'mode').");
  };
  if (!px.defaultBackend.empty()) {
    check(px.defaultBackendIndex, px.defaultBackendLoc, "as its default backend");
  }
  for (const UseBackendRule& r : px.useBackends)
    check(r.backendIndex, r.loc, "in a 'use_backend' rule");
}

} // namespace

void validate(Config& cfg, Diag& diag) {
  for (size_t i = 0; i < cfg.proxies.size(); ++i) {
    ProxyConfig& px = cfg.proxies[i];
    if (px.isFrontend()) {
      resolveDefaultBackend(cfg, i, diag);
      resolveUseBackends(cfg, px, diag);
      checkBinds(px, diag);
      checkModes(cfg, px, diag);
    }
    if (px.isBackend()) checkServers(px, diag);
    finalizeHttpChecks(px, diag);
    checkTimeouts(px, diag);
    checkHttpOnlyOptions(px, diag);
    checkLayer7Backend(px, diag);
    if (px.isFrontend()) {
      bool hasTargets = !px.logs.empty() || (px.logGlobal && !cfg.global.logs.empty());
      compileLogFormat(px, hasTargets, diag);
    }
  }
}

} // namespace proxyd::cfg
