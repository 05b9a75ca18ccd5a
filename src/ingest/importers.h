// CSV import formats (docs/formats/import.md) -> domain values. Untrusted input: every
// error reads "line N: what was wrong (limit, value seen)"; the caller adds the file
// name. Parsing is all-or-nothing: the first bad row fails the whole file. Pure;
// thread-safe.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

// One record's fields by name ("" when absent): a CSV row or a JSON object alike.
using FieldFn = std::function<std::string_view(const char* name)>;
const std::vector<std::string>& JobFieldNames();
StatusOr<Job> JobFromFields(const FieldFn& f);
// Fields job_id, gpu_uuid, start, end, share.
StatusOr<Allocation> AllocationFromFields(const FieldFn& f);

// The jobs API body (docs/api/openapi.yaml): a JSON object with the CSV import's job
// fields as strings, plus "allocations": [{gpu_uuid, start, end, share}].
struct JobRequest {
  Job job;
  std::vector<Allocation> allocations;
};
StatusOr<JobRequest> ParseJobJson(std::string_view body);

// The body of POST /api/v1/jobs/{id}/progress: {"epochs": [{"epoch": 1, "time_s": 12.5,
// "train_loss": ..., "val_loss": ..., "precision": ..., "recall": ..., "map50": ...,
// "map50_95": ...}]}: epochs 1-based, numbers finite, metrics in [0, 1], at most
// kMaxProgressEpochs. Errors name the epoch's index and field.
inline constexpr size_t kMaxProgressEpochs = 100000;
StatusOr<std::vector<EpochProgress>> ParseProgressJson(std::string_view body);

StatusOr<std::vector<Job>> ParseJobsCsv(std::string_view text);
StatusOr<std::vector<Gpu>> ParseGpusCsv(std::string_view text);
StatusOr<std::vector<Allocation>> ParseAllocationsCsv(std::string_view text);
StatusOr<std::vector<Price>> ParsePricesCsv(std::string_view text);

struct SamplesImport {
  std::vector<GpuSample> samples;  // one per (GPU, timestamp), sorted
  int64_t rows = 0;
  int64_t skipped_metrics = 0;  // rows of metrics gpuledger does not meter
};
// Long form: timestamp,gpu,metric,value. Metric names are ours (util, mem_mib, power_w,
// energy_mj, sm_active, gr_active) or dcgm-exporter's (DCGM_FI_DEV_GPU_UTIL, ...).
StatusOr<SamplesImport> ParseSamplesCsv(std::string_view text);

// "1xA10G", "1×A10G", "0.5xA10G", "8 x A100" -> share in ppm and model.
Status ParseGpuRequest(std::string_view text, int64_t* share_ppm, std::string* model);
// "registry/ultralytics:train-yolov10-medium-cu118" -> repo, tag.
void SplitImage(std::string_view image, std::string* repo, std::string* tag);

}  // namespace gpuledger
