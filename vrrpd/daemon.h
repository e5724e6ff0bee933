#pragma once
// vrrpd's running state: the configuration, the loop's helpers (netlink,
// script runner, logger), one Channel (raw VRRP socket) per interface and
// source, the instances, and the trackers that move their priorities. No
// mutable globals: everything hangs off this object.
#include "common/log.h"
#include "common/loop.h"
#include "common/script_runner.h"
#include "vrrpd/config.h"
#include "vrrpd/instance.h"
#include "vrrpd/io.h"
#include "vrrpd/netlink.h"
#include "vrrpd/notify.h"
#include "vrrpd/proxy_tracker.h"
#include "vrrpd/script_security.h"
#include "vrrpd/sync_group.h"
#include "vrrpd/track.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vrrpd {

struct RunOptions {
  bool logConsole = false; // -l
  bool logDetail = false;  // -D
  std::string dataFile = "/tmp/keepalived.data";
  std::string statsFile = "/tmp/keepalived.stats";
};

// A raw VRRP socket shared by the instances on one interface (and source
// address): received adverts are decoded against all of them and handed to
// the one they belong to.
class Channel {
public:
  Channel(Daemon& d, std::string key) : d_(d), key_(std::move(key)) {}
  common::Result<bool> open(const SocketSpec& spec);
  void add(Instance* i) { instances_.push_back(i); }
  void remove(Instance* i);
  bool empty() const { return instances_.empty(); }
  common::Result<bool> send(std::span<const uint8_t> bytes, const common::IpAddr& dst);
  uint64_t unknownVrid = 0;

private:
  void onPacket(const RxPacket& p);
  Daemon& d_;
  std::string key_;
  std::unique_ptr<VrrpSocket> sock_;
  std::vector<Instance*> instances_;
  std::string ifname_;
};

class Daemon {
public:
  Daemon(common::Loop& loop, Config cfg, RunOptions opts);
  ~Daemon();

  // Opens netlink, the channels and the instances; an error says what.
  common::Result<bool> open();
  void start();
  // SIGHUP: re-reads `file`. A file with errors is refused (logged) and the
  // running configuration stays. Otherwise instances whose configuration
  // (with the scripts they track, their sync group and global_defs) is
  // unchanged keep running untouched (state, VIPs, timers); changed ones are
  // stopped and started afresh, removed ones stop (priority 0 when MASTER,
  // VIPs removed), added ones start. Unchanged vrrp_scripts keep their state.
  void reload(const std::string& file);
  // TERM: every instance stops (MASTERs send priority 0, VIPs removed),
  // then the loop ends once the stop notifications have run.
  void stop();
  void writeData() const;  // SIGUSR1
  void writeStats() const; // SIGUSR2

  common::Loop& loop() { return loop_; }
  const Config& config() const { return cfg_; }
  Netlink& netlink() { return *nl_; }
  void log(int severity, const std::string& msg) const;
  void detail(const std::string& msg) const; // only with -D
  Channel* channel(const VrrpInstance& cfg, const SocketSpec& spec);
  GarpSender* garp(int ifindex);
  NotifyQueue& notifier() { return *notify_; }
  // The command as it will run (user, PATH-resolved argv[0], extra
  // arguments), or nullopt when script security disabled it.
  std::optional<common::ScriptSpec> scriptSpec(const ScriptCommand& c,
                                               std::vector<std::string> extraArgs) const;

  // Sync groups (sync_group.h), called by a member instance.
  // May `inst` become MASTER now? False holds it in BACKUP.
  bool syncAllowsMaster(const Instance& inst);
  // `inst` went from `before` to its current state.
  void onTransition(Instance& inst, fsm::StateKind before);
  // `inst` changed state or effective priority: told to the proxies it
  // tracks (`set vrrp`).
  void reportState(const Instance& inst);

private:
  struct ScriptState {
    VrrpScript cfg;
    std::string fingerprint;
    TrackedScript track;
    common::TimerPtr timer;
    bool running = false;
    bool disabled = false; // script security: removed from every instance
    common::ScriptSpec spec;
  };
  using ScriptPtr = std::shared_ptr<ScriptState>;
  struct GroupRt {
    SyncGroup cfg;
    std::vector<Instance*> members;
    std::optional<sync::GroupState> state; // nullopt until members settle
    bool fault = false;
  };
  struct User {
    uid_t uid = 0;
    gid_t gid = 0;
  };

  void armScript(const ScriptPtr& s, std::chrono::microseconds after);
  void runScript(const std::weak_ptr<ScriptState>& w);
  void onLink(const LinkInfo& l);
  void recomputeAll();
  // The instance's effective priority now, and whether its own trackers
  // (or its link) hold it in FAULT.
  int effective(const Instance& inst, bool& fault);
  // Instances of `cfg_` are (re)built: scripts, security checks, links,
  // groups. `keep` are running instances to carry over.
  common::Result<bool> build(std::vector<std::unique_ptr<Instance>> keep,
                             std::map<std::string, ScriptPtr> oldScripts, bool reloading);
  void buildProxies(bool start);
  void checkSecurity();
  User scriptUser(const ScriptCommand& c) const;
  void retire(std::unique_ptr<Instance> inst);
  GroupRt* groupOf(const Instance& inst);
  void settleGroup(GroupRt& g);
  void groupNotify(const GroupRt& g, sync::GroupState st);

  common::Loop& loop_;
  Config cfg_;
  RunOptions opts_;
  std::unique_ptr<common::Logger> logger_;
  std::unique_ptr<Netlink> nl_;
  std::unique_ptr<common::ScriptRunner> runner_;
  std::unique_ptr<NotifyQueue> notify_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;
  std::map<int, std::unique_ptr<GarpSender>> garps_;
  std::vector<std::unique_ptr<Instance>> instances_;
  std::map<std::string, ScriptPtr> scripts_;
  struct ProxyRt {
    std::string fingerprint;
    std::unique_ptr<ProxyTracker> tracker;
  };
  std::map<std::string, ProxyRt> proxies_; // track_proxy blocks by name
  std::vector<GroupRt> groups_;
  // notify commands (raw|user) -> runnable spec; absent: disabled
  std::map<std::string, common::ScriptSpec> notifySpecs_;
  std::map<std::string, bool> links_; // interface name -> up
  bool stopping_ = false;
  bool syncing_ = false; // applying a group's forced transitions
  bool started_ = false;
};

} // namespace vrrpd
