// gpuledger budget set|list|rm|gate (docs/BUDGETS.md): the same budgets the API keeps,
// written straight to the ledger (whoever can open --db is its administrator), each
// write audited as the command line's.
#include <iomanip>
#include <nlohmann/json.hpp>
#include <ostream>
#include <sstream>

#include "cli/commands.h"
#include "submit/budget_books.h"

namespace gpuledger {

namespace {

StatusOr<std::pair<BudgetScope, std::string>> ScopeOf(const BudgetArgs& a) {
  if (a.project.empty() == a.department.empty())
    return InvalidArgument("name one scope: --project NAME or --department NAME");
  return a.project.empty() ? std::make_pair(BudgetScope::kDepartment, a.department)
                           : std::make_pair(BudgetScope::kProject, a.project);
}

StatusOr<std::optional<YearMonth>> MonthOf(const std::string& m) {
  if (m.empty() || m == "every") return std::optional<YearMonth>();
  ASSIGN_OR_RETURN(YearMonth ym, ParseYearMonth(m));
  return std::optional<YearMonth>(ym);
}

std::string Money(int64_t micros, const Currency& c) {
  return FormatMicros(RoundMicros(micros, c.micros_per_minor()), c.minor_digits);
}

}  // namespace

Status CmdBudgetSet(const BudgetArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(auto scope, ScopeOf(a));
  RETURN_IF_ERROR(LedgerExists(a.db));
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger));
  const Currency& currency = ctx.prices.currency();
  BudgetRecord b;
  b.scope = scope.first;
  b.name = scope.second;
  ASSIGN_OR_RETURN(b.month, MonthOf(a.month));
  ASSIGN_OR_RETURN(int64_t micros, ParseMicros(a.amount, "--amount"));
  if (micros % currency.micros_per_minor() != 0)
    return InvalidArgument("--amount '" + a.amount + "': " + currency.code + " has " +
                           std::to_string(currency.minor_digits) + " decimals");
  b.amount_minor = micros / currency.micros_per_minor();
  b.currency = currency.code;
  b.set_by = "cli";
  b.set_ms = clock.Now();
  RETURN_IF_ERROR(ValidateBudget(b, currency));
  RETURN_IF_ERROR(ledger->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger->PutBudget(b));
    return AuditCli(*ledger, b.set_ms, "budget set",
                    "scope=" + std::string(BudgetScopeName(b.scope)) + " name=" + b.name +
                        " month=" + (b.month ? b.month->ToString() : "every") +
                        " amount_minor=" + std::to_string(b.amount_minor) + " currency=" + b.currency);
  }));
  out << "budget of " << BudgetScopeName(b.scope) << " '" << b.name << "' for "
      << (b.month ? b.month->ToString() : std::string("every month")) << ": "
      << Money(b.amount_minor * currency.micros_per_minor(), currency) << " " << currency.code << "\n";
  return OkStatus();
}

Status CmdBudgetRm(const BudgetArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(auto scope, ScopeOf(a));
  ASSIGN_OR_RETURN(std::optional<YearMonth> month, MonthOf(a.month));
  RETURN_IF_ERROR(LedgerExists(a.db));
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  const std::string which = (month ? month->ToString() : std::string("every month"));
  RETURN_IF_ERROR(ledger->InTransaction([&]() -> Status {
    ASSIGN_OR_RETURN(bool deleted, ledger->DeleteBudget(scope.first, scope.second, month));
    if (!deleted)
      return NotFound("no " + std::string(BudgetScopeName(scope.first)) + " budget of '" + scope.second + "' for " +
                      which);
    return AuditCli(*ledger, clock.Now(), "budget rm",
                    "scope=" + std::string(BudgetScopeName(scope.first)) + " name=" + scope.second +
                        " month=" + (month ? month->ToString() : "every"));
  }));
  out << "removed the budget of " << BudgetScopeName(scope.first) << " '" << scope.second << "' for " << which
      << "\n";
  return OkStatus();
}

