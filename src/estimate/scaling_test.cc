#include "estimate/scaling.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gpuledger {
namespace {

// GPU-hours per epoch of a run under a known law: images^1 x imgsz^1.8 x AMP 0.7.
ScalingPoint Point(double images, double imgsz, double batch, bool amp, double gpus = 1) {
  ScalingPoint p = MakeScalingPoint(images, imgsz, batch, amp, gpus);
  p.y = std::log(1e-5 * images * std::pow(imgsz / 640, 1.8) * (amp ? 0.7 : 1.0));
  return p;
}

TEST(Scaling, FitsTheFactorsTheHistoryVariesAndKeepsThePriorsOfTheOthers) {
  std::vector<ScalingPoint> pts;
  for (double images : {10000.0, 20000.0}) {
    for (double imgsz : {640.0, 1280.0}) {
      for (bool amp : {false, true}) {
        for (int k = 0; k < 3; ++k) pts.push_back(Point(images, imgsz, 16, amp));
      }
    }
  }
  const ScalingModel m = FitScaling(pts, 3);
  EXPECT_TRUE(m.fitted[static_cast<size_t>(Factor::kImages)]);
  EXPECT_NEAR(m.beta[static_cast<size_t>(Factor::kImages)], 1.0, 0.01);
  EXPECT_NEAR(m.beta[static_cast<size_t>(Factor::kImgsz)], 1.8, 0.01);
  EXPECT_NEAR(std::exp(m.beta[static_cast<size_t>(Factor::kAmp)]), 0.7, 0.01);
  // One batch and one GPU count throughout: not fitted, the prior (no effect).
  EXPECT_FALSE(m.fitted[static_cast<size_t>(Factor::kBatch)]);
  EXPECT_FALSE(m.fitted[static_cast<size_t>(Factor::kGpus)]);
  EXPECT_EQ(m.beta[static_cast<size_t>(Factor::kBatch)], 0.0);
  EXPECT_EQ(m.runs, 24);
  // A 960 FP32 run of 15,000 images from a 640 AMP run of 10,000.
  EXPECT_NEAR(m.Scale(Point(10000, 640, 16, true), Point(15000, 960, 16, false)),
              1.5 * std::pow(1.5, 1.8) / 0.7, 0.02);
  EXPECT_NE(m.Describe().find("batch^0.00 (prior)"), std::string::npos) << m.Describe();
}

TEST(Scaling, CollinearFactorsStayBoundedAndUnknownValuesScaleByOne) {
  // imgsz 1280 always with batch 8: the history cannot tell them apart.
  std::vector<ScalingPoint> pts;
  for (int k = 0; k < 4; ++k) {
    pts.push_back(Point(10000, 640, 16, false));
    pts.push_back(Point(10000, 1280, 8, false));
  }
  const ScalingModel m = FitScaling(pts, 3);
  for (size_t k = 0; k < kFactors; ++k) EXPECT_TRUE(std::isfinite(m.beta[k]));
  EXPECT_GE(m.beta[static_cast<size_t>(Factor::kImgsz)], 0.5);
  EXPECT_LE(m.beta[static_cast<size_t>(Factor::kImgsz)], 3.0);
  // Together they still explain the history's ratio.
  EXPECT_NEAR(m.Scale(Point(10000, 640, 16, false), Point(10000, 1280, 8, false)), std::pow(2.0, 1.8), 0.05);
  // A request that does not give its image size is not scaled by it.
  EXPECT_DOUBLE_EQ(m.Scale(Point(10000, 640, 16, false), MakeScalingPoint(10000, 0, 16, false, 1)),
                   m.Scale(Point(10000, 640, 16, false), MakeScalingPoint(10000, 640, 16, false, 1)));
}

TEST(Scaling, TooFewRunsFitNothing) {
  std::vector<ScalingPoint> pts = {Point(10000, 640, 16, false), Point(10000, 1280, 16, false),
                                   Point(20000, 640, 16, true)};
  const ScalingModel m = FitScaling(pts, 3);
  for (size_t k = 0; k < kFactors; ++k) EXPECT_FALSE(m.fitted[k]);
  EXPECT_EQ(m.beta[static_cast<size_t>(Factor::kImgsz)], 2.0);
}

}  // namespace
}  // namespace gpuledger
