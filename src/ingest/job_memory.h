// The body of POST /api/v1/memory: what the node agent saw of each job's own GPU memory
// (its processes' NVML figures summed, per GPU) since its last report:
//   {"jobs": [{"hpc_job": "4242", "gpu": "GPU-8c1e...", "peak_mib": 7012,
//              "first": "2026-12-02T10:00:00Z", "last": "2026-12-02T10:01:00Z"}]}
// `hpc_job` is the workload label the agent's samples carry (a gpuledger job id or a
// Slurm id): the server finds the job as it does for samples. At most kMaxJobMemoryRows
// rows; peak_mib an integer in [0, kMaxJobMemoryMib]; first <= last. Errors name the
// row and the field, the limit and the value. Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

inline constexpr size_t kMaxJobMemoryRows = 10000;
inline constexpr int64_t kMaxJobMemoryMib = int64_t{4} * 1024 * 1024;  // 4 TiB: above any GPU's memory

struct JobMemoryReport {
  std::string job_label;
  std::string gpu_uuid;
  int64_t peak_mib = 0;
  TimeMs first_ms = 0;
  TimeMs last_ms = 0;
};

StatusOr<std::vector<JobMemoryReport>> ParseJobMemoryJson(std::string_view body);
// The body the agent sends (the inverse of the parser).
std::string JobMemoryJson(const std::vector<JobMemoryReport>& rows);

}  // namespace gpuledger
