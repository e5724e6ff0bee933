#include "proxyd/runtime_control.h"

#include "proxyd/backend.h"
#include "proxyd/checker.h"
#include "proxyd/daemon.h"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

namespace proxyd {

namespace {

using SteadyClock = std::chrono::steady_clock;

long secondsSince(SteadyClock::time_point t) {
  return static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(SteadyClock::now() - t).count());
}

std::string algoName(const ProxyConfig& p) {
  switch (p.balance) {
  case BalanceAlgo::RoundRobin: return "roundrobin";
  case BalanceAlgo::StaticRr: return "static-rr";
  case BalanceAlgo::LeastConn: return "leastconn";
  case BalanceAlgo::First: return "first";
  case BalanceAlgo::Source: return "source";
  case BalanceAlgo::Random: return "random";
  case BalanceAlgo::Uri: return "uri";
  case BalanceAlgo::UrlParam: return "url_param";
  case BalanceAlgo::Hdr: return "hdr";
  }
  return "roundrobin";
}

bool dynamicWeights(const ProxyConfig& p) {
  if (p.balance == BalanceAlgo::StaticRr) return false;
  bool hashing = p.balance == BalanceAlgo::Source || p.balance == BalanceAlgo::Uri ||
                 p.balance == BalanceAlgo::UrlParam || p.balance == BalanceAlgo::Hdr;
  if (hashing && p.hashType == HashType::MapBased) return false;
  return true;
}

std::string ipText(const common::SockAddr& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET6) {
    const auto* s6 = reinterpret_cast<const sockaddr_in6*>(&a.ss);
    inet_ntop(AF_INET6, &s6->sin6_addr, buf, sizeof buf);
  } else {
    const auto* s4 = reinterpret_cast<const sockaddr_in*>(&a.ss);
    inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof buf);
  }
  return buf;
}

struct Found {
  BackendRt* be = nullptr;
  size_t server = 0;
  std::string error;
};

Found findServer(Daemon& d, const std::string& backend, const std::string& server) {
  Found f;
  const Config& cfg = d.config();
  int idx = cfg.find(backend, ProxyConfig::Backend);
  if (idx < 0 && backend.size() > 1 && backend[0] == '#') {
    int id = std::atoi(backend.c_str() + 1);
    int want = id - (d.adminSockets() ? 2 : 1);
    if (want >= 0 && static_cast<size_t>(want) < cfg.proxies.size() && cfg.proxies[want].isBackend())
      idx = want;
  }
  f.be = idx < 0 ? nullptr : d.backend(idx);
  if (!f.be) {
    f.error = "No such backend.\n";
    return f;
  }
  auto s = f.be->findServer(server);
  if (!s) {
    f.be = nullptr;
    f.error = "No such server.\n";
    return f;
  }
  f.server = *s;
  return f;
}

} // namespace

runtime::InfoView DaemonControl::info() const {
  auto g = d_.lock();
  runtime::InfoView v;
  v.name = "proxyd";
  v.version = "0.1";
  v.releaseDate = "2026/01/01";
  v.nbthread = d_.threads();
  v.pid = static_cast<long>(getpid());
  v.uptimeSec = secondsSince(d_.startMono());
  v.startTimeSec = static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(d_.startWall().time_since_epoch()).count());
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) v.ulimitN = static_cast<long>(rl.rlim_cur);
  v.maxsock = v.ulimitN;
  v.maxconn = d_.maxconn();
  v.hardMaxconn = d_.hardMaxconn();
  v.currConns = d_.actconn();
  v.cumConns = d_.cumConns();
  v.stopping = d_.stopping();
  v.jobs = d_.actconn();
  long listeners = 0;
  for (const auto& fe : d_.frontends()) listeners += static_cast<long>(fe->listeners.size());
  v.listeners = listeners + static_cast<long>(d_.adminSockets());
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0) v.node = host;
  v.vrrp = vrrp_;
  return v;
}

