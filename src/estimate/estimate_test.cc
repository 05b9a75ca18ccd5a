#include "estimate/estimate.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

const Currency kCny{"CNY", 2};

// A yolov8s run on one A10G: `hours` of GPU time at 3.50 CNY per GPU-hour.
FinishedRun PastRun(int i, double hours, int epochs = 100, int64_t images = 10000, bool amp = false) {
  FinishedRun r;
  r.job_id = "r" + std::to_string(i);
  r.project = "vision";
  r.dataset = "coco";
  r.model_type = "yolov8s";
  r.gpu_model = "A10G";
  r.gpu_share_ppm = kFullShare;
  r.dataset_images = images;
  r.epochs = epochs;
  r.batch = 16;
  r.imgsz = 640;
  r.amp = amp;
  r.duration_ms = static_cast<DurationMs>(hours * kHourMs);
  r.gpu_ns = static_cast<int64_t>(hours * static_cast<double>(kGpuNsPerGpuHour));
  r.cost_micros = static_cast<int64_t>(hours * 3'500'000);
  return r;
}

Job Request(int epochs = 100, int64_t images = 10000) {
  Job j;
  j.id = "new";
  j.project = "vision";
  j.dataset = "coco";
  j.model_type = "yolov8s";
  j.gpu_model = "A10G";
  j.gpu_share_ppm = kFullShare;
  j.epochs = epochs;
  j.dataset_images = images;
  j.imgsz = 640;
  j.batch = 16;
  j.duration_limit_ms = 48 * kHourMs;
  return j;
}

const RateInfo kRate{3'500'000, kCny};

TEST(Estimate, TheMedianOfSimilarRunsScaledByWork) {
  // 1..11 hours: the median is 6 h (21.00 CNY); twice the epochs, twice the work.
  std::vector<FinishedRun> h;
  for (int i = 1; i <= 11; ++i) h.push_back(PastRun(i, i));
  Estimate e = EstimateJob(Request(), h, kRate);
  EXPECT_EQ(e.basis, Estimate::Basis::kHistory);
  EXPECT_EQ(e.runs, 11);
  EXPECT_DOUBLE_EQ(e.cost_micros.mid, 21'000'000);
  EXPECT_NEAR(e.gpu_hours.mid, 6.0, 1e-9);
  // P10 and P90 of 1..11 (type 7): 2 and 10 hours.
  ASSERT_TRUE(e.cost_micros.low.has_value());
  EXPECT_DOUBLE_EQ(*e.cost_micros.low, 7'000'000);
  EXPECT_DOUBLE_EQ(*e.cost_micros.high, 35'000'000);
  Estimate twice = EstimateJob(Request(200), h, kRate);
  EXPECT_DOUBLE_EQ(twice.cost_micros.mid, 42'000'000);
  Estimate half_data = EstimateJob(Request(100, 5000), h, kRate);
  EXPECT_DOUBLE_EQ(half_data.cost_micros.mid, 10'500'000);
  // Other models and GPUs are not similar.
  FinishedRun other = PastRun(99, 100);
  other.model_type = "yolov10m";
  h.push_back(other);
  EXPECT_EQ(EstimateJob(Request(), h, kRate).runs, 11);
}

TEST(Estimate, FewerThanTenRunsGiveAMedianAndNoInterval) {
  std::vector<FinishedRun> h = {PastRun(1, 2), PastRun(2, 4), PastRun(3, 6)};
  Estimate e = EstimateJob(Request(), h, kRate);
  EXPECT_EQ(e.basis, Estimate::Basis::kHistory);
  EXPECT_DOUBLE_EQ(e.cost_micros.mid, 14'000'000);
  EXPECT_FALSE(e.cost_micros.low.has_value());
  ASSERT_FALSE(e.notes.empty());
  EXPECT_NE(e.notes[0].find("history is thin: 3 similar finished runs"), std::string::npos);
  EXPECT_EQ(RenderEstimateText(e, kCny, Lang::kEn).find("cost interval"), std::string::npos);
}

