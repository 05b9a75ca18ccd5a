#include "policy/budget.h"

#include <algorithm>
#include <cmath>

#include "common/int128.h"

namespace gpuledger {

namespace {
constexpr int64_t kMaxAmountMicros = 9'000'000'000'000'000'000;  // money.h's 9e12 major units
}  // namespace

bool BudgetStanding::reached_80() const {
  return static_cast<Int128>(mtd_micros) * 5 >= static_cast<Int128>(budget_micros) * 4;
}

bool BudgetStanding::reached_100() const { return mtd_micros >= budget_micros; }

bool BudgetStanding::projected_overrun() const {
  return projected_micros && *projected_micros > budget_micros && !reached_100();
}

Status ValidateBudget(const BudgetRecord& b, const Currency& currency) {
  if (b.name.empty() || b.name.size() > 128)
    return InvalidArgument("budget " + std::string(BudgetScopeName(b.scope)) + " name is " +
                           std::to_string(b.name.size()) + " bytes (allowed 1..128)");
  for (char c : b.name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return InvalidArgument("budget " + std::string(BudgetScopeName(b.scope)) +
                             " name holds a control character");
  }
  if (b.amount_minor <= 0)
    return InvalidArgument("budget amount must be above zero (seen " + std::to_string(b.amount_minor) +
                           " minor units)");
  if (b.amount_minor > kMaxAmountMicros / currency.micros_per_minor())
    return InvalidArgument("budget amount " + std::to_string(b.amount_minor) + " minor units exceeds the limit of " +
                           std::to_string(kMaxAmountMicros / currency.micros_per_minor()));
  if (b.currency != currency.code)
    return InvalidArgument("budget currency '" + b.currency + "' is not the ledger's currency " + currency.code);
  if (b.month && (b.month->month < 1 || b.month->month > 12))
    return InvalidArgument("budget month " + std::to_string(b.month->month) + " is not 1..12");
  return OkStatus();
}

const BudgetRecord* EffectiveBudget(const std::vector<BudgetRecord>& budgets, BudgetScope scope,
                                    const std::string& name, YearMonth month) {
  const BudgetRecord* every = nullptr;
  for (const BudgetRecord& b : budgets) {
    if (b.scope != scope || b.name != name) continue;
    if (b.month == month) return &b;
    if (!b.month) every = &b;
  }
  return every;
}

BudgetStanding EvaluateBudget(const BudgetRecord& b, const Currency& currency, YearMonth month,
                              Window month_window, TimeMs as_of, int64_t mtd_micros,
                              const BudgetRuleOptions& options) {
  BudgetStanding s;
  s.budget = b;
  s.month = month;
  s.month_window = month_window;
  s.as_of = as_of;
  s.budget_micros = b.amount_minor * currency.micros_per_minor();
  s.mtd_micros = mtd_micros;
  s.share = s.budget_micros > 0 ? static_cast<double>(mtd_micros) / static_cast<double>(s.budget_micros) : 0;
  const DurationMs len = month_window.length();
  const TimeMs into = std::clamp(as_of, month_window.start, month_window.end) - month_window.start;
  s.elapsed = len > 0 ? static_cast<double>(into) / static_cast<double>(len) : 0;
  if (into > 0 && s.elapsed >= options.min_elapsed_for_projection) {
    // mtd x len / into, exactly, rounded half up.
    const Int128 num = static_cast<Int128>(mtd_micros) * len;
    s.projected_micros = static_cast<int64_t>((num + into / 2) / into);
  }
  return s;
}

std::string BudgetCauseKey(const BudgetStanding& s, const std::string& kind) {
  return "budget/" + std::string(BudgetScopeName(s.budget.scope)) + "/" + s.budget.name + "/" +
         s.month.ToString() + "/" + kind;
}

std::string BudgetAmountText(int64_t micros, const Currency& currency) {
  return FormatMicros(RoundMicros(micros, currency.micros_per_minor()), currency.minor_digits) + " " +
         currency.code;
}

std::vector<Notice> BudgetNotices(const BudgetStanding& s, const Currency& currency,
                                  const std::string& department) {
  std::vector<Notice> out;
  auto make = [&](const char* kind, const char* event) {
    Notice n;
    n.cause_key = BudgetCauseKey(s, kind);
    n.event = event;
    n.at_ms = s.as_of;
    if (s.budget.scope == BudgetScope::kProject) {
      n.project = s.budget.name;
      n.department = department;
      n.audiences = {Audience::kFinance, Audience::kDeptAdmin, Audience::kProjectChannel};
    } else {
      n.department = s.budget.name;
      n.audiences = {Audience::kFinance, Audience::kDeptAdmin};
    }
    const auto percent = static_cast<int64_t>(std::floor(s.share * 100.0));
    n.fields = {{"month", s.month.ToString()},
                {"budget", BudgetAmountText(s.budget_micros, currency)},
                {"month_to_date", BudgetAmountText(s.mtd_micros, currency)},
                {"share", std::to_string(percent) + " %"},
                {"as_of", FormatTime(s.as_of)}};
    if (s.projected_micros) n.fields.emplace_back("projected", BudgetAmountText(*s.projected_micros, currency));
    out.push_back(std::move(n));
  };
  if (s.reached_80()) make("80", "budget.80");
  if (s.reached_100()) make("100", "budget.100");
  if (s.projected_overrun()) make("projected", "budget.projected");
  return out;
}

int64_t ScopeCosts::Of(BudgetScope scope, const std::string& name) const {
  const auto& m = scope == BudgetScope::kProject ? by_project : by_department;
  auto it = m.find(name);
  return it == m.end() ? 0 : it->second;
}

ScopeCosts SumScopeCosts(const std::map<std::string, int64_t>& cost_by_job,
                         const std::map<std::string, std::pair<std::string, std::string>>& job_scope) {
  ScopeCosts out;
  for (const auto& [job, cost] : cost_by_job) {
    auto it = job_scope.find(job);
    if (it == job_scope.end()) continue;
    if (!it->second.first.empty()) out.by_project[it->second.first] += cost;
    if (!it->second.second.empty()) out.by_department[it->second.second] += cost;
  }
  return out;
}

GateVerdict CheckBudgetGate(const BudgetStanding& s, int64_t estimate_micros, const Currency& currency) {
  GateVerdict v;
  const Int128 with = static_cast<Int128>(s.mtd_micros) + std::max<int64_t>(estimate_micros, 0);
  if (with < s.budget_micros) return v;
  v.hit = true;
  v.message = "the " + std::string(BudgetScopeName(s.budget.scope)) + " budget of '" + s.budget.name +
              "' for " + s.month.ToString() + " is " + BudgetAmountText(s.budget_micros, currency) +
              "; its month-to-date cost is " + BudgetAmountText(s.mtd_micros, currency) +
              (estimate_micros > 0 ? " and this submission's estimate " + BudgetAmountText(estimate_micros, currency) +
                                         " takes it to " + BudgetAmountText(static_cast<int64_t>(with), currency)
                                   : std::string()) +
              " (" + std::to_string(static_cast<int64_t>(std::floor(static_cast<double>(with) * 100.0 /
                                                                     static_cast<double>(s.budget_micros)))) +
              " % of the budget)";
  return v;
}

}  // namespace gpuledger
