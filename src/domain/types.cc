#include "domain/types.h"

#include "common/strings.h"

namespace gpuledger {

std::string_view JobStatusName(JobStatus s) {
  switch (s) {
    case JobStatus::kPending:
      return "pending";
    case JobStatus::kRunning:
      return "running";
    case JobStatus::kSucceeded:
      return "succeeded";
    case JobStatus::kFailed:
      return "failed";
    case JobStatus::kCancelled:
      return "cancelled";
    case JobStatus::kPaused:
      return "paused";
  }
  return "unknown";
}

StatusOr<JobStatus> ParseJobStatus(std::string_view s) {
  for (JobStatus k : {JobStatus::kPending, JobStatus::kRunning, JobStatus::kSucceeded, JobStatus::kFailed,
                      JobStatus::kCancelled, JobStatus::kPaused}) {
    if (s == JobStatusName(k)) return k;  // the stored form, without allocating
  }
  const std::string l = ToLower(Trim(s));
  if (l == "pending" || l == "queued") return JobStatus::kPending;
  if (l == "running") return JobStatus::kRunning;
  if (l == "succeeded" || l == "completed" || l == "pass") return JobStatus::kSucceeded;
  if (l == "failed" || l == "killed") return JobStatus::kFailed;
  if (l == "cancelled" || l == "canceled") return JobStatus::kCancelled;
  if (l == "paused") return JobStatus::kPaused;
  return InvalidArgument("job status '" + std::string(s) +
                         "' is not one of pending, running, succeeded, failed, cancelled, paused");
}

Status Job::Validate() const {
  if (id.empty()) return InvalidArgument("job id is empty");
  if (user.empty()) return InvalidArgument("job " + id + ": user is empty");
  if (project.empty()) return InvalidArgument("job " + id + ": project is empty");
  if (department.empty()) return InvalidArgument("job " + id + ": department is empty");
  if (gpu_share_ppm < 0 || gpu_share_ppm > 1024 * kFullShare) {
    return InvalidArgument("job " + id + ": GPU count " +
                           FormatFixed(static_cast<double>(gpu_share_ppm) / 1e6, 6) +
                           " is outside [0, 1024]");
  }
  if (submitted_ms != 0) RETURN_IF_ERROR(CheckTimeInRange(submitted_ms, "job " + id + " submitted"));
  if (start_ms != 0) RETURN_IF_ERROR(CheckTimeInRange(start_ms, "job " + id + " start"));
  if (end_ms != 0) {
    RETURN_IF_ERROR(CheckTimeInRange(end_ms, "job " + id + " end"));
    if (start_ms == 0) return InvalidArgument("job " + id + ": has an end but no start");
    if (end_ms < start_ms) {
      return InvalidArgument("job " + id + ": end " + FormatTime(end_ms) + " is before start " +
                             FormatTime(start_ms));
    }
  }
  if (epochs < 0 || batch < 0 || imgsz < 0 || dataset_images < 0 || duration_limit_ms < 0) {
    return InvalidArgument("job " + id +
                           ": epochs, batch, imgsz, dataset size and duration limit must not be negative");
  }
  return OkStatus();
}

Status Gpu::Validate() const {
  if (uuid.empty()) return InvalidArgument("GPU uuid is empty");
  if (model.empty()) return InvalidArgument("GPU " + uuid + ": model is empty");
  if (index < 0 || index > 1023) {
    return InvalidArgument("GPU " + uuid + ": index " + std::to_string(index) + " is outside [0, 1023]");
  }
  if (memory_mib < 0) return InvalidArgument("GPU " + uuid + ": memory is negative");
  RETURN_IF_ERROR(CheckTimeInRange(in_service_from, "GPU " + uuid + " in service from"));
  if (in_service_to != 0 && in_service_to <= in_service_from) {
    return InvalidArgument("GPU " + uuid + ": in-service end " + FormatTime(in_service_to) +
                           " is not after its start " + FormatTime(in_service_from));
  }
  if (sample_interval_ms < 0 || max_gap_ms < 0 || (max_gap_ms > 0 && max_gap_ms < sample_interval_ms)) {
    return InvalidArgument("GPU " + uuid + ": max gap must be at least the sample interval");
  }
  return OkStatus();
}

Status Allocation::Validate() const {
  const std::string what = "allocation of GPU " + gpu_uuid + " to job " + job_id;
  if (job_id.empty() || gpu_uuid.empty()) return InvalidArgument("allocation needs a job and a GPU");
  RETURN_IF_ERROR(CheckTimeInRange(start_ms, what + " start"));
  if (end_ms != 0) {
    RETURN_IF_ERROR(CheckTimeInRange(end_ms, what + " end"));
    if (end_ms <= start_ms) {
      return InvalidArgument(what + ": end " + FormatTime(end_ms) + " is not after start " +
                             FormatTime(start_ms));
    }
  }
  if (share_ppm <= 0 || share_ppm > kFullShare) {
    return InvalidArgument(what + ": share " + FormatFixed(share_ppm / 1e6, 6) + " is outside (0, 1]");
  }
  return OkStatus();
}

Status Price::Validate() const {
  if (gpu_model.empty()) return InvalidArgument("price: GPU model is empty");
  RETURN_IF_ERROR(CheckTimeInRange(effective_from, "price for " + gpu_model + " effective from"));
  if (micros_per_gpu_hour < 0 || micros_per_kwh < 0) {
    return InvalidArgument("price for " + gpu_model + " is negative");
  }
  return OkStatus();
}

}  // namespace gpuledger