std::vector<runtime::ProxyView> DaemonControl::proxies() const {
  auto g = d_.lock();
  const Config& cfg = d_.config();
  std::vector<runtime::ProxyView> out;
  int idBase = d_.adminSockets() ? 2 : 1; // HAProxy's GLOBAL proxy takes id 1
  // Frontend runtime state by proxy index.
  std::vector<const FrontendRt*> fes(cfg.proxies.size(), nullptr);
  for (const auto& fe : d_.frontends()) fes[static_cast<size_t>(fe->index())] = fe.get();
  for (size_t i = 0; i < cfg.proxies.size(); ++i) {
    const ProxyConfig& p = cfg.proxies[i];
    runtime::ProxyView pv;
    pv.name = p.name;
    pv.id = static_cast<int>(i) + idBase;
    pv.frontend = p.isFrontend();
    pv.backend = p.isBackend();
    pv.http = p.mode == Mode::Http;
    if (pv.frontend) {
      const FrontendRt* fe = fes[i];
      int mc = fe && fe->maxconnOverride >= 0 ? fe->maxconnOverride.load() : p.maxconn;
      pv.maxconn = mc > 0 ? mc : d_.maxconn();
      pv.feStatus = d_.stopping() ? "STOP" : "OPEN";
      if (fe) {
        pv.fe.cur = static_cast<uint64_t>(fe->feconn);
        pv.fe.max = static_cast<uint64_t>(fe->maxFeconn);
        pv.fe.total = static_cast<uint64_t>(fe->cumConns);
        pv.fe.connTotal = static_cast<uint64_t>(fe->cumConns);
      }
    }
    if (pv.backend) {
      BackendRt* be = d_.backend(static_cast<int>(i));
      pv.algo = algoName(p);
      pv.cookie = p.cookie.name;
      pv.dynamicWeights = dynamicWeights(p);
      pv.allbackups = p.allbackups;
      // HAProxy's default fullconn: 10% of the maxconn of the frontends
      // that may use this backend, rounded up.
      long sum = 0;
      for (size_t j = 0; j < cfg.proxies.size(); ++j) {
        const ProxyConfig& f = cfg.proxies[j];
        if (!f.isFrontend()) continue;
        bool uses = f.defaultBackendIndex == static_cast<int>(i);
        for (const auto& u : f.useBackends) uses = uses || u.backendIndex == static_cast<int>(i);
        if (!uses) continue;
        const FrontendRt* fe = fes[j];
        int mc = fe && fe->maxconnOverride >= 0 ? fe->maxconnOverride.load() : f.maxconn;
        sum += mc > 0 ? mc : d_.maxconn();
      }
      pv.fullconn = static_cast<int>((sum + 9) / 10);
      if (be) {
        be->maxBeconn = std::max(be->maxBeconn, be->beconn);
        pv.be.cur = static_cast<uint64_t>(be->beconn);
        pv.be.max = static_cast<uint64_t>(be->maxBeconn);
        pv.be.total = static_cast<uint64_t>(be->cumConns);
        pv.be.queueCur = be->queued();
        uint64_t lb = 0, econ = 0;
        for (size_t k = 0; k < be->servers().size(); ++k) {
          const ServerRt& s = be->servers()[k];
          runtime::ServerView sv;
          sv.name = s.cfg->name;
          sv.id = s.cfg->id;
          sv.ip = ipText(s.cfg->addr);
          sv.port = s.cfg->addr.port();
          sv.backup = s.cfg->opt.backup;
          sv.running = s.health.up() && !s.maint; // HAProxy: maintenance stops it
          sv.admin = s.admin();
          sv.stopping = s.stopping;
          sv.configMaint = s.configMaint;
          sv.weight = s.weight;
          sv.initialWeight = s.cfg->opt.weight;
          sv.maxconn = s.maxconn;
          sv.cookie = s.cfg->opt.cookie;
          sv.maxqueue = s.cfg->opt.maxqueue;
          sv.check.enabled = s.cfg->opt.check;
          sv.check.rise = s.cfg->opt.rise;
          sv.check.fall = s.cfg->opt.fall;
          sv.check.health = s.health.health();
          sv.check.status = s.checkStatus;
          sv.check.desc = s.checkDesc;
          sv.check.info = s.checkInfo;
          sv.check.code = s.checkCode;
          sv.check.inProgress = s.checker && s.checker->running();
          sv.check.durationMs = s.checkDurationMs;
          sv.check.failed = s.checkFailed;
          sv.check.downs = s.checkDowns;
          sv.check.port = s.cfg->opt.checkPort;
          if (s.cfg->opt.checkAddr) {
            auto a = common::SockAddr::from(*s.cfg->opt.checkAddr, 0);
            sv.check.addr = ipText(a);
          }
          sv.lastChangeSec = secondsSince(s.lastChange);
          sv.c.cur = static_cast<uint64_t>(s.cur);
          sv.c.max = static_cast<uint64_t>(s.maxCur);
          sv.c.total = static_cast<uint64_t>(s.total);
          sv.c.lbTotal = static_cast<uint64_t>(s.total);
          sv.c.connectAttempts = static_cast<uint64_t>(s.total);
          sv.c.connErrors = static_cast<uint64_t>(s.failedConns);
          lb += sv.c.lbTotal;
          econ += sv.c.connErrors;
          pv.servers.push_back(std::move(sv));
        }
        pv.be.lbTotal = lb;
        pv.be.connErrors = econ;
        pv.be.connectAttempts = lb;
      }
    }
    out.push_back(std::move(pv));
  }
  return out;
}

