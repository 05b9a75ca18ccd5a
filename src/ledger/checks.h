// Backend-independent validation of what a Ledger is asked to store. Pure; thread-safe.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

// Validates each job and that a project stays in one department; `project_department`
// holds the stored projects and gains the new ones.
Status CheckJobs(const std::vector<Job>& jobs, std::map<std::string, std::string>& project_department);

// Prices must be valid and in the ledger's currency.
Status CheckPrices(const std::vector<Price>& prices, const std::string& ledger_currency);

// `existing` are the stored allocations of the GPUs that `incoming` names (a stored one
// with the same job, GPU and start is replaced by the incoming one).
Status CheckAllocations(const std::vector<Allocation>& incoming, const std::vector<Allocation>& existing,
                        const std::map<std::string, Gpu>& gpus, const std::set<std::string>& job_ids);

// Ranges: util 0..100, memory, power and energy not negative, SM activity 0..1, time
// inside gpuledger's range. NaN never reaches here (parsers reject it).
Status CheckSample(const std::string& gpu_uuid, const Sample& s);

// The span of time that writing `incoming` changes, given the allocations already
// stored for the same GPUs: a new hold changes its whole window; a stored one written
// again (same job, GPU and start) changes only where its end moved (an open hold being
// ended, a label claim being grown).
Window AllocationChangeSpan(const std::vector<Allocation>& incoming, const std::vector<Allocation>& existing);

// The span of time writing `incoming` GPUs changes for the meter, given the stored
// records (by uuid): from the earlier of the old and new service start on, for a GPU that
// is new or whose model, service or sampling changed; empty when none did (a GPU
// registered again as it was: the node agent does so at every start).
Window GpuChangeSpan(const std::vector<Gpu>& incoming, const std::vector<Gpu>& stored);

// What a write of samples changes for the meter (docs/METERING.md, "Slices"). Each GPU in
// the write gives its earliest new instant and its last usable stored sample before it
// (absent: none; unknown: not found within the look-back, so one pad back is assumed).
// A new sample changes time from its usable predecessor on (it cuts what that one stood
// for) to one pad past the write's latest sample; a predecessor more than a pad before it
// stood for less while it was the GPU's last, and is a separate marker {p, p + pad}, so a
// GPU returning after days does not change the days between.
struct SampleWriteFirst {
  TimeMs first_t = 0;
  enum class Before { kNone, kAt, kUnknown } before = Before::kNone;
  TimeMs before_t = 0;  // kAt
};
struct SampleWriteChanges {
  Window span;
  std::vector<Window> markers;
};
SampleWriteChanges SampleChangeSpans(const std::vector<SampleWriteFirst>& gpus, TimeMs latest_t,
                                     DurationMs pad);

}  // namespace gpuledger
