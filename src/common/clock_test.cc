#include "common/clock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790000000000;

// A thread that waits `ms` on the clock, as the server's loops do, and records the answer.
struct Sleeper {
  Sleeper(const Clock& clock, DurationMs ms)
      : thread([this, &clock, ms] {
          MutexLock lock(mu);
          const bool woken = clock.WaitFor(mu, cv, ms, [this]() GL_REQUIRES(mu) { return stop; });
          answer.store(woken ? 1 : 0);
        }) {}
  ~Sleeper() { Join(); }
  void Join() {
    if (thread.joinable()) thread.join();
  }
  void Stop() {
    {
      MutexLock lock(mu);
      stop = true;
    }
    cv.NotifyAll();
  }
  Mutex mu;
  CondVar cv;
  bool stop GL_GUARDED_BY(mu) = false;
  std::atomic<int> answer{-1};  // -1 waiting, 0 the time passed, 1 stopped
  std::thread thread;
};

TEST(SimulatedClock, AWaitEndsWhenTheClockReachesItsDeadlineAndNotBefore) {
  SimulatedClock clock(kT0, SimulatedClock::Waits::kOnThisClock);
  Sleeper s(clock, kMinuteMs);
  ASSERT_TRUE(clock.AwaitWaiters(1));
  ASSERT_TRUE(clock.AdvanceAndSettle(59 * kSecondMs));  // still waiting: settled at once
  EXPECT_EQ(s.answer.load(), -1);
  clock.Advance(kSecondMs);
  ASSERT_TRUE(clock.AwaitWaiters(0));  // its entry gone
  s.Join();
  EXPECT_EQ(s.answer.load(), 0);
}

TEST(SimulatedClock, ANotifiedConditionEndsAWaitWithoutMovingTheClock) {
  SimulatedClock clock(kT0, SimulatedClock::Waits::kOnThisClock);
  Sleeper s(clock, kMinuteMs);
  ASSERT_TRUE(clock.AwaitWaiters(1));
  s.Stop();
  s.Join();
  EXPECT_EQ(s.answer.load(), 1);
  EXPECT_EQ(clock.Now(), kT0);
}

TEST(SimulatedClock, AdvanceAndSettleWaitsForAWokenLoopToWaitAgain) {
  // A loop that does one round of work a minute, like the server's maintenance.
  SimulatedClock clock(kT0, SimulatedClock::Waits::kOnThisClock);
  Mutex mu;
  CondVar cv;
  bool stop = false;
  std::atomic<int> rounds{0};
  std::thread loop([&] {
    MutexLock lock(mu);
    while (!clock.WaitFor(mu, cv, kMinuteMs, [&]() GL_REQUIRES(mu) { return stop; })) ++rounds;
  });
  ASSERT_TRUE(clock.AwaitWaiters(1));
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(clock.AdvanceAndSettle(kMinuteMs));
    EXPECT_EQ(rounds.load(), i);  // exactly one round per minute, none in between
  }
  {
    MutexLock lock(mu);
    stop = true;
  }
  cv.NotifyAll();
  loop.join();
  EXPECT_EQ(rounds.load(), 5);
}

TEST(SimulatedClock, AWaitOfNothingOrPastItsDeadlineReturnsAtOnce) {
  SimulatedClock clock(kT0, SimulatedClock::Waits::kOnThisClock);
  Mutex mu;
  CondVar cv;
  MutexLock lock(mu);
  EXPECT_FALSE(clock.WaitFor(mu, cv, 0, [] { return false; }));
  EXPECT_TRUE(clock.WaitFor(mu, cv, kMinuteMs, [] { return true; }));
}

TEST(SimulatedClock, RealWaitsStillPassInRealTime) {
  // kReal (the default): the clock only tells the time; a wait ends on its own.
  SimulatedClock clock(kT0);
  Mutex mu;
  CondVar cv;
  MutexLock lock(mu);
  EXPECT_FALSE(clock.WaitFor(mu, cv, 1, [] { return false; }));
  EXPECT_EQ(clock.Now(), kT0);
}

}  // namespace
}  // namespace gpuledger
