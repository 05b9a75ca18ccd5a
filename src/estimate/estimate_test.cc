#include "estimate/estimate.h"

#include <gtest/gtest.h>

#include <cmath>

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
  // Every run scaled to AMP: 10 h x 0.6 (the fit's small ridge toward the prior of no
  // effect leaves 0.602).
  EXPECT_NEAR(e.gpu_hours.mid, 6.0, 0.05);
  EXPECT_NE(e.amp_note.find("AMP scaled by 0.60"), std::string::npos) << e.amp_note;
  EXPECT_NE(e.scaling.find("AMP x0.60 (fitted)"), std::string::npos) << e.scaling;
  EXPECT_NE(e.scaling.find("imgsz^2.00 (prior)"), std::string::npos) << e.scaling;
  h.pop_back();  // 2 AMP runs: not enough to learn from
  e = EstimateJob(amp, h, kRate);
  EXPECT_NE(e.amp_note.find("AMP not scaled"), std::string::npos);
}

TEST(Estimate, ImageSizeIsScaledByTheExponentTheHistoryShows) {
  // Time per epoch follows imgsz^1.5 in this history, not the prior's pixel count.
  std::vector<FinishedRun> h;
  for (int i = 0; i < 6; ++i) {
    FinishedRun r = PastRun(i, 4.0 * (1 + 0.01 * (i % 3)));
    if (i >= 3) {
      r.imgsz = 1280;
      r.gpu_ns = static_cast<int64_t>(static_cast<double>(r.gpu_ns) * std::pow(2.0, 1.5));
      r.cost_micros = static_cast<int64_t>(static_cast<double>(r.cost_micros) * std::pow(2.0, 1.5));
    }
    h.push_back(r);
  }
  Job req = Request();
  req.imgsz = 960;
  Estimate e = EstimateJob(req, h, kRate);
  EXPECT_NE(e.scaling.find("imgsz^1.5"), std::string::npos) << e.scaling;  // 1.51: the ridge
  EXPECT_NE(e.scaling.find("(fitted)"), std::string::npos) << e.scaling;
  EXPECT_NEAR(e.gpu_hours.mid, 4.04 * std::pow(1.5, 1.5), 0.1);
  // Three runs at one size and two at the other: not enough to fit; the prior (pixels).
  h.pop_back();
  e = EstimateJob(req, h, kRate);
  EXPECT_NE(e.scaling.find("imgsz^2.00 (prior)"), std::string::npos) << e.scaling;
}

TEST(Estimate, PatienceStopsTheRequestWhereSimilarRunsPeaked) {
  // Each run asked 100 epochs, peaked at epoch 40 and stopped at 70 (patience 30): 9 h
  // over its 70 epochs, then 1 h of setup and final validation.
  std::vector<FinishedRun> h;
  for (int i = 0; i < 10; ++i) {
    FinishedRun r = PastRun(i, 10);
    r.patience = 30;
    r.epochs_run = 70;
    r.best_epoch = 40;
    r.train_s = 9 * 3600;
    h.push_back(r);
  }
  Job req = Request(200);
  req.labels["patience"] = "20";
  Estimate e = EstimateJob(req, h, kRate);
  // Peak at 40 % of 200 epochs = 80, stop 20 later: 100 epochs x 9/70 h + the 1 h.
  EXPECT_NEAR(e.epochs.mid, 100, 1e-9);
  EXPECT_NEAR(e.gpu_hours.mid, 100 * 9.0 / 70 + 1, 1e-6);
  EXPECT_NE(e.stopping.find("patience 20 of 200 epochs"), std::string::npos) << e.stopping;
  // A patience past the epochs never stops it: all 200.
  req.labels["patience"] = "300";
  e = EstimateJob(req, h, kRate);
  EXPECT_NEAR(e.epochs.mid, 200, 1e-9);
  EXPECT_NEAR(e.gpu_hours.mid, 200 * 9.0 / 70 + 1, 1e-6);
  // No patience given: the runs' own share of their epochs (70 %).
  req.labels.erase("patience");
  e = EstimateJob(req, h, kRate);
  EXPECT_NEAR(e.epochs.mid, 140, 1e-9);
}

TEST(Estimate, PatienceIsTheLabelsWholeNumberOrNotGiven) {
  Job j = Request();
  EXPECT_EQ(JobPatience(j), 0);
  for (const auto& [v, want] : std::vector<std::pair<std::string, int>>{{"30", 30},
                                                                        {"0", 0},
                                                                        {"", 0},
                                                                        {"-5", 0},
                                                                        {"3.5", 0},
                                                                        {"abc", 0},
                                                                        {"1234567", 0},
                                                                        {"100000", 100000}}) {
    j.labels["patience"] = v;
    EXPECT_EQ(JobPatience(j), want) << "'" << v << "'";
  }
}

TEST(Estimate, TheFinalValidationIsNotScaledByEpochs) {
  // 10 h runs, 9 h of them in 100 epochs: twice the epochs is 18 h + the same 1 h.
  std::vector<FinishedRun> h;
  for (int i = 0; i < 3; ++i) {
    FinishedRun r = PastRun(i, 10);
    r.epochs_run = 100;
    r.best_epoch = 100;
    r.train_s = 9 * 3600;
    h.push_back(r);
  }
  Estimate e = EstimateJob(Request(200), h, kRate);
  EXPECT_NEAR(e.gpu_hours.mid, 19, 1e-6);
  EXPECT_DOUBLE_EQ(e.cost_micros.mid, 66'500'000);  // 19 h x 3.50
  // Twice the data doubles both parts (more training images, more validation images).
  e = EstimateJob(Request(100, 20000), h, kRate);
  EXPECT_NEAR(e.gpu_hours.mid, 20, 1e-6);
}

TEST(Estimate, CostIsAtTodaysPriceNotThePriceTheRunsPaid) {
  std::vector<FinishedRun> h;
  for (int i = 0; i < 3; ++i) {
    FinishedRun r = PastRun(i, 4);  // 14.00 CNY at 3.50 per GPU-hour
    r.price_micros_per_gpu_hour = 3'500'000;
    h.push_back(r);
  }
  Estimate e = EstimateJob(Request(), h, RateInfo{2'800'000, kCny});
  EXPECT_DOUBLE_EQ(e.cost_micros.mid, 11'200'000);  // 4 h x 2.80
  EXPECT_NEAR(e.gpu_hours.mid, 4, 1e-9);
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
  // A best practice dearer than the estimate is said to be so.
  Job longer = Request(10);
  const std::string dearer = RenderEstimateText(EstimateJob(longer, h, kRate), kCny, Lang::kEn);
  EXPECT_NE(dearer.find("cost 14.00 CNY (more than this configuration). Continue?"), std::string::npos)
      << dearer;
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
