// Fuzz target: the jobs API body (JSON from any client with an ingest token).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/importers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = gpuledger::ParseJobJson(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok() && !r->job.Validate().ok()) __builtin_trap();  // what parses is valid
  return 0;
}
