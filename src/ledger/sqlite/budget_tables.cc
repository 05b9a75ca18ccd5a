#include "ledger/sqlite/budget_tables.h"

#include "ledger/budget_rows.h"

namespace gpuledger::sqlite {

Status BudgetTables::PutBudget(const BudgetRecord& b) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("INSERT OR REPLACE INTO budgets (scope, name, month, amount_minor, currency, "
                               "set_by, set_ms) VALUES (?,?,?,?,?,?,?)"));
  const std::string month = BudgetMonthText(b.month);
  return q.Bind(1, BudgetScopeName(b.scope))
      .Bind(2, std::string_view(b.name))
      .Bind(3, std::string_view(month))
      .Bind(4, b.amount_minor)
      .Bind(5, std::string_view(b.currency))
      .Bind(6, std::string_view(b.set_by))
      .Bind(7, b.set_ms)
      .Run()
      .WithContext("budget of " + std::string(BudgetScopeName(b.scope)) + " '" + b.name + "'");
}

StatusOr<std::vector<BudgetRecord>> BudgetTables::ListBudgets() {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("SELECT scope, name, month, amount_minor, currency, set_by, set_ms FROM "
                               "budgets ORDER BY scope DESC, name, month = 'every' DESC, month"));
  std::vector<BudgetRecord> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    BudgetRecord b;
    const std::optional<BudgetScope> scope = ParseBudgetScope(q.Text(0));
    if (!scope) return Internal("budget row with scope '" + q.Text(0) + "'");
    b.scope = *scope;
    b.name = q.Text(1);
    ASSIGN_OR_RETURN(b.month, ParseBudgetMonthText(q.Text(2)));
    b.amount_minor = q.Int(3);
    b.currency = q.Text(4);
    b.set_by = q.Text(5);
    b.set_ms = q.Int(6);
    out.push_back(std::move(b));
  }
  return out;
}

StatusOr<bool> BudgetTables::DeleteBudget(BudgetScope scope, const std::string& name,
                                          std::optional<YearMonth> month) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("DELETE FROM budgets WHERE scope = ? AND name = ? AND month = ?"));
  const std::string m = BudgetMonthText(month);
  RETURN_IF_ERROR(
      q.Bind(1, BudgetScopeName(scope)).Bind(2, std::string_view(name)).Bind(3, std::string_view(m)).Run());
  return sqlite3_changes(db_.raw()) > 0;
}

StatusOr<BudgetGateSetting> BudgetTables::GetBudgetGate() {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT mode, set_by, set_ms FROM budget_gate WHERE id = 1"));
  ASSIGN_OR_RETURN(bool row, q.Step());
  BudgetGateSetting g;
  if (!row) return g;
  const std::optional<BudgetGateMode> mode = ParseBudgetGateMode(q.Text(0));
  if (!mode) return Internal("budget gate mode '" + q.Text(0) + "'");
  g.mode = *mode;
  g.set_by = q.Text(1);
  g.set_ms = q.Int(2);
  return g;
}

Status BudgetTables::SetBudgetGate(const BudgetGateSetting& g) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("INSERT OR REPLACE INTO budget_gate (id, mode, set_by, set_ms) VALUES "
                                       "(1, ?, ?, ?)"));
  return q.Bind(1, BudgetGateModeName(g.mode)).Bind(2, std::string_view(g.set_by)).Bind(3, g.set_ms).Run();
}

StatusOr<bool> BudgetTables::PutBudgetAlert(const BudgetAlertRow& a) {
  ASSIGN_OR_RETURN(
      Stmt q, db_.Prepare("INSERT INTO budget_alerts (cause_key, scope, name, month, event, at_ms, data) "
                          "VALUES (?,?,?,?,?,?,?) ON CONFLICT (cause_key) DO NOTHING"));
  const std::string month = a.month.ToString();
  RETURN_IF_ERROR(q.Bind(1, std::string_view(a.cause_key))
                      .Bind(2, BudgetScopeName(a.scope))
                      .Bind(3, std::string_view(a.name))
                      .Bind(4, std::string_view(month))
                      .Bind(5, std::string_view(a.event))
                      .Bind(6, a.at_ms)
                      .Bind(7, std::string_view(a.data_json))
                      .Run()
                      .WithContext("budget alert '" + a.cause_key + "'"));
  return sqlite3_changes(db_.raw()) > 0;
}

StatusOr<std::vector<BudgetAlertRow>> BudgetTables::ListBudgetAlerts(YearMonth month) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT cause_key, scope, name, event, at_ms, data FROM budget_alerts "
                                       "WHERE month = ? ORDER BY at_ms, cause_key"));
  const std::string m = month.ToString();
  q.Bind(1, std::string_view(m));
  std::vector<BudgetAlertRow> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    BudgetAlertRow a;
    a.cause_key = q.Text(0);
    const std::optional<BudgetScope> scope = ParseBudgetScope(q.Text(1));
    if (!scope) return Internal("budget alert row with scope '" + q.Text(1) + "'");
    a.scope = *scope;
    a.name = q.Text(2);
    a.month = month;
    a.event = q.Text(3);
    a.at_ms = q.Int(4);
    a.data_json = q.Text(5);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace gpuledger::sqlite
