#include "ledger/postgres/policy_tables.h"

#include <algorithm>

namespace gpuledger::pg {

namespace {
constexpr const char* kPauseColumns =
    "SELECT id, job_id, paused_ms, resumed_ms, mode, gpus_freed, resume_command, cause_key, requested_by "
    "FROM job_pauses ";

constexpr const char* kDecisionColumns =
    "SELECT id, job_id, rule, cause_key, action, dry_run, at_ms, data FROM policy_decisions ";

PolicyDecisionRow DecisionFromRow(const Result& r, int row) {
  PolicyDecisionRow d;
  d.id = r.Int(row, 0);
  d.job_id = r.Text(row, 1);
  d.rule = r.Text(row, 2);
  d.cause_key = r.Text(row, 3);
  d.action = r.Text(row, 4);
  d.dry_run = r.Int(row, 5) != 0;
  d.at_ms = r.Int(row, 6);
  d.data_json = r.Text(row, 7);
  return d;
}

JobPause PauseFromRow(const Result& r, int row) {
  JobPause p;
  p.id = r.Int(row, 0);
  p.job_id = r.Text(row, 1);
  p.paused_ms = r.Int(row, 2);
  p.resumed_ms = r.Int(row, 3);
  p.mode = r.Text(row, 4);
  p.gpus_freed = r.Int(row, 5) != 0;
  p.resume_command = r.Text(row, 6);
  p.cause_key = r.Text(row, 7);
  p.requested_by = r.Text(row, 8);
  return p;
}
}  // namespace

Status PolicyTables::CheckJob(const std::string& job_id) {
  ASSIGN_OR_RETURN(Result have, c_.Exec("SELECT 1 FROM jobs WHERE id = $1", {P(job_id)}));
  if (have.rows() == 0) return NotFound("no job '" + job_id + "'");
  return OkStatus();
}

StatusOr<bool> PolicyTables::PutDecision(PolicyDecisionRow& d) {
  RETURN_IF_ERROR(CheckJob(d.job_id));
  auto r = c_.Exec(
      "INSERT INTO policy_decisions (job_id, rule, cause_key, action, dry_run, at_ms, data) VALUES "
      "($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (cause_key) DO NOTHING RETURNING id",
      {P(d.job_id), P(d.rule), P(d.cause_key), P(d.action), P(int64_t{d.dry_run ? 1 : 0}), P(d.at_ms),
       P(d.data_json)});
  if (!r.ok())
    return r.status().WithContext("decision '" + d.cause_key + "' (action '" + d.action +
                                  "': warn, pause, stop or notify)");
  if (r->rows() == 0) return false;  // this cause was decided before
  d.id = r->Int(0, 0);
  return true;
}

StatusOr<std::vector<PolicyDecisionRow>> PolicyTables::ListDecisions(const std::string& job_id,
                                                                     TimeMs from_ms, size_t limit) {
  ASSIGN_OR_RETURN(
      Result r,
      c_.Exec(std::string(kDecisionColumns) +
                  "WHERE ($1 = '' OR job_id = $1) AND at_ms >= $2 ORDER BY at_ms, id LIMIT $3",
              {P(job_id), P(from_ms), P(limit == 0 ? int64_t{1} << 62 : static_cast<int64_t>(limit))}));
  std::vector<PolicyDecisionRow> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) {
    out.push_back(DecisionFromRow(r, row));
  }
  return out;
}

StatusOr<std::optional<PolicyDecisionRow>> PolicyTables::GetDecision(const std::string& cause_key) {
  ASSIGN_OR_RETURN(Result r, c_.Exec(std::string(kDecisionColumns) + "WHERE cause_key = $1", {P(cause_key)}));
  if (r.rows() == 0) return std::optional<PolicyDecisionRow>();
  return std::optional<PolicyDecisionRow>(DecisionFromRow(r, 0));
}

