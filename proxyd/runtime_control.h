#pragma once
// The daemon's side of the runtime API: runtime::RuntimeControl over the live
// state (frontends, backends, servers, global counters). The snapshot is
// built on each command; mutations act on BackendRt / FrontendRt / Daemon at
// once (the balancer sees them for the next pick).
#include "proxyd/runtime.h"

#include <string>
#include <vector>

namespace proxyd {

class Daemon;

class DaemonControl final : public runtime::RuntimeControl {
public:
  explicit DaemonControl(Daemon& d) : d_(d) {}

  runtime::InfoView info() const override;
  std::vector<runtime::ProxyView> proxies() const override;
  std::string setServerState(const std::string& backend, const std::string& server,
                             runtime::AdminState st) override;
  std::string setServerWeight(const std::string& backend, const std::string& server,
                              int weight) override;
  std::string setServerMaxconn(const std::string& backend, const std::string& server,
                               int maxconn) override;
  std::string setFrontendMaxconn(const std::string& frontend, int maxconn) override;
  std::string setGlobalMaxconn(int maxconn) override;
  std::string shutdownServerSessions(const std::string& backend,
                                     const std::string& server) override;
  void clearCounters(bool all) override;
  std::string setVrrp(const runtime::VrrpView& v) override;

private:
  Daemon& d_;
  std::vector<runtime::VrrpView> vrrp_;
};

} // namespace proxyd
