// Fuzz target: the agent's per-job GPU memory report (POST /api/v1/memory).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/job_memory.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = gpuledger::ParseJobMemoryJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  for (const gpuledger::JobMemoryReport& m : *r) {
    if (m.peak_mib < 0 || m.peak_mib > gpuledger::kMaxJobMemoryMib || m.last_ms < m.first_ms) __builtin_trap();
    if (m.job_label.empty() || m.gpu_uuid.empty()) __builtin_trap();
  }
  // What the agent sends parses back to the same rows.
  auto again = gpuledger::ParseJobMemoryJson(gpuledger::JobMemoryJson(*r));
  if (!again.ok() || again->size() != r->size()) __builtin_trap();
  return 0;
}
