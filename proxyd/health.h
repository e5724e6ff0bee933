#pragma once
// Health-check bookkeeping for one server, as HAProxy 2.6 counts it. Pure.
//
// The counter runs from 0 to rise+fall-1; the server is UP while it is >=
// rise. A server with checks starts UP (as HAProxy does). See health.cc for
// the exact transitions, which mirror haproxy's src/check.c.
#include "proxyd/config.h"

#include <string>

namespace proxyd {

enum class CheckResult { Passed, Failed };

// HAProxy's check statuses (src/check.c, HCHK_STATUS_*) that proxyd
// produces. Their short names ("L7STS") and descriptions ("Layer7 wrong
// status") are what `show stat` and the transition log lines print.
enum class CheckStatus { Ini, SockErr, L4Ok, L4Tout, L4Con, L7Tout, L7Rsp, L7Ok, L7OkC, L7Sts };
const char* checkStatusName(CheckStatus s); // "L4OK", "L7STS", ...
const char* checkStatusDesc(CheckStatus s); // "Layer4 check passed", ...
// True from L7OK on (HAProxy's HCHK_STATUS_L57DATA): the status carries an
// HTTP code, printed as ", code: N" and in the check_code column.
bool checkStatusHasCode(CheckStatus s);
bool checkStatusPassed(CheckStatus s); // L4OK, L7OK, L7OKC

// The outcome of one health check.
struct CheckReport {
  CheckStatus status = CheckStatus::Ini;
  int code = -1;    // the HTTP status (kept only where checkStatusHasCode)
  std::string info; // HAProxy's info text, e.g. "Connection refused"
  long durationMs = -1;
  bool passed() const { return checkStatusPassed(status); }
};

class HealthCounter {
public:
  HealthCounter(int rise, int fall, bool startUp = true);
  enum class Transition { None, WentUp, WentDown };
  Transition record(CheckResult r);
  bool up() const;
  int health() const { return health_; }
  // True while the counter is between its extremes (a transition under way).
  bool changing() const;
  // The delay before the next check: inter while steady UP, fastinter while
  // changing, downinter while steady DOWN (each falls back to inter).
  Micros nextInterval(const ServerOptions& opt) const;
  // HAProxy's status text for the stats page: "UP", "DOWN", "UP 1/3",
  // "DOWN 1/2".
  std::string statusText() const;

private:
  int rise_;
  int fall_;
  int health_;
};

// HAProxy's transition log line, e.g.
// "Server app/web1 is DOWN, reason: Layer4 connection problem, info:
//  \"Connection refused\", check duration: 0ms. 1 active and 0 backup
//  servers left. 0 sessions active, 0 requeued, 0 remaining in queue."
struct TransitionInfo {
  std::string backend;
  std::string server;
  bool up = false;       // the new state
  bool stopping = false; // with up: "is stopping" (NOLB, disable-on-404)
  bool backup = false;   // the server is a backup ("Backup Server ...")
  std::string reason;    // "Layer4 connection problem", "Layer4 check passed", ...
                         // empty: no check part (then `info`, if any, is
                         // appended as ", <info>", e.g. "changed from CLI")
  int code = -1;         // ", code: N" (HAProxy: layer 5-7 statuses); -1: none
  std::string info;      // e.g. "Connection refused" (empty: no info part);
                         // non-printable bytes, '<', '>' and '"' are written
                         // "<XX>" (hex) as HAProxy's chunk_asciiencode()
  long durationMs = -1;  // -1: no duration part
  int activeLeft = 0;    // UP active servers after the change
  int backupLeft = 0;    // UP backup servers after the change
  int sessionsActive = 0;
  int requeued = 0;
  int remainingInQueue = 0;
};
std::string formatTransition(const TransitionInfo& t);

// HAProxy's alert when the last server of a backend goes: "backend app has no
// server available!" ("proxy app ..." for a `listen` section, as HAProxy's
// proxy_cap_str() names it).
std::string formatNoServer(const std::string& backend, bool listen = false);

} // namespace proxyd
