#include "sim/run_shapes.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace gpuledger {

const char* RunShapeName(RunShape s) {
  switch (s) {
    case RunShape::kPlateauLowUtil:
      return "plateau_low_util";
    case RunShape::kPlateauBusy:
      return "plateau_busy";
    case RunShape::kSlowImprovement:
      return "slow_improvement";
  }
  return "?";
}

namespace {

ShapedRun MakeRun(RunShape shape, int n, const RunShapesOptions& o, std::mt19937_64& rng) {
  ShapedRun r;
  r.shape = shape;
  r.id = std::string(RunShapeName(shape)) + "-" + std::to_string(n);
  r.epoch_ms = o.epoch_ms;
  const DurationMs length = static_cast<DurationMs>(o.epochs) * o.epoch_ms;
  std::uniform_int_distribution<TimeMs> start(0, std::max<TimeMs>(0, (o.month_ms - length) / kMinuteMs - 1));
  r.start_ms = o.month_start + start(rng) * kMinuteMs;
  std::uniform_int_distribution<int> plateau(o.epochs / 4, o.epochs / 2);
  std::uniform_real_distribution<double> jitter(-2.0, 2.0);
  const bool plateaus = shape != RunShape::kSlowImprovement;
  r.plateau_epoch = plateaus ? plateau(rng) : 0;
  const double l0 = 3.0, floor = 1.2;
  double at_plateau = 0, map_at_plateau = 0;
  for (int e = 1; e <= o.epochs; ++e) {
    ShapedEpoch ep;
    ep.epoch = e;
    ep.time_s = static_cast<double>(static_cast<DurationMs>(e) * o.epoch_ms) / kSecondMs;
    if (!plateaus) {
      ep.train_loss = l0 - 0.004 * e;  // 0.016 per 2 h: slow, but 16 x the breaker's 0.001
      ep.map50 = 0.20 + 0.002 * e;
    } else if (e <= r.plateau_epoch) {
      ep.train_loss = floor + (l0 - floor) * std::exp(-0.25 * e);
      ep.map50 = 0.62 - 0.40 * std::exp(-0.25 * e);
      at_plateau = ep.train_loss;
      map_at_plateau = ep.map50;
    } else {
      ep.train_loss = at_plateau - 0.0001 * (e - r.plateau_epoch);  // 0.0004 per 2 h: flat
      ep.map50 = map_at_plateau;
    }
    r.epochs.push_back(ep);
  }
  const int minutes = static_cast<int>(length / kMinuteMs);
  const DurationMs plateau_at = static_cast<DurationMs>(r.plateau_epoch) * o.epoch_ms;
  for (int m = 0; m < minutes; ++m) {
    double u = 85;
    if (shape == RunShape::kSlowImprovement) u = 30;
    if (shape == RunShape::kPlateauLowUtil && m * kMinuteMs >= plateau_at) u = 20;
    r.util_pct.push_back(std::clamp(u + jitter(rng), 0.0, 100.0));
  }
  return r;
}

}  // namespace

std::vector<ShapedRun> GenerateRunShapes(const RunShapesOptions& o) {
  std::mt19937_64 rng(o.seed);
  std::vector<ShapedRun> runs;
  for (RunShape s : {RunShape::kPlateauLowUtil, RunShape::kPlateauBusy, RunShape::kSlowImprovement})
    for (int n = 1; n <= o.runs_per_shape; ++n) runs.push_back(MakeRun(s, n, o, rng));
  std::sort(runs.begin(), runs.end(), [](const ShapedRun& a, const ShapedRun& b) {
    return a.start_ms != b.start_ms ? a.start_ms < b.start_ms : a.id < b.id;
  });
  return runs;
}

}  // namespace gpuledger
