// What gpuledger reads from a dcgm-exporter series' labels, worked out once per label
// set: the metric it meters (if any), the GPU it names, MIG, and the workload labels.
// The remote-write decoder keeps these per distinct label set (SeriesCache), so a series
// seen before costs no label parsing. Header-only; pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ingest/metrics.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gpuledger {

struct DcgmLabels {
  std::string name;                                           // __name__
  std::optional<MetricField> field;                           // none: a metric gpuledger does not meter
  bool mig = false;                                           // GPU_I_ID set: a MIG instance's series
  std::string uuid;                                           // UUID (or uuid); empty: none
  std::string host, model, gpu;                               // Hostname/hostname, modelName, gpu (index)
  std::vector<std::pair<std::string, std::string>> workload;  // pod, namespace, container, hpc_job
  // XXH3-64 of host, model, gpu and workload: equal for label sets that describe the GPU
  // and its workload alike (a GPU's metric series differ only in __name__).
  uint64_t description = 0;
};

template <typename Labels>
std::string_view DcgmLabelOf(const Labels& labels, std::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return v;
  }
  return {};
}

template <typename Labels>
DcgmLabels ReadDcgmLabels(std::string_view name, const Labels& labels) {
  DcgmLabels d;
  d.name = std::string(name);
  d.field = MetricFieldOf(name);
  d.mig = !DcgmLabelOf(labels, "GPU_I_ID").empty();
  std::string_view uuid = DcgmLabelOf(labels, "UUID");
  d.uuid = std::string(uuid.empty() ? DcgmLabelOf(labels, "uuid") : uuid);
  std::string_view host = DcgmLabelOf(labels, "Hostname");
  d.host = std::string(host.empty() ? DcgmLabelOf(labels, "hostname") : host);
  d.model = std::string(DcgmLabelOf(labels, "modelName"));
  d.gpu = std::string(DcgmLabelOf(labels, "gpu"));
  for (const char* key : {"pod", "namespace", "container", "hpc_job"}) {
    const std::string_view v = DcgmLabelOf(labels, key);
    if (!v.empty()) d.workload.emplace_back(key, std::string(v));
  }
  std::string all = d.host + '\0' + d.model + '\0' + d.gpu;
  for (const auto& [k, v] : d.workload) all.append(1, '\0').append(k).append(1, '=').append(v);
  d.description = XXH3_64bits(all.data(), all.size());
  return d;
}

}  // namespace gpuledger
