// Rise/fall counting as HAProxy 2.6 does it (src/check.c,
// set_server_check_status, check_notify_success/failure; src/server.c
// srv_getinter, srv_append_status; src/stats.c status text).
//
// health runs 0 .. rise+fall-1. The server is UP while health >= rise.
//  - passed: if below the top, health+1; reaching rise jumps to the top, so
//    one good check after `rise-1` others brings the server UP and makes it
//    need `fall` failures to go DOWN again.
//  - failed: if above 0, health-1; dropping below rise falls straight to 0,
//    so the server goes DOWN and needs `rise` good checks to come back.
// A server with checks starts at health = rise: UP, but one failure takes it
// DOWN (HAProxy: "up, but will fall down at first failure"), and it reaches
// the top (plain "UP" on the stats page) after its first good check.
#include "proxyd/health.h"

#include <algorithm>
#include <cstdio>

namespace proxyd {

HealthCounter::HealthCounter(int rise, int fall, bool startUp)
    : rise_(std::max(rise, 1)), fall_(std::max(fall, 1)), health_(startUp ? rise_ : 0) {}

bool HealthCounter::up() const {
  return health_ >= rise_;
}

bool HealthCounter::changing() const {
  return health_ > 0 && health_ < rise_ + fall_ - 1;
}

HealthCounter::Transition HealthCounter::record(CheckResult r) {
  bool wasUp = up();
  int top = rise_ + fall_ - 1;
  if (r == CheckResult::Passed) {
    if (health_ < top) {
      ++health_;
      if (health_ >= rise_) health_ = top;
    }
  } else if (health_ > 0) {
    --health_;
    if (health_ < rise_) health_ = 0;
  }
  if (!wasUp && up()) return Transition::WentUp;
  if (wasUp && !up()) return Transition::WentDown;
  return Transition::None;
}

// srv_getinter(): inter at the top, downinter at the bottom while DOWN,
// fastinter anywhere in between (each falling back to inter).
Micros HealthCounter::nextInterval(const ServerOptions& opt) const {
  if (health_ == rise_ + fall_ - 1) return opt.inter;
  if (!up() && health_ == 0) return opt.downinter.value_or(opt.inter);
  return opt.fastinter.value_or(opt.inter);
}

// stats.c: "UP" at the top, "UP x/fall" on the way down (x counts the
// failures still allowed, health-rise+1); "DOWN" at 0, "DOWN x/rise" on the
// way up.
std::string HealthCounter::statusText() const {
  if (up()) {
    if (health_ == rise_ + fall_ - 1) return "UP";
    return "UP " + std::to_string(health_ - rise_ + 1) + "/" + std::to_string(fall_);
  }
  if (health_ == 0) return "DOWN";
  return "DOWN " + std::to_string(health_) + "/" + std::to_string(rise_);
}

namespace {

struct StatusText {
  CheckStatus status;
  const char* name;
  const char* desc;
};
// check.c's check_statuses[] for the statuses we produce.
constexpr StatusText kStatuses[] = {
    {CheckStatus::Ini, "INI", "Initializing"},
    {CheckStatus::SockErr, "SOCKERR", "Socket error"},
    {CheckStatus::L4Ok, "L4OK", "Layer4 check passed"},
    {CheckStatus::L4Tout, "L4TOUT", "Layer4 timeout"},
    {CheckStatus::L4Con, "L4CON", "Layer4 connection problem"},
    {CheckStatus::L7Tout, "L7TOUT", "Layer7 timeout"},
    {CheckStatus::L7Rsp, "L7RSP", "Layer7 invalid response"},
    {CheckStatus::L7Ok, "L7OK", "Layer7 check passed"},
    {CheckStatus::L7OkC, "L7OKC", "Layer7 check conditionally passed"},
    {CheckStatus::L7Sts, "L7STS", "Layer7 wrong status"},
};

const StatusText& statusText(CheckStatus s) {
  for (const auto& t : kStatuses)
    if (t.status == s) return t;
  return kStatuses[0];
}

} // namespace

const char* checkStatusName(CheckStatus s) {
  return statusText(s).name;
}
const char* checkStatusDesc(CheckStatus s) {
  return statusText(s).desc;
}

bool checkStatusHasCode(CheckStatus s) {
  return s == CheckStatus::L7Ok || s == CheckStatus::L7OkC || s == CheckStatus::L7Sts;
}

bool checkStatusPassed(CheckStatus s) {
  return s == CheckStatus::L4Ok || s == CheckStatus::L7Ok || s == CheckStatus::L7OkC;
}

namespace {

// chunk_asciiencode(): non-printable bytes, '<', '>' and the quote character
// become "<XX>".
std::string asciiEncode(const std::string& in, char quote) {
  std::string out;
  out.reserve(in.size());
  for (unsigned char c : in) {
    if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == static_cast<unsigned char>(quote)) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "<%02X>", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

} // namespace

// srv_update_status() + srv_append_status(), then the final '.' that
// ha_warning()/send_log() add.
std::string formatTransition(const TransitionInfo& t) {
  std::string s = t.backup ? "Backup Server " : "Server ";
  s += t.backend + "/" + t.server + (!t.up ? " is DOWN" : t.stopping ? " is stopping" : " is UP");
  if (!t.reason.empty()) {
    s += ", reason: " + t.reason;
    if (t.code >= 0) s += ", code: " + std::to_string(t.code);
    if (!t.info.empty()) s += ", info: \"" + asciiEncode(t.info, '"') + "\"";
    if (t.durationMs >= 0) s += ", check duration: " + std::to_string(t.durationMs) + "ms";
  } else if (!t.info.empty()) {
    s += ", " + t.info;
  }
  std::string onBackup = (t.backupLeft > 0 && t.activeLeft == 0) ? " Running on backup." : "";
  s += ". " + std::to_string(t.activeLeft) + " active and " + std::to_string(t.backupLeft) +
       " backup servers ";
  if (t.up) {
    s += "online." + onBackup + " " + std::to_string(t.requeued) + " sessions requeued, " +
         std::to_string(t.remainingInQueue) + " total in queue.";
  } else {
    s += "left." + onBackup + " " + std::to_string(t.sessionsActive) + " sessions active, " +
         std::to_string(t.requeued) + " requeued, " + std::to_string(t.remainingInQueue) +
         " remaining in queue.";
  }
  return s;
}

std::string formatNoServer(const std::string& backend, bool listen) {
  return std::string(listen ? "proxy '" : "backend '") + backend + "' has no server available!";
}

} // namespace proxyd
