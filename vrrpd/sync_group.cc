#include "vrrpd/sync_group.h"

namespace vrrpd::sync {

using fsm::StateKind;

const char* groupStateName(GroupState g) {
  switch (g) {
  case GroupState::Backup:
    return "BACKUP";
  case GroupState::Master:
    return "MASTER";
  case GroupState::Fault:
    return "FAULT";
  case GroupState::Stop:
    return "STOP";
  }
  return "?";
}

bool canGoMaster(std::span<const Member> members, size_t who, GroupState group) {
  if (group == GroupState::Master) return true;
  if (group == GroupState::Fault) return false;
  for (size_t i = 0; i < members.size(); ++i) {
    if (i == who) continue;
    const Member& m = members[i];
    bool wants = m.state == StateKind::Master || (m.state == StateKind::Backup && m.wantsMaster);
    if (!wants) return false;
  }
  return true;
}

std::vector<Follow> follow(std::span<const Member> members, size_t who, StateKind before,
                           StateKind after) {
  std::vector<Follow> out(members.size(), Follow::Nothing);
  for (size_t i = 0; i < members.size(); ++i) {
    if (i == who) continue;
    StateKind s = members[i].state;
    if (after == StateKind::Master && before != StateKind::Master && s == StateKind::Backup)
      out[i] = Follow::Master;
    else if (before == StateKind::Master && after == StateKind::Backup && s == StateKind::Master)
      out[i] = Follow::Backup;
  }
  return out;
}

bool groupFault(std::span<const bool> ownFault) {
  for (bool f : ownFault)
    if (f) return true;
  return false;
}

GroupState settle(std::span<const Member> members, GroupState previous) {
  if (members.empty()) return previous;
  size_t master = 0, backup = 0, stop = 0;
  for (const Member& m : members) {
    if (m.state == StateKind::Fault) return GroupState::Fault;
    master += m.state == StateKind::Master;
    backup += m.state == StateKind::Backup;
    stop += m.state == StateKind::Stop;
  }
  if (master == members.size()) return GroupState::Master;
  if (backup == members.size()) return GroupState::Backup;
  if (stop == members.size()) return GroupState::Stop;
  return previous;
}

std::vector<std::string> notifyArgs(const std::string& group, GroupState state) {
  return {"GROUP", group, groupStateName(state), "0"};
}

fsm::Output forceBackup(const fsm::Instance& cfg, const fsm::State& s, fsm::MonoTime now) {
  fsm::Output out;
  out.state = s;
  if (s.kind != StateKind::Master) return out;
  fsm::State& st = out.state;
  out.actions.push_back(fsm::Log{fsm::LogLevel::Info, "(" + cfg.name + ") Entering BACKUP STATE"});
  st.kind = StateKind::Backup;
  st.preemptAt.reset();
  out.actions.push_back(fsm::CancelTimer{fsm::Timer::Advert});
  out.actions.push_back(fsm::CancelTimer{fsm::Timer::GarpDelay});
  out.actions.push_back(fsm::CancelTimer{fsm::Timer::GarpLowerPrio});
  out.actions.push_back(fsm::RemoveVips{});
  st.vipsSet = false;
  out.actions.push_back(fsm::RunNotify{fsm::Notify::Backup});
  st.masterDownAt = now + fsm::masterDownInterval(cfg, st.priority, st.masterAdverInt);
  out.actions.push_back(fsm::ArmTimer{fsm::Timer::MasterDown, st.masterDownAt});
  return out;
}

fsm::Output forceMaster(const fsm::Instance& cfg, const fsm::State& s, fsm::MonoTime now) {
  if (s.kind != StateKind::Backup) return fsm::Output{s, {}};
  fsm::State due = s;
  due.masterDownAt = now;
  return fsm::step(cfg, due, fsm::MasterDownTimerFired{}, now);
}

} // namespace vrrpd::sync
