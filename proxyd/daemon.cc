#include "proxyd/daemon.h"

#include "proxyd/admin_server.h"
#include "proxyd/checker.h"
#include "proxyd/http_stream.h"
#include "proxyd/runtime_control.h"
#include "proxyd/stream.h"
#include "proxyd/worker.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

namespace proxyd {

// ---- Listener -------------------------------------------------------------

Listener::Listener(Daemon& d, Worker& w, FrontendRt& fe, int fd, const common::SockAddr& addr)
    : d_(d), w_(w), fe_(fe), fd_(fd), addr_(addr) {
  watch_ = std::make_unique<common::FdWatcher>(w.loop(), fd, [this](unsigned) { onReadable(); });
}

Listener::~Listener() {
  watch_.reset();
  ::close(fd_);
}

void Listener::pause() {
  if (paused_) return;
  paused_ = true;
  watch_->want(0);
}

void Listener::resume() {
  if (!paused_) return;
  paused_ = false;
  watch_->want(common::FdWatcher::Read);
}

void Listener::onReadable() {
  // Accept a bounded batch per wake-up, stopping at the connection limits:
  // beyond them connections wait in the kernel's backlog instead of using
  // file descriptors here.
  // Every worker watches its own dup of the socket: the one that wakes
  // first takes the connection, the others find nothing (EAGAIN).
  for (int i = 0; i < 64 && !paused_; ++i) {
    if (!d_.reserve(fe_)) return;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int e = errno;
      d_.release(fe_);
      if (e == EINTR || e == ECONNABORTED) continue;
      return; // EAGAIN, or EMFILE/ENFILE: try again on the next wake-up
    }
    auto peer = common::SockAddr::fromRaw(reinterpret_cast<sockaddr*>(&ss), len);
    // Whichever thread woke first accepted: the connection goes to the
    // least loaded worker (HAProxy also spreads accepted connections over
    // its threads), so keep-alive clients do not pile up on one thread.
    Worker& to = d_.leastLoaded(w_);
    if (&to == &w_) {
      d_.onAccept(w_, fe_, fd, peer);
    } else {
      Daemon& d = d_;
      FrontendRt& fe = fe_;
      to.post([&d, &to, &fe, fd, peer] { d.onAccept(to, fe, fd, peer); });
    }
  }
}

// ---- FrontendRt -----------------------------------------------------------

FrontendRt::FrontendRt(const ProxyConfig& cfg, int index) : cfg_(cfg), index_(index) {}

int FrontendRt::maxconn() const {
  // A frontend without its own maxconn is bounded by the global one only.
  if (int o = maxconnOverride; o >= 0) return o > 0 ? o : 1 << 30;
  return cfg_.maxconn > 0 ? cfg_.maxconn : 1 << 30;
}

// ---- Daemon ---------------------------------------------------------------

namespace {

// HAProxy's default when global maxconn is unset: derived from the fd limit
// (each proxied connection needs two descriptors, plus some for listeners,
// checks and logs).
int defaultMaxconn() {
  rlimit rl{};
  getrlimit(RLIMIT_NOFILE, &rl);
  long n = static_cast<long>(rl.rlim_cur);
  long m = (n - 100) / 2;
  if (m < 100) m = 100;
  if (m > 100000) m = 100000;
  return static_cast<int>(m);
}

common::LogSinkSpec sinkSpec(const LogTarget& t) {
  common::LogSinkSpec s;
  switch (t.kind) {
  case LogTarget::Kind::Udp: s.kind = common::LogSinkSpec::Kind::Udp; break;
  case LogTarget::Kind::Unix: s.kind = common::LogSinkSpec::Kind::Unix; break;
  case LogTarget::Kind::Stdout: s.kind = common::LogSinkSpec::Kind::Stdout; break;
  case LogTarget::Kind::Stderr: s.kind = common::LogSinkSpec::Kind::Stderr; break;
  }
  s.addr = t.addr;
  s.path = t.path;
  s.facility = t.facility;
  s.maxLevel = t.maxLevel;
  s.raw = t.raw;
  return s;
}

} // namespace

