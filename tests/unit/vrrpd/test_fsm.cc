// The VRRP state machine, driven with injected time: every transition of
// RFC 5798 section 6.4 and keepalived 2.2's additions.
#include "vrrpd/fsm.h"

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

using namespace vrrpd::fsm;
using namespace std::chrono_literals;

namespace {

common::IpAddr ip(const char* s) {
  return common::parseIp(s).value();
}

// One instance and its clock; `acts` holds the actions of the last step.
struct Node {
  Instance cfg;
  State s;
  MonoTime t0 = MonoTime(std::chrono::hours(1));
  MonoTime now = t0;
  std::vector<Action> acts;

  Node(int prio = 100, const char* addr = "198.18.0.11") {
    cfg.priority = prio;
    cfg.address = ip(addr);
  }
  void feed(const Event& e) {
    Output o = step(cfg, s, e, now);
    s = o.state;
    acts = o.actions;
  }
  void at(Micros since0, const Event& e) {
    now = t0 + since0;
    feed(e);
  }
  void start(bool faulted = false) { feed(Startup{0, faulted}); }
  void advert(int prio, const char* from, Micros interval = Micros(0)) {
    feed(AdvertReceived{prio, ip(from), interval});
  }

  template <class T> std::vector<T> all() const {
    std::vector<T> r;
    for (const Action& a : acts)
      if (auto* p = std::get_if<T>(&a)) r.push_back(*p);
    return r;
  }
  std::vector<int> adverts() const {
    std::vector<int> r;
    for (auto& a : all<SendAdvert>())
      r.push_back(a.priority);
    return r;
  }
  std::vector<std::string> logs(LogLevel l = LogLevel::Info) const {
    std::vector<std::string> r;
    for (auto& a : all<Log>())
      if (a.level == l) r.push_back(a.text);
    return r;
  }
  bool logged(const std::string& text, LogLevel l = LogLevel::Info) const {
    for (auto& t : logs(l))
      if (t == text) return true;
    return false;
  }
  std::optional<MonoTime> armed(Timer w) const {
    std::optional<MonoTime> r;
    for (auto& a : all<ArmTimer>())
      if (a.which == w) r = a.deadline;
    return r;
  }
  bool cancelled(Timer w) const {
    for (auto& a : all<CancelTimer>())
      if (a.which == w) return true;
    return false;
  }
  std::vector<Notify> notifies() const {
    std::vector<Notify> r;
    for (auto& a : all<RunNotify>())
      r.push_back(a.what);
    return r;
  }
  template <class T> bool has() const { return !all<T>().empty(); }
  StateKind kind() const { return s.kind; }
};

// Brings a node to MASTER the normal way: startup, then the Master_Down_Timer.
void makeMaster(Node& n) {
  n.start();
  n.now = *n.armed(Timer::MasterDown);
  n.feed(MasterDownTimerFired{});
  REQUIRE(n.kind() == StateKind::Master);
}

constexpr Micros kDown100 = 3s + 609375us; // 3 * 1 s + (256 - 100) / 256 s

} // namespace

// ---- timing formulas ----

TEST_CASE("Master_Down_Interval for advert_int 1 s, priority 100 is 3.609375 s", "[fsm][timing]") {
  Instance v2;
  CHECK(skewTime(v2, 100, 1s) == 609375us);
  CHECK(masterDownInterval(v2, 100, 1s) == kDown100);
  Instance v3;
  v3.version = 3;
  CHECK(skewTime(v3, 100, 1s) == 609375us);
  CHECK(masterDownInterval(v3, 100, 1s) == kDown100);
}

TEST_CASE("v2 Skew_Time counts whole seconds whatever the interval", "[fsm][timing]") {
  Instance v2;
  v2.advertInterval = 2s;
  CHECK(skewTime(v2, 100, 2s) == 609375us);
  CHECK(masterDownInterval(v2, 100, 2s) == 6s + 609375us);
  CHECK(skewTime(v2, 255, 2s) == 3906us); // 1/256 s, truncated
}

