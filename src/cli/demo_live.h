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
// wall's pace until SetSpeed; thread-safe.
class ScaledClock final : public Clock {
 public:
  ScaledClock(TimeMs start, double speed);
  TimeMs Now() const override;
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

struct LiveStreamOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string ingest_token;
  DurationMs tick_ms = 1000;  // wall time between sends
};

// Sends `samples` (in time order) as the clock reaches them, a request per tick, until
// all are sent or `stop` is set; then sets the clock to the wall's pace. A refused or
// failed request is said on `log` and its samples are not sent again (the server's
// journal makes a retry of an acknowledged one harmless, but a refusal would repeat).
// Returns the number of samples the server acknowledged.
int64_t StreamLiveSamples(const std::vector<GpuSample>& samples, const std::map<std::string, std::string>& node_of,
                          ScaledClock& clock, const LiveStreamOptions& options, const std::atomic<bool>& stop,
                          std::ostream& log);

}  // namespace gpuledger
