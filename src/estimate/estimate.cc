#include "estimate/estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/stats.h"
#include "domain/gpu_model.h"

namespace gpuledger {

std::string_view EstimateBasisName(Estimate::Basis b) {
  switch (b) {
    case Estimate::Basis::kHistory:
      return "history";
    case Estimate::Basis::kRate:
      return "rate";
    case Estimate::Basis::kNone:
      return "none";
  }
  return "none";
}

namespace {

// Request over run for one work factor, 1 when either side does not say.
double Ratio(double want, double had) { return want > 0 && had > 0 ? want / had : 1.0; }

// How much more work the request is than the run: epochs x images x pixels per image.
double WorkScale(const Job& req, const FinishedRun& r) {
  const double px = Ratio(req.imgsz, r.imgsz);
  return Ratio(req.epochs, r.epochs) *
         Ratio(static_cast<double>(req.dataset_images), static_cast<double>(r.dataset_images)) * px * px;
}

int64_t RoundedMicros(double micros, const Currency& c) {
  return RoundMicros(static_cast<int64_t>(std::llround(micros)), c.micros_per_minor());
}

}  // namespace

Estimate EstimateJob(const Job& req, const std::vector<FinishedRun>& history, const RateInfo& rate,
                     const EstimateOptions& o) {
  Estimate e;
  const std::string gpu = CanonicalGpuModel(req.gpu_model);
  e.similar = (req.model_type.empty() ? "(no model type)" : req.model_type) + " on " +
              (gpu.empty() ? "(no GPU model)" : gpu);
  std::vector<const FinishedRun*> similar;
  for (const FinishedRun& r : history) {
    if (r.gpu_ns <= 0 || r.duration_ms <= 0) continue;
    if (!req.model_type.empty() && r.model_type == req.model_type && !gpu.empty() && r.gpu_model == gpu)
      similar.push_back(&r);
  }
  e.runs = static_cast<int>(similar.size());

  // AMP: scaled by what the history shows, the ratio of the medians of work-normalised
  // GPU-hours with and without it, when both sides have enough runs.
  double amp_factor = 1.0;  // AMP on / AMP off
  {
    std::vector<double> on, off;
    for (const FinishedRun* r : similar) {
      const double per_work = static_cast<double>(r->gpu_ns) * WorkScale(req, *r);
      (r->amp ? on : off).push_back(per_work);
    }
    const bool mixed =
        std::any_of(similar.begin(), similar.end(), [&](const FinishedRun* r) { return r->amp != req.amp; });
    if (static_cast<int>(on.size()) >= o.min_runs_amp && static_cast<int>(off.size()) >= o.min_runs_amp) {
      amp_factor = Median(on) / Median(off);
      char buf[160];
      std::snprintf(buf, sizeof buf, "AMP scaled by %.2f (median of %zu AMP runs over %zu without)",
                    amp_factor, on.size(), off.size());
      e.amp_note = buf;
    } else if (mixed) {
      e.amp_note = "AMP not scaled: the history has " + std::to_string(on.size()) + " AMP and " +
                   std::to_string(off.size()) + " non-AMP runs (" + std::to_string(o.min_runs_amp) +
                   " each needed)";
    }
  }

  if (e.runs >= o.min_runs_point) {
    e.basis = Estimate::Basis::kHistory;
    std::vector<double> hours, dur, cost;
    for (const FinishedRun* r : similar) {
      double s = WorkScale(req, *r);
      if (r->amp != req.amp && amp_factor != 1.0) s *= req.amp ? amp_factor : 1.0 / amp_factor;
      hours.push_back(static_cast<double>(r->gpu_ns) / static_cast<double>(kGpuNsPerGpuHour) * s);
      // Data-parallel: the same GPU-hours on more GPUs take proportionally less time.
      const double gpus =
          Ratio(static_cast<double>(r->gpu_share_ppm), static_cast<double>(req.gpu_share_ppm));
      dur.push_back(static_cast<double>(r->duration_ms) / static_cast<double>(kHourMs) * s * gpus);
      cost.push_back(static_cast<double>(r->cost_micros) * s);
    }
    for (auto* v : {&hours, &dur, &cost}) std::sort(v->begin(), v->end());
    auto fill = [&](Predicted& p, const std::vector<double>& v) {
      p.mid = Quantile(v, 0.5);
      if (e.runs >= o.min_runs_interval) {
        p.low = Quantile(v, o.low_quantile);
        p.high = Quantile(v, o.high_quantile);
      }
    };
    fill(e.gpu_hours, hours);
    fill(e.duration_h, dur);
    fill(e.cost_micros, cost);
    e.cost_micros.mid = static_cast<double>(RoundedMicros(e.cost_micros.mid, rate.currency));
    if (e.cost_micros.low)
      e.cost_micros.low = static_cast<double>(RoundedMicros(*e.cost_micros.low, rate.currency));
    if (e.cost_micros.high)
      e.cost_micros.high = static_cast<double>(RoundedMicros(*e.cost_micros.high, rate.currency));
    if (e.runs < o.min_runs_interval) {
      e.notes.push_back("history is thin: " + std::to_string(e.runs) + " similar finished runs (" +
                        e.similar + "); a median only, no interval below " +
                        std::to_string(o.min_runs_interval) + " runs");
    }
  } else {
    e.notes.push_back("history is thin: " + std::to_string(e.runs) + " similar finished runs (" + e.similar +
                      "), " + std::to_string(o.min_runs_point) + " needed for an estimate from history");
    const double gpus =
        static_cast<double>(req.gpu_share_ppm > 0 ? req.gpu_share_ppm : kFullShare) / kFullShare;
    if (req.duration_limit_ms > 0 && rate.micros_per_gpu_hour > 0) {
      e.basis = Estimate::Basis::kRate;
      const double h = static_cast<double>(req.duration_limit_ms) / static_cast<double>(kHourMs);
      e.duration_h.mid = h;
      e.gpu_hours.mid = h * gpus;
      e.cost_micros.mid = static_cast<double>(
          RoundedMicros(static_cast<double>(rate.micros_per_gpu_hour) * h * gpus, rate.currency));
      e.notes.push_back("fallback: the GPU-hour rate " + FormatMicros(rate.micros_per_gpu_hour, 2) + " " +
                        rate.currency.code +
                        " x the requested duration limit: what the job costs if it runs to its limit");
    } else {
      e.basis = Estimate::Basis::kNone;
      e.notes.push_back(req.duration_limit_ms <= 0 ? "no estimate: no duration limit to price"
                                                   : "no estimate: GPU model '" + gpu + "' has no price");
    }
  }

  // Best practice: the project's or the dataset's runs that reached the reference mAP.
  std::vector<const FinishedRun*> pool;
  for (const FinishedRun& r : history) {
    if (!r.best_map50 || r.gpu_ns <= 0) continue;
    if ((!req.project.empty() && r.project == req.project) ||
        (!req.dataset.empty() && r.dataset == req.dataset))
      pool.push_back(&r);
  }
  std::vector<double> ref_maps;
  for (const FinishedRun* r : pool) {
    if (r->model_type == req.model_type && r->gpu_model == gpu) ref_maps.push_back(*r->best_map50);
  }
  if (ref_maps.empty()) {
    for (const FinishedRun* r : similar) {
      if (r->best_map50) ref_maps.push_back(*r->best_map50);
    }
  }
  if (pool.empty()) {
    e.best_note = "no best practice: no finished run of project '" + req.project + "'" +
                  (req.dataset.empty() ? "" : " or dataset '" + req.dataset + "'") + " has mAP@0.5";
  } else if (ref_maps.empty()) {
    e.best_note = "no best practice: no run of " + e.similar + " has mAP@0.5 to compare with";
  } else {
    const double ref = Median(ref_maps);
    using Key = std::tuple<std::string, std::string, int, int, int, bool>;
    std::map<Key, std::vector<const FinishedRun*>> configs;
    int candidates = 0;
    for (const FinishedRun* r : pool) {
      if (*r->best_map50 + 1e-12 < ref - o.map_margin) continue;
      ++candidates;
      configs[{r->model_type, r->gpu_model, r->epochs, r->batch, r->imgsz, r->amp}].push_back(r);
    }
    std::optional<std::pair<double, BestPractice>> cheapest;
    for (const auto& [key, runs] : configs) {
      if (static_cast<int>(runs.size()) < o.min_runs_best) continue;
      std::vector<double> costs, maps;
      for (const FinishedRun* r : runs) {
        costs.push_back(static_cast<double>(r->cost_micros));
        maps.push_back(*r->best_map50);
      }
      const double c = Median(costs);
      if (cheapest && (c > cheapest->first ||
                       (c == cheapest->first && static_cast<int>(runs.size()) <= cheapest->second.runs)))
        continue;
      BestPractice b;
      std::tie(b.model_type, b.gpu_model, b.epochs, b.batch, b.imgsz, b.amp) = key;
      b.runs = static_cast<int>(runs.size());
      b.cost_micros = RoundedMicros(c, rate.currency);
      b.map50 = Median(maps);
      cheapest = {c, b};
    }
    if (cheapest) {
      e.best = cheapest->second;
      e.best->reference_map50 = ref;
      e.best->candidates = candidates;
      e.best->scope = !req.dataset.empty() ? "project '" + req.project + "' or dataset '" + req.dataset + "'"
                                           : "project '" + req.project + "'";
    } else {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.1f", (ref - o.map_margin) * 100);
      e.best_note = std::string("no best practice: no configuration has ") + std::to_string(o.min_runs_best) +
                    " runs that reached mAP@0.5 " + buf + " (" + std::to_string(candidates) +
                    " runs did, all configurations)";
    }
  }
  return e;
}

StatusOr<Lang> ParseLang(std::string_view s) {
  if (s == "en") return Lang::kEn;
  if (s == "zh") return Lang::kZh;
  return InvalidArgument("--lang '" + std::string(s) + "' is not zh or en");
}

Lang LangFromEnvironment() {
  for (const char* var : {"LC_ALL", "LC_MESSAGES", "LANG"}) {
    const char* v = std::getenv(var);
    if (v != nullptr && *v != '\0') return std::string_view(v).substr(0, 2) == "zh" ? Lang::kZh : Lang::kEn;
  }
  return Lang::kEn;
}

std::string FormatAmount(int64_t micros, const Currency& c, Lang lang) {
  const std::string n = FormatMicros(micros, c.minor_digits);
  if (lang == Lang::kZh && c.code == "CNY") return n + "元";
  return n + " " + c.code;
}

namespace {
std::string Fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}
std::string Range(const Predicted& p, int digits) {
  return Fixed(p.mid, digits) +
         (p.low ? " (" + Fixed(*p.low, digits) + "–" + Fixed(*p.high, digits) + ")" : "");
}
}  // namespace

