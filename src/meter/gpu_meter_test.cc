#include "meter/gpu_meter.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z

Sample S(TimeMs t, float util, int64_t energy = -1, float mem = 1000, float power = -1) {
  Sample s;
  s.t = t;
  s.util_pct = util;
  s.energy_mj = energy;
  s.mem_mib = mem;
  s.power_w = power;
  return s;
}

GpuMeterSetup MakeSetup(std::vector<MeterHold> holds, std::vector<std::string> jobs,
                        Window cap = {kT0, kT0 + kHourMs}) {
  GpuMeterSetup s;
  s.gpu_uuid = "GPU-1";
  s.gpu_model = "A10G";
  s.capacity = cap;
  s.job_ids = std::move(jobs);
  s.holds = std::move(holds);
  s.options.interval_ms = 10 * kSecondMs;
  s.options.max_gap_ms = 30 * kSecondMs;
  return s;
}

const UsageRow* Find(const std::vector<UsageRow>& rows, const std::string& job) {
  for (const auto& r : rows) {
    if (r.job_id == job) return &r;
  }
  return nullptr;
}

TEST(GpuMeter, SampleStandsUntilNextOrMaxGapAndLastForOneInterval) {
  auto m = GpuMeter::Create(MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"}));
  ASSERT_TRUE(m.ok());
  m->Add(S(kT0, 80));
  m->Add(S(kT0 + 10'000, 80));
  m->Add(S(kT0 + 100'000, 50));  // 90 s later: the previous sample covers only max_gap (30 s)
  auto rows = m->Finish();
  const UsageRow* j = Find(rows, "j");
  ASSERT_NE(j, nullptr);
  EXPECT_EQ(j->gpu_ns, kHourMs * kFullShare);                         // allocated: the whole hold
  EXPECT_EQ(j->covered_ns, (10'000 + 30'000 + 10'000) * kFullShare);  // last: one interval
  EXPECT_EQ(j->dense_ns, 40'000 * kFullShare);
}

TEST(GpuMeter, UnallocatedAndAttributedSumToCoveredAndCapacity) {
  // Job a holds [10 min, 40 min) with a half share, job b [20 min, 60 min) with a quarter.
  auto m = GpuMeter::Create(MakeSetup({{0, kT0 + 10 * kMinuteMs, kT0 + 40 * kMinuteMs, 500'000},
                                       {1, kT0 + 20 * kMinuteMs, kT0 + 60 * kMinuteMs, 250'000}},
                                      {"a", "b"}));
  ASSERT_TRUE(m.ok());
  for (TimeMs t = kT0; t < kT0 + kHourMs; t += 10'000) m->Add(S(t, 90));
  auto rows = m->Finish();
  int64_t gpu = 0, covered = 0;
  for (const auto& r : rows) gpu += r.gpu_ns, covered += r.covered_ns;
  EXPECT_EQ(gpu, kHourMs * kFullShare);
  EXPECT_EQ(covered, kHourMs * kFullShare);
  EXPECT_EQ(Find(rows, "a")->gpu_ns, 30 * kMinuteMs * 500'000);
  EXPECT_EQ(Find(rows, "b")->gpu_ns, 40 * kMinuteMs * 250'000);
}

TEST(GpuMeter, RejectsMoreThanOneGpuAtAnInstant) {
  auto m = GpuMeter::Create(MakeSetup(
      {{0, kT0, kT0 + kHourMs, 600'000}, {1, kT0 + kMinuteMs, kT0 + kHourMs, 500'000}}, {"a", "b"}));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("110"), std::string::npos) << m.status().message();
  EXPECT_NE(m.status().message().find("limit 100 %"), std::string::npos);
}

TEST(GpuMeter, EnergyFromCounterDeltasSurvivesAReset) {
  auto m = GpuMeter::Create(MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"}));
  ASSERT_TRUE(m.ok());
  m->Add(S(kT0, 90, 1'000'000));
  m->Add(S(kT0 + 10'000, 90, 3'000'000));             // +2,000,000
  m->Add(S(kT0 + 20'000, 90, 500'000));               // reset: counts 500,000
  m->Add(S(kT0 + 30'000, 90, 1'500'000, 1000, 200));  // +1,000,000; last: 200 W x 10 s
  auto rows = m->Finish();
  EXPECT_EQ(Find(rows, "j")->energy_mj, 2'000'000 + 500'000 + 1'000'000 + 2'000'000);
  EXPECT_EQ(m->stats().counter_resets, 1);
}

TEST(GpuMeter, ACounterDipOfAFewJoulesIsNoiseNotAReset) {
  // Read from a live cluster: the counter dips by 26.8 J between two samples. Counted as
  // a reset it billed the whole counter (4.8e12 mJ, 1,347 kWh for 10 s of one GPU).
  auto m = GpuMeter::Create(MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"}));
  ASSERT_TRUE(m.ok());
  m->Add(S(kT0, 90, 4849626557291));
  m->Add(S(kT0 + 10'000, 90, 4849626530489));  // -26,802 mJ: noise, the interval counts nothing
  m->Add(S(kT0 + 20'000, 90, 4849629230489));  // +2,700,000 mJ from the dipped reading (270 W)
  auto rows = m->Finish();
  EXPECT_EQ(Find(rows, "j")->energy_mj, 2'700'000);
  EXPECT_EQ(Find(rows, "j")->energy_flags, 1);  // the dipped interval, flagged on its line
  EXPECT_EQ(m->stats().energy_dips, 1);
  EXPECT_EQ(m->stats().counter_resets, 0);
}

TEST(GpuMeter, AFlaggedIntervalCountsOnEveryLineItTouchesAndOnceAcrossSlices) {
  // Two jobs share the GPU half and half; the counter dips in [20 s, 30 s) and jumps past
  // the power bound in [30 s, 40 s).
  const std::vector<MeterHold> holds = {{0, kT0, kT0 + kHourMs, 500'000}, {1, kT0, kT0 + kHourMs, 500'000}};
  const std::vector<Sample> samples = {
      S(kT0, 90, 900'000'000'000),          S(kT0 + 10'000, 90, 900'001'000'000),
      S(kT0 + 20'000, 90, 900'002'000'000), S(kT0 + 30'000, 90, 900'001'900'000),   // a dip
      S(kT0 + 40'000, 90, 990'000'000'000), S(kT0 + 50'000, 90, 990'001'000'000)};  // a jump
  auto whole = GpuMeter::Create(MakeSetup(holds, {"a", "b"}));
  ASSERT_TRUE(whole.ok());
  for (const Sample& x : samples) whole->Add(x);
  auto rows = whole->Finish();
  EXPECT_EQ(Find(rows, "a")->energy_flags, 2);
  EXPECT_EQ(Find(rows, "b")->energy_flags, 2);
  EXPECT_EQ(Find(rows, ""), nullptr);  // fully held: no unallocated line to flag
  // Metered as two slices split inside the clamped interval (at 35 s), each fed every
  // sample (the books' slices see past their edges): the interval counts in the slice
  // where it began, not in both.
  int64_t a_flags = 0;
  for (const Window w : {Window{kT0, kT0 + 35'000}, Window{kT0 + 35'000, kT0 + kHourMs}}) {
    auto part = GpuMeter::Create(MakeSetup(holds, {"a", "b"}, w));
    ASSERT_TRUE(part.ok());
    for (const Sample& x : samples) part->Add(x);
    for (const UsageRow& r : part->Finish(/*more_later=*/false)) {
      if (r.job_id == "a") a_flags += r.energy_flags;
    }
  }
  EXPECT_EQ(a_flags, 2);
}

TEST(GpuMeter, ADecreaseIsAResetOnlyWhenAFreshCounterCouldReadTheNewValue) {
  // Over 10 s the 1,500 W default bound allows 15,000,000 mJ: a counter that restarted
  // within the interval reads at most that.
  auto m = GpuMeter::Create(MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"}));
  ASSERT_TRUE(m.ok());
  m->Add(S(kT0, 90, 900'000'000'000));
  m->Add(S(kT0 + 10'000, 90, 15'000'000));  // plausible as fresh: a reset, counted
  m->Add(S(kT0 + 20'000, 90, 17'000'000));  // +2,000,000
  m->Add(S(kT0 + 30'000, 90, 15'000'001));  // a decrease, but not to what a fresh counter reads
  m->Add(S(kT0 + 40'000, 90, 16'000'001));  // +1,000,000
  auto rows = m->Finish();
  EXPECT_EQ(Find(rows, "j")->energy_mj, 15'000'000 + 2'000'000 + 0 + 1'000'000);
  EXPECT_EQ(m->stats().counter_resets, 1);
  EXPECT_EQ(m->stats().energy_dips, 1);
}

TEST(GpuMeter, NoIntervalCountsMoreThanThePowerBoundAllows) {
  auto m = GpuMeter::Create(MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"}));
  ASSERT_TRUE(m.ok());
  m->Add(S(kT0, 90, 1'000'000));
  m->Add(S(kT0 + 10'000, 90, 1'000'000'000'000));  // a jump of 1e12 mJ in 10 s: 1,500 W x 10 s
  m->Add(S(kT0 + 20'000, 90, 1'000'002'000'000));  // +2,000,000: within the bound
  m->Add(S(kT0 + 30'000, 90, -1, 1000, 9'000));    // no counter: power x time, 9 kW read: bound
  auto rows = m->Finish();
  EXPECT_EQ(Find(rows, "j")->energy_mj, 15'000'000 + 2'000'000 + 15'000'000);
  EXPECT_EQ(m->stats().energy_clamped, 2);
  EXPECT_EQ(Find(rows, "j")->energy_flags, 2);
  EXPECT_EQ(m->stats().energy_clamped_mj,
            (1'000'000'000'000 - 1'000'000 - 15'000'000) + (9'000LL * 10'000 - 15'000'000));
}

TEST(GpuMeter, ThePowerBoundIsTheGpusLimitWhenTheCallerKnowsIt) {
  GpuMeterSetup s = MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"});
  s.options.max_power_w = 300;  // an A10G's board power limit
  auto m = GpuMeter::Create(s);
  ASSERT_TRUE(m.ok());
  m->Add(S(kT0, 90, 0));
  m->Add(S(kT0 + 10'000, 90, 5'000'000));  // 500 W for 10 s: counts 300 W x 10 s
  m->Add(S(kT0 + 20'000, 90, 2'000'000));  // a reset: 2,000,000 <= 3,000,000
  auto rows = m->Finish();
  EXPECT_EQ(Find(rows, "j")->energy_mj, 3'000'000 + 2'000'000);
  EXPECT_EQ(m->stats().energy_clamped, 1);
  EXPECT_EQ(m->stats().counter_resets, 1);
}

TEST(GpuMeter, DuplicatesReplaceAndLateSamplesAreDropped) {
  auto m = GpuMeter::Create(MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"}));
  ASSERT_TRUE(m.ok());
  m->Add(S(kT0, 10));
  m->Add(S(kT0, 90));  // same instant: the later one wins
  m->Add(S(kT0 + 10'000, 90));
  m->Add(S(kT0 + 5'000, 0));  // older than the last: dropped
  auto rows = m->Finish();
  EXPECT_EQ(Find(rows, "j")->dense_ns, 20'000 * kFullShare);
  EXPECT_EQ(m->stats().duplicates, 1);
  EXPECT_EQ(m->stats().late, 1);
}

TEST(GpuMeter, PhasesLoadingSteadyTailIdle) {
  auto m = GpuMeter::Create(MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"}));
  ASSERT_TRUE(m.ok());
  TimeMs t = kT0;
  auto run = [&](int n, float util) {
    for (int i = 0; i < n; ++i, t += 10'000) m->Add(S(t, util));
  };
  run(6, 10);  // loading: before the first dense sample
  run(6, 90);  // steady
  run(3, 40);  // a dip between dense samples: steady
  run(6, 90);  // steady
  run(3, 2);   // idle
  run(6, 20);  // tail: low after the last dense sample
  auto rows = m->Finish();
  const UsageRow* j = Find(rows, "j");
  EXPECT_EQ(j->loading_ns, 60'000 * kFullShare);
  EXPECT_EQ(j->steady_ns, 150'000 * kFullShare);
  EXPECT_EQ(j->idle_ns, 30'000 * kFullShare);
  EXPECT_EQ(j->tail_ns, 60'000 * kFullShare);
}

TEST(GpuMeter, CutsSplitPeriodsWithoutLosingTime) {
  GpuMeterSetup s = MakeSetup({{0, kT0, kT0 + kHourMs, kFullShare}}, {"j"});
  s.cuts = {kT0 + 25'000};
  auto m = GpuMeter::Create(s);
  ASSERT_TRUE(m.ok());
  for (TimeMs t = kT0; t < kT0 + 60'000; t += 10'000) m->Add(S(t, 90, (t - kT0) * 10));
  auto rows = m->Finish();
  int64_t covered = 0, energy = 0;
  for (const auto& r : rows) {
    if (r.job_id == "j") covered += r.covered_ns, energy += r.energy_mj;
  }
  EXPECT_EQ(covered, 60'000 * kFullShare);
  EXPECT_EQ(energy, 50'000 * 10);  // counter deltas only; last sample has no power
  EXPECT_EQ(rows.size(), 2u);      // j in each period; the hold leaves no unallocated time
}

// A meter clipped at `end` on a copy equals one whose capacity ends there, whatever is
// fed after the clip: the books keep one meter per open hour and finish a clipped copy at
// each read's as-of (books/open_hour.h).
TEST(GpuMeter, AClippedCopyEqualsAMeterWhoseCapacityEndsThere) {
  const std::vector<MeterHold> holds = {{0, kT0 + 5 * kMinuteMs, kT0 + 50 * kMinuteMs, kFullShare / 2}};
  std::vector<Sample> samples;
  for (int i = 0; i < 40; ++i) {
    samples.push_back(S(kT0 + i * 90 * kSecondMs, static_cast<float>((i * 31) % 100), 1'000 + i * 40'000));
  }
  for (TimeMs end : {kT0 + 1, kT0 + 17 * kMinuteMs + 500, kT0 + 45 * kMinuteMs, kT0 + kHourMs - 1}) {
    GpuMeterSetup whole = MakeSetup(holds, {"j"});
    whole.cuts = {kT0 + 20 * kMinuteMs, kT0 + 50 * kMinuteMs};
    GpuMeterSetup upto = whole;
    upto.capacity.end = end;
    auto base = GpuMeter::Create(whole);
    auto want = GpuMeter::Create(upto);
    ASSERT_TRUE(base.ok() && want.ok());
    for (const Sample& s : samples) {
      want->Add(s);
      if (s.t <= end) base->Add(s);
    }
    GpuMeter copy = *base;
    copy.ClipAt(end);
    for (const Sample& s : samples) {
      if (s.t > end) copy.Add(s);
    }
    const auto a = want->Finish(), b = copy.Finish();
    ASSERT_EQ(a.size(), b.size()) << "clip at " << end - kT0;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].job_id, b[i].job_id);
      EXPECT_EQ(a[i].period_start, b[i].period_start);
      EXPECT_EQ(a[i].period_end, b[i].period_end);
      EXPECT_EQ(a[i].gpu_ns, b[i].gpu_ns);
      EXPECT_EQ(a[i].covered_ns, b[i].covered_ns);
      EXPECT_EQ(a[i].energy_mj, b[i].energy_mj);
      EXPECT_EQ(a[i].dense_ns, b[i].dense_ns);
      EXPECT_EQ(a[i].util_ns, b[i].util_ns);
      EXPECT_EQ(a[i].steady_ns, b[i].steady_ns);
      EXPECT_EQ(a[i].tail_ns, b[i].tail_ns);
      EXPECT_EQ(a[i].loading_ns, b[i].loading_ns);
      EXPECT_EQ(a[i].peak_mem_mib, b[i].peak_mem_mib);
    }
  }
}

}  // namespace
}  // namespace gpuledger
