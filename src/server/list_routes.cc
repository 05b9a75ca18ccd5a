// The dashboard's two list reads (docs/api/openapi.yaml): GET /api/v1/jobs, jobs
// filtered and paged with their cost so far, scoped as a job read is (user: its project,
// dept_admin: its department, admin: all; finance and ingest read no job names), and
// GET /api/v1/leaderboard, the CLI's `gpuledger leaderboard` (report/report.h). Audited.
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "domain/ids.h"
#include "report/figures.h"
#include "report/gpus_now.h"
#include "report/render.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

namespace {

constexpr int64_t kDefaultJobPage = 50;
constexpr int64_t kMaxJobPage = 500;

struct JobFilter {
  std::string project, user, model, department, gpu_model;
  std::optional<JobStatus> status;
  Window span{kMinTimeMs, kMaxTimeMs};  // jobs whose run (or, not started, submission) overlaps it
  int64_t limit = kDefaultJobPage;
  int64_t offset = 0;
  bool out_of_scope = false;  // a filter the caller's role may not see: nothing matches
};

StatusOr<int64_t> CountParam(const httplib::Request& req, const char* name, int64_t fallback, int64_t max) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  auto n = ParseInt(v, name);
  if (!n.ok() || *n < 0 || *n > max) {
    return InvalidArgument(std::string("query parameter '") + name + "' is '" + EscapeForMessage(v) +
                           "': send a count from 0 to " + std::to_string(max));
  }
  return *n;
}

StatusOr<JobFilter> ParseJobFilter(const httplib::Request& req, const BooksContext& ctx) {
  JobFilter f;
  f.project = req.get_param_value("project");
  f.user = req.get_param_value("user");
  f.model = req.get_param_value("model");
  f.gpu_model = req.get_param_value("gpu_model");
  if (req.has_param("status")) {
    ASSIGN_OR_RETURN(f.status, ParseJobStatus(req.get_param_value("status")));
  }
  if (req.has_param("month") && (req.has_param("from") || req.has_param("to"))) {
    return InvalidArgument("give ?month= or ?from=/?to=, not both");
  }
  if (req.has_param("month")) {
    ASSIGN_OR_RETURN(YearMonth m, ParseYearMonth(req.get_param_value("month")));
    ASSIGN_OR_RETURN(f.span, ctx.tz.MonthWindow(m));
  }
  for (const char* name : {"from", "to"}) {
    if (!req.has_param(name)) continue;
    auto t = ParseTime(req.get_param_value(name));
    if (!t.ok())
      return InvalidArgument(std::string("query parameter '") + name + "': " + t.status().message());
    (std::string_view(name) == "from" ? f.span.start : f.span.end) = *t;
  }
  if (f.span.start >= f.span.end) {
    return InvalidArgument("from " + FormatTime(f.span.start) + " is not before to " +
                           FormatTime(f.span.end));
  }
  ASSIGN_OR_RETURN(f.limit, CountParam(req, "limit", kDefaultJobPage, kMaxJobPage));
  ASSIGN_OR_RETURN(f.offset, CountParam(req, "offset", 0, INT64_MAX / 2));
  return f;
}

bool Matches(const JobFilter& f, const Job& j) {
  if (f.out_of_scope) return false;
  if (!f.project.empty() && j.project != f.project) return false;
  if (!f.department.empty() && j.department != f.department) return false;
  if (!f.user.empty() && j.user != f.user) return false;
  if (!f.model.empty() && j.model_type != f.model) return false;
  if (!f.gpu_model.empty() && j.gpu_model != f.gpu_model) return false;
  if (f.status && j.status != *f.status) return false;
  const TimeMs begin = j.start_ms != 0 ? j.start_ms : j.submitted_ms;
  const TimeMs end = j.end_ms != 0 ? j.end_ms : kMaxTimeMs;
  return begin < f.span.end && end > f.span.start;
}

