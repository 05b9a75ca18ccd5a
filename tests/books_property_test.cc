// Property tests over many simulated months: the books always reconcile.
//   - per GPU: time of all rows = capacity; covered time of all rows = sample coverage
//   - sum of job cost + unallocated cost = capacity x price, exactly, to the minor unit
//   - with idle shared out, the same total
//   - a job metered over two months equals the sum of its months
//   - after retention drops the first month's raw samples, both months' books are the same
#include <gtest/gtest.h>

#include <map>

#include "books/retention.h"
#include "common/test_util.h"
#include "cost/cost_engine.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

SimOptions Small(uint64_t seed) {
  SimOptions o;
  o.seed = seed;
  o.month = {2026, 11};  // October + November: America/New_York leaves DST on Nov 1
  o.sample_interval_ms = 5 * kMinuteMs;
  o.a10g_nodes = 1;
  o.a100_nodes = 1;
  o.gpus_per_node = 2;
  o.load = 0.12;
  return o;
}

// Coverage of a regular sample stream within w, computed directly from the samples.
int64_t CoverageNs(const std::vector<Sample>& s, Window w, DurationMs interval, DurationMs max_gap) {
  int64_t ms = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const TimeMs end =
        i + 1 < s.size() ? std::min(s[i + 1].t, s[i].t + max_gap) : s[i].t + std::min(interval, max_gap);
    ms += Window{s[i].t, end}.Intersect(w).length();
  }
  return ms * kFullShare;
}

// Capacity x price for one GPU over w, from the price list directly.
Int128 CapacityExact(const Gpu& g, const std::vector<Price>& prices, Window w) {
  const Window cap = g.service().Intersect(w);
  Int128 total = 0;
  std::vector<const Price*> mine;
  for (const Price& p : prices) {
    if (p.gpu_model == g.model) mine.push_back(&p);
  }
  std::sort(mine.begin(), mine.end(), [](auto* a, auto* b) { return a->effective_from < b->effective_from; });
  for (size_t i = 0; i < mine.size(); ++i) {
    const Window pw{mine[i]->effective_from, i + 1 < mine.size() ? mine[i + 1]->effective_from : kMaxTimeMs};
    total += static_cast<Int128>(pw.Intersect(cap).length()) * kFullShare * mine[i]->micros_per_gpu_hour;
  }
  return total;
}

class BooksProperty : public ::testing::TestWithParam<uint64_t> {};

