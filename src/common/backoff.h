// Backoff: capped exponential backoff between attempts at something that failed (a
// reconnect to PostgreSQL). It never waits itself: a caller asks whether an attempt is
// due at the clock's now and, when it is not, answers at once (a 503) instead of
// sleeping. Tests drive it with a SimulatedClock; nothing sleeps. Thread-compatible.
#pragma once

#include <algorithm>

#include "common/time.h"

namespace gpuledger {

struct BackoffOptions {
  DurationMs initial_ms = 50;  // after the first failed attempt
  DurationMs max_ms = 2'000;   // the cap: an attempt at least this often while it fails
  int multiplier = 2;
};

class Backoff {
 public:
  explicit Backoff(BackoffOptions o = {}) : o_(o), delay_ms_(o.initial_ms) {}

  // Whether an attempt may be made at `now`: always before the first failure.
  bool Due(TimeMs now) const { return failures_ == 0 || now >= next_at_ms_; }
  // An attempt at `now` failed: the next is due one delay later, and the delay grows.
  void Failed(TimeMs now) {
    next_at_ms_ = now + delay_ms_;
    delay_ms_ = std::min(o_.max_ms, delay_ms_ * o_.multiplier);
    ++failures_;
  }
  // An attempt succeeded: the next failure starts again from the initial delay.
  void Succeeded() {
    failures_ = 0;
    delay_ms_ = o_.initial_ms;
    next_at_ms_ = 0;
  }

  int failures() const { return failures_; }         // in a row, since the last success
  TimeMs next_at_ms() const { return next_at_ms_; }  // meaningful while failures() > 0

 private:
  BackoffOptions o_;
  DurationMs delay_ms_;
  TimeMs next_at_ms_ = 0;
  int failures_ = 0;
};

}  // namespace gpuledger