// As GET /api/v1/jobs/{id} is scoped (routes.cc): users their project's, department
// admins their department's, admins all.
bool MaySeeJob(const Principal& p, const Job& job) {
  return p.role == Role::kAdmin || (p.role == Role::kUser && job.project == p.project) ||
         (p.role == Role::kDeptAdmin && job.department == p.department);
}

nlohmann::json OrNull(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}

nlohmann::json TimeOrNull(TimeMs t) {
  return t == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatTime(t));
}

}  // namespace

void Server::ListRoutes() {
  // The GPUs now (report/gpus_now.h): admins with the jobs holding each, finance with
  // their count only; the cluster's capacity is no other role's.
  http_->Get("/api/v1/gpus", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin && p->role != Role::kFinance) {
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) +
                                   " may not read the cluster's GPUs (admin and finance do)"));
    }
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);  // the latest samples are in
    const TimeMs now = clock_.Now();
    const GpusNowOptions options;
    auto gpus = ledger_->ListGpus();
    if (!gpus.ok()) return Reply(res, gpus.status());
    auto allocs = ledger_->AllocationsOverlapping({now, now + 1});
    if (!allocs.ok()) return Reply(res, allocs.status());
    std::map<std::string, Sample> latest;
    for (const Gpu& g : *gpus) {
      Status scanned = ledger_->ScanSamples(g.uuid, {now - options.max_age_ms, now + 1},
                                            [&](const Sample& s) { latest[g.uuid] = s; });
      if (!scanned.ok()) return Reply(res, scanned);
    }
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/gpus", "gpus=" + std::to_string(gpus->size()));
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    res.set_content(RenderGpusNowJson(GpusNow(*gpus, *allocs, latest, now, options), now, options,
                                      p->role == Role::kAdmin),
                    "application/json");
  });

  http_->Get("/api/v1/jobs", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kFinance || p->role == Role::kIngest) {
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) + " lists no jobs"));
    }
    if (Status s = OnlyParams(req, {"month", "from", "to", "project", "user", "status", "model", "gpu_model",
                                    "limit", "offset"});
        !s.ok())
      return Reply(res, s);
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto filter = ParseJobFilter(req, *ctx);
    if (!filter.ok()) return Reply(res, filter.status());
    // The role's scope, as on a single job's read: a filter outside it finds nothing.
    if (p->role == Role::kUser) {
      filter->out_of_scope = !filter->project.empty() && filter->project != p->project;
      filter->project = p->project;
    }
    if (p->role == Role::kDeptAdmin) filter->department = p->department;
    auto jobs = ledger_->ListJobs();
    if (!jobs.ok()) return Reply(res, jobs.status());
    std::vector<Job> matched;
    for (Job& j : *jobs) {
      if (Matches(*filter, j)) matched.push_back(std::move(j));
    }
    std::sort(matched.begin(), matched.end(), [](const Job& a, const Job& b) {
      return a.submitted_ms != b.submitted_ms ? a.submitted_ms > b.submitted_ms : a.id < b.id;
    });
    const auto total = static_cast<int64_t>(matched.size());
    const auto first = static_cast<size_t>(std::min(filter->offset, total));
    const auto last = static_cast<size_t>(std::min(total, filter->offset + filter->limit));
    std::vector<Job> page(std::make_move_iterator(matched.begin() + static_cast<std::ptrdiff_t>(first)),
                          std::make_move_iterator(matched.begin() + static_cast<std::ptrdiff_t>(last)));
    const TimeMs as_of = BooksAsOf(*ctx, std::nullopt);
    auto costs = BuildJobCosts(*ledger_, *ctx, page, as_of);
    if (!costs.ok()) return Reply(res, costs.status());
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/jobs",
                                 "jobs=" + std::to_string(page.size()) + " of " + std::to_string(total));
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    const Currency currency = ctx->prices.currency();
    nlohmann::ordered_json out;
    out["as_of"] = FormatTime(as_of);
    out["currency"] = currency.code;
    out["total"] = total;
    out["offset"] = filter->offset;
    out["limit"] = filter->limit;
    out["jobs"] = nlohmann::ordered_json::array();
    for (const Job& j : page) {
      nlohmann::ordered_json row = {{"id", j.id},
                                    {"user", j.user},
                                    {"project", j.project},
                                    {"department", j.department},
                                    {"model_type", j.model_type},
                                    {"gpu_model", j.gpu_model},
                                    {"gpus", static_cast<double>(j.gpu_share_ppm) / 1e6},
                                    {"status", std::string(JobStatusName(j.status))},
                                    {"submitted", TimeOrNull(j.submitted_ms)},
                                    {"start", TimeOrNull(j.start_ms)},
                                    {"end", TimeOrNull(j.end_ms)}};
      auto c = costs->find(j.id);
      const JobCost cost = c == costs->end() ? JobCost{} : c->second;
      row["cost"] = FormatMicros(cost.cost_micros, currency.minor_digits);
      row["gpu_hours"] = cost.usage.gpu_hours();
      row["busy_gpu_hours"] = cost.usage.busy_hours();
      row["covered_gpu_hours"] = cost.usage.covered_hours();
      row["dense_gpu_hours"] = cost.usage.dense_hours();
      row["density"] = FigureJson(cost.usage.density());
      row["mean_util_pct"] = FigureJson(cost.usage.mean_util_pct());
      out["jobs"].push_back(std::move(row));
    }
    res.set_content(out.dump() + "\n", "application/json");
  });

  // A job's training progress, epoch by epoch (loss and mAP for the job page).
  http_->Get(R"(/api/v1/jobs/([^/]+)/progress)", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kFinance || p->role == Role::kIngest) {
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) + " reads no single jobs"));
    }
    const std::string id = req.matches[1];
    if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    auto found = ledger_->GetJob(id);
    if (!found.ok()) return Reply(res, found.status());
    if (!*found || !MaySeeJob(*p, **found)) return Reply(res, NotFound("no job '" + id + "'"));
    auto epochs = ledger_->GetProgress(id);
    if (!epochs.ok()) return Reply(res, epochs.status());
    if (Status s = AuditLocked(req, &*p, 200, "GET /api/v1/jobs/{id}/progress", "job=" + id); !s.ok()) {
      return Reply(res, s);
    }
    nlohmann::ordered_json out = {{"id", id}, {"epochs", nlohmann::ordered_json::array()}};
    for (const EpochProgress& e : *epochs) {
      out["epochs"].push_back({{"epoch", e.epoch},
                               {"time_s", OrNull(e.time_s)},
                               {"train_loss", OrNull(e.train_loss)},
                               {"val_loss", OrNull(e.val_loss)},
                               {"precision", OrNull(e.precision)},
                               {"recall", OrNull(e.recall)},
                               {"map50", OrNull(e.map50)},
                               {"map50_95", OrNull(e.map50_95)}});
    }
    res.set_content(out.dump() + "\n", "application/json");
  });

  // The cost-effectiveness leaderboard: model configurations only (no user or job
  // names), so every reading role sees it whole.
  http_->Get("/api/v1/leaderboard", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kIngest) {
      return Deny(req, res, *p, PermissionDenied("role ingest reads no leaderboard"));
    }
    if (Status s = OnlyParams(req, {"month"}); !s.ok()) return Reply(res, s);
    std::optional<YearMonth> month;
    if (req.has_param("month")) {
      auto m = ParseYearMonth(req.get_param_value("month"));
      if (!m.ok()) return Reply(res, m.status());
      month = *m;
    }
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto lb = BuildLeaderboard(*ledger_, *ctx, month, BooksAsOf(*ctx, month));
    if (!lb.ok()) return Reply(res, lb.status());
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/leaderboard",
                                 month ? "month=" + month->ToString() : std::string("all"));
    if (!audited.ok()) return Reply(res, audited);
    res.set_content(RenderLeaderboardJson(*lb), "application/json");
  });
}

}  // namespace gpuledger
