// report, jobs and leaderboard: the commands that read the books.
#include <algorithm>

#include "cli/commands.h"
#include "cli/read_books.h"
#include "common/tz.h"
#include "report/render.h"

namespace gpuledger {

StatusOr<OpenedBooks> OpenBooks(const std::string& db) {
  RETURN_IF_ERROR(LedgerExists(db));
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(db));
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger));
  return OpenedBooks{std::move(ledger), std::move(ctx)};
}

StatusOr<TimeMs> AsOfArg(const std::string& text, const Clock& clock) {
  if (text.empty()) return clock.Now();
  auto t = ParseTime(text);
  if (!t.ok()) return InvalidArgument("--as-of: " + t.status().message());
  // The books know nothing after now: a later as-of would read a month as whole.
  if (*t > clock.Now()) {
    return InvalidArgument("--as-of " + FormatTime(*t) + " is after now (" + FormatTime(clock.Now()) +
                           "): the books know nothing after now");
  }
  return *t;
}

StatusOr<YearMonth> MonthOrLast(const std::string& text, const TimeZone& tz, TimeMs as_of) {
  if (!text.empty()) return ParseYearMonth(text);
  ASSIGN_OR_RETURN(YearMonth now, tz.MonthOf(as_of));
  return now.Prev();
}

StatusOr<std::optional<DateRange>> RangeArgs(const std::string& from, const std::string& to,
                                             const std::string& grain, const std::string& month,
                                             const TimeZone& tz) {
  if (from.empty() && to.empty()) {
    if (!grain.empty()) return InvalidArgument("--grain " + grain + " needs a range: give --from and --to");
    return std::optional<DateRange>();
  }
  if (from.empty() || to.empty()) return InvalidArgument("a range needs both --from and --to");
  if (!month.empty()) return InvalidArgument("--month " + month + " and --from/--to: give one or the other");
  ASSIGN_OR_RETURN(Grain g, ParseGrain(grain.empty() ? "range" : grain));
  ASSIGN_OR_RETURN(DateRange r, MakeDateRange(tz, from, to, g));
  return std::optional<DateRange>(std::move(r));
}

Status CmdReport(const ReportArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(GroupBy by, ParseGroupBy(a.by));
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  if (a.share_idle_across_models && !a.share_idle) {
    return InvalidArgument("--share-idle-across-models needs --share-idle");
  }
  const IdlePools pools = a.share_idle_across_models ? IdlePools::kAcrossModels : IdlePools::kPerGpuModel;
  ASSIGN_OR_RETURN(std::optional<DateRange> range, RangeArgs(a.from, a.to, a.grain, a.month, o.ctx.tz));
  if (range) {
    ASSIGN_OR_RETURN(RangeReport rr,
                     BuildRangeReport(*o.ledger, o.ctx, *range, as_of, by, a.share_idle, {}, pools));
    if (a.format == "csv")
      out << RenderRangeCsv(rr);
    else if (a.format == "json")
      out << RenderRangeJson(rr);
    else
      out << RenderRangeTable(rr);
    return OkStatus();
  }
  ASSIGN_OR_RETURN(YearMonth month, MonthOrLast(a.month, o.ctx.tz, as_of));
  ASSIGN_OR_RETURN(MonthlyReport r,
                   BuildMonthlyReport(*o.ledger, o.ctx, month, as_of, by, a.share_idle, {}, pools));
  if (a.format == "csv")
    out << RenderReportCsv(r);
  else if (a.format == "json")
    out << RenderReportJson(r);
  else
    out << RenderReportTable(r);
  return OkStatus();
}

Status CmdJobs(const ReportArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ASSIGN_OR_RETURN(YearMonth month, MonthOrLast(a.month, o.ctx.tz, as_of));
  ASSIGN_OR_RETURN(MonthlyReport r, BuildMonthlyReport(*o.ledger, o.ctx, month, as_of, GroupBy::kJob, false));
  ASSIGN_OR_RETURN(std::vector<Job> jobs, o.ledger->ListJobs());
  out << RenderJobs(r, jobs, a.format);
  return OkStatus();
}

Status CmdSeries(const SeriesArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ASSIGN_OR_RETURN(YearMonth month, MonthOrLast(a.month, o.ctx.tz, as_of));
  ASSIGN_OR_RETURN(std::vector<Gpu> gpus, o.ledger->ListGpus());
  if (std::none_of(gpus.begin(), gpus.end(), [&](const Gpu& g) { return g.uuid == a.gpu; })) {
    return NotFound("no GPU '" + a.gpu + "' in " + a.db);
  }
  ASSIGN_OR_RETURN(MonthBooks books,
                   MonthUsage(*o.ledger, o.ctx, month, as_of));  // writes the minutes if stale
  ASSIGN_OR_RETURN(std::vector<MinuteRollup> rows, o.ledger->GetMinutes(a.gpu, books.window));
  out << RenderMinutes(a.gpu, rows, books.as_of, books.partial, a.format);
  return OkStatus();
}

Status CmdLeaderboard(const LeaderboardArgs& a, const Clock& clock, std::ostream& out) {
  std::optional<YearMonth> month;
  if (!a.month.empty()) {
    ASSIGN_OR_RETURN(month, ParseYearMonth(a.month));
  }
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(TimeMs as_of, AsOfArg(a.as_of, clock));
  ASSIGN_OR_RETURN(Leaderboard lb, BuildLeaderboard(*o.ledger, o.ctx, month, as_of));
  out << (a.format == "json" ? RenderLeaderboardJson(lb) : RenderLeaderboardTable(lb));
  return OkStatus();
}

}  // namespace gpuledger
