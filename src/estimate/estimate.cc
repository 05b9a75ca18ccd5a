#include "estimate/estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>

#include "common/stats.h"
#include "domain/gpu_model.h"
#include "estimate/scaling.h"

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

// Request over run, 1 when either side does not say.
double Ratio(double want, double had) { return want > 0 && had > 0 ? want / had : 1.0; }

int64_t RoundedMicros(double micros, const Currency& c) {
  return RoundMicros(static_cast<int64_t>(std::llround(micros)), c.micros_per_minor());
}

double GpuCount(int64_t share_ppm) {
  return share_ppm > 0 ? static_cast<double>(share_ppm) / kFullShare : 0.0;
}

ScalingPoint PointOf(int64_t images, int imgsz, int batch, bool amp, int64_t share_ppm) {
  return MakeScalingPoint(static_cast<double>(images), imgsz, batch, amp, GpuCount(share_ppm));
}

// What one finished run says of its own time: epochs trained, the share of its run spent
// in them (the rest is setup and the final validation), and where it peaked.
struct RunShape {
  double epochs_run = 0;   // 0: unknown
  double train_share = 1;  // of duration; 1 when progress has no time
  double best_frac = 0;    // best epoch / requested epochs; 0: unknown
};
RunShape ShapeOf(const FinishedRun& r) {
  RunShape s;
  s.epochs_run = r.epochs_run > 0 ? r.epochs_run : r.epochs;
  if (r.train_s > 0 && r.duration_ms > 0) {
    s.train_share = std::clamp(r.train_s * 1000.0 / static_cast<double>(r.duration_ms), 0.05, 1.0);
  }
  if (r.best_epoch > 0 && r.epochs > 0)
    s.best_frac = std::min(1.0, static_cast<double>(r.best_epoch) / r.epochs);
  return s;
}

