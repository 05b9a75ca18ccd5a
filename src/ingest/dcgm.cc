#include "ingest/dcgm.h"

#include <unordered_map>

#include "ingest/metrics.h"

namespace gpuledger {

namespace {

template <typename Labels>
std::string_view LabelOf(const Labels& labels, std::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

// Folds series into per-(GPU, time) samples. Label lookups happen once per series.
class DcgmBuilder {
 public:
  // `line` names the source line in errors (0: none, e.g. remote write).
  template <typename Labels>
  Status AddSeries(std::string_view name, const Labels& labels, const std::pair<TimeMs, double>* points,
                   size_t n, int64_t line) {
    ++out_.series;
    const std::optional<MetricField> field = MetricFieldOf(name);
    if (!field) {
      ++out_.skipped_metrics;
      return OkStatus();
    }
    const std::string at = line > 0 ? "line " + std::to_string(line) + ": " : "";
    if (!LabelOf(labels, "GPU_I_ID").empty()) {
      ++out_.skipped_mig;
      return OkStatus();
    }
    std::string_view uuid = LabelOf(labels, "UUID");
    if (uuid.empty()) uuid = LabelOf(labels, "uuid");
    if (uuid.empty()) return InvalidArgument(at + std::string(name) + " has no UUID label to name its GPU");
    if (uuid != last_uuid_) {  // consecutive series of one GPU are the common case
      last_uuid_ = uuid;
      last_ = &merged_[std::string(uuid)];
    }
    auto& per_time = *last_;
    for (size_t i = 0; i < n; ++i) {
      const auto [t, value] = points[i];
      if (t < kMinTimeMs || t >= kMaxTimeMs) {  // messages are built only on the error path
        return CheckTimeInRange(t, at + std::string(name) + " of GPU " + std::string(uuid) + " timestamp");
      }
      auto [it, fresh] = per_time.try_emplace(t);
      Partial& part = it->second;
      if (fresh) {
        part.line = line;
        part.s.util_pct = -1;  // until this batch reports it: the ledger then keeps what it has
      }
      part.s.t = t;
      Status set = SetMetric(part.s, *field, name, value);
      if (!set.ok()) return set.WithContext(at + "GPU " + std::string(uuid));
    }
    Gpu& g = gpus_[std::string(uuid)];
    g.uuid = uuid;
    const std::string_view host =
        LabelOf(labels, "Hostname").empty() ? LabelOf(labels, "hostname") : LabelOf(labels, "Hostname");
    if (!host.empty()) g.node = std::string(host);
    if (!LabelOf(labels, "modelName").empty()) g.model = std::string(LabelOf(labels, "modelName"));
    if (!LabelOf(labels, "gpu").empty()) g.index = std::atoi(std::string(LabelOf(labels, "gpu")).c_str());
    if (n > 0 && (g.in_service_from == 0 || points[0].first < g.in_service_from))
      g.in_service_from = points[0].first;
    for (const char* key : {"pod", "namespace", "container", "hpc_job"}) {
      if (!LabelOf(labels, key).empty()) out_.workload[g.uuid][key] = std::string(LabelOf(labels, key));
    }
    return OkStatus();
  }

  StatusOr<DcgmBatch> Finish() {
    std::map<std::string, std::map<TimeMs, Partial>*> ordered;
    for (auto& [uuid, per_time] : merged_) ordered.emplace(uuid, &per_time);
    for (auto& [uuid, per_time] : ordered) {
      for (auto& [t, part] : *per_time) {
        out_.samples.push_back({uuid, part.s});
      }
    }
    for (auto& [uuid, g] : gpus_) out_.gpus.push_back(std::move(g));
    return std::move(out_);
  }

 private:
  struct Partial {
    Sample s;
    int64_t line = 0;
  };
  DcgmBatch out_;
  std::unordered_map<std::string, std::map<TimeMs, Partial>> merged_;  // node-based: pointers stay valid
  std::string last_uuid_;
  std::map<TimeMs, Partial>* last_ = nullptr;
  std::map<std::string, Gpu> gpus_;
};

}  // namespace

StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<PromSample>& series, TimeMs default_time) {
  DcgmBuilder b;
  for (const PromSample& p : series) {
    const std::pair<TimeMs, double> point{p.timestamp_ms.value_or(default_time), p.value};
    RETURN_IF_ERROR(b.AddSeries(p.name, p.labels, &point, 1, p.line));
  }
  return b.Finish();
}

StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<RwSeries>& series) {
  DcgmBuilder b;
  for (const RwSeries& s : series)
    RETURN_IF_ERROR(b.AddSeries(s.name, s.labels, s.points.data(), s.points.size(), 0));
  return b.Finish();
}

}  // namespace gpuledger
