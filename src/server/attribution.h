// Attribution by workload labels (docs/METERING.md, "How samples find their job"):
// dcgm-exporter series carry the pod or Slurm job using a GPU; when no explicit
// allocation covers that GPU, the job the label names gets one over the span the label
// was seen, and sightings are kept so a job registered later still claims its past
// samples. Explicit allocations win: a label never overrides one (that is a conflict,
// counted). Called by the server under its ledger lock. Not thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "ingest/dcgm.h"
#include "ledger/ledger.h"

namespace gpuledger {

struct AttributionStats {
  int64_t allocations = 0;  // allocations created or extended from labels
  int64_t conflicts = 0;    // the GPU was held by another job at that time: left alone
};

// Label value -> the jobs it names, remembered between batches (a lookup scans the
// jobs' labels). Clear it whenever a job is registered.
class JobLabelCache {
 public:
  StatusOr<std::vector<Job>> Find(Ledger& ledger, const std::string& key, const std::string& value);
  void Clear() { cache_.clear(); }

 private:
  std::map<std::pair<std::string, std::string>, std::vector<Job>> cache_;
};

// After a batch is stored: record what each GPU's labels said and when, and give the
// GPU to the job they name.
Status AttributeBatch(Ledger& ledger, const DcgmBatch& batch, DurationMs interval_ms, JobLabelCache& jobs,
                      AttributionStats* stats);
// After a job is registered: claim the GPUs its labels (pod, hpc_job, or its id as a
// Slurm job id) were already seen on.
Status AttributeNewJob(Ledger& ledger, const Job& job, DurationMs interval_ms, AttributionStats* stats);

}  // namespace gpuledger
