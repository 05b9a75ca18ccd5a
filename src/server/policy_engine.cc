// The server's side of the policies that act (#13, docs/POLICIES.md): which running jobs
// an ingest flush or a progress post touched, what the rules read about each (policy/
// rules.h), and what a decision does: recorded once per cause (the ledger's decisions
// table), audited, acted on through the JobController, and told through the notice sink
// (the outbox) — in one unit of work, except a launcher's pause: its intent is recorded
// with the decision, the launcher asked after the commit without the ledger lock
// (RunPendingPauses), and its outcome recorded in a second transaction.
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
    return FailedPrecondition("job '" + target.job_id + "' runs under launcher '" +
                              PauseModeName(target.mode) +
                              "' and this server has no pause adapter for it (only cooperative)");
  }
  return options_.job_controller;
}

StatusOr<std::string> Server::PauseJobLocked(const Job& job, const std::string& reason, const std::string& by,
                                             const std::string& cause_key, PauseOutcome* outcome,
                                             std::optional<PendingPause>* pending) {
  ASSIGN_OR_RETURN(PauseTarget target, PauseTargetFromLabels(job.id, job.labels));
  // Paused already (a job whose launcher keeps it "running" while paused): the launcher
  // is not asked twice and no second pause is opened.
  ASSIGN_OR_RETURN(std::optional<JobPause> open, ledger_->OpenPause(job.id));
  if (open) {
    return FailedPrecondition("job '" + job.id + "' is paused already (since " + FormatTime(open->paused_ms) +
                              ", " + open->mode + "): resume it first");
  }
  JobController* controller = nullptr;
  if (target.mode == PauseMode::kCooperative) {
    // In-process: the pause is a stop request in this very transaction.
    ASSIGN_OR_RETURN(*outcome, cooperative_->PauseWithReason(target, reason, by));
  } else {
    ASSIGN_OR_RETURN(controller, ControllerFor(target));
  }
  JobPause p;
  p.job_id = job.id;
  p.paused_ms = clock_.Now();
  p.mode = PauseModeName(target.mode);
  p.gpus_freed = outcome->gpus_freed;  // an intent: false until the launcher says
  p.resume_command = outcome->resume_command;
  p.cause_key = cause_key;
  p.requested_by = by;
  RETURN_IF_ERROR(ledger_->PutPause(p));
  if (controller != nullptr) {
    PendingPause intent;
    intent.job = job;
    intent.target = target;
    intent.controller = controller;
    intent.pause = p;
    intent.cause_key = cause_key;
    *pending = std::move(intent);
  }
  return std::string(PauseModeName(target.mode));
}

StatusOr<int> Server::ReleaseHoldsLocked(const std::string& job_id, TimeMs at_ms) {
  ASSIGN_OR_RETURN(std::vector<Allocation> allocs, ledger_->AllocationsOfJob(job_id));
  std::vector<Allocation> ended;
  for (Allocation a : allocs) {
    if (a.start_ms >= at_ms || (a.end_ms != 0 && a.end_ms <= at_ms)) continue;
    a.end_ms = at_ms;
    ended.push_back(std::move(a));
  }
  if (!ended.empty()) RETURN_IF_ERROR(ledger_->PutAllocations(ended));
  return static_cast<int>(ended.size());
}

StatusOr<int> Server::ReopenHoldsLocked(const JobPause& pause, TimeMs at_ms) {
  // A job its workload labels place is placed by them again: its scheduler may start it
  // on other GPUs, and its samples there claim them (from the resume, FreedPauseGaps). A
  // hold reopened on its old GPUs would be a guess billed beside the truth.
  ASSIGN_OR_RETURN(std::optional<Job> job, ledger_->GetJob(pause.job_id));
  if (!job) return 0;
  ASSIGN_OR_RETURN(bool placed_by_labels, SeenByLabels(*ledger_, sightings_, *job));
  if (placed_by_labels) return 0;
  ASSIGN_OR_RETURN(std::vector<Allocation> allocs, ledger_->AllocationsOfJob(pause.job_id));
  ASSIGN_OR_RETURN(std::vector<Allocation> now_held, ledger_->AllocationsOverlapping({at_ms, at_ms + 1}));
  std::set<std::string> taken;  // GPUs held at the resume, by this job or another: not reopened
  for (const Allocation& a : now_held) taken.insert(a.gpu_uuid);
  std::vector<Allocation> reopened;
  for (const Allocation& a : allocs) {
    if (a.end_ms != pause.paused_ms || taken.count(a.gpu_uuid) > 0) continue;
    taken.insert(a.gpu_uuid);
    reopened.push_back({a.job_id, a.gpu_uuid, at_ms, 0, a.share_ppm});
  }
  if (!reopened.empty()) RETURN_IF_ERROR(ledger_->PutAllocations(reopened));
  return static_cast<int>(reopened.size());
}

