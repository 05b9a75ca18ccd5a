// What a submitted job's view (GET /api/v1/jobs/{id}) shows beside its books: when it
// was submitted, how long it waited in the queue (submitted -> start), and its estimate
// against its actual cost. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/money.h"
#include "domain/types.h"

namespace gpuledger {

// {"submitted": RFC 3339, "queue_wait_s": N (once started), "estimate_vs_actual":
// {"estimate", "low", "high" (when the estimate had an interval), "actual",
// "difference" (actual - estimate), "actual_over_estimate", "final" (the job is
// finished: the actual cost is its last), "currency"}}. Keys without data are left out;
// "{}" for a job never submitted and without an estimate.
std::string SubmissionViewJson(const Job& job, const std::optional<JobEstimate>& estimate,
                               int64_t actual_cost_micros, const Currency& currency);

}  // namespace gpuledger
