#include "meter/compose.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "meter/gpu_meter.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // an hour boundary

struct Totals {
  int64_t gpu = 0, covered = 0, busy = 0, dense = 0, util = 0, energy = 0, mem = 0, loading = 0, steady = 0,
          tail = 0, idle = 0;
  void Add(const UsageRow& r) {
    gpu += r.gpu_ns, covered += r.covered_ns, busy += r.busy_ns, dense += r.dense_ns, util += r.util_ns;
    energy += r.energy_mj, mem = std::max(mem, r.peak_mem_mib), loading += r.loading_ns;
    steady += r.steady_ns, tail += r.tail_ns, idle += r.idle_ns;
  }
  bool operator==(const Totals&) const = default;
};

std::map<std::string, Totals> ByJob(const std::vector<UsageRow>& rows) {
  std::map<std::string, Totals> out;
  for (const UsageRow& r : rows) out[r.job_id].Add(r);
  return out;
}

// One GPU's stream over six hours, metered by one meter, equals the stream metered hour
// by hour (each hour fed the sample before it and the one after it) and composed:
// phases included, whatever the pattern of dense, low and idle samples around the hour
// edges.
TEST(ComposeSpans, HourSlicesComposeToWhatOneMeterSees) {
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    GpuMeterSetup setup;
    setup.gpu_uuid = "GPU-1";
    setup.capacity = {kT0, kT0 + 6 * kHourMs};
    setup.job_ids = {"a", "b"};
    setup.holds = {{0, kT0 + 10 * kMinuteMs, kT0 + 5 * kHourMs, 600'000},
                   {1, kT0 + 2 * kHourMs + 5 * kMinuteMs, kT0 + 7 * kHourMs, 400'000}};
    setup.options.interval_ms = kMinuteMs;
    setup.options.max_gap_ms = 3 * kMinuteMs;
    for (int h = 1; h < 6; ++h) setup.cuts.push_back(kT0 + h * kHourMs);  // pieces split as slices split them
    std::vector<Sample> samples;
    TimeMs t = kT0 - 2 * kMinuteMs;
    int64_t energy = 1'000'000;
    while (t < kT0 + 6 * kHourMs + 5 * kMinuteMs) {
      Sample s;
      s.t = t;
      const uint32_t mode = (t / (17 * kMinuteMs) + rng() % 3) % 4;  // runs of one kind
      s.util_pct = mode == 0 ? 95.0f : mode == 1 ? 30.0f : mode == 2 ? 2.0f : 80.0f;
      s.mem_mib = static_cast<float>(1000 + rng() % 9000);
      energy += 60'000 * 150 + static_cast<int64_t>(rng() % 1000);
      s.energy_mj = energy;
      samples.push_back(s);
      t += kMinuteMs + (rng() % 5 == 0 ? static_cast<int64_t>(rng() % (4 * kMinuteMs)) : 0);
    }
    auto whole = GpuMeter::Create(setup);
    ASSERT_TRUE(whole.ok());
    for (const Sample& s : samples) whole->Add(s);
    const std::vector<UsageRow> one = whole->Finish();

    std::vector<std::vector<UsageRow>> spans;
    for (int h = 0; h < 6; ++h) {
      GpuMeterSetup hs = setup;
      hs.capacity = {kT0 + h * kHourMs, kT0 + (h + 1) * kHourMs};
      hs.cuts.clear();
      auto m = GpuMeter::Create(hs);
      ASSERT_TRUE(m.ok());
      const Sample* before = nullptr;
      for (const Sample& s : samples) {
        if (s.t < hs.capacity.start) before = &s;
      }
      if (before) m->Add(*before);
      for (const Sample& s : samples) {
        if (s.t >= hs.capacity.start) m->Add(s);
        if (s.t >= hs.capacity.end) break;  // the first after the hour closes it
      }
      spans.push_back(m->Finish(/*more_later=*/true));
    }
    // (The stream runs past the capacity, so how its very last sample closes is outside.)
    const std::vector<UsageRow> composed = ComposeSpans(spans);
    const auto want = ByJob(one), got = ByJob(composed);
    ASSERT_EQ(want.size(), got.size()) << "seed " << seed;
    for (const auto& [job, w] : want) {
      EXPECT_TRUE(got.at(job) == w) << "seed " << seed << " job '" << job << "' loading "
                                    << got.at(job).loading << " vs " << w.loading << ", steady "
                                    << got.at(job).steady << " vs " << w.steady << ", tail "
                                    << got.at(job).tail << " vs " << w.tail << ", energy "
                                    << got.at(job).energy << " vs " << w.energy;
    }
  }
}

TEST(ComposeSpans, LowTimeBetweenDenseSpansIsSteadyAndAfterTheLastIsTail) {
  auto row = [](TimeMs period, int64_t dense, int64_t loading, int64_t steady, int64_t tail) {
    UsageRow r;
    r.gpu_uuid = "G";
    r.job_id = "j";
    r.period_start = period;
    r.dense_ns = dense;
    r.loading_ns = loading;
    r.steady_ns = steady;
    r.tail_ns = tail;
    return r;
  };
  // loading 5 | dense, tail 7 | no dense: low 11 | dense: low before it 13, tail 17
  const std::vector<UsageRow> rows = ComposeSpans(
      {{row(0, 0, 5, 0, 0)}, {row(0, 100, 0, 100, 7)}, {row(0, 0, 11, 0, 0)}, {row(0, 100, 13, 100, 17)}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].loading_ns, 5);
  EXPECT_EQ(rows[0].steady_ns, 200 + 7 + 11 + 13);
  EXPECT_EQ(rows[0].tail_ns, 17);
}

}  // namespace
}  // namespace gpuledger
