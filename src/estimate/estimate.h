// The cost estimate at submission (BRIEF §11, docs/ESTIMATE.md): predicted GPU-hours,
// wall-clock duration and cost of a job from similar finished runs, with an interval
// only where the history supports one, and the best practice: the cheapest configuration
// among the project's or the dataset's runs that reached a comparable mAP@0.5. Pure: the
// history comes in as values whose costs were read from the books (report.h
// BuildJobCosts), so an estimate never prices anything a second way. Thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/money.h"
#include "domain/types.h"

namespace gpuledger {

// One finished run as the estimate sees it: its request and what the books say it took.
struct FinishedRun {
  std::string job_id;
  std::string project;
  std::string dataset;
  std::string model_type;
  std::string gpu_model;  // canonical (CanonicalGpuModel)
  int64_t gpu_share_ppm = 0;
  int64_t dataset_images = 0;
  int epochs = 0;  // requested
  int batch = 0;
  int imgsz = 0;
  bool amp = false;
  int patience = 0;                  // requested early stopping (label `patience`); 0: not given
  int epochs_run = 0;                // its last progress epoch; 0: no progress
  int best_epoch = 0;                // the epoch of its best fitness; 0: no progress
  double train_s = 0;                // progress time at its last epoch; 0: not reported
  DurationMs duration_ms = 0;        // end - start
  int64_t gpu_ns = 0;                // allocated GPU time (books)
  int64_t cost_micros = 0;           // direct cost (books)
  int64_t price_micros_per_gpu_hour = 0;  // the price in force at its start; 0: unknown
  std::optional<double> best_map50;  // 0..1
};

struct EstimateOptions {
  int min_runs_point = 3;      // fewer similar runs: thin history, the rate fallback
  int min_runs_interval = 10;  // fewer: a point estimate and no interval
  double low_quantile = 0.10;  // the interval: P10..P90 (80 % nominal)
  double high_quantile = 0.90;
  double map_margin = 0.01;  // best practice: mAP@0.5 within this of the reference (1 point)
  int min_runs_amp = 3;      // a factor is fitted only with this many runs on each of two values
  int min_runs_best = 2;     // best practice: a configuration needs this many qualifying runs
};

// What the estimate predicts for one quantity: the median, and the interval when known.
struct Predicted {
  double mid = 0;
  std::optional<double> low, high;
};

struct BestPractice {
  std::string scope;  // "project vision" or "dataset coco128"
  std::string model_type, gpu_model;
  int epochs = 0, batch = 0, imgsz = 0, patience = 0;
  bool amp = false;
  int runs = 0;                // runs of this configuration it rests on
  int64_t cost_micros = 0;     // their median cost (books), rounded to the minor unit
  double map50 = 0;            // their median best mAP@0.5
  double reference_map50 = 0;  // what this configuration's history reaches
  int candidates = 0;          // runs that reached the threshold, all configurations
};

struct Estimate {
  enum class Basis { kHistory, kRate, kNone };
  Basis basis = Basis::kNone;
  std::string similar;  // "yolov8s on A10G"
  int runs = 0;         // similar runs it rests on
  Predicted gpu_hours;
  Predicted duration_h;
  Predicted cost_micros;  // rounded to the currency's minor unit
  Predicted epochs;       // epochs the run is predicted to train (early stopping)
  std::string scaling;    // the scaling model: each factor's exponent, fitted or prior
  std::string stopping;   // how early stopping and the final validation were taken
  std::string amp_note;   // how AMP was handled
  std::vector<std::string> notes;
  std::optional<BestPractice> best;
  std::string best_note;  // why there is none
};
std::string_view EstimateBasisName(Estimate::Basis b);

// The GPU-hour rate of the requested model now (the price book's), for the fallback;
// 0 when the model has no price.
struct RateInfo {
  int64_t micros_per_gpu_hour = 0;  // the history's costs are re-priced to it
  Currency currency;
};

// Ultralytics' patience of a job: its label `patience` (the metadata of BRIEF §1 has no
// field for it; the label is what a spec, the CLI and the Python client send), 0 when
// absent or not a whole number of epochs.
int JobPatience(const Job& j);

Estimate EstimateJob(const Job& request, const std::vector<FinishedRun>& history, const RateInfo& rate,
                     const EstimateOptions& options = {});

enum class Lang { kEn, kZh };
StatusOr<Lang> ParseLang(std::string_view s);
// zh when $LANG (or $LC_ALL) starts with zh, else en.
Lang LangFromEnvironment();
// The lines printed before "continue?", ending with the question
// ("当前配置预计消耗45元,历史同类任务最佳实践为28元,是否继续?").
std::string RenderEstimateText(const Estimate& e, const Currency& c, Lang lang);
// "45.00 CNY" / "45元" (CNY in Chinese), exact from micros.
std::string FormatAmount(int64_t micros, const Currency& c, Lang lang);
// The estimate as a JSON object (the API's and the stored detail).
std::string EstimateJson(const Estimate& e, const Currency& c);

}  // namespace gpuledger
