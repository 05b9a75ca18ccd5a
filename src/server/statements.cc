// Monthly statements sent on a schedule (#14; docs/NOTIFICATIONS.md "Monthly
// statements", docs/INSIGHT.md): the maintenance loop asks every round; once the notify
// config's `statements.day` at `statements.hour` has passed in the ledger's time zone,
// each project's statement of the month before (report/statement.h, the same as
// `gpuledger statement` and GET /api/v1/projects/{P}/statement) is built from the books
// and handed to the outbox in one transaction with its audit entry. The outbox keeps one
// notice per cause key (statement/<project>/<YYYY-MM>): a second round or a restart sends
// nobody a statement twice, and a crash after the commit leaves its delivery pending for
// the sender (the outbox's exactly-once, NOTIFICATIONS.md).
#include "common/money.h"
#include "notify/notify_service.h"
#include "notify/outbox_sink.h"
#include "report/statement.h"
#include "server/server.h"

namespace gpuledger {

Status Server::SendStatementsIfDue() {
  if (!notify_ || !notify_->config().statements.enabled) return OkStatus();
  const NotifyConfig& config = notify_->config();
  const StatementSchedule& schedule = config.statements;
  MutexLock lock(ledger_mu_);
  const TimeMs now = clock_.Now();
  int64_t enqueued = 0;
  YearMonth month;
  Status s = [&]() GL_REQUIRES(ledger_mu_) -> Status {
    ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger_));
    ctx.cache = &books_;
    ASSIGN_OR_RETURN(month, StatementMonthDue(ctx.tz, schedule.day, schedule.hour, now));
    if (statements_done_for_ == month) return OkStatus();  // once per month in this process
    RETURN_IF_ERROR(FlushJournalLocked());                 // every sample acknowledged for the month
    const TimeMs as_of = BooksAsOf(ctx, month);
    std::vector<std::string> projects = schedule.projects;
    if (schedule.all_projects) {
      // As BuildProjectStatement ranks them: the projects with cost or GPU time this month.
      ASSIGN_OR_RETURN(MonthlyReport cluster,
                       BuildMonthlyReport(*ledger_, ctx, month, as_of, GroupBy::kProject, false));
      for (const ReportLine& l : cluster.lines) {
        if (l.total_micros() > 0 || l.usage.gpu_ns != 0) projects.push_back(l.key);
      }
    }
    for (const std::string& project : projects) {
      Notice probe;
      probe.cause_key = StatementCauseKey(project, month);
      probe.event = "statement.monthly";
      probe.project = project;
      probe.audiences = {Audience::kStatement};
      // No channel for this project (a route by project without a default): nothing is
      // built or recorded for it.
      if (PlanDeliveries(config, probe, now).empty()) continue;
      ASSIGN_OR_RETURN(std::vector<OutboxDelivery> told, ledger_->ListDeliveries(probe.cause_key));
      if (!told.empty()) continue;  // recorded by an earlier round or run: sent, or on its way
      StatusOr<ProjectStatement> st = BuildProjectStatement(*ledger_, ctx, month, as_of, project);
      if (st.status().code() == StatusCode::kNotFound) continue;  // a project named, with no usage this month
      RETURN_IF_ERROR(st.status());
      const Notice n = StatementNotice(*st, now, kMaxFieldValueBytes);
      // The audit entry and the notice: both or neither; a failure is tried again next round.
      RETURN_IF_ERROR(ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
        AuditEntry e;
        e.at_ms = now;
        e.role = "notify";
        e.action = "statement sent";
        e.detail = "cause=" + n.cause_key + " project=" + project + " month=" + month.ToString() +
                   " cost=" + FormatMicros(st->cost_micros, st->currency.minor_digits) + " " +
                   st->currency.code + " as_of=" + FormatTime(as_of);
        e.remote = "statement schedule";
        RETURN_IF_ERROR(ledger_->AppendAudit(e));
        return notify_->sink().Enqueue(n);
      }));
      ++enqueued;
    }
    statements_done_for_ = month;
    return OkStatus();
  }();
  statements_log_.Record(s);
  background_errors_.Record("statements", s, now);
  if (s.ok() && enqueued > 0) {
    log_.Info("statements_queued", {{"month", month.ToString()}, {"projects", enqueued}});
  }
  return s;
}

}  // namespace gpuledger
