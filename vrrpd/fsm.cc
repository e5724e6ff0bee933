// The VRRP state machine. Each handler names the keepalived function whose
// behaviour it follows; the RFC 5798 line numbers are those of section 6.4.
#include "vrrpd/fsm.h"

#include <arpa/inet.h>
#include <cstdio>
#include <cstring>

namespace vrrpd::fsm {

namespace {

constexpr long long kUsPerSec = 1000000;

// keepalived clears nopreempt and preempt_delay for `state MASTER`
// ("Warning - nopreempt will not work with initial state MASTER - clearing"),
// and an owner always preempts.
bool preemptOn(const Instance& cfg) {
  return cfg.preempt || cfg.initialState == InitialState::Master || cfg.priority == kPrioOwner;
}
Micros preemptDelay(const Instance& cfg) {
  if (cfg.initialState == InitialState::Master || !preemptOn(cfg)) return Micros(0);
  return cfg.preemptDelay;
}

long long toMs(Micros d) {
  return d.count() / 1000;
}

class Machine {
public:
  Machine(const Instance& cfg, const State& s, MonoTime now) : cfg_(cfg), now_(now) {
    out_.state = s;
  }

  Output take() { return std::move(out_); }

  void on(const Startup& e);
  void on(const Shutdown& e);
  void on(const MasterDownTimerFired& e);
  void on(const AdvertTimerFired& e);
  void on(const GarpDelayFired& e);
  void on(const GarpLowerPrioDelayFired& e);
  void on(const AdvertReceived& e);
  void on(const PriorityChanged& e);
  void on(const FaultOn& e);
  void on(const FaultOff& e);

private:
  State& st() { return out_.state; }
  void act(Action a) { out_.actions.push_back(std::move(a)); }
  void log(LogLevel l, const std::string& what) { act(Log{l, "(" + cfg_.name + ") " + what}); }
  void info(const std::string& what) { log(LogLevel::Info, what); }
  void detail(const std::string& what) { log(LogLevel::Detail, what); }

  Micros downInterval() const {
    return masterDownInterval(cfg_, out_.state.priority, out_.state.masterAdverInt);
  }
  void armMasterDown(MonoTime at) {
    st().masterDownAt = at;
    act(ArmTimer{Timer::MasterDown, at});
  }
  void armAdvert() {
    st().advertAt = now_ + cfg_.advertInterval;
    act(ArmTimer{Timer::Advert, st().advertAt});
  }
  void cancelMasterTimers() {
    act(CancelTimer{Timer::Advert});
    act(CancelTimer{Timer::GarpDelay});
    act(CancelTimer{Timer::GarpLowerPrio});
  }
  void learnAdverInt(const AdvertReceived& e, const char* by);
  void sendStop() {
    act(SendAdvert{kPrioStop});
    detail("sent 0 priority");
  }
  void removeVips() {
    act(RemoveVips{});
    st().vipsSet = false;
  }

  void becomeMaster();
  void leaveMasterToBackup();
  void enterFault();
  void enterBackupFromFault();
  void backupRx(const AdvertReceived& e);
  void masterRx(const AdvertReceived& e);
  void masterRxLower(const AdvertReceived& e);

