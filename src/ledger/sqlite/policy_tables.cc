#include "ledger/sqlite/policy_tables.h"

#include <algorithm>

namespace gpuledger::sqlite {

namespace {
constexpr const char* kPauseColumns =
    "SELECT id, job_id, paused_ms, resumed_ms, mode, gpus_freed, resume_command, cause_key, requested_by "
    "FROM job_pauses ";

constexpr const char* kDecisionColumns =
    "SELECT id, job_id, rule, cause_key, action, dry_run, at_ms, data FROM policy_decisions ";

PolicyDecisionRow DecisionFromRow(const Stmt& q) {
  PolicyDecisionRow d;
  d.id = q.Int(0);
  d.job_id = q.Text(1);
  d.rule = q.Text(2);
  d.cause_key = q.Text(3);
  d.action = q.Text(4);
  d.dry_run = q.Int(5) != 0;
  d.at_ms = q.Int(6);
  d.data_json = q.Text(7);
  return d;
}

JobPause PauseFromRow(const Stmt& q) {
  JobPause p;
  p.id = q.Int(0);
  p.job_id = q.Text(1);
  p.paused_ms = q.Int(2);
  p.resumed_ms = q.Int(3);
  p.mode = q.Text(4);
  p.gpus_freed = q.Int(5) != 0;
  p.resume_command = q.Text(6);
  p.cause_key = q.Text(7);
  p.requested_by = q.Text(8);
  return p;
}
}  // namespace

Status PolicyTables::CheckJob(const std::string& job_id) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT 1 FROM jobs WHERE id = ?"));
  q.Bind(1, std::string_view(job_id));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound("no job '" + job_id + "'");
  return OkStatus();
}

StatusOr<bool> PolicyTables::PutDecision(PolicyDecisionRow& d) {
  RETURN_IF_ERROR(CheckJob(d.job_id));
  // ON CONFLICT names the key: OR IGNORE would also swallow a CHECK failure (a bad action).
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("INSERT INTO policy_decisions (job_id, rule, cause_key, action, dry_run, "
                               "at_ms, data) VALUES (?,?,?,?,?,?,?) ON CONFLICT (cause_key) DO NOTHING"));
  RETURN_IF_ERROR(q.Bind(1, std::string_view(d.job_id))
                      .Bind(2, std::string_view(d.rule))
                      .Bind(3, std::string_view(d.cause_key))
                      .Bind(4, std::string_view(d.action))
                      .Bind(5, int64_t{d.dry_run ? 1 : 0})
                      .Bind(6, d.at_ms)
                      .Bind(7, std::string_view(d.data_json))
                      .Run()
                      .WithContext("decision '" + d.cause_key + "' (action '" + d.action +
                                   "': warn, pause, stop or notify)"));
  if (sqlite3_changes(db_.raw()) == 0) return false;  // this cause was decided before
  d.id = sqlite3_last_insert_rowid(db_.raw());
  return true;
}

StatusOr<std::vector<PolicyDecisionRow>> PolicyTables::ListDecisions(const std::string& job_id,
                                                                     TimeMs from_ms, size_t limit) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare(std::string(kDecisionColumns) +
                               "WHERE (? = '' OR job_id = ?) AND at_ms >= ? ORDER BY at_ms, id LIMIT ?"));
  q.Bind(1, std::string_view(job_id))
      .Bind(2, std::string_view(job_id))
      .Bind(3, from_ms)
      .Bind(4, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
  std::vector<PolicyDecisionRow> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(DecisionFromRow(q));
  }
  return out;
}

StatusOr<std::optional<PolicyDecisionRow>> PolicyTables::GetDecision(const std::string& cause_key) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(std::string(kDecisionColumns) + "WHERE cause_key = ?"));
  q.Bind(1, std::string_view(cause_key));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<PolicyDecisionRow>();
  return std::optional<PolicyDecisionRow>(DecisionFromRow(q));
}

