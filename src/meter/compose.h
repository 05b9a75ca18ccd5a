// Composition of metered spans: the books keep each GPU's usage in UTC-hour slices, each
// metered on its own (docs/METERING.md, "Slices"), and compose them into days, months or
// a job's lifetime. Sums add up, peaks take the maximum; phases are what needs care: a
// slice's `loading` is the low time before its first dense sample and its `tail` the low
// time after its last one, which become steady, loading or tail only once the spans
// around it are known. Composing is associative: a composed span has the same meaning as
// a slice, so days compose into months exactly as hours compose into days. Pure;
// thread-compatible.
#pragma once

#include <vector>

#include "domain/types.h"

namespace gpuledger {

// `spans` in time order, each the rows of one metered span (a slice, or a composition)
// of any number of GPUs. Returns one row per (GPU, job, period), ordered by GPU, job and
// period, with each (GPU, job)'s phases classified over all the spans together.
std::vector<UsageRow> ComposeSpans(const std::vector<std::vector<UsageRow>>& spans);

}  // namespace gpuledger
