#pragma once
// One running vrrp_instance: binds the pure state machine (fsm.h) to timers,
// the VRRP socket, netlink (VIPs), GARP and notify scripts. The machine
// decides; this class only feeds it events with the current time and carries
// out the actions it returns, in order.
#include "common/loop.h"
#include "vrrpd/config.h"
#include "vrrpd/fsm.h"
#include "vrrpd/netlink.h"
#include "vrrpd/arp.h"
#include "vrrpd/packet.h"

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace vrrpd {

class Daemon;
class Channel;

class Instance {
public:
  Instance(Daemon& d, const VrrpInstance& cfg);
  ~Instance();

  // Resolves the interface and addresses and joins the socket; an error
  // names what is missing. Removes VIPs a crash may have left behind.
  common::Result<bool> open();
  void start(int priority, bool faulted);
  // Sends priority 0 and removes the VIPs when MASTER (keepalived's stop).
  void shutdown();

  // From the channel: an advert accepted for this instance.
  void onAdvert(const Advert& a, const common::IpAddr& src);
  // From trackers.
  void setPriority(int effective);
  void setFault(bool on);
  // From the sync group: a transition decided by the group
  // (sync::forceMaster / forceBackup), carried out like the machine's own.
  void follow(bool toMaster);
  // Leaves the channel (before the instance is destroyed).
  void detach();
  // A BACKUP the sync group holds back while it would become MASTER.
  bool wantsMaster() const { return wantsMaster_; }

  const VrrpInstance& cfg() const { return cfg_; }
  const std::string& name() const { return cfg_.name; }
  fsm::StateKind state() const { return st_.kind; }
  int priority() const { return st_.priority; }
  const fsm::State& fsmState() const { return st_; }
  Expectation expectation() const;
  int ifindex() const { return ifindex_; }

  // Counters for the stats dump.
  std::map<std::string, uint64_t> counters;
  uint64_t becameMaster = 0;
  uint64_t releasedMaster = 0;
  uint64_t advertsSent = 0;
  uint64_t advertsReceived = 0;
  uint64_t priorityZeroSent = 0;
  uint64_t priorityZeroReceived = 0;

private:
  void feed(const fsm::Event& e);
  void apply(fsm::Output out);
  void execute(const fsm::Action& a);
  void sendAdvert(int priority);
  void setVips(bool add);
  void sendGarp(int repeat);
  void notify(fsm::Notify what);
  common::Timer& timer(fsm::Timer which);

  Daemon& d_;
  const VrrpInstance cfg_; // a copy: reloads replace the daemon's Config
  fsm::Instance fcfg_;
  fsm::State st_;
  int ifindex_ = 0;
  Mac mac_{};
  common::IpAddr src_;
  Channel* channel_ = nullptr;
  std::array<common::TimerPtr, 4> timers_;
  bool wantsMaster_ = false;
};

} // namespace vrrpd
