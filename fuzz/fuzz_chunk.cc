// Fuzz target: chunk decoding (blocks read back from the ledger may be corrupt). A chunk
// that decodes must re-encode to one that decodes to the very same samples, bit for bit
// (the encoding is lossless).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "tsdb/chunk.h"

namespace {
bool Same(const gpuledger::Sample& a, const gpuledger::Sample& b) {
  auto bits = [](float f) {
    uint32_t u = 0;
    std::memcpy(&u, &f, sizeof u);
    return u;
  };
  return a.t == b.t && a.energy_mj == b.energy_mj && bits(a.util_pct) == bits(b.util_pct) &&
         bits(a.mem_mib) == bits(b.mem_mib) && bits(a.power_w) == bits(b.power_w) &&
         bits(a.sm_active) == bits(b.sm_active) && bits(a.gr_active) == bits(b.gr_active);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto samples = gpuledger::DecodeChunk(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!samples.ok()) return 0;
  auto again = gpuledger::EncodeChunk(*samples);
  if (!again.ok()) return 0;  // e.g. counter deltas past +-2^62
  auto back = gpuledger::DecodeChunk(*again);
  if (!back.ok() || back->size() != samples->size()) __builtin_trap();
  for (size_t i = 0; i < back->size(); ++i) {
    if (!Same((*back)[i], (*samples)[i])) __builtin_trap();
  }
  return 0;
}
