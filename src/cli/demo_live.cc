#include "cli/demo_live.h"

#include <httplib.h>
#include <snappy.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "agent/progress_follower.h"
#include "common/money.h"
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

void IdleAfterStop(std::vector<GpuSample>& samples, size_t from, const std::vector<std::string>& gpus,
                   TimeMs at, const std::map<std::string, double>& idle_power_w,
                   const std::map<std::string, std::pair<TimeMs, int64_t>>& last_energy) {
  std::map<std::string, std::pair<TimeMs, double>> counter;  // GPU -> (time, energy mJ) so far
  for (const std::string& g : gpus) {
    auto e = last_energy.find(g);
    counter[g] = e == last_energy.end()
                     ? std::pair<TimeMs, double>{at, -1}
                     : std::pair<TimeMs, double>{e->second.first, static_cast<double>(e->second.second)};
  }
  for (size_t i = from; i < samples.size(); ++i) {
    auto c = counter.find(samples[i].gpu_uuid);
    Sample& s = samples[i].sample;
    if (c == counter.end() || s.t < at) continue;
    auto w = idle_power_w.find(c->first);
    const double watts = w == idle_power_w.end() ? 0 : w->second;
    s.util_pct = 0;
    s.mem_mib = 0;
    if (s.power_w >= 0) s.power_w = static_cast<float>(watts);
    if (s.sm_active >= 0) s.sm_active = 0;
    if (s.gr_active >= 0) s.gr_active = 0;
    if (s.energy_mj >= 0) {
      auto& [t, mj] = c->second;
      if (mj < 0) {
        mj = static_cast<double>(s.energy_mj);  // nothing sent before: go on from where it reads
      } else {
        mj += watts * static_cast<double>(s.t - t);  // W x ms = mJ
      }
      t = s.t;
      s.energy_mj = static_cast<int64_t>(mj);
    }
  }
}

std::string JobRegistrationJson(const Job& job, const std::vector<Allocation>& allocations) {
  nlohmann::json j = {
      {"id", job.id}, {"user", job.user}, {"project", job.project}, {"department", job.department}};
  auto put = [&](const char* k, const std::string& v) {
    if (!v.empty()) j[k] = v;
  };
  put("model_type", job.model_type);
  put("image", job.image_repo.empty() ? job.image_tag : job.image_repo + ":" + job.image_tag);
  put("image_digest", job.image_digest);
  put("framework", job.framework);
  if (job.gpu_share_ppm > 0 && !job.gpu_model.empty())
    put("gpu_request", FormatMicros(job.gpu_share_ppm, 0) + "x" + job.gpu_model);
  if (job.duration_limit_ms > 0) put("duration_limit", std::to_string(job.duration_limit_ms / 1000) + "s");
  put("dataset", job.dataset);
  if (job.dataset_images > 0) j["dataset_images"] = job.dataset_images;
  if (job.epochs > 0) j["epochs"] = job.epochs;
  if (job.batch > 0) j["batch"] = job.batch;
  if (job.imgsz > 0) j["imgsz"] = job.imgsz;
  j["amp"] = job.amp;
  j["status"] = std::string(JobStatusName(job.status));
  if (job.submitted_ms) j["submitted"] = FormatTime(job.submitted_ms);
  if (job.start_ms) j["start"] = FormatTime(job.start_ms);
  if (job.end_ms) j["end"] = FormatTime(job.end_ms);
  std::string labels;
  for (const auto& [k, v] : job.labels) labels += (labels.empty() ? "" : ";") + k + "=" + v;
  put("labels", labels);
  j["allocations"] = nlohmann::json::array();
  for (const Allocation& a : allocations) {
    nlohmann::json one = {
        {"gpu_uuid", a.gpu_uuid}, {"start", FormatTime(a.start_ms)}, {"share", FormatMicros(a.share_ppm, 0)}};
    if (a.end_ms) one["end"] = FormatTime(a.end_ms);
    j["allocations"].push_back(std::move(one));
  }
  return j.dump();
}

