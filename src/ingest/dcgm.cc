#include "ingest/dcgm.h"

#include "ingest/metrics.h"

namespace gpuledger {

StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<PromSample>& series, TimeMs default_time) {
  DcgmBatch out;
  struct Partial {
    Sample s;
    bool has_util = false;
    int64_t line = 0;
  };
  std::map<std::pair<std::string, TimeMs>, Partial> merged;
  std::map<std::string, Gpu> gpus;
  for (const PromSample& p : series) {
    ++out.series;
    const std::optional<MetricField> field = MetricFieldOf(p.name);
    if (!field) {
      ++out.skipped_metrics;
      continue;
    }
    const std::string at = "line " + std::to_string(p.line) + ": ";
    if (!p.Label("GPU_I_ID").empty()) {
      ++out.skipped_mig;
      continue;
    }
    const std::string uuid(p.Label("UUID").empty() ? p.Label("uuid") : p.Label("UUID"));
    if (uuid.empty()) return InvalidArgument(at + p.name + " has no UUID label to name its GPU");
    const TimeMs t = p.timestamp_ms.value_or(default_time);
    RETURN_IF_ERROR(CheckTimeInRange(t, at + p.name + " of GPU " + uuid + " timestamp"));
    Partial& part = merged[{uuid, t}];
    if (part.line == 0) part.line = p.line;
    part.s.t = t;
    RETURN_IF_ERROR(SetMetric(part.s, *field, p.name, p.value).WithContext(at + "GPU " + uuid));
    part.has_util = part.has_util || *field == MetricField::kUtil;

    Gpu& g = gpus[uuid];
    g.uuid = uuid;
    const std::string_view host = p.Label("Hostname").empty() ? p.Label("hostname") : p.Label("Hostname");
    if (!host.empty()) g.node = std::string(host);
    if (!p.Label("modelName").empty()) g.model = std::string(p.Label("modelName"));
    if (!p.Label("gpu").empty()) g.index = std::atoi(std::string(p.Label("gpu")).c_str());
    if (g.in_service_from == 0 || t < g.in_service_from) g.in_service_from = t;
    for (const char* key : {"pod", "namespace", "container", "hpc_job"}) {
      if (!p.Label(key).empty()) out.workload[uuid][key] = std::string(p.Label(key));
    }
  }
  for (auto& [key, part] : merged) {
    if (!part.has_util) {
      return InvalidArgument("line " + std::to_string(part.line) + ": GPU " + key.first + " at " +
                             FormatTime(key.second) + " has no DCGM_FI_DEV_GPU_UTIL series");
    }
    out.samples.push_back({key.first, part.s});
  }
  for (auto& [uuid, g] : gpus) out.gpus.push_back(std::move(g));
  return out;
}

}  // namespace gpuledger
