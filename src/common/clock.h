// Clock: the only way gpuledger code learns the time (Abseil Clock, Envoy TimeSource), and
// the only way its threads wait for time to pass (Envoy's TimeSystem::waitFor).
// SystemClock reads and waits on the wall clock; SimulatedClock is set by tests and the
// simulator, and can make waits end when it is moved (Envoy's SimulatedTimeSystem), so a
// test drives a background thread's "every minute" without sleeping.
// Both are thread-safe (a test moves a SimulatedClock while the server's threads read it).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <vector>

#include "common/mutex.h"
#include "common/time.h"

namespace gpuledger {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimeMs Now() const = 0;
  // Waits, with `mu` held on entry and on return (released while blocked), until `pred`
  // (checked with `mu` held) is true or `ms` of this clock's time have passed; false on the
  // time. Whoever makes pred true notifies `cv` with `mu` held or after releasing it.
  virtual bool WaitFor(Mutex& mu, CondVar& cv, DurationMs ms, const std::function<bool()>& pred) const
      GL_REQUIRES(mu) = 0;
};

class SystemClock final : public Clock {
 public:
  TimeMs Now() const override;
  bool WaitFor(Mutex& mu, CondVar& cv, DurationMs ms, const std::function<bool()>& pred) const override
      GL_REQUIRES(mu);
};

class SimulatedClock final : public Clock {
 public:
  // kReal: waits take real time (the clock only tells the time: the simulator, and tests
  // whose background threads keep real intervals). kOnThisClock: a wait ends when Advance
  // or Set moves the clock to its deadline, never by itself.
  enum class Waits { kReal, kOnThisClock };
  explicit SimulatedClock(TimeMs start, Waits waits = Waits::kReal) : now_(start), waits_(waits) {}
  TimeMs Now() const override { return now_.load(std::memory_order_relaxed); }
  void Advance(DurationMs d) { Move(d, true); }
  void Set(TimeMs t) { Move(t, false); }
  bool WaitFor(Mutex& mu, CondVar& cv, DurationMs ms, const std::function<bool()>& pred) const override
      GL_REQUIRES(mu);
  // kOnThisClock: moves the clock by `d`, then blocks (in real time, at most timeout_ms)
  // until every thread the move woke is waiting on this clock again: as many waiting as
  // before the move, none of them past its deadline. False on the timeout (a woken thread
  // that does not wait again: it ended, or it is stuck).
  bool AdvanceAndSettle(DurationMs d, DurationMs timeout_ms = 10 * kSecondMs);
  // kOnThisClock: blocks (real time, at most timeout_ms) until `n` threads wait on this
  // clock with deadlines ahead of it; false on the timeout.
  bool AwaitWaiters(size_t n, DurationMs timeout_ms = 10 * kSecondMs) const;

 private:
  struct Waiter {
    uint64_t id;
    Mutex* mu;
    CondVar* cv;
    TimeMs deadline;
    bool waking;  // a Move is notifying it: its entry (and mu, cv) must stay until it is done
  };
  void Move(int64_t by_or_to, bool relative);
  bool SettledLocked(size_t n) const GL_REQUIRES(park_mu_);

  std::atomic<TimeMs> now_;
  const Waits waits_;
  mutable Mutex park_mu_;
  mutable CondVar park_cv_;  // a waiter came, went, or finished being woken
  mutable std::vector<Waiter> waiters_ GL_GUARDED_BY(park_mu_);
  mutable uint64_t next_id_ GL_GUARDED_BY(park_mu_) = 0;
};

}  // namespace gpuledger