LiveStreamed StreamLive(LiveFeed feed, ScaledClock& clock, const LiveStreamOptions& options,
                        const std::atomic<bool>& stop, std::ostream& log) {
  httplib::Client client(options.host, options.port);
  client.set_connection_timeout(5);
  client.set_read_timeout(30);
  const httplib::Headers auth = {{"Authorization", "Bearer " + options.ingest_token}};
  LiveStreamed done;
  std::set<std::string> stopped;
  std::map<std::string, std::pair<TimeMs, int64_t>> last_energy;  // GPU -> its last sent counter
  size_t next = 0, next_epoch = 0, next_job = 0;
  auto refused = [&](const std::string& what, const httplib::Result& res) {
    log << "gpuledger demo --live: " << what << " not taken: "
        << (res ? std::to_string(res->status) + " " + res->body : httplib::to_string(res.error()))
        << std::endl;
  };
  while ((next < feed.samples.size() || next_epoch < feed.epochs.size() || next_job < feed.jobs.size()) &&
         !stop) {
    const TimeMs now = clock.Now();
    for (; next_job < feed.jobs.size() && feed.jobs[next_job].at_ms <= now; ++next_job) {
      const LiveJob& lj = feed.jobs[next_job];
      auto res =
          client.Post("/api/v1/jobs", auth, JobRegistrationJson(lj.job, lj.allocations), "application/json");
      if (!res || res->status != 201) {
        refused("the registration of " + lj.job.id, res);
        continue;
      }
      ++done.jobs;
      log << "live: " << lj.job.id << " (" << lj.job.project << ", " << lj.job.model_type << ") starts at "
          << FormatTime(lj.at_ms) << " on " << lj.allocations.size()
          << " GPU(s), registered through POST /api/v1/jobs" << std::endl;
    }
    std::vector<GpuSample> due;
    while (next < feed.samples.size() && feed.samples[next].sample.t <= now)
      due.push_back(feed.samples[next++]);
    if (!due.empty()) {
      auto res = client.Post("/api/v1/write", auth, LiveRemoteWriteBody(due, feed.node_of),
                             "application/x-protobuf;proto=prometheus.WriteRequest");
      if (res && res->status / 100 == 2) {
        done.samples += static_cast<int64_t>(due.size());
      } else {
        refused(std::to_string(due.size()) + " samples up to " + FormatTime(due.back().sample.t), res);
      }
      for (const GpuSample& g : due) {
        if (g.sample.energy_mj >= 0) last_energy[g.gpu_uuid] = {g.sample.t, g.sample.energy_mj};
      }
    }
    for (; next_epoch < feed.epochs.size() && feed.epochs[next_epoch].at_ms <= now; ++next_epoch) {
      const LiveEpoch& e = feed.epochs[next_epoch];
      if (stopped.count(e.job_id)) continue;  // its trainer has ended
      auto res = client.Post("/api/v1/jobs/" + e.job_id + "/progress", auth, ProgressJson({e.epoch}),
                             "application/json");
      if (!res || res->status / 100 != 2) {
        refused("epoch " + std::to_string(e.epoch.epoch) + " of " + e.job_id, res);
        continue;
      }
      ++done.epochs;
      const nlohmann::json answer = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
      if (!answer.is_object() || !answer.value("stop", false)) continue;
      // The callback's part (clients/python, on_train_end): this epoch's checkpoint is
      // written, the trainer exits and the job is ended, paused or cancelled as asked.
      stopped.insert(e.job_id);
      done.stopped.push_back(e.job_id);
      const std::string kind = answer.value("kind", std::string("stop"));
      const TimeMs end_ms = std::max(e.at_ms, clock.Now());  // the callback ends it when told
      const nlohmann::json end = {{"status", kind == "pause" ? "paused" : "cancelled"},
                                  {"end", FormatTime(end_ms)}};
      auto ended = client.Patch("/api/v1/jobs/" + e.job_id, auth, end.dump(), "application/json");
      if (!ended || ended->status / 100 != 2) refused("the end of " + e.job_id, ended);
      const std::vector<std::string>& gpus = feed.sole_gpus_of[e.job_id];
      IdleAfterStop(feed.samples, next, gpus, end_ms, feed.idle_power_w, last_energy);
      log << "live: " << e.job_id << " told at epoch " << e.epoch.epoch << " (" << FormatTime(end_ms)
          << ") to " << kind << ": " << answer.value("reason", std::string()) << "; its trainer ends it "
          << end["status"].get<std::string>() << ", " << gpus.size() << " GPU(s) idle from here" << std::endl;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(options.tick_ms));
  }
  clock.SetSpeed(1);
  return done;
}

}  // namespace gpuledger