std::string RenderEstimateText(const Estimate& e, const Currency& c, Lang lang) {
  const bool zh = lang == Lang::kZh;
  const auto cost = static_cast<int64_t>(e.cost_micros.mid);
  std::string out;
  for (const std::string& n : e.notes) out += (zh ? "注意: " : "note: ") + n + "\n";
  if (!e.amp_note.empty()) out += (zh ? "说明: " : "note: ") + e.amp_note + "\n";
  if (e.basis == Estimate::Basis::kHistory) {
    const std::string interval = e.cost_micros.low
                                     ? FormatAmount(static_cast<int64_t>(*e.cost_micros.low), c, lang) + "–" +
                                           FormatAmount(static_cast<int64_t>(*e.cost_micros.high), c, lang)
                                     : "";
    if (zh) {
      out += "估算依据: " + std::to_string(e.runs) + " 个同类已完成任务 (" + e.similar + ")\n";
      out +=
          "预计 GPU 时: " + Range(e.gpu_hours, 1) + " GPU·小时, 时长: " + Range(e.duration_h, 1) + " 小时\n";
      if (!interval.empty()) out += "费用区间 (P10–P90): " + interval + "\n";
    } else {
      out += "estimate from " + std::to_string(e.runs) + " similar finished runs (" + e.similar + ")\n";
      out += "predicted GPU-hours " + Range(e.gpu_hours, 1) + ", duration " + Range(e.duration_h, 1) + " h\n";
      if (!interval.empty()) out += "cost interval (P10-P90): " + interval + "\n";
    }
  } else if (e.basis == Estimate::Basis::kRate) {
    out += zh ? "按 GPU 单价 × 时长上限估算 (" + Fixed(e.gpu_hours.mid, 1) + " GPU·小时)\n"
              : "estimate from the GPU-hour rate x the duration limit (" + Fixed(e.gpu_hours.mid, 1) +
                    " GPU-hours)\n";
  }
  if (e.best) {
    const BestPractice& b = *e.best;
    const std::string cfg = b.model_type + " " + b.gpu_model + " epochs=" + std::to_string(b.epochs) +
                            " batch=" + std::to_string(b.batch) + " imgsz=" + std::to_string(b.imgsz) +
                            " amp=" + (b.amp ? "true" : "false");
    out += zh ? "最佳实践: " + cfg + ", mAP@0.5 " + Fixed(b.map50 * 100, 1) + " (参考 " +
                    Fixed(b.reference_map50 * 100, 1) + "), 依据 " + std::to_string(b.runs) + " 次运行, " +
                    b.scope + "\n"
              : "best practice: " + cfg + ", mAP@0.5 " + Fixed(b.map50 * 100, 1) + " (reference " +
                    Fixed(b.reference_map50 * 100, 1) + "), " + std::to_string(b.runs) + " runs, " + b.scope +
                    "\n";
  } else if (!e.best_note.empty()) {
    out += (zh ? "注意: " : "note: ") + e.best_note + "\n";
  }
  if (e.basis == Estimate::Basis::kNone) {
    out += zh ? "当前配置无法估算费用,是否继续?" : "No cost estimate for this configuration. Continue?";
  } else if (e.best) {
    out += zh ? "当前配置预计消耗" + FormatAmount(cost, c, lang) + ",历史同类任务最佳实践为" +
                    FormatAmount(e.best->cost_micros, c, lang) + ",是否继续?"
              : "This configuration is estimated at " + FormatAmount(cost, c, lang) +
                    "; the best practice among similar past runs cost " +
                    FormatAmount(e.best->cost_micros, c, lang) + ". Continue?";
  } else {
    out += zh ? "当前配置预计消耗" + FormatAmount(cost, c, lang) + ",是否继续?"
              : "This configuration is estimated at " + FormatAmount(cost, c, lang) + ". Continue?";
  }
  return out + "\n";
}