Daemon::Daemon(common::Loop& loop, Config cfg, RunOptions opts)
    : loop_(loop), cfg_(std::move(cfg)), opts_(opts) {
  int n = std::clamp(cfg_.global.nbthread, 1, 64);
  for (int i = 0; i < n; ++i) workers_.push_back(std::make_unique<Worker>(*this, i, &loop_));
  maxconn_ = cfg_.global.maxconn > 0 ? cfg_.global.maxconn : defaultMaxconn();
  hardMaxconn_ = maxconn_;
  const common::Logger* global = cfg_.global.logs.empty() ? nullptr : makeLogger(cfg_.global.logs);
  if (opts_.foreground && !opts_.quiet) {
    stderrLog_ = std::make_unique<common::Logger>("proxyd", loop_.clock());
    common::LogSinkSpec s;
    s.kind = common::LogSinkSpec::Kind::Stderr;
    s.maxLevel = common::kNotice;
    stderrLog_->addSink(s);
  }
  backends_.resize(cfg_.proxies.size());
  proxyLoggers_.resize(cfg_.proxies.size(), nullptr);
  for (size_t i = 0; i < cfg_.proxies.size(); ++i) {
    const auto& p = cfg_.proxies[i];
    if (!p.logs.empty()) proxyLoggers_[i] = makeLogger(p.logs);
    else if (p.logGlobal) proxyLoggers_[i] = global;
    if (p.isBackend()) backends_[i] = std::make_unique<BackendRt>(*this, p, static_cast<int>(i));
  }
}

// The RuntimeControl the admin sockets talk to: forwards to the current
// daemon's DaemonControl, so a reload re-points it without closing the
// sessions that hold it.
class ControlSwitch final : public runtime::RuntimeControl {
public:
  explicit ControlSwitch(runtime::RuntimeControl* t) : t_(t) {}
  void retarget(runtime::RuntimeControl* t) { t_ = t; }
  runtime::InfoView info() const override { return t_->info(); }
  std::vector<runtime::ProxyView> proxies() const override { return t_->proxies(); }
  std::string setServerState(const std::string& b, const std::string& s,
                             runtime::AdminState st) override {
    return t_->setServerState(b, s, st);
  }
  std::string setServerWeight(const std::string& b, const std::string& s, int w) override {
    return t_->setServerWeight(b, s, w);
  }
  std::string setServerMaxconn(const std::string& b, const std::string& s, int m) override {
    return t_->setServerMaxconn(b, s, m);
  }
  std::string setFrontendMaxconn(const std::string& f, int m) override {
    return t_->setFrontendMaxconn(f, m);
  }
  std::string setGlobalMaxconn(int m) override { return t_->setGlobalMaxconn(m); }
  std::string shutdownServerSessions(const std::string& b, const std::string& s) override {
    return t_->shutdownServerSessions(b, s);
  }
  void clearCounters(bool all) override { t_->clearCounters(all); }
  std::string setVrrp(const runtime::VrrpView& v) override { return t_->setVrrp(v); }

private:
  runtime::RuntimeControl* t_;
};

Daemon::~Daemon() {
  adminServers_.clear();
  switch_.reset();
  softStopping_ = true;
  drainedDone_ = true; // being destroyed: no drained callback any more
  // Threads first: from here on everything runs on this thread. Streams end
  // while backends and frontends exist; listeners go before their loops.
  for (auto& w : workers_) w->stopThread();
  for (auto& w : workers_) w->clearStreams();
  frontends_.clear();
  workers_.clear();
  backends_.clear();
}

common::Logger* Daemon::makeLogger(const std::vector<LogTarget>& targets) {
  auto l = std::make_unique<common::Logger>("proxyd", loop_.clock());
  for (const auto& t : targets) l->addSink(sinkSpec(t));
  loggers_.push_back(std::move(l));
  return loggers_.back().get();
}

const common::Logger* Daemon::proxyLogger(int proxyIndex) const {
  if (proxyIndex < 0 || static_cast<size_t>(proxyIndex) >= proxyLoggers_.size()) return nullptr;
  return proxyLoggers_[proxyIndex];
}

