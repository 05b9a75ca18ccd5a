// Fuzz target: chunk decoding (bytes read back from disk may be corrupt). A chunk that
// decodes must re-encode to one that decodes to the same samples.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tsdb/chunk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto samples = gpuledger::DecodeChunk(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!samples.ok()) return 0;
  auto again = gpuledger::EncodeChunk(*samples);
  if (!again.ok()) return 0;  // e.g. values the fixed-point columns cannot hold
  auto back = gpuledger::DecodeChunk(*again);
  if (!back.ok() || back->size() != samples->size()) __builtin_trap();
  for (size_t i = 0; i < back->size(); ++i) {
    if ((*back)[i].t != (*samples)[i].t || (*back)[i].energy_mj != (*samples)[i].energy_mj) __builtin_trap();
  }
  return 0;
}
