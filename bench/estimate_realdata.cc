// Estimator accuracy on real Ultralytics runs, leave one out (docs/PERFORMANCE.md): each
// run directory's results.csv (epochs, Ultralytics' cumulative `time`, mAP) and args.yaml
// (model, epochs, patience, batch, imgsz, AMP, device) become a finished run; each run is
// estimated from the others as if it were being submitted. The files carry no dataset
// size, GPU model or price: the device string stands for the GPU model, the dataset size
// is unknown (not scaled), and cost is GPU time at one nominal price, so its percentage
// error is the time's. Runs without a `time` column are left out (nothing to compare).
// Reads the files where they are; copies nothing.
// Usage: estimate_realdata DIR [MIN_RUNS]   (MIN_RUNS: the estimate's min_runs_point;
// default the production 3; 1 is a diagnostic of the scaling alone)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "estimate/estimate.h"
#include "ingest/results_csv.h"

using namespace gpuledger;

namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The top-level `key: value` lines of an args.yaml (all the file holds).
std::map<std::string, std::string> ReadArgs(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const size_t colon = line.find(": ");
    if (colon == std::string::npos || line.empty() || line[0] == ' ' || line[0] == '#') continue;
    std::string v = line.substr(colon + 2);
    while (!v.empty() && (v.back() == '\r' || v.back() == ' ')) v.pop_back();
    out[line.substr(0, colon)] = v;
  }
  return out;
}

int ToInt(const std::map<std::string, std::string>& m, const char* k) {
  auto it = m.find(k);
  if (it == m.end()) return 0;
  try {
    return std::stoi(it->second);
  } catch (...) {
    return 0;
  }
}

// "yolo12n.pt", "/content/weights/yolov10s.pt", "E:\...\yolov8s.pt" -> "yolo12n".
std::string ModelName(std::string v) {
  const size_t slash = v.find_last_of("/\\");
  if (slash != std::string::npos) v = v.substr(slash + 1);
  if (v.size() > 3 && v.substr(v.size() - 3) == ".pt") v.resize(v.size() - 3);
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DIR [MIN_RUNS]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path dir = argv[1];
  EstimateOptions opt;
  if (argc > 2) opt.min_runs_point = std::max(1, std::atoi(argv[2]));
  constexpr int64_t kPrice = 3'500'000;  // nominal, per GPU-hour
  std::vector<FinishedRun> runs;
  std::vector<std::string> skipped;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = "__results.csv";
    if (name.size() <= suffix.size() || name.substr(name.size() - suffix.size()) != suffix) continue;
    const std::string stem = name.substr(0, name.size() - suffix.size());
    const std::filesystem::path args_path = dir / (stem + "__args.yaml");
    auto prog = ParseResultsCsv(ReadFile(entry.path()));
    if (!prog.ok() || prog->empty()) {
      skipped.push_back(stem + " (results.csv: " + (prog.ok() ? "empty" : prog.status().message()) + ")");
      continue;
    }
    if (!prog->back().time_s) {
      skipped.push_back(stem + " (no time column)");
      continue;
    }
    if (!std::filesystem::exists(args_path)) {
      skipped.push_back(stem + " (no args.yaml)");
      continue;
    }
    const auto args = ReadArgs(ReadFile(args_path));
    FinishedRun r;
    r.job_id = stem;
    r.project = stem;  // one project per run: best practice is not what this measures
    r.model_type = ModelName(args.count("model") ? args.at("model") : "");
    std::string device = args.count("device") ? args.at("device") : "null";
    r.gpu_model = device == "cpu" ? "cpu" : device == "null" || device.empty() ? "unknown device" : "cuda";
    r.gpu_share_ppm = kFullShare;
    r.epochs = ToInt(args, "epochs");
    r.batch = std::max(0, ToInt(args, "batch"));
    r.imgsz = ToInt(args, "imgsz");
    r.amp = args.count("amp") && args.at("amp") == "true";
    r.patience = ToInt(args, "patience");
    double best = -1;
    for (const EpochProgress& e : *prog) {
      r.epochs_run = std::max(r.epochs_run, e.epoch);
      if (!e.map50) continue;
      const double f = e.map50_95 ? 0.1 * *e.map50 + 0.9 * *e.map50_95 : *e.map50;
      if (f > best) best = f, r.best_epoch = e.epoch;
      if (!r.best_map50 || *e.map50 > *r.best_map50) r.best_map50 = e.map50;
    }
    r.train_s = *prog->back().time_s;
    r.duration_ms = static_cast<DurationMs>(r.train_s * 1000);  // the files know no setup or final validation
    const double hours = r.train_s / 3600;
    r.gpu_ns = static_cast<int64_t>(hours * static_cast<double>(kGpuNsPerGpuHour));
    r.cost_micros = static_cast<int64_t>(hours * static_cast<double>(kPrice));
    runs.push_back(r);
  }
  std::sort(runs.begin(), runs.end(),
            [](const FinishedRun& a, const FinishedRun& b) { return a.job_id < b.job_id; });
  std::printf("%zu runs with epochs and time (min_runs_point %d)\n", runs.size(), opt.min_runs_point);
  for (const std::string& s : skipped) std::printf("  left out: %s\n", s.c_str());
  std::vector<double> ape;
  int inside = 0, with_interval = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    const FinishedRun& held = runs[i];
    std::vector<FinishedRun> rest = runs;
    rest.erase(rest.begin() + static_cast<long>(i));
    Job req;
    req.id = held.job_id;
    req.project = held.project;
    req.model_type = held.model_type;
    req.gpu_model = held.gpu_model;
    req.gpu_share_ppm = kFullShare;
    req.epochs = held.epochs;
    req.batch = held.batch;
    req.imgsz = held.imgsz;
    req.amp = held.amp;
    if (held.patience > 0) req.labels["patience"] = std::to_string(held.patience);
    req.duration_limit_ms = 48 * kHourMs;
    const Estimate e = EstimateJob(req, rest, RateInfo{kPrice, Currency{"CNY", 2}}, opt);
    std::printf("%-34s %-10s %-14s ep %3d/%-3d %7.0f s: ", held.job_id.c_str(), held.model_type.c_str(),
                held.gpu_model.c_str(), held.epochs_run, held.epochs, held.train_s);
    if (e.basis != Estimate::Basis::kHistory) {
      std::printf("%s (%d similar runs)\n", std::string(EstimateBasisName(e.basis)).c_str(), e.runs);
      continue;
    }
    const double actual = static_cast<double>(held.cost_micros);
    const double err = (e.cost_micros.mid - actual) / actual * 100;
    ape.push_back(std::abs(err));
    std::printf("predicted %.0f s (%+.1f %%) from %d runs, %.0f epochs", e.gpu_hours.mid * 3600, err, e.runs,
                e.epochs.mid);
    if (e.cost_micros.low) {
      ++with_interval;
      if (actual >= *e.cost_micros.low && actual <= *e.cost_micros.high) ++inside;
      std::printf(", interval");
    }
    std::printf("\n");
  }
  std::sort(ape.begin(), ape.end());
  std::printf("estimated from history: %zu of %zu", ape.size(), runs.size());
  if (!ape.empty()) {
    const double md =
        ape.size() % 2 ? ape[ape.size() / 2] : (ape[ape.size() / 2 - 1] + ape[ape.size() / 2]) / 2;
    std::printf("; MdAPE %.1f %%", md);
  }
  std::printf("; with an interval: %d (inside %d)\n", with_interval, inside);
  return 0;
}
