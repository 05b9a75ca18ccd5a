#include "submit/budget_books.h"

#include <algorithm>

#include "cost/cost_engine.h"

namespace gpuledger {

std::string MonthToDate::DepartmentOf(const std::string& project) const {
  auto it = project_departments.find(project);
  return it == project_departments.end() || it->second.empty() ? std::string() : it->second.front();
}

StatusOr<MonthToDate> MonthToDateCosts(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs as_of) {
  MonthToDate out;
  out.month = month;
  ASSIGN_OR_RETURN(out.month_window, ctx.tz.MonthWindow(month));
  out.as_of = std::min(as_of, out.month_window.end);
  std::map<std::string, int64_t> by_job;
  if (as_of > out.month_window.start) {
    ASSIGN_OR_RETURN(MonthBooks books, MonthUsage(ledger, ctx, month, out.as_of));
    ASSIGN_OR_RETURN(CostBook cost, PriceUsage(books.rows, ctx.prices, /*share_idle=*/false));
    for (const CostItem& it : cost.items) {
      if (!it.job_id.empty()) by_job[it.job_id] += it.cost_micros;
    }
  }
  ASSIGN_OR_RETURN(auto projects, ledger.ListJobField(Ledger::JobField::kProject));
  ASSIGN_OR_RETURN(auto departments, ledger.ListJobField(Ledger::JobField::kDepartment));
  std::map<std::string, std::pair<std::string, std::string>> scope;
  for (auto& [id, p] : projects) scope[id].first = std::move(p);
  for (auto& [id, d] : departments) scope[id].second = std::move(d);
  out.costs = SumScopeCosts(by_job, scope);
  std::map<std::string, std::map<std::string, int64_t>> weight;  // project -> department -> cost
  for (const auto& [id, pd] : scope) {
    if (pd.first.empty() || pd.second.empty()) continue;
    auto c = by_job.find(id);
    weight[pd.first][pd.second] += c == by_job.end() ? 0 : c->second;
  }
  for (const auto& [project, depts] : weight) {
    std::vector<std::pair<std::string, int64_t>> v(depts.begin(), depts.end());
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::string>& names = out.project_departments[project];
    names.reserve(v.size());
    for (auto& [d, c] : v) names.push_back(d);
  }
  return out;
}

std::vector<BudgetStanding> StandingsInForce(const std::vector<BudgetRecord>& budgets, const MonthToDate& mtd,
                                             const Currency& currency, const BudgetRuleOptions& options) {
  std::vector<BudgetStanding> out;
  for (const BudgetRecord& b : budgets) {
    if (EffectiveBudget(budgets, b.scope, b.name, mtd.month) != &b) continue;
    out.push_back(EvaluateBudget(b, currency, mtd.month, mtd.month_window, mtd.as_of,
                                 mtd.costs.Of(b.scope, b.name), options));
  }
  return out;
}

StatusOr<std::vector<std::string>> CheckSubmissionBudgets(Ledger& ledger, const BooksContext& ctx, const Job& job,
                                                          int64_t estimate_micros, TimeMs as_of) {
  std::vector<std::string> warnings;
  ASSIGN_OR_RETURN(std::vector<BudgetRecord> budgets, ledger.ListBudgets());
  ASSIGN_OR_RETURN(YearMonth month, ctx.tz.MonthOf(as_of));
  const BudgetRecord* project = EffectiveBudget(budgets, BudgetScope::kProject, job.project, month);
  const BudgetRecord* department = EffectiveBudget(budgets, BudgetScope::kDepartment, job.department, month);
  if (project == nullptr && department == nullptr) return warnings;  // nothing to meter
  ASSIGN_OR_RETURN(MonthToDate mtd, MonthToDateCosts(ledger, ctx, month, as_of));
  ASSIGN_OR_RETURN(BudgetGateSetting gate, ledger.GetBudgetGate());
  const Currency& currency = ctx.prices.currency();
  for (const BudgetRecord* b : {project, department}) {
    if (b == nullptr) continue;
    const BudgetStanding s =
        EvaluateBudget(*b, currency, month, mtd.month_window, mtd.as_of, mtd.costs.Of(b->scope, b->name));
    const GateVerdict v = CheckBudgetGate(s, estimate_micros, currency);
    if (!v.hit) continue;
    if (gate.mode == BudgetGateMode::kRefuse)
      return FailedPrecondition("budget reached: " + v.message + "; the budget gate refuses the submission, " +
                                "nothing registered");
    warnings.push_back("budget reached: " + v.message + " (the budget gate warns; submitted anyway)");
  }
  return warnings;
}

}  // namespace gpuledger
