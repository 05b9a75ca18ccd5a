// Clock: the only way gpuledger code learns the time (Abseil Clock, Envoy TimeSource).
// SystemClock reads the wall clock; SimulatedClock is set by tests and the simulator.
// Both are thread-safe (a test moves a SimulatedClock while the server's threads read it).
#pragma once

#include <atomic>

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
  TimeMs Now() const override { return now_.load(std::memory_order_relaxed); }
  void Advance(DurationMs d) { now_.fetch_add(d, std::memory_order_relaxed); }
  void Set(TimeMs t) { now_.store(t, std::memory_order_relaxed); }

 private:
  std::atomic<TimeMs> now_;
};

}  // namespace gpuledger
