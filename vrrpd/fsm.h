#pragma once
// The VRRP state machine of one vrrp_instance: RFC 5798 section 6.4
// (Initialize, Backup, Master) plus keepalived 2.2's FAULT state and its
// deviations from the RFC, as read in keepalived/vrrp/vrrp.c and
// vrrp_scheduler.c. Pure: no sockets, timers or clock. The shell feeds it
// events with the current time and executes the returned actions in order.
//
//   step(cfg, state, event, now) -> {new state, actions}
//
// Timers: the machine asks for them (ArmTimer replaces any timer of the same
// kind; CancelTimer stops one) and the shell turns their expiry into the
// matching *Fired event. A timer event that arrives before the deadline the
// state holds (a stale timer) only re-arms it.
//
// Times (keepalived's integer microsecond arithmetic):
//   Skew_Time            v3: ((256 - Priority) * Master_Adver_Interval) / 256
//                        v2: (256 - Priority) / 256 s
//   Master_Down_Interval 3 * Master_Adver_Interval + Skew_Time
// Priority is the *effective* priority (keepalived 2.2 uses it, not the base).
//
// Deliberate differences from keepalived 2.2:
//   - A MASTER whose effective priority changes sends an advert at once.
//   - With `preemptOnLowerAdvert` (default), a BACKUP allowed to preempt takes
//     over as soon as it hears a lower-priority advert, instead of discarding
//     it and waiting for its Master_Down_Timer; together with the previous
//     point a preempting BACKUP takes over within one network round trip.
//   - MASTER -> FAULT sends one priority-0 advert (keepalived sends two).
#include "common/clock.h"
#include "common/values.h"

#include <chrono>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace vrrpd::fsm {

using common::MonoTime;
using Micros = std::chrono::microseconds;

constexpr int kPrioOwner = 255; // the address owner
constexpr int kPrioStop = 0;    // "I am leaving": sent on shutdown and fault

enum class InitialState { Backup, Master };

// What the machine needs of a vrrp_instance (the shell builds it from the
// configuration, keepalived's defaults resolved).
struct Instance {
  std::string name = "VI_1"; // iname, as log lines show it: "(VI_1) ..."
  int version = 2;           // 2 or 3
  int priority = 100;        // base priority, 1..255
  Micros advertInterval{1000000};
  common::IpAddr address; // our source address: equal-priority tie-break
  // `state`. Only an address owner (priority 255) goes to MASTER at startup,
  // whatever `state` says (keepalived 2.2 makes an owner want MASTER); anyone
  // else starts BACKUP and waits Master_Down_Interval (keepalived >= 2.1).
  // `state MASTER` still clears nopreempt and preempt_delay, as keepalived.
  InitialState initialState = InitialState::Backup;
  bool preempt = true;    // false: `nopreempt` (ignored with state MASTER)
  Micros preemptDelay{0}; // `preempt_delay` (ignored with state MASTER)
  bool preemptOnLowerAdvert = true;
  int garpRepeat = 5;                // garp_master_repeat
  Micros garpMasterDelay{5000000};   // garp_master_delay; 0: no 2nd batch
  Micros garpRefresh{0};             // garp_master_refresh; 0: none
  int garpRefreshRepeat = 1;         // garp_master_refresh_repeat
  int garpLowerPrioRepeat = 0;       // garp_lower_prio_repeat
  Micros garpLowerPrioDelay{0};      // garp_lower_prio_delay
  bool lowerPrioNoAdvert = false;    // lower_prio_no_advert
  bool higherPrioSendAdvert = false; // higher_prio_send_advert
};

enum class StateKind { Init, Backup, Master, Fault, Stop };
// "INIT", "BACKUP", "MASTER", "FAULT", "STOP"
const char* stateName(StateKind k);

struct State {
  StateKind kind = StateKind::Init;
  int priority = 0;                  // effective priority
  Micros masterAdverInt{0};          // Master_Adver_Interval (learned in v3)
  MonoTime masterDownAt{};           // BACKUP: Master_Down_Timer deadline
  MonoTime advertAt{};               // MASTER: Adver_Timer deadline
  std::optional<MonoTime> preemptAt; // preempt_delay: accept lower adverts until then
  MonoTime garpRefreshAt{};          // MASTER: next garp_master_refresh
  common::IpAddr masterAddr;         // last master heard (BACKUP)
  int masterPriority = 0;
  bool vipsSet = false;
};

// ---- events ----
struct Startup {
  int priority = 0;     // effective priority at start; 0: the base priority
  bool faulted = false; // a tracker is down (track.h faulted())
};
struct Shutdown {};
struct MasterDownTimerFired {};
struct AdvertTimerFired {};
struct GarpDelayFired {};          // garp_master_delay after becoming MASTER
struct GarpLowerPrioDelayFired {}; // garp_lower_prio_delay after a lower advert
struct AdvertReceived {
  int priority = 0;
  common::IpAddr src;
  Micros advertInterval{0}; // v3: the packet's Max Adver Int; ignored in v2
};
struct PriorityChanged {
  int priority = 0; // the new effective priority
};
struct FaultOn {};
struct FaultOff {};
using Event =
    std::variant<Startup, Shutdown, MasterDownTimerFired, AdvertTimerFired, GarpDelayFired,
                 GarpLowerPrioDelayFired, AdvertReceived, PriorityChanged, FaultOn, FaultOff>;

// ---- actions ----
enum class Timer { MasterDown, Advert, GarpDelay, GarpLowerPrio };
enum class Notify { Master, Backup, Fault, Stop, MasterRxLowerPri };
enum class LogLevel {
  Info,  // keepalived logs it always
  Detail // keepalived logs it only with -D (LOG_DETAIL)
};

struct SendAdvert {
  int priority = 0;
};
struct AddVips {};
struct RemoveVips {};
struct SendGarp {
  int repeat = 1; // GARP (NA) per VIP, back to back
};
struct ArmTimer {
  Timer which;
  MonoTime deadline;
};
struct CancelTimer {
  Timer which;
};
struct RunNotify {
  Notify what;
};
struct Log {
  LogLevel level;
  std::string text;
};
using Action =
    std::variant<SendAdvert, AddVips, RemoveVips, SendGarp, ArmTimer, CancelTimer, RunNotify, Log>;

struct Output {
  State state;
  std::vector<Action> actions;
};

Output step(const Instance& cfg, const State& s, const Event& e, MonoTime now);

// The timing formulas above; `masterAdverInt` is ignored in v2.
Micros skewTime(const Instance& cfg, int priority, Micros masterAdverInt);
Micros masterDownInterval(const Instance& cfg, int priority, Micros masterAdverInt);
// <0, 0, >0 as a is lower, equal or higher than b as an unsigned network-
// order number; 0 also when the families differ (as keepalived).
int compareAddr(const common::IpAddr& a, const common::IpAddr& b);

} // namespace vrrpd::fsm
