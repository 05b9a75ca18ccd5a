// The routes of the policies that act (#13, docs/POLICIES.md, docs/api/openapi.yaml):
// the rules' configuration, the decisions, and pausing and resuming a job by hand
// through the same path the rules use.
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "domain/ids.h"
#include "pause/target.h"
#include "server/cooperative_controller.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

namespace {

// As routes.cc: users see their project's jobs, department admins their department's,
// admins all.
bool InScope(const Principal& p, const Job& job) {
  return p.role == Role::kAdmin || (p.role == Role::kUser && job.project == p.project) ||
         (p.role == Role::kDeptAdmin && job.department == p.department);
}

nlohmann::json DecisionJson(const PolicyDecisionRow& d) {
  nlohmann::json j = {
      {"id", d.id},         {"job", d.job_id},      {"rule", d.rule},           {"cause_key", d.cause_key},
      {"action", d.action}, {"dry_run", d.dry_run}, {"at", FormatTime(d.at_ms)}};
  nlohmann::json data = nlohmann::json::parse(d.data_json, nullptr, /*allow_exceptions=*/false);
  j["data"] = data.is_discarded() ? nlohmann::json(d.data_json) : data;
  return j;
}

nlohmann::json PauseJson(const JobPause& p) {
  nlohmann::json j = {{"paused", FormatTime(p.paused_ms)}, {"mode", p.mode},
                      {"gpus_freed", p.gpus_freed},        {"resume_command", p.resume_command},
                      {"cause_key", p.cause_key},          {"requested_by", p.requested_by}};
  j["resumed"] = p.resumed_ms == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatTime(p.resumed_ms));
  return j;
}

// {"reason": "..."} or no body.
StatusOr<std::string> ReasonBody(const std::string& body) {
  if (body.empty()) return std::string();
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || (j.contains("reason") && !j["reason"].is_string()) ||
      j.size() > (j.contains("reason") ? 1U : 0U))
    return InvalidArgument(R"(send {"reason": "..."} or no body)");
  std::string reason = j.value("reason", "");
  if (reason.size() > 1000)
    return InvalidArgument("reason of " + std::to_string(reason.size()) +
                           " bytes exceeds the limit 1000 bytes");
  return reason;
}

// Writes the whole file anew beside it and renames it over (a reader never sees half).
Status WriteFileAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Unavailable("cannot write policy file '" + tmp + "'");
    out << text;
    out.flush();
    if (!out) return Unavailable("cannot write policy file '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Unavailable("cannot replace policy file '" + path + "': " + ec.message());
  return OkStatus();
}

// The policy file's text for `rules` (what ParsePolicyRulesJson reads).
std::string PolicyFileText(const PolicyRules& rules) {
  nlohmann::json j = nlohmann::json::parse(rules.ToJson());
  nlohmann::json projects = nlohmann::json::object();
  for (const auto& [project, text] : rules.overrides())
    projects[project] = {{"rules", nlohmann::json::parse(text)}};
  return nlohmann::json{{"rules", j["rules"]}, {"projects", projects}}.dump(2) + "\n";
}

}  // namespace

StatusOr<std::string> Server::JobPolicyJsonLocked(const std::string& job_id) {
  ASSIGN_OR_RETURN(std::vector<PolicyDecisionRow> decisions, ledger_->ListDecisions(job_id, 0, 0));
  ASSIGN_OR_RETURN(std::vector<JobPause> pauses, ledger_->ListPauses(job_id));
  nlohmann::json out = {{"decisions", nlohmann::json::array()}, {"paused", nlohmann::json::array()}};
  for (const PolicyDecisionRow& d : decisions) out["decisions"].push_back(DecisionJson(d));
  DurationMs paused_ms = 0;
  const TimeMs now = clock_.Now();
  bool paused_now = false;
  for (const JobPause& p : pauses) {
    out["paused"].push_back(PauseJson(p));
    paused_ms += (p.resumed_ms == 0 ? now : p.resumed_ms) - p.paused_ms;
    if (p.resumed_ms == 0) {
      paused_now = true;
      out["resume_command"] = p.resume_command;
    }
  }
  out["paused_now"] = paused_now;
  out["paused_s"] = static_cast<double>(paused_ms) / kSecondMs;
  return out.dump();
}

