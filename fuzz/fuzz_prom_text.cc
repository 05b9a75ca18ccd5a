// Fuzz target: Prometheus text exposition (a scraped or saved /metrics page) and its
// conversion to GPU samples.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ingest/dcgm.h"
#include "ingest/prom_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto series = gpuledger::ParsePromText(std::string_view(reinterpret_cast<const char*>(data), size));
  if (series.ok()) {
    auto batch = gpuledger::SamplesFromDcgm(*series, 1790812800000);
    if (batch.ok()) {
      for (const auto& s : batch->samples) {
        // -1: this page did not report utilisation for that GPU and time (a partial sample).
        const float u = s.sample.util_pct;
        if (!(u == -1 || (u >= 0 && u <= 100))) __builtin_trap();
      }
    }
  }
  return 0;
}
