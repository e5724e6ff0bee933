#include "proxyd/backend.h"

#include "common/log.h"
#include "proxyd/checker.h"
#include "proxyd/daemon.h"
#include "proxyd/stream.h"

#include <algorithm>
#include <random>

namespace proxyd {

ServerRt::ServerRt(const ServerConfig* c)
    : cfg(c), health(c->opt.rise, c->opt.fall, true), maint(c->opt.disabled) {}
ServerRt::~ServerRt() = default;
ServerRt::ServerRt(ServerRt&&) noexcept = default;

namespace {
LbServer lbView(const ServerRt& s) {
  return LbServer{s.cfg->opt.weight, s.cfg->opt.backup, s.up()};
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

BackendRt::PickOutcome BackendRt::pick(uint64_t hash, std::optional<size_t> avoid) {
  bool sawFull = false;
  PickInput in;
  in.hash = hash;
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

void BackendRt::connStarted(size_t server) {
  auto& s = servers_[server];
  ++s.cur;
  ++s.total;
  lb_->connStarted(server);
}

void BackendRt::connEnded(size_t server) {
  auto& s = servers_[server];
  --s.cur;
  lb_->connEnded(server);
  serveQueue();
}

bool BackendRt::enqueue(Stream* s) {
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
  auto it = std::find(queue_.begin(), queue_.end(), s);
  if (it != queue_.end()) queue_.erase(it);
}

void BackendRt::serveQueue() {
  // Hand freed slots to waiting streams in arrival order. A stream that
  // still finds every server full stays at the head.
  size_t guard = queue_.size();
  while (!queue_.empty() && guard-- > 0) {
    auto p = pick(0);
    if (p.status == PickStatus::AllFull) return;
    Stream* s = queue_.front();
    queue_.pop_front();
    s->onQueueTurn(); // may pick, connect, or fail; may destroy s
  }
}

int BackendRt::activeUp() const {
  return static_cast<int>(std::count_if(servers_.begin(), servers_.end(), [](const ServerRt& s) {
    return !s.cfg->opt.backup && s.up();
  }));
}

int BackendRt::backupUp() const {
  return static_cast<int>(std::count_if(servers_.begin(), servers_.end(), [](const ServerRt& s) {
    return s.cfg->opt.backup && s.up();
  }));
}

void BackendRt::syncBalancer(size_t server) { lb_->setServer(server, lbView(servers_[server])); }

void BackendRt::checkDone(size_t server, CheckResult r, const std::string& reason,
                          const std::string& info, long durationMs) {
  auto& s = servers_[server];
  auto t = s.health.record(r);
  if (t == HealthCounter::Transition::None) return;
  bool wasAny = activeUp() + backupUp() > 0 || !hadServer_;
  syncBalancer(server);
  TransitionInfo ti;
  ti.backend = cfg_.name;
  ti.server = s.cfg->name;
  ti.up = t == HealthCounter::Transition::WentUp;
  ti.backup = s.cfg->opt.backup;
  ti.reason = reason;
  ti.info = info;
  ti.durationMs = durationMs;
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
    for (Stream* st : waiting) st->onQueueTurn();
  } else {
    hadServer_ = isAny;
    if (ti.up) serveQueue();
  }
}

} // namespace proxyd
