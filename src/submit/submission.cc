#include "submit/submission.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "domain/gpu_model.h"
#include "domain/ids.h"
#include "report/report.h"
#include "submit/budget_books.h"

namespace gpuledger {

StatusOr<std::vector<FinishedRun>> LoadFinishedRuns(Ledger& ledger, const BooksContext& ctx, TimeMs as_of) {
  ASSIGN_OR_RETURN(std::vector<Job> jobs, ledger.ListJobs());
  std::vector<Job> done;
  for (Job& j : jobs) {
    if (j.status == JobStatus::kSucceeded && j.start_ms != 0 && j.end_ms != 0 && j.end_ms <= as_of)
      done.push_back(std::move(j));
  }
  ASSIGN_OR_RETURN(auto costs, BuildJobCosts(ledger, ctx, done, as_of));
  std::vector<FinishedRun> out;
  out.reserve(done.size());
  for (const Job& j : done) {
    auto c = costs.find(j.id);
    if (c == costs.end()) continue;
    FinishedRun r;
    r.job_id = j.id;
    r.project = j.project;
    r.dataset = j.dataset;
    r.model_type = j.model_type;
    r.gpu_model = CanonicalGpuModel(j.gpu_model);
    r.gpu_share_ppm = j.gpu_share_ppm;
    r.dataset_images = j.dataset_images;
    r.epochs = j.epochs;
    r.batch = j.batch;
    r.imgsz = j.imgsz;
    r.amp = j.amp;
    r.patience = JobPatience(j);
    r.duration_ms = j.end_ms - j.start_ms;
    r.gpu_ns = static_cast<int64_t>(c->second.usage.gpu_ns);
    r.cost_micros = c->second.cost_micros;
    if (const Price* p = ctx.prices.Find(r.gpu_model, j.start_ms))
      r.price_micros_per_gpu_hour = p->micros_per_gpu_hour;
    ASSIGN_OR_RETURN(std::vector<EpochProgress> prog, ledger.GetProgress(j.id));
    // Ultralytics' fitness picks the best epoch (0.1 mAP@0.5 + 0.9 mAP@0.5:0.95; mAP@0.5
    // alone where the other is not reported); its patience counts from that epoch.
    double best_fitness = -1;
    for (const EpochProgress& e : prog) {
      if (e.map50 && (!r.best_map50 || *e.map50 > *r.best_map50)) r.best_map50 = e.map50;
      r.epochs_run = std::max(r.epochs_run, e.epoch);
      if (e.time_s && e.epoch == r.epochs_run) r.train_s = *e.time_s;
      if (!e.map50) continue;
      const double fitness = e.map50_95 ? 0.1 * *e.map50 + 0.9 * *e.map50_95 : *e.map50;
      if (fitness > best_fitness) {
        best_fitness = fitness;
        r.best_epoch = e.epoch;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

Status CheckMaxCost(const Submission& s, int64_t max_cost_micros) {
  const std::string limit = FormatMicros(max_cost_micros, s.currency.minor_digits) + " " + s.currency.code;
  if (s.estimate.basis == Estimate::Basis::kNone)
    return FailedPrecondition(
        "max cost " + limit + " cannot be checked: " +
        (s.estimate.notes.empty() ? std::string("no estimate") : s.estimate.notes.back()));
  const auto est = static_cast<int64_t>(s.estimate.cost_micros.mid);
  if (est > max_cost_micros)
    return FailedPrecondition("estimated cost " + FormatMicros(est, s.currency.minor_digits) + " " +
                              s.currency.code + " exceeds the max cost " + limit + " (estimate from " +
                              std::string(EstimateBasisName(s.estimate.basis)) + ", " +
                              std::to_string(s.estimate.runs) + " similar runs); nothing registered");
  return OkStatus();
}

StatusOr<Submission> PrepareSubmission(Ledger& ledger, const PolicySet& policy, SubmitRequest req,
                                       TimeMs now) {
  Submission s;
  s.job = std::move(req.job);
  Job& j = s.job;
  if (j.user.empty() || j.project.empty() || j.department.empty())
    return InvalidArgument("a submission needs user, project and department");
  if (j.id.empty()) {
    j.id = NewSubmissionId(j.user, now);
    RETURN_IF_ERROR(CheckId(IdKind::kJobId, j.id));
  }
  j.status = JobStatus::kPending;
  j.submitted_ms = now;
  j.start_ms = 0;
  j.end_ms = 0;
  RETURN_IF_ERROR(j.Validate());
  const ImageTagPolicy& tag_policy = policy.ImageTagFor(j.project);
  if (j.image().empty() && tag_policy.mode != PolicyMode::kOff)
    return InvalidArgument("a submission needs an image (repo:tag): the image-tag policy (" +
                           std::string(PolicyModeName(tag_policy.mode)) + ") checks its tag");
  s.tag = CheckImageTag(tag_policy, j);
  if (s.tag.refused()) return s.tag.ToStatus();
  s.warnings = s.tag.warnings();
  ASSIGN_OR_RETURN(std::optional<Job> before, ledger.GetJob(j.id));
  if (before) return AlreadyExists("job '" + j.id + "' is already in the books; submit it under another id");
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(ledger));
  s.currency = ctx.prices.currency();
  ASSIGN_OR_RETURN(std::vector<FinishedRun> history, LoadFinishedRuns(ledger, ctx, now));
  RateInfo rate{0, s.currency};
  if (const Price* p = ctx.prices.Find(CanonicalGpuModel(j.gpu_model), now))
    rate.micros_per_gpu_hour = p->micros_per_gpu_hour;
  s.estimate = EstimateJob(j, history, rate, req.estimate);
  if (req.max_cost_micros) RETURN_IF_ERROR(CheckMaxCost(s, *req.max_cost_micros));
  // The budget gate (docs/BUDGETS.md): the project's or department's budget at or over
  // 100 % with this estimate: refused or warned, by the organisation's gate mode.
  const int64_t estimate =
      s.estimate.basis == Estimate::Basis::kNone ? 0 : static_cast<int64_t>(s.estimate.cost_micros.mid);
  ASSIGN_OR_RETURN(std::vector<std::string> budget_warnings, CheckSubmissionBudgets(ledger, ctx, j, estimate, now));
  s.warnings.insert(s.warnings.end(), budget_warnings.begin(), budget_warnings.end());
  return s;
}

std::pair<std::string, std::string> SplitImageDigest(const std::string& image) {
  const size_t at = image.find('@');
  if (at == std::string::npos) return {image, ""};
  const std::string ref = image.substr(0, at);
  const size_t slash = ref.rfind('/');
  const size_t colon = ref.rfind(':');
  const bool tagged = colon != std::string::npos && (slash == std::string::npos || colon > slash);
  if (!tagged) return {image, ""};
  return {ref, image.substr(at + 1)};
}

std::string NewSubmissionId(const std::string& user, TimeMs now) {
  std::string t = FormatTime(now);  // 2026-10-03T10:00:00Z -> 20261003T100000Z
  t.erase(std::remove_if(t.begin(), t.end(), [](char c) { return c == '-' || c == ':' || c == '.'; }),
          t.end());
  return "sub-" + t + "-" + user;
}

JobEstimate StoredEstimate(const Submission& s) {
  const Estimate& e = s.estimate;
  JobEstimate out;
  out.job_id = s.job.id;
  out.made_ms = s.job.submitted_ms;
  out.basis = std::string(EstimateBasisName(e.basis));
  out.runs = e.runs;
  if (e.basis != Estimate::Basis::kNone) {
    out.cost_micros = static_cast<int64_t>(e.cost_micros.mid);
    out.gpu_ns = static_cast<int64_t>(e.gpu_hours.mid * static_cast<double>(kGpuNsPerGpuHour));
    out.duration_ms = static_cast<int64_t>(e.duration_h.mid * static_cast<double>(kHourMs));
  }
  if (e.cost_micros.low) {
    out.cost_low_micros = static_cast<int64_t>(*e.cost_micros.low);
    out.cost_high_micros = static_cast<int64_t>(*e.cost_micros.high);
  }
  if (e.best) out.best_cost_micros = e.best->cost_micros;
  out.detail = EstimateJson(e, s.currency);
  return out;
}

Status RegisterSubmission(Ledger& ledger, const Submission& s) {
  return ledger.InTransaction([&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<Job> before, ledger.GetJob(s.job.id));
    if (before)
      return AlreadyExists("job '" + s.job.id + "' is already in the books; submit it under another id");
    RETURN_IF_ERROR(ledger.PutJobs({s.job}));
    return ledger.PutEstimate(StoredEstimate(s));
  });
}

std::string SubmissionJson(const Submission& s, bool registered) {
  const Job& j = s.job;
  nlohmann::json job = {{"id", j.id},
                        {"status", std::string(JobStatusName(j.status))},
                        {"submitted", FormatTime(j.submitted_ms)},
                        {"user", j.user},
                        {"project", j.project},
                        {"department", j.department},
                        {"model_type", j.model_type},
                        {"image", j.image()},
                        {"gpu_model", j.gpu_model},
                        {"gpu_share", static_cast<double>(j.gpu_share_ppm) / kFullShare}};
  nlohmann::json tag = {{"mode", std::string(PolicyModeName(s.tag.mode))},
                        {"violations", nlohmann::json::array()}};
  for (const TagViolation& v : s.tag.violations) {
    tag["violations"].push_back({{"rule", v.rule},
                                 {"field", v.field},
                                 {"value", v.value},
                                 {"message", v.message},
                                 {"example", v.example}});
  }
  nlohmann::json out = {{"registered", registered},
                        {"job", job},
                        {"image_tag", tag},
                        {"estimate", nlohmann::json::parse(EstimateJson(s.estimate, s.currency))},
                        {"warnings", s.warnings}};
  return out.dump() + "\n";
}

}  // namespace gpuledger
