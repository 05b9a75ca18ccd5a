#include "ledger/sqlite/close_tables.h"

namespace gpuledger::sqlite {

namespace {
std::string Columns(bool with_body) {
  return std::string(
             "SELECT month, state, closed_ms, closed_by, reopened_ms, reopened_by, reopen_reason, "
             "total_micros, checksum, ") +
         (with_body ? "body" : "''") + " FROM month_closes ";
}
}  // namespace

Status CloseTables::PutMonthClose(const MonthClose& c) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("INSERT OR REPLACE INTO month_closes (month, state, closed_ms, closed_by, "
                               "reopened_ms, reopened_by, reopen_reason, total_micros, checksum, body) "
                               "VALUES (?,?,?,?,?,?,?,?,?,?)"));
  return q.Bind(1, std::string_view(c.month))
      .Bind(2, std::string_view(c.closed ? "closed" : "open"))
      .Bind(3, c.closed_ms)
      .Bind(4, std::string_view(c.closed_by))
      .Bind(5, c.reopened_ms)
      .Bind(6, std::string_view(c.reopened_by))
      .Bind(7, std::string_view(c.reopen_reason))
      .Bind(8, c.total_micros)
      .Bind(9, std::string_view(c.checksum))
      .Bind(10, std::string_view(c.body))
      .Run()
      .WithContext("close of month " + c.month);
}

StatusOr<std::optional<MonthClose>> CloseTables::GetMonthClose(const std::string& month) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(Columns(true) + "WHERE month = ?"));
  q.Bind(1, std::string_view(month));
  ASSIGN_OR_RETURN(std::vector<MonthClose> rows, Read(q));
  if (rows.empty()) return std::optional<MonthClose>();
  return std::optional<MonthClose>(std::move(rows.front()));
}

StatusOr<std::vector<MonthClose>> CloseTables::ListMonthCloses(bool with_body) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(Columns(with_body) + "ORDER BY month"));
  return Read(q);
}

StatusOr<std::vector<MonthClose>> CloseTables::Read(Stmt& q) {
  std::vector<MonthClose> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    MonthClose c;
    c.month = q.Text(0);
    c.closed = q.Text(1) == "closed";
    c.closed_ms = q.Int(2);
    c.closed_by = q.Text(3);
    c.reopened_ms = q.Int(4);
    c.reopened_by = q.Text(5);
    c.reopen_reason = q.Text(6);
    c.total_micros = q.Int(7);
    c.checksum = q.Text(8);
    c.body = q.Text(9);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace gpuledger::sqlite
