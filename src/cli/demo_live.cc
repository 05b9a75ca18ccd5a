#include "cli/demo_live.h"

#include <httplib.h>
#include <snappy.h>

#include <chrono>
#include <thread>

#include "ingest/proto_writer.h"

namespace gpuledger {

ScaledClock::ScaledClock(TimeMs start, double speed) {
  MutexLock lock(mu_);
  wall_ = SystemClock().Now();
  sim_ = start;
  speed_ = speed;
}

TimeMs ScaledClock::NowLocked() const {
  return sim_ + static_cast<TimeMs>(static_cast<double>(SystemClock().Now() - wall_) * speed_);
}

TimeMs ScaledClock::Now() const {
  MutexLock lock(mu_);
  return NowLocked();
}

void ScaledClock::SetSpeed(double speed) {
  MutexLock lock(mu_);
  sim_ = NowLocked();
  wall_ = SystemClock().Now();
  speed_ = speed;
}

std::string LiveRemoteWriteBody(const std::vector<GpuSample>& samples,
                                const std::map<std::string, std::string>& node_of) {
  // (GPU, metric) -> points, in the order the samples come.
  std::map<std::pair<std::string, const char*>, RwPoints> series;
  for (const GpuSample& g : samples) {
    const Sample& s = g.sample;
    auto add = [&](const char* name, double v) { series[{g.gpu_uuid, name}].emplace_back(v, s.t); };
    if (s.util_pct >= 0) add("DCGM_FI_DEV_GPU_UTIL", s.util_pct);
    if (s.mem_mib >= 0) add("DCGM_FI_DEV_FB_USED", s.mem_mib);
    if (s.power_w >= 0) add("DCGM_FI_DEV_POWER_USAGE", s.power_w);
    if (s.energy_mj >= 0) add("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", static_cast<double>(s.energy_mj));
    if (s.sm_active >= 0) add("DCGM_FI_PROF_SM_ACTIVE", s.sm_active);
    if (s.gr_active >= 0) add("DCGM_FI_PROF_GR_ENGINE_ACTIVE", s.gr_active);
  }
  std::vector<std::string> out;
  out.reserve(series.size());
  for (const auto& [key, points] : series) {
    auto node = node_of.find(key.first);
    // Label names sorted, as remote write requires: Hostname < UUID < __name__.
    out.push_back(RwSeriesV1({{"Hostname", node == node_of.end() ? "" : node->second},
                              {"UUID", key.first},
                              {"__name__", key.second}},
                             points));
  }
  const std::string raw = RwRequestV1(out);
  std::string body;
  snappy::Compress(raw.data(), raw.size(), &body);
  return body;
}

int64_t StreamLiveSamples(const std::vector<GpuSample>& samples, const std::map<std::string, std::string>& node_of,
                          ScaledClock& clock, const LiveStreamOptions& options, const std::atomic<bool>& stop,
                          std::ostream& log) {
  httplib::Client client(options.host, options.port);
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  const httplib::Headers auth = {{"Authorization", "Bearer " + options.ingest_token}};
  int64_t acknowledged = 0;
  size_t next = 0;
  while (next < samples.size() && !stop) {
    const TimeMs now = clock.Now();
    std::vector<GpuSample> due;
    while (next < samples.size() && samples[next].sample.t <= now) due.push_back(samples[next++]);
    if (!due.empty()) {
      auto res = client.Post("/api/v1/write", auth, LiveRemoteWriteBody(due, node_of),
                             "application/x-protobuf;proto=prometheus.WriteRequest");
      if (res && res->status / 100 == 2) {
        acknowledged += static_cast<int64_t>(due.size());
      } else {
        log << "gpuledger demo --live: " << due.size() << " samples up to " << FormatTime(due.back().sample.t)
            << " not taken: "
            << (res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error())) << std::endl;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options.tick_ms));
  }
  clock.SetSpeed(1);
  return acknowledged;
}

}  // namespace gpuledger
