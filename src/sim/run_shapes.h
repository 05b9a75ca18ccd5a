// Training runs of three shapes for the circuit breaker's replay (#13 "Must show";
// docs/POLICIES.md "Breaker replay"): each run's epochs (time, the sum of its train/*
// losses, mAP@0.5) and its GPU's utilisation per minute, spread over a month.
//   - kPlateauLowUtil: the loss falls, then stays flat (improving by 0.0001 an epoch) while
//     the GPU's utilisation drops to ~20 %: what the breaker is for.
//   - kPlateauBusy: the same plateau with the GPU still ~85 % busy (a data-bound or
//     evaluation-heavy tail that the breaker must spare: its utilisation is not low).
//   - kSlowImprovement: ~30 % utilisation throughout, the loss falling slowly but really
//     (0.004 an epoch) and mAP rising: not plateaued.
// Deterministic from the seed. Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/time.h"

namespace gpuledger {

enum class RunShape { kPlateauLowUtil, kPlateauBusy, kSlowImprovement };
const char* RunShapeName(RunShape s);  // plateau_low_util | plateau_busy | slow_improvement

struct ShapedEpoch {
  int epoch = 0;
  double time_s = 0;  // since the run's start, at the epoch's end (results.csv's `time`)
  double train_loss = 0;
  double map50 = 0;
};

struct ShapedRun {
  std::string id;
  RunShape shape = RunShape::kPlateauLowUtil;
  TimeMs start_ms = 0;
  DurationMs epoch_ms = 0;
  std::vector<ShapedEpoch> epochs;
  std::vector<double> util_pct;  // one per minute from start_ms, to the last epoch's end
  int plateau_epoch = 0;         // the last epoch that still improved (0: none, it never plateaus)
  TimeMs end_ms() const { return start_ms + static_cast<DurationMs>(epochs.size()) * epoch_ms; }
  // The time after the plateau began (0 without one): training that bought nothing.
  DurationMs plateau_ms() const {
    return plateau_epoch == 0 ? 0 : static_cast<DurationMs>(epochs.size() - plateau_epoch) * epoch_ms;
  }
};

struct RunShapesOptions {
  uint64_t seed = 1;
  TimeMs month_start = 0;
  DurationMs month_ms = 30 * kDayMs;
  int runs_per_shape = 4;
  int epochs = 40;
  DurationMs epoch_ms = 30 * kMinuteMs;
};

// runs_per_shape runs of each shape, started at seeded times over the month (each ends
// within it), ids "<shape>-<n>", by start.
std::vector<ShapedRun> GenerateRunShapes(const RunShapesOptions& o);

}  // namespace gpuledger
