// Fuzz target: Ultralytics results.csv parser (untrusted file contents).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/results_csv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = gpuledger::ParseResultsCsv(std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok()) {
    int prev = 0;
    for (const auto& e : *r) {
      if (e.epoch <= prev) __builtin_trap();  // epochs must come back strictly increasing
      prev = e.epoch;
    }
  }
  return 0;
}
