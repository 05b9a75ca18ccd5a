// The node agent's sampling side: each Tick reads every GPU (and the node's CPU and
// disks), resolves which job holds each GPU, and keeps the points; each Push turns what
// was kept into one remote-write 1.0 request in dcgm-exporter's names and labels (so
// the server attributes it like any dcgm-exporter series), plus GPU registrations (model,
// memory, the agent's sample interval), job registrations, each job's own GPU memory
// (its processes' NVML figures, POST /api/v1/memory), training progress and job ends,
// and appends them to the durable outbox (disk_queue.h). Shipping is the Shipper's.
// No clock of its own and no sleeping: the caller drives it.
//
// Job ends: a job this agent registered (its processes carried GPULEDGER_USER, _PROJECT
// and _DEPARTMENT) whose processes have left every GPU is followed for kFollowAfterMs more
// (its last results.csv epochs), then ended with PATCH /api/v1/jobs/{id}: its end is the
// first round that no longer saw it. The agent sees no exit code, so the status is
// "failed" when it knows the run stopped short (results.csv ended before the
// GPULEDGER_EPOCHS it was started with) and "succeeded" otherwise. The Python callback,
// which knows, ends the job first; the server then refuses the agent's later end (409,
// counted by the shipper as refused). Jobs registered elsewhere (a scheduler, an import)
// are ended there: a multi-node job's processes leaving one node do not end it. A restart
// forgets the jobs followed; they are not ended by this agent.
// Thread-compatible.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/disk_queue.h"
#include "agent/node_attribution.h"
#include "agent/node_stats.h"
#include "agent/progress_follower.h"
#include "common/clock.h"
#include "gpu/gpu_backend.h"
#include "ingest/job_memory.h"

namespace gpuledger {

struct AgentCounters {
  int64_t ticks = 0, gpu_samples = 0, read_errors = 0, pushes = 0, jobs_registered = 0, epochs = 0,
          progress_errors = 0, jobs_ended = 0, gpus_registered = 0;
};

inline constexpr DurationMs kFollowAfterMs = 10 * kMinuteMs;

class Agent {
 public:
  // `gpus` may be null: no NVIDIA driver, node metrics only.
  // `sample_interval_ms` is how often the caller Ticks: the GPUs are registered with it
  // (0: the server's default).
  Agent(GpuBackend* gpus, NodeAttributor& attributor, NodeStats* node, ProgressFollower& progress,
        DiskQueue& queue, const Clock& clock, std::string node_name, DurationMs sample_interval_ms = 0);

  // One sampling round.
  Status Tick();
  // Queues what the Ticks since the last Push gathered. Nothing to send: nothing queued.
  Status Push();
  const AgentCounters& counters() const { return counters_; }
  // The GPUs the last Tick saw (for the agent's start line).
  const std::vector<GpuReading>& last_gpus() const { return last_gpus_; }

 private:
  using Labels = std::vector<std::pair<std::string, std::string>>;  // sorted by name
  void Add(const Labels& base, const char* metric, double value, TimeMs t);
  void RegisterJob(const Workload& w);
  // Queues a GPU's registration when it is new or its model or memory changed.
  void RegisterGpu(const GpuReading& g, TimeMs now);
  // Queues PATCH /api/v1/jobs/{id} ending a job this agent registered.
  Status EndJob(const std::string& job_id, const Workload& w, TimeMs end_ms);
  GpuBackend* gpus_;
  NodeAttributor& attributor_;
  NodeStats* node_;
  ProgressFollower& progress_;
  DiskQueue& queue_;
  const Clock& clock_;
  std::string node_name_;
  // (labels incl. __name__) -> points (value, t); ordered so requests are deterministic.
  std::map<Labels, std::vector<std::pair<double, TimeMs>>> points_;
  // Jobs whose results.csv is followed, by id. Followed for kFollowAfterMs after the
  // job's processes left the GPUs, for its last epochs; then ended if registered here.
  struct Followed {
    Workload workload;
    TimeMs last_seen_ms = 0;
    TimeMs gone_ms = 0;  // the first round that did not see it since last_seen_ms; 0: seen
  };
  std::map<std::string, Followed> followed_;
  DurationMs sample_interval_ms_ = 0;
  std::map<std::string, std::pair<std::string, int64_t>> gpus_sent_;  // uuid -> (model, memory)
  std::vector<QueuedRequest> pending_gpus_;
  std::set<std::string> registered_;
  std::vector<QueuedRequest> pending_jobs_;
  // (job label, GPU uuid) -> the job's own memory since the last Push (its processes'
  // NVML figures; POST /api/v1/memory).
  std::map<std::pair<std::string, std::string>, JobMemoryReport> job_memory_;
  std::vector<GpuReading> last_gpus_;
  AgentCounters counters_;
};

}  // namespace gpuledger
