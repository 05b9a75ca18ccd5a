// Fuzz target: the CSV import formats. The first byte picks the format.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/importers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 5) {
    case 0:
      (void)gpuledger::ParseJobsCsv(text);
      break;
    case 1:
      (void)gpuledger::ParseGpusCsv(text);
      break;
    case 2:
      (void)gpuledger::ParseAllocationsCsv(text);
      break;
    case 3:
      (void)gpuledger::ParsePricesCsv(text);
      break;
    case 4: {
      auto r = gpuledger::ParseSamplesCsv(text);
      if (r.ok()) {
        for (const auto& s : r->samples) {
          if (!(s.sample.util_pct >= 0 && s.sample.util_pct <= 100)) __builtin_trap();
        }
      }
      break;
    }
  }
  return 0;
}