std::string DaemonControl::setServerState(const std::string& backend, const std::string& server,
                                          runtime::AdminState st) {
  auto g = d_.lock();
  auto f = findServer(d_, backend, server);
  if (!f.be) return f.error;
  f.be->setAdminState(f.server, st);
  return "";
}

std::string DaemonControl::setServerWeight(const std::string& backend, const std::string& server,
                                           int weight) {
  auto g = d_.lock();
  auto f = findServer(d_, backend, server);
  if (!f.be) return f.error;
  f.be->setWeight(f.server, weight);
  return "";
}

std::string DaemonControl::setServerMaxconn(const std::string& backend, const std::string& server,
                                            int maxconn) {
  auto g = d_.lock();
  auto f = findServer(d_, backend, server);
  if (!f.be) return f.error;
  f.be->setMaxconn(f.server, std::max(maxconn, 0));
  return "";
}

std::string DaemonControl::setFrontendMaxconn(const std::string& frontend, int maxconn) {
  auto g = d_.lock();
  FrontendRt* fe = d_.frontend(frontend);
  if (!fe) return "No such frontend.\n";
  fe->maxconnOverride = std::max(maxconn, 0);
  d_.refreshListeners();
  return "";
}

std::string DaemonControl::setGlobalMaxconn(int maxconn) {
  auto g = d_.lock();
  if (maxconn <= 0 || maxconn > d_.hardMaxconn()) maxconn = d_.hardMaxconn();
  d_.setMaxconn(maxconn);
  return "";
}

std::string DaemonControl::shutdownServerSessions(const std::string& backend,
                                                  const std::string& server) {
  auto g = d_.lock();
  auto f = findServer(d_, backend, server);
  if (!f.be) return f.error;
  d_.killServerStreams(*f.be, f.server);
  return {};
}

void DaemonControl::clearCounters(bool all) {
  auto g = d_.lock();
  d_.clearMaxActconn();
  for (const auto& fe : d_.frontends()) {
    fe->maxFeconn = fe->feconn;
    if (all) fe->cumConns = 0;
  }
  for (size_t i = 0; i < d_.config().proxies.size(); ++i) {
    BackendRt* be = d_.backend(static_cast<int>(i));
    if (!be) continue;
    be->maxBeconn = be->beconn;
    if (all) be->cumConns = 0;
    for (auto& s : be->servers()) {
      s.maxCur = s.cur;
      if (all) {
        s.total = 0;
        s.failedConns = 0;
        s.checkFailed = 0;
        s.checkDowns = 0;
      }
    }
  }
}

std::string DaemonControl::setVrrp(const runtime::VrrpView& v) {
  return runtime::recordVrrp(vrrp_, v);
}

} // namespace proxyd
