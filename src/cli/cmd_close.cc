// gpuledger close | reopen | months: the monthly close from the command line (report/close.h).
#include <ostream>

#include "cli/commands.h"
#include "cli/read_books.h"
#include "common/strings.h"
#include "report/close.h"

namespace gpuledger {

namespace {

AuditEntry CliAudit(const std::string& action) {
  AuditEntry e;
  e.role = "cli";
  e.action = action;
  e.remote = CliRemote();
  return e;
}

}  // namespace

Status CmdClose(const CloseArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(YearMonth month, ParseYearMonth(a.month));
  ASSIGN_OR_RETURN(MonthClose c, CloseMonth(*o.ledger, o.ctx, month, clock.Now(), CliAudit("close month")));
  out << "closed " << c.month << ": total "
      << FormatMicros(c.total_micros, o.ctx.prices.currency().minor_digits) << " "
      << o.ctx.prices.currency().code << ", checksum " << c.checksum << "\n";
  return OkStatus();
}

Status CmdReopen(const CloseArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(YearMonth month, ParseYearMonth(a.month));
  ASSIGN_OR_RETURN(MonthClose c,
                   ReopenMonth(*o.ledger, month, clock.Now(), CliAudit("reopen month"), a.reason));
  out << "reopened " << c.month << " (closed at " << FormatTime(c.closed_ms) << ", checksum " << c.checksum
      << "): its books follow the ledger again\n";
  return OkStatus();
}

Status CmdMonths(const CloseArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(OpenedBooks o, OpenBooks(a.db));
  ASSIGN_OR_RETURN(std::vector<MonthState> months, ListMonthStates(*o.ledger, o.ctx, clock.Now()));
  const Currency& cur = o.ctx.prices.currency();
  if (a.format == "json") {
    out << RenderMonthStatesJson(months, cur);
    return OkStatus();
  }
  out << "month    state     closed at             total (" << cur.code << ")  checksum\n";
  for (const MonthState& m : months) {
    std::string line = m.month.ToString() + "  " + m.state;
    line.resize(19, ' ');
    if (m.record) {
      std::string at = FormatTime(m.record->closed_ms);
      at.resize(22, ' ');
      std::string total = FormatMicros(m.record->total_micros, cur.minor_digits);
      if (total.size() < 12) total.insert(0, 12 - total.size(), ' ');
      line += at + total + "  " + m.record->checksum.substr(0, 16);
      if (m.state == "reopened")
        line += "  (reopened " + FormatTime(m.record->reopened_ms) + ": " + m.record->reopen_reason + ")";
    }
    out << line << "\n";
  }
  return OkStatus();
}

}  // namespace gpuledger
