#include "proxyd/health.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace proxyd;
using T = HealthCounter::Transition;

namespace {

constexpr auto P = CheckResult::Passed;
constexpr auto F = CheckResult::Failed;

struct Step {
  CheckResult r;
  T transition;
  int health;
  std::string status;
};

void run(HealthCounter& h, const std::vector<Step>& steps) {
  int n = 0;
  for (const auto& s : steps) {
    INFO("step " << n++);
    CHECK(h.record(s.r) == s.transition);
    CHECK(h.health() == s.health);
    CHECK(h.statusText() == s.status);
    CHECK(h.up() == (s.status.rfind("UP", 0) == 0));
  }
}

} // namespace

TEST_CASE("a server with checks starts UP at health=rise, not yet at the top", "[health]") {
  HealthCounter h(2, 3);
  CHECK(h.up());
  CHECK(h.health() == 2);
  CHECK(h.statusText() == "UP 1/3");
  CHECK(h.changing());
}

TEST_CASE("a fresh server falls at its first failed check (HAProxy)", "[health]") {
  HealthCounter h(2, 3);
  CHECK(h.record(F) == T::WentDown);
  CHECK(h.health() == 0);
  CHECK(h.statusText() == "DOWN");
  CHECK_FALSE(h.changing());
}

TEST_CASE("rise 2 fall 3: every step", "[health]") {
  HealthCounter h(2, 3);
  run(h, {
             {P, T::None, 4, "UP"},
             {P, T::None, 4, "UP"},
             {F, T::None, 3, "UP 2/3"},
             {P, T::None, 4, "UP"}, // one good check restores the top
             {F, T::None, 3, "UP 2/3"},
             {F, T::None, 2, "UP 1/3"},
             {F, T::WentDown, 0, "DOWN"},
             {F, T::None, 0, "DOWN"},
             {P, T::None, 1, "DOWN 1/2"},
             {F, T::None, 0, "DOWN"}, // a failure on the way up starts over
             {P, T::None, 1, "DOWN 1/2"},
             {P, T::WentUp, 4, "UP"},
         });
}

TEST_CASE("rise 1 fall 1: every check decides", "[health]") {
  HealthCounter h(1, 1);
  CHECK(h.statusText() == "UP");
  CHECK_FALSE(h.changing());
  run(h, {
             {P, T::None, 1, "UP"},
             {F, T::WentDown, 0, "DOWN"},
             {F, T::None, 0, "DOWN"},
             {P, T::WentUp, 1, "UP"},
             {F, T::WentDown, 0, "DOWN"},
         });
}

TEST_CASE("rise 3 fall 2: every step", "[health]") {
  HealthCounter h(3, 2); // top = 4, starts at 3
  CHECK(h.statusText() == "UP 1/2");
  run(h, {
             {P, T::None, 4, "UP"},
             {F, T::None, 3, "UP 1/2"},
             {F, T::WentDown, 0, "DOWN"},
             {P, T::None, 1, "DOWN 1/3"},
             {P, T::None, 2, "DOWN 2/3"},
             {P, T::WentUp, 4, "UP"},
         });
}

TEST_CASE("rise 5 fall 1 and rise 1 fall 5", "[health]") {
  HealthCounter a(5, 1); // top = 5
  run(a, {
             {P, T::None, 5, "UP"},
             {F, T::WentDown, 0, "DOWN"},
             {P, T::None, 1, "DOWN 1/5"},
             {P, T::None, 2, "DOWN 2/5"},
             {P, T::None, 3, "DOWN 3/5"},
             {P, T::None, 4, "DOWN 4/5"},
             {P, T::WentUp, 5, "UP"},
         });
  HealthCounter b(1, 5); // top = 5, starts at 1
  CHECK(b.statusText() == "UP 1/5");
  run(b, {
             {P, T::None, 5, "UP"},
             {F, T::None, 4, "UP 4/5"},
             {F, T::None, 3, "UP 3/5"},
             {F, T::None, 2, "UP 2/5"},
             {F, T::None, 1, "UP 1/5"},
             {F, T::WentDown, 0, "DOWN"},
             {P, T::WentUp, 5, "UP"},
         });
}

TEST_CASE("for any rise/fall: fall failures from the top, rise passes from the bottom",
          "[health]") {
  for (int rise = 1; rise <= 6; ++rise) {
    for (int fall = 1; fall <= 6; ++fall) {
      INFO("rise " << rise << " fall " << fall);
      HealthCounter h(rise, fall);
      CHECK(h.record(P) == T::None);
      CHECK(h.statusText() == "UP");
      for (int i = 1; i < fall; ++i)
        CHECK(h.record(F) == T::None);
      CHECK(h.up());
      CHECK(h.record(F) == T::WentDown);
      for (int i = 1; i < rise; ++i)
        CHECK(h.record(P) == T::None);
      CHECK_FALSE(h.up());
      CHECK(h.record(P) == T::WentUp);
      CHECK(h.health() == rise + fall - 1);
    }
  }
}

TEST_CASE("a counter may start DOWN", "[health]") {
  HealthCounter h(2, 3, false);
  CHECK_FALSE(h.up());
  CHECK(h.statusText() == "DOWN");
  CHECK(h.record(P) == T::None);
  CHECK(h.record(P) == T::WentUp);
}

