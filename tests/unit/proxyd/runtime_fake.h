#pragma once
// A RuntimeControl over an in-memory snapshot, for the runtime API's tests
// (unit and I/O). Mutations change the snapshot and are logged.
#include "proxyd/runtime.h"

#include <stdexcept>
#include <string>
#include <vector>

namespace proxyd::runtime::testing {

// The snapshot of tests/integration's reference haproxy.cfg seven seconds
// after start: fe (frontend) -> app (web1 checked and DOWN, web2 weight 3
// maxconn 10, web3 backup disabled), lst (listen, s1).
inline std::vector<ProxyView> referenceProxies() {
  std::vector<ProxyView> px(3);
  ProxyView& fe = px[0];
  fe.name = "fe";
  fe.id = 2;
  fe.frontend = true;
  fe.maxconn = 1000;

  ProxyView& app = px[1];
  app.name = "app";
  app.id = 3;
  app.backend = true;
  app.fullconn = 100;
  app.lastChangeSec = 7;
  ServerView web1;
  web1.name = "web1";
  web1.id = 1;
  web1.ip = "127.0.0.1";
  web1.port = 19101;
  web1.running = false;
  web1.lastChangeSec = 7;
  web1.downtimeSec = 7;
  web1.needConnEst = 1;
  web1.check.enabled = true;
  web1.check.health = 0;
  web1.check.status = "L4CON";
  web1.check.desc = "Layer4 connection problem";
  web1.check.info = "Connection refused";
  web1.check.durationMs = 0;
  web1.check.failed = 1;
  web1.check.downs = 1;
  ServerView web2;
  web2.name = "web2";
  web2.id = 2;
  web2.ip = "127.0.0.1";
  web2.port = 19102;
  web2.weight = web2.initialWeight = 3;
  web2.maxconn = 10;
  web2.lastChangeSec = 7;
  ServerView web3;
  web3.name = "web3";
  web3.id = 3;
  web3.ip = "127.0.0.1";
  web3.port = 19103;
  web3.backup = true;
  web3.running = false;
  web3.admin = AdminState::Maint;
  web3.configMaint = true;
  web3.lastChangeSec = 7;
  app.servers = {web1, web2, web3};

  ProxyView& lst = px[2];
  lst.name = "lst";
  lst.id = 4;
  lst.frontend = lst.backend = true;
  lst.maxconn = 1000;
  lst.fullconn = 100;
  lst.lastChangeSec = 7;
  ServerView s1;
  s1.name = "s1";
  s1.id = 1;
  s1.ip = "127.0.0.1";
  s1.port = 19201;
  s1.lastChangeSec = 7;
  lst.servers = {s1};
  for (auto& p : px)
    for (auto& c : {&p.fe, &p.be}) c->lastSessSec = -1;
  for (auto& s : app.servers) s.c.lastSessSec = -1;
  lst.servers[0].c.lastSessSec = -1;
  return px;
}

class FakeControl : public RuntimeControl {
public:
  InfoView infoView;
  std::vector<ProxyView> px = referenceProxies();
  std::vector<std::string> log; // one entry per mutation
  std::string nextError;        // returned (once) by the next mutation

  FakeControl() {
    infoView.version = "0.1";
    infoView.releaseDate = "2025/01/01";
    infoView.pid = 4242;
    infoView.maxconn = infoView.hardMaxconn = 1000;
  }
  InfoView info() const override { return infoView; }
  std::vector<ProxyView> proxies() const override { return px; }

  ServerView& server(const std::string& b, const std::string& s) {
    for (auto& p : px)
      if (p.name == b)
        for (auto& sv : p.servers)
          if (sv.name == s) return sv;
    throw std::runtime_error("no server " + b + "/" + s);
  }
  std::string result() {
    std::string e = nextError;
    nextError.clear();
    return e;
  }

  std::string setServerState(const std::string& b, const std::string& s, AdminState st) override {
    static const char* const names[] = {"ready", "drain", "maint"};
    log.push_back("state " + b + "/" + s + " " + names[static_cast<int>(st)]);
    server(b, s).admin = st;
    return result();
  }
  std::string setServerWeight(const std::string& b, const std::string& s, int w) override {
    log.push_back("weight " + b + "/" + s + " " + std::to_string(w));
    server(b, s).weight = w;
    return result();
  }
  std::string setServerMaxconn(const std::string& b, const std::string& s, int v) override {
    log.push_back("maxconn " + b + "/" + s + " " + std::to_string(v));
    server(b, s).maxconn = v;
    return result();
  }
  std::string setFrontendMaxconn(const std::string& f, int v) override {
    log.push_back("fe-maxconn " + f + " " + std::to_string(v));
    return result();
  }
  std::string setGlobalMaxconn(int v) override {
    log.push_back("global-maxconn " + std::to_string(v));
    infoView.maxconn = v;
    return result();
  }
  std::string shutdownServerSessions(const std::string& b, const std::string& s) override {
    log.push_back("shutdown " + b + "/" + s);
    return result();
  }
  void clearCounters(bool all) override { log.push_back(all ? "clear all" : "clear"); }
  std::string setVrrp(const VrrpView& v) override {
    log.push_back("vrrp " + v.instance + " " + v.state + " " + std::to_string(v.priority));
    infoView.vrrp.push_back(v);
    return result();
  }
};

} // namespace proxyd::runtime::testing
