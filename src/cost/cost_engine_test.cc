#include "cost/cost_engine.h"

#include <gtest/gtest.h>

#include <numeric>

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

TEST(RoundLargestRemainder, SumsExactlyToTheRoundedTotal) {
  // Three lines of one third of a cent each: total rounds to 0.01; one line gets it.
  const Int128 third = static_cast<Int128>(10'000) * kExactPerMicro / 3;
  int64_t total = 0;
  auto out = RoundLargestRemainder({third, third, third}, 10'000, &total);
  EXPECT_EQ(total, 10'000);
  EXPECT_EQ(std::accumulate(out.begin(), out.end(), int64_t{0}), total);
}

TEST(Apportion, SplitsExactlyInProportion) {
  auto out = Apportion(1'000'000, {1, 1, 1}, 10'000);  // 1.00 over three
  EXPECT_EQ(out[0] + out[1] + out[2], 1'000'000);
  EXPECT_EQ(out[0], 340'000);
  EXPECT_EQ(out[2], 330'000);
  EXPECT_EQ(Apportion(1'000'000, {0, 0}, 10'000), (std::vector<int64_t>{0, 0}));
}

TEST(PriceUsage, ArticleExampleYolov8sOnA10G) {
  // 8.3 h on an A10G at 3.5 CNY per GPU-hour is 29.05 CNY.
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0 - kDayMs, 3'500'000, 0, "CNY"}});
  ASSERT_TRUE(book.ok());
  UsageRow r;
  r.job_id = "yolov8s-run";
  r.gpu_model = "A10G";
  r.period_start = kT0;
  r.gpu_ns = static_cast<int64_t>(8.3 * 3600 * 1000) * kFullShare;
  auto cost = PriceUsage({r}, *book, false);
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ(cost->total_micros, 29'050'000);
  EXPECT_EQ(cost->items[0].cost_micros, 29'050'000);
}

TEST(PriceUsage, IdleSharedInProportionStillReconciles) {
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0 - kDayMs, 3'333'333, 850'000, "CNY"}});
  std::vector<UsageRow> rows;
  for (int i = 0; i < 4; ++i) {
    UsageRow r;
    r.job_id = i == 0 ? "" : "job" + std::to_string(i);
    r.gpu_model = "A10G";
    r.period_start = kT0;
    r.gpu_ns = (1234567 + i * 777) * kFullShare;
    r.energy_mj = 98765 * (i + 1);
    rows.push_back(r);
  }
  auto cost = PriceUsage(rows, *book, true);
  ASSERT_TRUE(cost.ok());
  int64_t sum = cost->unallocated_micros;
  for (const auto& it : cost->items) {
    if (!it.job_id.empty()) sum += it.cost_micros + it.idle_share_micros;
  }
  EXPECT_EQ(sum, cost->total_micros);
  EXPECT_EQ(cost->unallocated_micros, 0);  // everything could be shared
}

TEST(PriceBook, RejectsMixedCurrenciesAndMissingPrices) {
  EXPECT_FALSE(PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0, 1, 0, "USD"}}).ok());
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0, 1, 0, "CNY"}});
  // An incomplete price book is a state to fix (FailedPrecondition), not a missing thing.
  EXPECT_EQ(book->At("H100", kT0).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(book->At("A10G", kT0 - 1).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace gpuledger

namespace gpuledger {
namespace {

UsageRow Row(const std::string& job, const std::string& model, double hours, TimeMs start = kT0) {
  UsageRow r;
  r.job_id = job;
  r.gpu_uuid = "GPU-" + model;
  r.gpu_model = model;
  r.period_start = start;
  r.period_end = start + kHourMs;
  r.gpu_ns = static_cast<int64_t>(hours * 3600 * 1000) * kFullShare;
  return r;
}

TEST(PriceUsage, NvmlModelNamesArePricedThroughTheirCanonicalName) {
  // NVML and dcgm-exporter say "NVIDIA A10G"; the price book says "A10G".
  auto book = PriceBook::Create(*LookupCurrency("CNY"),
                                {{"A10G", kT0 - kDayMs, 3'500'000, 0, "CNY"},
                                 {"NVIDIA A100-SXM4-80GB", kT0 - kDayMs, 10'000'000, 0, "CNY"}});
  ASSERT_TRUE(book.ok());
  auto cost = PriceUsage({Row("j", "NVIDIA A10G", 2), Row("j", "A10G", 1), Row("k", "A100-SXM4-80GB", 1)},
                         *book, false);
  ASSERT_TRUE(cost.ok()) << cost.status().message();
  ASSERT_EQ(cost->items.size(), 2u);  // one item per canonical model
  EXPECT_EQ(cost->items[0].gpu_model, "A10G");
  EXPECT_EQ(cost->items[0].cost_micros, 10'500'000);
  EXPECT_EQ(cost->items[1].gpu_model, "A100-SXM4-80GB");
  EXPECT_EQ(cost->items[1].cost_micros, 10'000'000);
  EXPECT_TRUE(cost->warnings.empty());
}

TEST(PriceUsage, AModelWithNoPriceIsAnUnpricedItemWithAWarningNotAFailure) {
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0 - kDayMs, 3'500'000, 0, "CNY"}});
  ASSERT_TRUE(book.ok());
  auto cost =
      PriceUsage({Row("j", "A10G", 1), Row("j", "NVIDIA H200", 2.5), Row("", "H200", 0.5)}, *book, true);
  ASSERT_TRUE(cost.ok()) << cost.status().message();
  ASSERT_EQ(cost->items.size(), 3u);
  const CostItem& idle = cost->items[0];
  EXPECT_EQ(idle.job_id, "");
  EXPECT_TRUE(idle.unpriced);
  EXPECT_EQ(idle.cost_micros, 0);
  const CostItem& h200 = cost->items[2];
  EXPECT_EQ(h200.gpu_model, "H200");
  EXPECT_TRUE(h200.unpriced);
  EXPECT_EQ(h200.usage.gpu_ns, static_cast<int64_t>(2.5 * 3600 * 1000) * kFullShare);
  EXPECT_EQ(h200.cost_micros + h200.idle_share_micros, 0);
  EXPECT_EQ(cost->total_micros, 3'500'000);  // the priced part alone
  ASSERT_EQ(cost->warnings.size(), 1u);
  EXPECT_NE(cost->warnings[0].find("3.00 GPU-hours of GPU model 'H200' (named 'NVIDIA H200')"),
            std::string::npos)
      << cost->warnings[0];
  EXPECT_NE(cost->warnings[0].find("no price for GPU model 'H200'"), std::string::npos) << cost->warnings[0];
}

TEST(PriceBook, AnswersForAModelUnderItsNvmlNameAndFailsAsAPrecondition) {
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0, 3'500'000, 0, "CNY"}});
  ASSERT_TRUE(book.ok());
  EXPECT_EQ(book->At("H200", kT0).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(book->At("A10G", kT0 - 1).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(book->At("NVIDIA A10G", kT0).ok());
}

TEST(PriceUsage, SharedIdleStaysWithinEachGpuModelsPoolByDefault) {
  // Team a used only A10Gs, team b only A100s; only the A100 pool has idle time.
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0 - kDayMs, 3'000'000, 0, "CNY"},
                                                         {"A100", kT0 - kDayMs, 10'000'000, 0, "CNY"}});
  ASSERT_TRUE(book.ok());
  const std::vector<UsageRow> rows = {Row("a", "A10G", 1), Row("b", "A100", 1), Row("", "A100", 1)};
  auto per_model = PriceUsage(rows, *book, true);
  ASSERT_TRUE(per_model.ok());
  auto item = [](const CostBook& b, const std::string& job) {
    for (const CostItem& it : b.items) {
      if (it.job_id == job) return it;
    }
    return CostItem{};
  };
  EXPECT_EQ(item(*per_model, "a").idle_share_micros, 0);  // no idle A100 cost on an A10G team
  EXPECT_EQ(item(*per_model, "b").idle_share_micros, 10'000'000);
  EXPECT_EQ(per_model->unallocated_micros, 0);

  auto across = PriceUsage(rows, *book, true, IdlePools::kAcrossModels);
  ASSERT_TRUE(across.ok());
  EXPECT_EQ(item(*across, "a").idle_share_micros, 2'310'000);  // 10.00 x 3 / 13
  EXPECT_EQ(item(*across, "b").idle_share_micros, 7'690'000);
  EXPECT_EQ(across->unallocated_micros, 0);
}

