#pragma once
// Effective priority and FAULT from tracked objects, as keepalived 2.2
// computes them (keepalived/vrrp/vrrp_track.c, vrrp_scheduler.c). Pure.
//
// A tracker (vrrp_script, track_interface, later track_proxy) is OK or
// failing. Its weight W moves the instance's priority:
//   W > 0: +W while OK, nothing while failing;
//   W < 0: nothing while OK, W (a subtraction) while failing;
//   `weight W reverse` negates that contribution: W > 0 gives -W while OK,
//   W < 0 gives +|W| while failing;
//   W = 0: no priority change, the instance is in FAULT while the tracker
//   fails (with `reverse`: while it is OK).
// The sum is added to the base priority and clamped to 1..254. A base of 255
// (address owner) never changes, though a weight-0 tracker still faults it.
//
// A script that has not reported yet (keepalived's SCRIPT_INIT_STATE_INIT)
// contributes nothing, and a weight-0 one holds the instance down (keepalived
// keeps it out of BACKUP until the script's first result: num_script_init).
#include <span>

namespace vrrpd {

enum class TrackStatus { Init, Ok, Failed };

// keepalived's vrrp_script counter ("result"), which runs from 0 to
// rise+fall-1; the script is OK while it is >= rise.
//   - success below rise-1: one step up; at rise-1 or above: jump to the
//     top (OK, and the fall count starts afresh);
//   - failure above rise: one step down; at rise or below: jump to 0.
// So an OK script fails after `fall` consecutive failures and a failed one
// recovers after `rise` consecutive successes. By default the counter starts
// at rise-1 in Init: the first result decides either way. With `init_fail`
// it starts at 0 (failed) and needs `rise` successes.
class TrackedScript {
public:
  explicit TrackedScript(int rise = 1, int fall = 1, bool initFail = false);
  // Records one run's result; true when status() changed (including the
  // first result taking the script out of Init).
  bool record(bool ok);
  TrackStatus status() const;
  bool ok() const { return status() == TrackStatus::Ok; }
  int result() const { return result_; }

private:
  int rise_;
  int fall_;
  int result_;
  bool init_;
};

// One tracked object as an instance sees it.
struct Tracker {
  TrackStatus status = TrackStatus::Ok;
  int weight = 0; // -253..253; 0: FAULT while failing
  bool reverse = false;
};

// The tracker's contribution to the priority (see the table above).
int trackerWeight(const Tracker& t);
// base + contributions, clamped to 1..254; 255 stays 255.
int effectivePriority(int base, std::span<const Tracker> trackers);
// True while a weight-0 tracker is failing (OK, with `reverse`) or has not
// reported yet.
bool faulted(std::span<const Tracker> trackers);

} // namespace vrrpd
