// Clock: the only way gpuledger code learns the time (Abseil Clock, Envoy TimeSource).
// SystemClock reads the wall clock; SimulatedClock is set by tests and the simulator.
// SystemClock is thread-safe; SimulatedClock is thread-compatible.
#pragma once

#include "common/time.h"

namespace gpuledger {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs Now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs Now() const override;
};

class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(TimeMs start) : now_(start) {}
  TimeMs Now() const override { return now_; }
  void Advance(DurationMs d) { now_ += d; }
  void Set(TimeMs t) { now_ = t; }

 private:
  TimeMs now_;
};

}  // namespace gpuledger
