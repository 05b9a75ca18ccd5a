// The estimate at submission over 100,000 finished runs of synthetic history (docs/
// PERFORMANCE.md): 8 model types x 2 GPU models x 5 projects, epochs, dataset size,
// image size, batch, AMP, patience and where each run peaked drawn per run, GPU time
// following them. The history is in memory,
// as PrepareSubmission holds it once read from the books; reading it from a ledger is
// the books' cost (report_bench.cc), not the estimate's.
#include <benchmark/benchmark.h>

#include <random>

#include "estimate/estimate.h"

namespace gpuledger {
namespace {

std::vector<FinishedRun> History(int n) {
  std::mt19937_64 rng(7);
  const char* models[] = {"yolov8n", "yolov8s", "yolov8m", "yolov10m",
                          "yolo11n", "yolo11s", "yolo11m", "custom-pruned-v10"};
  const char* gpus[] = {"A10G", "A100-SXM4-80GB"};
  std::uniform_int_distribution<int> pick8(0, 7), pick2(0, 1), pick5(0, 4);
  std::uniform_int_distribution<int> epochs(50, 300);
  std::uniform_int_distribution<int64_t> images(1000, 50000);
  std::lognormal_distribution<double> noise(0, 0.2);
  std::uniform_real_distribution<double> map(0.40, 0.65);
  std::vector<FinishedRun> h;
  h.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    FinishedRun r;
    r.job_id = "r" + std::to_string(i);
    r.project = "p" + std::to_string(pick5(rng));
    r.dataset = "d" + std::to_string(pick5(rng));
    const int m = pick8(rng);
    r.model_type = models[m];
    r.gpu_model = gpus[pick2(rng)];
    r.gpu_share_ppm = kFullShare;
    r.epochs = epochs(rng);
    r.dataset_images = images(rng);
    r.imgsz = pick2(rng) ? 640 : 1280;
    r.batch = 8 << pick2(rng);
    r.amp = pick2(rng) == 1;
    r.patience = pick2(rng) ? 100 : 30;
    r.best_epoch = std::uniform_int_distribution<int>(r.epochs / 3, r.epochs)(rng);
    r.epochs_run = std::min(r.epochs, r.best_epoch + r.patience);
    const double hours = 1e-6 * r.epochs * static_cast<double>(r.dataset_images) * (r.imgsz / 640.0) *
                         (r.imgsz / 640.0) * (1 + m) * (r.amp ? 0.7 : 1.0) * noise(rng);
    r.duration_ms = static_cast<DurationMs>(hours * kHourMs);
    r.train_s = hours * 3600 * 0.97;  // the rest: setup and the final validation
    r.gpu_ns = static_cast<int64_t>(hours * static_cast<double>(kGpuNsPerGpuHour));
    r.cost_micros = static_cast<int64_t>(hours * 3'500'000);
    r.best_map50 = map(rng);
    h.push_back(std::move(r));
  }
  return h;
}

void BM_EstimateOver100kRuns(benchmark::State& state) {
  static const std::vector<FinishedRun> history = History(100'000);
  Job req;
  req.id = "new";
  req.project = "p1";
  req.dataset = "d1";
  req.model_type = "yolov8s";
  req.gpu_model = "A10G";
  req.gpu_share_ppm = kFullShare;
  req.epochs = 100;
  req.dataset_images = 10000;
  req.imgsz = 640;
  req.amp = true;
  req.batch = 16;
  req.labels["patience"] = "50";
  req.duration_limit_ms = 48 * kHourMs;
  const RateInfo rate{3'500'000, {"CNY", 2}};
  int similar = 0;
  for (auto _ : state) {
    Estimate e = EstimateJob(req, history, rate);
    similar = e.runs;
    benchmark::DoNotOptimize(e);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(history.size()));
  state.counters["similar_runs"] = similar;
}
BENCHMARK(BM_EstimateOver100kRuns)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gpuledger
