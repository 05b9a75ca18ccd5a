#include "report/report.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "common/stats.h"
#include "common/strings.h"
#include "cost/cost_engine.h"
#include "domain/gpu_model.h"
#include "report/close.h"

namespace gpuledger {

StatusOr<GroupBy> ParseGroupBy(std::string_view s) {
  static const std::pair<std::string_view, GroupBy> kNames[] = {{"department", GroupBy::kDepartment},
                                                                {"project", GroupBy::kProject},
                                                                {"user", GroupBy::kUser},
                                                                {"model", GroupBy::kModel},
                                                                {"image", GroupBy::kImage},
                                                                {"framework", GroupBy::kFramework},
                                                                {"gpu-model", GroupBy::kGpuModel},
                                                                {"job", GroupBy::kJob}};
  for (const auto& [name, g] : kNames) {
    if (s == name) return g;
  }
  return InvalidArgument(
      "--by '" + std::string(s) +
      "' is not one of department, project, user, model, image, framework, gpu-model, job");
}

std::string_view GroupByName(GroupBy g) {
  switch (g) {
    case GroupBy::kDepartment:
      return "department";
    case GroupBy::kProject:
      return "project";
    case GroupBy::kUser:
      return "user";
    case GroupBy::kModel:
      return "model";
    case GroupBy::kImage:
      return "image";
    case GroupBy::kFramework:
      return "framework";
    case GroupBy::kGpuModel:
      return "gpu-model";
    case GroupBy::kJob:
      return "job";
  }
  return "?";
}

namespace {

// Job id -> the report's key for that job (department, user, ...). Empty for the
// dimensions that need no job field (GPU model, job).
using JobKeys = std::unordered_map<std::string, std::string>;

StatusOr<JobKeys> LoadJobKeys(Ledger& ledger, GroupBy by) {
  JobKeys keys;
  Ledger::JobField field;
  switch (by) {
    case GroupBy::kDepartment:
      field = Ledger::JobField::kDepartment;
      break;
    case GroupBy::kProject:
      field = Ledger::JobField::kProject;
      break;
    case GroupBy::kUser:
      field = Ledger::JobField::kUser;
      break;
    case GroupBy::kModel:
      field = Ledger::JobField::kModelType;
      break;
    case GroupBy::kImage:
      field = Ledger::JobField::kImage;
      break;
    case GroupBy::kFramework:
      field = Ledger::JobField::kFramework;
      break;
    default:
      return keys;
  }
  ASSIGN_OR_RETURN(auto pairs, ledger.ListJobField(field));
  keys.reserve(pairs.size());
  for (auto& [id, value] : pairs) keys.emplace(std::move(id), value.empty() ? "(unknown)" : std::move(value));
  return keys;
}

std::string KeyOf(GroupBy by, const JobKeys& keys, const std::string& job_id, const std::string& gpu_model) {
  if (by == GroupBy::kGpuModel) return gpu_model;
  if (by == GroupBy::kJob) return job_id;
  auto it = keys.find(job_id);
  return it == keys.end() ? "(job not registered)" : it->second;
}

struct PricedMonth {
  MonthBooks books;
  CostBook cost;
  std::optional<ClosedBooks> closed;  // the month is closed: books and cost are its frozen ones
  std::string checksum;
};

StatusOr<PricedMonth> PriceMonth(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs as_of,
                                 bool share_idle, IdlePools pools = IdlePools::kPerGpuModel) {
  PricedMonth pm;
  ASSIGN_OR_RETURN(pm.closed, LoadClosedBooks(ledger, month));
  if (pm.closed) {  // frozen rows, priced with the frozen price list: the same books on every read
    const ClosedBooks& c = *pm.closed;
    pm.books.month = month;
    pm.books.window = c.window;
    pm.books.as_of = c.closed_ms;
    pm.books.rows = c.rows;
    pm.books.frozen = true;
    ASSIGN_OR_RETURN(PriceBook frozen, PriceBook::Create(ctx.prices.currency(), c.prices));
    ASSIGN_OR_RETURN(pm.cost, PriceUsage(pm.books.rows, frozen, share_idle, pools));
    if (pm.cost.total_micros != c.total_micros) {
      return Internal("closed month " + month.ToString() + ": its frozen books price to " +
                      std::to_string(pm.cost.total_micros) + " micros, closed at " +
                      std::to_string(c.total_micros) + ": not served");
    }
    ASSIGN_OR_RETURN(std::optional<MonthClose> rec, ledger.GetMonthClose(month.ToString()));
    if (rec) pm.checksum = rec->checksum;
    return pm;
  }
  ASSIGN_OR_RETURN(pm.books, MonthUsage(ledger, ctx, month, as_of));
  ASSIGN_OR_RETURN(pm.cost, PriceUsage(pm.books.rows, ctx.prices, share_idle, pools));
  return pm;
}

// Each job's direct cost (rounded per month, then summed) and usage over `months`.
Status JobTotals(Ledger& ledger, const BooksContext& ctx, const std::set<YearMonth>& months, TimeMs as_of,
                 std::map<std::string, int64_t>* cost, std::map<std::string, UsageTotals>* usage,
                 std::map<std::string, int64_t>* unpriced_ns = nullptr) {
  for (YearMonth m : months) {
    ASSIGN_OR_RETURN(PricedMonth pm, PriceMonth(ledger, ctx, m, as_of, /*share_idle=*/false));
    for (const CostItem& it : pm.cost.items) {
      (*cost)[it.job_id] += it.cost_micros;
      (*usage)[it.job_id].Add(it.usage);
      if (it.unpriced && unpriced_ns != nullptr) (*unpriced_ns)[it.job_id] += it.usage.gpu_ns;
    }
  }
  return OkStatus();
}

// A job's peak memory: its processes' own peak over every GPU it ran on (rows first seen
// by as_of; a row's peak is the largest reported through its last report), else the
// metered peak of the whole GPUs it held.
StatusOr<MemorySource> OwnPeakMemory(Ledger& ledger, const std::string& job_id, TimeMs as_of,
                                     UsageTotals* usage) {
  ASSIGN_OR_RETURN(std::vector<JobGpuMemory> own, ledger.GetJobGpuMemory(job_id));
  int64_t peak = -1;
  for (const JobGpuMemory& m : own) {
    if (m.first_ms <= as_of) peak = std::max(peak, m.peak_mib);
  }
  if (peak >= 0) {
    usage->peak_mem_mib = peak;
    return MemorySource::kProcess;
  }
  return usage->peak_mem_mib > 0 ? MemorySource::kGpu : MemorySource::kNone;
}

}  // namespace

std::string_view MemorySourceName(MemorySource s) {
  switch (s) {
    case MemorySource::kProcess:
      return "process";
    case MemorySource::kGpu:
      return "gpu";
    case MemorySource::kNone:
      break;
  }
  return "none";
}

StatusOr<JobSummary> BuildJobSummary(Ledger& ledger, const BooksContext& ctx, const Job& job, TimeMs as_of) {
  JobSummary s;
  s.job = job;
  s.as_of = as_of;
  s.currency = ctx.prices.currency();
  ASSIGN_OR_RETURN(std::vector<EpochProgress> progress, ledger.GetProgress(job.id));
  s.epochs_done = progress.empty() ? 0 : progress.back().epoch;
  for (const EpochProgress& e : progress) {
    if (e.map50 && (!s.best_map50 || *e.map50 > *s.best_map50)) s.best_map50 = e.map50;
  }
  // The months the job's books touch: its run and its holds (a job known only by its
  // label may have holds and no start), up to as_of.
  ASSIGN_OR_RETURN(std::vector<Allocation> holds, ledger.AllocationsOfJob(job.id));
  TimeMs from = job.start_ms ? job.start_ms : kMaxTimeMs;
  TimeMs until = job.start_ms ? (job.end_ms ? job.end_ms : as_of) : kMinTimeMs;
  for (const Allocation& a : holds) {
    from = std::min(from, a.start_ms);
    until = std::max(until, a.end_ms ? a.end_ms : as_of);
  }
  until = std::min(until, as_of);
  ASSIGN_OR_RETURN(std::vector<JobPause> pauses, ledger.ListPauses(job.id));
  for (const JobPause& p : pauses) {
    const TimeMs end = std::min(p.resumed_ms == 0 ? as_of : p.resumed_ms, as_of);
    if (end <= p.paused_ms) continue;
    s.paused_ms += end - p.paused_ms;
    if (p.gpus_freed) s.paused_freed_ms += end - p.paused_ms;
  }
  s.partial = job.end_ms == 0 || job.end_ms > as_of;
  for (const Allocation& a : holds) s.partial = s.partial || a.end_ms == 0 || a.end_ms > as_of;
  const bool running = job.start_ms != 0 && job.start_ms <= as_of && (job.end_ms == 0 || job.end_ms > as_of);
  if (running) {
    ASSIGN_OR_RETURN(s.silent_holds,
                     FindSilentHolds(ledger, holds, as_of, ctx.held_without_samples_after_ms));
  }
  if (from >= until) return s;  // nothing held or run by as_of: nothing metered yet
  std::set<YearMonth> months;
  ASSIGN_OR_RETURN(YearMonth first, ctx.tz.MonthOf(from));
  ASSIGN_OR_RETURN(YearMonth last, ctx.tz.MonthOf(until - 1));
  for (YearMonth m = first; m <= last; m = m.Next()) months.insert(m);
  std::map<std::string, int64_t> cost;
  std::map<std::string, UsageTotals> usage;
  std::map<std::string, int64_t> unpriced;
  RETURN_IF_ERROR(JobTotals(ledger, ctx, months, as_of, &cost, &usage, &unpriced));
  s.cost_micros = cost[job.id];
  s.usage = usage[job.id];
  s.unpriced_gpu_ns = unpriced[job.id];
  ASSIGN_OR_RETURN(s.mem_source, OwnPeakMemory(ledger, job.id, as_of, &s.usage));
  return s;
}

// Job id -> in scope? Empty map when the scope is the whole cluster.
StatusOr<std::unordered_map<std::string, bool>> ScopeFilter(Ledger& ledger, const ReportScope& scope) {
  std::unordered_map<std::string, bool> in;
  if (scope.empty()) return in;
  const bool by_project = !scope.project.empty();
  ASSIGN_OR_RETURN(auto pairs, ledger.ListJobField(by_project ? Ledger::JobField::kProject
                                                              : Ledger::JobField::kDepartment));
  const std::string& want = by_project ? scope.project : scope.department;
  for (auto& [id, value] : pairs) in.emplace(std::move(id), value == want);
  return in;
}

namespace {

MonthlyReport ReportHead(const BooksContext& ctx, TimeMs as_of, GroupBy by, bool share_idle,
                         const ReportScope& scope, IdlePools idle_pools) {
  MonthlyReport rep;
  rep.idle_pools = idle_pools;
  rep.timezone = ctx.tz.name();
  rep.currency = ctx.prices.currency();
  rep.by = by;
  rep.share_idle = share_idle;
  rep.scope = scope;
  rep.as_of = as_of;
  return rep;
}

// What a report reads: the books of its window, priced, and who may see which job.
struct ReportInput {
  Window window;
  bool partial = false;
  const std::vector<UsageRow>* rows = nullptr;
  const CostBook* cost = nullptr;
  GroupBy by = GroupBy::kDepartment;
  ReportScope scope;
};

class Visibility {
 public:
  static StatusOr<Visibility> Load(Ledger& ledger, const ReportScope& scope) {
    Visibility v;
    v.scope_ = scope;
    ASSIGN_OR_RETURN(v.in_scope_, ScopeFilter(ledger, scope));
    return v;
  }
  bool operator()(const std::string& job_id) const {
    if (scope_.empty()) return true;
    if (job_id.empty()) return false;  // unallocated capacity is cluster-level
    auto it = in_scope_.find(job_id);
    return it != in_scope_.end() && it->second;
  }

