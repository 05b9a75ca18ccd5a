// Chunk encoding of one GPU's samples (docs/formats/chunks.md): timestamps as
// delta-of-delta, each value column as fixed-point deltas (energy as delta-of-delta),
// every column run-length coded. Lossless to 1e-3 for util, memory and power, 1e-6 for
// SM activity, exact for timestamps and the energy counter. Decoding treats the bytes as
// untrusted (they come from disk). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

inline constexpr size_t kMaxChunkSamples = 65536;

// Samples must be in strictly increasing time order (the caller sorts and dedups).
StatusOr<std::string> EncodeChunk(const std::vector<Sample>& samples);
StatusOr<std::vector<Sample>> DecodeChunk(std::string_view bytes);

}  // namespace gpuledger
