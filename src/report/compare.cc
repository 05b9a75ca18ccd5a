#include "report/compare.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/money.h"
#include "common/stats.h"

namespace gpuledger {

StatusOr<CompareBy> ParseCompareBy(std::string_view s) {
  if (s == "image") return CompareBy::kImage;
  if (s == "framework") return CompareBy::kFramework;
  if (s == "model") return CompareBy::kModel;
  return InvalidArgument("compare by '" + std::string(s) + "': use image, framework or model");
}

std::string_view CompareByName(CompareBy b) {
  switch (b) {
    case CompareBy::kImage:
      return "image";
    case CompareBy::kFramework:
      return "framework";
    case CompareBy::kModel:
      break;
  }
  return "model";
}

namespace {

constexpr double kRefImages = 1000.0;
constexpr double kRefImgsz = 640.0;

std::optional<double> WorkNormalised(const CompareRun& r) {
  if (!r.epoch_s || r.dataset_images <= 0 || r.imgsz <= 0) return std::nullopt;
  const double px = static_cast<double>(r.imgsz) / kRefImgsz;
  return *r.epoch_s / (static_cast<double>(r.dataset_images) / kRefImages) / (px * px);
}

std::string GpuKey(const CompareRun& r) { return r.gpu_model + " x" + std::to_string(r.gpus); }

// Each group's median over the median of all: the group's factor.
std::map<std::string, double> Factors(const std::vector<CompareRun>& runs,
                                      const std::vector<std::optional<double>>& t,
                                      std::string (*key)(const CompareRun&)) {
  std::vector<double> all;
  std::map<std::string, std::vector<double>> by;
  for (size_t i = 0; i < runs.size(); ++i) {
    if (!t[i]) continue;
    all.push_back(*t[i]);
    by[key(runs[i])].push_back(*t[i]);
  }
  std::map<std::string, double> f;
  const double m = Median(all);
  for (auto& [k, v] : by) f[k] = m > 0 ? Median(v) / m : 1.0;
  return f;
}

std::string ModelKey(const CompareRun& r) { return r.model_type; }

}  // namespace

std::vector<std::optional<double>> NormaliseEpochTimes(const std::vector<CompareRun>& runs, CompareBy by) {
  std::vector<std::optional<double>> t;
  t.reserve(runs.size());
  for (const CompareRun& r : runs) t.push_back(WorkNormalised(r));
  // The GPU factor first (hardware is not what any grouping compares), then the model's
  // over GPU-normalised times.
  const std::map<std::string, double> gpu = Factors(runs, t, GpuKey);
  for (size_t i = 0; i < runs.size(); ++i) {
    if (t[i]) *t[i] /= gpu.at(GpuKey(runs[i]));
  }
  if (by != CompareBy::kModel) {
    const std::map<std::string, double> model = Factors(runs, t, ModelKey);
    for (size_t i = 0; i < runs.size(); ++i) {
      if (t[i]) *t[i] /= model.at(ModelKey(runs[i]));
    }
  }
  return t;
}

Comparison CompareRuns(const std::vector<CompareRun>& runs, CompareBy by,
                       const std::map<std::string, int64_t>& gpu_memory_mib) {
  Comparison c;
  c.by = by;
  const std::vector<std::optional<double>> t = NormaliseEpochTimes(runs, by);
  struct Acc {
    VariantRow row;
    std::vector<double> epoch, peaks, maps;
  };
  std::map<std::string, Acc> acc;
  double hours = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const CompareRun& r = runs[i];
    Acc& a = acc[r.key.empty() ? "(unknown)" : r.key];
    ++a.row.runs;
    a.row.cost_micros += r.cost_micros;
    a.row.gpu_hours += r.gpu_hours;
    c.total_cost_micros += r.cost_micros;
    hours += r.gpu_hours;
    if (t[i]) a.epoch.push_back(*t[i]);
    if (r.peak_mem_mib && *r.peak_mem_mib > 0) a.peaks.push_back(static_cast<double>(*r.peak_mem_mib));
    if (r.best_map50) a.maps.push_back(*r.best_map50 * 100.0);
  }
  for (auto& [key, a] : acc) {
    VariantRow row = a.row;
    row.key = key;
    row.cost_share = c.total_cost_micros > 0
                         ? static_cast<double>(row.cost_micros) / static_cast<double>(c.total_cost_micros)
                         : 0.0;
    row.gpu_hours_share = hours > 0 ? row.gpu_hours / hours : 0.0;
    row.runs_timed = static_cast<int>(a.epoch.size());
    if (!a.epoch.empty()) row.norm_epoch_s = Median(a.epoch);
    if (!a.peaks.empty()) {
      const double peak = *std::max_element(a.peaks.begin(), a.peaks.end());
      row.peak_mem_gib = peak / 1024.0;
      row.typical_mem_gib = Median(a.peaks) / 1024.0;
      for (const auto& [model, mib] : gpu_memory_mib) {
        row.fit_per_gpu[model] = static_cast<int64_t>(std::floor(static_cast<double>(mib) / peak));
      }
    }
    if (!a.maps.empty()) {
      double s = 0;
      for (double m : a.maps) s += m;
      row.map50_pts = s / static_cast<double>(a.maps.size());
    }
    c.rows.push_back(std::move(row));
  }
  std::sort(c.rows.begin(), c.rows.end(), [](const VariantRow& x, const VariantRow& y) {
    if (x.cost_micros != y.cost_micros) return x.cost_micros > y.cost_micros;
    return x.key < y.key;
  });
  return c;
}