Status PolicyTables::PutPause(JobPause& p) {
  RETURN_IF_ERROR(CheckJob(p.job_id));
  ASSIGN_OR_RETURN(std::optional<JobPause> open, OpenPause(p.job_id));
  if (open)
    return FailedPrecondition("job '" + p.job_id + "' is paused already (since " +
                              FormatTime(open->paused_ms) + ")");
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("INSERT INTO job_pauses (job_id, paused_ms, resumed_ms, mode, gpus_freed, "
                               "resume_command, cause_key, requested_by) VALUES (?,?,0,?,?,?,?,?)"));
  RETURN_IF_ERROR(q.Bind(1, std::string_view(p.job_id))
                      .Bind(2, p.paused_ms)
                      .Bind(3, std::string_view(p.mode))
                      .Bind(4, int64_t{p.gpus_freed ? 1 : 0})
                      .Bind(5, std::string_view(p.resume_command))
                      .Bind(6, std::string_view(p.cause_key))
                      .Bind(7, std::string_view(p.requested_by))
                      .Run());
  p.id = sqlite3_last_insert_rowid(db_.raw());
  p.resumed_ms = 0;
  return OkStatus();
}

StatusOr<std::optional<JobPause>> PolicyTables::OpenPause(const std::string& job_id) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(std::string(kPauseColumns) +
                                       "WHERE job_id = ? AND resumed_ms = 0 ORDER BY id DESC LIMIT 1"));
  q.Bind(1, std::string_view(job_id));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<JobPause>();
  return std::optional<JobPause>(PauseFromRow(q));
}

Status PolicyTables::EndPause(const std::string& job_id, TimeMs resumed_ms) {
  ASSIGN_OR_RETURN(std::optional<JobPause> open, OpenPause(job_id));
  if (!open) return NotFound("job '" + job_id + "' is not paused");
  if (resumed_ms < open->paused_ms)
    return InvalidArgument("resume time " + FormatTime(resumed_ms) + " is before the pause at " +
                           FormatTime(open->paused_ms));
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("UPDATE job_pauses SET resumed_ms = ? WHERE id = ?"));
  // A resume in the same millisecond as its pause still closes it (resumed_ms 0 means open).
  return q.Bind(1, std::max<TimeMs>(resumed_ms, 1)).Bind(2, open->id).Run();
}

StatusOr<std::vector<JobPause>> PolicyTables::ListPauses(const std::string& job_id) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare(std::string(kPauseColumns) + "WHERE job_id = ? ORDER BY paused_ms, id"));
  q.Bind(1, std::string_view(job_id));
  std::vector<JobPause> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(PauseFromRow(q));
  }
  return out;
}

StatusOr<std::vector<JobPause>> PolicyTables::PausesOverlapping(Window w) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(std::string(kPauseColumns) +
                                       "WHERE paused_ms < ? AND (resumed_ms = 0 OR resumed_ms > ?) "
                                       "ORDER BY job_id, paused_ms, id"));
  q.Bind(1, w.end).Bind(2, w.start);
  std::vector<JobPause> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(PauseFromRow(q));
  }
  return out;
}

}  // namespace gpuledger::sqlite

namespace gpuledger::sqlite {

namespace {

// Runs an UPDATE or DELETE of one row; NotFound naming `what` when it touched none.
Status ChangeOne(Db& db, Stmt q, const std::string& what) {
  RETURN_IF_ERROR(q.Run());
  if (sqlite3_changes(db.raw()) == 0) return NotFound("no " + what);
  return OkStatus();
}

}  // namespace

Status PolicyTables::SettlePause(const JobPause& p) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("UPDATE job_pauses SET gpus_freed = ?, resume_command = ? WHERE id = ?"));
  q.Bind(1, int64_t{p.gpus_freed ? 1 : 0}).Bind(2, std::string_view(p.resume_command)).Bind(3, p.id);
  return ChangeOne(db_, std::move(q), "pause " + std::to_string(p.id));
}

Status PolicyTables::DeletePause(int64_t pause_id) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("DELETE FROM job_pauses WHERE id = ?"));
  q.Bind(1, pause_id);
  return ChangeOne(db_, std::move(q), "pause " + std::to_string(pause_id));
}

Status PolicyTables::SetDecisionData(const std::string& cause_key, const std::string& data_json) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("UPDATE policy_decisions SET data = ? WHERE cause_key = ?"));
  q.Bind(1, std::string_view(data_json)).Bind(2, std::string_view(cause_key));
  return ChangeOne(db_, std::move(q), "decision '" + cause_key + "'");
}

Status PolicyTables::DeleteDecision(const std::string& cause_key) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("DELETE FROM policy_decisions WHERE cause_key = ?"));
  q.Bind(1, std::string_view(cause_key));
  return ChangeOne(db_, std::move(q), "decision '" + cause_key + "'");
}

}  // namespace gpuledger::sqlite
