#include "report/job_report.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/strings.h"
#include "report/figures.h"

namespace gpuledger {

namespace {

double Hours(GpuNsSum ns) { return static_cast<double>(ns) / static_cast<double>(kGpuNsPerGpuHour); }
double Gib(int64_t mib) { return static_cast<double>(mib) / 1024.0; }

}  // namespace

RunFacts FactsOf(const Job& job, const UsageTotals& u, int64_t peak_mib, int64_t gpu_memory_mib,
                 const std::vector<EpochProgress>& progress) {
  RunFacts f;
  f.sampled = u.covered_ns > 0;
  // The advice reads these only when sampled; a share over no time counts as 0 there.
  f.loading_share = UsageTotals::Ratio(u.loading_ns, u.gpu_ns).value_or(0);
  f.tail_share = UsageTotals::Ratio(u.tail_ns, u.gpu_ns).value_or(0);
  f.steady_density = UsageTotals::Ratio(u.dense_ns, u.steady_ns).value_or(0);
  f.mean_util = u.mean_util_pct().value_or(0) / 100.0;
  f.peak_mem_mib = peak_mib;
  f.gpu_memory_mib = gpu_memory_mib;
  // A job registered with its run's arguments says its batch (amp is a plain flag: it is
  // read only where the batch or epochs show the arguments were given).
  f.has_run_args = job.batch > 0 || job.epochs > 0;
  f.batch = job.batch;
  f.amp = job.amp;
  f.epochs_planned = job.epochs;
  f.epochs_done = progress.empty() ? 0 : progress.back().epoch;
  std::optional<double> best;
  for (const EpochProgress& e : progress) {
    if (e.map50 && (!best || *e.map50 > *best)) {
      best = e.map50;
      f.best_epoch = e.epoch;
    }
  }
  return f;
}

StatusOr<JobReport> BuildJobReport(Ledger& ledger, const BooksContext& ctx, const Job& job, TimeMs as_of,
                                   Lang lang) {
  JobReport r;
  r.lang = lang;
  ASSIGN_OR_RETURN(r.summary, BuildJobSummary(ledger, ctx, job, as_of));
  ASSIGN_OR_RETURN(std::vector<EpochProgress> progress, ledger.GetProgress(job.id));
  ASSIGN_OR_RETURN(std::vector<Allocation> holds, ledger.AllocationsOfJob(job.id));
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
  ASSIGN_OR_RETURN(std::vector<JobGpuMemory> own, ledger.GetJobGpuMemory(job.id));
  std::map<std::string, const Gpu*> gpu_by_uuid;
  for (const Gpu& g : gpus) gpu_by_uuid[g.uuid] = &g;

  // The months the job's holds touch up to as_of; its rows there, by GPU.
  std::map<std::string, JobGpuFigures> per_gpu;
  std::set<YearMonth> months;
  for (const Allocation& a : holds) {
    if (a.start_ms >= as_of) continue;
    const TimeMs until = std::min(a.end_ms ? a.end_ms : as_of, as_of);
    if (until <= a.start_ms) continue;
    ASSIGN_OR_RETURN(YearMonth first, ctx.tz.MonthOf(a.start_ms));
    ASSIGN_OR_RETURN(YearMonth last, ctx.tz.MonthOf(until - 1));
    for (YearMonth m = first; m <= last; m = m.Next()) months.insert(m);
    per_gpu[a.gpu_uuid].gpu_uuid = a.gpu_uuid;
  }
  for (YearMonth m : months) {
    ASSIGN_OR_RETURN(MonthBooks books, MonthUsage(ledger, ctx, m, as_of));
    for (const UsageRow& row : books.rows) {
      if (row.job_id != job.id || row.gpu_uuid.empty()) continue;
      JobGpuFigures& g = per_gpu[row.gpu_uuid];
      g.gpu_uuid = row.gpu_uuid;
      g.usage.Add(row);
    }
  }
  int64_t memory_of_peak_gpu = 0, peak = 0;
  for (auto& [uuid, g] : per_gpu) {
    auto it = gpu_by_uuid.find(uuid);
    if (it != gpu_by_uuid.end()) {
      g.gpu_model = it->second->model;
      g.memory_mib = it->second->memory_mib;
    }
    for (const JobGpuMemory& m : own) {
      if (m.gpu_uuid == uuid && m.first_ms <= as_of) g.own_peak_mib = std::max(g.own_peak_mib, m.peak_mib);
    }
    const int64_t p = g.own_peak_mib >= 0 ? g.own_peak_mib : g.usage.peak_mem_mib;
    if (p >= peak) {
      peak = p;
      memory_of_peak_gpu = g.memory_mib;
    }
    r.gpus.push_back(g);
  }

  r.epochs_planned = job.epochs;
  r.epochs_done = progress.empty() ? 0 : progress.back().epoch;
  for (const EpochProgress& e : progress) {
    if (e.map50 && (!r.best_map50 || *e.map50 > *r.best_map50)) {
      r.best_map50 = e.map50;
      r.best_epoch = e.epoch;
    }
  }
  if (!progress.empty()) {
    r.final_train_loss = progress.back().train_loss;
    r.final_val_loss = progress.back().val_loss;
    r.training_time_s = progress.back().time_s;
  }
  r.facts = FactsOf(job, r.summary.usage, peak, memory_of_peak_gpu, progress);
  r.advice = Advise(r.facts, lang);
  return r;
}

namespace {

using Json = nlohmann::ordered_json;

Json Opt(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

Json Phases(const UsageTotals& u) {
  return {{"loading_gpu_hours", Hours(u.loading_ns)},
          {"steady_gpu_hours", Hours(u.steady_ns)},
          {"tail_gpu_hours", Hours(u.tail_ns)},
          {"idle_gpu_hours", Hours(u.idle_ns)}};
}

}  // namespace

std::string RenderJobReportJson(const JobReport& r) {
  const JobSummary& s = r.summary;
  const UsageTotals& u = s.usage;
  Json j;
  j["format"] = "gpuledger.job-report";
  j["version"] = 1;
  j["job"] = s.job.id;
  j["status"] = JobStatusName(s.job.status);
  j["user"] = s.job.user;
  j["project"] = s.job.project;
  j["department"] = s.job.department;
  j["model_type"] = s.job.model_type;
  j["start"] = s.job.start_ms ? Json(FormatTime(s.job.start_ms)) : Json(nullptr);
  j["end"] = s.job.end_ms ? Json(FormatTime(s.job.end_ms)) : Json(nullptr);
  j["as_of"] = FormatTime(s.as_of);
  j["partial"] = s.partial;
  j["lang"] = LangName(r.lang);
  j["currency"] = s.currency.code;
  j["cost"] = FormatMicros(s.cost_micros, s.currency.minor_digits);
  j["gpu_hours"] = u.gpu_hours();
  j["busy_gpu_hours"] = u.busy_hours();
  j["covered_gpu_hours"] = u.covered_hours();
  j["dense_gpu_hours"] = u.dense_hours();
  j["density"] = FigureJson(u.density());
  j["mean_utilisation"] = FigureJson(Scaled(u.mean_util_pct(), 0.01));
  j["energy_kwh"] = FigureJson(u.energy_kwh());
  j["energy_flags"] = u.energy_flags;
  j["peak_mem_gib"] = s.mem_source == MemorySource::kNone ? Json(nullptr) : Json(Gib(u.peak_mem_mib));
  j["mem_source"] = MemorySourceName(s.mem_source);
  j["phases"] = Phases(u);
  j["gpus"] = Json::array();
  for (const JobGpuFigures& g : r.gpus) {
    const int64_t peak = g.own_peak_mib >= 0 ? g.own_peak_mib : g.usage.peak_mem_mib;
    const bool peak_known = g.own_peak_mib >= 0 || g.usage.peak_mem_mib > 0;
    j["gpus"].push_back(
        {{"gpu_uuid", g.gpu_uuid},
         {"gpu_model", g.gpu_model},
         {"gpu_hours", g.usage.gpu_hours()},
         {"busy_gpu_hours", g.usage.busy_hours()},
         {"covered_gpu_hours", g.usage.covered_hours()},
         {"dense_gpu_hours", g.usage.dense_hours()},
         {"mean_utilisation", FigureJson(Scaled(g.usage.mean_util_pct(), 0.01))},
         {"density", FigureJson(g.usage.density())},
         {"energy_kwh", FigureJson(g.usage.energy_kwh())},
         {"energy_flags", g.usage.energy_flags},
         {"peak_mem_gib", peak_known ? Json(Gib(peak)) : Json(nullptr)},
         {"mem_source", g.own_peak_mib >= 0 ? "process" : (g.usage.peak_mem_mib > 0 ? "gpu" : "none")},
         {"memory_gib", g.memory_mib > 0 ? Json(Gib(g.memory_mib)) : Json(nullptr)},
         {"memory_share", g.memory_mib > 0
                              ? Json(static_cast<double>(peak) / static_cast<double>(g.memory_mib))
                              : Json(nullptr)},
         {"phases", Phases(g.usage)}});
  }
  j["epochs"] = {{"planned", r.epochs_planned},
                 {"done", r.epochs_done},
                 {"best_epoch", r.best_epoch ? Json(*r.best_epoch) : Json(nullptr)},
                 {"best_map50", Opt(r.best_map50)},
                 {"final_train_loss", Opt(r.final_train_loss)},
                 {"final_val_loss", Opt(r.final_val_loss)},
                 {"training_time_s", Opt(r.training_time_s)}};
  j["advice"] = Json::array();
  for (const Advice& a : r.advice) {
    j["advice"].push_back({{"rule", a.rule}, {"text", a.text}, {"evidence", a.evidence}});
  }
  return j.dump(2) + "\n";
}

std::string RenderJobReportText(const JobReport& r) {
  const bool zh = r.lang == Lang::kZh;
  const JobSummary& s = r.summary;
  const UsageTotals& u = s.usage;
  std::string out;
  out += (zh ? "作业效率报告 " : "job efficiency report ") + s.job.id + " (" +
         std::string(JobStatusName(s.job.status)) + (zh ? "，截至 " : ", as of ") + FormatTime(s.as_of) +
         ")\n";
  out += (zh ? "  用户/项目/部门: " : "  user/project/department: ") + s.job.user + " / " + s.job.project +
         " / " + s.job.department + "\n";
  out += (zh ? "  费用: " : "  cost so far: ") + FormatMicros(s.cost_micros, s.currency.minor_digits) + " " +
         s.currency.code + (zh ? "    GPU 时: " : "    GPU-hours: ") + FormatFixed(u.gpu_hours(), 2) +
         (zh ? "    能耗: " : "    energy: ") + FigureCell(u.energy_kwh(), 2, " kWh") + "\n";
  out += (zh ? "  有效计算密度: " : "  density: ") + PctCell(u.density()) +
         (zh ? "    平均利用率: " : "    mean util: ") + PctCell(Scaled(u.mean_util_pct(), 0.01)) +
         (zh ? "    显存峰值: " : "    peak memory: ") +
         (s.mem_source == MemorySource::kNone ? std::string(kNoFigure)
                                              : FormatFixed(Gib(u.peak_mem_mib), 1) + " GiB") +
         "\n";
  out += (zh ? "  阶段 (GPU 时): 加载 " : "  phases (GPU-h): loading ") +
         FormatFixed(Hours(u.loading_ns), 2) + (zh ? "，稳定 " : ", steady ") +
         FormatFixed(Hours(u.steady_ns), 2) + (zh ? "，尾段 " : ", tail ") +
         FormatFixed(Hours(u.tail_ns), 2) + (zh ? "，空闲 " : ", idle ") + FormatFixed(Hours(u.idle_ns), 2) +
         "\n";
  out += zh ? "\n每块 GPU:\n" : "\nper GPU:\n";
  for (const JobGpuFigures& g : r.gpus) {
    const int64_t peak = g.own_peak_mib >= 0 ? g.own_peak_mib : g.usage.peak_mem_mib;
    out += "  " + g.gpu_uuid + " " + g.gpu_model + "  " + FormatFixed(g.usage.gpu_hours(), 2) +
           (zh ? " GPU 时，利用率 " : " GPU-h, util ") + PctCell(Scaled(g.usage.mean_util_pct(), 0.01)) +
           (zh ? "，密度 " : ", density ") + PctCell(g.usage.density()) + (zh ? "，显存 " : ", memory ") +
           FormatFixed(Gib(peak), 1) + (g.memory_mib > 0 ? " / " + FormatFixed(Gib(g.memory_mib), 1) : "") +
           " GiB\n";
  }
  out += zh ? "\n训练:\n" : "\ntraining:\n";
  out += (zh ? "  epoch: " : "  epochs: ") + std::to_string(r.epochs_done) +
         (r.epochs_planned ? " / " + std::to_string(r.epochs_planned) : "") + "\n";
  if (r.best_epoch) {
    out += (zh ? "  最佳 epoch: " : "  best epoch: ") + std::to_string(*r.best_epoch) + " (mAP@0.5 " +
           FormatFixed(*r.best_map50 * 100, 1) + ")\n";
  }
  if (r.final_train_loss)
    out += (zh ? "  最终训练损失: " : "  final train loss: ") + FormatFixed(*r.final_train_loss, 4) + "\n";
  if (r.final_val_loss)
    out += (zh ? "  最终验证损失: " : "  final val loss: ") + FormatFixed(*r.final_val_loss, 4) + "\n";
  if (r.training_time_s) {
    out += (zh ? "  训练时长: " : "  training time: ") + FormatFixed(*r.training_time_s / 3600.0, 2) + " h\n";
  }
  out += zh ? "\n建议:\n" : "\nadvice:\n";
  if (r.advice.empty())
    out += zh ? "  无：规则没有发现问题。\n" : "  none: the rules found nothing to improve.\n";
  for (const Advice& a : r.advice) out += "  - " + a.text + "\n    (" + a.evidence + ")\n";
  return out;
}

}  // namespace gpuledger
