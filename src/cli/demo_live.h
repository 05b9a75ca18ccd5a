// demo --serve --live: the simulated cluster's last hour streamed into the served ledger
// through the real ingest path, Prometheus remote write 1.0 (snappy, dcgm-exporter's
// metric and label names, the demo's ingest token), each sample sent once the server's
// clock has reached its time. The clock runs `speed` times faster than the wall's while
// there is something to stream, then at the wall's pace (docs/DASHBOARD.md, "Try it").
#pragma once

#include <atomic>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/mutex.h"
#include "domain/types.h"

namespace gpuledger {

// The wall clock moved to the simulated month (`start` now), running `speed` times the
// wall's pace until SetSpeed; thread-safe. Its waits pass in real time: the server's
// flush and maintenance intervals stay the wall's, whatever the speed.
class ScaledClock final : public Clock {
 public:
  ScaledClock(TimeMs start, double speed);
  TimeMs Now() const override;
  bool WaitFor(Mutex& mu, CondVar& cv, DurationMs ms, const std::function<bool()>& pred) const override
      GL_REQUIRES(mu) {
    return cv.WaitFor(mu, ms, pred);
  }
  // From now on the clock runs at `speed` (1: the wall's pace), without a jump.
  void SetSpeed(double speed);

 private:
  TimeMs NowLocked() const GL_REQUIRES(mu_);
  mutable Mutex mu_;
  TimeMs wall_ GL_GUARDED_BY(mu_) = 0;  // the wall's time when the speed was last set
  TimeMs sim_ GL_GUARDED_BY(mu_) = 0;   // the clock's then
  double speed_ GL_GUARDED_BY(mu_) = 1;
};

// One remote-write 1.0 request body (snappy-compressed) of these samples: a series per
// GPU and metric (util, memory, power, energy, SM and graphics activity where reported),
// labelled Hostname, UUID and __name__ as dcgm-exporter labels them. `node_of`: GPU UUID
// to node. Pure.
std::string LiveRemoteWriteBody(const std::vector<GpuSample>& samples,
                                const std::map<std::string, std::string>& node_of);

// One training epoch, reported by the run's callback (POST /api/v1/jobs/{id}/progress)
// once the clock reaches `at_ms` (the job's start + the epoch's time_s).
struct LiveEpoch {
  std::string job_id;
  TimeMs at_ms = 0;
  EpochProgress epoch;
};

// A job its launcher registers (POST /api/v1/jobs, with its allocations) as it starts.
struct LiveJob {
  TimeMs at_ms = 0;  // its start
  Job job;
  std::vector<Allocation> allocations;
};

// The body of POST /api/v1/jobs for `job` and its allocations (docs/api/openapi.yaml:
// the import's job fields as strings, counts as JSON integers, amp a boolean). Pure.
std::string JobRegistrationJson(const Job& job, const std::vector<Allocation>& allocations);

// What --live streams: what the server's clock had not reached when it started.
struct LiveFeed {
  std::vector<LiveJob> jobs;                   // in time order
  std::vector<GpuSample> samples;              // in time order
  std::vector<LiveEpoch> epochs;               // in time order
  std::map<std::string, std::string> node_of;  // GPU UUID -> node
  // Job -> the GPUs it holds alone at the end: what goes idle when its trainer stops.
  std::map<std::string, std::vector<std::string>> sole_gpus_of;
  std::map<std::string, double> idle_power_w;  // GPU UUID -> its draw when idle
};

// The GPUs' samples from `from` (index into `samples`) on, once their trainer stopped at
// `at`: those of the GPUs in `gpus` at or after `at` read 0 % busy, no memory, their
// idle draw (idle_power_w), and their energy counter rises from `last_energy_mj` (the
// last value sent for each GPU, at `last_t`) by that draw. Pure.
void IdleAfterStop(std::vector<GpuSample>& samples, size_t from, const std::vector<std::string>& gpus,
                   TimeMs at, const std::map<std::string, double>& idle_power_w,
                   const std::map<std::string, std::pair<TimeMs, int64_t>>& last_energy);

struct LiveStreamOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string ingest_token;
  DurationMs tick_ms = 1000;  // wall time between sends
};

struct LiveStreamed {
  int64_t jobs = 0;     // registered
  int64_t samples = 0;  // acknowledged by the server
  int64_t epochs = 0;
  std::vector<std::string> stopped;  // jobs whose callback was told to stop or pause
};

// Sends the feed as the clock reaches it, once a tick: each job due registered, the
// samples due in one remote write, then each due epoch as its run's callback posts it. An epoch answered
// {"stop": true} ends that run as the Python callback does: the job is ended (PATCH
// /api/v1/jobs/{id}: paused for a pause, cancelled for a stop, at the clock's now), its
// later epochs are not sent and the GPUs it held alone go idle (IdleAfterStop), said on
// `log` with the reason. Until the feed is sent or `stop` is set; then the clock runs at the wall's pace.
// A refused or failed request is said on `log` and not sent again (the server's journal
// makes a retry of an acknowledged write harmless, but a refusal would repeat).
LiveStreamed StreamLive(LiveFeed feed, ScaledClock& clock, const LiveStreamOptions& options,
                        const std::atomic<bool>& stop, std::ostream& log);

}  // namespace gpuledger
