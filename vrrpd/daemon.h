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
  common::ScriptSpec scriptSpec(const ScriptCommand& c, std::vector<std::string> extraArgs) const;

private:
  struct ScriptState {
    const VrrpScript* cfg;
    TrackedScript track;
    common::TimerPtr timer;
    bool running = false;
  };
  void runScript(size_t i);
  void onLink(const LinkInfo& l);
  void recompute(Instance& inst);
  // The instance's effective priority now, and whether a tracker (or its
  // link) holds it in FAULT.
  int effective(const Instance& inst, bool& fault);

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
  std::vector<ScriptState> scripts_;
  std::map<std::string, bool> links_; // interface name -> up
  bool stopping_ = false;
};

} // namespace vrrpd
