// Plain value types of the books: jobs, GPUs, allocations, samples, prices, training
// progress and the usage rows the meter produces. No I/O, no behaviour beyond checks of
// their own fields. Thread-compatible.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

// Fractions of a GPU (MIG slices, time-slicing) are parts per million: exact sums, and
// a GPU-millisecond times a share in ppm is a GPU-nanosecond.
inline constexpr int64_t kFullShare = 1'000'000;
// 1 GPU-hour in GPU-nanoseconds (ms x ppm).
inline constexpr int64_t kGpuNsPerGpuHour = 3'600'000LL * kFullShare;
// 1 kWh in millijoules.
inline constexpr int64_t kMjPerKwh = 3'600'000'000LL;

// "repo:tag", or the tag alone when there is no repo.
inline std::string ImageRef(const std::string& repo, const std::string& tag) {
  return repo.empty() ? tag : repo + ":" + tag;
}

// kPaused: the run ended at a checkpoint on a pause request (docs/POLICIES.md); like the
// other three it is finished (its GPUs are released at its end); a resumed run is a new job.
enum class JobStatus { kPending, kRunning, kSucceeded, kFailed, kCancelled, kPaused };
std::string_view JobStatusName(JobStatus s);
StatusOr<JobStatus> ParseJobStatus(std::string_view s);

struct Job {
  std::string id;
  std::string user;
  std::string project;
  std::string department;
  std::string model_type;            // yolov8s, yolov10m, yolo11n, custom-...
  std::string image_repo;            // registry/ultralytics-train
  std::string image_tag;             // train-yolov10-medium-cu118
  std::string image_digest;          // sha256:...
  std::string framework;             // ultralytics==8.0.200
  int64_t gpu_share_ppm = 0;         // requested GPUs x 1e6: 1xA10G -> 1,000,000; 0.5 -> 500,000
  std::string gpu_model;             // requested model, A10G
  DurationMs duration_limit_ms = 0;  // 0: none
  std::string dataset;
  int64_t dataset_images = 0;
  int epochs = 0;
  int batch = 0;
  int imgsz = 0;
  bool amp = false;
  std::map<std::string, std::string> labels;
  JobStatus status = JobStatus::kPending;
  TimeMs submitted_ms = 0;
  TimeMs start_ms = 0;  // 0: not started
  TimeMs end_ms = 0;    // 0: still running

  std::string image() const { return ImageRef(image_repo, image_tag); }
  Status Validate() const;
};

struct Gpu {
  std::string uuid;  // GPU-8c1e... as NVML and dcgm-exporter print it
  std::string node;
  int index = 0;
  std::string model;  // A10G, A100-SXM4-80GB
  int64_t memory_mib = 0;
  TimeMs in_service_from = 0;
  TimeMs in_service_to = 0;           // 0: still in service
  DurationMs sample_interval_ms = 0;  // 0: the ledger's default
  DurationMs max_gap_ms = 0;          // 0: the ledger's default

  Window service() const { return {in_service_from, in_service_to == 0 ? kMaxTimeMs : in_service_to}; }
  Status Validate() const;
  bool operator==(const Gpu&) const = default;
};

// A job holding (a share of) one GPU over [start, end). end 0: still holding.
struct Allocation {
  std::string job_id;
  std::string gpu_uuid;
  TimeMs start_ms = 0;
  TimeMs end_ms = 0;
  int64_t share_ppm = kFullShare;

  Window window() const { return {start_ms, end_ms == 0 ? kMaxTimeMs : end_ms}; }
  Status Validate() const;
};

// One reading of one GPU. Negative means "not reported" for the optional fields.
struct Sample {
  TimeMs t = 0;
  float util_pct = 0;      // DCGM_FI_DEV_GPU_UTIL, 0..100; -1 when not (yet) reported
  float mem_mib = -1;      // DCGM_FI_DEV_FB_USED
  float power_w = -1;      // DCGM_FI_DEV_POWER_USAGE
  int64_t energy_mj = -1;  // DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION (counter)
  float sm_active = -1;    // DCGM_FI_PROF_SM_ACTIVE, 0..1
  float gr_active = -1;    // DCGM_FI_PROF_GR_ENGINE_ACTIVE, 0..1
};

