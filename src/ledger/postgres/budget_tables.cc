#include "ledger/postgres/budget_tables.h"

#include "ledger/budget_rows.h"

namespace gpuledger::pg {

Status BudgetTables::PutBudget(const BudgetRecord& b) {
  return c_
      .Exec(
          "INSERT INTO budgets (scope, name, month, amount_minor, currency, set_by, set_ms) VALUES "
          "($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (scope, name, month) DO UPDATE SET amount_minor = "
          "EXCLUDED.amount_minor, currency = EXCLUDED.currency, set_by = EXCLUDED.set_by, set_ms = "
          "EXCLUDED.set_ms",
          {P(BudgetScopeName(b.scope)), P(b.name), P(BudgetMonthText(b.month)), P(b.amount_minor),
           P(b.currency), P(b.set_by), P(b.set_ms)})
      .status()
      .WithContext("budget of " + std::string(BudgetScopeName(b.scope)) + " '" + b.name + "'");
}

StatusOr<std::vector<BudgetRecord>> BudgetTables::ListBudgets() {
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT scope, name, month, amount_minor, currency, set_by, set_ms FROM "
                                     "budgets ORDER BY scope DESC, name COLLATE \"C\", month = 'every' DESC, "
                                     "month",
                                     {}));
  std::vector<BudgetRecord> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    BudgetRecord b;
    const std::optional<BudgetScope> scope = ParseBudgetScope(r.Text(i, 0));
    if (!scope) return Internal("budget row with scope '" + r.Text(i, 0) + "'");
    b.scope = *scope;
    b.name = r.Text(i, 1);
    ASSIGN_OR_RETURN(b.month, ParseBudgetMonthText(r.Text(i, 2)));
    b.amount_minor = r.Int(i, 3);
    b.currency = r.Text(i, 4);
    b.set_by = r.Text(i, 5);
    b.set_ms = r.Int(i, 6);
    out.push_back(std::move(b));
  }
  return out;
}

StatusOr<bool> BudgetTables::DeleteBudget(BudgetScope scope, const std::string& name,
                                          std::optional<YearMonth> month) {
  ASSIGN_OR_RETURN(Result r, c_.Exec("DELETE FROM budgets WHERE scope = $1 AND name = $2 AND month = $3",
                                     {P(BudgetScopeName(scope)), P(name), P(BudgetMonthText(month))}));
  return r.affected() > 0;
}

StatusOr<BudgetGateSetting> BudgetTables::GetBudgetGate() {
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT mode, set_by, set_ms FROM budget_gate WHERE id = 1", {}));
  BudgetGateSetting g;
  if (r.rows() == 0) return g;
  const std::optional<BudgetGateMode> mode = ParseBudgetGateMode(r.Text(0, 0));
  if (!mode) return Internal("budget gate mode '" + r.Text(0, 0) + "'");
  g.mode = *mode;
  g.set_by = r.Text(0, 1);
  g.set_ms = r.Int(0, 2);
  return g;
}

Status BudgetTables::SetBudgetGate(const BudgetGateSetting& g) {
  return c_
      .Exec(
          "INSERT INTO budget_gate (id, mode, set_by, set_ms) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO "
          "UPDATE SET mode = EXCLUDED.mode, set_by = EXCLUDED.set_by, set_ms = EXCLUDED.set_ms",
          {P(BudgetGateModeName(g.mode)), P(g.set_by), P(g.set_ms)})
      .status();
}

StatusOr<bool> BudgetTables::PutBudgetAlert(const BudgetAlertRow& a) {
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec("INSERT INTO budget_alerts (cause_key, scope, name, month, event, at_ms, data) "
                           "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (cause_key) DO NOTHING",
                           {P(a.cause_key), P(BudgetScopeName(a.scope)), P(a.name), P(a.month.ToString()),
                            P(a.event), P(a.at_ms), P(a.data_json)}));
  return r.affected() > 0;
}

StatusOr<std::vector<BudgetAlertRow>> BudgetTables::ListBudgetAlerts(YearMonth month) {
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec("SELECT cause_key, scope, name, event, at_ms, data FROM budget_alerts WHERE "
                           "month = $1 ORDER BY at_ms, cause_key COLLATE \"C\"",
                           {P(month.ToString())}));
  std::vector<BudgetAlertRow> out;
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    BudgetAlertRow a;
    a.cause_key = r.Text(i, 0);
    const std::optional<BudgetScope> scope = ParseBudgetScope(r.Text(i, 1));
    if (!scope) return Internal("budget alert row with scope '" + r.Text(i, 1) + "'");
    a.scope = *scope;
    a.name = r.Text(i, 2);
    a.month = month;
    a.event = r.Text(i, 3);
    a.at_ms = r.Int(i, 4);
    a.data_json = r.Text(i, 5);
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace gpuledger::pg
