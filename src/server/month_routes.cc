// The monthly close over the API (report/close.h, docs/CLOSE.md): GET /api/v1/months
// (admin and finance read the list), POST /api/v1/months/{YYYY-MM}/close and
// POST /api/v1/months/{YYYY-MM}/reopen (admin only; the reopen's body names the reason).
// A close or reopen is audited in the transaction that makes it; a refusal is audited by Deny.
// Also GET /api/v1/jobs/{id}/report: a job's efficiency report (report/job_report.h),
// scoped as GET /api/v1/jobs/{id} is; and GET /api/v1/reports/range: any date range by
// day, week or month (report/periods.h), scoped as the monthly report.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "domain/ids.h"
#include "report/close.h"
#include "report/job_report.h"
#include "report/render.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

StatusOr<bool> BoolParam(const httplib::Request& req, const char* name) {
  const std::string v = req.has_param(name) ? req.get_param_value(name) : "false";
  if (v != "true" && v != "false") {
    return InvalidArgument(std::string("query parameter '") + name + "' is '" + EscapeForMessage(v) +
                           "': send true or false");
  }
  return v == "true";
}

namespace {

AuditEntry AuditFor(const httplib::Request& req, const Principal& p, const std::string& action) {
  AuditEntry e;
  e.token_id = p.token_id;
  e.role = std::string(RoleName(p.role));
  e.action = action;
  e.remote = req.remote_addr;
  e.status = 200;
  return e;
}

// {"reason": "..."}: the reopen's one field.
StatusOr<std::string> ReasonOf(const std::string& body) {
  try {
    const nlohmann::json j = nlohmann::json::parse(body);
    if (!j.is_object()) return InvalidArgument(R"(the body must be a JSON object {"reason": "..."})");
    for (const auto& [k, v] : j.items()) {
      if (k != "reason") return InvalidArgument("unknown field '" + k + "': the body has only 'reason'");
    }
    if (!j.contains("reason") || !j["reason"].is_string() || j["reason"].get<std::string>().empty()) {
      return InvalidArgument(
          "field 'reason' is required: a non-empty string saying why the month is reopened");
    }
    return j["reason"].get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("the body is not JSON: ") + e.what());
  }
}

}  // namespace

void Server::MonthRoutes() {
  http_->Get("/api/v1/months", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin && p->role != Role::kFinance) {
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) +
                                   " may not list the months' close state (admin and finance do)"));
    }
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    auto months = ListMonthStates(*ledger_, *ctx, clock_.Now());
    if (!months.ok()) return Reply(res, months.status());
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/months", "");
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    res.set_content(RenderMonthStatesJson(*months, ctx->prices.currency()), "application/json");
  });

  http_->Post(R"(/api/v1/months/([^/]+)/(close|reopen))",
              [this](const httplib::Request& req, httplib::Response& res) {
                auto p = Authenticate(req, res);
                if (!p) return;
                const std::string verb = req.matches[2];
                if (p->role != Role::kAdmin) {
                  return Deny(req, res, *p,
                              PermissionDenied("role " + std::string(RoleName(p->role)) + " may not " + verb +
                                               " a month (admin tokens do)"));
                }
                if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
                auto month = ParseYearMonth(std::string(req.matches[1]));
                if (!month.ok()) return Reply(res, month.status());
                std::string reason;
                if (verb == "reopen") {
                  auto r = ReasonOf(req.body);
                  if (!r.ok()) return Reply(res, r.status());
                  reason = std::move(r).value();
                }
                MutexLock lock(ledger_mu_);
                if (Status s = FlushJournalLocked(); !s.ok())
                  return Reply(res, s);  // every acknowledged sample is in
                auto ctx = LoadBooksContext(*ledger_);
                if (!ctx.ok()) return Reply(res, ctx.status());
                const AuditEntry who = AuditFor(req, *p, "POST /api/v1/months/{month}/" + verb);
                auto done = verb == "close" ? CloseMonth(*ledger_, *ctx, *month, clock_.Now(), who)
                                            : ReopenMonth(*ledger_, *month, clock_.Now(), who, reason);
                if (!done.ok()) return Reply(res, done.status());
                res.set_content(RenderMonthCloseJson(*done, ctx->prices.currency()), "application/json");
              });

  // A date range's report, period by period: ?from=YYYY-MM[-DD]&to=...&grain=range|day|week|month.
  http_->Get("/api/v1/reports/range", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {"from", "to", "grain", "by", "share_idle"}); !s.ok())
      return Reply(res, s);
    if (!req.has_param("from") || !req.has_param("to")) {
      return Reply(res,
                   InvalidArgument("a range needs query parameters 'from' and 'to' (YYYY-MM-DD or YYYY-MM)"));
    }
    auto grain = ParseGrain(req.has_param("grain") ? req.get_param_value("grain") : "range");
    if (!grain.ok())
      return Reply(res, InvalidArgument("query parameter 'grain': " + grain.status().message()));
    auto by = ParseGroupBy(req.has_param("by") ? req.get_param_value("by") : "department");
    if (!by.ok()) return Reply(res, by.status());
    auto share = BoolParam(req, "share_idle");
    if (!share.ok()) return Reply(res, share.status());
    auto scope = ReportScopeFor(*p, *by);
    if (!scope.ok()) return Deny(req, res, *p, scope.status());
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto range = MakeDateRange(ctx->tz, req.get_param_value("from"), req.get_param_value("to"), *grain);
    if (!range.ok()) return Reply(res, range.status());
    auto report =
        BuildRangeReport(*ledger_, *ctx, *range, BooksAsOf(*ctx, std::nullopt), *by, *share, *scope);
    if (!report.ok()) return Reply(res, report.status());
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/reports/range",
                                 "from=" + range->first_day + " to=" + range->last_day + " grain=" +
                                     std::string(GrainName(*grain)) + " by=" + std::string(GroupByName(*by)));
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    ++counters_.report_requests;
    res.set_content(RenderRangeJson(*report), "application/json");
  });

  // Users see their project's jobs, department admins their department's, admins all;
  // finance and ingest tokens read no single job. Out of scope reads as absent.
  http_->Get(R"(/api/v1/jobs/([^/]+)/report)", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kFinance || p->role == Role::kIngest) {
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) + " reads no single jobs"));
    }
    const std::string id = req.matches[1];
    if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
    if (Status s = OnlyParams(req, {"lang"}); !s.ok()) return Reply(res, s);
    auto lang = ParseLang(req.has_param("lang") ? req.get_param_value("lang") : "en");
    if (!lang.ok()) return Reply(res, InvalidArgument("query parameter 'lang': " + lang.status().message()));
    MutexLock lock(ledger_mu_);
    auto found = ledger_->GetJob(id);
    if (!found.ok()) return Reply(res, found.status());
    const std::optional<Job>& job = *found;
    const bool visible =
        job && (p->role == Role::kAdmin || (p->role == Role::kUser && job->project == p->project) ||
                (p->role == Role::kDeptAdmin && job->department == p->department));
    if (!visible) return Reply(res, NotFound("no job '" + id + "'"));
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    ctx->held_without_samples_after_ms = options_.held_without_samples_after_ms;
    auto report = BuildJobReport(*ledger_, *ctx, *job, BooksAsOf(*ctx, std::nullopt), *lang);
    if (!report.ok()) return Reply(res, report.status());
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/jobs/{id}/report", "job=" + id);
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    res.set_content(RenderJobReportJson(*report), "application/json");
  });
}

}  // namespace gpuledger
