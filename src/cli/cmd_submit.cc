// gpuledger submit: the image-tag policy, the estimate and the question, the pending
// job, and what the launcher needs (submit/launch.h).
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "ingest/importers.h"
#include "submit/job_spec.h"
#include "submit/launch.h"
#include "submit/submission.h"

namespace gpuledger {

namespace {

StatusOr<std::string> ReadFile(const std::string& path, const char* what) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return NotFound(std::string(what) + " '" + path + "' cannot be read");
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The spec file (JSON or YAML, submit/job_spec.h) and the flags as one jobs-API body (flags win).
StatusOr<Job> JobFromArgs(const SubmitArgs& a, TimeMs now) {
  nlohmann::json body = nlohmann::json::object();
  if (!a.spec.empty()) {
    ASSIGN_OR_RETURN(std::string text, ReadFile(a.spec, "job spec file"));
    ASSIGN_OR_RETURN(body, ParseJobSpec(text, SpecFormatForPath(a.spec), "job spec file '" + a.spec + "'"));
  }
  for (const auto& [name, value] : a.fields) {
    if (!value.empty()) body[name] = value;
  }
  if (!a.labels.empty()) {
    std::string joined =
        body.contains("labels") && body["labels"].is_string() ? body["labels"].get<std::string>() : "";
    for (const std::string& l : a.labels) joined += (joined.empty() ? "" : ";") + l;
    body["labels"] = joined;
  }
  // --gpu-model alone asks for one GPU of that model.
  if (body.contains("gpu_model")) {
    const std::string model = body["gpu_model"].is_string() ? body["gpu_model"].get<std::string>() : "";
    body.erase("gpu_model");
    if (!body.contains("gpu_request")) body["gpu_request"] = "1x" + model;
  }
  std::string digest;
  if (body.contains("image") && body["image"].is_string()) {
    auto [image, d] = SplitImageDigest(body["image"].get<std::string>());
    body["image"] = image;
    digest = d;
    if (!digest.empty() && !body.contains("image_digest")) body["image_digest"] = digest;
  }
  if (!body.contains("id") && body.contains("user") && body["user"].is_string())
    body["id"] = NewSubmissionId(body["user"].get<std::string>(), now);
  auto parsed = ParseJobJson(body.dump());
  if (!parsed.ok()) return InvalidArgument("submission: " + parsed.status().message());
  return parsed->job;
}

}  // namespace

Status CmdSubmit(const SubmitArgs& a, const Clock& clock, std::istream& in, std::ostream& out) {
  ASSIGN_OR_RETURN(Lang lang, a.lang.empty() ? StatusOr<Lang>(LangFromEnvironment()) : ParseLang(a.lang));
  PolicySet policy;
  if (!a.policy.empty()) {
    ASSIGN_OR_RETURN(policy, LoadPolicyFile(a.policy));
  }
  SubmitRequest req;
  const TimeMs now = clock.Now();
  ASSIGN_OR_RETURN(req.job, JobFromArgs(a, now));
  req.estimate.map_margin = a.map_margin / 100.0;
  RETURN_IF_ERROR(LedgerExists(a.db));
  ASSIGN_OR_RETURN(auto ledger, OpenLedger(a.db));
  if (!a.max_cost.empty()) {
    ASSIGN_OR_RETURN(int64_t m, ParseMicros(a.max_cost, "--max-cost"));
    req.max_cost_micros = m;
  }
  // The estimate is printed before a --max-cost refusal, so the refusal can be read against it.
  std::optional<int64_t> max_cost = req.max_cost_micros;
  req.max_cost_micros.reset();
  ASSIGN_OR_RETURN(Submission s, PrepareSubmission(*ledger, policy, req, now));
  const bool json = a.format == "json";
  if (!json) {
    for (const std::string& w : s.warnings) out << (lang == Lang::kZh ? "警告: " : "warning: ") << w << "\n";
    out << RenderEstimateText(s.estimate, s.currency, lang);
  }
  if (max_cost) RETURN_IF_ERROR(CheckMaxCost(s, *max_cost));
  if (a.dry_run) {
    if (json)
      out << SubmissionJson(s, false);
    else
      out << (lang == Lang::kZh ? "演练 (--dry-run): 未登记任务\n" : "dry run: nothing registered\n");
    return OkStatus();
  }
  if (!a.yes) {
    std::string answer;
    if (!std::getline(in, answer))
      return FailedPrecondition("not confirmed (no answer on standard input): pass --yes");
    if (answer != "y" && answer != "yes" && answer != "Y" && answer != "是")
      return FailedPrecondition("not confirmed: answered '" + answer + "'; nothing registered");
  }
  RETURN_IF_ERROR(RegisterSubmission(*ledger, s));
  RETURN_IF_ERROR(
      AuditCli(*ledger, now, "submit",
               "job=" + s.job.id + " estimate=" + std::string(EstimateBasisName(s.estimate.basis))));
  if (json) {
    out << SubmissionJson(s, true);
    return OkStatus();
  }
  out << (lang == Lang::kZh ? "已登记任务 " : "registered job ") << s.job.id << " (pending)\n";
  LaunchOptions lo{a.server, a.command, a.k8s_namespace, a.token_secret};
  const JobEstimate stored = StoredEstimate(s);
  if (a.launcher == "none")
    out << RenderEnvExports(s.job, lo);
  else if (a.launcher == "slurm")
    out << RenderSbatchScript(s.job, lo);
  else if (a.launcher == "kubernetes")
    out << RenderKubernetesJob(s.job, lo, &stored);
  else
    return InvalidArgument("--launcher '" + a.launcher + "' is not none, slurm or kubernetes");
  return OkStatus();
}

}  // namespace gpuledger