TEST_CASE("v3 Skew_Time scales with Master_Adver_Interval in centiseconds", "[fsm][timing]") {
  Instance v3;
  v3.version = 3;
  v3.advertInterval = 100ms;
  // (256 - 100) * 10 cs * 625 / 16 = 60937.5 us, truncated as keepalived
  CHECK(skewTime(v3, 100, 100ms) == 60937us);
  CHECK(masterDownInterval(v3, 100, 100ms) == 300ms + 60937us);
  CHECK(skewTime(v3, 254, 100ms) == 781us);
}

TEST_CASE("addresses compare as unsigned network-order numbers", "[fsm]") {
  CHECK(compareAddr(ip("198.18.0.12"), ip("198.18.0.11")) > 0);
  CHECK(compareAddr(ip("198.18.0.11"), ip("198.18.0.12")) < 0);
  CHECK(compareAddr(ip("198.18.0.11"), ip("198.18.0.11")) == 0);
  // the high bit set must not make an address "negative"
  CHECK(compareAddr(ip("200.0.0.1"), ip("100.0.0.1")) > 0);
  CHECK(compareAddr(ip("10.0.0.2"), ip("10.0.1.1")) < 0); // not byte-swapped
  CHECK(compareAddr(ip("fe80::2"), ip("fe80::1")) > 0);
  CHECK(compareAddr(ip("fe80::2"), ip("198.18.0.1")) == 0);
}

// ---- startup ----

TEST_CASE("startup as BACKUP waits a Master_Down_Interval", "[fsm][startup]") {
  Node n;
  n.start();
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.logs() == std::vector<std::string>{"(VI_1) Entering BACKUP STATE (init)"});
  CHECK(n.notifies() == std::vector<Notify>{Notify::Backup});
  CHECK(n.armed(Timer::MasterDown) == n.t0 + kDown100);
  CHECK(n.adverts().empty());
  CHECK_FALSE(n.has<AddVips>());
}

TEST_CASE("startup with state MASTER below 255 still starts as BACKUP", "[fsm][startup]") {
  Node n;
  n.cfg.initialState = InitialState::Master;
  n.start();
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.logged("(VI_1) Entering BACKUP STATE (init)"));
  CHECK(n.armed(Timer::MasterDown) == n.t0 + kDown100);
}

TEST_CASE("the address owner (255) becomes MASTER at startup", "[fsm][startup]") {
  Node n(255);
  n.cfg.initialState = InitialState::Master;
  n.start();
  CHECK(n.kind() == StateKind::Master);
  CHECK(n.logs() == std::vector<std::string>{"(VI_1) Entering MASTER STATE"});
  // advert first (the old master drops the VIPs), then VIPs, then GARPs
  REQUIRE(n.acts.size() >= 4);
  CHECK(std::get_if<SendAdvert>(&n.acts[1])->priority == 255);
  CHECK(n.adverts() == std::vector<int>{255});
  bool sawVips = false, garpAfterVips = false;
  for (const Action& a : n.acts) {
    if (std::holds_alternative<AddVips>(a)) sawVips = true;
    if (auto* g = std::get_if<SendGarp>(&a)) garpAfterVips = sawVips && g->repeat == 5;
  }
  CHECK(garpAfterVips);
  CHECK(n.notifies() == std::vector<Notify>{Notify::Master});
  CHECK(n.armed(Timer::Advert) == n.t0 + 1s);
  CHECK(n.armed(Timer::GarpDelay) == n.t0 + 5s);
}

