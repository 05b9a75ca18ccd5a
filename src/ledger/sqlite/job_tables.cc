#include "ledger/sqlite/job_tables.h"

namespace gpuledger::sqlite {

Status JobTables::PutStopRequest(const StopRequest& r) {
  {
    ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT 1 FROM jobs WHERE id = ?"));
    q.Bind(1, std::string_view(r.job_id));
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no job '" + r.job_id + "' to stop");
  }
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("INSERT OR REPLACE INTO stop_requests (job_id, requested_ms, "
                                       "requested_by, reason, kind) VALUES (?, ?, ?, ?, ?)"));
  return q.Bind(1, std::string_view(r.job_id))
      .Bind(2, r.requested_ms)
      .Bind(3, std::string_view(r.requested_by))
      .Bind(4, std::string_view(r.reason))
      .Bind(5, std::string_view(r.kind))
      .Run()
      .WithContext("stop request of job '" + r.job_id + "' (kind '" + r.kind + "': stop or pause)");
}

StatusOr<std::optional<StopRequest>> JobTables::GetStopRequest(const std::string& job_id) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT requested_ms, requested_by, reason, kind FROM stop_requests "
                                       "WHERE job_id = ?"));
  q.Bind(1, std::string_view(job_id));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<StopRequest>();
  return std::optional<StopRequest>(StopRequest{job_id, q.Int(0), q.Text(1), q.Text(2), q.Text(3)});
}

StatusOr<bool> JobTables::DeleteStopRequest(const std::string& job_id) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("DELETE FROM stop_requests WHERE job_id = ?"));
  RETURN_IF_ERROR(q.Bind(1, std::string_view(job_id)).Run());
  return sqlite3_changes(db_.raw()) > 0;
}

Status JobTables::PutEstimate(const JobEstimate& e) {
  {
    ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT 1 FROM jobs WHERE id = ?"));
    q.Bind(1, std::string_view(e.job_id));
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return NotFound("no job '" + e.job_id + "' to keep an estimate for");
  }
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("INSERT OR REPLACE INTO job_estimates VALUES (?,?,?,?,?,?,?,?,?,?,?)"));
  return q.Bind(1, std::string_view(e.job_id))
      .Bind(2, e.made_ms)
      .Bind(3, std::string_view(e.basis))
      .Bind(4, static_cast<int64_t>(e.runs))
      .Bind(5, e.cost_micros)
      .Bind(6, e.cost_low_micros)
      .Bind(7, e.cost_high_micros)
      .Bind(8, e.best_cost_micros)
      .Bind(9, e.gpu_ns)
      .Bind(10, e.duration_ms)
      .Bind(11, std::string_view(e.detail))
      .Run();
}

StatusOr<std::optional<JobEstimate>> JobTables::GetEstimate(const std::string& job_id) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT made_ms, basis, runs, cost_micros, cost_low_micros, "
                                       "cost_high_micros, best_cost_micros, gpu_ns, duration_ms, detail "
                                       "FROM job_estimates WHERE job_id = ?"));
  q.Bind(1, std::string_view(job_id));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<JobEstimate>();
  return std::optional<JobEstimate>(JobEstimate{job_id, q.Int(0), q.Text(1), static_cast<int>(q.Int(2)),
                                                q.Int(3), q.Int(4), q.Int(5), q.Int(6), q.Int(7), q.Int(8),
                                                q.Text(9)});
}

Status JobTables::PutJobGpuMemory(const std::vector<JobGpuMemory>& rows) {
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(Stmt job, db_.Prepare("SELECT 1 FROM jobs WHERE id = ?"));
  ASSIGN_OR_RETURN(Stmt gpu, db_.Prepare("SELECT 1 FROM gpus WHERE uuid = ?"));
  ASSIGN_OR_RETURN(Stmt ins,
                   db_.Prepare("INSERT INTO job_gpu_memory VALUES (?,?,?,?,?) ON CONFLICT (job_id, gpu_uuid) "
                               "DO UPDATE SET peak_mib = max(peak_mib, excluded.peak_mib), "
                               "first_ms = min(first_ms, excluded.first_ms), "
                               "last_ms = max(last_ms, excluded.last_ms)"));
  for (const JobGpuMemory& m : rows) {
    job.Reset();
    job.Bind(1, std::string_view(m.job_id));
    ASSIGN_OR_RETURN(bool has_job, job.Step());
    if (!has_job) return NotFound("no job '" + m.job_id + "' to keep GPU memory for");
    gpu.Reset();
    gpu.Bind(1, std::string_view(m.gpu_uuid));
    ASSIGN_OR_RETURN(bool has_gpu, gpu.Step());
    if (!has_gpu) return NotFound("job '" + m.job_id + "': no GPU '" + m.gpu_uuid + "'; register it first");
    RETURN_IF_ERROR(ins.Bind(1, std::string_view(m.job_id))
                        .Bind(2, std::string_view(m.gpu_uuid))
                        .Bind(3, m.peak_mib)
                        .Bind(4, m.first_ms)
                        .Bind(5, m.last_ms)
                        .Run());
  }
  return tx.Commit();
}

StatusOr<std::vector<JobGpuMemory>> JobTables::GetJobGpuMemory(const std::string& job_id) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT gpu_uuid, peak_mib, first_ms, last_ms FROM job_gpu_memory "
                                       "WHERE job_id = ? ORDER BY gpu_uuid"));
  q.Bind(1, std::string_view(job_id));
  std::vector<JobGpuMemory> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({job_id, q.Text(0), q.Int(1), q.Int(2), q.Int(3)});
  }
  return out;
}

}  // namespace gpuledger::sqlite
