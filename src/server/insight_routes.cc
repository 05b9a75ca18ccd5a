// The insight reads (docs/INSIGHT.md, docs/api/openapi.yaml): GET /api/v1/compare, the
// CLI's `gpuledger compare`, and GET /api/v1/trends, `gpuledger trends`. Both are scoped
// as the report is (user: its project; dept_admin: its department; admin and finance:
// the cluster, since neither names a user or a job); ingest reads neither. And
// GET /api/v1/projects/{P}/statement, `gpuledger statement`: it names users, so a user
// reads its own project's, a dept_admin those of its department's projects, an admin
// any; finance and ingest none. Audited.
#include <httplib.h>

#include "report/compare.h"
#include "report/statement.h"
#include "report/trends.h"
#include "server/auth.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

namespace {

StatusOr<std::optional<YearMonth>> MonthParam(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::optional<YearMonth>();
  ASSIGN_OR_RETURN(YearMonth m, ParseYearMonth(req.get_param_value(name)));
  return std::optional<YearMonth>(m);
}

}  // namespace

void Server::InsightRoutes() {
  http_->Get("/api/v1/compare", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {"by", "month", "a", "b"}); !s.ok()) return Reply(res, s);
    CompareOptions o;
    auto by = ParseCompareBy(req.has_param("by") ? req.get_param_value("by") : "image");
    if (!by.ok()) return Reply(res, by.status());
    o.by = *by;
    auto month = MonthParam(req, "month");
    if (!month.ok()) return Reply(res, month.status());
    o.month = *month;
    o.a = req.get_param_value("a");
    o.b = req.get_param_value("b");
    auto scope = ReportScopeFor(*p, GroupBy::kModel);
    if (!scope.ok()) return Deny(req, res, *p, scope.status());
    o.scope = *scope;
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto c = BuildComparison(*ledger_, *ctx, o, BooksAsOf(*ctx, o.month));
    if (!c.ok()) return Reply(res, c.status());
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/compare",
                                 "by=" + std::string(CompareByName(o.by)) +
                                     (o.month ? " month=" + o.month->ToString() : std::string()));
    if (!audited.ok()) return Reply(res, audited);
    res.set_content(RenderComparisonJson(*c), "application/json");
  });

  http_->Get("/api/v1/trends", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {"project", "from", "to"}); !s.ok()) return Reply(res, s);
    TrendsOptions o;
    o.project = req.get_param_value("project");
    for (auto [name, into] : {std::pair{"from", &o.from}, std::pair{"to", &o.to}}) {
      auto m = MonthParam(req, name);
      if (!m.ok()) return Reply(res, m.status());
      *into = *m;
    }
    auto scope = ReportScopeFor(*p, GroupBy::kProject);
    if (!scope.ok()) return Deny(req, res, *p, scope.status());
    o.scope = *scope;
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto t = BuildTrends(*ledger_, *ctx, o, BooksAsOf(*ctx, std::nullopt));
    if (!t.ok()) return Reply(res, t.status());
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/trends",
                                 o.project.empty() ? std::string("all") : "project=" + o.project);
    if (!audited.ok()) return Reply(res, audited);
    res.set_content(RenderTrendsJson(*t), "application/json");
  });

  http_->Get(
      R"(/api/v1/projects/([^/]+)/statement)", [this](const httplib::Request& req, httplib::Response& res) {
        auto p = Authenticate(req, res);
        if (!p) return;
        const std::string project = req.matches[1];
        if (Status s = OnlyParams(req, {"month"}); !s.ok()) return Reply(res, s);
        auto scope = ReportScopeFor(*p, GroupBy::kUser);
        if (!scope.ok()) return Deny(req, res, *p, scope.status());
        if (!scope->project.empty() && scope->project != project) {
          return Deny(
              req, res, *p,
              PermissionDenied("a user reads only its own project's statement ('" + scope->project + "')"));
        }
        MutexLock lock(ledger_mu_);
        if (!scope->department.empty()) {
          // A department admin reads the statement of a project whose jobs are all in its
          // department, before anything of the cluster is read for it.
          auto jobs = ledger_->ListJobs();
          if (!jobs.ok()) return Reply(res, jobs.status());
          const std::vector<std::string> depts = ProjectDepartments(*jobs, project);
          if (depts.empty() || depts.size() > 1 || depts[0] != scope->department) {
            return DenyLocked(
                req, res, *p,
                PermissionDenied("project '" + project + "' does not have all its jobs in department '" +
                                 scope->department + "'"));
          }
        }
        auto ctx = LoadBooksContext(*ledger_);
        if (!ctx.ok()) return Reply(res, ctx.status());
        ctx->cache = &books_;
        std::optional<YearMonth> month;
        if (req.has_param("month")) {
          auto m = ParseYearMonth(req.get_param_value("month"));
          if (!m.ok()) return Reply(res, m.status());
          month = *m;
        } else {
          auto now = ctx->tz.MonthOf(BooksAsOf(*ctx, std::nullopt));
          if (!now.ok()) return Reply(res, now.status());
          month = now->Prev();
        }
        auto st = BuildProjectStatement(*ledger_, *ctx, *month, BooksAsOf(*ctx, month), project);
        if (!st.ok()) return Reply(res, st.status());
        Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/projects/{P}/statement",
                                     "project=" + project + " month=" + month->ToString());
        if (!audited.ok()) return Reply(res, audited);
        res.set_content(RenderStatementJson(*st), "application/json");
      });
}

}  // namespace gpuledger
