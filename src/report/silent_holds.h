// Holds billed in silence: a job holds a GPU at as-of, has held it for at least `after`,
// and the GPU has sent no sample for that long (docs/METERING.md, "Held without
// samples"). One rule for the job view, the monthly report and /metrics. Pure apart from
// the ledger reads it is handed.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "domain/types.h"
#include "ledger/ledger.h"

namespace gpuledger {

struct SilentHold {
  std::string job_id;
  std::string gpu_uuid;
  TimeMs held_since = 0;      // the earliest of the job's holds on the GPU open at as-of
  TimeMs last_sample_ms = 0;  // 0: none ever
};

// The holds in `allocs` open at as_of (start <= as_of < end) that are silent by the rule
// above, by job then GPU. `last_seen`, when given, is a newer last-sample time the caller
// knows of (the server's, before its journal reaches the ledger); the ledger is asked
// only when that one is not recent enough. after <= 0: none.
StatusOr<std::vector<SilentHold>> FindSilentHolds(
    Ledger& ledger, const std::vector<Allocation>& allocs, TimeMs as_of, DurationMs after,
    const std::function<TimeMs(const std::string& gpu)>& last_seen = nullptr);

}  // namespace gpuledger
