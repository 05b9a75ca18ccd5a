// The cluster's GPUs at one instant, for "which GPUs sit idle right now": each GPU in
// service, whether a job holds it, and what its latest sample says. Pure.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/time.h"
#include "domain/types.h"

namespace gpuledger {

enum class GpuNowState { kBusy, kIdleHeld, kIdleFree, kNoData };
const char* GpuNowStateName(GpuNowState s);  // busy | idle_held | idle_free | no_data

struct GpuNow {
  std::string uuid, node, model;
  std::vector<std::string> jobs;  // the jobs whose allocations cover the instant
  TimeMs last_sample_ms = 0;      // 0: no sample within max_age
  double last_util_pct = -1;      // -1: none
  GpuNowState state = GpuNowState::kNoData;
};

struct GpusNowOptions {
  DurationMs max_age_ms = 5 * kMinuteMs;  // an older latest sample is no reading of now
  double idle_util_pct = 5;              // below it the GPU is idle (METERING.md's idle)
};

// `latest`: each GPU's latest sample at or before `now` (absent: none). GPUs out of
// service at `now` are left out; the rest are sorted by state (idle held first), then
// model and UUID.
std::vector<GpuNow> GpusNow(const std::vector<Gpu>& gpus, const std::vector<Allocation>& allocations,
                            const std::map<std::string, Sample>& latest, TimeMs now,
                            const GpusNowOptions& options = {});

// {"as_of", "max_sample_age_s", "idle_util_pct", "counts": {state: n}, "by_gpu_model":
// [{gpu_model, busy, idle_held, idle_free, no_data}], "gpus": [...]}; with_jobs false
// leaves the holders' job ids out (finance), giving their count only.
std::string RenderGpusNowJson(const std::vector<GpuNow>& gpus, TimeMs now, const GpusNowOptions& options,
                              bool with_jobs);

}  // namespace gpuledger
