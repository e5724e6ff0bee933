#pragma once
#include "common/loop.h"

#include <memory>

namespace proxyd {

// Unregisters a watcher now (so its fd may be closed and the number reused
// safely) and destroys it after the current callback returns: it may be the
// watcher whose callback is running.
inline void retire(common::Loop& loop, common::FdWatcherPtr& w) {
  if (!w) return;
  w->want(0);
  std::shared_ptr<common::FdWatcher> old(std::move(w));
  loop.defer([old] {});
}

} // namespace proxyd
