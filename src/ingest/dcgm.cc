#include "ingest/dcgm.h"

#include <algorithm>
#include <unordered_map>

#include "domain/gpu_model.h"
#include "ingest/dcgm_labels.h"
#include "ingest/metrics.h"

namespace gpuledger {

namespace {

// `later` with what it lacks filled from `earlier` (one GPU's label sets in one batch).
std::shared_ptr<const DcgmLabels> Merged(const DcgmLabels& earlier,
                                         const std::shared_ptr<const DcgmLabels>& later) {
  const bool lacks_workload =
      std::any_of(earlier.workload.begin(), earlier.workload.end(),
                  [&](const auto& kv) { return DcgmLabelOf(later->workload, kv.first).empty(); });
  if (!lacks_workload && !(later->host.empty() && !earlier.host.empty()) &&
      !(later->model.empty() && !earlier.model.empty()) && !(later->gpu.empty() && !earlier.gpu.empty())) {
    return later;
  }
  auto m = std::make_shared<DcgmLabels>(*later);
  if (m->host.empty()) m->host = earlier.host;
  if (m->model.empty()) m->model = earlier.model;
  if (m->gpu.empty()) m->gpu = earlier.gpu;
  for (const auto& [k, v] : earlier.workload) {
    if (DcgmLabelOf(m->workload, k).empty()) m->workload.emplace_back(k, v);
  }
  return m;
}

// Folds series into per-(GPU, time) samples. Label lookups happen once per series.
class DcgmBuilder {
 public:
  // `line` names the source line in errors (0: none, e.g. remote write).
  Status AddSeries(const std::shared_ptr<const DcgmLabels>& labels, const std::pair<TimeMs, double>* points,
                   size_t n, int64_t line) {
    const DcgmLabels& d = *labels;
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
      last_ = &per_gpu_[d.uuid];
    }
    PerGpu& state = *last_;
    for (size_t i = 0; i < n; ++i) {
      const auto [t, value] = points[i];
      if (t < kMinTimeMs || t >= kMaxTimeMs) {  // messages are built only on the error path
        return CheckTimeInRange(t, at + d.name + " of GPU " + d.uuid + " timestamp");
      }
      // One report per point, merged per time at Finish (cheaper than a map per GPU).
      if (state.reports.empty()) state.reports.reserve(8);  // a GPU's six metrics, one allocation
      Sample& s = state.reports.emplace_back();
      s.t = t;
      s.util_pct = -1;  // until this batch reports it: the ledger then keeps what it has
      Status set = SetMetric(s, *d.field, d.name, value);
      if (!set.ok()) return set.WithContext(at + "GPU " + d.uuid);
    }
    if (n > 0 && (state.gpu.first == 0 || points[0].first < state.gpu.first))
      state.gpu.first = points[0].first;
    // What the labels say of the GPU and its workload: kept per distinct label content
    // (a GPU's six metric series carry the same host, model, index and workload).
    // Compared by hash: a 2^-64 collision would only keep this GPU's first description
    // of the batch instead of its last.
    if (state.gpu.labels && state.description == d.description) return OkStatus();
    state.description = d.description;
    state.gpu.labels = state.gpu.labels ? Merged(*state.gpu.labels, labels) : labels;
    return OkStatus();
  }

  StatusOr<DcgmBatch> Finish() {
    std::vector<std::pair<const std::string*, PerGpu*>> ordered;  // by UUID: a stable order
    ordered.reserve(per_gpu_.size());
    for (auto& [uuid, state] : per_gpu_) ordered.emplace_back(&uuid, &state);
    std::sort(ordered.begin(), ordered.end(),
              [](const auto& a, const auto& b) { return *a.first < *b.first; });
    out_.gpus.reserve(ordered.size());
    for (auto& [uuid, state] : ordered) {
      std::vector<Sample>& reports = state->reports;
      if (reports.empty()) continue;
      std::stable_sort(reports.begin(), reports.end(),
                       [](const Sample& a, const Sample& b) { return a.t < b.t; });
      const size_t begin = out_.samples.size();
      for (const Sample& r : reports) {
        if (out_.samples.size() > begin && out_.samples.back().sample.t == r.t) {
          MergeReported(out_.samples.back().sample, r);  // in arrival order: the later value wins
        } else {
          out_.samples.push_back({*uuid, r});
        }
      }
      out_.gpus.push_back(std::move(state->gpu));
    }
    return std::move(out_);
  }

 private:
  struct PerGpu {
    std::vector<Sample> reports;  // one per point, in arrival order
    DcgmGpu gpu;
    uint64_t description = 0;  // of the label set last applied to `gpu`
  };
  DcgmBatch out_;
  std::unordered_map<std::string, PerGpu> per_gpu_;  // node-based: pointers stay valid
  std::string last_uuid_;
  PerGpu* last_ = nullptr;
};

}  // namespace

StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<PromSample>& series, TimeMs default_time) {
  DcgmBuilder b;
  for (const PromSample& p : series) {
    const std::pair<TimeMs, double> point{p.timestamp_ms.value_or(default_time), p.value};
    RETURN_IF_ERROR(
        b.AddSeries(std::make_shared<const DcgmLabels>(ReadDcgmLabels(p.name, p.labels)), &point, 1, p.line));
  }
  return b.Finish();
}

StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<RwSeries>& series) {
  DcgmBuilder b;
  for (const RwSeries& s : series) {
    // A series the decoder has seen before comes with its labels already read.
    if (s.dcgm) {
      RETURN_IF_ERROR(b.AddSeries(s.dcgm, s.points.data(), s.points.size(), 0));
    } else {
      RETURN_IF_ERROR(b.AddSeries(std::make_shared<const DcgmLabels>(ReadDcgmLabels(s.name, s.labels)),
                                  s.points.data(), s.points.size(), 0));
    }
  }
  return b.Finish();
}

Gpu DcgmGpu::ToGpu() const {
  Gpu g;
  g.uuid = labels->uuid;
  g.node = labels->host;
  g.model = CanonicalGpuModel(labels->model);  // dcgm-exporter's "NVIDIA A10G" is the books' "A10G"
  if (!labels->gpu.empty()) g.index = std::atoi(labels->gpu.c_str());
  g.in_service_from = first;
  return g;
}

std::map<std::string, std::map<std::string, std::string>> DcgmBatch::Workload() const {
  std::map<std::string, std::map<std::string, std::string>> out;
  for (const DcgmGpu& g : gpus) {
    if (g.labels->workload.empty()) continue;
    auto& w = out[g.labels->uuid];
    for (const auto& [k, v] : g.labels->workload) w[k] = v;
  }
  return out;
}

}  // namespace gpuledger
