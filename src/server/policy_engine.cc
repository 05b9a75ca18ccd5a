// The server's side of the policies that act (#13, docs/POLICIES.md): which running jobs
// an ingest flush or a progress post touched, what the rules read about each (policy/
// rules.h), and what a decision does: recorded once per cause (the ledger's decisions
// table), audited, acted on through the JobController, and told through the notice sink
// (the outbox) — all in one unit of work, so a decision whose action failed to be
// requested is decided afresh at the next evaluation.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "pause/target.h"
#include "policy/notices.h"
#include "server/cooperative_controller.h"
#include "server/server.h"

namespace gpuledger {

namespace {

std::string DecisionData(const Decision& d, const std::string& outcome, const PauseOutcome* pause,
                         const std::string& mode) {
  nlohmann::json j = {{"window", {{"from", FormatTime(d.window.start)}, {"to", FormatTime(d.window.end)}}},
                      {"figures", d.figures},
                      {"thresholds", d.thresholds},
                      {"reason", d.reason},
                      {"event", d.event},
                      {"outcome", outcome}};
  if (pause) {
    j["mode"] = mode;
    j["gpus_freed"] = pause->gpus_freed;
    j["resume_command"] = pause->resume_command;
    if (!pause->detail.empty()) j["detail"] = pause->detail;
  }
  return j.dump();
}

}  // namespace

StatusOr<JobInputs> Server::PolicyInputsLocked(const Job& job, const RulesConfig& rules, TimeMs now) {
  JobInputs in;
  in.job = job;
  ASSIGN_OR_RETURN(std::vector<JobPause> pauses, ledger_->ListPauses(job.id));
  in.segment_start_ms = job.start_ms;
  for (const JobPause& p : pauses) {
    if (p.resumed_ms == 0) in.paused = true;
    in.segment_start_ms = std::max(in.segment_start_ms, p.resumed_ms);
  }
  if (in.paused) return in;
  ASSIGN_OR_RETURN(std::vector<EpochProgress> progress, ledger_->GetProgress(job.id));
  in.epochs = EpochPoints(job.start_ms, progress);
  ASSIGN_OR_RETURN(std::vector<Allocation> allocs, ledger_->AllocationsOfJob(job.id));
  const Window read{now - SampleLookbackMs(rules), now + 1};
  std::set<std::string> held;
  for (const Allocation& a : allocs)
    if (a.window().Contains(now)) held.insert(a.gpu_uuid);
  for (const std::string& gpu : held) {
    GpuSeries series{gpu, {}};
    RETURN_IF_ERROR(ledger_->ScanSamples(gpu, read, [&](const Sample& s) { series.samples.push_back(s); }));
    in.gpus.push_back(std::move(series));
  }
  return in;
}

StatusOr<JobController*> Server::ControllerFor(const PauseTarget& target) {
  if (target.mode == PauseMode::kCooperative) return cooperative_.get();
  if (options_.job_controller == nullptr) {
    return FailedPrecondition("job '" + target.job_id + "' runs under launcher '" + PauseModeName(target.mode) +
                              "' and this server has no pause adapter for it (only cooperative)");
  }
  return options_.job_controller;
}

StatusOr<std::string> Server::PauseJobLocked(const Job& job, const std::string& reason, const std::string& by,
                                             const std::string& cause_key, PauseOutcome* outcome) {
  ASSIGN_OR_RETURN(PauseTarget target, PauseTargetFromLabels(job.id, job.labels));
  // Paused already (a job whose launcher keeps it "running" while paused): the launcher
  // is not asked twice and no second pause is opened.
  ASSIGN_OR_RETURN(std::optional<JobPause> open, ledger_->OpenPause(job.id));
  if (open) {
    return FailedPrecondition("job '" + job.id + "' is paused already (since " + FormatTime(open->paused_ms) +
                              ", " + open->mode + "): resume it first");
  }
  if (target.mode == PauseMode::kCooperative) {
    ASSIGN_OR_RETURN(*outcome, cooperative_->PauseWithReason(target, reason, by));
  } else {
    ASSIGN_OR_RETURN(JobController * controller, ControllerFor(target));
    ASSIGN_OR_RETURN(*outcome, controller->Pause(target));
  }
  JobPause p;
  p.job_id = job.id;
  p.paused_ms = clock_.Now();
  p.mode = PauseModeName(target.mode);
  p.gpus_freed = outcome->gpus_freed;
  p.resume_command = outcome->resume_command;
  p.cause_key = cause_key;
  p.requested_by = by;
  RETURN_IF_ERROR(ledger_->PutPause(p));
  return std::string(PauseModeName(target.mode));
}

Status Server::ApplyDecisionLocked(const Job& job, const Decision& d, const std::string& by) {
  // One unit of work: the record, its action, the audit entry and the notice.
  return ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
    ASSIGN_OR_RETURN(std::optional<PolicyDecisionRow> seen, ledger_->GetDecision(d.cause_key));
    if (seen) return OkStatus();  // this cause was decided before
    std::string outcome = d.dry_run ? "dry run: not acted on, nobody told" : "warned";
    PauseOutcome pause;
    std::string mode;
    bool paused = false;
    if (!d.dry_run && d.action == PolicyAction::kPause) {
      auto m = PauseJobLocked(job, d.reason, by, d.cause_key, &pause);
      // Unavailable (the launcher did not answer): undone, decided afresh next time. A
      // pause that cannot work (labels, no adapter) is recorded as not done, and told.
      if (!m.ok() && m.status().code() == StatusCode::kUnavailable) return m.status();
      if (m.ok()) {
        mode = *m;
        paused = true;
        outcome = "paused (" + mode + ")";
      } else {
        outcome = "not paused: " + m.status().message();
      }
    } else if (!d.dry_run && d.action == PolicyAction::kStop) {
      RETURN_IF_ERROR(ledger_->PutStopRequest({job.id, clock_.Now(), by, d.reason, "stop"}));
      outcome = "stop requested (after the epoch's checkpoint)";
    }
    PolicyDecisionRow row;
    row.job_id = job.id;
    row.rule = d.rule;
    row.cause_key = d.cause_key;
    row.action = PolicyActionName(d.action);
    row.dry_run = d.dry_run;
    row.at_ms = d.at_ms;
    row.data_json = DecisionData(d, outcome, paused ? &pause : nullptr, mode);
    ASSIGN_OR_RETURN(bool fresh, ledger_->PutDecision(row));
    if (!fresh) return AlreadyExists("decision '" + d.cause_key + "' was recorded meanwhile");
    AuditEntry e;
    e.at_ms = clock_.Now();
    e.token_id = by == "policy" ? "" : by;
    e.role = by == "policy" ? "policy" : e.role;
    e.action = "policy " + d.rule + " " + row.action + (d.dry_run ? " (dry run)" : "");
    e.detail = "job=" + job.id + " cause=" + d.cause_key + " outcome=" + outcome;
    e.remote = "policy engine";
    RETURN_IF_ERROR(ledger_->AppendAudit(e));
    if (d.dry_run || d.rule == kManualRule) return OkStatus();
    NoticeSink* sink = notice_sink();
    if (sink == nullptr) return OkStatus();  // no --notify: recorded, nobody told
    return sink->Enqueue(DecisionNotice(job, d, outcome, paused ? pause.resume_command : ""));
  });
}

