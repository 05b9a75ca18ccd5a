// Fuzz target: the small text parsers every import and option goes through: times,
// durations, money, GPU requests, months, currencies. Parsed values must round-trip.
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/money.h"
#include "common/time.h"
#include "ingest/importers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  if (auto t = gpuledger::ParseTime(s); t.ok()) {
    auto back = gpuledger::ParseTime(gpuledger::FormatTime(*t));
    if (!back.ok() || *back != *t) __builtin_trap();
  }
  (void)gpuledger::ParseDuration(s);
  if (auto m = gpuledger::ParseMicros(s, "amount"); m.ok()) {
    auto back = gpuledger::ParseMicros(gpuledger::FormatMicros(*m, 0), "amount");
    if (!back.ok() || *back != *m) __builtin_trap();
  }
  int64_t share;
  std::string model;
  (void)gpuledger::ParseGpuRequest(s, &share, &model);
  (void)gpuledger::ParseYearMonth(s);
  (void)gpuledger::LookupCurrency(s);
  return 0;
}