TEST(Estimate, ThinHistoryFallsBackToTheRateTimesTheDurationLimit) {
  std::vector<FinishedRun> h = {PastRun(1, 2), PastRun(2, 4)};
  Estimate e = EstimateJob(Request(), h, kRate);
  EXPECT_EQ(e.basis, Estimate::Basis::kRate);
  EXPECT_DOUBLE_EQ(e.cost_micros.mid, 168'000'000);  // 48 h x 3.50
  EXPECT_FALSE(e.cost_micros.low.has_value());
  EXPECT_NE(e.notes[0].find("history is thin: 2 similar finished runs"), std::string::npos);
  const std::string zh = RenderEstimateText(e, kCny, Lang::kZh);
  EXPECT_NE(zh.find("当前配置预计消耗168.00元"), std::string::npos) << zh;
  // No duration limit and no history: no estimate at all, said so.
  Job open = Request();
  open.duration_limit_ms = 0;
  Estimate none = EstimateJob(open, {}, kRate);
  EXPECT_EQ(none.basis, Estimate::Basis::kNone);
  EXPECT_NE(RenderEstimateText(none, kCny, Lang::kEn).find("No cost estimate"), std::string::npos);
}

TEST(Estimate, AmpIsScaledOnlyWhenTheHistoryShowsIt) {
  std::vector<FinishedRun> h;
  for (int i = 0; i < 3; ++i) h.push_back(PastRun(i, 10, 100, 10000, false));
  for (int i = 3; i < 6; ++i) h.push_back(PastRun(i, 6, 100, 10000, true));
  Job amp = Request();
  amp.amp = true;
  Estimate e = EstimateJob(amp, h, kRate);
  EXPECT_NEAR(e.gpu_hours.mid, 6.0, 1e-9);  // every run scaled to AMP: 10 h x 0.6
  EXPECT_NE(e.amp_note.find("AMP scaled by 0.60"), std::string::npos);
  h.pop_back();  // 2 AMP runs: not enough to learn from
  e = EstimateJob(amp, h, kRate);
  EXPECT_NE(e.amp_note.find("AMP not scaled"), std::string::npos);
}

TEST(Estimate, BestPracticeIsTheCheapestConfigurationReachingTheReference) {
  std::vector<FinishedRun> h;
  for (int i = 0; i < 4; ++i) {
    FinishedRun r = PastRun(i, 8);
    r.best_map50 = 0.562;
    h.push_back(r);
  }
  for (int i = 4; i < 7; ++i) {  // cheaper: 640 -> same imgsz but 50 epochs, within the margin
    FinishedRun r = PastRun(i, 4, 50);
    r.best_map50 = 0.556;
    h.push_back(r);
  }
  for (int i = 7; i < 10; ++i) {  // cheapest, but 10 points worse
    FinishedRun r = PastRun(i, 1, 10);
    r.best_map50 = 0.46;
    h.push_back(r);
  }
  Estimate e = EstimateJob(Request(), h, kRate);
  ASSERT_TRUE(e.best.has_value()) << e.best_note;
  EXPECT_EQ(e.best->epochs, 50);
  EXPECT_EQ(e.best->runs, 3);
  EXPECT_EQ(e.best->cost_micros, 14'000'000);
  EXPECT_NEAR(e.best->reference_map50, 0.556, 1e-9);  // median of this configuration's runs
  EXPECT_EQ(e.best->candidates, 7);
  const std::string zh = RenderEstimateText(e, kCny, Lang::kZh);
  EXPECT_NE(zh.find("历史同类任务最佳实践为14.00元,是否继续?"), std::string::npos) << zh;
  // A margin of 0 leaves only the runs at or above the reference.
  EstimateOptions strict;
  strict.map_margin = 0;
  e = EstimateJob(Request(), h, kRate, strict);
  ASSERT_TRUE(e.best.has_value());
  EXPECT_EQ(e.best->epochs, 50);
  // Another project's runs are not its best practice.
  Job elsewhere = Request();
  elsewhere.project = "other";
  elsewhere.dataset = "voc";
  EXPECT_FALSE(EstimateJob(elsewhere, h, kRate).best.has_value());
}

TEST(Estimate, JsonCarriesTheIntervalOnlyWhenThereIsOne) {
  std::vector<FinishedRun> h = {PastRun(1, 2), PastRun(2, 4), PastRun(3, 6)};
  const std::string j = EstimateJson(EstimateJob(Request(), h, kRate), kCny);
  EXPECT_NE(j.find(R"("cost":{"median":"14.00"})"), std::string::npos) << j;
  EXPECT_EQ(j.find("\"interval\""), std::string::npos);
  EXPECT_EQ(j.find("\"low\""), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