// An API token as the ledger keeps it: never the token itself, only its hash. Tokens
// created before migration 0008 have no name, owner or expiry and were never seen used.
struct TokenRecord {
  std::string id;    // public, short: names the token in the audit log
  std::string hash;  // hex BLAKE2b-256 of the secret
  std::string role;  // ingest | user | dept_admin | finance | admin
  std::string project;
  std::string department;
  TimeMs created_ms = 0;
  bool revoked = false;
  std::string name;         // what it is for ("prometheus on rack 3"); may be empty
  std::string owner;        // who answers for it; may be empty
  TimeMs expires_ms = 0;    // refused from this instant on; 0: never expires
  TimeMs last_used_ms = 0;  // last authenticated request (to within the server's cache TTL); 0: never
  TimeMs revoked_ms = 0;    // when it was revoked (0: not, or before migration 0008)
};

// One entry of the audit log: a read of cost data, a write, a token change or a refused
// attempt. Entries form a hash chain (ledger/audit_chain.h): `seq`, `prev_hash` and
// `hash` are assigned by Ledger::AppendAudit, whatever the caller put there.
struct AuditEntry {
  TimeMs at_ms = 0;
  std::string token_id;  // who: the token's id; "" when none was presented or it was unknown
  std::string role;      // the token's role, "cli" for the command line, "" when unauthenticated
  std::string action;    // what, e.g. "GET /api/v1/reports/monthly"
  std::string detail;    // e.g. "month=2026-10 by=department"
  std::string remote;    // from where: the client's address, or "cli user=NAME"
  int status = 0;        // the HTTP status answered (0: not an HTTP request)
  int64_t seq = 0;
  std::string prev_hash;  // hex SHA-256 of the entry before (64 zeros for the first)
  std::string hash;       // hex SHA-256 over prev_hash and this entry's fields
};

// A request to stop a job early: its training stops after the current epoch's checkpoint.
// kind "pause" (#13, a policy's or POST /api/v1/jobs/{id}/pause): the same stop, after
// which the job is resumed from that checkpoint (its resume command is on the job).
struct StopRequest {
  std::string job_id;
  TimeMs requested_ms = 0;
  std::string requested_by;  // the token id
  std::string reason;
  std::string kind = "stop";  // "stop" | "pause"
};

// A job's own GPU memory on one GPU, from its processes (NVML's per-process figure, as
// the agent reports it): the peak seen from first_ms to last_ms. On a GPU that several
// jobs share this is what the job itself used; where there is none, only the whole GPU's
// memory is known (dcgm-exporter), and figures say so.
struct JobGpuMemory {
  std::string job_id;
  std::string gpu_uuid;
  int64_t peak_mib = 0;
  TimeMs first_ms = 0;
  TimeMs last_ms = 0;
};

// The estimate a job was submitted with (gpuledger submit, POST /api/v1/submissions):
// kept beside the job so its actual cost can be read against it. Amounts in the
// ledger's currency; -1 where the estimate has no such figure (no interval, no best
// practice). `detail` is the whole estimate as JSON (estimate/estimate.h EstimateJson).
struct JobEstimate {
  std::string job_id;
  TimeMs made_ms = 0;
  std::string basis;  // history | rate | none
  int runs = 0;       // similar finished runs it rests on
  int64_t cost_micros = -1;
  int64_t cost_low_micros = -1;
  int64_t cost_high_micros = -1;
  int64_t best_cost_micros = -1;
  int64_t gpu_ns = -1;
  DurationMs duration_ms = -1;
  std::string detail;
};