TEST_CASE("the address owner is MASTER at startup even without state MASTER", "[fsm][startup]") {
  Node n(255);
  n.start();
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("startup with a tracker down enters FAULT", "[fsm][startup][fault]") {
  Node n(255);
  n.start(true);
  CHECK(n.kind() == StateKind::Fault);
  CHECK(n.logs() == std::vector<std::string>{"(VI_1) Entering FAULT STATE (init)"});
  CHECK(n.notifies() == std::vector<Notify>{Notify::Fault});
  CHECK(n.all<ArmTimer>().empty());
  CHECK(n.adverts().empty());
}

TEST_CASE("startup takes the effective priority the trackers give", "[fsm][startup]") {
  Node n;
  n.feed(Startup{110, false});
  CHECK(n.s.priority == 110);
  CHECK(n.armed(Timer::MasterDown) == n.t0 + 3s + 570312us); // (256-110)/256 s
}

TEST_CASE("events before startup are ignored", "[fsm]") {
  Node n;
  n.advert(100, "198.18.0.12");
  n.feed(MasterDownTimerFired{});
  n.feed(FaultOff{});
  CHECK(n.kind() == StateKind::Init);
  CHECK(n.acts.empty());
}

// ---- BACKUP ----

TEST_CASE("BACKUP becomes MASTER when the Master_Down_Timer expires", "[fsm][backup]") {
  Node n;
  n.start();
  n.at(kDown100, MasterDownTimerFired{});
  CHECK(n.kind() == StateKind::Master);
  CHECK(n.logged("(VI_1) Receive advertisement timeout", LogLevel::Detail));
  CHECK(n.logged("(VI_1) Entering MASTER STATE"));
  CHECK(n.adverts() == std::vector<int>{100});
  CHECK(n.has<AddVips>());
  CHECK(n.cancelled(Timer::MasterDown));
  CHECK(n.armed(Timer::Advert) == n.t0 + kDown100 + 1s);
  CHECK(n.notifies() == std::vector<Notify>{Notify::Master});
}

TEST_CASE("a stale Master_Down_Timer only re-arms", "[fsm][backup]") {
  Node n;
  n.start();
  n.at(2s, AdvertReceived{120, ip("198.18.0.12"), Micros(0)});
  MonoTime deadline = n.t0 + 2s + kDown100;
  CHECK(n.armed(Timer::MasterDown) == deadline);
  n.at(kDown100, MasterDownTimerFired{}); // the old deadline
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.armed(Timer::MasterDown) == deadline);
  n.at(2s + kDown100, MasterDownTimerFired{});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("BACKUP restarts its timer on a higher or equal advert", "[fsm][backup]") {
  Node n;
  n.start();
  n.at(1s, AdvertReceived{150, ip("198.18.0.12"), Micros(0)});
  CHECK(n.armed(Timer::MasterDown) == n.t0 + 1s + kDown100);
  CHECK(n.s.masterPriority == 150);
  CHECK(n.s.masterAddr == ip("198.18.0.12"));
  // equal priority is accepted whatever the address (RFC 6.4.2 (445))
  n.at(2s, AdvertReceived{100, ip("198.18.0.1"), Micros(0)});
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.armed(Timer::MasterDown) == n.t0 + 2s + kDown100);
  CHECK(n.logs().empty());
}

TEST_CASE("v3 with advert_int 0.1 s times out in 0.360937 s", "[fsm][backup][v3]") {
  Node n;
  n.cfg.version = 3;
  n.cfg.advertInterval = 100ms;
  n.start();
  CHECK(n.armed(Timer::MasterDown) == n.t0 + 360937us);
  n.at(360937us, MasterDownTimerFired{});
  CHECK(n.kind() == StateKind::Master);
  CHECK(n.armed(Timer::Advert) == n.t0 + 360937us + 100ms);
}

TEST_CASE("v3 BACKUP learns the master's advert interval", "[fsm][backup][v3]") {
  Node n;
  n.cfg.version = 3;
  n.cfg.advertInterval = 100ms;
  n.start();
  n.at(50ms, AdvertReceived{200, ip("198.18.0.12"), 500ms});
  CHECK(n.s.masterAdverInt == 500ms);
  CHECK(n.logged("(VI_1) advertisement interval updated from 100ms to 500ms by master",
                 LogLevel::Detail));
  // 3 * 0.5 s + (256 - 100) * 50 cs * 625 / 16
  CHECK(n.armed(Timer::MasterDown) == n.t0 + 50ms + 1500ms + 304687us);
  // as MASTER it goes back to its own interval
  n.at(50ms + 1500ms + 304687us, MasterDownTimerFired{});
  CHECK(n.s.masterAdverInt == 100ms);
  CHECK(n.armed(Timer::Advert) == n.now + 100ms);
}

