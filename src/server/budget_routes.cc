// Budgets (docs/BUDGETS.md): GET/PUT/DELETE /api/v1/budgets and PUT /api/v1/budgets/gate,
// each answer with the month-to-date cost, share and projection of the budgets it shows
// and the books' as_of; every call audited; a refusal stores nothing. And the budget
// watch the ingest flush runs (server.h WatchBudgetsLocked).
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/ids.h"
#include "policy/actions.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"
#include "submit/budget_books.h"

namespace gpuledger {

namespace {

// Whether every job of project `name` is in department `dept` (as the policy routes
// read "a department's project"): a project shared with another department is not one
// department admin's to read or set.
bool ProjectWhollyIn(const MonthToDate& mtd, const std::string& name, const std::string& dept) {
  auto it = mtd.project_departments.find(name);
  return it != mtd.project_departments.end() && !it->second.empty() &&
         std::all_of(it->second.begin(), it->second.end(), [&](const std::string& d) { return d == dept; });
}

// Who may see a budget: admin and finance all; a department admin its department's and
// those of projects wholly in it; a user its project's.
bool CanReadBudget(const Principal& p, const BudgetRecord& b, const MonthToDate& mtd) {
  switch (p.role) {
    case Role::kAdmin:
    case Role::kFinance:
      return true;
    case Role::kDeptAdmin: {
      if (b.scope == BudgetScope::kDepartment) return b.name == p.department;
      return ProjectWhollyIn(mtd, b.name, p.department);
    }
    case Role::kUser:
      return b.scope == BudgetScope::kProject && b.name == p.project;
    default:
      return false;
  }
}

// Who may set or remove one: admin any; a department admin its department and the
// projects whose jobs are in it. The refusal says why.
Status CanWriteBudget(const Principal& p, BudgetScope scope, const std::string& name,
                      const MonthToDate& mtd) {
  if (p.role == Role::kAdmin) return OkStatus();
  if (p.role != Role::kDeptAdmin)
    return PermissionDenied("role " + std::string(RoleName(p.role)) +
                            " may not set budgets (admin and dept_admin tokens do)");
  if (scope == BudgetScope::kDepartment) {
    if (name == p.department) return OkStatus();
    return PermissionDenied("a dept_admin of '" + p.department + "' may not set the budget of department '" +
                            name + "'");
  }
  if (ProjectWhollyIn(mtd, name, p.department)) return OkStatus();
  return PermissionDenied("project '" + name + "' does not have all its jobs in department '" + p.department +
                          "': its dept_admin may not set its budget");
}

StatusOr<BudgetScope> ScopeParam(const std::string& v) {
  std::optional<BudgetScope> s = ParseBudgetScope(v);
  if (!s) return InvalidArgument("budget scope is '" + EscapeForMessage(v) + "': send project or department");
  return *s;
}

StatusOr<std::optional<YearMonth>> MonthValue(const std::string& v) {
  if (v == "every") return std::optional<YearMonth>();
  auto m = ParseYearMonth(v);
  if (!m.ok()) return InvalidArgument("budget month is '" + EscapeForMessage(v) + "': send YYYY-MM or every");
  return std::optional<YearMonth>(*m);
}

// {"scope": "project", "name": "yolo-edge", "month": "2026-12" | "every", "amount": "10000.00"}
StatusOr<BudgetRecord> ParseBudgetBody(const std::string& text, const Currency& currency) {
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return InvalidArgument("body is not a JSON object");
  for (const auto& [k, v] : body.items()) {
    if (k != "scope" && k != "name" && k != "month" && k != "amount" && k != "currency")
      return InvalidArgument("unknown field '" + EscapeForMessage(k) +
                             "' (a budget takes scope, name, month, amount, currency)");
    if (!v.is_string()) return InvalidArgument("field '" + k + "' must be a string");
  }
  for (const char* f : {"scope", "name", "amount"}) {
    if (!body.contains(f)) return InvalidArgument(std::string("field '") + f + "' is required");
  }
  BudgetRecord b;
  ASSIGN_OR_RETURN(b.scope, ScopeParam(body["scope"].get<std::string>()));
  b.name = body["name"].get<std::string>();
  ASSIGN_OR_RETURN(b.month, MonthValue(body.value("month", std::string("every"))));
  ASSIGN_OR_RETURN(int64_t micros, ParseMicros(body["amount"].get<std::string>(), "amount"));
  if (micros % currency.micros_per_minor() != 0)
    return InvalidArgument("field 'amount' is '" + body["amount"].get<std::string>() + "': " + currency.code +
                           " has " + std::to_string(currency.minor_digits) + " decimals");
  b.amount_minor = micros / currency.micros_per_minor();
  b.currency = body.value("currency", currency.code);
  RETURN_IF_ERROR(ValidateBudget(b, currency));
  return b;
}

nlohmann::json BudgetJson(const BudgetRecord& b, const Currency& currency, const BudgetStanding* s) {
  nlohmann::json j = {
      {"scope", std::string(BudgetScopeName(b.scope))},
      {"name", b.name},
      {"month", b.month ? b.month->ToString() : std::string("every")},
      {"amount", FormatMicros(b.amount_minor * currency.micros_per_minor(), currency.minor_digits)},
      {"currency", b.currency},
      {"set_by", b.set_by},
      {"set", FormatTime(b.set_ms)},
      {"in_force", s != nullptr}};
  if (s != nullptr) {
    j["month_to_date"] =
        FormatMicros(RoundMicros(s->mtd_micros, currency.micros_per_minor()), currency.minor_digits);
    j["share"] = s->share;
    j["elapsed"] = s->elapsed;
    j["projected"] =
        s->projected_micros
            ? nlohmann::json(FormatMicros(RoundMicros(*s->projected_micros, currency.micros_per_minor()),
                                          currency.minor_digits))
            : nlohmann::json(nullptr);
    j["reached_80"] = s->reached_80();
    j["reached_100"] = s->reached_100();
    j["projected_overrun"] = s->projected_overrun();
  }
  return j;
}

}  // namespace

// Deny (server_auth.cc) for a handler that holds the ledger lock (Deny takes it).
void Server::DenyLocked(const httplib::Request& req, httplib::Response& res, const Principal& p,
                        const Status& why) {
  ++counters_.denied;
  Reply(res, why);
  (void)AuditLocked(req, &p, res.status, req.method + " " + req.path, why.message());  // counted if it fails
}

void Server::BudgetRoutes() {
  // The month's view, evaluated under the held lock: budgets visible to p (all when
  // `only` is null, else the one named), with the figures of those in force.
  auto view = [](const Principal& p, const BooksContext& ctx, const MonthToDate& mtd,
                 const std::vector<BudgetRecord>& budgets, const BudgetRecord* only) {
    const Currency& currency = ctx.prices.currency();
    const std::vector<BudgetStanding> standings = StandingsInForce(budgets, mtd, currency);
    nlohmann::json list = nlohmann::json::array();
    for (const BudgetRecord& b : budgets) {
      if (only != nullptr && !(b.scope == only->scope && b.name == only->name && b.month == only->month))
        continue;
      if (!CanReadBudget(p, b, mtd)) continue;
      const BudgetStanding* in_force = nullptr;
      for (const BudgetStanding& s : standings) {
        if (s.budget == b) in_force = &s;
      }
      list.push_back(BudgetJson(b, currency, in_force));
    }
    return nlohmann::json{{"month", mtd.month.ToString()},
                          {"timezone", ctx.tz.name()},
                          {"as_of", FormatTime(mtd.as_of)},
                          {"currency", currency.code},
                          {"budgets", list}};
  };

  http_->Get("/api/v1/budgets", [this, view](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kIngest)
      return Deny(req, res, *p, PermissionDenied("role ingest may not read budgets"));
    if (Status s = OnlyParams(req, {"month"}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto month =
        req.has_param("month") ? ParseYearMonth(req.get_param_value("month")) : ctx->tz.MonthOf(clock_.Now());
    if (!month.ok()) return Reply(res, month.status());
    auto budgets = ledger_->ListBudgets();
    if (!budgets.ok()) return Reply(res, budgets.status());
    auto mtd = MonthToDateCosts(*ledger_, *ctx, *month, BooksAsOf(*ctx, *month));
    if (!mtd.ok()) return Reply(res, mtd.status());
    auto gate = ledger_->GetBudgetGate();
    if (!gate.ok()) return Reply(res, gate.status());
    auto alerts = ledger_->ListBudgetAlerts(*month);
    if (!alerts.ok()) return Reply(res, alerts.status());
    if (Status s = AuditLocked(req, &*p, 200, "GET /api/v1/budgets", "month=" + month->ToString()); !s.ok())
      return Reply(res, s);  // no audit, no data
    nlohmann::json out = view(*p, *ctx, *mtd, *budgets, nullptr);
    out["gate"] = std::string(BudgetGateModeName(gate->mode));
    out["alerts"] = nlohmann::json::array();
    for (const BudgetAlertRow& a : *alerts) {
      BudgetRecord of;
      of.scope = a.scope;
      of.name = a.name;
      if (!CanReadBudget(*p, of, *mtd)) continue;
      out["alerts"].push_back({{"cause_key", a.cause_key},
                               {"scope", std::string(BudgetScopeName(a.scope))},
                               {"name", a.name},
                               {"event", a.event},
                               {"at", FormatTime(a.at_ms)},
                               {"data", [&] {
                                  nlohmann::json d = nlohmann::json::parse(a.data_json, nullptr, false);
                                  return d.is_discarded() ? nlohmann::json(nullptr) : d;
                                }()}});
    }
    res.set_content(out.dump() + "\n", "application/json");
  });

  http_->Put("/api/v1/budgets", [this, view](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin && p->role != Role::kDeptAdmin)
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) +
                                   " may not set budgets (admin and dept_admin tokens do)"));
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto b = ParseBudgetBody(req.body, ctx->prices.currency());
    if (!b.ok()) return Reply(res, b.status());
    b->set_by = p->token_id;
    b->set_ms = clock_.Now();
    auto month = b->month ? StatusOr<YearMonth>(*b->month) : ctx->tz.MonthOf(clock_.Now());
    if (!month.ok()) return Reply(res, month.status());
    auto mtd = MonthToDateCosts(*ledger_, *ctx, *month, BooksAsOf(*ctx, *month));
    if (!mtd.ok()) return Reply(res, mtd.status());
    if (Status s = CanWriteBudget(*p, b->scope, b->name, *mtd); !s.ok()) return DenyLocked(req, res, *p, s);
    Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      RETURN_IF_ERROR(ledger_->PutBudget(*b));
      return AuditLocked(req, &*p, 200, "PUT /api/v1/budgets",
                         "scope=" + std::string(BudgetScopeName(b->scope)) + " name=" + b->name +
                             " month=" + (b->month ? b->month->ToString() : "every") +
                             " amount_minor=" + std::to_string(b->amount_minor) + " currency=" + b->currency);
    });
    if (!stored.ok()) return Reply(res, stored);
    auto budgets = ledger_->ListBudgets();
    if (!budgets.ok()) return Reply(res, budgets.status());
    res.set_content(view(*p, *ctx, *mtd, *budgets, &*b).dump() + "\n", "application/json");
  });

  // ?scope=project|department&name=NAME&month=YYYY-MM|every (default every).
  http_->Delete("/api/v1/budgets", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin && p->role != Role::kDeptAdmin)
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) +
                                   " may not remove budgets (admin and dept_admin tokens do)"));
    if (Status s = OnlyParams(req, {"scope", "name", "month"}); !s.ok()) return Reply(res, s);
    if (!req.has_param("scope") || !req.has_param("name"))
      return Reply(res, InvalidArgument("DELETE /api/v1/budgets needs query parameters scope and name"));
    auto scope = ScopeParam(req.get_param_value("scope"));
    if (!scope.ok()) return Reply(res, scope.status());
    auto month = MonthValue(req.has_param("month") ? req.get_param_value("month") : "every");
    if (!month.ok()) return Reply(res, month.status());
    const std::string name = req.get_param_value("name");
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto now_month = ctx->tz.MonthOf(clock_.Now());
    if (!now_month.ok()) return Reply(res, now_month.status());
    // The project's departments come from its jobs; no metering is needed: as of the
    // month's start, nothing is metered.
    auto w = ctx->tz.MonthWindow(*now_month);
    if (!w.ok()) return Reply(res, w.status());
    auto mtd = MonthToDateCosts(*ledger_, *ctx, *now_month, w->start);
    if (!mtd.ok()) return Reply(res, mtd.status());
    if (Status s = CanWriteBudget(*p, *scope, name, *mtd); !s.ok()) return DenyLocked(req, res, *p, s);
    bool deleted = false;
    Status done = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      ASSIGN_OR_RETURN(deleted, ledger_->DeleteBudget(*scope, name, *month));
      if (!deleted)
        return NotFound("no " + std::string(BudgetScopeName(*scope)) + " budget of '" + name + "' for " +
                        (*month ? (*month)->ToString() : std::string("every month")));
      return AuditLocked(req, &*p, 200, "DELETE /api/v1/budgets",
                         "scope=" + std::string(BudgetScopeName(*scope)) + " name=" + name +
                             " month=" + (*month ? (*month)->ToString() : "every"));
    });
    if (!done.ok()) return Reply(res, done);
    res.set_content(nlohmann::json{{"deleted", true},
                                   {"scope", std::string(BudgetScopeName(*scope))},
                                   {"name", name},
                                   {"month", *month ? (*month)->ToString() : std::string("every")}}
                            .dump() +
                        "\n",
                    "application/json");
  });

  // The organisation's gate mode: {"mode": "warn" | "refuse"}. Admin only.
  http_->Put("/api/v1/budgets/gate", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin)
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) +
                                   " may not set the budget gate (admin tokens do)"));
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (!body.is_object() || body.size() != 1 || !body.contains("mode") || !body["mode"].is_string())
      return Reply(res, InvalidArgument(R"(the body is {"mode": "warn"} or {"mode": "refuse"})"));
    std::optional<BudgetGateMode> mode = ParseBudgetGateMode(body["mode"].get<std::string>());
    if (!mode)
      return Reply(
          res, InvalidArgument("budget gate mode is '" + EscapeForMessage(body["mode"].get<std::string>()) +
                               "': send warn or refuse"));
    BudgetGateSetting g{*mode, p->token_id, clock_.Now()};
    MutexLock lock(ledger_mu_);
    Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      RETURN_IF_ERROR(ledger_->SetBudgetGate(g));
      return AuditLocked(req, &*p, 200, "PUT /api/v1/budgets/gate",
                         "mode=" + std::string(BudgetGateModeName(g.mode)));
    });
    if (!stored.ok()) return Reply(res, stored);
    res.set_content(nlohmann::json{{"mode", std::string(BudgetGateModeName(g.mode))},
                                   {"set_by", g.set_by},
                                   {"set", FormatTime(g.set_ms)}}
                            .dump() +
                        "\n",
                    "application/json");
  });
}