StatusOr<Comparison> BuildComparison(Ledger& ledger, const BooksContext& ctx, const CompareOptions& o,
                                     TimeMs as_of) {
  if (o.a.empty() != o.b.empty()) {
    return InvalidArgument("name two variants to compare side by side (a='" + o.a + "', b='" + o.b +
                           "'): give both or neither");
  }
  ASSIGN_OR_RETURN(std::vector<Job> all, ledger.ListJobs());
  std::optional<Window> mw;
  if (o.month) {
    ASSIGN_OR_RETURN(Window w, ctx.tz.MonthWindow(*o.month));
    mw = w;
  }
  std::vector<Job> jobs;
  for (Job& j : all) {
    if (j.start_ms == 0 || j.start_ms >= as_of) continue;
    if (mw && !mw->Contains(j.start_ms)) continue;
    if (!o.scope.project.empty() && j.project != o.scope.project) continue;
    if (!o.scope.department.empty() && j.department != o.scope.department) continue;
    jobs.push_back(std::move(j));
  }
  ASSIGN_OR_RETURN(auto costs, BuildJobCosts(ledger, ctx, jobs, as_of));
  std::vector<CompareRun> runs;
  for (const Job& j : jobs) {
    auto jc = costs.find(j.id);
    if (jc == costs.end()) continue;  // held nothing
    CompareRun r;
    r.key = o.by == CompareBy::kImage       ? j.image_tag
            : o.by == CompareBy::kFramework ? j.framework
                                            : j.model_type;
    r.model_type = j.model_type;
    r.gpu_model = j.gpu_model;
    r.gpus = static_cast<int>(std::max<int64_t>(1, (j.gpu_share_ppm + kFullShare - 1) / kFullShare));
    r.dataset_images = j.dataset_images;
    r.imgsz = j.imgsz;
    r.cost_micros = jc->second.cost_micros;
    r.gpu_hours = jc->second.usage.gpu_hours();
    ASSIGN_OR_RETURN(std::vector<JobGpuMemory> own, ledger.GetJobGpuMemory(j.id));
    int64_t peak = -1;
    for (const JobGpuMemory& m : own) {
      if (m.first_ms <= as_of) peak = std::max(peak, m.peak_mib);
    }
    if (peak < 0 && jc->second.usage.peak_mem_mib > 0) peak = jc->second.usage.peak_mem_mib;
    if (peak > 0) r.peak_mem_mib = peak;
    ASSIGN_OR_RETURN(std::vector<EpochProgress> prog, ledger.GetProgress(j.id));
    double best = -1;
    for (const EpochProgress& e : prog) {
      if (e.map50) best = std::max(best, *e.map50);
      if (e.time_s && e.epoch > 0 && *e.time_s > 0)
        r.epoch_s = *e.time_s / e.epoch;  // the last timed epoch's
    }
    if (best >= 0) r.best_map50 = best;
    runs.push_back(std::move(r));
  }
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, ledger.ListGpus());
  std::map<std::string, int64_t> mem;
  for (const Gpu& g : gpus) mem[g.model] = std::max(mem[g.model], g.memory_mib);
  Comparison c = CompareRuns(runs, o.by, mem);
  c.month = o.month;
  c.scope = o.scope;
  c.as_of = as_of;
  c.partial = !mw || as_of < mw->end;
  c.currency = ctx.prices.currency();
  if (!o.a.empty()) {
    for (const VariantRow& r : c.rows) {
      if (r.key == o.a) c.a = r;
      if (r.key == o.b) c.b = r;
    }
    if (!c.a)
      return NotFound("no runs of " + std::string(CompareByName(o.by)) + " '" + o.a + "' in the scope");
    if (!c.b)
      return NotFound("no runs of " + std::string(CompareByName(o.by)) + " '" + o.b + "' in the scope");
    if (c.a->norm_epoch_s && c.b->norm_epoch_s && *c.a->norm_epoch_s > 0) {
      c.b_vs_a_epoch = *c.b->norm_epoch_s / *c.a->norm_epoch_s;
    }
  }
  return c;
}

