// The budgets' stored rows (docs/BUDGETS.md): a monthly budget of one project or one
// department, for one calendar month or for every month, and the organisation's budget
// gate mode. The Ledger stores them (PutBudget, ListBudgets, DeleteBudget, ...);
// policy/budget.h evaluates them. Plain types; thread-compatible.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/time.h"

namespace gpuledger {

enum class BudgetScope { kProject, kDepartment };

inline std::string_view BudgetScopeName(BudgetScope s) {
  return s == BudgetScope::kProject ? "project" : "department";
}
inline std::optional<BudgetScope> ParseBudgetScope(std::string_view s) {
  if (s == "project") return BudgetScope::kProject;
  if (s == "department") return BudgetScope::kDepartment;
  return std::nullopt;
}

struct BudgetRecord {
  BudgetScope scope = BudgetScope::kProject;
  std::string name;                // the project's or the department's name
  std::optional<YearMonth> month;  // the calendar month (organisation's zone); none: every month
  int64_t amount_minor = 0;        // > 0, in minor units of `currency` (fen for CNY)
  std::string currency;            // the ledger's currency when set
  std::string set_by;              // the token's name (or "cli") that set it
  TimeMs set_ms = 0;
  bool operator==(const BudgetRecord&) const = default;
};

// What a submission meets when its project or department is at or over 100 % of its
// budget (counting the submission's own estimate): refused, or accepted with a warning.
enum class BudgetGateMode { kWarn, kRefuse };

inline std::string_view BudgetGateModeName(BudgetGateMode m) {
  return m == BudgetGateMode::kRefuse ? "refuse" : "warn";
}
inline std::optional<BudgetGateMode> ParseBudgetGateMode(std::string_view s) {
  if (s == "warn") return BudgetGateMode::kWarn;
  if (s == "refuse") return BudgetGateMode::kRefuse;
  return std::nullopt;
}

// One threshold a budget crossed (policy/budget.h's BudgetNotices: events budget.80,
// budget.100, budget.projected), recorded once per cause key.
struct BudgetAlertRow {
  std::string cause_key;  // budget/<scope>/<name>/<YYYY-MM>/<80|100|projected>
  BudgetScope scope = BudgetScope::kProject;
  std::string name;
  YearMonth month;
  std::string event;
  TimeMs at_ms = 0;       // the as-of of the books that crossed it
  std::string data_json;  // {"budget": ..., "month_to_date": ..., "share": ..., ...}
  bool operator==(const BudgetAlertRow&) const = default;
};

struct BudgetGateSetting {
  BudgetGateMode mode = BudgetGateMode::kWarn;  // the default when never set
  std::string set_by;
  TimeMs set_ms = 0;
};

}  // namespace gpuledger
