#include "proxyd/backend.h"

#include "common/log.h"
#include "proxyd/checker.h"
#include "proxyd/daemon.h"
#include "proxyd/stream.h"
#include "proxyd/worker.h"

#include <algorithm>
#include <random>

namespace proxyd {

ServerRt::ServerRt(const ServerConfig* c)
    : cfg(c), health(c->opt.rise, c->opt.fall, true), maint(c->opt.disabled),
      configMaint(c->opt.disabled), weight(c->opt.weight), maxconn(c->opt.maxconn) {}
ServerRt::~ServerRt() = default;
ServerRt::ServerRt(ServerRt&&) noexcept = default;

namespace {
LbServer lbView(const ServerRt& s) {
  return LbServer{s.weight, s.cfg->opt.backup, s.up() && !s.drain && !s.stopping};
}
} // namespace

BackendRt::BackendRt(Daemon& daemon, const ProxyConfig& cfg, int index)
    : daemon_(daemon), cfg_(cfg), index_(index) {
  servers_.reserve(cfg.servers.size());
  std::vector<LbServer> view;
  for (const auto& s : cfg.servers) {
    servers_.emplace_back(&s);
    view.push_back(lbView(servers_.back()));
  }
  lb_ = makeBalancer(cfg.balance, cfg.hashType, cfg.allbackups, std::move(view),
                     std::random_device{}());
}

BackendRt::~BackendRt() = default;

void BackendRt::startChecks() {
  // Spread the first checks over the interval, as HAProxy does, so a large
  // farm is not probed all at once.
  size_t n = servers_.size();
  for (size_t i = 0; i < n; ++i) {
    auto& s = servers_[i];
    if (!s.cfg->opt.check) continue;
    s.checker = std::make_unique<HealthChecker>(daemon_.loop(), *this, i);
    auto inter = s.cfg->opt.inter;
    s.checker->start(inter * static_cast<long>(i) / static_cast<long>(std::max<size_t>(n, 1)));
  }
}

BackendRt::PickOutcome BackendRt::pick(const PickKey& key, std::optional<size_t> avoid) {
  auto g = daemon_.lock();
  bool sawFull = false;
  PickInput in;
  in.hash = key.hash;
  in.noHash = key.absent;
  in.skip = [&](size_t i) {
    if (avoid && *avoid == i) return true;
    if (servers_[i].full()) {
      sawFull = true;
      return true;
    }
    return false;
  };
  auto p = lb_->pick(in);
  if (p) return {PickStatus::Picked, *p};
  if (avoid) {
    // Redispatch found nobody else: the avoided server is still better than
    // failing outright.
    in.skip = [&](size_t i) {
      if (servers_[i].full()) {
        sawFull = true;
        return true;
      }
      return false;
    };
    p = lb_->pick(in);
    if (p) return {PickStatus::Picked, *p};
  }
  return {sawFull ? PickStatus::AllFull : PickStatus::NoServer, 0};
}

std::unique_lock<std::recursive_mutex> BackendRt::lock() { return daemon_.lock(); }

void BackendRt::connStarted(size_t server) {
  auto g = daemon_.lock();
  auto& s = servers_[server];
  ++s.cur;
  s.maxCur.raiseTo(s.cur);
  ++s.total;
  lb_->connStarted(server);
}

void BackendRt::connEnded(size_t server) {
  auto g = daemon_.lock();
  auto& s = servers_[server];
  --s.cur;
  lb_->connEnded(server);
  serveQueue();
}

bool BackendRt::enqueue(Stream* s) {
  auto g = daemon_.lock();
  long limit = 0;
  bool allLimited = !servers_.empty();
  for (const auto& sv : servers_) {
    if (!sv.up()) continue;
    if (sv.cfg->opt.maxqueue <= 0) {
      allLimited = false;
      break;
    }
    limit += sv.cfg->opt.maxqueue;
  }
  if (allLimited && static_cast<long>(queue_.size()) >= limit) return false;
  queue_.push_back(s);
  return true;
}

void BackendRt::dequeue(Stream* s) {
  auto g = daemon_.lock();
  auto it = std::find(queue_.begin(), queue_.end(), s);
  if (it != queue_.end()) queue_.erase(it);
}

void BackendRt::serveQueue() {
  // Hand freed slots to waiting streams in arrival order. A stream that
  // still finds every server full stays at the head.
  auto g = daemon_.lock();
  size_t guard = queue_.size();
  while (!queue_.empty() && guard-- > 0) {
    auto p = pick(0);
    if (p.status == PickStatus::AllFull) return;
    Stream* s = queue_.front();
    queue_.pop_front();
    bool local = s->home->onThisThread();
    giveTurn(s); // may pick, connect, or fail; may destroy s
    // A turn posted to another thread takes its slot later: that thread
    // serves the queue on once its stream has had its turn.
    if (!local) return;
  }
}

void BackendRt::giveTurn(Stream* s) {
  Worker* w = s->home;
  if (w->onThisThread()) {
    s->onQueueTurn();
    return;
  }
  w->post([this, w, s, serial = s->serial] {
    auto g = daemon_.lock();
    if (w->alive(s, serial)) s->onQueueTurn();
    serveQueue();
  });
}

size_t BackendRt::queued() const {
  auto g = daemon_.lock();
  return queue_.size();
}

int BackendRt::activeUp() const {
  return static_cast<int>(std::count_if(servers_.begin(), servers_.end(), [](const ServerRt& s) {
    return !s.cfg->opt.backup && s.usable();
  }));
}

int BackendRt::backupUp() const {
  return static_cast<int>(std::count_if(servers_.begin(), servers_.end(), [](const ServerRt& s) {
    return s.cfg->opt.backup && s.usable();
  }));
}

void BackendRt::syncBalancer(size_t server) { lb_->setServer(server, lbView(servers_[server])); }

void BackendRt::checkDone(size_t server, const CheckReport& rep) {
  auto g = daemon_.lock();
  auto& s = servers_[server];
  s.checkStatus = checkStatusName(rep.status);
  s.checkDesc = checkStatusDesc(rep.status);
  s.checkInfo = rep.info;
  s.checkCode = checkStatusHasCode(rep.status) ? rep.code : -1;
  s.checkDurationMs = rep.durationMs;
  if (!rep.passed()) ++s.checkFailed;
  auto t = s.health.record(rep.passed() ? CheckResult::Passed : CheckResult::Failed);
  // disable-on-404: L7OKC stops a running server (NOLB), L7OK resumes it.
  bool wasStopping = s.stopping;
  if (!s.health.up()) s.stopping = false;
  else if (rep.passed()) s.stopping = rep.status == CheckStatus::L7OkC;
  bool stoppingChanged = wasStopping != s.stopping && s.health.up() &&
                         t == HealthCounter::Transition::None;
  if (t == HealthCounter::Transition::None && !stoppingChanged) return;
  s.lastChange = std::chrono::steady_clock::now();
  if (t == HealthCounter::Transition::WentDown) ++s.checkDowns;
  bool wasAny = hadServer_; // the state before this transition
  syncBalancer(server);
  TransitionInfo ti;
  ti.backend = cfg_.name;
  ti.server = s.cfg->name;
  ti.up = s.health.up();
  ti.stopping = s.stopping;
  ti.backup = s.cfg->opt.backup;
  ti.reason = s.checkDesc;
  ti.code = s.checkCode;
  ti.info = rep.info;
  ti.durationMs = rep.durationMs;
  ti.activeLeft = activeUp();
  ti.backupLeft = backupUp();
  ti.sessionsActive = s.cur;
  ti.remainingInQueue = static_cast<int>(queue_.size());
  daemon_.notice(index_, ti.up ? common::kNotice : common::kAlert, formatTransition(ti));
  bool isAny = activeUp() + backupUp() > 0;
  if (wasAny && !isAny) {
    daemon_.notice(index_, common::kEmerg, formatNoServer(cfg_.name, cfg_.cap == ProxyConfig::Listen));
    // Nothing can serve the waiting streams now: let them fail at once.
    hadServer_ = false;
    std::deque<Stream*> waiting;
    waiting.swap(queue_);
    for (Stream* st : waiting) giveTurn(st);
  } else {
    hadServer_ = isAny;
    if (ti.up) serveQueue();
  }
  daemon_.healthChanged();
}

std::optional<size_t> BackendRt::findServer(const std::string& name) const {
  for (size_t i = 0; i < servers_.size(); ++i)
    if (servers_[i].cfg->name == name || "#" + std::to_string(servers_[i].cfg->id) == name) return i;
  return std::nullopt;
}

void BackendRt::setAdminState(size_t server, runtime::AdminState st) {
  auto g = daemon_.lock();
  auto& s = servers_[server];
  bool wasAny = activeUp() + backupUp() > 0;
  auto before = s.admin();
  s.maint = st == runtime::AdminState::Maint;
  s.drain = st == runtime::AdminState::Drain;
  if (!s.maint) s.configMaint = false;
  if (before == st) return;
  s.lastChange = std::chrono::steady_clock::now();
  syncBalancer(server);
  // HAProxy's log lines for administrative changes.
  std::string who = std::string(s.cfg->opt.backup ? "Backup Server " : "Server ") + cfg_.name +
                    "/" + s.cfg->name;
  std::string left = std::to_string(activeUp()) + " active and " + std::to_string(backupUp()) +
                     " backup servers left.";
  if (st == runtime::AdminState::Maint)
    daemon_.notice(index_, common::kWarning, who + " is going DOWN for maintenance. " + left);
  else if (st == runtime::AdminState::Drain)
    daemon_.notice(index_, common::kNotice, who + " enters drain mode.");
  else if (before == runtime::AdminState::Maint)
    daemon_.notice(index_, common::kWarning,
                   who + " is " + (s.health.up() ? "UP" : "DOWN") + " (leaving forced maintenance).");
  else
    daemon_.notice(index_, common::kNotice, who + " leaves drain mode.");
  bool isAny = activeUp() + backupUp() > 0;
  if (wasAny && !isAny) {
    daemon_.notice(index_, common::kEmerg, formatNoServer(cfg_.name, cfg_.cap == ProxyConfig::Listen));
    hadServer_ = false;
    std::deque<Stream*> waiting;
    waiting.swap(queue_);
    for (Stream* q : waiting) giveTurn(q);
  } else {
    hadServer_ = isAny;
    if (isAny) serveQueue();
  }
  daemon_.healthChanged();
}

void BackendRt::setWeight(size_t server, int weight) {
  auto g = daemon_.lock();
  auto& s = servers_[server];
  if (s.weight == weight) return;
  s.weight = weight;
  syncBalancer(server);
  if (activeUp() + backupUp() > 0) {
    hadServer_ = true;
    serveQueue();
  }
  daemon_.healthChanged();
}

void BackendRt::setMaxconn(size_t server, int maxconn) {
  auto g = daemon_.lock();
  servers_[server].maxconn = maxconn;
  serveQueue();
}

} // namespace proxyd
