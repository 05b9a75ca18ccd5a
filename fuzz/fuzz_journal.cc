// Fuzz target: the server's ingest journal segments as read back at start (torn or
// corrupt files must end the segment, never crash or misread).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "server/journal.h"

namespace {
bool SameBits(const gpuledger::GpuSample& a, const gpuledger::GpuSample& b) {
  auto same = [](auto x, auto y) { return std::memcmp(&x, &y, sizeof x) == 0; };
  return a.gpu_uuid == b.gpu_uuid && a.sample.t == b.sample.t && same(a.sample.util_pct, b.sample.util_pct) &&
         same(a.sample.mem_mib, b.sample.mem_mib) && same(a.sample.power_w, b.sample.power_w) &&
         a.sample.energy_mj == b.sample.energy_mj && same(a.sample.sm_active, b.sample.sm_active) &&
         same(a.sample.gr_active, b.sample.gr_active);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t used = 0;
  const std::vector<gpuledger::GpuSample> rows = gpuledger::DecodeJournalSegment(in, &used);
  if (used > size) __builtin_trap();
  // What decodes re-encodes to one frame that decodes to the same samples.
  const std::vector<gpuledger::GpuSample> again =
      gpuledger::DecodeJournalSegment(gpuledger::EncodeJournalFrame(rows));
  if (again.size() != rows.size()) __builtin_trap();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (!SameBits(rows[i], again[i])) __builtin_trap();
  }
  return 0;
}
