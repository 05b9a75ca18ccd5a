// Fuzz target: the progress API body (from the agent or the Python callback).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/importers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = gpuledger::ParseProgressJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!r.ok()) return 0;
  for (const gpuledger::EpochProgress& e : *r) {
    if (e.epoch < 1) __builtin_trap();
    if (e.map50 && (*e.map50 < 0 || *e.map50 > 1)) __builtin_trap();
  }
  return 0;
}