Status Server::SettlePauseLocked(const PendingPause& p, const StatusOr<PauseOutcome>& answer,
                                 const std::function<Status()>& also) {
  auto data = [&](const std::string& outcome, const PauseOutcome* pause) {
    if (!p.manual) return DecisionData(p.decision, outcome, pause, p.pause.mode);
    nlohmann::json j = {{"reason", p.decision.reason}, {"by", p.pause.requested_by}, {"outcome", outcome}};
    if (pause) {
      j["mode"] = p.pause.mode;
      j["gpus_freed"] = pause->gpus_freed;
      j["resume_command"] = pause->resume_command;
      if (!pause->detail.empty()) j["detail"] = pause->detail;
    }
    return j.dump();
  };
  pauses_asked_.erase(p.job.id);  // answered: a resume may follow now
  return ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
    std::string outcome;
    if (answer.ok()) {
      JobPause settled = p.pause;
      settled.gpus_freed = answer->gpus_freed;
      settled.resume_command = answer->resume_command;
      RETURN_IF_ERROR(ledger_->SettlePause(settled));
      if (settled.gpus_freed) {
        ASSIGN_OR_RETURN(int released, ReleaseHoldsLocked(p.job.id, p.pause.paused_ms));
        (void)released;
      }
      outcome = "paused (" + p.pause.mode + ")";
      RETURN_IF_ERROR(ledger_->SetDecisionData(p.cause_key, data(outcome, &*answer)));
    } else {
      // The launcher refused: the pause did not happen, so its record goes.
      RETURN_IF_ERROR(ledger_->DeletePause(p.pause.id));
      if (p.manual || answer.status().code() == StatusCode::kUnavailable) {
        // A manual refusal is answered to the caller and leaves nothing behind; a rule's
        // unanswered launcher is decided afresh at the next evaluation.
        RETURN_IF_ERROR(ledger_->DeleteDecision(p.cause_key));
        if (also) RETURN_IF_ERROR(also());
        return OkStatus();
      }
      outcome = "not paused: " + answer.status().message();
      RETURN_IF_ERROR(ledger_->SetDecisionData(p.cause_key, data(outcome, nullptr)));
    }
    if (!p.manual || p.recovered) {  // a recovered manual pause has no caller to audit it
      AuditEntry e;
      e.at_ms = clock_.Now();
      e.role = "policy";
      e.action = "policy " + p.decision.rule + " pause settled";
      e.detail = "job=" + p.job.id + " cause=" + p.cause_key + " outcome=" + outcome;
      e.remote = "policy engine";
      RETURN_IF_ERROR(ledger_->AppendAudit(e));
    }
    if (also) RETURN_IF_ERROR(also());
    NoticeSink* sink = notice_sink();
    if (p.manual || sink == nullptr) return OkStatus();
    return sink->Enqueue(
        DecisionNotice(p.job, p.decision, outcome, answer.ok() ? answer->resume_command : ""));
  });
}

namespace {

// The decision a left-over intent was recorded with, read back from its row (DecisionData).
Decision DecisionFromRow(const PolicyDecisionRow& row, const nlohmann::json& data) {
  Decision d;
  d.job_id = row.job_id;
  d.rule = row.rule;
  d.cause_key = row.cause_key;
  d.action = PolicyAction::kPause;
  d.at_ms = row.at_ms;
  d.event = data.value("event", "");
  d.reason = data.value("reason", "");
  if (data.contains("window") && data["window"].is_object()) {
    auto from = ParseTime(data["window"].value("from", ""));
    auto to = ParseTime(data["window"].value("to", ""));
    if (from.ok() && to.ok()) d.window = {*from, *to};
  }
  for (const char* key : {"figures", "thresholds"}) {
    if (!data.contains(key) || !data[key].is_object()) continue;
    auto& into = std::string_view(key) == "figures" ? d.figures : d.thresholds;
    for (const auto& [k, v] : data[key].items())
      if (v.is_number()) into[k] = v.get<double>();
  }
  return d;
}

}  // namespace

