#include "ingest/dcgm.h"

#include <unordered_map>

#include "ingest/dcgm_labels.h"
#include "ingest/metrics.h"

namespace gpuledger {

namespace {

// Folds series into per-(GPU, time) samples. Label lookups happen once per series.
class DcgmBuilder {
 public:
  // `line` names the source line in errors (0: none, e.g. remote write).
  Status AddSeries(const DcgmLabels& d, const std::pair<TimeMs, double>* points, size_t n, int64_t line) {
    ++out_.series;
    if (!d.field) {
      ++out_.skipped_metrics;
      return OkStatus();
    }
    const std::string at = line > 0 ? "line " + std::to_string(line) + ": " : "";
    if (d.mig) {
      ++out_.skipped_mig;
      return OkStatus();
    }
    if (d.uuid.empty()) return InvalidArgument(at + d.name + " has no UUID label to name its GPU");
    if (d.uuid != last_uuid_) {  // consecutive series of one GPU are the common case
      last_uuid_ = d.uuid;
      last_ = &merged_[d.uuid];
    }
    auto& per_time = *last_;
    for (size_t i = 0; i < n; ++i) {
      const auto [t, value] = points[i];
      if (t < kMinTimeMs || t >= kMaxTimeMs) {  // messages are built only on the error path
        return CheckTimeInRange(t, at + d.name + " of GPU " + d.uuid + " timestamp");
      }
      auto [it, fresh] = per_time.try_emplace(t);
      Partial& part = it->second;
      if (fresh) {
        part.line = line;
        part.s.util_pct = -1;  // until this batch reports it: the ledger then keeps what it has
      }
      part.s.t = t;
      Status set = SetMetric(part.s, *d.field, d.name, value);
      if (!set.ok()) return set.WithContext(at + "GPU " + d.uuid);
    }
    Gpu& g = gpus_[d.uuid];
    g.uuid = d.uuid;
    if (!d.host.empty()) g.node = d.host;
    if (!d.model.empty()) g.model = d.model;
    if (!d.gpu.empty()) g.index = std::atoi(d.gpu.c_str());
    if (n > 0 && (g.in_service_from == 0 || points[0].first < g.in_service_from))
      g.in_service_from = points[0].first;
    if (!d.workload.empty()) {
      auto& w = out_.workload[g.uuid];
      for (const auto& [k, v] : d.workload) w[k] = v;
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
    RETURN_IF_ERROR(b.AddSeries(ReadDcgmLabels(p.name, p.labels), &point, 1, p.line));
  }
  return b.Finish();
}

StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<RwSeries>& series) {
  DcgmBuilder b;
  for (const RwSeries& s : series) {
    // A series the decoder has seen before comes with its labels already read.
    if (s.dcgm) {
      RETURN_IF_ERROR(b.AddSeries(*s.dcgm, s.points.data(), s.points.size(), 0));
    } else {
      RETURN_IF_ERROR(b.AddSeries(ReadDcgmLabels(s.name, s.labels), s.points.data(), s.points.size(), 0));
    }
  }
  return b.Finish();
}

}  // namespace gpuledger