void Daemon::notice(int proxyIndex, int severity, const std::string& msg) {
  if (auto* l = proxyLogger(proxyIndex)) l->log(severity, msg);
  if (stderrLog_) stderrLog_->log(severity <= common::kWarning ? common::kWarning : common::kNotice, msg);
}

BackendRt* Daemon::backend(int proxyIndex) {
  if (proxyIndex < 0 || static_cast<size_t>(proxyIndex) >= backends_.size()) return nullptr;
  return backends_[proxyIndex].get();
}

namespace {

// Opens, binds and listens one socket; returns the fd or an error text.
common::Result<int> openListener(const common::SockAddr& a) {
  int fd = ::socket(a.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return common::err(std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a.family() == AF_INET6) {
    // "[::]:80" takes IPv6 only, as HAProxy's "v6only" default on Linux
    // leaves it to the system: keep the system default (dual stack).
  }
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&a.ss), a.len) < 0 ||
      ::listen(fd, 1024) < 0) {
    std::string e = std::strerror(errno);
    ::close(fd);
    return common::err(e);
  }
  return fd;
}

} // namespace

namespace {

bool sameAddr(const common::SockAddr& a, const common::SockAddr& b) {
  return a.len == b.len && std::memcmp(&a.ss, &b.ss, a.len) == 0;
}

} // namespace

common::Result<bool> Daemon::bindAll(Daemon* previous) {
  frontends_.clear();
  for (size_t i = 0; i < cfg_.proxies.size(); ++i) {
    const auto& p = cfg_.proxies[i];
    if (!p.isFrontend()) continue;
    auto fe = std::make_unique<FrontendRt>(p, static_cast<int>(i));
    fe->logger = proxyLogger(static_cast<int>(i));
    for (const auto& b : p.binds) {
      for (unsigned port = b.addr.portLo; port <= b.addr.portHi; ++port) {
        common::IpAddr ip = b.addr.ip;
        if (ip.family == 0) {
          ip.family = AF_INET;
          ip.v4.s_addr = htonl(INADDR_ANY);
        }
        auto sa = common::SockAddr::from(ip, static_cast<uint16_t>(port));
        common::Result<int> fd = common::err(std::string("not bound"));
        int shared = -1;
        if (previous)
          for (auto& pfe : previous->frontends_)
            for (auto& l : pfe->listeners)
              if (shared < 0 && sameAddr(l->addr(), sa)) shared = l->fd();
        if (shared >= 0) {
          int dupFd = ::fcntl(shared, F_DUPFD_CLOEXEC, 0);
          if (dupFd >= 0) fd = dupFd;
          else fd = common::err(std::string(std::strerror(errno)));
        } else {
          fd = openListener(sa);
        }
        if (!fd) {
          frontends_.clear();
          return common::err("Starting frontend " + p.name + ": cannot bind socket (" +
                             fd.error() + ") [" + sa.str() + "]");
        }
        // option tcp-smart-accept: accepted sockets inherit delayed-ACK
        // mode, so the request is acknowledged by the response. Set either
        // way: a socket shared from before a reload keeps its old setting.
        int quickAck = p.smartAccept() ? 0 : 1;
        setsockopt(fd.value(), IPPROTO_TCP, TCP_QUICKACK, &quickAck, sizeof quickAck);
        fe->listeners.push_back(std::make_unique<Listener>(*this, *workers_[0], *fe, fd.value(), sa));
        for (size_t w = 1; w < workers_.size(); ++w) {
          int dupFd = ::fcntl(fd.value(), F_DUPFD_CLOEXEC, 0);
          if (dupFd < 0) {
            std::string e = std::strerror(errno);
            frontends_.clear();
            return common::err("Starting frontend " + p.name + ": cannot bind socket (" + e +
                               ") [" + sa.str() + "]");
          }
          fe->workerListeners.push_back(
              std::make_unique<Listener>(*this, *workers_[w], *fe, dupFd, sa));
        }
      }
    }
    frontends_.push_back(std::move(fe));
  }
  return true;
}

