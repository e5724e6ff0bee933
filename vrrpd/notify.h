#pragma once
// Notify scripts, run off the loop and strictly in transition order: one
// script at a time per queue, each with a timeout, so a slow notify_master
// never lets a later notify_backup overtake it. keepalived's arguments are
// appended to the generic `notify` script: INSTANCE|GROUP, name, state,
// priority.
#include "common/script_runner.h"

#include <deque>
#include <functional>
#include <string>

namespace vrrpd {

class NotifyQueue {
public:
  using Logger = std::function<void(const std::string&)>;
  NotifyQueue(common::ScriptRunner& runner, Logger log) : runner_(runner), log_(std::move(log)) {}
  // Queues `spec`; it starts when every earlier script has ended.
  void push(common::ScriptSpec spec, std::string what);
  size_t pending() const { return queue_.size() + (busy_ ? 1 : 0); }

private:
  void next();
  common::ScriptRunner& runner_;
  Logger log_;
  std::deque<std::pair<common::ScriptSpec, std::string>> queue_;
  bool busy_ = false;
};

} // namespace vrrpd
