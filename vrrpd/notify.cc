#include "vrrpd/notify.h"

namespace vrrpd {

void NotifyQueue::push(common::ScriptSpec spec, std::string what) {
  queue_.emplace_back(std::move(spec), std::move(what));
  if (!busy_) next();
}

void NotifyQueue::next() {
  if (queue_.empty()) {
    busy_ = false;
    return;
  }
  busy_ = true;
  auto [spec, what] = std::move(queue_.front());
  queue_.pop_front();
  runner_.run(spec, [this, what = what](const common::ScriptResult& r) {
    if (r.timedOut) log_(what + " timed out");
    else if (r.failedToStart) log_(what + " could not be started");
    else if (r.exited && r.exitCode != 0) log_(what + " exited with status " + std::to_string(r.exitCode));
    else if (!r.exited) log_(what + " was killed by signal " + std::to_string(r.termSignal));
    next();
  });
}

} // namespace vrrpd
