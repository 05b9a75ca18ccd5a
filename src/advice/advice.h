// Advice for one training run in plain words, from the documented rules of
// docs/JOB_REPORT.md ("Advice"), in English or Chinese. The rules read only the facts
// given (RunFacts): pure, no I/O; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "estimate/estimate.h"  // Lang and ParseLang, shared with the estimate's text

namespace gpuledger {

std::string_view LangName(Lang l);  // en | zh

// What the rules look at, from the job's metered books and its training progress.
struct RunFacts {
  bool sampled = false;            // the job has samples (without them no utilisation rule applies)
  double loading_share = 0;        // loading phase / allocated GPU time, 0..1
  double tail_share = 0;           // tail phase / allocated GPU time, 0..1
  double steady_density = 0;       // dense time / steady time: how often the GPU is busy between steps
  double mean_util = 0;            // 0..1 over covered time
  std::optional<double> cpu_busy;  // the node's CPU busy share while loading, when known (0..1)
  int64_t peak_mem_mib = 0;        // the job's peak on one GPU
  int64_t gpu_memory_mib = 0;      // that GPU's memory (0: unknown)
  bool has_run_args = false;       // batch and amp are known (the job was registered with them)
  int batch = 0;
  bool amp = false;
  int epochs_planned = 0;
  int epochs_done = 0;
  std::optional<int> best_epoch;  // by mAP@0.5
};

// The rules' thresholds (docs/JOB_REPORT.md).
inline constexpr double kLongLoadingShare = 0.10;
inline constexpr double kBusyCpu = 0.70;
inline constexpr double kStarvedSteadyDensity = 0.70;
inline constexpr double kLowMemoryShare = 0.50;
inline constexpr double kLongTailShare = 0.20;
inline constexpr double kEarlyBestEpochShare = 0.60;
inline constexpr int kMinEpochsForBestEpochRule = 10;

struct Advice {
  std::string rule;      // data_loader | larger_batch | enable_amp | early_stopping
  std::string text;      // what to do, in the language asked
  std::string evidence;  // the facts that fired the rule, in that language
};

// Each rule that fires, in the order above; none for a run the rules find nothing in.
std::vector<Advice> Advise(const RunFacts& f, Lang lang);

}  // namespace gpuledger
