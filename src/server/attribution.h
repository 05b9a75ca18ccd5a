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
#include <tuple>
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
  std::map<std::tuple<std::string, std::string>, std::vector<Job>, std::less<>> cache_;
};

// How long (by the server's clock) a label's grown span may wait before it is written.
inline constexpr DurationMs kSightingWriteEveryMs = kMinuteMs;

// Label sightings as the server sees them, written to the ledger when they are new, when
// they reach earlier, or when they grew and their last write is kSightingWriteEveryMs old
// (by the server's clock: a sender catching up on hours of samples writes no more); Flush
// writes the rest (the server calls it before a job registration reads sightings, each
// maintenance round, and at stop). A crash loses at most that minute of a span: samples
// in it stay stored, unallocated, until an allocation covers them.
class SightingBuffer {
 public:
  // Widens the spans; writes those that are due. `now`: the server's clock.
  Status Add(Ledger& ledger, const std::vector<LabelSighting>& seen, TimeMs now);
  // The label's sightings on every GPU: the ledger's, widened by what is not written yet.
  StatusOr<std::vector<LabelSighting>> Find(Ledger& ledger, const std::string& label,
                                            const std::string& value);
  Status Flush(Ledger& ledger, TimeMs now);
  size_t pending() const;

 private:
  struct Span {
    TimeMs first = 0, last = 0;  // as seen
    TimeMs written_first = 0, written_last = 0;
    TimeMs written_at = 0;  // server clock
    bool written = false;
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // label, value, GPU
  // Writes `due` and marks each of `spans` (same order) as written.
  static Status Write(Ledger& ledger, const std::vector<LabelSighting>& due, const std::vector<Span*>& spans,
                      TimeMs now);
  std::map<Key, Span, std::less<>> spans_;
};

// After a batch is stored: record what each GPU's labels said and when (SightingsOf,
// worked out before the batch's samples move on), and give the GPU to the job they name.
// What each GPU's job labels (hpc_job, pod) said over the batch's span of its samples.
// Pure.
std::vector<LabelSighting> SightingsOf(const DcgmBatch& batch);
// `now`: the server's clock.
Status AttributeSightings(Ledger& ledger, const std::vector<LabelSighting>& sightings, DurationMs interval_ms,
                          JobLabelCache& jobs, SightingBuffer& buffer, TimeMs now, AttributionStats* stats);
// After a job is registered: claim the GPUs its labels (pod, hpc_job, or its id as a
// Slurm job id) were already seen on.
Status AttributeNewJob(Ledger& ledger, const Job& job, DurationMs interval_ms, AttributionStats* stats);

}  // namespace gpuledger
