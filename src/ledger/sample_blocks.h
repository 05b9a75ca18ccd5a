// Raw samples as the SQLite ledger keeps them (docs/formats/ledger.md): a GPU's samples
// of a sealed UTC hour as one chunk (tsdb/chunk.h), of a finished UTC day as one chunk,
// the hour still being written as rows. These are the pure parts: block boundaries and the field-by-field
// merges that make a sample read back as the successive writes of it would have left it. Thread-safe.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "domain/types.h"

namespace gpuledger {

inline constexpr DurationMs kSampleBlockMs = kHourMs;
// Stored samples (rows and existing blocks) one write may read back to seal, besides
// twice its own samples: about 0.3 s of work. A write past it leaves the other GPUs'
// earlier hours as rows.
inline constexpr int64_t kSealBudgetSamples = 200'000;

// Once a UTC day is over, its hour blocks are compacted into one (a day of a GPU is
// ~80 KB: SQLite packs such blobs into full overflow pages, where hour blobs of ~3.5 KB
// fill a 4 KiB page to ~85 %).
inline constexpr DurationMs kDayBlockMs = kDayMs;

// The start of the hour block holding `t`.
inline TimeMs BlockStart(TimeMs t) { return FloorTo(t, kSampleBlockMs); }
// The start of the UTC day holding `t`: no block holding `t` starts earlier.
inline TimeMs DayStart(TimeMs t) { return FloorTo(t, kDayBlockMs); }

// Sorts (GPU id, sample) pairs by GPU and time and merges repeats of a GPU and time in
// their order (MergeReported: the later report of a field wins).
void SortAndMergeRepeats(std::vector<std::pair<int64_t, Sample>>& rows);

// Both sorted by time with one sample per time; each sample of `later` merged into the
// one of `base` at its time (or added).
std::vector<Sample> MergeSampleRuns(const std::vector<Sample>& base, const std::vector<Sample>& later);

}  // namespace gpuledger
