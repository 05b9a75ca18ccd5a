// Raw-sample retention over a simulated cluster in a real SQLite ledger (samples sealed
// in hourly chunks): dropping raw samples past the horizon leaves every month's books,
// minute rollups and the samples inside the horizon as they were.
#include "books/retention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

#include "common/test_util.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

SimOptions TwoMonths() {
  SimOptions o;
  o.seed = 7;
  o.month = {2026, 11};  // October and November
  o.sample_interval_ms = 5 * kMinuteMs;
  o.a10g_nodes = 1;
  o.a100_nodes = 0;
  o.gpus_per_node = 2;
  o.load = 0.2;
  return o;
}

int64_t CountSamples(Ledger& l, const std::string& uuid) {
  int64_t n = 0;
  EXPECT_TRUE(l.ScanSamples(uuid, {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++n; }).ok());
  return n;
}

int64_t CountAll(Ledger& l, const std::vector<Gpu>& gpus) {
  int64_t n = 0;
  for (const Gpu& g : gpus) n += CountSamples(l, g.uuid);
  return n;
}

TEST(Retention, DropsRawSamplesButKeepsBooksAndRollups) {
  testing::TempDir dir;
  auto sim = testing::LoadSimulation(dir.path() + "/l.db", TwoMonths(), "UTC");
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  Ledger& ledger = *sim->ledger;
  auto ctx = LoadBooksContext(ledger);
  ASSERT_TRUE(ctx.ok());
  const std::string gpu = sim->cluster.gpus[0].uuid;
  std::vector<Sample> all;
  ASSERT_TRUE(
      ledger.ScanSamples(gpu, {kMinTimeMs, kMaxTimeMs}, [&](const Sample& s) { all.push_back(s); }).ok());

  const int64_t before = CountAll(ledger, sim->cluster.gpus);
  // October's books before retention; November's are not built yet.
  auto oct = MonthUsage(ledger, *ctx, {2026, 10}, kMaxTimeMs);
  ASSERT_TRUE(oct.ok());
  ASSERT_FALSE(oct->rows.empty());
  const Window nov = *ctx->tz.MonthWindow({2026, 11});
  auto minutes_before = ledger.GetMinutes(gpu, oct->window);
  ASSERT_TRUE(minutes_before.ok());
  ASSERT_FALSE(minutes_before->empty());

  // 90 days before "now" falls on 10 November.
  const TimeMs cutoff = nov.start + 9 * kDayMs;
  auto r = ApplyRetention(ledger, *ctx, cutoff + kDefaultRawRetentionMs);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->cutoff, cutoff);
  EXPECT_GE(r->months_built, 2);  // October and November built before anything went
  int64_t kept = 0;
  for (const Sample& s : all) kept += s.t >= cutoff;
  EXPECT_EQ(CountSamples(ledger, gpu), kept);
  EXPECT_GT(r->samples_dropped, 0);
  EXPECT_EQ(r->samples_dropped + CountAll(ledger, sim->cluster.gpus), before)
      << "every sample is either dropped or still read, once";

  // Reports of both months read as before, even after a write touches October.
  ASSERT_TRUE(ledger
                  .PutAllocations({{sim->cluster.jobs[0].id, sim->cluster.gpus[1].uuid, oct->window.start,
                                    oct->window.start + kHourMs, kFullShare / 4}})
                  .ok());
  auto ctx2 = LoadBooksContext(ledger);
  ASSERT_TRUE(ctx2.ok());
  EXPECT_EQ(ctx2->settings.raw_retained_from_ms, cutoff);
  auto oct2 = MonthUsage(ledger, *ctx2, {2026, 10}, kMaxTimeMs);
  ASSERT_TRUE(oct2.ok());
  EXPECT_TRUE(oct2->frozen);
  auto key = [](const std::vector<UsageRow>& rows) {
    std::vector<std::tuple<std::string, std::string, TimeMs, int64_t, int64_t>> k;
    for (const UsageRow& u : rows) k.emplace_back(u.job_id, u.gpu_uuid, u.period_start, u.gpu_ns, u.util_ns);
    std::sort(k.begin(), k.end());
    return k;
  };
  EXPECT_EQ(key(oct2->rows), key(oct->rows));
  auto minutes_after = ledger.GetMinutes(gpu, oct->window);
  ASSERT_TRUE(minutes_after.ok());
  EXPECT_EQ(minutes_after->size(), minutes_before->size());

  // A second run with the same horizon does nothing more.
  auto again = ApplyRetention(ledger, *ctx2, cutoff + kDefaultRawRetentionMs);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->samples_dropped, 0);
  EXPECT_EQ(again->months_built, 0);
}

TEST(Retention, AMonthNeverBuiltBeforeTheHorizonIsAnErrorNotZero) {
  testing::TempDir dir;
  auto sim = testing::LoadSimulation(dir.path() + "/l.db", TwoMonths(), "UTC");
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  Ledger& ledger = *sim->ledger;
  ASSERT_TRUE(ledger.DropSamplesBefore(sim->cluster.span.end).ok());  // behind the books' back
  auto ctx = LoadBooksContext(ledger);
  ASSERT_TRUE(ctx.ok());
  auto oct = MonthUsage(ledger, *ctx, {2026, 10}, kMaxTimeMs);
  ASSERT_FALSE(oct.ok());
  EXPECT_EQ(oct.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(oct.status().message().find("dropped by retention"), std::string::npos) << oct.status().message();
}

}  // namespace
}  // namespace gpuledger
