#pragma once
// vrrp_sync_group: instances that change state together, as keepalived 2.2's
// vrrp_sync.c. Pure: the decisions here take the members' states and return
// what the shell must do; the shell (daemon.cc) feeds the members' state
// machines accordingly.
//
//   FAULT   one member in FAULT (its own tracker or link) holds every member
//           in FAULT ("VRRP_Group(G) Syncing instances to FAULT state"): a
//           MASTER leaves with a priority-0 advert and drops its VIPs. They
//           leave FAULT together, for BACKUP, when no member faults any more.
//   BACKUP  a MASTER member that goes BACKUP (it heard a higher priority)
//           takes the other MASTER members with it ("Syncing instances to
//           BACKUP state"), without a priority-0 advert (vrrp_sync_backup()).
//   MASTER  a member may become MASTER only when every other member wants to
//           as well (vrrp_sync_can_goto_master(): "prefer backup state to
//           avoid thrashing"); until then it stays BACKUP and waits another
//           Master_Down_Interval. Then the others follow at once ("Syncing
//           instances to MASTER state").
// The group's own notify scripts run on each group transition; the generic
// `notify` gets keepalived's arguments: GROUP NAME STATE 0 (a group's
// priority is shown as 0).
#include "vrrpd/fsm.h"

#include <span>
#include <string>
#include <vector>

namespace vrrpd::sync {

enum class GroupState { Backup, Master, Fault, Stop };
const char* groupStateName(GroupState g); // "BACKUP", "MASTER", "FAULT", "STOP"

struct Member {
  fsm::StateKind state = fsm::StateKind::Init;
  // Its Master_Down_Timer expired (or it would preempt) while the group held
  // it back: keepalived's wantstate MASTER for a BACKUP.
  bool wantsMaster = false;
};

// vrrp_sync_can_goto_master(): may member `who` become MASTER now?
bool canGoMaster(std::span<const Member> members, size_t who, GroupState group);

// What another member must do after member `who` changed state.
enum class Follow { Nothing, Master, Backup };
// Member `who` went from `before` to `after`; returns one entry per member
// (Nothing for `who` itself). FAULT is not handled here: the shell holds
// every member in FAULT while one faults (groupFault()).
std::vector<Follow> follow(std::span<const Member> members, size_t who, fsm::StateKind before,
                           fsm::StateKind after);

// True while any member's own trackers or link fault it.
bool groupFault(std::span<const bool> ownFault);

// The group's state from its members' states once they have settled: FAULT
// if one is in FAULT, MASTER when all are MASTER, BACKUP when all are BACKUP,
// STOP when all stopped; otherwise (members in transition) `previous`.
GroupState settle(std::span<const Member> members, GroupState previous);

// The generic notify script's extra arguments for a group transition.
std::vector<std::string> notifyArgs(const std::string& group, GroupState state);

// A MASTER pushed to BACKUP by its group (vrrp_state_leave_master() with
// wantstate BACKUP): no priority-0 advert, VIPs removed, BACKUP notify,
// Master_Down_Timer armed. Other states are returned unchanged.
fsm::Output forceBackup(const fsm::Instance& cfg, const fsm::State& s, fsm::MonoTime now);
// A BACKUP pulled to MASTER by its group (vrrp_state_goto_master()): the
// machine's own Master_Down_Timer expiry, taken now.
fsm::Output forceMaster(const fsm::Instance& cfg, const fsm::State& s, fsm::MonoTime now);

} // namespace vrrpd::sync
