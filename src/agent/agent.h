// The node agent's sampling side: each Tick reads every GPU (and the node's CPU and
// disks), resolves which job holds each GPU, and keeps the points; each Push turns what
// was kept into one remote-write 1.0 request in dcgm-exporter's names and labels (so
// the server attributes it like any dcgm-exporter series), plus job registrations and
// training progress, and appends them to the durable outbox (disk_queue.h). Shipping is
// the Shipper's. No clock of its own and no sleeping: the caller drives it.
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

namespace gpuledger {

struct AgentCounters {
  int64_t ticks = 0, gpu_samples = 0, read_errors = 0, pushes = 0, jobs_registered = 0, epochs = 0,
          progress_errors = 0;
};

inline constexpr DurationMs kFollowAfterMs = 10 * kMinuteMs;

class Agent {
 public:
  // `gpus` may be null: no NVIDIA driver, node metrics only.
  Agent(GpuBackend* gpus, NodeAttributor& attributor, NodeStats* node, ProgressFollower& progress,
        DiskQueue& queue, const Clock& clock, std::string node_name);

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
  GpuBackend* gpus_;
  NodeAttributor& attributor_;
  NodeStats* node_;
  ProgressFollower& progress_;
  DiskQueue& queue_;
  const Clock& clock_;
  std::string node_name_;
  // (labels incl. __name__) -> points (value, t); ordered so requests are deterministic.
  std::map<Labels, std::vector<std::pair<double, TimeMs>>> points_;
  // Jobs whose results.csv is followed: job id -> (workload, last seen). Followed for
  // kFollowAfterMs after the job's processes left the GPUs, for its last epochs.
  std::map<std::string, std::pair<Workload, TimeMs>> followed_;
  std::set<std::string> registered_;
  std::vector<QueuedRequest> pending_jobs_;
  std::vector<GpuReading> last_gpus_;
  AgentCounters counters_;
};

}  // namespace gpuledger
