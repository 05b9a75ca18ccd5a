// The monthly report model: usage rows and cost items grouped by one dimension, with
// the unallocated-capacity line, the capacity total, the previous month and the idle
// analysis. Built from the Ledger through books/; rendered by render.h. Thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "books/books.h"
#include "cost/cost_engine.h"
#include "domain/usage_totals.h"
#include "report/periods.h"
#include "report/silent_holds.h"

namespace gpuledger {

enum class GroupBy { kDepartment, kProject, kUser, kModel, kImage, kFramework, kGpuModel, kJob };
StatusOr<GroupBy> ParseGroupBy(std::string_view s);
std::string_view GroupByName(GroupBy g);

// One GPU model's part of a report line (exports price per GPU model: FOCUS rows).
struct ReportPart {
  std::string gpu_model;
  int64_t jobs = 0;
  UsageTotals usage;
  int64_t cost_micros = 0;
  int64_t idle_share_micros = 0;
  int64_t total_micros() const { return cost_micros + idle_share_micros; }
};

struct ReportLine {
  std::string key;
  int64_t jobs = 0;
  UsageTotals usage;
  int64_t cost_micros = 0;        // direct cost, GPU time + energy
  int64_t idle_share_micros = 0;  // share of unallocated cost (share-idle mode)
  std::optional<int64_t> prev_cost_micros;
  // The line by GPU model, by model name; its parts' figures sum to the line's. Set for
  // `lines`, `unallocated` and `unpriced` (not for `total`). With share_idle the
  // unallocated line's parts keep the idle cost before it was shared out.
  std::vector<ReportPart> parts;

  // Adjustment lines only: the closed month (YYYY-MM) this line corrects (report/close.h).
  std::string corrects;

  // The line's jobs' paused time within the report's window (wall time, summed over
  // jobs, as the job summary's paused_hours), and the part with the GPUs freed (not
  // billed). A job's pauses count in the line of its first priced item.
  DurationMs paused_ms = 0;
  DurationMs paused_freed_ms = 0;