void Server::RequeueLeftOverPausesLocked() {
  int requeued = 0;
  Status s = [&]() GL_REQUIRES(ledger_mu_) -> Status {
    ASSIGN_OR_RETURN(std::vector<PolicyDecisionRow> decisions, ledger_->ListDecisions("", 0, 0));
    for (const PolicyDecisionRow& row : decisions) {
      if (row.action != "pause" || row.dry_run) continue;
      const nlohmann::json data = nlohmann::json::parse(row.data_json, nullptr, /*allow_exceptions=*/false);
      if (!data.is_object() || !data.contains("outcome") || !data["outcome"].is_string() ||
          data["outcome"].get<std::string>().rfind("pausing", 0) != 0)
        continue;  // settled (paused, not paused), or never a launcher's
      ASSIGN_OR_RETURN(std::optional<JobPause> open, ledger_->OpenPause(row.job_id));
      if (!open || open->cause_key != row.cause_key) continue;  // resumed since
      ASSIGN_OR_RETURN(std::optional<Job> job, ledger_->GetJob(row.job_id));
      if (!job) continue;
      StatusOr<PauseTarget> target = PauseTargetFromLabels(job->id, job->labels);
      if (!target.ok() || target->mode == PauseMode::kCooperative) continue;  // cooperative: settled at once
      StatusOr<JobController*> controller = ControllerFor(*target);
      if (!controller.ok()) {
        // No adapter in this run (started without its flags): left as it is, said so.
        policy_log_.Record(controller.status().WithContext("left-over pause of job '" + job->id + "'"));
        continue;
      }
      PendingPause p;
      p.job = *job;
      p.target = *target;
      p.controller = *controller;
      p.pause = *open;
      p.cause_key = row.cause_key;
      p.manual = row.rule == kManualRule;
      p.recovered = true;
      p.decision = DecisionFromRow(row, data);
      pauses_asked_.insert(job->id);
      pending_pauses_.push_back(std::move(p));
      ++requeued;
    }
    return OkStatus();
  }();
  if (!s.ok()) s = s.WithContext("finding the pauses left over by the last run");
  policy_log_.Record(s);
  background_errors_.Record("policy", s, clock_.Now());
  if (requeued > 0) log_.Info("pauses_requeued", {{"pauses", requeued}});
}

void Server::RunPendingPauses() {
  std::vector<PendingPause> due;
  {
    MutexLock lock(ledger_mu_);
    due.swap(pending_pauses_);
  }
  for (const PendingPause& p : due) {
    // The launcher, without the ledger lock: a launcher that hangs (up to --pause-timeout)
    // holds this caller only, never ingest or reads.
    const StatusOr<PauseOutcome> answer = p.controller->Pause(p.target);
    MutexLock lock(ledger_mu_);
    Status s = SettlePauseLocked(p, answer, nullptr);
    // Not settled (the ledger failed): the intent record stays, so the job is never paused
    // without a record; its outcome reads "pausing" (docs/POLICIES.md).
    if (!s.ok()) s = s.WithContext("recording the pause of job '" + p.job.id + "'");
    policy_log_.Record(s);
    background_errors_.Record("policy", s, clock_.Now());
  }
}

Status Server::ApplyDecisionLocked(const Job& job, const Decision& d, const std::string& by) {
  // One unit of work: the record, its action (a cooperative pause or a stop request; a
  // launcher's pause as an intent, asked after the commit), the audit entry and the notice.
  std::optional<PendingPause> pending;
  Status s = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
    pending.reset();
    ASSIGN_OR_RETURN(std::optional<PolicyDecisionRow> seen, ledger_->GetDecision(d.cause_key));
    if (seen) return OkStatus();  // this cause was decided before
    std::string outcome = d.dry_run ? "dry run: not acted on, nobody told" : "warned";
    PauseOutcome pause;
    std::string mode;
    bool paused = false;
    if (!d.dry_run && d.action == PolicyAction::kPause) {
      auto m = PauseJobLocked(job, d.reason, by, d.cause_key, &pause, &pending);
      // A pause that cannot work (labels, no adapter) is recorded as not done, and told.
      if (m.ok() && pending) {
        mode = *m;
        outcome = "pausing (" + mode + "): its launcher is asked after this decision is recorded";
      } else if (m.ok()) {
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
    // A pending pause is told when settled, with what its launcher answered.
    if (d.dry_run || d.rule == kManualRule || pending) return OkStatus();
    NoticeSink* sink = notice_sink();
    if (sink == nullptr) return OkStatus();  // no --notify: recorded, nobody told
    return sink->Enqueue(DecisionNotice(job, d, outcome, paused ? pause.resume_command : ""));
  });
  if (s.ok() && pending) {
    pending->decision = d;
    pauses_asked_.insert(job.id);
    pending_pauses_.push_back(std::move(*pending));
  }
  return s;
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
      for (const Decision& d : Evaluate(rules, in, now))
        RETURN_IF_ERROR(ApplyDecisionLocked(*job, d, "policy"));
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
