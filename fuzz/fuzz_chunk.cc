// Fuzz target: chunk decoding (blocks read back from the ledger may be corrupt). A chunk
// that decodes must re-encode to one that decodes to the very same samples, bit for bit
// (the encoding is lossless).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tsdb/chunk.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto samples = gpuledger::DecodeChunk(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!samples.ok()) return 0;
  auto again = gpuledger::EncodeChunk(*samples);
  if (!again.ok()) return 0;  // e.g. counter deltas past +-2^62
  auto back = gpuledger::DecodeChunk(*again);
  if (!back.ok() || back->size() != samples->size()) __builtin_trap();
  for (size_t i = 0; i < back->size(); ++i) {
    if (!gpuledger::SameBits((*back)[i], (*samples)[i])) __builtin_trap();
  }
  return 0;
}
