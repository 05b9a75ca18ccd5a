// GPU registration by the node agent (POST /api/v1/gpus): the model, memory and sample
// interval that remote write labels do not carry. A registration updates what it names
// on a GPU the ledger has and keeps the rest (its service span and max gap); a new GPU
// is in service from the registration's in_service_from. Pure. Thread-safe.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

inline constexpr size_t kMaxGpusPerRegistration = 1024;

// {"gpus": [{"uuid": "GPU-...", "model": "NVIDIA A10G", "node": "node-1", "index": 0,
// "memory_mib": 23028, "sample_interval_ms": 1000, "in_service_from": "RFC 3339"}]}:
// uuid and model required (the model canonical, domain/gpu_model.h); in_service_from
// defaults to `now`. Unknown fields are refused by name.
struct GpuRegistration {
  Gpu gpu;
  bool has_index = false;  // an index given (else the stored one stays)
};
StatusOr<std::vector<GpuRegistration>> ParseGpuRegistrationJson(std::string_view body, TimeMs now);

// `incoming` as it is stored over `stored`: model from incoming; node, index, memory and
// sample interval from incoming when given; in service from the earlier of the two;
// in service to and max gap as stored.
Gpu MergeGpuRegistration(const std::optional<Gpu>& stored, const GpuRegistration& incoming);

}  // namespace gpuledger
