#pragma once
// The backend switching step (HAProxy 2.6's "backend switching rules"),
// one pure function for mode tcp and mode http alike: the first
// `use_backend` whose condition holds (or that has none) names the backend,
// else `default_backend`. In mode tcp the context carries no HTTP request,
// so layer-4 fetches (src, src_port, dst, dst_port, always_true/false) decide
// and HTTP fetches find nothing (their ACLs are false), as in HAProxy
// without an inspect-delay.
#include "proxyd/acl.h"

namespace proxyd {

struct ProxyConfig;

// Index into Config::proxies of the backend a stream of frontend `fe` goes
// to, given what the fetches can see; -1 when no rule matches and the
// frontend has no default backend.
int switchBackend(const ProxyConfig& fe, const SampleContext& ctx);

// True when the switching step reads the local address (a condition may
// use dst/dst_port), so a stream asks the kernel for it only then.
bool switchingNeedsDst(const ProxyConfig& fe);

} // namespace proxyd
