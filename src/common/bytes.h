// Little-endian integers in byte strings, as gpuledger's file formats write them
// (docs/formats/). Header-only; pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace gpuledger {

// Appends the low `bytes` bytes of `v`, least significant first.
inline void PutLe(std::string& out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

// Reads `bytes` bytes at `pos` (the caller checked the bounds).
inline uint64_t GetLe(std::string_view b, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[pos + static_cast<size_t>(i)]);
  return v;
}

}  // namespace gpuledger
