#include "report/gpus_now.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gpuledger {
namespace {

constexpr TimeMs kNow = 1793458800000;  // 2026-10-31T15:00:00Z

Gpu MakeGpu(const std::string& uuid, const std::string& model, TimeMs to = 0) {
  Gpu g;
  g.uuid = uuid;
  g.node = "n1";
  g.model = model;
  g.in_service_from = kNow - kDayMs;
  g.in_service_to = to;
  return g;
}

Sample At(TimeMs t, float util) {
  Sample s;
  s.t = t;
  s.util_pct = util;
  return s;
}

TEST(GpusNow, EachGpuInServiceIsBusyIdleHeldIdleFreeOrWithoutARecentSample) {
  const std::vector<Gpu> gpus = {MakeGpu("g-busy", "A10G"),       MakeGpu("g-held", "A10G"),
                                 MakeGpu("g-free", "A100"),       MakeGpu("g-stale", "A100"),
                                 MakeGpu("g-retired", "A10G", kNow - kHourMs), MakeGpu("g-none", "A10G")};
  const std::vector<Allocation> allocs = {
      {"job-b", "g-busy", kNow - kHourMs, 0, kFullShare},
      {"job-h2", "g-held", kNow - kHourMs, 0, kFullShare / 2},
      {"job-h1", "g-held", kNow - kHourMs, kNow + kMinuteMs, kFullShare / 2},
      {"job-gone", "g-free", kNow - kHourMs, kNow, kFullShare},  // ended: end is exclusive
  };
  const std::map<std::string, Sample> latest = {{"g-busy", At(kNow - kMinuteMs, 93)},
                                                {"g-held", At(kNow - 30 * kSecondMs, 4.9F)},
                                                {"g-free", At(kNow - kMinuteMs, 0)},
                                                {"g-stale", At(kNow - 6 * kMinuteMs, 80)}};
  const auto now = GpusNow(gpus, allocs, latest, kNow);
  ASSERT_EQ(now.size(), 5u) << "the retired GPU is left out";
  EXPECT_EQ(now[0].uuid, "g-held");
  EXPECT_EQ(now[0].state, GpuNowState::kIdleHeld);
  EXPECT_EQ(now[0].jobs, (std::vector<std::string>{"job-h1", "job-h2"}));
  EXPECT_EQ(now[1].uuid, "g-free");
  EXPECT_EQ(now[1].state, GpuNowState::kIdleFree);
  EXPECT_TRUE(now[1].jobs.empty());
  EXPECT_EQ(now[2].state, GpuNowState::kNoData);  // A100 g-stale: 6 min old
  EXPECT_EQ(now[2].uuid, "g-stale");
  EXPECT_EQ(now[3].state, GpuNowState::kNoData);  // A10G g-none
  EXPECT_EQ(now[4].uuid, "g-busy");
  EXPECT_EQ(now[4].state, GpuNowState::kBusy);
  EXPECT_DOUBLE_EQ(now[4].last_util_pct, 93);

  const auto j = nlohmann::json::parse(RenderGpusNowJson(now, kNow, {}, /*with_jobs=*/false));
  EXPECT_EQ(j["counts"], nlohmann::json::parse(R"({"busy": 1, "idle_held": 1, "idle_free": 1, "no_data": 2})"));
  ASSERT_EQ(j["by_gpu_model"].size(), 2u);
  EXPECT_EQ(j["by_gpu_model"][0]["gpu_model"], "A100");
  EXPECT_EQ(j["by_gpu_model"][0]["idle_free"], 1);
  EXPECT_EQ(j["gpus"][0]["held_by_jobs"], 2);
  EXPECT_FALSE(j["gpus"][0].contains("jobs")) << "finance's answer names no job";
  EXPECT_TRUE(j["gpus"][2]["util_pct"].is_null());
  const auto admin = nlohmann::json::parse(RenderGpusNowJson(now, kNow, {}, /*with_jobs=*/true));
  EXPECT_EQ(admin["gpus"][0]["jobs"], nlohmann::json::parse(R"(["job-h1", "job-h2"])"));
}

}  // namespace
}  // namespace gpuledger
