// Budgets against the books (docs/BUDGETS.md): the month-to-date cost of every project
// and department, read from the month in progress's books (books.h MonthUsage: with the
// server's BooksCache between flushes, and only the hours a write touched since they were
// stored metered again; never the whole month per call), each budget's standing, and
// the submission gate. Shared by the server's budget routes and watch, `gpuledger
// budget` and the submission. Not thread-safe (one Ledger).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "books/books.h"
#include "ledger/ledger.h"
#include "policy/budget.h"

namespace gpuledger {

struct MonthToDate {
  YearMonth month;
  Window month_window;  // the whole month in the organisation's zone
  TimeMs as_of = 0;     // the books' as-of: min(as_of asked, month end)
  ScopeCosts costs;     // direct cost (GPU time + energy, no idle share) of each scope's jobs
  // Each project's departments, from its jobs; for a project of several, the one whose
  // jobs cost most this month comes first.
  std::map<std::string, std::vector<std::string>> project_departments;
  std::string DepartmentOf(const std::string& project) const;
};

// The month-to-date costs of `month` as of `as_of` (a month that has not begun costs
// nothing yet; one that has ended is read whole).
StatusOr<MonthToDate> MonthToDateCosts(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs as_of);

// The standing of each budget in force in mtd.month (EffectiveBudget: one per scope).
std::vector<BudgetStanding> StandingsInForce(const std::vector<BudgetRecord>& budgets, const MonthToDate& mtd,
                                             const Currency& currency, const BudgetRuleOptions& options = {});

// The submission gate for `job` (its project and its department) with its estimate, as of
// `as_of`: nothing to say when neither has a budget in force or neither is hit. Hit,
// with the ledger's gate mode refuse: FailedPrecondition naming the budget, its amount
// and the month-to-date cost (nothing is registered); warn: the sentences to warn with.
StatusOr<std::vector<std::string>> CheckSubmissionBudgets(Ledger& ledger, const BooksContext& ctx, const Job& job,
                                                          int64_t estimate_micros, TimeMs as_of);

}  // namespace gpuledger