std::string EstimateJson(const Estimate& e, const Currency& c) {
  auto predicted = [](const Predicted& p, bool money, const Currency& cur) {
    auto v = [&](double x) -> nlohmann::json {
      if (money) return FormatMicros(static_cast<int64_t>(x), cur.minor_digits);
      return std::round(x * 1000) / 1000;
    };
    nlohmann::json j = {{"median", v(p.mid)}};
    if (p.low) {
      j["low"] = v(*p.low);
      j["high"] = v(*p.high);
    }
    return j;
  };
  nlohmann::json j = {{"basis", std::string(EstimateBasisName(e.basis))},
                      {"similar", e.similar},
                      {"runs", e.runs},
                      {"currency", c.code},
                      {"notes", e.notes}};
  if (e.basis != Estimate::Basis::kNone) {
    j["gpu_hours"] = predicted(e.gpu_hours, false, c);
    j["duration_hours"] = predicted(e.duration_h, false, c);
    j["cost"] = predicted(e.cost_micros, true, c);
    if (e.cost_micros.low) j["interval"] = "P10-P90";
  }
  if (!e.amp_note.empty()) j["amp_note"] = e.amp_note;
  if (e.best) {
    const BestPractice& b = *e.best;
    j["best_practice"] = {{"scope", b.scope},
                          {"model_type", b.model_type},
                          {"gpu_model", b.gpu_model},
                          {"epochs", b.epochs},
                          {"batch", b.batch},
                          {"imgsz", b.imgsz},
                          {"amp", b.amp},
                          {"runs", b.runs},
                          {"cost", FormatMicros(b.cost_micros, c.minor_digits)},
                          {"map50", std::round(b.map50 * 10000) / 10000},
                          {"reference_map50", std::round(b.reference_map50 * 10000) / 10000},
                          {"candidates", b.candidates}};
  } else {
    j["best_practice"] = nullptr;
    j["best_practice_note"] = e.best_note;
  }
  return j.dump();
}

}  // namespace gpuledger
