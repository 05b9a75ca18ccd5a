// Budgets (#13 item 2, docs/BUDGETS.md): monthly budgets per project and per department,
// evaluated against month-to-date cost. Pure: the caller brings the budgets, the
// month-to-date cost of each scope (the books' direct cost of its jobs) and the month's
// window in the organisation's time zone; the rule says where each budget stands, which
// alerts are due (each with a cause key sent once ever) and what the submission gate
// answers. Thread-safe (no state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/money.h"
#include "common/status.h"
#include "common/time.h"
#include "ledger/budgets.h"
#include "policy/actions.h"

namespace gpuledger {

struct BudgetRuleOptions {
  // The projection is made only once this share of the month has elapsed: early in a
  // month one busy day projects a wild overrun. 0.25 is about a week.
  double min_elapsed_for_projection = 0.25;
};

// Where one budget stands at as_of.
struct BudgetStanding {
  BudgetRecord budget;
  YearMonth month;
  Window month_window;         // the whole calendar month in the organisation's zone
  TimeMs as_of = 0;
  int64_t budget_micros = 0;   // amount_minor in micro-units
  int64_t mtd_micros = 0;      // month-to-date cost of the scope's jobs
  double share = 0;            // mtd / budget (1.0 = 100 %)
  double elapsed = 0;          // (as_of - month start) / month length, in [0, 1]
  // mtd / elapsed, rounded to the micro: what the month costs if it goes on at the rate
  // so far. None before min_elapsed_for_projection of the month.
  std::optional<int64_t> projected_micros;
  bool reached_80() const;   // mtd >= 80 % of the budget (exact integer comparison)
  bool reached_100() const;  // mtd >= the budget
  // The projection exceeds the budget while mtd has not reached it yet.
  bool projected_overrun() const;
};

// Checks a budget before it is stored: a scope name (1..128 bytes, no control
// characters), an amount above zero and at most 9e12 major units, in the ledger's
// currency.
Status ValidateBudget(const BudgetRecord& b, const Currency& currency);

// The budget in force for the scope in `month`: one set for that month wins over one
// for every month. Null when neither exists.
const BudgetRecord* EffectiveBudget(const std::vector<BudgetRecord>& budgets, BudgetScope scope,
                                    const std::string& name, YearMonth month);

// Where `b` stands with `mtd_micros` spent in `month` ([month_window) in the organisation's
// zone) at `as_of`. `currency` converts the amount's minor units to micro-units.
BudgetStanding EvaluateBudget(const BudgetRecord& b, const Currency& currency, YearMonth month,
                              Window month_window, TimeMs as_of, int64_t mtd_micros,
                              const BudgetRuleOptions& options = {});

// budget/<project|department>/<name>/<YYYY-MM>/<80|100|projected>.
std::string BudgetCauseKey(const BudgetStanding& s, const std::string& kind);

// The notices due for `s` (events budget.80, budget.100, budget.projected), each with its
// cause key, so a sink stores each at most once per budget, scope and month however often
// this is evaluated. Audiences: finance and the department admin, and the project's
// channel for a project budget. A project budget's notice names its department when
// `department` is given (the department admin's channel is found by it).
std::vector<Notice> BudgetNotices(const BudgetStanding& s, const Currency& currency,
                                  const std::string& department = "");

// Month-to-date cost per scope from each job's cost: jobs' (project, department) from
// `job_scope`; a job not in it counts for neither.
struct ScopeCosts {
  std::map<std::string, int64_t> by_project;
  std::map<std::string, int64_t> by_department;
  int64_t Of(BudgetScope scope, const std::string& name) const;
};
ScopeCosts SumScopeCosts(const std::map<std::string, int64_t>& cost_by_job,
                         const std::map<std::string, std::pair<std::string, std::string>>& job_scope);

// The submission gate: a budget is "hit" when mtd + the submission's estimate reaches
// the budget. Refused (mode refuse): FailedPrecondition naming the budget, its amount
// and the month-to-date cost; warned: OK with the same sentence in *warning.
struct GateVerdict {
  bool hit = false;
  std::string message;  // set when hit
};
GateVerdict CheckBudgetGate(const BudgetStanding& s, int64_t estimate_micros, const Currency& currency);

// "1234.50 CNY": the amount rounded to the minor unit, with the code.
std::string BudgetAmountText(int64_t micros, const Currency& currency);

}  // namespace gpuledger
