// The monthly close over the API (report/close.h, docs/CLOSE.md): GET /api/v1/months
// (admin and finance read the list), POST /api/v1/months/{YYYY-MM}/close and
// POST /api/v1/months/{YYYY-MM}/reopen (admin only; the reopen's body names the reason).
// A close or reopen is audited in the transaction that makes it; a refusal is audited by Deny.
// The books of a period read over the API: GET /api/v1/reports/monthly (scoped to the
// role), GET /api/v1/reports/range (any date range by day, week or month,
// report/periods.h), GET /api/v1/exports/{month|range} (csv, json, FOCUS, xlsx;
// docs/EXPORTS.md). Also GET /api/v1/jobs/{id}/report: a job's efficiency report
// (report/job_report.h), scoped as GET /api/v1/jobs/{id} is.
#include <httplib.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strings.h"
#include "domain/ids.h"
#include "report/close.h"
#include "report/export.h"
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

// A file of its own under the temporary directory, removed with the object (the workbook
// writer takes a path; the answer is the file's bytes).
class TempFile {
 public:
  static StatusOr<TempFile> Create(const std::string& prefix, const std::string& suffix) {
    std::string path = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX" + suffix)).string();
    const int fd = mkstemps(path.data(), static_cast<int>(suffix.size()));
    if (fd < 0) return Unavailable("cannot create a temporary file " + path + ": " + std::strerror(errno));
    close(fd);
    return TempFile(std::move(path));
  }
  TempFile(TempFile&& o) noexcept : path_(std::move(o.path_)) { o.path_.clear(); }
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  ~TempFile() {
    if (!path_.empty()) std::remove(path_.c_str());
  }
  const std::string& path() const { return path_; }
  StatusOr<std::string> Read() const {
    std::ifstream f(path_, std::ios::binary);
    if (!f) return Unavailable("cannot read " + path_);
    std::ostringstream s;
    s << f.rdbuf();
    return s.str();
  }

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// GET /api/v1/reports/monthly lists this many of the most idle GPUs unless ?idle_gpus=.
constexpr size_t kDefaultIdleGpus = 50;

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
  // The monthly report, confined to what the caller's role may see; every read audited.
  http_->Get("/api/v1/reports/monthly", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {"month", "by", "share_idle", "idle_gpus"}); !s.ok()) return Reply(res, s);
    // The most idle GPUs only, unless asked: the whole list is 250 bytes a GPU.
    size_t idle_gpus = kDefaultIdleGpus;
    if (req.has_param("idle_gpus") && req.get_param_value("idle_gpus") != "all") {
      const std::string v = req.get_param_value("idle_gpus");
      auto n = ParseInt(v, "idle_gpus");
      if (!n.ok() || *n < 0 || *n > 1'000'000) {
        return Reply(res, InvalidArgument("query parameter 'idle_gpus' is '" + EscapeForMessage(v) +
                                          "': send a count from 0 to 1000000, or all"));
      }
      idle_gpus = static_cast<size_t>(*n);
    } else if (req.has_param("idle_gpus")) {
      idle_gpus = SIZE_MAX;
    }
    auto by = ParseGroupBy(req.has_param("by") ? req.get_param_value("by") : "department");
    if (!by.ok()) return Reply(res, by.status());
    auto month = ParseYearMonth(req.get_param_value("month"));
    if (!month.ok()) return Reply(res, month.status());
    auto scope = ReportScopeFor(*p, *by);
    if (!scope.ok()) return Deny(req, res, *p, scope.status());
    auto share = BoolParam(req, "share_idle");
    if (!share.ok()) return Reply(res, share.status());
    const bool share_idle = *share;
    MutexLock lock(ledger_mu_);
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    ctx->cache = &books_;
    auto report =
        BuildMonthlyReport(*ledger_, *ctx, *month, BooksAsOf(*ctx, *month), *by, share_idle, *scope);
    if (!report.ok()) return Reply(res, report.status());
    if (report->idle_by_gpu.size() > idle_gpus) {
      report->idle_by_gpu_omitted = static_cast<int64_t>(report->idle_by_gpu.size() - idle_gpus);
      report->idle_by_gpu.resize(idle_gpus);
    }
    Status audited = AuditLocked(req, &*p, 200, "GET /api/v1/reports/monthly",
                                 "month=" + month->ToString() + " by=" + std::string(GroupByName(*by)));
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    ++counters_.report_requests;
    res.set_content(RenderReportJson(*report), "application/json");
  });

  // The month's books for machines (docs/EXPORTS.md): csv | json by one dimension, or
  // FOCUS 1.2. Scoped as the report is; finance always gets the desensitised variant (no
  // user or job names; FOCUS rows keep their salted job keys). Every read audited.
  http_->Get(R"(/api/v1/exports/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    // /api/v1/exports/range?from=&to=&grain=: a date range's periods (report/periods.h).
    const bool ranged = req.matches[1] == "range";
    if (Status s =
            ranged ? OnlyParams(req, {"format", "by", "desensitised", "share_idle", "from", "to", "grain"})
                   : OnlyParams(req, {"format", "by", "desensitised", "share_idle"});
        !s.ok())
      return Reply(res, s);
    if (ranged && (!req.has_param("from") || !req.has_param("to"))) {
      return Reply(res,
                   InvalidArgument("a range needs query parameters 'from' and 'to' (YYYY-MM-DD or YYYY-MM)"));
    }
    auto month = ranged ? StatusOr<YearMonth>(YearMonth{}) : ParseYearMonth(std::string(req.matches[1]));
    if (!month.ok()) return Reply(res, month.status());
    auto grain = ParseGrain(req.has_param("grain") ? req.get_param_value("grain") : "range");
    if (!grain.ok())
      return Reply(res, InvalidArgument("query parameter 'grain': " + grain.status().message()));
    ExportRequest er;
    er.month = *month;
    er.format = req.has_param("format") ? req.get_param_value("format") : "json";
    er.by = req.has_param("by") ? req.get_param_value("by") : "";
    if (er.format != "csv" && er.format != "json" && er.format != "focus" && er.format != "xlsx") {
      return Reply(res, InvalidArgument("query parameter 'format' is '" + EscapeForMessage(er.format) +
                                        "': send csv, json, focus or xlsx"));
    }
    const std::string des = req.has_param("desensitised") ? req.get_param_value("desensitised") : "0";
    if (des != "0" && des != "1" && des != "true" && des != "false") {
      return Reply(res, InvalidArgument("query parameter 'desensitised' is '" + EscapeForMessage(des) +
                                        "': send 1 or 0"));
    }
    er.desensitised = des == "1" || des == "true" || p->role == Role::kFinance;
    auto share = BoolParam(req, "share_idle");
    if (!share.ok()) return Reply(res, share.status());
    er.share_idle = *share;
    // The workbook's sheets are by department, project and (not desensitised) user.
    auto by = er.format == "focus" ? StatusOr<GroupBy>(GroupBy::kJob)
              : er.format == "xlsx"
                  ? StatusOr<GroupBy>(er.desensitised ? GroupBy::kDepartment : GroupBy::kUser)
                  : ParseGroupBy(er.by.empty() ? "department" : er.by);
    if (!by.ok()) return Reply(res, by.status());
    // A FOCUS row is a job's charge: finance sees it under the job's salted key only.
    auto scope = ReportScopeFor(*p, er.format == "focus" && er.desensitised ? GroupBy::kDepartment : *by);
    if (!scope.ok()) return Deny(req, res, *p, scope.status());
    er.scope = *scope;
    MutexLock lock(ledger_mu_);
    if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);  // every sample acknowledged
    auto ctx = LoadBooksContext(*ledger_);
    if (!ctx.ok()) return Reply(res, ctx.status());
    er.as_of = clock_.Now();
    if (ranged) {
      auto range = MakeDateRange(ctx->tz, req.get_param_value("from"), req.get_param_value("to"), *grain);
      if (!range.ok()) return Reply(res, range.status());
      er.range = std::move(range).value();
    }
    std::optional<TempFile> xlsx;
    if (er.format == "xlsx") {
      auto made = TempFile::Create("gpuledger-export-", ".xlsx");
      if (!made.ok()) return Reply(res, made.status());
      xlsx.emplace(std::move(made).value());
      er.xlsx_path = xlsx->path();
    }
    auto out = BuildExport(*ledger_, *ctx, er);
    if (!out.ok()) return Reply(res, out.status());
    if (xlsx) {
      auto body = xlsx->Read();
      if (!body.ok()) return Reply(res, body.status());
      out->body = std::move(body).value();
    }
    const std::string period = er.range ? er.range->first_day + ".." + er.range->last_day + "-" +
                                              std::string(GrainName(er.range->grain))
                                        : month->ToString();
    Status audited =
        AuditLocked(req, &*p, 200, "GET /api/v1/exports/{month}",
                    (er.range ? "range=" + period : "month=" + period) + " format=" + er.format +
                        " by=" + std::string(GroupByName(out->by)) +
                        (er.desensitised ? " desensitised" : "") + (er.share_idle ? " share_idle" : ""));
    if (!audited.ok()) return Reply(res, audited);  // no audit, no data
    ++counters_.report_requests;
    if (er.format != "json") {
      const char* ext = er.format == "xlsx" ? ".xlsx" : ".csv";  // focus is a CSV too
      res.set_header("Content-Disposition", "attachment; filename=\"gpuledger-" + period + "-" + er.format +
                                                (er.desensitised ? "-desensitised" : "") + ext + "\"");
    }
    res.set_content(out->body, out->content_type);
  });

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
