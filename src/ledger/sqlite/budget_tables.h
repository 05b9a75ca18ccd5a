// The SQLite ledger's budgets (ledger/budgets.h, migration 0019): budgets and the
// organisation's budget gate mode. Calls run on the ledger's connection, inside the
// caller's transaction where there is one. Not thread-safe (one Db).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/budgets.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

class BudgetTables {
 public:
  explicit BudgetTables(Db& db) : db_(db) {}

  Status PutBudget(const BudgetRecord& b);
  StatusOr<std::vector<BudgetRecord>> ListBudgets();
  StatusOr<bool> DeleteBudget(BudgetScope scope, const std::string& name, std::optional<YearMonth> month);
  StatusOr<BudgetGateSetting> GetBudgetGate();
  Status SetBudgetGate(const BudgetGateSetting& g);
  StatusOr<bool> PutBudgetAlert(const BudgetAlertRow& a);
  StatusOr<std::vector<BudgetAlertRow>> ListBudgetAlerts(YearMonth month);

 private:
  Db& db_;
};

}  // namespace gpuledger::sqlite
