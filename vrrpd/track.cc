#include "vrrpd/track.h"

#include <algorithm>

namespace vrrpd {

namespace {
constexpr int kPrioOwner = 255;
} // namespace

TrackedScript::TrackedScript(int rise, int fall, bool initFail)
    : rise_(std::max(rise, 1)), fall_(std::max(fall, 1)), result_(initFail ? 0 : rise_ - 1),
      init_(!initFail) {}

TrackStatus TrackedScript::status() const {
  if (init_) return TrackStatus::Init;
  return result_ >= rise_ ? TrackStatus::Ok : TrackStatus::Failed;
}

bool TrackedScript::record(bool ok) {
  TrackStatus before = status();
  if (ok) {
    if (result_ < rise_ - 1)
      ++result_;
    else
      result_ = rise_ + fall_ - 1;
  } else {
    if (result_ > rise_)
      --result_;
    else
      result_ = 0;
  }
  init_ = false;
  return status() != before;
}

int trackerWeight(const Tracker& t) {
  if (t.weight == 0 || t.status == TrackStatus::Init) return 0;
  bool ok = t.status == TrackStatus::Ok;
  int c = t.weight > 0 ? (ok ? t.weight : 0) : (ok ? 0 : t.weight);
  return t.reverse ? -c : c;
}

int effectivePriority(int base, std::span<const Tracker> trackers) {
  if (base >= kPrioOwner) return kPrioOwner;
  int total = base;
  for (const Tracker& t : trackers)
    total += trackerWeight(t);
  return std::clamp(total, 1, kPrioOwner - 1);
}

bool faulted(std::span<const Tracker> trackers) {
  for (const Tracker& t : trackers) {
    if (t.weight != 0) continue;
    if (t.status == TrackStatus::Init) return true;
    bool failing = t.status == TrackStatus::Failed;
    if (failing != t.reverse) return true;
  }
  return false;
}

} // namespace vrrpd
