#include "ledger/postgres/job_tables.h"

namespace gpuledger::pg {

Status JobTables::PutStopRequest(const StopRequest& r) {
  ASSIGN_OR_RETURN(Result have, c_.Exec("SELECT 1 FROM jobs WHERE id = $1", {P(r.job_id)}));
  if (have.rows() == 0) return NotFound("no job '" + r.job_id + "' to stop");
  return c_
      .Exec(
          "INSERT INTO stop_requests (job_id, requested_ms, requested_by, reason, kind) VALUES ($1, $2, $3, "
          "$4, "
          "$5) ON CONFLICT (job_id) DO UPDATE SET requested_ms = $2, requested_by = $3, reason = $4, kind = "
          "$5",
          {P(r.job_id), P(r.requested_ms), P(r.requested_by), P(r.reason), P(r.kind)})
      .status()
      .WithContext("stop request of job '" + r.job_id + "' (kind '" + r.kind + "': stop or pause)");
}

StatusOr<std::optional<StopRequest>> JobTables::GetStopRequest(const std::string& job_id) {
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec("SELECT requested_ms, requested_by, reason, kind FROM stop_requests WHERE "
                           "job_id = $1",
                           {P(job_id)}));
  if (r.rows() == 0) return std::optional<StopRequest>();
  return std::optional<StopRequest>(
      StopRequest{job_id, r.Int(0, 0), r.Text(0, 1), r.Text(0, 2), r.Text(0, 3)});
}

StatusOr<bool> JobTables::DeleteStopRequest(const std::string& job_id) {
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec("DELETE FROM stop_requests WHERE job_id = $1 RETURNING job_id", {P(job_id)}));
  return r.rows() > 0;
}

Status JobTables::PutEstimate(const JobEstimate& e) {
  ASSIGN_OR_RETURN(Result have, c_.Exec("SELECT 1 FROM jobs WHERE id = $1", {P(e.job_id)}));
  if (have.rows() == 0) return NotFound("no job '" + e.job_id + "' to keep an estimate for");
  return c_
      .Exec(
          "INSERT INTO job_estimates VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT "
          "(job_id) "
          "DO UPDATE SET made_ms = $2, basis = $3, runs = $4, cost_micros = $5, cost_low_micros = $6, "
          "cost_high_micros = $7, best_cost_micros = $8, gpu_ns = $9, duration_ms = $10, detail = $11",
          {P(e.job_id), P(e.made_ms), P(e.basis), P(static_cast<int64_t>(e.runs)), P(e.cost_micros),
           P(e.cost_low_micros), P(e.cost_high_micros), P(e.best_cost_micros), P(e.gpu_ns), P(e.duration_ms),
           P(e.detail)})
      .status();
}

StatusOr<std::optional<JobEstimate>> JobTables::GetEstimate(const std::string& job_id) {
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT made_ms, basis, runs, cost_micros, cost_low_micros, "
                                     "cost_high_micros, best_cost_micros, gpu_ns, duration_ms, detail "
                                     "FROM job_estimates WHERE job_id = $1",
                                     {P(job_id)}));
  if (r.rows() == 0) return std::optional<JobEstimate>();
  return std::optional<JobEstimate>(
      JobEstimate{job_id, r.Int(0, 0), r.Text(0, 1), static_cast<int>(r.Int(0, 2)), r.Int(0, 3), r.Int(0, 4),
                  r.Int(0, 5), r.Int(0, 6), r.Int(0, 7), r.Int(0, 8), r.Text(0, 9)});
}

Status JobTables::PutJobGpuMemory(const std::vector<JobGpuMemory>& rows) {
  Transaction tx(c_);
  RETURN_IF_ERROR(tx.Begin());
  for (const JobGpuMemory& m : rows) {
    ASSIGN_OR_RETURN(Result job, c_.Exec("SELECT 1 FROM jobs WHERE id = $1", {P(m.job_id)}));
    if (job.rows() == 0) return NotFound("no job '" + m.job_id + "' to keep GPU memory for");
    ASSIGN_OR_RETURN(Result gpu, c_.Exec("SELECT 1 FROM gpus WHERE uuid = $1", {P(m.gpu_uuid)}));
    if (gpu.rows() == 0)
      return NotFound("job '" + m.job_id + "': no GPU '" + m.gpu_uuid + "'; register it first");
    RETURN_IF_ERROR(
        c_.Exec("INSERT INTO job_gpu_memory VALUES ($1, $2, $3, $4, $5) ON CONFLICT (job_id, gpu_uuid) "
                "DO UPDATE SET peak_mib = GREATEST(job_gpu_memory.peak_mib, EXCLUDED.peak_mib), "
                "first_ms = LEAST(job_gpu_memory.first_ms, EXCLUDED.first_ms), "
                "last_ms = GREATEST(job_gpu_memory.last_ms, EXCLUDED.last_ms)",
                {P(m.job_id), P(m.gpu_uuid), P(m.peak_mib), P(m.first_ms), P(m.last_ms)})
            .status());
  }
  return tx.Commit();
}

StatusOr<std::vector<JobGpuMemory>> JobTables::GetJobGpuMemory(const std::string& job_id) {
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT gpu_uuid, peak_mib, first_ms, last_ms FROM job_gpu_memory "
                                     "WHERE job_id = $1 ORDER BY gpu_uuid",
                                     {P(job_id)}));
  std::vector<JobGpuMemory> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i)
    out.push_back({job_id, r.Text(i, 0), r.Int(i, 1), r.Int(i, 2), r.Int(i, 3)});
  return out;
}

}  // namespace gpuledger::pg
