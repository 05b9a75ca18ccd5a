// Attribution by workload labels (docs/METERING.md, "How samples find their job"):
// dcgm-exporter series carry the pod or Slurm job using a GPU; when no explicit
// allocation covers that GPU, the job the label names gets one over the span the label
// was seen, and sightings are kept so a job registered later still claims its past
// samples. Explicit allocations win: a label never overrides one (that is a conflict,
// counted). A label claims nothing over the time a pause freed its job's GPUs. Called by
// the server under its ledger lock. Not thread-safe.
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

// Label sightings as the server sees them. Add widens spans in memory as batches are
// accepted; once those batches' samples are in the ledger, AttributePending writes the
// changed spans that are due (new, reaching earlier, or grown and last written
// kSightingWriteEveryMs ago by the server's clock: a sender catching up on hours of
// samples writes no more) and lets them claim their jobs' GPUs. Flush writes the rest
// (the server calls it before a job registration reads sightings, each maintenance
// round, and at stop). A crash loses at most that minute of a span: samples in it stay
// stored, unallocated, until an allocation covers them.
class SightingBuffer {
 public:
  // Widens the spans; a span that changed waits for TakeChanged.
  void Add(const std::vector<LabelSighting>& seen);
  // Writes the changed spans that are due and hands over every changed span (whole).
  StatusOr<std::vector<LabelSighting>> TakeChanged(Ledger& ledger, TimeMs now);
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
    bool changed = false;  // since the last TakeChanged (listed in changed_)
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // label, value, GPU
  // Writes `due` and marks each of `spans` (same order) as written.
  static Status Write(Ledger& ledger, const std::vector<LabelSighting>& due, const std::vector<Span*>& spans,
                      TimeMs now);
  using Spans = std::map<Key, Span, std::less<>>;
  Spans spans_;                           // node-based: the iterators below stay valid
  std::vector<Spans::iterator> changed_;  // a changed span is never erased
};

// What each GPU's job labels (hpc_job, pod) said over the batch's span of its samples.
// Pure.
std::vector<LabelSighting> SightingsOf(const DcgmBatch& batch);
// Once the samples behind the sightings added since the last call are in the ledger:
// writes the due ones and gives each GPU to the job its labels name. `now`: the server's
// clock.
Status AttributePending(Ledger& ledger, DurationMs interval_ms, JobLabelCache& jobs, SightingBuffer& buffer,
                        TimeMs now, AttributionStats* stats);
// After a job is registered: claim the GPUs its labels (pod, hpc_job, or its id as a
// Slurm job id) were already seen on.
Status AttributeNewJob(Ledger& ledger, const Job& job, DurationMs interval_ms, AttributionStats* stats);

// The spans a pause freed the job's GPUs (docs/POLICIES.md "Paused time on the books"),
// by start: a launcher's freed pause (Kubernetes suspend, Slurm requeue) from its pause,
// a cooperative one from where the job's holds ended with its run; to its resume (a
// cooperative pause of a stopped run: until the run is back), kMaxTimeMs while open. A
// label claim never covers them.
StatusOr<std::vector<Window>> FreedPauseGaps(Ledger& ledger, const std::string& job_id);
// Whether the job's labels (pod, hpc_job, or its id as hpc_job) have been seen on any
// GPU (the ledger's sightings and those not written yet): its samples place it.
StatusOr<bool> SeenByLabels(Ledger& ledger, SightingBuffer& buffer, const Job& job);

}  // namespace gpuledger