void Server::EvaluatePoliciesLocked(const std::vector<std::string>& job_ids, bool throttled) {
  const TimeMs now = clock_.Now();
  Status first = OkStatus();
  for (const std::string& id : job_ids) {
    if (throttled) {
      auto it = policy_evaluated_ms_.find(id);
      if (it != policy_evaluated_ms_.end() && now - it->second < options_.policy_evaluate_every_ms) continue;
    }
    Status s = [&]() GL_REQUIRES(ledger_mu_) -> Status {
      ASSIGN_OR_RETURN(std::optional<Job> job, ledger_->GetJob(id));
      if (!job || job->status != JobStatus::kRunning) {
        policy_evaluated_ms_.erase(id);
        return OkStatus();
      }
      policy_evaluated_ms_[id] = now;
      const RulesConfig& rules = policy_rules_.For(job->project);
      ASSIGN_OR_RETURN(JobInputs in, PolicyInputsLocked(*job, rules, now));
      for (const Decision& d : Evaluate(rules, in, now)) RETURN_IF_ERROR(ApplyDecisionLocked(*job, d, "policy"));
      return OkStatus();
    }();
    if (!s.ok() && first.ok()) first = s.WithContext("policy evaluation of job '" + id + "'");
  }
  policy_log_.Record(first);
  background_errors_.Record("policy", first, now);
}

void Server::EvaluatePoliciesForSamplesLocked(const std::vector<GpuSample>& samples) {
  if (samples.empty()) return;
  std::set<std::string> gpus;
  for (const GpuSample& g : samples) gpus.insert(g.gpu_uuid);
  const TimeMs now = clock_.Now();
  auto allocs = ledger_->AllocationsOverlapping({now, now + 1});
  if (!allocs.ok()) {
    policy_log_.Record(allocs.status());
    background_errors_.Record("policy", allocs.status(), now);
    return;
  }
  std::set<std::string> jobs;
  for (const Allocation& a : *allocs)
    if (gpus.count(a.gpu_uuid) > 0) jobs.insert(a.job_id);
  EvaluatePoliciesLocked({jobs.begin(), jobs.end()}, /*throttled=*/true);
}

}  // namespace gpuledger