void Server::WatchBudgetsLocked() {
  NoticeSink* sink = notice_sink();  // null without --notify: recorded and audited, nobody told
  Status s = [&]() GL_REQUIRES(ledger_mu_) -> Status {
    ASSIGN_OR_RETURN(std::vector<BudgetRecord> budgets, ledger_->ListBudgets());
    if (budgets.empty()) return OkStatus();
    ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger_));
    ctx.cache = &books_;
    const Currency& currency = ctx.prices.currency();
    ASSIGN_OR_RETURN(YearMonth month, ctx.tz.MonthOf(clock_.Now()));
    ASSIGN_OR_RETURN(MonthToDate mtd, MonthToDateCosts(*ledger_, ctx, month, BooksAsOf(ctx, month)));
    for (const BudgetStanding& st : StandingsInForce(budgets, mtd, currency)) {
      const std::string dept =
          st.budget.scope == BudgetScope::kProject ? mtd.DepartmentOf(st.budget.name) : "";
      for (const Notice& n : BudgetNotices(st, currency, dept)) {
        // One unit of work per alert: its record (once per cause), the audit entry and
        // the notice; a failure stores none of them and the next flush tries again.
        RETURN_IF_ERROR(ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
          BudgetAlertRow row{n.cause_key, st.budget.scope, st.budget.name, st.month, n.event, n.at_ms, ""};
          nlohmann::json data = nlohmann::json::object();
          for (const auto& [k, v] : n.fields) data[k] = v;
          row.data_json = data.dump();
          ASSIGN_OR_RETURN(bool fresh, ledger_->PutBudgetAlert(row));
          // Recorded (and audited) before: only offered to the outbox again, which keeps one
          // notice per cause, so an alert recorded while notifications were off is sent
          // once they are on.
          if (!fresh) return sink != nullptr ? sink->Enqueue(n) : OkStatus();
          AuditEntry e;
          e.at_ms = clock_.Now();
          e.role = "policy";
          e.action = "policy budget alert";
          e.detail = "cause=" + n.cause_key + " event=" + n.event +
                     " month_to_date=" + data.value("month_to_date", "") +
                     " budget=" + data.value("budget", "") + " as_of=" + FormatTime(n.at_ms);
          e.remote = "budget watch";
          RETURN_IF_ERROR(ledger_->AppendAudit(e));
          return sink != nullptr ? sink->Enqueue(n) : OkStatus();
        }));
      }
    }
    return OkStatus();
  }();
  budget_watch_log_.Record(s);
  background_errors_.Record("budget_watch", s, clock_.Now());
}

}  // namespace gpuledger
