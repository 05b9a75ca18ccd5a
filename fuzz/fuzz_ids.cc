// Fuzz target: identifier checks (domain/ids.h) over arbitrary bytes. First byte picks
// the kind. What passes holds no control byte, no path separator where refused, and
// fits the kind's limit; every refusal's message is escaped (no control bytes).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "domain/ids.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto kind = static_cast<gpuledger::IdKind>(data[0] % 7);
  const std::string_view v(reinterpret_cast<const char*>(data) + 1, size - 1);
  const gpuledger::IdRules& r = gpuledger::RulesOf(kind);
  const gpuledger::Status s = gpuledger::CheckId(kind, v);
  if (s.ok()) {
    if (v.size() > r.max_bytes || v.size() < r.min_bytes) __builtin_trap();
    for (char c : v) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) __builtin_trap();
      if (!r.slash && (c == '/' || c == '\\')) __builtin_trap();
      if (r.ascii_only && u >= 0x80) __builtin_trap();
    }
  } else {
    for (char c : s.message()) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f) __builtin_trap();
    }
  }
  return 0;
}
