#include "ledger/postgres/close_tables.h"

namespace gpuledger::pg {

namespace {
std::string Columns(bool with_body) {
  return std::string(
             "SELECT month, state, closed_ms, closed_by, reopened_ms, reopened_by, reopen_reason, "
             "total_micros, checksum, ") +
         (with_body ? "body" : "''") + " FROM month_closes ";
}
}  // namespace

Status CloseTables::PutMonthClose(const MonthClose& c) {
  return c_
      .Exec(
          "INSERT INTO month_closes (month, state, closed_ms, closed_by, reopened_ms, reopened_by, "
          "reopen_reason, total_micros, checksum, body) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) "
          "ON CONFLICT (month) DO UPDATE SET state = EXCLUDED.state, closed_ms = EXCLUDED.closed_ms, "
          "closed_by = EXCLUDED.closed_by, reopened_ms = EXCLUDED.reopened_ms, "
          "reopened_by = EXCLUDED.reopened_by, reopen_reason = EXCLUDED.reopen_reason, "
          "total_micros = EXCLUDED.total_micros, checksum = EXCLUDED.checksum, body = EXCLUDED.body",
          {P(c.month), P(std::string_view(c.closed ? "closed" : "open")), P(c.closed_ms), P(c.closed_by),
           P(c.reopened_ms), P(c.reopened_by), P(c.reopen_reason), P(c.total_micros), P(c.checksum),
           P(c.body)})
      .status()
      .WithContext("close of month " + c.month);
}

StatusOr<std::optional<MonthClose>> CloseTables::GetMonthClose(const std::string& month) {
  ASSIGN_OR_RETURN(Result r, c_.Exec(Columns(true) + "WHERE month = $1", {P(month)}));
  std::vector<MonthClose> rows = Read(r);
  if (rows.empty()) return std::optional<MonthClose>();
  return std::optional<MonthClose>(std::move(rows.front()));
}

StatusOr<std::vector<MonthClose>> CloseTables::ListMonthCloses(bool with_body) {
  ASSIGN_OR_RETURN(Result r, c_.Exec(Columns(with_body) + "ORDER BY month", {}));
  return Read(r);
}

std::vector<MonthClose> CloseTables::Read(const Result& r) {
  std::vector<MonthClose> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    MonthClose c;
    c.month = r.Text(i, 0);
    c.closed = r.Text(i, 1) == "closed";
    c.closed_ms = r.Int(i, 2);
    c.closed_by = r.Text(i, 3);
    c.reopened_ms = r.Int(i, 4);
    c.reopened_by = r.Text(i, 5);
    c.reopen_reason = r.Text(i, 6);
    c.total_micros = r.Int(i, 7);
    c.checksum = r.Text(i, 8);
    c.body = r.Text(i, 9);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace gpuledger::pg
