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
  EXPECT_EQ(book->At("H100", kT0).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(book->At("A10G", kT0 - 1).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace gpuledger
