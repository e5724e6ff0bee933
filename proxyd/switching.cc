#include "proxyd/switching.h"

#include "proxyd/config.h"

namespace proxyd {

int switchBackend(const ProxyConfig& fe, const SampleContext& ctx) {
  for (const UseBackendRule& rule : fe.useBackends) {
    if (!rule.cond || rule.cond->eval(ctx)) return rule.backendIndex;
  }
  return fe.defaultBackendIndex;
}

bool switchingNeedsDst(const ProxyConfig& fe) {
  for (const UseBackendRule& rule : fe.useBackends)
    if (rule.cond) return true;
  return false;
}

} // namespace proxyd
