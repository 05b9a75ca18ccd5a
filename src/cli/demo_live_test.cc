#include "cli/demo_live.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

GpuSample At(const std::string& gpu, TimeMs t, int64_t energy_mj) {
  Sample s;
  s.t = t;
  s.util_pct = 80;
  s.mem_mib = 9000;
  s.power_w = 250;
  s.energy_mj = energy_mj;
  s.sm_active = 0.7f;
  return {gpu, s};
}

TEST(IdleAfterStop, TheStoppedRunsGpusReadIdleFromTheStopAndTheirCounterRisesByTheIdleDraw) {
  std::vector<GpuSample> samples = {At("g1", 1000, 5'000'000), At("g2", 1000, 7'000'000),
                                    At("g1", 61000, 20'000'000), At("g2", 61000, 22'000'000),
                                    At("g1", 121000, 35'000'000), At("g2", 121000, 37'000'000)};
  // g1's run stopped at 50 s; its first sample was sent already (index 2 on are not).
  IdleAfterStop(samples, 2, {"g1"}, 50'000, {{"g1", 24.0}, {"g2", 62.0}}, {{"g1", {1000, 5'000'000}}});
  EXPECT_EQ(samples[0].sample.util_pct, 80);  // before `from`: as it was
  for (size_t i : {2u, 4u}) {
    const Sample& s = samples[i].sample;
    EXPECT_EQ(s.util_pct, 0);
    EXPECT_EQ(s.mem_mib, 0);
    EXPECT_EQ(s.power_w, 24.0f);
    EXPECT_EQ(s.sm_active, 0.0f);
  }
  EXPECT_EQ(samples[2].sample.energy_mj, 5'000'000 + 24 * 60'000);  // W x ms from the last sent
  EXPECT_EQ(samples[4].sample.energy_mj, 5'000'000 + 24 * 120'000);
  for (size_t i : {3u, 5u}) EXPECT_EQ(samples[i].sample.util_pct, 80);  // g2 runs on
  EXPECT_EQ(samples[5].sample.energy_mj, 37'000'000);
}

TEST(IdleAfterStop, SamplesBeforeTheStopAndAGpuNeverSentKeepWhatTheyRead) {
  std::vector<GpuSample> samples = {At("g1", 10'000, 1'000), At("g1", 70'000, 9'000)};
  IdleAfterStop(samples, 0, {"g1"}, 60'000, {{"g1", 10.0}}, {});
  EXPECT_EQ(samples[0].sample.util_pct, 80);  // before the stop
  EXPECT_EQ(samples[1].sample.util_pct, 0);
  // Nothing sent before: the counter goes on from where the sample reads, by 10 W x 0 ms.
  EXPECT_EQ(samples[1].sample.energy_mj, 9'000);
}

}  // namespace
}  // namespace gpuledger