TEST_CASE("check intervals follow srv_getinter", "[health]") {
  using namespace std::chrono_literals;
  ServerOptions opt;
  opt.inter = 2s;
  opt.fastinter = 500ms;
  opt.downinter = 5s;
  HealthCounter h(2, 3);
  CHECK(h.nextInterval(opt) == Micros(500ms)); // UP 1/3: in transition
  h.record(P);
  CHECK(h.nextInterval(opt) == Micros(2s)); // steady UP
  h.record(F);
  CHECK(h.nextInterval(opt) == Micros(500ms)); // UP 2/3
  h.record(F);
  h.record(F);
  CHECK(h.nextInterval(opt) == Micros(5s)); // steady DOWN
  h.record(P);
  CHECK(h.nextInterval(opt) == Micros(500ms)); // DOWN 1/2

  ServerOptions plain; // fastinter and downinter unset: inter everywhere
  plain.inter = 3s;
  HealthCounter g(2, 3);
  CHECK(g.nextInterval(plain) == Micros(3s));
  g.record(F);
  CHECK(g.nextInterval(plain) == Micros(3s));
  g.record(P);
  CHECK(g.nextInterval(plain) == Micros(3s));
}

TEST_CASE("transition line: server DOWN after a refused connection", "[health]") {
  TransitionInfo t;
  t.backend = "app";
  t.server = "web1";
  t.up = false;
  t.reason = "Layer4 connection problem";
  t.info = "Connection refused";
  t.durationMs = 0;
  t.activeLeft = 1;
  CHECK(formatTransition(t) ==
        "Server app/web1 is DOWN, reason: Layer4 connection problem, info: \"Connection "
        "refused\", check duration: 0ms. 1 active and 0 backup servers left. 0 sessions "
        "active, 0 requeued, 0 remaining in queue.");
}

TEST_CASE("transition line: server UP", "[health]") {
  TransitionInfo t;
  t.backend = "app";
  t.server = "web1";
  t.up = true;
  t.reason = "Layer4 check passed";
  t.durationMs = 0;
  t.activeLeft = 2;
  CHECK(formatTransition(t) ==
        "Server app/web1 is UP, reason: Layer4 check passed, check duration: 0ms. 2 active "
        "and 0 backup servers online. 0 sessions requeued, 0 total in queue.");
}

TEST_CASE("transition line: backup server, timeout, counters", "[health]") {
  TransitionInfo t;
  t.backend = "app";
  t.server = "spare";
  t.backup = true;
  t.up = false;
  t.reason = "Layer4 timeout";
  t.durationMs = 2001;
  t.activeLeft = 2;
  t.backupLeft = 0;
  t.sessionsActive = 3;
  t.requeued = 1;
  t.remainingInQueue = 4;
  CHECK(formatTransition(t) ==
        "Backup Server app/spare is DOWN, reason: Layer4 timeout, check duration: 2001ms. 2 "
        "active and 0 backup servers left. 3 sessions active, 1 requeued, 4 remaining in "
        "queue.");
  t.up = true;
  t.reason = "Layer4 check passed";
  t.durationMs = 1;
  t.backupLeft = 1;
  CHECK(formatTransition(t) ==
        "Backup Server app/spare is UP, reason: Layer4 check passed, check duration: 1ms. 2 "
        "active and 1 backup servers online. 1 sessions requeued, 4 total in queue.");
}

TEST_CASE("transition line: running on backup", "[health]") {
  TransitionInfo t;
  t.backend = "app";
  t.server = "web2";
  t.reason = "Layer7 wrong status";
  t.code = 503;
  t.info = "Service Unavailable";
  t.durationMs = 3;
  t.activeLeft = 0;
  t.backupLeft = 1;
  CHECK(formatTransition(t) ==
        "Server app/web2 is DOWN, reason: Layer7 wrong status, code: 503, info: \"Service "
        "Unavailable\", check duration: 3ms. 0 active and 1 backup servers left. Running on "
        "backup. 0 sessions active, 0 requeued, 0 remaining in queue.");
}

TEST_CASE("transition line: optional parts and escaping", "[health]") {
  TransitionInfo t;
  t.backend = "b";
  t.server = "s";
  t.reason = "Layer7 invalid response";
  t.info = "TCPCHK got \"x\"\n<y>";
  t.activeLeft = 0;
  CHECK(formatTransition(t) ==
        "Server b/s is DOWN, reason: Layer7 invalid response, info: \"TCPCHK got "
        "<22>x<22><0A><3C>y<3E>\". 0 active and 0 backup servers left. 0 sessions active, 0 "
        "requeued, 0 remaining in queue.");
  TransitionInfo cli;
  cli.backend = "b";
  cli.server = "s";
  cli.up = true;
  cli.info = "changed from CLI";
  cli.activeLeft = 1;
  CHECK(formatTransition(cli) == "Server b/s is UP, changed from CLI. 1 active and 0 backup "
                                 "servers online. 0 sessions requeued, 0 total in queue.");
}

TEST_CASE("no server available line", "[health]") {
  CHECK(formatNoServer("app") == "backend 'app' has no server available!");
  CHECK(formatNoServer("web", true) == "proxy 'web' has no server available!");
}
