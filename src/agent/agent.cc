#include "agent/agent.h"

#include <snappy.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "domain/gpu_model.h"
#include "ingest/importers.h"
#include "ingest/job_memory.h"
#include "ingest/proto_writer.h"

namespace gpuledger {

Agent::Agent(GpuBackend* gpus, NodeAttributor& attributor, NodeStats* node, ProgressFollower& progress,
             DiskQueue& queue, const Clock& clock, std::string node_name, DurationMs sample_interval_ms)
    : gpus_(gpus),
      attributor_(attributor),
      node_(node),
      progress_(progress),
      queue_(queue),
      clock_(clock),
      node_name_(std::move(node_name)),
      sample_interval_ms_(sample_interval_ms) {}

void Agent::RegisterGpu(const GpuReading& g, TimeMs now) {
  const std::string model = CanonicalGpuModel(g.name);
  if (model.empty()) return;  // the server cannot register a GPU without its model
  auto sent = gpus_sent_.find(g.uuid);
  if (sent != gpus_sent_.end() && sent->second == std::make_pair(model, g.memory_total_mib)) return;
  nlohmann::json gpu = {{"uuid", g.uuid},
                        {"node", node_name_},
                        {"index", g.index},
                        {"model", model},
                        {"in_service_from", FormatTime(now)}};
  if (g.memory_total_mib > 0) gpu["memory_mib"] = g.memory_total_mib;
  if (sample_interval_ms_ > 0) gpu["sample_interval_ms"] = sample_interval_ms_;
  pending_gpus_.push_back(
      {0, "/api/v1/gpus", "application/json", nlohmann::json{{"gpus", nlohmann::json::array({gpu})}}.dump()});
  gpus_sent_[g.uuid] = {model, g.memory_total_mib};
}

Status Agent::EndJob(const std::string& job_id, const Workload& w, TimeMs end_ms) {
  std::string status = "succeeded";
  auto wanted = w.fields.find("epochs");
  if (wanted != w.fields.end()) {
    auto epochs = ParseInt(wanted->second, "GPULEDGER_EPOCHS");
    if (epochs.ok() && *epochs > 0 && progress_.LastEpoch(job_id) > 0 &&
        progress_.LastEpoch(job_id) < *epochs)
      status = "failed";  // results.csv stopped short of the run's epochs
  }
  const nlohmann::json body = {{"status", status}, {"end", FormatTime(end_ms)}};
  RETURN_IF_ERROR(
      queue_.Append({0, "/api/v1/jobs/" + job_id, "application/json", body.dump(), "PATCH"}).status());
  ++counters_.jobs_ended;
  return OkStatus();
}

void Agent::Add(const Labels& base, const char* metric, double value, TimeMs t) {
  Labels labels = base;
  labels.emplace_back("__name__", metric);
  std::sort(labels.begin(), labels.end());
  points_[labels].emplace_back(value, t);
}

void Agent::RegisterJob(const Workload& w) {
  if (registered_.count(w.job_id)) return;
  // Only a submission that injected the job's owner registers it; otherwise the
  // scheduler (or an import) does, and the agent's samples find it by their label.
  for (const char* need : {"user", "project", "department"}) {
    if (!w.fields.count(need)) return;
  }
  nlohmann::json body = {{"id", w.job_id}, {"status", "running"}};
  const std::vector<std::string>& known = JobFieldNames();
  for (const auto& [k, v] : w.fields) {
    if (k != "job_id" && k != "id" && std::find(known.begin(), known.end(), k) != known.end()) body[k] = v;
  }
  if (!body.contains("start") && w.process_start_ms > 0) body["start"] = FormatTime(w.process_start_ms);
  pending_jobs_.push_back({0, "/api/v1/jobs", "application/json", body.dump()});
  registered_.insert(w.job_id);
}

Status Agent::Tick() {
  const TimeMs now = clock_.Now();
  ++counters_.ticks;
  if (gpus_ != nullptr) {
    auto read = gpus_->Read();
    if (!read.ok()) {
      ++counters_.read_errors;
      return read.status();
    }
    last_gpus_ = std::move(read).value();
    const std::vector<Workload> workloads = attributor_.Resolve(last_gpus_);
    std::set<std::string> seen;
    for (size_t i = 0; i < last_gpus_.size(); ++i) {
      const GpuReading& g = last_gpus_[i];
      const Workload& w = workloads[i];
      RegisterGpu(g, now);
      Labels base = {{"Hostname", node_name_}, {"UUID", g.uuid}, {"gpu", std::to_string(g.index)}};
      // NVML says "NVIDIA A10G"; the books say "A10G" (domain/gpu_model.h).
      if (!g.name.empty()) base.emplace_back("modelName", CanonicalGpuModel(g.name));
      if (!w.JobLabel().empty()) base.emplace_back("hpc_job", w.JobLabel());
      if (!w.pod.empty()) base.emplace_back("pod", w.pod);
      if (g.util_pct >= 0) Add(base, "DCGM_FI_DEV_GPU_UTIL", g.util_pct, now);
      if (g.mem_used_mib >= 0) Add(base, "DCGM_FI_DEV_FB_USED", g.mem_used_mib, now);
      if (g.power_w >= 0) Add(base, "DCGM_FI_DEV_POWER_USAGE", g.power_w, now);
      if (g.energy_mj >= 0)
        Add(base, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", static_cast<double>(g.energy_mj), now);
      for (const MigInstance& m : g.mig) {  // sent as dcgm-exporter does; the server does not meter MIG yet
        Labels mig = base;
        mig.emplace_back("GPU_I_ID", std::to_string(m.gpu_instance_id));
        mig.emplace_back("GPU_I_UUID", m.uuid);
        if (m.memory_used_mib >= 0)
          Add(mig, "DCGM_FI_DEV_FB_USED", static_cast<double>(m.memory_used_mib), now);
      }
      for (const auto& [label, mib] : attributor_.MemoryByJob(g)) {
        JobMemoryReport& m = job_memory_[{label, g.uuid}];
        if (m.first_ms == 0) {
          m = {label, g.uuid, mib, now, now};
        } else {
          m.peak_mib = std::max(m.peak_mib, mib);
          m.last_ms = now;
        }
      }
      ++counters_.gpu_samples;
      if (!w.job_id.empty()) {
        followed_[w.job_id] = {w, now, 0};
        seen.insert(w.job_id);
        RegisterJob(w);
      }
    }
    for (auto& [job, f] : followed_) {
      if (!seen.count(job) && f.gone_ms == 0) f.gone_ms = now;
    }
  }
  if (node_ != nullptr) {
    auto n = node_->Read();
    if (n.ok()) {
      const Labels base = {{"Hostname", node_name_}};
      if (n->cpu_busy) Add(base, "gpuledger_node_cpu_busy_ratio", *n->cpu_busy, now);
      Add(base, "gpuledger_node_disk_read_bytes_total", static_cast<double>(n->disk.read), now);
      Add(base, "gpuledger_node_disk_written_bytes_total", static_cast<double>(n->disk.written), now);
    }
  }
  return OkStatus();
}

Status Agent::Push() {
  // GPUs and jobs first, so their samples and progress find them registered.
  for (QueuedRequest& r : pending_gpus_) {
    RETURN_IF_ERROR(queue_.Append(std::move(r)).status());
    ++counters_.gpus_registered;
  }
  pending_gpus_.clear();
  for (QueuedRequest& r : pending_jobs_) {
    RETURN_IF_ERROR(queue_.Append(std::move(r)).status());
    ++counters_.jobs_registered;
  }
  pending_jobs_.clear();
  if (!points_.empty()) {
    std::vector<std::string> series;
    series.reserve(points_.size());
    for (const auto& [labels, points] : points_) series.push_back(RwSeriesV1(labels, points));
    const std::string raw = RwRequestV1(series);
    std::string body;
    snappy::Compress(raw.data(), raw.size(), &body);
    RETURN_IF_ERROR(queue_
                        .Append({0, "/api/v1/write", "application/x-protobuf;proto=prometheus.WriteRequest",
                                 std::move(body)})
                        .status());
    points_.clear();
    ++counters_.pushes;
  }
  if (!job_memory_.empty()) {  // after the samples: the jobs they name are registered first
    std::vector<JobMemoryReport> rows;
    rows.reserve(job_memory_.size());
    for (auto& [key, m] : job_memory_) rows.push_back(std::move(m));
    RETURN_IF_ERROR(queue_.Append({0, "/api/v1/memory", "application/json", JobMemoryJson(rows)}).status());
    job_memory_.clear();
  }
  const TimeMs now = clock_.Now();
  for (auto it = followed_.begin(); it != followed_.end();) {
    const std::string job = it->first;
    const Followed f = it->second;
    const std::optional<std::string> path = ResultsCsvPath(f.workload);
    const bool expired = now - f.last_seen_ms > kFollowAfterMs;
    it = expired ? followed_.erase(it) : std::next(it);  // one last poll below when expired
    if (path) {
      auto epochs = progress_.Poll(job, *path);
      if (!epochs.ok()) {
        ++counters_.progress_errors;
      } else if (!epochs->empty()) {
        counters_.epochs += static_cast<int64_t>(epochs->size());
        RETURN_IF_ERROR(
            queue_.Append({0, "/api/v1/jobs/" + job + "/progress", "application/json", ProgressJson(*epochs)})
                .status());
      }
    }
    // After its last epochs: the end, of a job registered here.
    if (expired && registered_.count(job)) {
      RETURN_IF_ERROR(EndJob(job, f.workload, f.gone_ms != 0 ? f.gone_ms : f.last_seen_ms));
    }
  }
  return OkStatus();
}

}  // namespace gpuledger
