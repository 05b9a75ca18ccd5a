// Version and variant comparison (docs/INSIGHT.md): runs grouped by image tag, framework
// version or model type, with each group's share of cost and GPU-hours, a normalised time
// per epoch, typical and peak memory per job, how many instances fit one GPU of each
// model in service, and mAP@0.5; and two named variants side by side. Built from the
// same books as the report (BuildJobCosts). Pure apart from the Ledger reads;
// thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/report.h"

namespace gpuledger {

enum class CompareBy { kImage, kFramework, kModel };
StatusOr<CompareBy> ParseCompareBy(std::string_view s);  // image | framework | model
std::string_view CompareByName(CompareBy b);

// One run, as the comparison reads it (exposed for tests of the normalisation).
struct CompareRun {
  std::string key;  // the variant: image tag, framework or model type
  std::string model_type;
  std::string gpu_model;  // the job's, or its first allocation's
  int gpus = 1;           // GPUs held at once (ceil of the share)
  int64_t dataset_images = 0;
  int imgsz = 0;
  std::optional<double> epoch_s;  // seconds per epoch from its progress
  int64_t cost_micros = 0;
  double gpu_hours = 0;
  std::optional<int64_t> peak_mem_mib;  // the job's own (process) peak, else its GPUs'
  std::optional<double> best_map50;     // 0..1
};

struct VariantRow {
  std::string key;
  int runs = 0;
  int64_t cost_micros = 0;
  double cost_share = 0;  // of the scope's comparable cost, 0..1
  double gpu_hours = 0;
  double gpu_hours_share = 0;  // 0..1
  // Median over runs with progress of the normalised seconds per epoch (see
  // NormaliseEpochTimes); runs_timed of them had progress with time.
  std::optional<double> norm_epoch_s;
  int runs_timed = 0;
  std::optional<double> typical_mem_gib;  // median of runs' peaks
  std::optional<double> peak_mem_gib;     // largest run peak
  // Instances that fit one GPU of each model in service: floor(GPU memory / peak).
  std::map<std::string, int64_t> fit_per_gpu;
  std::optional<double> map50_pts;  // mean of runs' best mAP@0.5, 0..100
};

struct Comparison {
  CompareBy by = CompareBy::kImage;
  std::optional<YearMonth> month;
  ReportScope scope;
  TimeMs as_of = 0;
  bool partial = false;  // the month (all time, without one) had not ended at as_of
  Currency currency;
  std::vector<VariantRow> rows;  // by cost, descending; then key
  int64_t total_cost_micros = 0;
  // Two named variants (--a/--b), when asked for; b_vs_a_epoch is b's normalised epoch
  // time over a's (0.77: b is 23 % faster).
  std::optional<VariantRow> a, b;
  std::optional<double> b_vs_a_epoch;
};

struct CompareOptions {
  CompareBy by = CompareBy::kImage;
  std::optional<YearMonth> month;  // runs that started in it; none: all
  ReportScope scope;
  std::string a, b;  // both or neither
};

// Divides each run's seconds per epoch by the epoch's work, (images / 1000) x (imgsz /
// 640)^2, then by a factor for each of the run's model type (unless by == kModel) and
// its GPU model x GPU count: the median work-normalised time of runs with that model
// (or GPU) over the median of all timed runs. Returns one value per run (nullopt where
// the run has no epoch time or no dataset size). Pure.
std::vector<std::optional<double>> NormaliseEpochTimes(const std::vector<CompareRun>& runs, CompareBy by);

// Groups runs into variant rows (pure).
Comparison CompareRuns(const std::vector<CompareRun>& runs, CompareBy by,
                       const std::map<std::string, int64_t>& gpu_memory_mib);

StatusOr<Comparison> BuildComparison(Ledger& ledger, const BooksContext& ctx, const CompareOptions& o,
                                     TimeMs as_of);

std::string RenderComparisonJson(const Comparison& c);
std::string RenderComparisonTable(const Comparison& c);

}  // namespace gpuledger