namespace {

bool sameSockets(const GlobalConfig& a, const GlobalConfig& b) {
  if (a.statsSockets.size() != b.statsSockets.size() || a.statsTimeout != b.statsTimeout)
    return false;
  for (size_t i = 0; i < a.statsSockets.size(); ++i) {
    const auto& x = a.statsSockets[i];
    const auto& y = b.statsSockets[i];
    if (x.address != y.address || x.mode != y.mode || x.level != y.level) return false;
  }
  return true;
}

} // namespace

common::Result<bool> Daemon::openAdminSockets(Daemon* previous) {
  adminServers_.clear();
  if (cfg_.global.statsSockets.empty()) {
    if (previous) {
      previous->adminServers_.clear();
      previous->switch_.reset();
    }
    return true;
  }
  if (!control_) control_ = std::make_unique<DaemonControl>(*this);
  if (previous && previous->control_)
    for (const auto& v : previous->control_->info().vrrp) control_->setVrrp(v);
  if (previous && previous->switch_ && sameSockets(cfg_.global, previous->cfg_.global)) {
    switch_ = std::move(previous->switch_);
    switch_->retarget(control_.get());
    adminServers_ = std::move(previous->adminServers_);
    previous->adminServers_.clear();
    healthChanged();
    return true;
  }
  if (previous) { // different sockets: the old ones go first (same paths)
    previous->adminServers_.clear();
    previous->switch_.reset();
  }
  switch_ = std::make_unique<ControlSwitch>(control_.get());
  for (const auto& sc : cfg_.global.statsSockets) {
    AdminSocketSpec spec;
    spec.path = sc.path;
    spec.tcp = sc.tcp;
    spec.mode = sc.mode;
    spec.level = sc.level;
    spec.timeout = cfg_.global.statsTimeout;
    auto srv = std::make_unique<AdminServer>(loop_, *switch_, spec);
    auto r = srv->listen();
    if (!r) {
      adminServers_.clear();
      // HAProxy: "Starting frontend GLOBAL: cannot bind UNIX socket (...) [path]".
      return common::err("Starting frontend GLOBAL: " + r.error());
    }
    adminServers_.push_back(std::move(srv));
  }
  return true;
}

void Daemon::healthChanged() {
  for (auto& a : adminServers_) a->notifyHealthChanged();
}

void Daemon::killServerStreams(const BackendRt& be, size_t server) {
  // Each worker ends its own streams (posted to the others: a stream is
  // only touched by its thread).
  for (auto& wp : workers_) {
    Worker* w = wp.get();
    auto job = [this, w, &be, server] {
      auto g = lock();
      // Collect first: killing a stream may hand a queue slot to another.
      std::vector<std::pair<Stream*, uint64_t>> victims;
      w->forEachStream([&](Stream* s) {
        if (s->usesServer(be, server)) victims.emplace_back(s, s->serial);
      });
      for (auto [s, serial] : victims)
        if (w->alive(s, serial)) s->kill();
    };
    if (w->onThisThread()) job();
    else w->post(job);
  }
}

void Daemon::setMaxconn(int m) {
  maxconn_ = m;
  updateListeners();
}

FrontendRt* Daemon::frontend(const std::string& name) {
  for (auto& fe : frontends_)
    if (fe->name() == name) return fe.get();
  return nullptr;
}

void Daemon::start() {
  // Listeners are armed before the other threads run their loops.
  for (auto& fe : frontends_) {
    for (auto& l : fe->listeners) l->resume();
    for (auto& l : fe->workerListeners) l->resume();
  }
  for (auto& w : workers_) w->startThread();
  for (auto& be : backends_)
    if (be) be->startChecks();
}

void Daemon::stop() {
  softStopping_ = true;
  for (auto& w : workers_) w->stopThread();
  for (auto& fe : frontends_) {
    for (auto& l : fe->listeners) l->pause();
    for (auto& l : fe->workerListeners) l->pause();
  }
  for (auto& w : workers_) w->clearStreams();
  drained();
}