std::string Fixed1(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
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
  const int req_patience = JobPatience(req);

  if (e.runs >= o.min_runs_point) {
    e.basis = Estimate::Basis::kHistory;
    // The scaling model, fitted on the similar runs' GPU-hours per epoch trained.
    std::vector<RunShape> shapes;
    std::vector<ScalingPoint> froms, points;
    shapes.reserve(similar.size());
    froms.reserve(similar.size());
    points.reserve(similar.size());
    for (const FinishedRun* r : similar) {
      shapes.push_back(ShapeOf(*r));
      froms.push_back(PointOf(r->dataset_images, r->imgsz, r->batch, r->amp, r->gpu_share_ppm));
      const double gh = static_cast<double>(r->gpu_ns) / static_cast<double>(kGpuNsPerGpuHour);
      if (shapes.back().epochs_run > 0) {
        points.push_back(froms.back());
        points.back().y = std::log(gh * shapes.back().train_share / shapes.back().epochs_run);
      }
    }
    const ScalingModel model = FitScaling(points, o.min_runs_amp);
    e.scaling = model.Describe();
    const auto amp_k = static_cast<size_t>(Factor::kAmp);
    if (model.fitted[amp_k]) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "AMP scaled by %.2f (fitted on %d similar runs)",
                    std::exp(model.beta[amp_k]), model.runs);
      e.amp_note = buf;
    } else if (std::any_of(similar.begin(), similar.end(),
                           [&](const FinishedRun* r) { return r->amp != req.amp; })) {
      const auto on =
          std::count_if(similar.begin(), similar.end(), [](const FinishedRun* r) { return r->amp; });
      e.amp_note = "AMP not scaled: the history has " + std::to_string(on) + " AMP and " +
                   std::to_string(similar.size() - static_cast<size_t>(on)) + " non-AMP runs (" +
                   std::to_string(o.min_runs_amp) + " each needed)";
    }
    const ScalingPoint want = PointOf(req.dataset_images, req.imgsz, req.batch, req.amp, req.gpu_share_ppm);
    // The setup and the final validation pass over the validation images once: they
    // scale with the data and the image size, not with epochs, batch or GPUs.
    ScalingModel fixed_model = model;
    for (Factor f : {Factor::kBatch, Factor::kAmp, Factor::kGpus})
      fixed_model.beta[static_cast<size_t>(f)] = 0;

    std::vector<double> hours, dur, cost, epochs;
    std::vector<double> best_fracs;
    for (size_t i = 0; i < similar.size(); ++i) {
      const FinishedRun& r = *similar[i];
      const RunShape& sh = shapes[i];
      const ScalingPoint& from = froms[i];
      const double req_epochs = req.epochs > 0 ? req.epochs : r.epochs;
      // Epochs the request trains if it learns as this run did: with a patience, until
      // its best epoch (at this run's share of its epochs) plus the patience; without
      // one, this run's share of its epochs.
      double n = req_epochs;
      if (sh.epochs_run > 0 && r.epochs > 0) {
        if (req_patience > 0 && sh.best_frac > 0) {
          n = std::min(req_epochs, std::ceil(sh.best_frac * req_epochs) + req_patience);
          best_fracs.push_back(sh.best_frac);
        } else {
          n = req_epochs * sh.epochs_run / r.epochs;
        }
      }
      const double epoch_part = sh.epochs_run > 0 ? sh.train_share * n / sh.epochs_run : Ratio(n, r.epochs);
      const double ratio =
          epoch_part * model.Scale(from, want) + (1 - sh.train_share) * fixed_model.Scale(from, want);
      const double gh = static_cast<double>(r.gpu_ns) / static_cast<double>(kGpuNsPerGpuHour);
      hours.push_back(gh * ratio);
      // Data-parallel: the GPU-hours on more GPUs take proportionally less time.
      dur.push_back(static_cast<double>(r.duration_ms) / static_cast<double>(kHourMs) * ratio *
                    Ratio(GpuCount(r.gpu_share_ppm), GpuCount(req.gpu_share_ppm)));
      // At today's price: the request pays the rate in force now, not the one this run paid.
      const double reprice = rate.micros_per_gpu_hour > 0 && r.price_micros_per_gpu_hour > 0
                                 ? static_cast<double>(rate.micros_per_gpu_hour) /
                                       static_cast<double>(r.price_micros_per_gpu_hour)
                                 : 1.0;
      cost.push_back(static_cast<double>(r.cost_micros) * ratio * reprice);
      epochs.push_back(n);
    }
    // The scaled runs' spread is their residual from the fitted model, which the fit has
    // made smaller than a new run's error: widen each value's log-distance from the median
    // by sqrt((1 + p/n) n/(n - p)) for the p parameters fitted (prediction, not fit).
    // The widening is monotonic: the sorted order stands.
    for (auto* v : {&hours, &dur, &cost, &epochs}) std::sort(v->begin(), v->end());
    const int fitted = 1 + static_cast<int>(std::count(model.fitted.begin(), model.fitted.end(), true));
    if (model.runs > 0 && e.runs > fitted + 1) {
      const double n = e.runs, p = fitted;
      const double widen = std::sqrt((1 + p / n) * n / (n - p));
      for (auto* v : {&hours, &dur, &cost}) {
        const double med = Quantile(*v, 0.5);
        if (med <= 0) continue;
        for (double& x : *v) x = x > 0 ? med * std::pow(x / med, widen) : x;
      }
    }
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
    fill(e.epochs, epochs);
    e.cost_micros.mid = static_cast<double>(RoundedMicros(e.cost_micros.mid, rate.currency));
    if (e.cost_micros.low)
      e.cost_micros.low = static_cast<double>(RoundedMicros(*e.cost_micros.low, rate.currency));
    if (e.cost_micros.high)
      e.cost_micros.high = static_cast<double>(RoundedMicros(*e.cost_micros.high, rate.currency));
    if (!best_fracs.empty()) {
      e.stopping = "early stopping: patience " + std::to_string(req_patience) + " of " +
                   std::to_string(static_cast<int>(req.epochs)) +
                   " epochs; the similar runs peaked at a median " + Fixed1(Median(best_fracs) * 100) +
                   " % of their epochs: " + Fixed1(e.epochs.mid) + " epochs predicted";
    } else {
      e.stopping = "epochs: the similar runs' share of their epochs trained (no patience given): " +
                   Fixed1(e.epochs.mid) + " epochs predicted";
    }
    e.stopping += "; setup and final validation scaled apart from the epochs";
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
    // Qualifying runs grouped by configuration: sorted by it and scanned, which over a
    // pool of tens of thousands of runs costs a fraction of a map of them (the numbers
    // first: most comparisons end there).
    std::vector<const FinishedRun*> qualifying;
    for (const FinishedRun* r : pool) {
      if (*r->best_map50 + 1e-12 >= ref - o.map_margin) qualifying.push_back(r);
    }
    const int candidates = static_cast<int>(qualifying.size());
    auto config = [](const FinishedRun* r) {
      return std::tie(r->epochs, r->batch, r->imgsz, r->amp, r->patience, r->model_type, r->gpu_model);
    };
    std::sort(qualifying.begin(), qualifying.end(),
              [&](const FinishedRun* a, const FinishedRun* b) { return config(a) < config(b); });
    std::optional<std::pair<double, BestPractice>> cheapest;
    std::vector<double> costs, maps;
    for (size_t i = 0, next = 0; i < qualifying.size(); i = next) {
      next = i + 1;
      while (next < qualifying.size() && config(qualifying[next]) == config(qualifying[i])) ++next;
      const int runs = static_cast<int>(next - i);
      if (runs < o.min_runs_best) continue;
      costs.clear();
      maps.clear();
      for (size_t k = i; k < next; ++k) {
        costs.push_back(static_cast<double>(qualifying[k]->cost_micros));
        maps.push_back(*qualifying[k]->best_map50);
      }
      const double c = Median(costs);
      if (cheapest && (c > cheapest->first || (c == cheapest->first && runs <= cheapest->second.runs)))
        continue;
      const FinishedRun& r = *qualifying[i];
      BestPractice b;
      b.model_type = r.model_type;
      b.gpu_model = r.gpu_model;
      b.epochs = r.epochs;
      b.batch = r.batch;
      b.imgsz = r.imgsz;
      b.amp = r.amp;
      b.patience = r.patience;
      b.runs = runs;
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

int JobPatience(const Job& j) {
  auto it = j.labels.find("patience");
  if (it == j.labels.end() || it->second.empty() || it->second.size() > 6) return 0;
  int v = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9') return 0;
    v = v * 10 + (c - '0');
  }
  return v;
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
  if (!e.scaling.empty()) out += (zh ? "缩放: " : "scaling: ") + e.scaling + "\n";
  if (!e.stopping.empty()) out += (zh ? "早停: " : "stopping: ") + e.stopping + "\n";
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
                            " amp=" + (b.amp ? "true" : "false") +
                            (b.patience > 0 ? " patience=" + std::to_string(b.patience) : "");
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
    // A best practice dearer than this estimate is no cheaper way: the output says so
    // rather than suggest one.
    const bool dearer = e.best->cost_micros > cost;
    out += zh ? "当前配置预计消耗" + FormatAmount(cost, c, lang) + ",历史同类任务最佳实践为" +
                    FormatAmount(e.best->cost_micros, c, lang) + (dearer ? "(高于当前配置)" : "") +
                    ",是否继续?"
              : "This configuration is estimated at " + FormatAmount(cost, c, lang) +
                    "; the best practice among similar past runs cost " +
                    FormatAmount(e.best->cost_micros, c, lang) +
                    (dearer ? " (more than this configuration)" : "") + ". Continue?";
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
    if (e.basis == Estimate::Basis::kHistory) j["epochs"] = predicted(e.epochs, false, c);
    if (e.cost_micros.low) j["interval"] = "P10-P90";
  }
  if (!e.amp_note.empty()) j["amp_note"] = e.amp_note;
  if (!e.scaling.empty()) j["scaling"] = e.scaling;
  if (!e.stopping.empty()) j["stopping"] = e.stopping;
  if (e.best) {
    const BestPractice& b = *e.best;
    j["best_practice"] = {{"scope", b.scope},
                          {"model_type", b.model_type},
                          {"gpu_model", b.gpu_model},
                          {"epochs", b.epochs},
                          {"batch", b.batch},
                          {"imgsz", b.imgsz},
                          {"amp", b.amp},
                          {"patience", b.patience},
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
