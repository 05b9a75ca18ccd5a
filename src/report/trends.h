// Behaviour over time, per project (docs/INSIGHT.md): experiments per model size (n, s,
// m, l, x read from model_type) per month with their cost per run; long jobs (over 72 h:
// count, share of runs and of cost, per month); runs started from a shared checkpoint
// versus from scratch (from the run's labels). Months are those the runs started in, in
// the ledger's time zone; a run's cost is its direct cost over every month it spans, as
// of as_of. Pure apart from the Ledger reads; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "report/report.h"

namespace gpuledger {

inline constexpr DurationMs kLongJobMs = 72 * kHourMs;

// "yolov8s" -> "s", "yolo11n" -> "n", "yolov10m-seg" -> "m"; anything else "other".
std::string ModelSize(std::string_view model_type);

// Where a run started from, by its labels: `restart_from` (shared-checkpoint | scratch),
// `resume` (true: "resumed"), `pretrained` (false/none: "scratch"; otherwise
// "shared_checkpoint"), `model` (*.pt: "shared_checkpoint", *.yaml: "scratch");
// "unknown" when none says.
std::string StartedFrom(const Job& j);

struct TrendCell {
  int runs = 0;
  int64_t cost_micros = 0;
  int64_t cost_per_run_micros = 0;  // mean, rounded to the minor unit
};

struct ProjectMonthTrend {
  YearMonth month;
  std::map<std::string, TrendCell> by_size;  // n s m l x other
  int runs = 0;
  int64_t cost_micros = 0;
  int long_runs = 0;  // ran (or have run by as_of) over 72 h
  int64_t long_cost_micros = 0;
  double long_share = 0;                      // of runs, 0..1
  double long_cost_share = 0;                 // of cost, 0..1
  std::map<std::string, TrendCell> by_start;  // shared_checkpoint scratch resumed unknown
};

struct ProjectTrend {
  std::string project;
  std::string department;
  std::vector<ProjectMonthTrend> months;  // ascending
  // Long runs' share of runs, last month minus first (points of 0..1); 0 with one month.
  double long_share_trend = 0;
};

struct Trends {
  ReportScope scope;
  TimeMs as_of = 0;
  bool partial = false;  // the months asked for (all, without `to`) had not ended at as_of
  Currency currency;
  std::optional<YearMonth> from, to;
  std::vector<ProjectTrend> projects;  // by project
};

struct TrendsOptions {
  ReportScope scope;
  std::string project;                // one project only ("" all in scope)
  std::optional<YearMonth> from, to;  // months the runs started in (inclusive)
};

StatusOr<Trends> BuildTrends(Ledger& ledger, const BooksContext& ctx, const TrendsOptions& o, TimeMs as_of);

std::string RenderTrendsJson(const Trends& t);
std::string RenderTrendsTable(const Trends& t);

}  // namespace gpuledger
