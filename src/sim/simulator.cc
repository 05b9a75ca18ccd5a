#include "sim/simulator.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "common/strings.h"

namespace gpuledger {

namespace {

// splitmix64: the same stream on every platform, unlike std:: distributions.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double a, double b) { return a + (b - a) * Uniform(); }
  int Int(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  double Normal(double mean, double sd) {
    const double u1 = std::max(Uniform(), 1e-12), u2 = Uniform();
    return mean + sd * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  bool Chance(double p) { return Uniform() < p; }

 private:
  uint64_t s_;
};

struct ModelSpec {
  const char* name;
  double images_per_s;  // training throughput on one A10G at imgsz 640, batch 16, AMP
  double peak_gib;
  double map50;  // mAP@0.5 in points the model reaches in 100 epochs on 30,000 images at 640
  const char* yolo_version;
};
// Throughputs are Ultralytics' with its mosaic augmentation on 8 dataloader workers,
// where the CPU side bounds the small models.
constexpr ModelSpec kModels[] = {
    {"yolov8n", 260, 3.2, 50.3, "yolov8"},  {"yolov8s", 150, 7.1, 56.2, "yolov8"},
    {"yolov8m", 70, 9.4, 57.9, "yolov8"},   {"yolov10s", 145, 6.9, 56.9, "yolov10"},
    {"yolov10m", 62, 9.8, 58.7, "yolov10"}, {"yolo11n", 275, 3.0, 51.2, "yolo11"},
    {"yolo11s", 160, 6.6, 57.3, "yolo11"},  {"custom-pruned-v10", 180, 4.8, 55.1, "yolov10"},
};

struct Team {
  const char* department;
  const char* project;
  const char* users[2];
  double jobs_per_day;
  int64_t dataset_images;  // its dataset's v1; each later version adds a fifth
  double large_imgsz;      // share of its runs at 960 or 1280 (small defects need pixels)
};
constexpr Team kTeams[] = {
    {"manufacturing", "defect-detection-line3", {"zhangsan", "lisi"}, 4.0, 36000, 0.45},
    {"manufacturing", "pcb-solder-qc", {"wangwu", "wangwu"}, 2.2, 16000, 0.5},
    {"retail", "shelf-monitoring", {"zhaoliu", "sunqi"}, 3.0, 44000, 0.15},
    {"retail", "checkout-cam", {"zhouba", "zhouba"}, 1.5, 24000, 0.2},
    {"autonomy", "forklift-perception", {"wujiu", "zhengshi"}, 2.6, 56000, 0.2},
};

// The framework versions the runs pin, each with its training speed against 8.0.120: from
// 8.0.200 on an epoch takes 23 % less time (the article's figure; throughput 1 / 0.77).
struct FrameworkSpec {
  const char* name;
  double speed;
};
constexpr FrameworkSpec kFrameworks[] = {{"ultralytics==8.0.120", 1.0},
                                         {"ultralytics==8.0.200", 1 / 0.77},
                                         {"ultralytics==8.2.103", 1 / 0.77},
                                         {"ultralytics==8.3.40", 1 / 0.77}};

std::string Hex(uint64_t v, int digits) {
  static const char* kHex = "0123456789abcdef";
  std::string s(static_cast<size_t>(digits), '0');
  for (int i = digits - 1; i >= 0; --i, v >>= 4) s[static_cast<size_t>(i)] = kHex[v & 15];
  return s;
}

// `n` GPUs of one pool (A10Gs first, then A100s) free from `start` to the span's end,
// taken for it (both half slots); no pool with that many free: none, nothing taken.
std::vector<size_t> TakeFreeGpus(SimCluster& c, std::vector<std::array<TimeMs, 2>>& free_at,
                                 const std::vector<std::vector<size_t>>& pool_gpus, TimeMs start, size_t n) {
  for (const std::vector<size_t>& pool : pool_gpus) {
    std::vector<size_t> free;
    for (size_t g : pool) {
      if (free.size() < n && std::max(free_at[g][0], free_at[g][1]) <= start) free.push_back(g);
    }
    if (free.size() < n) continue;
    for (size_t g : free) free_at[g] = {c.span.end, c.span.end};
    return free;
  }
  return {};
}

// One of the demo's own runs (simulator.h): one whole GPU from its start, running at the
// span's end, with its profile and epochs. Draws from its own Rng (the image digest).
void PlaceDemoRun(SimCluster& c, Job j, const std::vector<size_t>& gpus, const SimCluster::Profile& prof,
                  std::vector<EpochProgress> prog) {
  const size_t gpu = gpus.front();
  uint64_t h = 14695981039346656037ULL;  // FNV-1a of the id: the same on every platform
  for (char ch : j.id) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ULL;
  Rng rng(c.seed ^ h);
  j.image_repo = "registry.local/yolo/train";
  j.image_digest =
      "sha256:" + Hex(rng.Next(), 16) + Hex(rng.Next(), 16) + Hex(rng.Next(), 16) + Hex(rng.Next(), 16);
  j.gpu_share_ppm = static_cast<int64_t>(gpus.size()) * kFullShare;
  j.gpu_model = c.gpus[gpu].model;
  j.duration_limit_ms = 48 * kHourMs;
  j.labels = {
      {"queue", j.gpu_model == "A10G" ? "a10g" : "a100"}, {"restart_from", "scratch"}, {"patience", "100"}};
  j.submitted_ms = j.start_ms - 2 * kMinuteMs;
  j.status = JobStatus::kRunning;
  for (size_t g : gpus) c.allocations.push_back({j.id, c.gpus[g].uuid, j.start_ms, 0, kFullShare});
  c.profiles[j.id] = prof;
  c.progress[j.id] = std::move(prog);
  c.jobs.push_back(std::move(j));
}

// Epoch `e` of a demo run with `setup` before its first epoch and `epoch` each: its end is
// the run's start + time_s (as the server reads it); mAP@0.5:0.95, precision and recall
// follow mAP@0.5 as in the simulated runs.
EpochProgress DemoEpoch(int e, DurationMs setup, DurationMs epoch, double train_loss, double val_loss,
                        double map50) {
  EpochProgress ep;
  ep.epoch = e;
  ep.time_s = static_cast<double>(setup + e * epoch) / 1000;
  ep.train_loss = train_loss;
  ep.val_loss = val_loss;
  ep.map50 = map50;
  ep.map50_95 = map50 * 0.62;
  ep.precision = map50 + 0.08;
  ep.recall = map50 - 0.03;
  return ep;
}

// SimOptions::stalled_run (simulator.h, kStalledRunId).
void AddStalledRun(SimCluster& c, std::vector<std::array<TimeMs, 2>>& free_at,
                   const std::vector<std::vector<size_t>>& pool_gpus) {
  constexpr DurationMs kEpoch = 12 * kMinuteMs, kSetup = 8 * kMinuteMs;
  constexpr int kImproving = 20;                        // epochs whose loss still falls
  const TimeMs plateau = c.span.end - 148 * kMinuteMs;  // the 20th epoch's end
  const TimeMs start = plateau - kSetup - kImproving * kEpoch;
  const std::vector<size_t> gpu = TakeFreeGpus(c, free_at, pool_gpus, start, 1);
  if (gpu.empty()) return;
  Job j;
  j.id = kStalledRunId;
  j.user = "lisi";
  j.project = "defect-detection-line3";
  j.department = "manufacturing";
  j.model_type = "yolov8m";
  j.image_tag = "train-yolov8-base-cu118";
  j.framework = "ultralytics==8.2.103";
  j.dataset = "defect-detection-line3-v4";
  j.dataset_images = 36000 * 8 / 5;
  j.epochs = 100;
  j.imgsz = 640;
  j.batch = 16;
  j.amp = true;
  j.start_ms = start;
  SimCluster::Profile prof;
  prof.steady_util = 86;
  prof.dense_share = 0.85;
  prof.tail_frac = 0;
  prof.peak_mem_mib = 9.4 * 1024 * std::pow(16 / 32.0, 0.8);
  prof.stalled_from_ms = plateau;
  std::vector<EpochProgress> prog;
  for (int e = 1; start + kSetup + e * kEpoch <= c.span.end; ++e) {
    const int k = std::min(e, kImproving), flat = std::max(0, e - kImproving);
    prog.push_back(DemoEpoch(e, kSetup, kEpoch, 1.6 + 3.0 * std::exp(-k / 6.0) - 0.00005 * flat,
                             1.8 + 3.2 * std::exp(-k / 6.0) + 0.0004 * flat,
                             0.52 * (1 - std::exp(-k / 6.0)) - 0.0002 * flat));
  }
  PlaceDemoRun(c, std::move(j), gpu, prof, std::move(prog));
}

// SimOptions::hung_run (simulator.h, kHungRunId).
void AddHungRun(SimCluster& c, std::vector<std::array<TimeMs, 2>>& free_at,
                const std::vector<std::vector<size_t>>& pool_gpus) {
  constexpr DurationMs kEpoch = 15 * kMinuteMs, kSetup = 8 * kMinuteMs;
  const TimeMs hung = c.span.end - 130 * kMinuteMs;
  const TimeMs start = hung - kSetup - 8 * kEpoch - 3 * kMinuteMs;  // 8 epochs, then hung mid-epoch
  const std::vector<size_t> gpus = TakeFreeGpus(c, free_at, pool_gpus, start, 2);
  if (gpus.empty()) return;
  Job j;
  j.id = kHungRunId;
  j.user = "zhaoliu";
  j.project = "shelf-monitoring";
  j.department = "retail";
  j.model_type = "yolov8m";
  j.image_tag = "train-yolov8-medium-cu121";
  j.framework = "ultralytics==8.2.103";
  j.dataset = "shelf-monitoring-v2";
  j.dataset_images = 44000 * 6 / 5;
  j.epochs = 150;
  j.imgsz = 960;
  j.batch = 32;
  j.amp = true;
  j.start_ms = start;
  SimCluster::Profile prof;
  prof.steady_util = 88;
  prof.dense_share = 0.9;
  prof.tail_frac = 0;
  prof.peak_mem_mib = 21 * 1024;
  prof.hung_from_ms = hung;
  std::vector<EpochProgress> prog;
  for (int e = 1; start + kSetup + e * kEpoch <= hung; ++e)
    prog.push_back(DemoEpoch(e, kSetup, kEpoch, 1.8 + 3.0 * std::exp(-e / 25.0),
                             2.0 + 3.2 * std::exp(-e / 25.0), 0.58 * (1 - std::exp(-e / 25.0))));
  PlaceDemoRun(c, std::move(j), gpus, prof, std::move(prog));
}

// SimOptions::late_run (simulator.h, kLateRunId).
void AddLateRun(SimCluster& c, std::vector<std::array<TimeMs, 2>>& free_at,
                const std::vector<std::vector<size_t>>& pool_gpus) {
  constexpr DurationMs kEpoch = 5 * kMinuteMs, kSetup = 6 * kMinuteMs;
  const TimeMs start = c.span.end - 50 * kMinuteMs;
  const std::vector<size_t> gpu = TakeFreeGpus(c, free_at, pool_gpus, start, 1);
  if (gpu.empty()) return;
  Job j;
  j.id = kLateRunId;
  j.user = "wujiu";
  j.project = "forklift-perception";
  j.department = "autonomy";
  j.model_type = "yolo11s";
  j.image_tag = "train-yolo11-small-cu121";
  j.framework = "ultralytics==8.3.40";
  j.dataset = "forklift-perception-v3";
  j.dataset_images = 56000 * 7 / 5;
  j.epochs = 120;
  j.imgsz = 640;
  j.batch = 32;
  j.amp = true;
  j.start_ms = start;
  SimCluster::Profile prof;
  prof.steady_util = 90;
  prof.dense_share = 0.9;
  prof.tail_frac = 0;
  prof.peak_mem_mib = 6.6 * 1024;
  std::vector<EpochProgress> prog;
  for (int e = 1; start + kSetup + e * kEpoch <= c.span.end; ++e)
    prog.push_back(DemoEpoch(e, kSetup, kEpoch, 1.7 + 3.1 * std::exp(-e / 20.0),
                             1.9 + 3.3 * std::exp(-e / 20.0), 0.57 * (1 - std::exp(-e / 20.0))));
  PlaceDemoRun(c, std::move(j), gpu, prof, std::move(prog));
}

}  // namespace

StatusOr<SimCluster> SimulateCluster(const SimOptions& o, const TimeZone& tz) {
  SimCluster c;
  c.seed = o.seed;
  c.sample_interval_ms = o.sample_interval_ms;
  ASSIGN_OR_RETURN(Window prev, tz.MonthWindow(o.month.Prev()));
  ASSIGN_OR_RETURN(Window cur, tz.MonthWindow(o.month));
  c.span = {prev.start, cur.end};
  Rng rng(o.seed);

  // Hardware: A10G nodes (24 GB) and A100 nodes (80 GB).
  struct Pool {
    const char* model;
    int64_t mem_mib;
    double speed;     // throughput factor vs A10G
    double amp_gain;  // throughput factor of AMP (tensor cores) vs FP32
  };
  const Pool pools[] = {{"A10G", 23028, 1.0, 1.5}, {"A100-SXM4-80GB", 81920, 2.4, 1.75}};
  std::vector<std::vector<size_t>> pool_gpus(2);
  for (int p = 0; p < 2; ++p) {
    for (int n = 0; n < (p == 0 ? o.a10g_nodes : o.a100_nodes); ++n) {
      for (int i = 0; i < o.gpus_per_node; ++i) {
        Gpu g;
        g.uuid = "GPU-" + Hex(rng.Next(), 8) + "-" + Hex(rng.Next(), 4) + "-" + Hex(rng.Next(), 4) + "-" +
                 Hex(rng.Next(), 4) + "-" + Hex(rng.Next(), 12);
        g.node = std::string(p == 0 ? "a10g-node-" : "a100-node-") + std::to_string(n + 1);
        g.index = i;
        g.model = pools[p].model;
        g.memory_mib = pools[p].mem_mib;
        // In service when the simulated cluster starts working: a month before it would
        // be all idle capacity, and the first month's comparison with it meaningless.
        g.in_service_from = c.span.start;
        g.sample_interval_ms = o.sample_interval_ms;
        g.max_gap_ms = 3 * o.sample_interval_ms;
        pool_gpus[static_cast<size_t>(p)].push_back(c.gpus.size());
        c.gpus.push_back(std::move(g));
      }
    }
  }
  // Prices: the A100 gets cheaper on the 15th of the report month (local midnight).
  const int64_t mid_local = DaysFromCivil(o.month.year, static_cast<unsigned>(o.month.month), 15) * 86400;
  ASSIGN_OR_RETURN(TimeMs mid, tz.LocalToUtc(mid_local));
  const TimeMs since = c.span.start - 60 * kDayMs;
  c.prices = {{"A10G", since, 3'500'000, 850'000, o.currency},
              {"A100-SXM4-80GB", since, 12'000'000, 850'000, o.currency},
              {"A100-SXM4-80GB", mid, 10'800'000, 850'000, o.currency}};

  // Submissions: each team at its own rate, working hours more likely.
  struct Sub {
    TimeMs at;
    size_t team;
    int user;
  };
  std::vector<Sub> subs;
  for (size_t t = 0; t < std::size(kTeams); ++t) {
    const double rate_per_ms = kTeams[t].jobs_per_day * o.load / static_cast<double>(kDayMs);
    TimeMs at = c.span.start;
    for (;;) {
      at += static_cast<TimeMs>(-std::log(std::max(rng.Uniform(), 1e-12)) / rate_per_ms);
      if (at >= c.span.end - 6 * kHourMs) break;
      subs.push_back({at, t, rng.Int(2)});
    }
  }
  std::sort(subs.begin(), subs.end(), [](const Sub& a, const Sub& b) { return a.at < b.at; });

  // Each GPU has two half slots: time-sliced pruned jobs take one, the rest take both.
  std::vector<std::array<TimeMs, 2>> free_at(c.gpus.size(),
                                             std::array<TimeMs, 2>{c.span.start, c.span.start});
  int seq = 0;
  for (const Sub& s : subs) {
    const Team& team = kTeams[s.team];
    const ModelSpec& m = kModels[static_cast<size_t>(rng.Int(static_cast<int>(std::size(kModels))))];
    const bool pruned = std::string_view(m.name).find("pruned") != std::string_view::npos;
    const int pool = pruned || o.a100_nodes == 0 ? 0 : (rng.Chance(0.35) ? 1 : 0);
    const double roll = rng.Uniform();
    int count = roll < 0.6 ? 1 : roll < 0.8 ? 2 : roll < 0.93 ? 4 : 8;
    if (pruned) count = 1;
    count = std::min(count, static_cast<int>(pool_gpus[static_cast<size_t>(pool)].size()));
    const bool tuned = rng.Chance(0.45);
    const bool plateau = rng.Chance(0.2);
    const bool fails = rng.Chance(0.06);
    Job j;
    j.id = "job-" + o.month.ToString() + "-" + std::to_string(1000 + seq++);
    j.user = team.users[s.user];
    j.project = team.project;
    j.department = team.department;
    j.model_type = m.name;
    const std::string cu = rng.Chance(0.7) ? "cu118" : "cu121";
    j.image_repo = "registry.local/yolo/train";
    j.image_tag = std::string("train-") + m.yolo_version + "-" + (tuned ? "opt" : "base") + "-" + cu;
    j.image_digest =
        "sha256:" + Hex(rng.Next(), 16) + Hex(rng.Next(), 16) + Hex(rng.Next(), 16) + Hex(rng.Next(), 16);
    const FrameworkSpec& framework = kFrameworks[static_cast<size_t>(rng.Int(4))];
    j.framework = framework.name;
    j.gpu_share_ppm = pruned ? kFullShare / 2 : count * kFullShare;
    j.gpu_model = pools[pool].model;
    const double lr = rng.Uniform();
    j.duration_limit_ms = (lr < 0.5 ? 48 : lr < 0.85 ? 72 : 96) * kHourMs;
    const int version = 1 + rng.Int(4);
    j.dataset = std::string(team.project) + "-v" + std::to_string(version);
    j.dataset_images = team.dataset_images * (4 + version) / 5;
    const double er = rng.Uniform();
    j.epochs = er < 0.1 ? 50 : er < 0.5 ? 100 : er < 0.7 ? 150 : er < 0.85 ? 200 : 300;
    j.imgsz = rng.Chance(team.large_imgsz) ? (rng.Chance(0.6) ? 1280 : 960) : 640;
    // Tuned recipes fill the GPU (the largest batch its memory takes) with AMP and stop
    // early; the others keep Ultralytics' batch 16, its patience of 100, and AMP half the time.
    const bool big_gpu = pool == 1;
    int patience = 100;
    if (tuned) {
      j.batch = (big_gpu ? 64 : 32) / (j.imgsz >= 960 ? 2 : 1);
      j.amp = true;
      patience = rng.Chance(0.5) ? 30 : 50;
    } else {
      j.batch = j.imgsz == 1280 && !big_gpu ? 8 : 16;
      j.amp = rng.Chance(0.5);
      patience = rng.Chance(0.7) ? 100 : 50;
    }
    j.labels = {{"queue", pool == 0 ? "a10g" : "a100"},
                {"restart_from", rng.Chance(0.3) ? "shared-checkpoint" : "scratch"},
                {"patience", std::to_string(patience)}};
    j.submitted_ms = s.at;
    // Time per epoch: the training images at the configuration's throughput, then the
    // validation pass over the rest (inference, about three times as fast).
    const double batch_gain = j.batch <= 8 ? 0.85 : j.batch <= 16 ? 1.0 : j.batch <= 32 ? 1.07 : 1.1;
    const double gpus = pruned ? 0.55 : std::pow(count, 0.9);  // time-sliced; data parallel
    const double throughput = m.images_per_s * pools[pool].speed * std::pow(j.imgsz / 640.0, -1.9) *
                              batch_gain / (j.amp ? 1.0 : pools[pool].amp_gain) * framework.speed * gpus *
                              std::exp(rng.Normal(0, 0.06));
    const double train_images = 0.8 * static_cast<double>(j.dataset_images);
    const double val_s = 0.2 * static_cast<double>(j.dataset_images) / (3 * throughput);
    const double epoch_s = train_images / throughput + val_s + 4;
    // mAP@0.5 rises to what the model, the epochs, the data and the pixels allow; a
    // plateau run gets there early and then overfits, slowly losing what it gained. Ultralytics stops
    // `patience` epochs after its best fitness (0.1 mAP@0.5 + 0.9 mAP@0.5:0.95; proportional here).
    const double reach = (m.map50 + 1.2 * std::log2(j.epochs / 100.0) +
                          1.0 * std::log2(static_cast<double>(j.dataset_images) / 30000.0) +
                          (j.imgsz == 1280  ? 1.5
                           : j.imgsz == 960 ? 0.8
                                            : 0.0) +
                          rng.Normal(0, 0.8)) /
                         100.0;
    const double tau = j.epochs / (plateau ? 14.0 : 5.0);
    std::vector<EpochProgress> curve;
    double best = -1, elapsed_s = 0;
    int best_epoch = 0;
    for (int e = 1; e <= j.epochs; ++e) {
      EpochProgress ep;
      ep.epoch = e;
      elapsed_s += epoch_s * rng.Uniform(0.97, 1.03);
      ep.time_s = std::round(elapsed_s * 10) / 10;
      const double x = 1.0 - std::exp(-e / tau) - (plateau ? 0.0005 * std::max(0.0, e - 3 * tau) : 0.0);
      ep.map50 = std::clamp(reach * x + rng.Normal(0, 0.004), 0.0, 1.0);
      ep.map50_95 = *ep.map50 * 0.62;
      ep.precision = std::clamp(*ep.map50 + 0.08 + rng.Normal(0, 0.01), 0.0, 1.0);
      ep.recall = std::clamp(*ep.map50 - 0.03 + rng.Normal(0, 0.01), 0.0, 1.0);
      ep.train_loss = 1.6 + 3.0 * std::exp(-e / tau) + rng.Normal(0, 0.01);
      ep.val_loss = 1.8 + 3.2 * std::exp(-e / tau) + rng.Normal(0, 0.015);
      curve.push_back(ep);
      if (*ep.map50 > best) {
        best = *ep.map50;
        best_epoch = e;
      }
      if (e - best_epoch >= patience) break;
    }
    // Setup (dataset scan and cache, the first minutes of the samples) before the epochs;
    // the final validation of best.pt after them.
    const double setup_s = rng.Uniform(360, 720);
    const double final_s = 1.3 * val_s + 20;
    double run_s = setup_s + elapsed_s + final_s;
    if (fails) run_s *= rng.Uniform(0.05, 0.6);
    const bool over_limit = run_s * 1000 > static_cast<double>(j.duration_limit_ms);
    if (over_limit) run_s = static_cast<double>(j.duration_limit_ms) / 1000;  // stopped at its limit
    auto run = static_cast<DurationMs>(run_s * 1000);
    // Greedy FIFO placement on the earliest free GPUs of the pool.
    std::vector<std::pair<TimeMs, size_t>> cand;  // (free time, gpu) for the needed slot(s)
    for (size_t g : pool_gpus[static_cast<size_t>(pool)]) {
      const TimeMs f =
          pruned ? std::min(free_at[g][0], free_at[g][1]) : std::max(free_at[g][0], free_at[g][1]);
      cand.emplace_back(f, g);
    }
    std::sort(cand.begin(), cand.end());
    const TimeMs start = std::max(s.at + 2 * kMinuteMs, cand[static_cast<size_t>(count - 1)].first);
    if (start >= c.span.end) continue;  // never scheduled inside the span
    j.start_ms = start;
    const TimeMs end = start + run;
    if (end < c.span.end) {
      j.end_ms = end;
      j.status = fails || over_limit ? JobStatus::kFailed : JobStatus::kSucceeded;
    } else {
      j.status = JobStatus::kRunning;
    }
    const TimeMs hold_end = std::min(end, c.span.end);
    for (int k = 0; k < count; ++k) {
      const size_t g = cand[static_cast<size_t>(k)].second;
      if (pruned) {
        int slot = free_at[g][0] <= free_at[g][1] ? 0 : 1;
        free_at[g][static_cast<size_t>(slot)] = hold_end;
      } else {
        free_at[g] = {hold_end, hold_end};
      }
      c.allocations.push_back(
          {j.id, c.gpus[g].uuid, start, j.end_ms ? end : 0, pruned ? kFullShare / 2 : kFullShare});
    }
    SimCluster::Profile prof;
    prof.steady_util = tuned ? rng.Uniform(84, 94) : rng.Uniform(55, 75);
    prof.dense_share = tuned ? rng.Uniform(0.82, 0.95) : rng.Uniform(0.3, 0.5);
    prof.tail_frac = plateau ? rng.Uniform(0.25, 0.4) : rng.Uniform(0.03, 0.08);
    prof.peak_mem_mib =
        std::min(m.peak_gib * 1024.0 * std::pow(j.batch / 32.0, 0.8) * std::pow(j.imgsz / 640.0, 1.6),
                 0.95 * static_cast<double>(pools[pool].mem_mib));
    c.profiles[j.id] = prof;
    // Progress: the epochs finished before the run ended (or the span did).
    const TimeMs last = j.end_ms ? j.end_ms : c.span.end;
    std::vector<EpochProgress> prog;
    for (const EpochProgress& ep : curve) {
      if (static_cast<double>(start) + (setup_s + *ep.time_s) * 1000 > static_cast<double>(last)) break;
      prog.push_back(ep);
    }
    if (!prog.empty()) c.progress[j.id] = std::move(prog);  // a run that failed in its setup reported none
    c.jobs.push_back(std::move(j));
  }
  if (o.stalled_run) AddStalledRun(c, free_at, pool_gpus);
  if (o.hung_run) AddHungRun(c, free_at, pool_gpus);
  if (o.late_run) AddLateRun(c, free_at, pool_gpus);
  return c;
}

double SimIdlePowerW(const Gpu& gpu) { return gpu.model.rfind("A100", 0) == 0 ? 62 : 24; }

std::vector<Sample> SimulateSamples(const SimCluster& c, size_t gpu_index) {
  const Gpu& g = c.gpus[gpu_index];
  Rng rng(c.seed * 1000003 + gpu_index);
  const bool a100 = g.model.rfind("A100", 0) == 0;
  const double idle_w = SimIdlePowerW(g), tdp_w = a100 ? 400 : 300;
  std::vector<const Allocation*> holds;
  for (const Allocation& a : c.allocations) {
    if (a.gpu_uuid == g.uuid) holds.push_back(&a);
  }
  std::sort(holds.begin(), holds.end(),
            [](const Allocation* x, const Allocation* y) { return x->start_ms < y->start_ms; });
  std::map<std::string, const Job*> jobs;
  for (const Job& j : c.jobs) jobs[j.id] = &j;
  std::vector<Sample> out;
  out.reserve(static_cast<size_t>(c.span.length() / c.sample_interval_ms) + 1);
  double energy_mj = rng.Uniform(1e9, 5e10);  // the counter starts wherever the driver left it
  size_t first = 0;
  // Phase-shift the sampling grid per GPU, as real exporters are.
  const auto offset = static_cast<TimeMs>(rng.Uniform(0, static_cast<double>(c.sample_interval_ms)));
  for (TimeMs t = c.span.start + offset; t < c.span.end; t += c.sample_interval_ms) {
    while (first < holds.size() && holds[first]->window().end <= t) ++first;
    double util = 0, mem = 0, power = idle_w;
    int running = 0;
    for (size_t k = first; k < holds.size() && holds[k]->start_ms <= t; ++k) {
      const Allocation& a = *holds[k];
      if (!a.window().Contains(t)) continue;
      const Job& j = *jobs.at(a.job_id);
      const SimCluster::Profile& p = c.profiles.at(a.job_id);
      const TimeMs end = j.end_ms ? j.end_ms : c.span.end + 1;
      const double f = static_cast<double>(t - j.start_ms) / static_cast<double>(end - j.start_ms);
      const double share = static_cast<double>(a.share_ppm) / kFullShare;
      double u, m;
      if (t - j.start_ms < 10 * kMinuteMs) {  // data loading: CPU and disk busy, GPU waits
        u = rng.Uniform(0, 12);
        m = p.peak_mem_mib * rng.Uniform(0.1, 0.3);
      } else if (p.hung_from_ms != 0 && t >= p.hung_from_ms) {  // hung: memory held, nothing runs
        u = 0;
        m = p.peak_mem_mib * rng.Uniform(0.95, 1.0);
      } else if (p.stalled_from_ms != 0 && t >= p.stalled_from_ms) {  // starved by its dataloader
        u = rng.Uniform(6, 18);
        m = p.peak_mem_mib * rng.Uniform(0.9, 1.0);
      } else if (f > 1.0 - p.tail_frac) {  // convergence tail: below 30 %
        u = rng.Uniform(8, 28);
        m = p.peak_mem_mib * rng.Uniform(0.9, 1.0);
      } else if (rng.Chance(p.dense_share)) {
        u = std::clamp(rng.Normal(std::max(p.steady_util, 78.0), 5), 71.0, 100.0);
        m = p.peak_mem_mib * rng.Uniform(0.93, 1.0);
      } else {
        u = std::clamp(rng.Normal(38, 14), 5.0, 69.0);  // dataloader stalls, validation
        m = p.peak_mem_mib * rng.Uniform(0.85, 1.0);
      }
      util += u;
      ++running;
      mem += m;
      power += (tdp_w - idle_w) * u / 100.0 * 0.92 * share;
    }
    if (running > 1) util *= 0.6;  // time-sliced jobs contend for the same SMs
    Sample s;
    s.t = t;
    s.util_pct = static_cast<float>(std::min(100.0, std::round(util)));
    s.mem_mib = static_cast<float>(std::round(std::min(mem, static_cast<double>(g.memory_mib))));
    s.power_w = static_cast<float>(std::round(power * 10) / 10);
    energy_mj += power * static_cast<double>(c.sample_interval_ms);
    s.energy_mj = static_cast<int64_t>(energy_mj);
    out.push_back(s);
  }
  return out;
}

std::vector<JobGpuMemory> SimulateJobMemory(const SimCluster& c) {
  std::map<std::pair<std::string, std::string>, JobGpuMemory> rows;
  for (const Allocation& a : c.allocations) {
    auto p = c.profiles.find(a.job_id);
    if (p == c.profiles.end()) continue;
    const TimeMs end = a.end_ms != 0 ? std::min(a.end_ms, c.span.end) : c.span.end;
    JobGpuMemory& m = rows[{a.job_id, a.gpu_uuid}];
    if (m.job_id.empty()) {
      m = {a.job_id, a.gpu_uuid, static_cast<int64_t>(std::round(p->second.peak_mem_mib)), a.start_ms, end};
    } else {
      m.first_ms = std::min(m.first_ms, a.start_ms);
      m.last_ms = std::max(m.last_ms, end);
    }
  }
  std::vector<JobGpuMemory> out;
  out.reserve(rows.size());
  for (auto& [key, m] : rows) out.push_back(std::move(m));
  return out;
}

}  // namespace gpuledger