Status CmdBudgetGate(const BudgetArgs& a, const Clock& clock, std::ostream& out) {
  std::optional<BudgetGateMode> mode = ParseBudgetGateMode(a.gate);
  if (!mode) return InvalidArgument("budget gate mode '" + a.gate + "': send warn or refuse");
  RETURN_IF_ERROR(LedgerExists(a.db));
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  const BudgetGateSetting g{*mode, "cli", clock.Now()};
  RETURN_IF_ERROR(ledger->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger->SetBudgetGate(g));
    return AuditCli(*ledger, g.set_ms, "budget gate", "mode=" + std::string(BudgetGateModeName(g.mode)));
  }));
  out << "budget gate: " << BudgetGateModeName(g.mode) << "\n";
  return OkStatus();
}

Status CmdBudgetList(const BudgetArgs& a, const Clock& clock, std::ostream& out) {
  RETURN_IF_ERROR(LedgerExists(a.db));
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger));
  const Currency& currency = ctx.prices.currency();
  const TimeMs as_of = clock.Now();
  YearMonth month;
  if (a.month.empty()) {
    ASSIGN_OR_RETURN(month, ctx.tz.MonthOf(as_of));
  } else {
    ASSIGN_OR_RETURN(month, ParseYearMonth(a.month));
  }
  ASSIGN_OR_RETURN(std::vector<BudgetRecord> budgets, ledger->ListBudgets());
  ASSIGN_OR_RETURN(MonthToDate mtd, MonthToDateCosts(*ledger, ctx, month, as_of));
  ASSIGN_OR_RETURN(BudgetGateSetting gate, ledger->GetBudgetGate());
  const std::vector<BudgetStanding> standings = StandingsInForce(budgets, mtd, currency);
  auto standing_of = [&](const BudgetRecord& b) -> const BudgetStanding* {
    for (const BudgetStanding& s : standings) {
      if (s.budget == b) return &s;
    }
    return nullptr;
  };
  if (a.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const BudgetRecord& b : budgets) {
      const BudgetStanding* s = standing_of(b);
      nlohmann::json j = {{"scope", std::string(BudgetScopeName(b.scope))},
                          {"name", b.name},
                          {"month", b.month ? b.month->ToString() : std::string("every")},
                          {"amount", Money(b.amount_minor * currency.micros_per_minor(), currency)},
                          {"currency", b.currency},
                          {"set_by", b.set_by},
                          {"set", FormatTime(b.set_ms)},
                          {"in_force", s != nullptr}};
      if (s != nullptr) {
        j["month_to_date"] = Money(s->mtd_micros, currency);
        j["share"] = s->share;
        j["projected"] = s->projected_micros ? nlohmann::json(Money(*s->projected_micros, currency))
                                             : nlohmann::json(nullptr);
      }
      list.push_back(std::move(j));
    }
    out << nlohmann::json{{"month", month.ToString()},
                          {"timezone", ctx.tz.name()},
                          {"as_of", FormatTime(mtd.as_of)},
                          {"currency", currency.code},
                          {"gate", std::string(BudgetGateModeName(gate.mode))},
                          {"budgets", list}}
               .dump(2)
        << "\n";
    return OkStatus();
  }
  out << "budgets of " << month.ToString() << " (" << ctx.tz.name() << "), as of " << FormatTime(mtd.as_of)
      << ", in " << currency.code << "; gate: " << BudgetGateModeName(gate.mode) << "\n";
  out << std::left << std::setw(11) << "scope" << std::setw(24) << "name" << std::setw(9) << "month"
      << std::right << std::setw(14) << "budget" << std::setw(14) << "to date" << std::setw(8) << "share"
      << std::setw(14) << "projected" << "\n";
  for (const BudgetRecord& b : budgets) {
    const BudgetStanding* s = standing_of(b);
    out << std::left << std::setw(11) << BudgetScopeName(b.scope) << std::setw(24) << b.name << std::setw(9)
        << (b.month ? b.month->ToString() : std::string("every")) << std::right << std::setw(14)
        << Money(b.amount_minor * currency.micros_per_minor(), currency);
    if (s == nullptr) {
      out << std::setw(14) << "-" << std::setw(8) << "-" << std::setw(14) << "-" << "  (not in force)\n";
      continue;
    }
    std::ostringstream share;
    share << std::fixed << std::setprecision(1) << s->share * 100 << "%";
    out << std::setw(14) << Money(s->mtd_micros, currency) << std::setw(8) << share.str() << std::setw(14)
        << (s->projected_micros ? Money(*s->projected_micros, currency) : std::string("-")) << "\n";
  }
  if (budgets.empty()) out << "(no budgets)\n";
  return OkStatus();
}

}  // namespace gpuledger