Status Server::CommitRulesLocked(const httplib::Request& req, const Principal& p, const PolicyRules& next,
                                 const std::string& action, const std::string& detail) {
  // The audit entry commits first, the file is written after: a failed commit leaves the
  // file and the rules in force as they were. A failed write after the commit is audited
  // as such and the change is not put in force (memory and file stay alike); the caller
  // is answered the write's error.
  RETURN_IF_ERROR(ledger_->InTransaction(
      [&]() GL_REQUIRES(ledger_mu_) -> Status { return AuditLocked(req, &p, 200, action, detail); }));
  if (options_.policy_rules_file.empty()) return OkStatus();
  Status written = WriteFileAtomically(options_.policy_rules_file, PolicyFileText(next));
  if (written.ok()) return OkStatus();
  written =
      written.WithContext("writing the policy file " + options_.policy_rules_file + " (change not applied)");
  Status noted = AuditLocked(req, &p, 500, action + " not applied", written.message());
  (void)noted;  // the answer carries the write's error either way
  return written;
}

void Server::PolicyRoutes() {
  // The rules in force: the organisation's and each project's override with its effect
  // (admins, department admins and users: what their jobs are held to).
  http_->Get("/api/v1/policy/rules", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kIngest || p->role == Role::kFinance)
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) + " reads no policies"));
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    nlohmann::json out = nlohmann::json::parse(policy_rules_.ToJson());
    if (p->role != Role::kAdmin) {
      // A user sees its project's override, a department admin those of projects with
      // jobs in its department: what their jobs are held to, not other teams' settings.
      std::set<std::string> visible;
      if (p->role == Role::kUser) {
        visible.insert(p->project);
      } else {
        auto jobs = ledger_->ListJobs();
        if (!jobs.ok()) return Reply(res, jobs.status());
        for (const Job& j : *jobs)
          if (j.department == p->department) visible.insert(j.project);
      }
      nlohmann::json& projects = out["projects"];
      for (auto it = projects.begin(); it != projects.end();) {
        it = visible.count(it.key()) > 0 ? std::next(it) : projects.erase(it);
      }
    }
    res.set_content(out.dump(2) + "\n", "application/json");
  });

  // Replaces the organisation's rules (admins). The body is a rules section: what it
  // leaves out takes the built-in default. Written back to the policy file, audited.
  http_->Put("/api/v1/policy/rules", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin)
      return Deny(req, res, *p, PermissionDenied("only admins set the organisation's rules"));
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    PolicyRules next = policy_rules_;
    if (Status s = next.SetOrg(req.body); !s.ok()) return Reply(res, s);
    Status stored = CommitRulesLocked(req, *p, next, "PUT /api/v1/policy/rules", RulesConfigJson(next.org()));
    if (!stored.ok()) return Reply(res, stored);
    policy_rules_ = std::move(next);
    res.set_content(policy_rules_.ToJson(), "application/json");
  });

  // Sets one project's override (admins; department admins for their department's
  // projects: a project all of whose jobs are in it). "{}" removes it. Audited.
  http_->Put(R"(/api/v1/policy/rules/projects/([^/]+))", [this](const httplib::Request& req,
                                                                httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin && p->role != Role::kDeptAdmin)
      return Deny(req, res, *p, PermissionDenied("only admins and department admins set a project's rules"));
    const std::string project = req.matches[1];
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    if (p->role == Role::kDeptAdmin) {
      // Deny audits under the ledger lock itself: the check is made first, the lock let go.
      size_t mine = 0;
      size_t others = 0;
      {
        MutexLock lock(ledger_mu_);
        auto jobs = ledger_->ListJobs();
        if (!jobs.ok()) return Reply(res, jobs.status());
        for (const Job& j : *jobs) {
          if (j.project != project) continue;
          (j.department == p->department ? mine : others) += 1;
        }
      }
      if (mine == 0 || others > 0)
        return Deny(req, res, *p,
                    PermissionDenied("project '" + project + "' is not a project of department '" +
                                     p->department + "' (its jobs: " + std::to_string(mine) + " in it, " +
                                     std::to_string(others) + " elsewhere)"));
    }
    MutexLock lock(ledger_mu_);
    PolicyRules next = policy_rules_;
    if (Status s = next.SetProject(project, req.body); !s.ok()) return Reply(res, s);
    Status stored = CommitRulesLocked(req, *p, next, "PUT /api/v1/policy/rules/projects/{project}",
                                      "project=" + project + " rules=" + RulesConfigJson(next.For(project)));
    if (!stored.ok()) return Reply(res, stored);
    policy_rules_ = std::move(next);
    res.set_content(policy_rules_.ToJson(), "application/json");
  });

  // One job's decisions (as GET /api/v1/jobs/{id} is scoped).
  http_->Get(
      R"(/api/v1/jobs/([^/]+)/decisions)", [this](const httplib::Request& req, httplib::Response& res) {
        auto p = Authenticate(req, res);
        if (!p) return;
        if (p->role == Role::kIngest || p->role == Role::kFinance)
          return Deny(req, res, *p,
                      PermissionDenied("role " + std::string(RoleName(p->role)) + " reads no decisions"));
        const std::string id = req.matches[1];
        if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
        if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
        MutexLock lock(ledger_mu_);
        auto job = ledger_->GetJob(id);
        if (!job.ok()) return Reply(res, job.status());
        if (!*job || !InScope(*p, **job)) return Reply(res, NotFound("no job '" + id + "'"));
        auto policy = JobPolicyJsonLocked(id);
        if (!policy.ok()) return Reply(res, policy.status());
        nlohmann::json out = nlohmann::json::parse(*policy);
        out["job"] = id;
        res.set_content(out.dump() + "\n", "application/json");
      });

  // Every decision in the caller's scope (admins: all; department admins: their
  // department's jobs; users: their project's), oldest first; ?from=, ?rule=, ?limit=.
  http_->Get("/api/v1/decisions", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kIngest || p->role == Role::kFinance)
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) + " reads no decisions"));
    if (Status s = OnlyParams(req, {"from", "rule", "limit"}); !s.ok()) return Reply(res, s);
    TimeMs from = 0;
    if (req.has_param("from")) {
      auto t = ParseTime(req.get_param_value("from"));
      if (!t.ok()) return Reply(res, InvalidArgument("query parameter 'from': " + t.status().message()));
      from = *t;
    }
    size_t limit = 1000;
    if (req.has_param("limit")) {
      const std::string v = req.get_param_value("limit");
      char* end = nullptr;
      const long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 1 || n > 10000)
        return Reply(res, InvalidArgument(
                              "query parameter 'limit' must be an integer from 1 to 10000, got '" + v + "'"));
      limit = static_cast<size_t>(n);
    }
    const std::string rule = req.has_param("rule") ? req.get_param_value("rule") : "";
    MutexLock lock(ledger_mu_);
    auto all = ledger_->ListDecisions("", from, 0);
    if (!all.ok()) return Reply(res, all.status());
    std::unordered_map<std::string, bool> visible;  // by job
    nlohmann::json out = nlohmann::json::array();
    for (const PolicyDecisionRow& d : *all) {
      if (out.size() >= limit) break;
      if (!rule.empty() && d.rule != rule) continue;
      auto seen = visible.find(d.job_id);
      if (seen == visible.end()) {
        auto job = ledger_->GetJob(d.job_id);
        if (!job.ok()) return Reply(res, job.status());
        seen = visible.emplace(d.job_id, *job && InScope(*p, **job)).first;
      }
      if (seen->second) out.push_back(DecisionJson(d));
    }
    Status audited =
        AuditLocked(req, &*p, 200, "GET /api/v1/decisions", "decisions=" + std::to_string(out.size()));
    if (!audited.ok()) return Reply(res, audited);
    res.set_content(nlohmann::json{{"decisions", out}}.dump() + "\n", "application/json");
  });

  // Pause a job by hand, through the path the rules use (the roles that may stop it).
  // Recorded as a decision of rule "manual", audited.
  http_->Post(R"(/api/v1/jobs/([^/]+)/pause)", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kIngest || p->role == Role::kFinance)
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) + " pauses no jobs"));
    const std::string id = req.matches[1];
    if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    auto reason = ReasonBody(req.body);
    if (!reason.ok()) return Reply(res, reason.status());
    PauseOutcome outcome;
    std::string mode;
    std::optional<PendingPause> pending;
    const std::string why = reason->empty() ? "paused by hand" : *reason;
    auto manual_data = [&](const std::string& outcome_text) {
      return nlohmann::json{{"reason", why},
                            {"by", p->token_id},
                            {"outcome", outcome_text},
                            {"mode", mode},
                            {"gpus_freed", outcome.gpus_freed},
                            {"resume_command", outcome.resume_command}}
          .dump();
    };
    // First transaction: the decision and the pause record (a cooperative pause whole; a
    // launcher's as an intent).
    Status stored = [&]() -> Status {
      MutexLock lock(ledger_mu_);
      ASSIGN_OR_RETURN(std::optional<Job> found, ledger_->GetJob(id));
      if (!found || !InScope(*p, *found)) return NotFound("no job '" + id + "'");
      const Job& job = *found;
      if (job.status != JobStatus::kRunning)
        return FailedPrecondition("job '" + id + "' is " + std::string(JobStatusName(job.status)) +
                                  ": only a running job can be paused");
      const TimeMs now = clock_.Now();
      const std::string cause_key = "manual/" + id + "/pause-" + std::to_string(now);
      Status s = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
        pending.reset();
        ASSIGN_OR_RETURN(mode, PauseJobLocked(job, why, p->token_id, cause_key, &outcome, &pending));
        PolicyDecisionRow row;
        row.job_id = id;
        row.rule = kManualRule;
        row.cause_key = cause_key;
        row.action = "pause";
        row.at_ms = now;
        row.data_json = manual_data(pending ? "pausing (" + mode + ")" : "paused (" + mode + ")");
        ASSIGN_OR_RETURN(bool fresh, ledger_->PutDecision(row));
        if (!fresh) return AlreadyExists("job '" + id + "' was paused by hand in this very millisecond");
        if (pending) {
          pending->manual = true;
          pending->decision.reason = why;
          return OkStatus();  // audited when settled
        }
        return AuditLocked(req, &*p, 202, "POST /api/v1/jobs/{id}/pause", "job=" + id + " mode=" + mode);
      });
      if (s.ok() && pending) pauses_asked_.insert(id);
      return s;
    }();
    if (!stored.ok()) return Reply(res, stored);
    if (pending) {
      // The launcher, after the commit and without the ledger lock; then its answer in a
      // second transaction. A refusal takes the decision and the pause record back and is
      // answered (e.g. 503 when the Docker socket is unreachable): it leaves nothing behind.
      const StatusOr<PauseOutcome> answer = pending->controller->Pause(pending->target);
      if (answer.ok()) outcome = *answer;
      MutexLock lock(ledger_mu_);
      Status settled = SettlePauseLocked(*pending, answer, [&]() GL_REQUIRES(ledger_mu_) -> Status {
        if (!answer.ok()) return OkStatus();
        return AuditLocked(req, &*p, 202, "POST /api/v1/jobs/{id}/pause", "job=" + id + " mode=" + mode);
      });
      if (!answer.ok() && !settled.ok()) {
        // Its records could not be taken back: say so (the job reads "pausing" until resumed).
        return Reply(res, Internal("the launcher refused the pause of job '" + id + "' (" +
                                   answer.status().message() + ") and taking its records back failed: " +
                                   settled.message() + "; the job reads as pausing until it is resumed"));
      }
      if (!answer.ok()) return Reply(res, answer.status());
      if (!settled.ok())
        return Reply(res, settled.WithContext("job '" + id + "' was paused by its launcher; recording it"));
    }
    res.status = 202;
    res.set_content(nlohmann::json{{"id", id},
                                   {"paused", true},
                                   {"mode", mode},
                                   {"gpus_freed", outcome.gpus_freed},
                                   {"resume_command", outcome.resume_command},
                                   {"detail", outcome.detail}}
                            .dump() +
                        "\n",
                    "application/json");
  });

  // Resume a paused job (the roles that may stop it): the controller's resume (the
  // cooperative one withdraws the pause request: run the resume command), the pause
  // record closed. Audited.
  http_->Post(R"(/api/v1/jobs/([^/]+)/resume)", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role == Role::kIngest || p->role == Role::kFinance)
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) + " resumes no jobs"));
    const std::string id = req.matches[1];
    if (Status s = CheckId(IdKind::kJobId, id); !s.ok()) return Reply(res, s);
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    if (!req.body.empty()) return Reply(res, InvalidArgument("POST /api/v1/jobs/{id}/resume takes no body"));
    PauseOutcome outcome;
    PauseTarget target;
    JobController* controller = nullptr;
    std::optional<JobPause> open;
    bool run_stopped = false;  // a cooperative run that stopped on the pause (the job reads paused)
    // A cooperative resume is in-process (it withdraws the pause request): one transaction.
    // A launcher's is asked without the ledger lock, then the pause closed (and a freed
    // GPU's holds reopened) in one transaction; a refusal changes nothing.
    auto close = [&]() GL_REQUIRES(ledger_mu_) -> Status {
      if (outcome.resume_command.empty()) outcome.resume_command = open->resume_command;
      const TimeMs now = clock_.Now();
      if (run_stopped) {
        // Its run is back when whoever resumes it runs the resume command: the pause lasts
        // until that run registers or posts progress (RunPausedJobAgain), so the wait
        // until then is paused time, not billed.
        outcome.detail += "; the job is paused until its resumed run registers or reports progress";
        return AuditLocked(req, &*p, 200, "POST /api/v1/jobs/{id}/resume", "job=" + id + " awaiting its run");
      }
      RETURN_IF_ERROR(ledger_->EndPause(id, now));
      if (open->gpus_freed && target.mode != PauseMode::kCooperative) {
        ASSIGN_OR_RETURN(int reopened, ReopenHoldsLocked(*open, now));
        (void)reopened;
      }
      return AuditLocked(req, &*p, 200, "POST /api/v1/jobs/{id}/resume", "job=" + id);
    };
    Status stored = [&]() -> Status {
      MutexLock lock(ledger_mu_);
      ASSIGN_OR_RETURN(std::optional<Job> found, ledger_->GetJob(id));
      if (!found || !InScope(*p, *found)) return NotFound("no job '" + id + "'");
      ASSIGN_OR_RETURN(open, ledger_->OpenPause(id));
      if (!open) return FailedPrecondition("job '" + id + "' is not paused");
      if (pauses_asked_.count(id) > 0) {
        return FailedPrecondition("job '" + id +
                                  "' is being paused: its launcher has not answered yet; resume it after");
      }
      ASSIGN_OR_RETURN(target, PauseTargetFromLabels(id, found->labels));
      ASSIGN_OR_RETURN(controller, ControllerFor(target));
      if (target.mode != PauseMode::kCooperative) return OkStatus();
      run_stopped = found->status == JobStatus::kPaused;
      return ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
        ASSIGN_OR_RETURN(outcome, controller->Resume(target));
        return close();
      });
    }();
    if (stored.ok() && target.mode != PauseMode::kCooperative) {
      StatusOr<PauseOutcome> answer = controller->Resume(target);
      if (!answer.ok()) return Reply(res, answer.status());
      outcome = *answer;
      MutexLock lock(ledger_mu_);
      // Another resume may have closed it meanwhile: EndPause answers NotFound then.
      stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status { return close(); });
    }
    if (!stored.ok()) return Reply(res, stored);
    res.set_content(nlohmann::json{{"id", id},
                                   {"paused", run_stopped},  // until its run is back
                                   {"resume_command", outcome.resume_command},
                                   {"detail", outcome.detail}}
                            .dump() +
                        "\n",
                    "application/json");
  });
}

}  // namespace gpuledger
