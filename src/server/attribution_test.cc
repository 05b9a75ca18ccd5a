#include "server/attribution.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

TEST(SightingBuffer, WritesNewSpansAtOnceAndGrowthAtMostOncePerIntervalOfTheServersClock) {
  testing::TempDir dir;
  auto ledger = OpenSqliteLedger(dir.path() + "/l.db");
  ASSERT_TRUE(ledger.ok());
  Ledger& l = **ledger;
  SightingBuffer buf;
  auto in_ledger = [&] {
    auto s = l.FindSightings("pod", "train-1");
    EXPECT_TRUE(s.ok());
    return s.ok() && !s->empty() ? std::make_pair((*s)[0].first_ms, (*s)[0].last_ms)
                                 : std::make_pair(TimeMs{0}, TimeMs{0});
  };
  // What the server does: Add per accepted batch, TakeChanged once its samples are stored.
  auto seen = [&](TimeMs first, TimeMs last, TimeMs now) {
    buf.Add({{"GPU-1", "pod", "train-1", first, last}});
    auto changed = buf.TakeChanged(l, now);
    EXPECT_TRUE(changed.ok());
    return changed.ok() ? changed->size() : 0;
  };
  const TimeMs now = kT0 + kDayMs;  // the server's clock, apart from the samples' times
  EXPECT_EQ(seen(kT0, kT0, now), 1u);
  EXPECT_EQ(in_ledger(), std::make_pair(kT0, kT0));  // new: written at once
  // A sender catching up: ten minutes of samples within one second.
  for (int i = 1; i <= 60; ++i) EXPECT_EQ(seen(kT0 + i * 10'000, kT0 + i * 10'000, now + i * 16), 1u);
  EXPECT_EQ(in_ledger(), std::make_pair(kT0, kT0));  // grown, but not a minute since the write
  EXPECT_EQ(buf.pending(), 1u);
  EXPECT_EQ(seen(kT0 + 300'000, kT0 + 300'000, now + 1000), 0u) << "inside the span: nothing changed";
  // Readers see the whole span anyway.
  auto found = buf.Find(l, "pod", "train-1");
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0].last_ms, kT0 + 600'000);
  seen(kT0 + 610'000, kT0 + 610'000, now + kMinuteMs);
  EXPECT_EQ(in_ledger(), std::make_pair(kT0, kT0 + 610'000));  // a minute on: written
  seen(kT0 + 620'000, kT0 + 620'000, now + kMinuteMs + 1);
  seen(kT0 - 10'000, kT0 - 10'000, now + kMinuteMs + 2);
  EXPECT_EQ(in_ledger().first, kT0 - 10'000);  // reaching earlier: written at once
  ASSERT_TRUE(buf.Flush(l, now + kMinuteMs + 3).ok());
  EXPECT_EQ(in_ledger(), std::make_pair(kT0 - 10'000, kT0 + 620'000));
  EXPECT_EQ(buf.pending(), 0u);
}

}  // namespace
}  // namespace gpuledger
