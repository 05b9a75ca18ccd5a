// dcgm-exporter series (Prometheus text or remote write, once parsed) -> GPU samples,
// the GPUs the labels describe, and the workload labels on each GPU. Pure; thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/types.h"
#include "ingest/dcgm_labels.h"
#include "ingest/prom_text.h"
#include "ingest/remote_write.h"

namespace gpuledger {

// One GPU of a batch: what its series' labels said (read once per label set and shared,
// so a batch copies no strings per GPU) and its earliest sample.
struct DcgmGpu {
  // The GPU's last label set in the batch; a field or workload label that set lacks is
  // filled from the GPU's earlier label sets of the same batch.
  std::shared_ptr<const DcgmLabels> labels;
  TimeMs first = 0;
  // From UUID, gpu, Hostname/hostname, modelName; in service from the first sample.
  Gpu ToGpu() const;
};

struct DcgmBatch {
  std::vector<GpuSample> samples;  // one per (GPU, time), sorted
  std::vector<DcgmGpu> gpus;       // one per GPU the samples name, in the same order
  int64_t series = 0;
  int64_t skipped_metrics = 0;  // series of metrics gpuledger does not meter
  int64_t skipped_mig = 0;      // MIG instance series (GPU_I_ID set): not metered yet

  // GPU uuid -> its workload labels (pod, namespace, container, hpc_job) as last seen.
  std::map<std::string, std::map<std::string, std::string>> Workload() const;
};

// `default_time` stamps series that carry no timestamp (a saved scrape). The same GPU,
// metric and time seen twice: the later value wins. A sample lacks (-1) the metrics its
// batch did not carry: remote write may split one GPU's series across requests, and
// the ledger merges them. Errors name the line, the series and the value: a metered
// series without a UUID label, a NaN, a negative counter.
StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<PromSample>& series, TimeMs default_time);
// The same for decoded remote write series (every point carries its timestamp).
StatusOr<DcgmBatch> SamplesFromDcgm(const std::vector<RwSeries>& series);

}  // namespace gpuledger