namespace {

using J = nlohmann::ordered_json;

template <typename T>
J OrNull(const std::optional<T>& v) {
  return v ? J(*v) : J();
}

J RowJson(const VariantRow& r, int d) {
  J fit = J::array();
  for (const auto& [m, n] : r.fit_per_gpu) fit.push_back({{"gpu_model", m}, {"instances", n}});
  return {{"key", r.key},
          {"runs", r.runs},
          {"cost", FormatMicros(r.cost_micros, d)},
          {"cost_share", r.cost_share},
          {"gpu_hours", r.gpu_hours},
          {"gpu_hours_share", r.gpu_hours_share},
          {"norm_epoch_s", OrNull(r.norm_epoch_s)},
          {"runs_timed", r.runs_timed},
          {"typical_mem_gib", OrNull(r.typical_mem_gib)},
          {"peak_mem_gib", OrNull(r.peak_mem_gib)},
          {"fit_per_gpu", fit},
          {"map50", OrNull(r.map50_pts)}};
}

std::string Fixed(double v, int digits) {
  std::ostringstream s;
  s.imbue(std::locale::classic());
  s.setf(std::ios::fixed);
  s.precision(digits);
  s << v;
  return s.str();
}

std::string Opt(const std::optional<double>& v, int digits) { return v ? Fixed(*v, digits) : "-"; }

}  // namespace

std::string RenderComparisonJson(const Comparison& c) {
  const int d = c.currency.minor_digits;
  J j;
  j["by"] = std::string(CompareByName(c.by));
  j["month"] = c.month ? J(c.month->ToString()) : J();
  j["as_of"] = FormatTime(c.as_of);
  j["partial"] = c.partial;
  j["project"] = c.scope.project.empty() ? J() : J(c.scope.project);
  j["department"] = c.scope.department.empty() ? J() : J(c.scope.department);
  j["currency"] = c.currency.code;
  j["total_cost"] = FormatMicros(c.total_cost_micros, d);
  j["rows"] = J::array();
  for (const VariantRow& r : c.rows) j["rows"].push_back(RowJson(r, d));
  if (c.a && c.b) {
    j["side_by_side"] = {
        {"a", RowJson(*c.a, d)}, {"b", RowJson(*c.b, d)}, {"b_vs_a_epoch", OrNull(c.b_vs_a_epoch)}};
  }
  return j.dump(2) + "\n";
}

std::string RenderComparisonTable(const Comparison& c) {
  std::ostringstream o;
  o.imbue(std::locale::classic());
  const int d = c.currency.minor_digits;
  o << "Comparison by " << CompareByName(c.by)
    << (c.month ? " (runs started in " + c.month->ToString() + ")" : "")
    << (c.scope.project.empty() ? "" : ", project " + c.scope.project)
    << (c.scope.department.empty() ? "" : ", department " + c.scope.department) << "\n";
  o << "epoch s: median seconds per epoch per 1,000 images at 640 px, normalised for model and GPU "
       "(docs/INSIGHT.md)\n";
  auto line = [&](const VariantRow& r) {
    std::string fit;
    for (const auto& [m, n] : r.fit_per_gpu) fit += (fit.empty() ? "" : " ") + m + ":" + std::to_string(n);
    o << r.key << "  runs " << r.runs << "  cost " << FormatMicros(r.cost_micros, d) << " " << c.currency.code
      << " (" << Fixed(100 * r.cost_share, 1) << " %)  GPU-h " << Fixed(r.gpu_hours, 1) << " ("
      << Fixed(100 * r.gpu_hours_share, 1) << " %)  epoch s " << Opt(r.norm_epoch_s, 2)
      << "  mem GiB typical " << Opt(r.typical_mem_gib, 1) << " peak " << Opt(r.peak_mem_gib, 1) << "  fit "
      << (fit.empty() ? "-" : fit) << "  mAP50 " << Opt(r.map50_pts, 1) << "\n";
  };
  for (const VariantRow& r : c.rows) line(r);
  o << "total " << FormatMicros(c.total_cost_micros, d) << " " << c.currency.code << "\n";
  if (c.a && c.b) {
    o << "\nside by side\n  a: ";
    line(*c.a);
    o << "  b: ";
    line(*c.b);
    if (c.b_vs_a_epoch) {
      const double pct = 100.0 * (1.0 - *c.b_vs_a_epoch);
      o << "  b's epochs take " << Fixed(*c.b_vs_a_epoch, 3) << "x a's (" << Fixed(std::fabs(pct), 1) << " % "
        << (pct >= 0 ? "faster" : "slower") << ")\n";
    }
  }
  return o.str();
}

}  // namespace gpuledger