// A workload label (pod, hpc_job) seen on a GPU's samples over [first_ms, last_ms].
struct LabelSighting {
  std::string gpu_uuid;
  std::string label;
  std::string value;
  TimeMs first_ms = 0;
  TimeMs last_ms = 0;
};

// One GPU's samples within one UTC minute.
struct MinuteRollup {
  TimeMs minute_ms = 0;
  int samples = 0;
  float util_mean_pct = 0;
  float util_max_pct = 0;
  float mem_max_mib = -1;
  float power_mean_w = -1;
};

struct GpuSample {
  std::string gpu_uuid;
  Sample sample;
};

// What `later` reports (fields >= 0) replaces what `into` has; a field `later` lacks (-1)
// keeps `into`'s. How two reports of one GPU and time combine, everywhere.
inline void MergeReported(Sample& into, const Sample& later) {
  if (later.util_pct >= 0) into.util_pct = later.util_pct;
  if (later.mem_mib >= 0) into.mem_mib = later.mem_mib;
  if (later.power_w >= 0) into.power_w = later.power_w;
  if (later.energy_mj >= 0) into.energy_mj = later.energy_mj;
  if (later.sm_active >= 0) into.sm_active = later.sm_active;
  if (later.gr_active >= 0) into.gr_active = later.gr_active;
}

// Field by field, floats bit for bit (so -0 and +0 differ): what "lossless" means for
// the chunk encoding and the journal.
inline bool SameBits(const Sample& a, const Sample& b) {
  auto bits = [](float f) {
    uint32_t u = 0;
    std::memcpy(&u, &f, sizeof u);
    return u;
  };
  return a.t == b.t && a.energy_mj == b.energy_mj && bits(a.util_pct) == bits(b.util_pct) &&
         bits(a.mem_mib) == bits(b.mem_mib) && bits(a.power_w) == bits(b.power_w) &&
         bits(a.sm_active) == bits(b.sm_active) && bits(a.gr_active) == bits(b.gr_active);
}

struct Price {
  std::string gpu_model;
  TimeMs effective_from = 0;
  int64_t micros_per_gpu_hour = 0;
  int64_t micros_per_kwh = 0;  // 0: energy not priced
  std::string currency;
  Status Validate() const;
};

// One epoch of an Ultralytics run. NaN-free: absent metrics are nullopt.
struct EpochProgress {
  int epoch = 0;  // 1-based, whatever the file's convention
  std::optional<double> time_s;
  std::optional<double> train_loss;  // sum of the train/* loss columns
  std::optional<double> val_loss;
  std::optional<double> precision;
  std::optional<double> recall;
  std::optional<double> map50;     // 0..1
  std::optional<double> map50_95;  // 0..1
};

// What the meter says about one line (a job, or unallocated capacity when job_id is
// empty) on one GPU within one period (a span of one price and one month).
struct UsageRow {
  std::string job_id;  // "" = unallocated capacity
  std::string gpu_uuid;
  std::string gpu_model;
  TimeMs period_start = 0;
  TimeMs period_end = 0;
  int64_t gpu_ns = 0;      // allocated (or, for unallocated rows, unallocated) capacity
  int64_t covered_ns = 0;  // part of gpu_ns with samples
  int64_t busy_ns = 0;     // util >= 1 %
  int64_t dense_ns = 0;    // util > dense threshold (70 %)
  int64_t util_ns = 0;     // sum of time x util / 100 (mean util = util_ns / covered_ns)
  int64_t energy_mj = 0;
  int64_t peak_mem_mib = 0;
  int64_t loading_ns = 0;
  int64_t steady_ns = 0;
  int64_t tail_ns = 0;
  int64_t idle_ns = 0;
  // Sample intervals begun in this row whose energy was not the counter's delta as read:
  // a dip (counted as nothing) or over the power bound (clamped). docs/METERING.md, "Energy".
  int64_t energy_flags = 0;
};

}  // namespace gpuledger
