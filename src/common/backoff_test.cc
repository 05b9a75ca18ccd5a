#include "common/backoff.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(Backoff, FirstAttemptIsAlwaysDueThenDelaysDoubleUpToTheCap) {
  Backoff b({.initial_ms = 100, .max_ms = 1'000, .multiplier = 2});
  TimeMs now = 1'000'000;
  EXPECT_TRUE(b.Due(now));
  const DurationMs expected[] = {100, 200, 400, 800, 1'000, 1'000};
  for (DurationMs d : expected) {
    b.Failed(now);
    EXPECT_FALSE(b.Due(now));
    EXPECT_FALSE(b.Due(now + d - 1)) << "delay " << d;
    EXPECT_TRUE(b.Due(now + d)) << "delay " << d;
    now += d;
  }
  EXPECT_EQ(b.failures(), 6);
}

TEST(Backoff, SuccessStartsAgainFromTheInitialDelay) {
  Backoff b({.initial_ms = 100, .max_ms = 1'000, .multiplier = 2});
  b.Failed(0);
  b.Failed(100);
  b.Failed(300);
  b.Succeeded();
  EXPECT_TRUE(b.Due(300));
  EXPECT_EQ(b.failures(), 0);
  b.Failed(300);
  EXPECT_TRUE(b.Due(400));
}

}  // namespace
}  // namespace gpuledger
