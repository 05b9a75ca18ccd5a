// POST /api/v1/submissions (platforms that submit for their users) and GET
// /api/v1/policy: the same checks, estimate and registration as `gpuledger submit`
// (submit/submission.h). Audited.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "domain/ids.h"
#include "ingest/importers.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"
#include "submit/submission.h"

namespace gpuledger {

namespace {

struct SubmissionBody {
  SubmitRequest req;
  bool dry_run = false;
};

// The jobs API's fields, plus "max_cost" (an amount as a string), "dry_run" (a boolean)
// and "map_margin" (mAP@0.5 points, a number). No allocations: the job has not run yet.
StatusOr<SubmissionBody> ParseSubmissionBody(const std::string& text, TimeMs now) {
  nlohmann::json body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return InvalidArgument("body is not a JSON object");
  SubmissionBody out;
  if (body.contains("allocations"))
    return InvalidArgument("a submission has no allocations: it has not run yet");
  if (body.contains("max_cost")) {
    if (!body["max_cost"].is_string())
      return InvalidArgument("field 'max_cost' must be a string such as \"30.00\"");
    ASSIGN_OR_RETURN(int64_t m, ParseMicros(body["max_cost"].get<std::string>(), "max_cost"));
    out.req.max_cost_micros = m;
    body.erase("max_cost");
  }
  if (body.contains("dry_run")) {
    if (!body["dry_run"].is_boolean()) return InvalidArgument("field 'dry_run' must be a boolean");
    out.dry_run = body["dry_run"].get<bool>();
    body.erase("dry_run");
  }
  if (body.contains("map_margin")) {
    if (!body["map_margin"].is_number() || body["map_margin"].get<double>() < 0 ||
        body["map_margin"].get<double>() > 100)
      return InvalidArgument("field 'map_margin' must be a number of mAP@0.5 points in [0, 100]");
    out.req.estimate.map_margin = body["map_margin"].get<double>() / 100.0;
    body.erase("map_margin");
  }
  if (body.contains("image") && body["image"].is_string()) {
    auto [image, digest] = SplitImageDigest(body["image"].get<std::string>());
    body["image"] = image;
    if (!digest.empty() && !body.contains("image_digest")) body["image_digest"] = digest;
  }
  for (const char* f : {"status", "start", "end", "submitted"}) {
    if (body.contains(f))
      return InvalidArgument(std::string("field '") + f + "' is set by the submission, not sent");
  }
  if (!body.contains("id") && body.contains("user") && body["user"].is_string())
    body["id"] = NewSubmissionId(body["user"].get<std::string>(), now);
  ASSIGN_OR_RETURN(JobRequest parsed, ParseJobJson(body.dump()));
  out.req.job = std::move(parsed.job);
  return out;
}

}  // namespace

void Server::SubmissionRoutes() {
  // The roles that register jobs (POST /api/v1/jobs): ingest and admin tokens. Users and
  // department admins ask for the estimate only (dry_run), of their project's or
  // department's job: the answer names no other job or user.
  http_->Post("/api/v1/submissions", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    const bool estimates_only = p->role == Role::kUser || p->role == Role::kDeptAdmin;
    if (p->role != Role::kIngest && p->role != Role::kAdmin && !estimates_only) {
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) +
                                   " may not submit jobs (ingest and admin tokens do)"));
    }
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    auto body = ParseSubmissionBody(req.body, clock_.Now());
    if (!body.ok()) return Reply(res, body.status());
    if (estimates_only) {
      const std::string role(RoleName(p->role));
      const Job& j = body->req.job;
      if (!body->dry_run) {
        return Deny(
            req, res, *p,
            PermissionDenied("role " + role +
                             " asks for estimates only: send \"dry_run\": true (jobs are registered by "
                             "ingest and admin tokens)"));
      }
      if (p->role == Role::kUser && j.project != p->project) {
        return Deny(
            req, res, *p,
            PermissionDenied("a user token of project '" + p->project +
                             "' estimates its project's jobs, not '" + EscapeForMessage(j.project) + "'"));
      }
      if (p->role == Role::kDeptAdmin && j.department != p->department) {
        return Deny(req, res, *p,
                    PermissionDenied("a dept_admin token of department '" + p->department +
                                     "' estimates its department's jobs, not '" +
                                     EscapeForMessage(j.department) + "'"));
      }
    }
    MutexLock lock(ledger_mu_);
    if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);  // the books it estimates from
    auto sub = PrepareSubmission(*ledger_, options_.policy, std::move(body->req), clock_.Now());
    if (!sub.ok()) return Reply(res, sub.status());
    if (body->dry_run) {
      res.set_content(SubmissionJson(*sub, false), "application/json");
      return;
    }
    Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      RETURN_IF_ERROR(RegisterSubmission(*ledger_, *sub));
      return AuditLocked(
          req, &*p, 201, "POST /api/v1/submissions",
          "job=" + sub->job.id + " estimate=" + std::string(EstimateBasisName(sub->estimate.basis)) +
              ExemptionAuditNote(sub->job.labels));
    });
    if (!stored.ok()) return Reply(res, stored);
    label_jobs_.Clear();  // the new job may be what a label names
    res.status = 201;
    res.set_content(SubmissionJson(*sub, true), "application/json");
  });

  // The policy in force (what --policy loaded), for any authenticated caller: it holds no
  // cost data, and users see what their submissions are checked against.
  http_->Get("/api/v1/policy", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    res.set_content(PolicySetJson(options_.policy), "application/json");
  });
}

}  // namespace gpuledger