 private:
  ReportScope scope_;
  std::unordered_map<std::string, bool> in_scope_;
};

// The lines, unallocated and unpriced lines, total, paused time, idle analysis and
// silent holds of a window's priced books: everything but what only a calendar month has
// (its close, the month before, its adjustments).
Status FillReport(Ledger& ledger, const BooksContext& ctx, const ReportInput& in, const JobKeys& keys,
                  const Visibility& visible, MonthlyReport& rep) {
  const GroupBy by = in.by;
  const ReportScope& scope = in.scope;
  const TimeMs as_of = rep.as_of;
  const CostBook& cost = *in.cost;
  rep.window = in.window;
  rep.partial = in.partial;

  std::map<std::string, ReportLine> lines;
  std::map<std::string, std::string> last_job;  // items come sorted by job: count each once
  // Per line key, its parts by GPU model (an item is one job on one model: each counts once).
  std::map<std::string, std::map<std::string, ReportPart>> parts;
  auto add_part = [&](const std::string& key, const CostItem& it) {
    ReportPart& p = parts[key][it.gpu_model];
    p.gpu_model = it.gpu_model;
    p.usage.Add(it.usage);
    p.cost_micros += it.cost_micros;
    p.idle_share_micros += it.idle_share_micros;
    if (!it.job_id.empty()) ++p.jobs;
  };
  rep.unallocated.key = "(unallocated capacity)";
  rep.total.key = "total";
  std::string prev_job;
  std::map<std::string, ReportLine> unpriced;      // by GPU model
  std::map<std::string, std::string> line_of_job;  // a job's first priced line: where its pauses count
  for (const CostItem& it : cost.items) {
    if (!visible(it.job_id)) continue;
    rep.total.usage.Add(it.usage);
    if (!it.job_id.empty() && prev_job != it.job_id) {
      ++rep.total.jobs;
      prev_job = it.job_id;
    }
    if (it.unpriced) {  // its own line: usage without a price is never a failure of the report
      ReportLine& line = unpriced[it.gpu_model];
      line.key = "(unpriced) " + it.gpu_model;
      line.usage.Add(it.usage);
      add_part(line.key, it);
      if (!it.job_id.empty()) ++line.jobs;  // one item per (job, model) unpriced
      continue;
    }
    if (it.job_id.empty()) {
      rep.unallocated.usage.Add(it.usage);
      add_part(rep.unallocated.key, it);
      continue;
    }
    const std::string key = KeyOf(by, keys, it.job_id, it.gpu_model);
    line_of_job.try_emplace(it.job_id, key);
    add_part(key, it);
    ReportLine& line = lines[key];
    line.key = key;
    line.usage.Add(it.usage);
    line.cost_micros += it.cost_micros;
    line.idle_share_micros += it.idle_share_micros;
    std::string& last = last_job[key];
    if (last != it.job_id) {
      ++line.jobs;
      last = it.job_id;
    }
  }
  auto take_parts = [&](ReportLine& line) {
    for (auto& [model, p] : parts[line.key]) line.parts.push_back(std::move(p));
  };
  for (auto& [key, line] : lines) take_parts(line);
  if (scope.empty()) take_parts(rep.unallocated);
  for (auto& [model, line] : unpriced) {
    take_parts(line);
    if (!scope.empty()) {  // the cluster's warnings would show other teams' hours
      rep.warnings.push_back(FormatFixed(line.usage.gpu_hours(), 2) + " GPU-hours of GPU model '" + model +
                             "' are not priced and not in the total: the price book has no price for it");
    }
    rep.unpriced.push_back(std::move(line));
  }
  if (scope.empty()) rep.warnings = cost.warnings;
  // Paused time in the window (an open pause runs to the window's end: as_of in a month
  // in progress), in the line of the job's first priced item; the total has every
  // visible job's, billed or not.
  ASSIGN_OR_RETURN(std::vector<JobPause> pauses, ledger.PausesOverlapping(rep.window));
  for (const JobPause& p : pauses) {
    if (!visible(p.job_id)) continue;
    const TimeMs from = std::max(p.paused_ms, rep.window.start);
    const TimeMs until = std::min(p.resumed_ms == 0 ? rep.window.end : p.resumed_ms, rep.window.end);
    if (until <= from) continue;
    const DurationMs paused = until - from;
    const DurationMs freed = p.gpus_freed ? paused : 0;
    rep.total.paused_ms += paused;
    rep.total.paused_freed_ms += freed;
    auto at = line_of_job.find(p.job_id);
    if (at == line_of_job.end()) continue;
    ReportLine& line = lines[at->second];
    line.paused_ms += paused;
    line.paused_freed_ms += freed;
  }
  rep.unallocated.cost_micros = scope.empty() ? cost.unallocated_micros : 0;
  rep.total.cost_micros = cost.total_micros;
  if (!scope.empty()) {
    rep.total.cost_micros = 0;
    for (const auto& [key, line] : lines) rep.total.cost_micros += line.total_micros();
  }

  // Idle analysis per GPU model: where the capacity went.
  std::map<std::string, IdleByModel> idle, idle_gpu;
  auto add = [](IdleByModel& m, const UsageRow& r) {
    m.capacity_ns += r.gpu_ns;
    if (r.job_id.empty()) {
      m.unallocated_ns += r.gpu_ns;
    } else {
      m.allocated_ns += r.gpu_ns;
      m.held_idle_ns += r.idle_ns;
      m.held_no_data_ns += r.gpu_ns - r.covered_ns;
    }
  };
  std::unordered_map<std::string, std::string> canonical;  // a row's model -> as the cost items name it
  for (const UsageRow& r : *in.rows) {
    if (r.gpu_uuid.empty() || !scope.empty()) continue;  // count-only records; scoped views see no capacity
    auto [cpos, cfresh] = canonical.try_emplace(r.gpu_model);
    if (cfresh) cpos->second = CanonicalGpuModel(r.gpu_model);
    const std::string& model = cpos->second;
    IdleByModel& m = idle[model];
    m.gpu_model = model;
    add(m, r);
    IdleByModel& g = idle_gpu[r.gpu_uuid];
    g.gpu_model = model;
    g.gpu_uuid = r.gpu_uuid;
    add(g, r);
  }
  for (auto& [uuid, g] : idle_gpu) rep.idle_by_gpu.push_back(g);
  std::stable_sort(
      rep.idle_by_gpu.begin(), rep.idle_by_gpu.end(),
      [](const IdleByModel& a, const IdleByModel& b) { return a.unallocated_ns > b.unallocated_ns; });
  std::set<std::string> count_only;
  for (const UsageRow& r : *in.rows) {
    if (r.gpu_uuid.empty()) count_only.insert(r.job_id);
  }
  rep.count_only_jobs = static_cast<int64_t>(count_only.size());
  for (const CostItem& it : cost.items) {
    if (it.job_id.empty()) idle[it.gpu_model].unallocated_micros += it.cost_micros;
  }
  for (auto& [model, m] : idle) {
    if (m.capacity_ns > 0) rep.idle.push_back(m);
  }

  for (auto& [key, line] : lines) rep.lines.push_back(std::move(line));
  std::sort(rep.lines.begin(), rep.lines.end(), [](const ReportLine& a, const ReportLine& b) {
    if (a.total_micros() != b.total_micros()) return a.total_micros() > b.total_micros();
    return a.key < b.key;
  });
  if (rep.partial && ctx.held_without_samples_after_ms > 0) {
    ASSIGN_OR_RETURN(std::vector<Allocation> open, ledger.AllocationsOverlapping({as_of, as_of + 1}));
    ASSIGN_OR_RETURN(std::vector<SilentHold> silent,
                     FindSilentHolds(ledger, open, as_of, ctx.held_without_samples_after_ms));
    for (SilentHold& h : silent) {
      if (!visible(h.job_id)) continue;
      rep.warnings.push_back(
          "job " + h.job_id + " has held GPU " + h.gpu_uuid + " since " + FormatTime(h.held_since) +
          " and the GPU has sent no sample " +
          (h.last_sample_ms ? "since " + FormatTime(h.last_sample_ms) : std::string("ever")) +
          ": billed, but nothing shows the GPU at work");
      rep.held_without_samples.push_back(std::move(h));
    }
  }
  return OkStatus();
}

}  // namespace

ReportLine ShownTotal(const MonthlyReport& r) {
  ReportLine t = r.total;
  int64_t shared = r.unallocated.idle_share_micros;
  for (const ReportLine& l : r.lines) shared += l.idle_share_micros;
  for (const ReportLine& l : r.adjustments) shared += l.idle_share_micros;
  t.idle_share_micros = r.total.idle_share_micros + shared;
  t.cost_micros = r.total.total_micros() - t.idle_share_micros;
  return t;
}

StatusOr<MonthlyReport> BuildMonthlyReport(Ledger& ledger, const BooksContext& ctx, YearMonth month,
                                           TimeMs as_of, GroupBy by, bool share_idle,
                                           const ReportScope& scope, IdlePools idle_pools) {
  MonthlyReport rep = ReportHead(ctx, as_of, by, share_idle, scope, idle_pools);
  rep.month = month;
  ASSIGN_OR_RETURN(const JobKeys keys, LoadJobKeys(ledger, by));
  ASSIGN_OR_RETURN(const Visibility visible, Visibility::Load(ledger, scope));
  ASSIGN_OR_RETURN(PricedMonth cur, PriceMonth(ledger, ctx, month, as_of, share_idle, idle_pools));
  ASSIGN_OR_RETURN(rep.month_window, ctx.tz.MonthWindow(month));
  rep.closed = cur.closed.has_value();
  rep.closed_ms = cur.closed ? cur.closed->closed_ms : 0;
  rep.close_checksum = cur.checksum;
  RETURN_IF_ERROR(FillReport(ledger, ctx,
                             {cur.books.window, cur.books.partial, &cur.books.rows, &cur.cost, by, scope},
                             keys, visible, rep));
  // The previous month, for the change column. A month the price book does not cover
  // (before the first price) simply has no comparison; any other error is an error.
  auto prev = PriceMonth(ledger, ctx, month.Prev(), as_of, share_idle, idle_pools);
  if (!prev.ok() && prev.status().code() != StatusCode::kNotFound) return prev.status();
  if (prev.ok()) {
    std::map<std::string, int64_t> prev_cost;
    int64_t prev_scoped_total = 0;
    for (const CostItem& it : prev->cost.items) {
      if (it.job_id.empty() || it.unpriced || !visible(it.job_id)) continue;
      prev_scoped_total += it.cost_micros + it.idle_share_micros;
      prev_cost[KeyOf(by, keys, it.job_id, it.gpu_model)] += it.cost_micros + it.idle_share_micros;
    }
    for (ReportLine& line : rep.lines) {
      auto p = prev_cost.find(line.key);
      line.prev_cost_micros = p == prev_cost.end() ? 0 : p->second;
    }
    rep.unallocated.prev_cost_micros = scope.empty() ? prev->cost.unallocated_micros : 0;
    rep.total.prev_cost_micros = scope.empty() ? prev->cost.total_micros : prev_scoped_total;
  }
  // Corrections of closed months: frozen with this month when it is closed, else as they stand.
  std::vector<Adjustment> adjustments;
  if (cur.closed) {
    adjustments = cur.closed->adjustments;
  } else {
    ASSIGN_OR_RETURN(adjustments, PendingAdjustments(ledger, ctx, month, as_of));
  }
  std::map<std::pair<YearMonth, std::string>, ReportLine> adj_lines;
  std::map<std::pair<YearMonth, std::string>, std::map<std::string, ReportPart>> adj_parts;
  for (const Adjustment& a : adjustments) {
    if (!visible(a.job_id)) continue;
    const std::string key = a.job_id.empty() ? rep.unallocated.key : KeyOf(by, keys, a.job_id, a.gpu_model);
    ReportLine& line = adj_lines[{a.corrects, key}];
    line.key = key;
    line.corrects = a.corrects.ToString();
    line.cost_micros += a.cost_micros;
    ReportPart& p = adj_parts[{a.corrects, key}][a.gpu_model];
    p.gpu_model = a.gpu_model;
    p.cost_micros += a.cost_micros;
    rep.total.cost_micros += a.cost_micros;
  }
  for (auto& [k, line] : adj_lines) {
    for (auto& [model, p] : adj_parts[k]) line.parts.push_back(std::move(p));
    rep.adjustments.push_back(std::move(line));
  }
  return rep;
}

StatusOr<MonthlyReport> BuildPeriodReport(Ledger& ledger, const BooksContext& ctx, const Period& period,
                                          TimeMs as_of, GroupBy by, bool share_idle, const ReportScope& scope,
                                          IdlePools idle_pools) {
  if (period.month) {
    ASSIGN_OR_RETURN(MonthlyReport rep, BuildMonthlyReport(ledger, ctx, *period.month, as_of, by, share_idle,
                                                           scope, idle_pools));
    rep.period = period.label;
    return rep;
  }
  MonthlyReport rep = ReportHead(ctx, as_of, by, share_idle, scope, idle_pools);
  rep.period = period.label;
  rep.month_books = false;
  ASSIGN_OR_RETURN(rep.month, ctx.tz.MonthOf(period.window.start));
  ASSIGN_OR_RETURN(rep.month_window, ctx.tz.MonthWindow(rep.month));
  ASSIGN_OR_RETURN(const JobKeys keys, LoadJobKeys(ledger, by));
  ASSIGN_OR_RETURN(const Visibility visible, Visibility::Load(ledger, scope));
  ASSIGN_OR_RETURN(WindowBooks books, WindowUsage(ledger, ctx, period.window, as_of));
  ASSIGN_OR_RETURN(CostBook cost, PriceUsage(books.rows, ctx.prices, share_idle, idle_pools));
  RETURN_IF_ERROR(FillReport(ledger, ctx, {books.window, books.partial, &books.rows, &cost, by, scope}, keys,
                             visible, rep));
  return rep;
}

StatusOr<RangeReport> BuildRangeReport(Ledger& ledger, const BooksContext& ctx, const DateRange& range,
                                       TimeMs as_of, GroupBy by, bool share_idle, const ReportScope& scope,
                                       IdlePools idle_pools) {
  RangeReport rr;
  rr.range = range;
  rr.as_of = as_of;
  rr.timezone = ctx.tz.name();
  rr.currency = ctx.prices.currency();
  rr.by = by;
  if (as_of <= range.window.start) {
    return FailedPrecondition("the range " + range.first_day + " to " + range.last_day + " (" +
                              ctx.tz.name() + ") has not begun: it starts " + FormatTime(range.window.start) +
                              " and the books are as of " + FormatTime(as_of));
  }
  for (const Period& p : range.periods) {
    if (p.window.start >= as_of) {
      rr.partial = true;
      break;
    }
    ASSIGN_OR_RETURN(MonthlyReport r,
                     BuildPeriodReport(ledger, ctx, p, as_of, by, share_idle, scope, idle_pools));
    rr.partial = rr.partial || r.partial;
    rr.total_micros += r.total.cost_micros;
    rr.usage.Add(r.total.usage);
    rr.periods.push_back(std::move(r));
  }
  return rr;
}

StatusOr<std::map<std::string, JobCost>> BuildJobCosts(Ledger& ledger, const BooksContext& ctx,
                                                       const std::vector<Job>& jobs, TimeMs as_of) {
  std::set<YearMonth> months;
  for (const Job& j : jobs) {
    if (j.start_ms == 0 || j.start_ms >= as_of) continue;
    const TimeMs until = std::min(j.end_ms ? j.end_ms : as_of, as_of);
    if (until <= j.start_ms) continue;
    ASSIGN_OR_RETURN(YearMonth first, ctx.tz.MonthOf(j.start_ms));
    ASSIGN_OR_RETURN(YearMonth last, ctx.tz.MonthOf(until - 1));
    for (YearMonth m = first; m <= last; m = m.Next()) months.insert(m);
  }
  std::map<std::string, int64_t> cost;
  std::map<std::string, UsageTotals> usage;
  RETURN_IF_ERROR(JobTotals(ledger, ctx, months, as_of, &cost, &usage));
  std::map<std::string, JobCost> out;
  for (const Job& j : jobs) {
    auto u = usage.find(j.id);
    if (u == usage.end()) continue;
    out[j.id] = JobCost{cost[j.id], u->second};
  }
  return out;
}

StatusOr<Leaderboard> BuildLeaderboard(Ledger& ledger, const BooksContext& ctx,
                                       std::optional<YearMonth> month, TimeMs as_of) {
  Leaderboard lb;
  lb.currency = ctx.prices.currency();
  lb.month = month;
  lb.as_of = as_of;
  if (month) {
    ASSIGN_OR_RETURN(Window w, ctx.tz.MonthWindow(*month));
    lb.partial = as_of < w.end;
  }
  ASSIGN_OR_RETURN(std::vector<Job> jobs, ledger.ListJobs());
  struct Run {
    const Job* job;
    double best_map50;
  };
  std::vector<Run> runs;
  std::set<YearMonth> months;
  for (const Job& j : jobs) {
    if (j.start_ms == 0 || j.end_ms == 0 || j.end_ms > as_of) continue;  // runs that ended by as_of
    if (month) {
      ASSIGN_OR_RETURN(YearMonth em, ctx.tz.MonthOf(j.end_ms - 1));
      if (em != *month) continue;
    }
    ASSIGN_OR_RETURN(std::vector<EpochProgress> prog, ledger.GetProgress(j.id));
    double best = -1;
    for (const EpochProgress& e : prog) {
      if (e.map50) best = std::max(best, *e.map50);
    }
    if (best < 0) continue;
    runs.push_back({&j, best});
    ASSIGN_OR_RETURN(YearMonth first, ctx.tz.MonthOf(j.start_ms));
    ASSIGN_OR_RETURN(YearMonth last, ctx.tz.MonthOf(j.end_ms - 1));
    for (YearMonth m = first; m <= last; m = m.Next()) months.insert(m);
  }
  std::map<std::string, int64_t> cost;
  std::map<std::string, UsageTotals> usage;
  RETURN_IF_ERROR(JobTotals(ledger, ctx, months, as_of, &cost, &usage));
  struct Acc {
    int runs = 0;
    double map = 0, hours = 0;
    UsageTotals usage;               // the runs' sums: density is dense / covered over all of them
    std::vector<int64_t> peaks_mib;  // each run's peak
    std::set<MemorySource> sources;
    int64_t cost = 0;
  };
  std::map<std::string, Acc> by_config;
  for (const Run& r : runs) {
    Acc& a = by_config[r.job->model_type.empty() ? "(unknown)" : r.job->model_type];
    ++a.runs;
    a.map += r.best_map50 * 100.0;
    a.hours += static_cast<double>(r.job->end_ms - r.job->start_ms) / static_cast<double>(kHourMs);
    UsageTotals& u = usage[r.job->id];
    ASSIGN_OR_RETURN(MemorySource src, OwnPeakMemory(ledger, r.job->id, as_of, &u));
    if (src != MemorySource::kNone) {
      a.peaks_mib.push_back(u.peak_mem_mib);
      a.sources.insert(src);
    }
    a.usage.Add(u);
    a.cost += cost[r.job->id];
  }
  const int64_t unit = lb.currency.micros_per_minor();
  for (const auto& [config, a] : by_config) {
    LeaderboardRow row;
    row.config = config;
    row.runs = a.runs;
    row.map50_pts = a.map / a.runs;
    row.train_hours = a.hours / a.runs;
    if (!a.peaks_mib.empty()) {
      const std::vector<double> p(a.peaks_mib.begin(), a.peaks_mib.end());
      row.peak_mem_gib = *std::max_element(p.begin(), p.end()) / 1024.0;
      row.typical_mem_gib = Median(p) / 1024.0;
      row.mem_source = a.sources.size() > 1 ? "mixed" : std::string(MemorySourceName(*a.sources.begin()));
    }
    row.busy_gpu_hours = a.usage.busy_hours();
    row.covered_gpu_hours = a.usage.covered_hours();
    row.dense_gpu_hours = a.usage.dense_hours();
    row.density = a.usage.density();
    row.cost_per_run_micros = RoundMicros(a.cost / a.runs, unit);
    row.cost_per_map_point_micros =
        row.map50_pts > 0
            ? RoundMicros(static_cast<int64_t>(static_cast<double>(row.cost_per_run_micros) / row.map50_pts),
                          unit)
            : 0;
    lb.rows.push_back(row);
  }
  std::sort(lb.rows.begin(), lb.rows.end(), [](const LeaderboardRow& x, const LeaderboardRow& y) {
    if (x.cost_per_map_point_micros != y.cost_per_map_point_micros)
      return x.cost_per_map_point_micros < y.cost_per_map_point_micros;
    return x.config < y.config;
  });
  return lb;
}

}  // namespace gpuledger
