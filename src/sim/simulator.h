// The workload simulator: a shared GPU cluster running two months of YOLO training for
// several departments, deterministic for a seed. It stands in for the hardware (and for
// time) in the demo, the property tests and the benchmarks; nothing else is faked.
// Each run has a dataset size, epochs, batch, image size, AMP and patience drawn from
// its team's habits; its time per epoch follows them and the GPU model's throughput,
// its mAP@0.5 the model, epochs, data and pixels, and it stops early by patience as
// Ultralytics does (docs/ESTIMATE.md, "The demo's history").
// Pure (no I/O); thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/tz.h"
#include "domain/types.h"

namespace gpuledger {

struct SimOptions {
  uint64_t seed = 42;
  YearMonth month{2026, 10};  // the cluster runs over month.Prev() and month
  DurationMs sample_interval_ms = kMinuteMs;
  int a10g_nodes = 3;
  int a100_nodes = 1;
  int gpus_per_node = 8;
  double load = 1.7;  // scales the number of jobs submitted
  std::string currency = "CNY";
  // One more run, the demo's (AddStalledRun below): still running at the month's end,
  // its loss flat and its GPU starved for the last two and a half hours.
  bool stalled_run = false;
  // And one that starts 50 minutes before the month's end (AddLateRun below).
  bool late_run = false;
  // And one whose two GPUs read 0 % for the month's last 130 minutes (AddHungRun below).
  bool hung_run = false;
};

struct SimCluster {
  Window span;  // from the start of month.Prev() to the end of month, UTC
  std::vector<Gpu> gpus;
  std::vector<Job> jobs;
  std::vector<Allocation> allocations;
  std::map<std::string, std::vector<EpochProgress>> progress;
  std::vector<Price> prices;
  DurationMs sample_interval_ms = kMinuteMs;
  // Generation state the sample stream needs: per job, its training profile.
  struct Profile {
    double steady_util = 88;   // mean util in the steady phase
    double dense_share = 0.9;  // share of steady samples above 70 %
    double tail_frac = 0.07;   // share of the run in the low-util tail
    double peak_mem_mib = 7000;
    TimeMs stalled_from_ms = 0;  // from then ~12 % busy, memory held (0: never stalls)
    TimeMs hung_from_ms = 0;     // from then 0 % busy, memory held (0: never hangs)
  };
  std::map<std::string, Profile> profiles;
  uint64_t seed = 0;
};

// Jobs, allocations, progress and prices for the two months.
StatusOr<SimCluster> SimulateCluster(const SimOptions& options, const TimeZone& tz);

// The stalled run (SimOptions::stalled_run), id kStalledRunId: a yolov8m run of
// defect-detection-line3 (user lisi) on one A10G free over its last 6.6 hours (else an
// A100; none free: no run, and false), epochs every 12 minutes. Its loss falls until
// 148 minutes before the span's end and then stays flat (0.00005 an epoch) with mAP@0.5
// slowly falling, while its GPU drops to ~12 % busy (a dataloader starved by a slow
// share): the circuit breaker's case (docs/POLICIES.md), first met 40 minutes before the
// span's end. Running at the end.
inline constexpr char kStalledRunId[] = "job-stalled-dataloader";

// The hung run (SimOptions::hung_run), id kHungRunId: a yolov8m run of shelf-monitoring
// (user zhaoliu) on two GPUs of one model free over its last 4.5 hours (A10Gs first, then
// A100s; none: no run), whose trainer hangs 130 minutes before the span's end: both GPUs
// read 0 % with their memory held and no epoch comes after. The idle rule's case
// (docs/POLICIES.md): 60, 105 and 120 minutes idle are met 70, 25 and 10 minutes before the
// span's end. Running at the end.
inline constexpr char kHungRunId[] = "job-shelf-yolov8m-hung";

// The late run (SimOptions::late_run), id kLateRunId: a healthy yolo11s run of
// forklift-perception (user wujiu) on one GPU free over the span's last 50 minutes (A10G
// first; none free: no run), starting 50 minutes before the span's end, epochs every 5
// minutes after 6 minutes of setup. What the live demo registers as it starts.
inline constexpr char kLateRunId[] = "job-forklift-yolo11s-late";

// One GPU's samples over the whole span, every sample_interval_ms, in time order
// (deterministic for the cluster's seed and the GPU's index).
std::vector<Sample> SimulateSamples(const SimCluster& cluster, size_t gpu_index);

// What a GPU of the simulated cluster draws when nothing runs on it (W).
double SimIdlePowerW(const Gpu& gpu);

// What the node agent's per-process reading would report of each job's own memory on
// each GPU it held (POST /api/v1/memory): its profile's peak, over its hold. On a GPU two
// pruned runs share, each row is that run's own, where the GPU's samples sum both.
std::vector<JobGpuMemory> SimulateJobMemory(const SimCluster& cluster);

}  // namespace gpuledger