TEST(PriceUsage, IdleOfAPoolNoJobUsedStaysOnTheUnallocatedLine) {
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0 - kDayMs, 3'000'000, 0, "CNY"},
                                                         {"A100", kT0 - kDayMs, 10'000'000, 0, "CNY"}});
  ASSERT_TRUE(book.ok());
  auto cost = PriceUsage({Row("a", "A10G", 1), Row("", "A100", 2)}, *book, true);
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ(cost->unallocated_micros, 20'000'000);
  EXPECT_EQ(cost->total_micros, 23'000'000);
}


// 100,000 GPUs over a year (~876 M GPU-h, ~3.2e21 GPU-ns) is far past int64: every sum
// must stay exact. One row per GPU and month, as the books hold them; half of each GPU's
// time allocated to a job, the rest unallocated.
TEST(PriceUsage, ExactForAHundredThousandGpusOverAYear) {
  constexpr int kGpus = 100'000;
  auto book = PriceBook::Create(*LookupCurrency("CNY"), {{"A10G", kT0 - kDayMs, 3'500'000, 0, "CNY"},
                                                         {"A100", kT0 - kDayMs, 12'000'000, 0, "CNY"}});
  ASSERT_TRUE(book.ok());
  std::vector<UsageRow> rows;
  rows.reserve(static_cast<size_t>(kGpus) * 2 * 12);
  Int128 want_ns = 0;
  for (int month = 0; month < 12; ++month) {
    const TimeMs ps = kT0 + month * 30 * kDayMs, pe = ps + 30 * kDayMs + (month % 2) * kDayMs;
    for (int g = 0; g < kGpus; ++g) {
      const int64_t cap = (pe - ps) * kFullShare;
      UsageRow job;
      job.job_id = "job-" + std::to_string(g % 1000);
      job.gpu_uuid = "GPU-" + std::to_string(g);
      job.gpu_model = g % 3 == 0 ? "A100" : "A10G";
      job.period_start = ps;
      job.period_end = pe;
      job.gpu_ns = job.covered_ns = job.busy_ns = job.dense_ns = cap / 2;
      job.util_ns = cap / 4;
      job.energy_mj = (pe - ps) / 2 * 300;  // 300 W for half the period
      UsageRow idle = job;
      idle.job_id = "";
      idle.gpu_ns = cap - cap / 2;
      idle.covered_ns = idle.busy_ns = idle.dense_ns = idle.util_ns = 0;
      idle.energy_mj = 0;
      rows.push_back(job);
      rows.push_back(idle);
      want_ns += cap;
    }
  }
  auto cost = PriceUsage(rows, *book, /*share_idle=*/true);
  ASSERT_TRUE(cost.ok()) << cost.status().ToString();
  UsageTotals all;
  int64_t sum_micros = 0;
  for (const CostItem& it : cost->items) {
    all.Add(it.usage);
    if (!it.job_id.empty()) sum_micros += it.cost_micros + it.idle_share_micros;
  }
  EXPECT_TRUE(all.gpu_ns == want_ns);
  EXPECT_GT(all.gpu_ns, static_cast<Int128>(INT64_MAX));  // the case that overflowed
  EXPECT_NEAR(all.gpu_hours(), kGpus * (12 * 30 + 6) * 24.0, 1e-3);
  EXPECT_TRUE(all.dense_ns * 2 == want_ns) << "half of every GPU was dense";
  EXPECT_NEAR(all.density().value(), 1.0, 1e-12);
  EXPECT_EQ(sum_micros + cost->unallocated_micros, cost->total_micros);
  // capacity x price, exactly: a third of the GPUs are A100s.
  Int128 want_exact = 0;
  for (int month = 0; month < 12; ++month) {
    const int64_t len = (30 + (month % 2)) * kDayMs;
    const Int128 a100 = (kGpus + 2) / 3, a10g = kGpus - a100;
    want_exact += static_cast<Int128>(len) * kFullShare * (a100 * 12'000'000 + a10g * 3'500'000);
  }
  EXPECT_TRUE(cost->total_exact == want_exact);
}

}  // namespace
}  // namespace gpuledger
