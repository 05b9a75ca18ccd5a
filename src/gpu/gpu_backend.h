// What the agent reads from each GPU once per interval, and the interface that hides
// where it comes from (NVML loaded at run time, or a test's script). Plain data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace gpuledger {

struct GpuProcess {
  uint32_t pid = 0;
  int64_t used_mib = -1;  // -1: not reported
  std::string mig_uuid;   // the MIG instance it runs in, if any
};

struct MigInstance {
  std::string uuid;  // MIG-...
  uint32_t gpu_instance_id = 0;
  int64_t memory_total_mib = 0;
  int64_t memory_used_mib = -1;
};

struct GpuReading {
  std::string uuid;  // GPU-...
  int index = 0;
  std::string name;  // "NVIDIA H100 80GB HBM3"
  int64_t memory_total_mib = 0;
  float util_pct = -1;  // -1: not supported (e.g. MIG mode)
  float mem_used_mib = -1;
  float power_w = -1;
  int64_t energy_mj = -1;  // total energy since the driver loaded
  std::vector<GpuProcess> processes;
  std::vector<MigInstance> mig;  // empty unless MIG mode is on
};

class GpuBackend {
 public:
  virtual ~GpuBackend() = default;
  // One reading per GPU. A GPU that fails to answer one query still appears, with that
  // field at -1; an error means the source is gone (e.g. the driver unloaded).
  virtual StatusOr<std::vector<GpuReading>> Read() = 0;
};

}  // namespace gpuledger