  int64_t total_micros() const { return cost_micros + idle_share_micros; }
};

// Where one GPU model's (or one GPU's) capacity went.
struct IdleByModel {
  std::string gpu_model;
  std::string gpu_uuid;  // set in the per-GPU list only
  GpuNsSum capacity_ns = 0;
  GpuNsSum allocated_ns = 0;
  GpuNsSum unallocated_ns = 0;
  GpuNsSum held_idle_ns = 0;     // allocated, sampled, util < 5 %
  GpuNsSum held_no_data_ns = 0;  // allocated without samples
  int64_t unallocated_micros = 0;
};

// Whose jobs a report may show (BRIEF §10). Empty: the whole cluster. A scoped report
// holds only the scope's jobs: no unallocated line, no cluster capacity, no idle
// analysis; its total is the sum of its lines.
struct ReportScope {
  std::string project;     // a user's view
  std::string department;  // a department admin's view
  bool empty() const { return project.empty() && department.empty(); }
};

struct MonthlyReport {
  // The month, or for a period that is not one whole month (BuildPeriodReport) the month
  // its window starts in.
  YearMonth month;
  // A range's period (report/periods.h) this report is, by its label; empty for a plain
  // monthly report.
  std::string period;
  // The figures are a calendar month's books: closed or not, with the month before and
  // the corrections the month carries. False for a period that is not a whole month:
  // a window of the live books (no comparison, no adjustments, never closed).
  bool month_books = true;
  ReportScope scope;
  std::string timezone;
  Window window;        // what the figures cover: the month, or up to as_of when partial
  Window month_window;  // the whole calendar month in the ledger's time zone (UTC instants)
  TimeMs as_of = 0;
  Currency currency;
  GroupBy by = GroupBy::kDepartment;
  IdlePools idle_pools = IdlePools::kPerGpuModel;  // how share_idle spreads idle cost
  std::vector<ReportLine> lines;                   // by total cost, descending; then key
  ReportLine unallocated;                          // key "(unallocated capacity)"
  // Usage of GPU models with no price in force, one line per model ("(unpriced) A10G"),
  // jobs' and unallocated time together, at no cost; not in `lines`, in total's usage
  // but not in its cost. Each has a warning.
  std::vector<ReportLine> unpriced;
  std::vector<std::string> warnings;
  // Corrections of closed months this month carries (report/close.h): one line per
  // (corrected month, key), money only (no usage), by corrected month then key. In total.
  std::vector<ReportLine> adjustments;
  // The month is closed (`closed` below): its figures are the frozen books, checked
  // against this checksum.
  TimeMs closed_ms = 0;
  std::string close_checksum;
  ReportLine total;  // everything: equals capacity x price, plus the adjustments
  std::vector<IdleByModel> idle;         // per GPU model, with the unallocated cost
  std::vector<IdleByModel> idle_by_gpu;  // per GPU (time only), most unallocated first
  int64_t idle_by_gpu_omitted = 0;       // GPUs cut from idle_by_gpu's end by a reader's limit
  int64_t count_only_jobs = 0;           // jobs priced from a GPU count, not from GPUs
  // Holds open at as_of that have had no sample for ctx.held_without_samples_after_ms
  // (report/silent_holds.h): billed, but nothing says the GPU is there. Only while the
  // month is in progress (as_of inside it); scoped like the lines.
  std::vector<SilentHold> held_without_samples;
  bool partial = false;                  // the month had not ended at as_of
  bool share_idle = false;
  bool closed = false;
};

// The total line as the renderings show it: r.total with its money split as its lines'
// is. r.total.cost_micros is the whole amount; with share_idle its direct part is that
// less the idle cost shared out to the lines, which is its idle share, so the total's
// direct cost and idle share are the sums of the lines' (unallocated and adjustments
// included). total_micros() is r.total's. Pure.
ReportLine ShownTotal(const MonthlyReport& r);

// The month's books as of `as_of` (the server's clock, or the CLI's --as-of): a month in
// progress is partial, one that has not begun is FailedPrecondition.
StatusOr<MonthlyReport> BuildMonthlyReport(Ledger& ledger, const BooksContext& ctx, YearMonth month,
                                           TimeMs as_of, GroupBy by, bool share_idle,
                                           const ReportScope& scope = {},
                                           IdlePools idle_pools = IdlePools::kPerGpuModel);

// One period of a range: a whole calendar month is BuildMonthlyReport's; any other
// window is the live books of that window (books/books.h WindowUsage), priced on its
// own, with no month before and no adjustments.
StatusOr<MonthlyReport> BuildPeriodReport(Ledger& ledger, const BooksContext& ctx, const Period& period,
                                          TimeMs as_of, GroupBy by, bool share_idle,
                                          const ReportScope& scope = {},
                                          IdlePools idle_pools = IdlePools::kPerGpuModel);

// A date range's report, period by period (like sreport). Each period is priced on its
// own and rounded to the minor unit, so `total_micros` is the periods' sum; periods that
// have not begun at as_of are left out (the range is then partial), and a range that has
// not begun is FailedPrecondition.
struct RangeReport {
  DateRange range;
  TimeMs as_of = 0;
  bool partial = false;  // some period was in progress, or had not begun, at as_of
  std::string timezone;
  Currency currency;
  GroupBy by = GroupBy::kDepartment;
  std::vector<MonthlyReport> periods;
  int64_t total_micros = 0;
  UsageTotals usage;  // the periods' totals' usage summed
};
StatusOr<RangeReport> BuildRangeReport(Ledger& ledger, const BooksContext& ctx, const DateRange& range,
                                       TimeMs as_of, GroupBy by, bool share_idle, const ReportScope& scope = {},
                                       IdlePools idle_pools = IdlePools::kPerGpuModel);

// One job with its metrics and direct cost so far, over every month it spans up to
// as_of (months are metered again where stale, so a running job's figures move with its
// samples; an open hold ends at as_of, never at its month's end).
// Where a job's peak GPU memory comes from: its processes' own figures (the agent reads
// NVML's per-process memory: on a GPU several jobs share, what this job used), or only
// the whole GPUs it held (dcgm-exporter: on a shared GPU that counts the other jobs too).
enum class MemorySource { kNone, kProcess, kGpu };
std::string_view MemorySourceName(MemorySource s);  // none | process | gpu

struct JobSummary {
  Job job;
  TimeMs as_of = 0;
  // The job's window is not over at as_of (it, or one of its holds, has not ended): its
  // figures are so far.
  bool partial = false;
  Currency currency;
  UsageTotals usage;
  // usage.peak_mem_mib is the job's processes' own peak where the agent reported one.
  MemorySource mem_source = MemorySource::kNone;
  // The job's holds open at as_of, taken at least ctx.held_without_samples_after_ms
  // before it, whose GPU has had no sample for that long: billed, but nobody sees the GPU.
  std::vector<SilentHold> silent_holds;
  int64_t cost_micros = 0;
  int epochs_done = 0;
  std::optional<double> best_map50;
  int64_t unpriced_gpu_ns = 0;  // part of usage on GPU models with no price: not in cost_micros
  // Its pauses up to as_of (docs/POLICIES.md): all of it, and the part during which its
  // GPUs were freed (Kubernetes suspend, Slurm requeue: not billed to it; the rest is).
  DurationMs paused_ms = 0;
  DurationMs paused_freed_ms = 0;
};
StatusOr<JobSummary> BuildJobSummary(Ledger& ledger, const BooksContext& ctx, const Job& job, TimeMs as_of);

// Each job's direct cost and usage over every month it spans up to as_of: the books
// BuildJobSummary and the leaderboard read, for many jobs at once (the estimate's
// history). Jobs that never started or held nothing are absent.
struct JobCost {
  int64_t cost_micros = 0;
  UsageTotals usage;
};
StatusOr<std::map<std::string, JobCost>> BuildJobCosts(Ledger& ledger, const BooksContext& ctx,
                                                         const std::vector<Job>& jobs, TimeMs as_of);

struct LeaderboardRow {
  std::string config;  // model_type
  int runs = 0;
  double map50_pts = 0;        // mean of each run's best mAP@0.5, in points (0..100)
  double train_hours = 0;      // mean wall-clock hours
  double peak_mem_gib = 0;     // max over runs of each run's peak
  double typical_mem_gib = 0;  // median over runs of each run's peak
  std::string mem_source;      // process | gpu | mixed: where the runs' peaks come from
  // Sums over the runs, so density can be checked from its parts: dense / covered over all
  // the runs' sampled time (nothing when no run has a sample).
  double busy_gpu_hours = 0, covered_gpu_hours = 0, dense_gpu_hours = 0;
  std::optional<double> density;
  int64_t cost_per_run_micros = 0;  // mean, rounded to the minor unit
  int64_t cost_per_map_point_micros = 0;
};

struct Leaderboard {
  Currency currency;
  std::optional<YearMonth> month;
  TimeMs as_of = 0;
  // The month had not ended at as_of; all months to date are always partial (a run that
  // ends later joins the board).
  bool partial = true;
  std::vector<LeaderboardRow> rows;  // cheapest per mAP point first
};

// Runs with training progress that ended (in `month`, when given), grouped by model
// configuration. A run's cost is its direct cost over every month it spans.
StatusOr<Leaderboard> BuildLeaderboard(Ledger& ledger, const BooksContext& ctx,
                                       std::optional<YearMonth> month, TimeMs as_of);

}  // namespace gpuledger