TEST_P(BooksProperty, BooksReconcileExactly) {
  const uint64_t seed = GetParam();
  const std::string zone = seed % 2 ? "America/New_York" : "Asia/Shanghai";
  testing::TempDir dir;
  SimOptions o = Small(seed);
  if (seed % 3 == 0) o.currency = "JPY";  // zero-decimal rounding too
  auto sim = testing::LoadSimulation(dir.path() + "/l.db", o, zone);
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  Ledger& ledger = *sim->ledger;
  auto ctx = LoadBooksContext(ledger);
  ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
  const SimCluster& c = sim->cluster;
  ASSERT_GT(c.jobs.size(), 5u);
  const int64_t unit = ctx->prices.currency().micros_per_minor();

  std::map<std::string, int64_t> monthly_job_ns;
  std::map<std::string, Int128> monthly_job_exact;
  std::vector<TimeMs> month_starts;
  std::vector<Int128> month_exact;  // each month's total, for after retention
  for (YearMonth m : {o.month.Prev(), o.month}) {
    auto books = MonthUsage(ledger, *ctx, m, kMaxTimeMs);
    ASSERT_TRUE(books.ok()) << books.status().ToString();
    month_starts.push_back(books->window.start);
    std::map<std::string, int64_t> gpu_ns, covered_ns;
    Int128 energy_exact = 0;
    for (const UsageRow& r : books->rows) {
      gpu_ns[r.gpu_uuid] += r.gpu_ns;
      covered_ns[r.gpu_uuid] += r.covered_ns;
      energy_exact += static_cast<Int128>(r.energy_mj) * 850'000 * 1000;
    }
    Int128 capacity_exact = 0;
    for (size_t g = 0; g < c.gpus.size(); ++g) {
      const Gpu& gpu = c.gpus[g];
      EXPECT_EQ(gpu_ns[gpu.uuid], gpu.service().Intersect(books->window).length() * kFullShare) << gpu.uuid;
      EXPECT_EQ(covered_ns[gpu.uuid], CoverageNs(SimulateSamples(c, g), books->window, c.sample_interval_ms,
                                                 3 * c.sample_interval_ms))
          << gpu.uuid;
      capacity_exact += CapacityExact(gpu, c.prices, books->window);
    }
    auto cost = PriceUsage(books->rows, ctx->prices, false);
    ASSERT_TRUE(cost.ok()) << cost.status().ToString();
    const Int128 total_exact = capacity_exact + energy_exact;
    const Int128 u = static_cast<Int128>(unit) * kExactPerMicro;
    EXPECT_EQ(cost->total_exact, total_exact);
    month_exact.push_back(cost->total_exact);
    EXPECT_EQ(cost->total_micros, static_cast<int64_t>((total_exact + u / 2) / u) * unit);
    int64_t sum = 0;
    for (const CostItem& it : cost->items) {
      sum += it.cost_micros;
      EXPECT_EQ(it.cost_micros % unit, 0);
      if (!it.job_id.empty()) monthly_job_exact[it.job_id] += it.gpu_exact;
    }
    EXPECT_EQ(sum, cost->total_micros);
    for (const UsageRow& r : books->rows) {
      if (!r.job_id.empty()) monthly_job_ns[r.job_id] += r.gpu_ns;
    }
    auto shared = PriceUsage(books->rows, ctx->prices, true);
    int64_t shared_sum = shared->unallocated_micros;
    for (const CostItem& it : shared->items) {
      if (!it.job_id.empty()) shared_sum += it.cost_micros + it.idle_share_micros;
    }
    EXPECT_EQ(shared_sum, shared->total_micros);
    EXPECT_EQ(shared->total_micros, cost->total_micros);
  }
  // The two months metered as one window, with no cut at the month boundary, give every
  // job the same GPU time and the same exact cost as its two months added up.
  const Window both{month_starts[0], ctx->tz.MonthWindow(o.month)->end};
  auto whole = MeterWindow(ledger, *ctx, both, {});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  std::map<std::string, int64_t> whole_ns;
  for (const UsageRow& r : *whole) {
    if (!r.job_id.empty()) whole_ns[r.job_id] += r.gpu_ns;
  }
  auto whole_cost = PriceUsage(*whole, ctx->prices, false);
  std::map<std::string, Int128> whole_exact;
  for (const CostItem& it : whole_cost->items) {
    if (!it.job_id.empty()) whole_exact[it.job_id] += it.gpu_exact;
  }
  EXPECT_EQ(whole_ns, monthly_job_ns);
  EXPECT_TRUE(whole_exact == monthly_job_exact);
  // Retention: the first month's raw samples go (the cutoff is the second month's start);
  // both months' books stay what they were, to the exact micro-unit and per job.
  auto kept = ApplyRetention(ledger, *ctx, month_starts[1] + kDayMs, kDayMs);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  EXPECT_EQ(kept->cutoff, month_starts[1]);
  EXPECT_GT(kept->samples_dropped, 0);
  std::map<std::string, int64_t> after_job_ns;
  int month_index = 0;
  for (YearMonth m : {o.month.Prev(), o.month}) {
    auto books = MonthUsage(ledger, *ctx, m, kMaxTimeMs);
    ASSERT_TRUE(books.ok()) << books.status().ToString();
    for (const UsageRow& r : books->rows) {
      if (!r.job_id.empty()) after_job_ns[r.job_id] += r.gpu_ns;
    }
    auto cost = PriceUsage(books->rows, ctx->prices, false);
    ASSERT_TRUE(cost.ok()) << cost.status().ToString();
    EXPECT_TRUE(cost->total_exact == month_exact[static_cast<size_t>(month_index++)]) << m.ToString();
  }
  EXPECT_EQ(after_job_ns, monthly_job_ns);
  int crossing = 0;
  for (const Job& j : c.jobs)
    crossing += j.start_ms < month_starts[1] && (j.end_ms == 0 || j.end_ms > month_starts[1]);
  RecordProperty("jobs_crossing_month", crossing);
}

INSTANTIATE_TEST_SUITE_P(Seeds, BooksProperty, ::testing::Range<uint64_t>(1, 13));

}  // namespace
}  // namespace gpuledger
