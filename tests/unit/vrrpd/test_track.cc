// Effective priority and FAULT from tracked scripts/interfaces, and the
// rise/fall counter, as keepalived 2.2 computes them.
#include "vrrpd/track.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using namespace vrrpd;

namespace {

using Ts = TrackStatus;

int prio(int base, std::vector<Tracker> t) {
  return effectivePriority(base, t);
}
bool fault(std::vector<Tracker> t) {
  return faulted(t);
}

// Feeds results written as "+" (success) and "-" (failure); returns the
// status after each one as "I", "O" or "F" and marks changes with "*".
std::string run(TrackedScript& s, const std::string& results) {
  std::string out;
  for (char c : results) {
    bool changed = s.record(c == '+');
    out += s.status() == Ts::Ok ? 'O' : s.status() == Ts::Failed ? 'F' : 'I';
    if (changed) out += '*';
  }
  return out;
}

} // namespace

TEST_CASE("a positive weight is added while the tracker is OK", "[track]") {
  CHECK(prio(100, {{Ts::Ok, 10, false}}) == 110);
  CHECK(prio(100, {{Ts::Failed, 10, false}}) == 100);
}

TEST_CASE("a negative weight is subtracted while the tracker fails", "[track]") {
  CHECK(prio(100, {{Ts::Ok, -20, false}}) == 100);
  CHECK(prio(100, {{Ts::Failed, -20, false}}) == 80);
}

TEST_CASE("reverse inverts the direction of a weight", "[track]") {
  // weight 10 reverse: -10 while OK, nothing while failing
  CHECK(prio(100, {{Ts::Ok, 10, true}}) == 90);
  CHECK(prio(100, {{Ts::Failed, 10, true}}) == 100);
  // weight -20 reverse: +20 while failing, nothing while OK
  CHECK(prio(100, {{Ts::Ok, -20, true}}) == 100);
  CHECK(prio(100, {{Ts::Failed, -20, true}}) == 120);
}

TEST_CASE("weights of several trackers add up", "[track]") {
  CHECK(prio(100, {{Ts::Ok, 5, false}, {Ts::Failed, -3, false}, {Ts::Ok, 2, false}}) == 104);
}

TEST_CASE("the effective priority is clamped to 1..254", "[track]") {
  CHECK(prio(250, {{Ts::Ok, 10, false}}) == 254);
  CHECK(prio(254, {{Ts::Ok, 1, false}}) == 254);
  CHECK(prio(5, {{Ts::Failed, -50, false}}) == 1);
  CHECK(prio(1, {{Ts::Failed, -1, false}}) == 1);
}

TEST_CASE("an address owner's priority 255 never changes", "[track]") {
  CHECK(prio(255, {{Ts::Failed, -50, false}}) == 255);
  CHECK(prio(255, {{Ts::Ok, 10, false}}) == 255);
  CHECK(prio(255, {}) == 255);
}

TEST_CASE("a tracker that has not reported yet contributes nothing", "[track]") {
  CHECK(prio(100, {{Ts::Init, 10, false}, {Ts::Init, -10, false}}) == 100);
  CHECK(trackerWeight({Ts::Init, 7, true}) == 0);
}

TEST_CASE("a failing weight-0 tracker faults the instance", "[track]") {
  CHECK_FALSE(fault({{Ts::Ok, 0, false}}));
  CHECK(fault({{Ts::Failed, 0, false}}));
  CHECK(fault({{Ts::Ok, 0, false}, {Ts::Failed, 0, false}}));
  // weighted trackers never fault
  CHECK_FALSE(fault({{Ts::Failed, -10, false}, {Ts::Failed, 10, false}}));
  // and a weight-0 tracker does not move the priority
  CHECK(prio(100, {{Ts::Failed, 0, false}}) == 100);
}

TEST_CASE("weight 0 reverse faults while the tracker is OK", "[track]") {
  CHECK(fault({{Ts::Ok, 0, true}}));
  CHECK_FALSE(fault({{Ts::Failed, 0, true}}));
}

TEST_CASE("a weight-0 tracker holds the instance down until its first result", "[track]") {
  CHECK(fault({{Ts::Init, 0, false}}));
  CHECK(fault({{Ts::Init, 0, true}}));
  CHECK_FALSE(fault({{Ts::Init, 5, false}}));
}

TEST_CASE("a script's first result decides its state at once", "[track][script]") {
  TrackedScript ok(3, 3);
  CHECK(ok.status() == Ts::Init);
  CHECK(run(ok, "+") == "O*");
  TrackedScript bad(3, 3);
  CHECK(run(bad, "-") == "F*");
}

TEST_CASE("an OK script fails after `fall` consecutive failures", "[track][script]") {
  TrackedScript s(2, 3);
  CHECK(run(s, "+") == "O*");
  CHECK(run(s, "---") == "OOF*");
  CHECK(s.result() == 0);
}

TEST_CASE("a success in between restarts the fall count", "[track][script]") {
  TrackedScript s(2, 3);
  run(s, "+");
  CHECK(run(s, "--+--") == "OOOOO");
  CHECK(run(s, "-") == "F*");
}

TEST_CASE("a failed script recovers after `rise` consecutive successes", "[track][script]") {
  TrackedScript s(3, 2);
  CHECK(run(s, "-") == "F*");
  CHECK(run(s, "++") == "FF");
  CHECK(run(s, "+") == "O*");
  CHECK(s.result() == 3 + 2 - 1);
}

TEST_CASE("a failure in between restarts the rise count", "[track][script]") {
  TrackedScript s(3, 2);
  run(s, "-");
  CHECK(run(s, "++-++") == "FFFFF");
  CHECK(run(s, "+") == "O*");
}

TEST_CASE("init_fail starts failed and needs `rise` successes", "[track][script]") {
  TrackedScript s(2, 2, true);
  CHECK(s.status() == Ts::Failed);
  CHECK(run(s, "-") == "F");
  CHECK(run(s, "+") == "F");
  CHECK(run(s, "+") == "O*");
}

TEST_CASE("rise 1 fall 1 follows every result", "[track][script]") {
  TrackedScript s;
  CHECK(run(s, "+-+-") == "O*F*O*F*");
}

TEST_CASE("the counter stays within 0..rise+fall-1", "[track][script]") {
  TrackedScript s(2, 4);
  run(s, "++++++++");
  CHECK(s.result() == 5);
  run(s, "--------");
  CHECK(s.result() == 0);
}
