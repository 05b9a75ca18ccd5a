#include "advice/advice.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

// A healthy tuned run: fast loading, busy steady phase, most memory used, AMP on, short tail.
RunFacts Healthy() {
  RunFacts f;
  f.sampled = true;
  f.loading_share = 0.02;
  f.tail_share = 0.05;
  f.steady_density = 0.9;
  f.mean_util = 0.85;
  f.peak_mem_mib = int64_t{18} * 1024;
  f.gpu_memory_mib = int64_t{24} * 1024;
  f.has_run_args = true;
  f.batch = 32;
  f.amp = true;
  f.epochs_planned = 100;
  f.epochs_done = 100;
  f.best_epoch = 97;
  return f;
}

std::vector<std::string> Rules(const RunFacts& f) {
  std::vector<std::string> r;
  for (const Advice& a : Advise(f, Lang::kEn)) r.push_back(a.rule);
  return r;
}

TEST(Advice, AHealthyRunGetsNone) { EXPECT_TRUE(Advise(Healthy(), Lang::kEn).empty()); }

TEST(Advice, ALongLoadingPhaseWithABusyCpuPointsAtTheDataLoader) {
  RunFacts f = Healthy();
  f.loading_share = 0.15;
  f.cpu_busy = 0.9;
  ASSERT_EQ(Rules(f), std::vector<std::string>{"data_loader"});
  const Advice a = Advise(f, Lang::kEn)[0];
  EXPECT_NE(a.text.find("workers="), std::string::npos);
  EXPECT_NE(a.evidence.find("15 %"), std::string::npos) << a.evidence;
  EXPECT_NE(a.evidence.find("CPU 90 % busy"), std::string::npos) << a.evidence;
  // An idle CPU while loading: not the loader's CPU work (storage, say); no advice from it.
  f.cpu_busy = 0.2;
  EXPECT_TRUE(Rules(f).empty());
  // Unknown CPU: the long loading phase alone is enough.
  f.cpu_busy.reset();
  EXPECT_EQ(Rules(f), std::vector<std::string>{"data_loader"});
}

TEST(Advice, AGpuThatWaitsBetweenStepsPointsAtTheDataLoader) {
  RunFacts f = Healthy();
  f.steady_density = 0.45;
  EXPECT_EQ(Rules(f), std::vector<std::string>{"data_loader"});
  f.steady_density = kStarvedSteadyDensity;  // the threshold itself is healthy
  EXPECT_TRUE(Rules(f).empty());
}

TEST(Advice, LowMemoryUseSuggestsDoublingTheBatch) {
  RunFacts f = Healthy();
  f.peak_mem_mib = int64_t{6} * 1024;
  f.batch = 16;
  ASSERT_EQ(Rules(f), std::vector<std::string>{"larger_batch"});
  const Advice a = Advise(f, Lang::kEn)[0];
  EXPECT_NE(a.text.find("batch=32"), std::string::npos) << a.text;
  EXPECT_EQ(a.evidence, "peak memory 6.0 GiB of 24.0 GiB, batch=16");
  f.gpu_memory_mib = 0;  // unknown GPU memory: no rule
  EXPECT_TRUE(Rules(f).empty());
}

TEST(Advice, AmpOffIsNamedOnlyWhenTheRunsArgumentsAreKnown) {
  RunFacts f = Healthy();
  f.amp = false;
  EXPECT_EQ(Rules(f), std::vector<std::string>{"enable_amp"});
  f.has_run_args = false;
  EXPECT_TRUE(Rules(f).empty());
}

TEST(Advice, ALongTailOrAnEarlyBestEpochSuggestsEarlyStopping) {
  RunFacts f = Healthy();
  f.tail_share = 0.3;
  ASSERT_EQ(Rules(f), std::vector<std::string>{"early_stopping"});
  f.tail_share = 0.05;
  f.best_epoch = 40;
  ASSERT_EQ(Rules(f), std::vector<std::string>{"early_stopping"});
  const Advice a = Advise(f, Lang::kEn)[0];
  EXPECT_NE(a.text.find("epochs=49"), std::string::npos) << a.text;
  EXPECT_EQ(a.evidence, "the best epoch was 40 of 100 run");
  f.epochs_done = 8;  // too few epochs to judge
  f.best_epoch = 2;
  EXPECT_TRUE(Rules(f).empty());
}

TEST(Advice, UnsampledRunsGetNoUtilisationAdvice) {
  RunFacts f;
  f.has_run_args = true;
  f.amp = true;
  EXPECT_TRUE(Rules(f).empty());
}

TEST(Advice, EveryRuleSpeaksChineseToo) {
  RunFacts f = Healthy();
  f.loading_share = 0.2;
  f.peak_mem_mib = 4096;
  f.amp = false;
  f.tail_share = 0.4;
  const auto en = Advise(f, Lang::kEn);
  const auto zh = Advise(f, Lang::kZh);
  ASSERT_EQ(en.size(), 4u);
  ASSERT_EQ(zh.size(), 4u);
  for (size_t i = 0; i < en.size(); ++i) {
    EXPECT_EQ(en[i].rule, zh[i].rule);
    EXPECT_NE(en[i].text, zh[i].text);
    EXPECT_FALSE(zh[i].evidence.empty());
  }
  EXPECT_NE(zh[0].text.find("数据加载"), std::string::npos);
  EXPECT_NE(zh[2].text.find("混合精度"), std::string::npos);
  EXPECT_NE(zh[3].text.find("早停"), std::string::npos);
}

TEST(Advice, LanguagesParseByCode) {
  EXPECT_EQ(*ParseLang("zh"), Lang::kZh);
  EXPECT_EQ(*ParseLang("en"), Lang::kEn);
  auto bad = ParseLang("fr");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'fr'"), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