  const Instance& cfg_;
  MonoTime now_;
  Output out_;
};

// vrrp_init_state(): an address owner times out of BACKUP after 1 us, i.e.
// becomes MASTER at once (no "BACKUP STATE (init)" line); anyone else enters
// BACKUP and waits a full Master_Down_Interval, `state MASTER` or not.
void Machine::on(const Startup& e) {
  if (st().kind != StateKind::Init) return;
  st().priority = e.priority > 0 ? e.priority : cfg_.priority;
  st().masterAdverInt = cfg_.advertInterval;
  if (e.faulted) {
    st().kind = StateKind::Fault;
    info("Entering FAULT STATE (init)");
    act(RunNotify{Notify::Fault});
    return;
  }
  if (cfg_.priority == kPrioOwner) {
    becomeMaster();
    return;
  }
  st().kind = StateKind::Backup;
  info("Entering BACKUP STATE (init)");
  act(RunNotify{Notify::Backup});
  armMasterDown(now_ + downInterval());
}

// restore_vrrp_interfaces() on termination: a MASTER warns the others with
// priority 0 (RFC 6.4.3 (650)) and removes its addresses.
void Machine::on(const Shutdown&) {
  StateKind was = st().kind;
  if (was == StateKind::Stop) return;
  if (was == StateKind::Master) {
    sendStop();
    removeVips();
  }
  act(CancelTimer{Timer::MasterDown});
  cancelMasterTimers();
  st().kind = StateKind::Stop;
  if (was != StateKind::Init) act(RunNotify{Notify::Stop});
}

// vrrp_dispatcher_read_timeout() -> vrrp_goto_master(). RFC 6.4.2 (420).
void Machine::on(const MasterDownTimerFired&) {
  if (st().kind != StateKind::Backup) return;
  if (now_ < st().masterDownAt) {
    act(ArmTimer{Timer::MasterDown, st().masterDownAt});
    return;
  }
  detail("Receive advertisement timeout");
  becomeMaster();
}

// vrrp_state_master_tx() for an existing MASTER. RFC 6.4.3 (575).
void Machine::on(const AdvertTimerFired&) {
  if (st().kind != StateKind::Master) return;
  if (now_ < st().advertAt) {
    act(ArmTimer{Timer::Advert, st().advertAt});
    return;
  }
  act(SendAdvert{st().priority});
  if (cfg_.garpRefresh.count() > 0 && now_ > st().garpRefreshAt) {
    act(SendGarp{cfg_.garpRefreshRepeat});
    st().garpRefreshAt = now_ + cfg_.garpRefresh;
  }
  armAdvert();
}

// vrrp_gratuitous_arp_thread(): the second batch, if the VIPs are still ours.
void Machine::on(const GarpDelayFired&) {
  if (st().kind == StateKind::Master && st().vipsSet && cfg_.garpRepeat > 0)
    act(SendGarp{cfg_.garpRepeat});
}

void Machine::on(const GarpLowerPrioDelayFired&) {
  if (st().kind == StateKind::Master && st().vipsSet && cfg_.garpLowerPrioRepeat > 0)
    act(SendGarp{cfg_.garpLowerPrioRepeat});
}

void Machine::on(const AdvertReceived& e) {
  // vrrp_dispatcher_read(): ignored in FAULT and before initialisation.
  if (st().kind == StateKind::Backup)
    backupRx(e);
  else if (st().kind == StateKind::Master)
    masterRx(e);
}

// vrrp_set_effective_priority(). In BACKUP the running Master_Down_Timer
// moves by the change of Skew_Time.
void Machine::on(const PriorityChanged& e) {
  if (cfg_.priority == kPrioOwner || e.priority < 1 || e.priority == st().priority) return;
  int old = st().priority;
  info("Changing effective priority from " + std::to_string(old) + " to " +
       std::to_string(e.priority));
  st().priority = e.priority;
  if (st().kind == StateKind::Backup) {
    Micros oldSkew = skewTime(cfg_, old, st().masterAdverInt);
    Micros newSkew = skewTime(cfg_, e.priority, st().masterAdverInt);
    armMasterDown(st().masterDownAt + (newSkew - oldSkew));
  } else if (st().kind == StateKind::Master) {
    // Ours, not keepalived's: tell the others now, so that a BACKUP that may
    // now preempt (or must now yield) does not wait for the next interval.
    act(SendAdvert{st().priority});
    armAdvert();
  }
}

// down_instance().
void Machine::on(const FaultOn&) {
  if (st().kind == StateKind::Backup || st().kind == StateKind::Master) enterFault();
}

// try_up_instance() -> vrrp_state_leave_fault().
void Machine::on(const FaultOff&) {
  if (st().kind == StateKind::Fault) enterBackupFromFault();
}

// vrrp_state_goto_master() + vrrp_state_master_tx() + vrrp_state_become_master().
// The advert goes first so that the old master drops the VIPs before our
// GARPs arrive. RFC 6.4.2 (425-440).
void Machine::becomeMaster() {
  if (cfg_.version == 3 && st().masterAdverInt != cfg_.advertInterval)
    detail("changing advert interval from " + std::to_string(toMs(st().masterAdverInt)) +
           "ms to locally configured " + std::to_string(toMs(cfg_.advertInterval)) + "ms");
  st().kind = StateKind::Master;
  st().masterAdverInt = cfg_.advertInterval;
  st().preemptAt.reset();
  act(CancelTimer{Timer::MasterDown});
  act(SendAdvert{st().priority});
  info("Entering MASTER STATE");
  act(AddVips{});
  st().vipsSet = true;
  if (cfg_.garpRepeat > 0) act(SendGarp{cfg_.garpRepeat});
  if (cfg_.garpRefresh.count() > 0) st().garpRefreshAt = now_ + cfg_.garpRefresh;
  act(RunNotify{Notify::Master});
  armAdvert();
  if (cfg_.garpMasterDelay.count() > 0)
    act(ArmTimer{Timer::GarpDelay, now_ + cfg_.garpMasterDelay});
}

// vrrp_state_leave_master() with wantstate BACKUP: no priority 0 advert, the
// new master is already there. RFC 6.4.3 (680-700).
void Machine::leaveMasterToBackup() {
  info("Entering BACKUP STATE");
  st().kind = StateKind::Backup;
  st().preemptAt.reset();
  cancelMasterTimers();
  removeVips();
  act(RunNotify{Notify::Backup});
  armMasterDown(now_ + downInterval());
}

// down_instance(): vrrp_state_leave_master(FAULT) or vrrp_state_leave_fault().
void Machine::enterFault() {
  bool wasMaster = st().kind == StateKind::Master;
  info("Entering FAULT STATE");
  st().kind = StateKind::Fault;
  if (wasMaster) {
    sendStop();
    cancelMasterTimers();
    removeVips();
  } else {
    act(CancelTimer{Timer::MasterDown});
  }
  st().masterAdverInt = cfg_.advertInterval;
  st().preemptAt.reset();
  act(RunNotify{Notify::Fault});
}

// try_up_instance() leaves FAULT for BACKUP (wantstate was set to FAULT by
// down_instance(), so even an owner goes through BACKUP).
void Machine::enterBackupFromFault() {
  info("Entering BACKUP STATE");
  st().kind = StateKind::Backup;
  st().masterAdverInt = cfg_.advertInterval;
  st().preemptAt.reset();
  act(RunNotify{Notify::Backup});
  armMasterDown(now_ + downInterval());
}

void Machine::learnAdverInt(const AdvertReceived& e, const char* by) {
  if (cfg_.version != 3 || e.advertInterval.count() <= 0) return;
  if (e.advertInterval == st().masterAdverInt) return;
  detail("advertisement interval updated from " + std::to_string(toMs(st().masterAdverInt)) +
         "ms to " + std::to_string(toMs(e.advertInterval)) + "ms by " + by);
  st().masterAdverInt = e.advertInterval;
}

// vrrp_state_backup(). RFC 6.4.2 (440-470).
void Machine::backupRx(const AdvertReceived& e) {
  if (e.priority == kPrioStop) {
    info("Backup received priority 0 advertisement");
    armMasterDown(now_ + skewTime(cfg_, st().priority, st().masterAdverInt));
    return;
  }
  Micros delay = preemptDelay(cfg_);
  bool inPreemptDelay = delay.count() > 0 && (!st().preemptAt || *st().preemptAt > now_);
  if (!preemptOn(cfg_) || e.priority >= st().priority || inPreemptDelay) {
    learnAdverInt(e, "master");
    st().masterAddr = e.src;
    st().masterPriority = e.priority;
    if (delay.count() > 0) {
      if (e.priority >= st().priority) {
        if (st().preemptAt) {
          detail("stop preempt delay");
          st().preemptAt.reset();
        }
      } else if (!st().preemptAt) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "start preempt delay (%lld.%06lld)",
                      static_cast<long long>(delay.count() / kUsPerSec),
                      static_cast<long long>(delay.count() % kUsPerSec));
        detail(buf);
        st().preemptAt = now_ + delay;
      }
    }
    armMasterDown(now_ + downInterval());
    return;
  }
  // A lower priority master and we may preempt.
  st().masterAddr = e.src;
  std::string head =
      "received lower priority (" + std::to_string(e.priority) + ") advert from " + e.src.str();
  if (cfg_.preemptOnLowerAdvert) {
    info(head + " - preempting");
    becomeMaster();
    return;
  }
  // keepalived: discard it; the Master_Down_Timer keeps running.
  info(head + " - discarding");
}