void Daemon::softStop() {
  softStopping_ = true;
  // Each worker drops its own listeners (on its thread, so its loop never
  // sees a closed socket); then no more connection can come in.
  for (auto& w : workers_) {
    Worker* wk = w.get();
    wk->runSync([this, wk] {
      for (auto& fe : frontends_)
        std::erase_if(fe->workerListeners, [wk](const auto& l) { return &l->worker() == wk; });
    });
  }
  for (auto& fe : frontends_) fe->listeners.clear();
  if (actconn_ == 0) drained();
}

void Daemon::stopChecks() {
  for (auto& be : backends_)
    if (be)
      for (auto& s : be->servers()) s.checker.reset();
}

void Daemon::drained() {
  // Once, on the main thread (the last stream may end on another worker).
  if (!workers_[0]->onThisThread()) {
    workers_[0]->post([this] { drained(); });
    return;
  }
  if (drainedDone_.exchange(true)) return;
  if (onDrained_) onDrained_();
  else loop_.stop();
}

Worker& Daemon::leastLoaded(Worker& self) {
  // Keep the connection unless another worker has clearly fewer streams:
  // a hand-over costs the other thread a wake-up.
  int mine = self.load();
  Worker* best = &self;
  int bestLoad = mine;
  for (auto& w : workers_)
    if (int l = w->load(); l < bestLoad) {
      best = w.get();
      bestLoad = l;
    }
  if (best == &self || mine - bestLoad <= 1 + mine / 8) {
    self.assigned();
    return self;
  }
  best->assigned();
  return *best;
}

bool Daemon::reserve(FrontendRt& fe) {
  if (actconn_++ >= maxconn_) {
    --actconn_;
    return false;
  }
  if (fe.feconn++ >= fe.maxconn()) {
    --fe.feconn;
    --actconn_;
    return false;
  }
  return true;
}

void Daemon::release(FrontendRt& fe) {
  --fe.feconn;
  --actconn_;
  // The reservation may have made another worker pause the listeners.
  updateListeners();
}

void Daemon::onAccept(Worker& w, FrontendRt& fe, int fd, const common::SockAddr& peer) {
  // actconn and feconn were counted by reserve().
  ++cumConns_;
  maxActconn_.raiseTo(actconn_);
  fe.maxFeconn.raiseTo(fe.feconn);
  ++fe.cumConns;
  std::unique_ptr<Stream> s;
  if (fe.cfg().mode == Mode::Http) s = std::make_unique<HttpStream>(*this, w, fe, fd, peer);
  else s = std::make_unique<TcpStream>(*this, w, fe, fd, peer);
  Stream* raw = w.add(std::move(s));
  updateListeners();
  raw->start(); // may finish (and schedule its own removal) at once
}

void Daemon::streamClosed(Stream* s, FrontendRt& fe) {
  --actconn_;
  --fe.feconn;
  s->home->remove(s);
  updateListeners();
  if (softStopping_ && actconn_ == 0) drained();
}

void Daemon::updateListeners() {
  if (softStopping_) return;
  bool changed = false;
  {
    // Under the lock, so the last change of the counters is always the one
    // the accept state ends up following.
    auto g = lock();
    for (auto& fe : frontends_) {
      bool accept = !full() && !fe->full();
      if (fe->accepting != accept) {
        fe->accepting = accept;
        changed = true;
      }
    }
  }
  if (!changed) return;
  for (auto& wp : workers_) {
    Worker* w = wp.get();
    if (w->onThisThread()) applyListeners(*w);
    else w->post([this, w] { applyListeners(*w); });
  }
}

void Daemon::applyListeners(Worker& w) {
  if (softStopping_) return;
  auto g = lock();
  for (auto& fe : frontends_) {
    auto& ls = w.id() == 0 ? fe->listeners : fe->workerListeners;
    for (auto& l : ls) {
      if (&l->worker() != &w) continue;
      if (fe->accepting) l->resume();
      else l->pause();
    }
  }
}

} // namespace proxyd
