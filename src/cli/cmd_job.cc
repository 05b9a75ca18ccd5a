// job end and job set: an operator ends or corrects one job (server/job_update.h has the
// rules; the CLI writes the ledger directly, so it may correct a finished job as an
// admin may). Audited as role "cli".
#include "cli/commands.h"
#include "ledger/ledger.h"
#include "server/job_update.h"

namespace gpuledger {

namespace {

StatusOr<TimeMs> TimeFlag(const std::string& text, const char* flag) {
  auto t = ParseTime(text);
  if (!t.ok()) return InvalidArgument(std::string(flag) + ": " + t.status().message());
  return t;
}

}  // namespace

Status CmdJobUpdate(const JobUpdateArgs& a, const Clock& clock, std::ostream& out) {
  JobUpdate u;
  if (!a.status.empty()) {
    ASSIGN_OR_RETURN(u.status, ParseJobStatus(a.status));
  }
  if (a.end_command) {
    if (!u.status) u.status = JobStatus::kSucceeded;
    if (!IsFinished(*u.status)) {
      return InvalidArgument("--status " + a.status + ": a job ends succeeded, failed or cancelled");
    }
  }
  if (!a.start.empty()) {
    ASSIGN_OR_RETURN(u.start_ms, TimeFlag(a.start, "--start"));
  }
  if (!a.end.empty()) {
    ASSIGN_OR_RETURN(u.end_ms, TimeFlag(a.end, a.end_command ? "--at" : "--end"));
  }
  for (const auto& [k, v] : a.fields) {
    if (!v.empty()) u.fields[k] = v;
  }
  if (u.empty())
    return InvalidArgument("nothing to change: give --status, --start, --end or a field to correct");
  RETURN_IF_ERROR(LedgerExists(a.db));
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  const TimeMs now = clock.Now();
  StatusOr<JobUpdateResult> done = Internal("job update did not run");
  RETURN_IF_ERROR(ledger->InTransaction([&]() -> Status {
    done = UpdateJob(*ledger, a.id, u, /*correct_finished=*/true, now);
    RETURN_IF_ERROR(done.status());
    return AuditCli(*ledger, now, a.end_command ? "gpuledger job end" : "gpuledger job set",
                    "job=" + a.id + " status=" + std::string(JobStatusName(done->job.status)) +
                        (done->job.end_ms ? " end=" + FormatTime(done->job.end_ms) : ""));
  }));
  out << "job " << a.id << ": " << JobStatusName(done->job.status);
  if (done->job.end_ms) out << ", ended " << FormatTime(done->job.end_ms);
  out << "; " << done->allocations_ended << " allocation(s) ended with it\n";
  return OkStatus();
}

}  // namespace gpuledger
