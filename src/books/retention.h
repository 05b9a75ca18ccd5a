// Retention of raw samples (default 90 days): the books of every month that reaches
// back past the horizon are built first, then the raw samples before it are dropped from
// the ledger. Per-minute rollups and usage rows stay, so monthly
// figures, reports and charts of older months read as before; those months' books
// freeze (books.h). Not thread-safe (one Ledger).
#pragma once

#include "books/books.h"

namespace gpuledger {

inline constexpr DurationMs kDefaultRawRetentionMs = 90 * kDayMs;

struct RetentionResult {
  TimeMs cutoff = 0;     // raw samples before this are gone
  int months_built = 0;  // months whose books were (re)checked before dropping
  int64_t samples_dropped = 0;
};

// Drops raw samples older than `keep` before `now`; when the month holding that cutoff
// has not ended at `now`, only those before the month's start (a month's books are
// built once it has ended). Does nothing when an earlier run already went as far.
StatusOr<RetentionResult> ApplyRetention(Ledger& ledger, const BooksContext& ctx, TimeMs now,
                                         DurationMs keep = kDefaultRawRetentionMs);

}  // namespace gpuledger
