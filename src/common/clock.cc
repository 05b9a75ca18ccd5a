#include "common/clock.h"

#include <algorithm>
#include <chrono>

namespace gpuledger {

TimeMs SystemClock::Now() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool SystemClock::WaitFor(Mutex& mu, CondVar& cv, DurationMs ms, const std::function<bool()>& pred) const {
  return cv.WaitFor(mu, ms, pred);
}

// Lock order: a waiter holds its `mu` and then takes park_mu_ (to register); Move takes
// park_mu_, lets it go, and only then each waiter's `mu` (to notify). A waiter releases
// its `mu` before it takes park_mu_ again to leave, so neither waits on the other.
bool SimulatedClock::WaitFor(Mutex& mu, CondVar& cv, DurationMs ms,
                             const std::function<bool()>& pred) const GL_NO_THREAD_SAFETY_ANALYSIS {
  if (waits_ == Waits::kReal) return cv.WaitFor(mu, ms, pred);
  const TimeMs deadline = Now() + ms;
  for (;;) {
    if (pred()) return true;
    uint64_t id = 0;
    {
      MutexLock lock(park_mu_);
      if (Now() >= deadline) return false;
      id = next_id_++;
      waiters_.push_back({id, &mu, &cv, deadline, false});
    }
    park_cv_.NotifyAll();
    // Until notified: by whoever makes pred true, or by a Move to the deadline (which takes
    // `mu` to notify, so it cannot slip in between the registration and this wait).
    cv.WaitOnce(mu);
    mu.Unlock();
    {
      MutexLock lock(park_mu_);
      auto mine = [&]() GL_REQUIRES(park_mu_) {
        return std::find_if(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.id == id; });
      };
      park_cv_.Wait(park_mu_, [&]() GL_REQUIRES(park_mu_) { return !mine()->waking; });
      waiters_.erase(mine());
    }
    park_cv_.NotifyAll();
    mu.Lock();
  }
}

void SimulatedClock::Move(int64_t by_or_to, bool relative) {
  std::vector<std::pair<Mutex*, CondVar*>> due;
  std::vector<uint64_t> ids;
  {
    MutexLock lock(park_mu_);
    const TimeMs now = relative ? now_.load() + by_or_to : by_or_to;
    now_.store(now);
    for (Waiter& w : waiters_) {
      if (w.waking || w.deadline > now) continue;
      w.waking = true;
      due.emplace_back(w.mu, w.cv);
      ids.push_back(w.id);
    }
  }
  if (due.empty()) return;
  for (auto [mu, cv] : due) {
    MutexLock lock(*mu);
    cv->NotifyAll();
  }
  {
    MutexLock lock(park_mu_);
    for (Waiter& w : waiters_) {
      if (std::find(ids.begin(), ids.end(), w.id) != ids.end()) w.waking = false;
    }
  }
  park_cv_.NotifyAll();
}

bool SimulatedClock::SettledLocked(size_t n) const {
  for (const Waiter& w : waiters_) {
    if (w.deadline <= Now()) return false;  // one the clock woke, not yet gone
  }
  return waiters_.size() >= n;
}

bool SimulatedClock::AdvanceAndSettle(DurationMs d, DurationMs timeout_ms) {
  size_t before = 0;
  {
    MutexLock lock(park_mu_);
    before = waiters_.size();
  }
  Advance(d);
  return AwaitWaiters(before, timeout_ms);
}

bool SimulatedClock::AwaitWaiters(size_t n, DurationMs timeout_ms) const {
  MutexLock lock(park_mu_);
  return park_cv_.WaitFor(park_mu_, timeout_ms, [&]() GL_REQUIRES(park_mu_) { return SettledLocked(n); });
}

}  // namespace gpuledger