// vrrp_state_master_rx(). RFC 6.4.3 (650-700).
void Machine::masterRx(const AdvertReceived& e) {
  int cmp = compareAddr(e.src, cfg_.address);
  bool higher = e.priority > st().priority || (e.priority == st().priority && cmp > 0);
  if (e.priority == kPrioStop || (cfg_.higherPrioSendAdvert && higher)) {
    act(SendAdvert{st().priority});
    if (!cfg_.lowerPrioNoAdvert) armAdvert();
    if (e.priority == kPrioStop) {
      detail("Master received priority 0 message");
      return;
    }
  }
  if (e.priority == st().priority) {
    if (cmp == 0) {
      info("WARNING - equal priority advert received from remote host with our IP address.");
    } else if (st().priority == kPrioOwner) {
      info("CONFIGURATION ERROR: local instance and a remote instance are both configured as "
           "address owner, please fix - reducing local priority");
      st().priority = kPrioOwner - 1;
    }
  }
  if (e.priority < st().priority || (e.priority == st().priority && cmp < 0)) {
    masterRxLower(e);
    return;
  }
  if (e.priority > st().priority || (e.priority == st().priority && cmp > 0)) {
    if (e.priority > st().priority)
      info("Master received advert from " + e.src.str() + " with higher priority " +
           std::to_string(e.priority) + ", ours " + std::to_string(st().priority));
    else
      info("Master received advert from " + e.src.str() + " with same priority " +
           std::to_string(e.priority) + " but higher IP address than ours");
    learnAdverInt(e, "new master");
    st().masterAddr = e.src;
    st().masterPriority = e.priority;
    leaveMasterToBackup();
  }
}

