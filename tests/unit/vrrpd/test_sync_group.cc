// vrrp_sync_group decisions (keepalived's vrrp_sync.c), pure.
#include "vrrpd/sync_group.h"

#include <array>
#include <catch2/catch.hpp>

using namespace vrrpd;
using fsm::StateKind;
using sync::Follow;
using sync::GroupState;
using sync::Member;

TEST_CASE("a member becomes MASTER only when every other member wants to", "[sync]") {
  std::vector<Member> m = {{StateKind::Backup, false}, {StateKind::Backup, false}};
  CHECK_FALSE(sync::canGoMaster(m, 0, GroupState::Backup));
  m[1].wantsMaster = true;
  CHECK(sync::canGoMaster(m, 0, GroupState::Backup));
  m[1] = {StateKind::Master, false};
  CHECK(sync::canGoMaster(m, 0, GroupState::Backup));
  std::vector<Member> idle = {{StateKind::Backup, false}, {StateKind::Backup, false}};
  CHECK(sync::canGoMaster(idle, 0, GroupState::Master));
  CHECK_FALSE(sync::canGoMaster(m, 0, GroupState::Fault));
}

TEST_CASE("a member going MASTER pulls the BACKUP members along", "[sync]") {
  std::vector<Member> m = {{StateKind::Master, false}, {StateKind::Backup, true},
                           {StateKind::Fault, false}};
  auto f = sync::follow(m, 0, StateKind::Backup, StateKind::Master);
  CHECK(f == std::vector<Follow>{Follow::Nothing, Follow::Master, Follow::Nothing});
}

TEST_CASE("a MASTER going BACKUP pushes the other MASTERs to BACKUP", "[sync]") {
  std::vector<Member> m = {{StateKind::Backup, false}, {StateKind::Master, false},
                           {StateKind::Master, false}};
  auto f = sync::follow(m, 0, StateKind::Master, StateKind::Backup);
  CHECK(f == std::vector<Follow>{Follow::Nothing, Follow::Backup, Follow::Backup});
  // leaving FAULT or INIT for BACKUP moves nobody
  CHECK(sync::follow(m, 0, StateKind::Fault, StateKind::Backup) ==
        std::vector<Follow>(3, Follow::Nothing));
}

TEST_CASE("one faulted member faults the group", "[sync]") {
  CHECK(sync::groupFault(std::array<bool, 2>{false, true}));
  CHECK_FALSE(sync::groupFault(std::array<bool, 2>{false, false}));
}

TEST_CASE("the group state settles from its members", "[sync]") {
  using M = std::vector<Member>;
  CHECK(sync::settle(M{{StateKind::Master, false}, {StateKind::Master, false}},
                     GroupState::Backup) == GroupState::Master);
  CHECK(sync::settle(M{{StateKind::Backup, false}, {StateKind::Backup, false}},
                     GroupState::Master) == GroupState::Backup);
  CHECK(sync::settle(M{{StateKind::Master, false}, {StateKind::Fault, false}},
                     GroupState::Master) == GroupState::Fault);
  CHECK(sync::settle(M{{StateKind::Master, false}, {StateKind::Backup, false}},
                     GroupState::Master) == GroupState::Master);
  CHECK(sync::settle(M{{StateKind::Stop, false}, {StateKind::Stop, false}}, GroupState::Master) ==
        GroupState::Stop);
}

TEST_CASE("a group's generic notify gets GROUP, name, state and 0", "[sync]") {
  CHECK(sync::notifyArgs("G1", GroupState::Fault) ==
        std::vector<std::string>{"GROUP", "G1", "FAULT", "0"});
}

namespace {
fsm::Instance cfg() {
  fsm::Instance c;
  c.name = "VI_2";
  c.priority = 100;
  return c;
}
template <class T> bool hasAction(const fsm::Output& o) {
  for (const auto& a : o.actions)
    if (std::holds_alternative<T>(a)) return true;
  return false;
}
} // namespace

TEST_CASE("a forced BACKUP drops the VIPs without a priority-0 advert", "[sync]") {
  fsm::State s;
  s.kind = StateKind::Master;
  s.priority = 100;
  s.masterAdverInt = std::chrono::seconds(1);
  s.vipsSet = true;
  auto now = fsm::MonoTime{} + std::chrono::seconds(10);
  auto out = sync::forceBackup(cfg(), s, now);
  CHECK(out.state.kind == StateKind::Backup);
  CHECK_FALSE(out.state.vipsSet);
  CHECK(hasAction<fsm::RemoveVips>(out));
  CHECK_FALSE(hasAction<fsm::SendAdvert>(out));
  // Master_Down_Interval at 100: 3 s + (256-100)/256 s
  CHECK(out.state.masterDownAt - now == std::chrono::microseconds(3609375));
}

TEST_CASE("a forced MASTER sends an advert, sets the VIPs and announces them", "[sync]") {
  fsm::State s;
  s.kind = StateKind::Backup;
  s.priority = 100;
  s.masterAdverInt = std::chrono::seconds(1);
  auto now = fsm::MonoTime{} + std::chrono::seconds(10);
  s.masterDownAt = now + std::chrono::seconds(3);
  auto out = sync::forceMaster(cfg(), s, now);
  CHECK(out.state.kind == StateKind::Master);
  CHECK(hasAction<fsm::SendAdvert>(out));
  CHECK(hasAction<fsm::AddVips>(out));
  CHECK(hasAction<fsm::SendGarp>(out));
  // not from FAULT
  s.kind = StateKind::Fault;
  CHECK(sync::forceMaster(cfg(), s, now).state.kind == StateKind::Fault);
}
