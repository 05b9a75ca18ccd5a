// report, jobs and leaderboard: the commands that read the books.
#include "cli/commands.h"
#include "report/render.h"

namespace gpuledger {

namespace {
struct Opened {
  std::unique_ptr<Ledger> ledger;
  BooksContext ctx;
};
StatusOr<Opened> Open(const std::string& db) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenSqliteLedger(db));
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger));
  return Opened{std::move(ledger), std::move(ctx)};
}
}  // namespace

Status CmdReport(const ReportArgs& a, std::ostream& out) {
  ASSIGN_OR_RETURN(YearMonth month, ParseYearMonth(a.month));
  ASSIGN_OR_RETURN(GroupBy by, ParseGroupBy(a.by));
  ASSIGN_OR_RETURN(Opened o, Open(a.db));
  ASSIGN_OR_RETURN(MonthlyReport r, BuildMonthlyReport(*o.ledger, o.ctx, month, by, a.share_idle));
  if (a.format == "csv")
    out << RenderReportCsv(r);
  else if (a.format == "json")
    out << RenderReportJson(r);
  else
    out << RenderReportTable(r);
  return OkStatus();
}

Status CmdJobs(const ReportArgs& a, std::ostream& out) {
  ASSIGN_OR_RETURN(YearMonth month, ParseYearMonth(a.month));
  ASSIGN_OR_RETURN(Opened o, Open(a.db));
  ASSIGN_OR_RETURN(MonthlyReport r, BuildMonthlyReport(*o.ledger, o.ctx, month, GroupBy::kJob, false));
  ASSIGN_OR_RETURN(std::vector<Job> jobs, o.ledger->ListJobs());
  out << RenderJobs(r, jobs, a.format);
  return OkStatus();
}

Status CmdLeaderboard(const LeaderboardArgs& a, std::ostream& out) {
  std::optional<YearMonth> month;
  if (!a.month.empty()) {
    ASSIGN_OR_RETURN(month, ParseYearMonth(a.month));
  }
  ASSIGN_OR_RETURN(Opened o, Open(a.db));
  ASSIGN_OR_RETURN(Leaderboard lb, BuildLeaderboard(*o.ledger, o.ctx, month));
  out << (a.format == "json" ? RenderLeaderboardJson(lb) : RenderLeaderboardTable(lb));
  return OkStatus();
}

}  // namespace gpuledger