// A lower priority router thinks it is master (it missed our adverts):
// answer at once so that it goes back to BACKUP, refresh the neighbours'
// ARP caches if configured, and fire notify_master_rx_lower_pri.
void Machine::masterRxLower(const AdvertReceived& e) {
  info("Received advert from " + e.src.str() + " with lower priority " +
       std::to_string(e.priority) + ", ours " + std::to_string(st().priority) +
       (cfg_.lowerPrioNoAdvert ? "" : ", forcing new election"));
  if (!cfg_.lowerPrioNoAdvert) {
    act(SendAdvert{st().priority});
    armAdvert();
  }
  if (cfg_.garpLowerPrioRepeat > 0) {
    act(SendGarp{cfg_.garpLowerPrioRepeat});
    if (cfg_.garpLowerPrioDelay.count() > 0)
      act(ArmTimer{Timer::GarpLowerPrio, now_ + cfg_.garpLowerPrioDelay});
  }
  act(RunNotify{Notify::MasterRxLowerPri});
}

} // namespace

const char* stateName(StateKind k) {
  switch (k) {
  case StateKind::Init:
    return "INIT";
  case StateKind::Backup:
    return "BACKUP";
  case StateKind::Master:
    return "MASTER";
  case StateKind::Fault:
    return "FAULT";
  case StateKind::Stop:
    return "STOP";
  }
  return "?";
}

// keepalived's VRRP_TIMER_SKEW: v3 in centiseconds * 625 / 16, which is the
// same as microseconds / 256; v2 counts whole seconds.
Micros skewTime(const Instance& cfg, int priority, Micros masterAdverInt) {
  long long weight = 256 - priority;
  if (cfg.version == 3) return Micros(weight * masterAdverInt.count() / 256);
  return Micros(weight * kUsPerSec / 256);
}

Micros masterDownInterval(const Instance& cfg, int priority, Micros masterAdverInt) {
  Micros adv = cfg.version == 3 ? masterAdverInt : cfg.advertInterval;
  return 3 * adv + skewTime(cfg, priority, masterAdverInt);
}

int compareAddr(const common::IpAddr& a, const common::IpAddr& b) {
  if (a.family != b.family) return 0;
  if (a.family == AF_INET) {
    uint32_t x = ntohl(a.v4.s_addr), y = ntohl(b.v4.s_addr);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.family == AF_INET6) {
    int c = std::memcmp(&a.v6, &b.v6, sizeof a.v6);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  return 0;
}

Output step(const Instance& cfg, const State& s, const Event& e, MonoTime now) {
  Machine m(cfg, s, now);
  std::visit([&](const auto& ev) { m.on(ev); }, e);
  return m.take();
}

} // namespace vrrpd::fsm
