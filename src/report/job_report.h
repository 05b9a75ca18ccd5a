// The per-job efficiency report (docs/JOB_REPORT.md): one job's utilisation and memory
// per GPU, its phases, density, energy and cost so far, its training epochs, and the
// advice of advice/advice.h, in English or Chinese. Built from the Ledger through books/
// (BuildJobSummary for the cost, the months' usage rows for the per-GPU figures);
// rendered as JSON or text. Not thread-safe (one Ledger); the renderers are pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "advice/advice.h"
#include "report/report.h"

namespace gpuledger {

struct JobGpuFigures {
  std::string gpu_uuid;
  std::string gpu_model;
  int64_t memory_mib = 0;     // the GPU's (0: not registered)
  UsageTotals usage;          // the job's rows on this GPU, every month up to as_of
  int64_t own_peak_mib = -1;  // the job's processes' own peak on it (-1: not reported)
};

struct JobReport {
  JobSummary summary;
  Lang lang = Lang::kEn;
  std::vector<JobGpuFigures> gpus;  // by GPU uuid
  // Training progress (results.csv): the best epoch by mAP@0.5, the last epoch's losses,
  // and the training time the last epoch reports.
  int epochs_planned = 0;
  int epochs_done = 0;
  std::optional<int> best_epoch;
  std::optional<double> best_map50;
  std::optional<double> final_train_loss;
  std::optional<double> final_val_loss;
  std::optional<double> training_time_s;
  RunFacts facts;
  std::vector<Advice> advice;
};

// The facts the advice rules read, from a job, its usage and progress.
RunFacts FactsOf(const Job& job, const UsageTotals& usage, int64_t peak_mib, int64_t gpu_memory_mib,
                 const std::vector<EpochProgress>& progress);

StatusOr<JobReport> BuildJobReport(Ledger& ledger, const BooksContext& ctx, const Job& job, TimeMs as_of,
                                   Lang lang);

std::string RenderJobReportJson(const JobReport& r);
std::string RenderJobReportText(const JobReport& r);

}  // namespace gpuledger