TEST_CASE("v2 ignores the advert interval field", "[fsm][backup]") {
  Node n;
  n.start();
  n.at(0s, AdvertReceived{200, ip("198.18.0.12"), 3s});
  CHECK(n.s.masterAdverInt == 1s);
  CHECK(n.armed(Timer::MasterDown) == n.t0 + kDown100);
}

TEST_CASE("BACKUP hearing priority 0 takes over after Skew_Time", "[fsm][backup]") {
  Node n;
  n.start();
  n.at(1s, AdvertReceived{0, ip("198.18.0.12"), Micros(0)});
  CHECK(n.logged("(VI_1) Backup received priority 0 advertisement"));
  CHECK(n.armed(Timer::MasterDown) == n.t0 + 1s + 609375us);
  n.at(1s + 609375us, MasterDownTimerFired{});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("the higher priority BACKUP takes over first after priority 0", "[fsm][backup]") {
  Node hi(200), lo(100);
  hi.start();
  lo.start();
  hi.at(1s, AdvertReceived{0, ip("198.18.0.1"), Micros(0)});
  lo.at(1s, AdvertReceived{0, ip("198.18.0.1"), Micros(0)});
  CHECK(*hi.armed(Timer::MasterDown) < *lo.armed(Timer::MasterDown));
  CHECK(*hi.armed(Timer::MasterDown) == hi.t0 + 1s + 218750us); // 56/256 s
}

// ---- preemption ----

TEST_CASE("a preempting BACKUP takes over on a lower priority advert", "[fsm][preempt]") {
  Node n(110);
  n.start();
  n.at(1s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  CHECK(n.logged("(VI_1) received lower priority (100) advert from 198.18.0.12 - preempting"));
  CHECK(n.kind() == StateKind::Master);
  CHECK(n.adverts() == std::vector<int>{110});
}

TEST_CASE("keepalived's way: the lower advert is discarded and the timer runs out",
          "[fsm][preempt]") {
  Node n(110);
  n.cfg.preemptOnLowerAdvert = false;
  n.start();
  MonoTime deadline = *n.armed(Timer::MasterDown);
  n.at(1s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  CHECK(n.logged("(VI_1) received lower priority (100) advert from 198.18.0.12 - discarding"));
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.all<ArmTimer>().empty()); // the timer keeps its deadline
  n.now = deadline;
  n.feed(MasterDownTimerFired{});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("nopreempt: a higher BACKUP leaves a lower MASTER alone", "[fsm][preempt]") {
  Node n(110);
  n.cfg.preempt = false;
  n.start();
  for (int i = 1; i <= 10; ++i) {
    n.at(Micros(i * 1000000LL), AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
    CHECK(n.kind() == StateKind::Backup);
    CHECK(n.armed(Timer::MasterDown) == n.now + 3s + 570312us);
  }
  CHECK(n.logs().empty());
}

TEST_CASE("nopreempt does not stop a BACKUP whose master went silent", "[fsm][preempt]") {
  Node n(110);
  n.cfg.preempt = false;
  n.start();
  n.at(1s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  n.at(1s + 3s + 570312us, MasterDownTimerFired{});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("state MASTER clears nopreempt, as keepalived warns", "[fsm][preempt]") {
  Node n(110);
  n.cfg.preempt = false;
  n.cfg.initialState = InitialState::Master;
  n.start();
  n.at(1s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("preempt_delay: lower adverts count as a master until the delay is over",
          "[fsm][preempt]") {
  Node n(110);
  n.cfg.preemptDelay = 5s;
  n.start();
  n.at(1s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  CHECK(n.logged("(VI_1) start preempt delay (5.000000)", LogLevel::Detail));
  CHECK(n.s.preemptAt == n.t0 + 6s);
  for (int i = 2; i <= 5; ++i) {
    n.at(Micros(i * 1000000LL), AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
    CHECK(n.kind() == StateKind::Backup);
    CHECK(n.armed(Timer::MasterDown) == n.now + 3s + 570312us);
  }
  n.at(6s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("preempt_delay stops when a higher master is heard", "[fsm][preempt]") {
  Node n(110);
  n.cfg.preemptDelay = 5s;
  n.start();
  n.at(1s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  n.at(2s, AdvertReceived{120, ip("198.18.0.13"), Micros(0)});
  CHECK(n.logged("(VI_1) stop preempt delay", LogLevel::Detail));
  CHECK_FALSE(n.s.preemptAt);
  // a lower master afterwards starts the delay afresh
  n.at(3s, AdvertReceived{100, ip("198.18.0.12"), Micros(0)});
  CHECK(n.s.preemptAt == n.t0 + 8s);
  CHECK(n.kind() == StateKind::Backup);
}

TEST_CASE("preempt_delay does not delay taking over from a silent master", "[fsm][preempt]") {
  Node n(110);
  n.cfg.preemptDelay = 60s;
  n.start();
  n.at(3s + 570312us, MasterDownTimerFired{});
  CHECK(n.kind() == StateKind::Master);
}

// ---- MASTER ----

TEST_CASE("MASTER sends an advert every interval", "[fsm][master]") {
  Node n;
  makeMaster(n);
  MonoTime next = *n.armed(Timer::Advert);
  n.now = next;
  n.feed(AdvertTimerFired{});
  CHECK(n.adverts() == std::vector<int>{100});
  CHECK(n.armed(Timer::Advert) == next + 1s);
  CHECK(n.logs().empty());
}

TEST_CASE("a stale advert timer only re-arms", "[fsm][master]") {
  Node n;
  makeMaster(n);
  MonoTime next = *n.armed(Timer::Advert);
  n.now = next - 1ms;
  n.feed(AdvertTimerFired{});
  CHECK(n.adverts().empty());
  CHECK(n.armed(Timer::Advert) == next);
}

TEST_CASE("MASTER answers a lower priority advert at once", "[fsm][master]") {
  Node n;
  makeMaster(n);
  n.now += 300ms;
  n.advert(99, "198.18.0.12");
  CHECK(n.logged("(VI_1) Received advert from 198.18.0.12 with lower priority 99, ours 100, "
                 "forcing new election"));
  CHECK(n.adverts() == std::vector<int>{100});
  CHECK(n.armed(Timer::Advert) == n.now + 1s);
  CHECK(n.notifies() == std::vector<Notify>{Notify::MasterRxLowerPri});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("lower_prio_no_advert keeps quiet", "[fsm][master]") {
  Node n;
  n.cfg.lowerPrioNoAdvert = true;
  makeMaster(n);
  n.advert(99, "198.18.0.12");
  CHECK(n.logged("(VI_1) Received advert from 198.18.0.12 with lower priority 99, ours 100"));
  CHECK(n.adverts().empty());
  CHECK(n.all<ArmTimer>().empty());
}

TEST_CASE("garp_lower_prio_repeat refreshes the neighbours on a lower advert", "[fsm][master]") {
  Node n;
  n.cfg.garpLowerPrioRepeat = 2;
  n.cfg.garpLowerPrioDelay = 3s;
  makeMaster(n);
  n.advert(99, "198.18.0.12");
  REQUIRE(n.all<SendGarp>().size() == 1);
  CHECK(n.all<SendGarp>()[0].repeat == 2);
  CHECK(n.armed(Timer::GarpLowerPrio) == n.now + 3s);
  n.now += 3s;
  n.feed(GarpLowerPrioDelayFired{});
  CHECK(n.all<SendGarp>().size() == 1);
}

TEST_CASE("MASTER hearing a higher priority becomes BACKUP", "[fsm][master]") {
  Node n;
  makeMaster(n);
  n.now += 200ms;
  n.advert(101, "198.18.0.12");
  CHECK(n.logs() == std::vector<std::string>{
                        "(VI_1) Master received advert from 198.18.0.12 with higher priority "
                        "101, ours 100",
                        "(VI_1) Entering BACKUP STATE"});
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.adverts().empty()); // no priority 0: the new master is there
  CHECK(n.has<RemoveVips>());
  CHECK_FALSE(n.s.vipsSet);
  CHECK(n.cancelled(Timer::Advert));
  CHECK(n.cancelled(Timer::GarpDelay));
  CHECK(n.notifies() == std::vector<Notify>{Notify::Backup});
  CHECK(n.armed(Timer::MasterDown) == n.now + kDown100);
  CHECK(n.s.masterPriority == 101);
}

TEST_CASE("v3 MASTER yielding takes the new master's interval", "[fsm][master][v3]") {
  Node n;
  n.cfg.version = 3;
  makeMaster(n);
  n.advert(150, "198.18.0.12", 2s);
  CHECK(n.s.masterAdverInt == 2s);
  CHECK(n.logged("(VI_1) advertisement interval updated from 1000ms to 2000ms by new master",
                 LogLevel::Detail));
  CHECK(n.armed(Timer::MasterDown) == n.now + 6s + 1218750us); // 156 * 200 cs * 625/16
}

TEST_CASE("equal priority: the higher address wins", "[fsm][master][tiebreak]") {
  SECTION("theirs is higher: we yield") {
    Node n(100, "198.18.0.11");
    makeMaster(n);
    n.advert(100, "198.18.0.12");
    CHECK(n.logged("(VI_1) Master received advert from 198.18.0.12 with same priority 100 but "
                   "higher IP address than ours"));
    CHECK(n.kind() == StateKind::Backup);
  }
  SECTION("ours is higher: we stay and answer") {
    Node n(100, "198.18.0.12");
    makeMaster(n);
    n.advert(100, "198.18.0.11");
    CHECK(n.logged("(VI_1) Received advert from 198.18.0.11 with lower priority 100, ours 100, "
                   "forcing new election"));
    CHECK(n.kind() == StateKind::Master);
    CHECK(n.adverts() == std::vector<int>{100});
  }
  SECTION("compared as unsigned numbers, not bytes of a signed int") {
    Node n(100, "100.0.0.1");
    makeMaster(n);
    n.advert(100, "200.0.0.1");
    CHECK(n.kind() == StateKind::Backup);
  }
}

TEST_CASE("equal priority from our own address only warns", "[fsm][master][tiebreak]") {
  Node n;
  makeMaster(n);
  n.advert(100, "198.18.0.11");
  CHECK(n.logs() == std::vector<std::string>{"(VI_1) WARNING - equal priority advert received "
                                             "from remote host with our IP address."});
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("two address owners: the one hearing the other steps down", "[fsm][master]") {
  Node n(255);
  n.start();
  n.advert(255, "198.18.0.12");
  CHECK(n.logged("(VI_1) CONFIGURATION ERROR: local instance and a remote instance are both "
                 "configured as address owner, please fix - reducing local priority"));
  CHECK(n.s.priority == 254);
  CHECK(n.kind() == StateKind::Backup);
}

TEST_CASE("MASTER hearing priority 0 sends an advert at once", "[fsm][master]") {
  Node n;
  makeMaster(n);
  n.now += 400ms;
  n.advert(0, "198.18.0.12");
  CHECK(n.adverts() == std::vector<int>{100});
  CHECK(n.armed(Timer::Advert) == n.now + 1s);
  CHECK(n.logged("(VI_1) Master received priority 0 message", LogLevel::Detail));
  CHECK(n.kind() == StateKind::Master);
}

TEST_CASE("higher_prio_send_advert answers before yielding", "[fsm][master]") {
  Node n;
  n.cfg.higherPrioSendAdvert = true;
  makeMaster(n);
  n.advert(150, "198.18.0.12");
  CHECK(n.adverts() == std::vector<int>{100});
  CHECK(n.kind() == StateKind::Backup);
}

TEST_CASE("the second GARP batch goes after garp_master_delay while MASTER", "[fsm][garp]") {
  Node n;
  makeMaster(n);
  MonoTime second = *n.armed(Timer::GarpDelay);
  CHECK(second == n.now + 5s);
  n.now = second;
  n.feed(GarpDelayFired{});
  REQUIRE(n.all<SendGarp>().size() == 1);
  CHECK(n.all<SendGarp>()[0].repeat == 5);
  // not once we lost the VIPs
  n.advert(200, "198.18.0.12");
  n.feed(GarpDelayFired{});
  CHECK(n.all<SendGarp>().empty());
}

TEST_CASE("garp_master_delay 0 sends one batch only", "[fsm][garp]") {
  Node n;
  n.cfg.garpMasterDelay = Micros(0);
  makeMaster(n);
  CHECK_FALSE(n.armed(Timer::GarpDelay));
}

TEST_CASE("garp_master_refresh repeats GARPs with the adverts", "[fsm][garp]") {
  Node n;
  n.cfg.garpRefresh = 10s;
  n.cfg.garpRefreshRepeat = 2;
  makeMaster(n);
  MonoTime became = n.now;
  int batches = 0;
  for (int i = 1; i <= 12; ++i) {
    n.now = became + Micros(i * 1000000LL);
    n.feed(AdvertTimerFired{});
    for (auto& g : n.all<SendGarp>()) {
      CHECK(g.repeat == 2);
      CHECK(i == 11); // the first advert after the 10 s
      ++batches;
    }
  }
  CHECK(batches == 1);
}

// ---- priority changes ----

TEST_CASE("a MASTER whose priority changes sends an advert at once", "[fsm][priority]") {
  Node n;
  makeMaster(n);
  n.now += 250ms;
  n.feed(PriorityChanged{90});
  CHECK(n.logged("(VI_1) Changing effective priority from 100 to 90"));
  CHECK(n.adverts() == std::vector<int>{90});
  CHECK(n.armed(Timer::Advert) == n.now + 1s);
  CHECK(n.s.priority == 90);
  n.now += 1s;
  n.feed(AdvertTimerFired{});
  CHECK(n.adverts() == std::vector<int>{90});
}

TEST_CASE("a BACKUP's running timer moves with its Skew_Time", "[fsm][priority]") {
  Node n;
  n.start();
  n.at(1s, PriorityChanged{150});
  // skew 609375 us -> (256-150)/256 s = 414062 us
  CHECK(n.armed(Timer::MasterDown) == n.t0 + 3s + 414062us);
  n.at(2s, PriorityChanged{100});
  CHECK(n.armed(Timer::MasterDown) == n.t0 + kDown100);
  CHECK(n.adverts().empty());
}

TEST_CASE("an unchanged or owner priority does nothing", "[fsm][priority]") {
  Node n;
  n.start();
  n.feed(PriorityChanged{100});
  CHECK(n.acts.empty());
  Node o(255);
  o.start();
  o.feed(PriorityChanged{100});
  CHECK(o.acts.empty());
  CHECK(o.s.priority == 255);
}

TEST_CASE("a priority drop hands MASTER over to a preempting BACKUP at once", "[fsm][priority]") {
  Node a(100, "198.18.0.11"), b(95, "198.18.0.12");
  makeMaster(a);
  b.now = a.now;
  b.start();
  b.advert(100, "198.18.0.11");
  REQUIRE(b.kind() == StateKind::Backup);
  // a's tracker fails: 100 -> 90
  a.now += 300ms;
  b.now = a.now;
  a.feed(PriorityChanged{90});
  REQUIRE(a.adverts() == std::vector<int>{90});
  b.advert(90, "198.18.0.11");
  CHECK(b.kind() == StateKind::Master);
  REQUIRE(b.adverts() == std::vector<int>{95});
  a.advert(95, "198.18.0.12");
  CHECK(a.kind() == StateKind::Backup);
  CHECK(a.has<RemoveVips>());
}

// ---- fault ----

TEST_CASE("MASTER -> FAULT sends priority 0 and drops the VIPs", "[fsm][fault]") {
  Node n;
  makeMaster(n);
  n.feed(FaultOn{});
  CHECK(n.kind() == StateKind::Fault);
  CHECK(n.logs() == std::vector<std::string>{"(VI_1) Entering FAULT STATE"});
  CHECK(n.adverts() == std::vector<int>{0});
  CHECK(n.has<RemoveVips>());
  CHECK(n.cancelled(Timer::Advert));
  CHECK(n.notifies() == std::vector<Notify>{Notify::Fault});
}

TEST_CASE("BACKUP -> FAULT stops listening", "[fsm][fault]") {
  Node n;
  n.start();
  n.feed(FaultOn{});
  CHECK(n.kind() == StateKind::Fault);
  CHECK(n.adverts().empty());
  CHECK(n.cancelled(Timer::MasterDown));
  CHECK(n.notifies() == std::vector<Notify>{Notify::Fault});
  n.advert(0, "198.18.0.12");
  n.feed(MasterDownTimerFired{});
  n.feed(FaultOn{});
  CHECK(n.acts.empty());
  CHECK(n.kind() == StateKind::Fault);
}

TEST_CASE("FAULT -> BACKUP when the fault clears", "[fsm][fault]") {
  Node n;
  makeMaster(n);
  n.feed(FaultOn{});
  n.now += 10s;
  n.feed(FaultOff{});
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.logs() == std::vector<std::string>{"(VI_1) Entering BACKUP STATE"});
  CHECK(n.notifies() == std::vector<Notify>{Notify::Backup});
  CHECK(n.armed(Timer::MasterDown) == n.now + kDown100);
  n.feed(FaultOff{});
  CHECK(n.acts.empty());
}

TEST_CASE("an owner leaving FAULT goes through BACKUP", "[fsm][fault]") {
  Node n(255);
  n.start(true);
  n.feed(FaultOff{});
  CHECK(n.kind() == StateKind::Backup);
  CHECK(n.armed(Timer::MasterDown) == n.now + 3s + 3906us);
}

TEST_CASE("a FAULT keeps the priority changes for later", "[fsm][fault]") {
  Node n;
  n.start(true);
  n.feed(PriorityChanged{120});
  CHECK(n.adverts().empty());
  n.feed(FaultOff{});
  CHECK(n.armed(Timer::MasterDown) == n.now + 3s + 531250us); // (256-120)/256
}

// ---- shutdown ----

TEST_CASE("MASTER shutdown sends priority 0 and removes the VIPs", "[fsm][shutdown]") {
  Node n;
  makeMaster(n);
  n.feed(Shutdown{});
  CHECK(n.kind() == StateKind::Stop);
  CHECK(n.adverts() == std::vector<int>{0});
  CHECK(n.logged("(VI_1) sent 0 priority", LogLevel::Detail));
  CHECK(n.has<RemoveVips>());
  CHECK(n.cancelled(Timer::Advert));
  CHECK(n.notifies() == std::vector<Notify>{Notify::Stop});
  n.advert(200, "198.18.0.12");
  n.feed(FaultOff{});
  n.feed(Shutdown{});
  CHECK(n.acts.empty());
}

TEST_CASE("BACKUP shutdown is silent on the wire", "[fsm][shutdown]") {
  Node n;
  n.start();
  n.feed(Shutdown{});
  CHECK(n.adverts().empty());
  CHECK_FALSE(n.has<RemoveVips>());
  CHECK(n.cancelled(Timer::MasterDown));
  CHECK(n.notifies() == std::vector<Notify>{Notify::Stop});
}

TEST_CASE("a master's shutdown hands over to the BACKUP after Skew_Time", "[fsm][shutdown]") {
  Node a(150, "198.18.0.11"), b(100, "198.18.0.12");
  makeMaster(a);
  b.now = a.now;
  b.start();
  b.advert(150, "198.18.0.11");
  a.now += 500ms;
  b.now = a.now;
  a.feed(Shutdown{});
  REQUIRE(a.adverts() == std::vector<int>{0});
  b.advert(0, "198.18.0.11");
  MonoTime takeover = *b.armed(Timer::MasterDown);
  CHECK(takeover == b.now + 609375us);
  b.now = takeover;
  b.feed(MasterDownTimerFired{});
  CHECK(b.kind() == StateKind::Master);
}

TEST_CASE("state names", "[fsm]") {
  CHECK(std::string(stateName(StateKind::Master)) == "MASTER");
  CHECK(std::string(stateName(StateKind::Backup)) == "BACKUP");
  CHECK(std::string(stateName(StateKind::Fault)) == "FAULT");
  CHECK(std::string(stateName(StateKind::Init)) == "INIT");
  CHECK(std::string(stateName(StateKind::Stop)) == "STOP");
}
