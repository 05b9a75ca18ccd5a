// Chunk encoding of one GPU's samples (docs/formats/chunks.md): timestamps and the
// energy counter as delta-of-delta, each float column as deltas of decimal fixed point
// (the fewest digits that give every value back bit for bit) or of its bit patterns,
// every column run-length coded. Lossless: decoding gives back the very samples encoded.
// Decoding treats the bytes as untrusted (they come from disk). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

// An hour at one sample per millisecond fits (the ledger keeps a GPU-hour per chunk).
inline constexpr size_t kMaxChunkSamples = size_t{1} << 22;

// Samples must be in strictly increasing time order (the caller sorts and dedups).
StatusOr<std::string> EncodeChunk(const std::vector<Sample>& samples);
StatusOr<std::vector<Sample>> DecodeChunk(std::string_view bytes);

}  // namespace gpuledger
