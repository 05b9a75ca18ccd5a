#include "meter/minute_rollup.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

TEST(MinuteRoller, AveragesWithinMinutesAndKeepsMaxima) {
  MinuteRoller r({kT0, kT0 + 3 * kMinuteMs});
  for (int i = 0; i < 12; ++i) {  // 10 s samples over two minutes
    Sample s;
    s.t = kT0 + i * 10'000;
    s.util_pct = i < 6 ? 50.0f : 100.0f;
    s.mem_mib = static_cast<float>(1000 + i);
    s.power_w = 200;
    r.Add(s);
  }
  Sample late;
  late.t = kT0 + 5'000;
  r.Add(late);  // dropped
  Sample outside;
  outside.t = kT0 + 3 * kMinuteMs;
  r.Add(outside);  // past the window
  auto rows = r.Finish();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].minute_ms, kT0);
  EXPECT_EQ(rows[0].samples, 6);
  EXPECT_FLOAT_EQ(rows[0].util_mean_pct, 50);
  EXPECT_FLOAT_EQ(rows[1].util_max_pct, 100);
  EXPECT_FLOAT_EQ(rows[1].mem_max_mib, 1011);
  EXPECT_FLOAT_EQ(rows[1].power_mean_w, 200);
}

}  // namespace
}  // namespace gpuledger
