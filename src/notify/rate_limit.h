// RateLimiter: one channel's sends over sliding windows (at most per_second in any
// second, per_minute in any minute; NOTIFICATIONS.md, "Rate limits"), plus a hold the
// service asked for (429 Retry-After, DingTalk's "send too fast"). It never waits: the
// sender asks when the next send may go and leaves the delivery due until then. Times
// come from the caller's Clock. Pure; thread-compatible.
#pragma once

#include <algorithm>
#include <deque>

#include "common/time.h"
#include "notify/config.h"

namespace gpuledger {

class RateLimiter {
 public:
  explicit RateLimiter(RateLimit r = {}) : r_(r) {}

  // The earliest time at or after `now` a send may go.
  TimeMs NextAllowed(TimeMs now) const {
    TimeMs t = std::max(now, hold_until_);
    auto window = [&](int limit, DurationMs span) {
      if (limit <= 0 || sent_.size() < static_cast<size_t>(limit)) return;
      // The limit-th most recent send leaves the window `span` after it.
      t = std::max(t, sent_[sent_.size() - static_cast<size_t>(limit)] + span);
    };
    window(r_.per_second, kSecondMs);
    window(r_.per_minute, kMinuteMs);
    return t;
  }
  void Record(TimeMs at) {
    sent_.push_back(at);
    const size_t keep = static_cast<size_t>(std::max({r_.per_second, r_.per_minute, 1}));
    while (sent_.size() > keep) sent_.pop_front();
  }
  void HoldUntil(TimeMs t) { hold_until_ = std::max(hold_until_, t); }

 private:
  RateLimit r_;
  std::deque<TimeMs> sent_;  // the latest sends, oldest first
  TimeMs hold_until_ = 0;
};

}  // namespace gpuledger
