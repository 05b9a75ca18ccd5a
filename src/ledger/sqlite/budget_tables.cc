#include "ledger/sqlite/budget_tables.h"

#include "ledger/budget_rows.h"

namespace gpuledger::sqlite {

Status BudgetTables::PutBudget(const BudgetRecord& b) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("INSERT OR REPLACE INTO budgets (scope, name, month, amount_minor, currency, "
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
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT scope, name, month, amount_minor, currency, set_by, set_ms FROM "
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
  RETURN_IF_ERROR(q.Bind(1, BudgetScopeName(scope)).Bind(2, std::string_view(name)).Bind(3, std::string_view(m)).Run());
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

}  // namespace gpuledger::sqlite
