// How a finished run's GPU time scales to another configuration (docs/ESTIMATE.md
// "Scaling"): a log-linear model of GPU-hours per epoch in dataset images, image size,
// batch, AMP and GPU count, each factor fitted from the similar runs by least squares
// where the history holds it on at least two values with enough runs each, and fixed
// at its physical prior (images^1, imgsz^2, flat in batch, AMP and GPUs) otherwise.
// Pure; thread-compatible.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace gpuledger {

// The factors the model knows, in this order.
enum class Factor { kImages, kImgsz, kBatch, kAmp, kGpus };
inline constexpr int kFactors = 5;

// One run's configuration as the model sees it: the log of each factor's value (AMP as
// 0/1), `known` false where the run does not say (0 in the books).
struct ScalingPoint {
  std::array<double, kFactors> x{};
  std::array<bool, kFactors> known{};
  double y = 0;  // log of GPU-hours per epoch run (fitting points only)
};
// images, imgsz, batch: counts (0: not given); gpus: GPU share (1.0 = one GPU).
ScalingPoint MakeScalingPoint(double images, double imgsz, double batch, bool amp, double gpus);

struct ScalingModel {
  std::array<double, kFactors> beta{1.0, 2.0, 0.0, 0.0, 0.0};  // the priors
  std::array<bool, kFactors> fitted{};
  int runs = 0;  // points the fit rested on
  // exp(sum of beta x (to - from)) over the factors both points know.
  double Scale(const ScalingPoint& from, const ScalingPoint& to) const;
  // "imgsz^1.93 (fitted), batch^-0.05 (fitted), AMP x0.70 (fitted), images^1 (prior) ..."
  std::string Describe() const;
};

// Fits the factors the points support: a factor is fitted when at least two of its
// values have `min_runs` points each (AMP: both sides); the others stay at their priors.
// A fitted exponent is kept within physical bounds (images [0.5, 1.5], imgsz [0.5, 3],
// batch [-1, 1], AMP [x0.3, x1.5], GPUs [-0.5, 1]).
ScalingModel FitScaling(const std::vector<ScalingPoint>& points, int min_runs);

}  // namespace gpuledger