Status PolicyTables::PutPause(JobPause& p) {
  RETURN_IF_ERROR(CheckJob(p.job_id));
  ASSIGN_OR_RETURN(std::optional<JobPause> open, OpenPause(p.job_id));
  if (open)
    return FailedPrecondition("job '" + p.job_id + "' is paused already (since " +
                              FormatTime(open->paused_ms) + ")");
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec("INSERT INTO job_pauses (job_id, paused_ms, resumed_ms, mode, gpus_freed, "
                           "resume_command, cause_key, requested_by) VALUES ($1,$2,0,$3,$4,$5,$6,$7) "
                           "RETURNING id",
                           {P(p.job_id), P(p.paused_ms), P(p.mode), P(int64_t{p.gpus_freed ? 1 : 0}),
                            P(p.resume_command), P(p.cause_key), P(p.requested_by)}));
  p.id = r.Int(0, 0);
  p.resumed_ms = 0;
  return OkStatus();
}

StatusOr<std::optional<JobPause>> PolicyTables::OpenPause(const std::string& job_id) {
  ASSIGN_OR_RETURN(Result r, c_.Exec(std::string(kPauseColumns) +
                                         "WHERE job_id = $1 AND resumed_ms = 0 ORDER BY id DESC LIMIT 1",
                                     {P(job_id)}));
  if (r.rows() == 0) return std::optional<JobPause>();
  return std::optional<JobPause>(PauseFromRow(r, 0));
}

Status PolicyTables::EndPause(const std::string& job_id, TimeMs resumed_ms) {
  ASSIGN_OR_RETURN(std::optional<JobPause> open, OpenPause(job_id));
  if (!open) return NotFound("job '" + job_id + "' is not paused");
  if (resumed_ms < open->paused_ms)
    return InvalidArgument("resume time " + FormatTime(resumed_ms) + " is before the pause at " +
                           FormatTime(open->paused_ms));
  // A resume in the same millisecond as its pause still closes it (resumed_ms 0 means open).
  return c_
      .Exec("UPDATE job_pauses SET resumed_ms = $1 WHERE id = $2",
            {P(std::max<TimeMs>(resumed_ms, 1)), P(open->id)})
      .status();
}

StatusOr<std::vector<JobPause>> PolicyTables::ListPauses(const std::string& job_id) {
  ASSIGN_OR_RETURN(Result r, c_.Exec(std::string(kPauseColumns) + "WHERE job_id = $1 ORDER BY paused_ms, id",
                                     {P(job_id)}));
  std::vector<JobPause> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(PauseFromRow(r, row));
  return out;
}

StatusOr<std::vector<JobPause>> PolicyTables::PausesOverlapping(Window w) {
  ASSIGN_OR_RETURN(Result r, c_.Exec(std::string(kPauseColumns) +
                                         "WHERE paused_ms < $1 AND (resumed_ms = 0 OR resumed_ms > $2) "
                                         "ORDER BY job_id COLLATE \"C\", paused_ms, id",
                                     {P(w.end), P(w.start)}));
  std::vector<JobPause> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(PauseFromRow(r, row));
  return out;
}

}  // namespace gpuledger::pg

namespace gpuledger::pg {

namespace {

// An UPDATE or DELETE of one row; NotFound naming `what` when it touched none.
Status OneRow(StatusOr<Result> r, const std::string& what) {
  RETURN_IF_ERROR(r.status());
  if (r->affected() == 0) return NotFound("no " + what);
  return OkStatus();
}

}  // namespace

Status PolicyTables::SettlePause(const JobPause& p) {
  return OneRow(c_.Exec("UPDATE job_pauses SET gpus_freed = $1, resume_command = $2 WHERE id = $3",
                        {P(int64_t{p.gpus_freed ? 1 : 0}), P(p.resume_command), P(p.id)}),
                "pause " + std::to_string(p.id));
}

Status PolicyTables::DeletePause(int64_t pause_id) {
  return OneRow(c_.Exec("DELETE FROM job_pauses WHERE id = $1", {P(pause_id)}),
                "pause " + std::to_string(pause_id));
}

Status PolicyTables::SetDecisionData(const std::string& cause_key, const std::string& data_json) {
  return OneRow(
      c_.Exec("UPDATE policy_decisions SET data = $1 WHERE cause_key = $2", {P(data_json), P(cause_key)}),
      "decision '" + cause_key + "'");
}

Status PolicyTables::DeleteDecision(const std::string& cause_key) {
  return OneRow(c_.Exec("DELETE FROM policy_decisions WHERE cause_key = $1", {P(cause_key)}),
                "decision '" + cause_key + "'");
}

}  // namespace gpuledger::pg
