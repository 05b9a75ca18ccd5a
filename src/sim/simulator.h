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
  };
  std::map<std::string, Profile> profiles;
  uint64_t seed = 0;
};

// Jobs, allocations, progress and prices for the two months.
StatusOr<SimCluster> SimulateCluster(const SimOptions& options, const TimeZone& tz);

// One GPU's samples over the whole span, every sample_interval_ms, in time order
// (deterministic for the cluster's seed and the GPU's index).
std::vector<Sample> SimulateSamples(const SimCluster& cluster, size_t gpu_index);

// What the node agent's per-process reading would report of each job's own memory on
// each GPU it held (POST /api/v1/memory): its profile's peak, over its hold. On a GPU two
// pruned runs share, each row is that run's own, where the GPU's samples sum both.
std::vector<JobGpuMemory> SimulateJobMemory(const SimCluster& cluster);

}  // namespace gpuledger
