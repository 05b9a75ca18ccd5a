// gpuledger submit: the image-tag policy, the estimate and the question, the pending
// job, and its launch (submit/launcher.h) or what the launcher needs (submit/launch.h).
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/commands.h"
#include "ingest/importers.h"
#include "submit/job_spec.h"
#include "submit/launch.h"
#include "submit/launcher.h"
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

namespace {

// In a pod with a mounted service account the API server is at hand: the Job is created
// through it (pause/kubernetes.h reads the in-cluster address, token and CA).
bool InPodWithServiceAccount() {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  return host != nullptr && *host != '\0' && std::filesystem::exists(kInClusterTokenFile);
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
  LaunchOptions lo{a.server, a.command, a.k8s_namespace, a.token_secret};
  const JobEstimate stored = StoredEstimate(s);
  // A launcher that starts the work (submit/launcher.h), or none: the job is registered
  // and what the site needs is printed.
  ProcessRunner runner;
  std::unique_ptr<Launcher> launcher;
  if (a.launcher == "docker") {
    launcher = std::make_unique<DockerLauncher>(DockerEngine(a.docker_socket, a.launch_timeout_s * 1000),
                                                DockerLaunchOptions{lo, a.device_ids});
  } else if (a.launcher == "slurm" && a.run) {
    SlurmLaunchOptions so;
    so.env = lo;
    so.sbatch = a.sbatch;
    so.scancel = a.scancel;
    so.sbatch_args = a.sbatch_args;
    so.timeout_ms = a.launch_timeout_s * 1000;
    launcher = std::make_unique<SlurmLauncher>(&runner, std::move(so));
  } else if (a.launcher == "kubernetes" && (!a.k8s_api_server.empty() || InPodWithServiceAccount())) {
    KubernetesOptions ko;
    ko.api_server = a.k8s_api_server;
    ko.token_file = a.k8s_token_file;
    ko.ca_file = a.k8s_ca_file;
    ko.timeout_s = a.launch_timeout_s;
    launcher = std::make_unique<KubernetesLauncher>(std::move(ko), lo, stored);
  } else if (a.launcher != "none" && a.launcher != "slurm" && a.launcher != "kubernetes") {
    return InvalidArgument("--launcher '" + a.launcher + "' is not none, docker, slurm or kubernetes");
  } else if (a.run && a.launcher != "slurm") {
    return InvalidArgument("--run goes with --launcher slurm; --launcher is " + a.launcher);
  }
  const std::string audit =
      "job=" + s.job.id + " estimate=" + std::string(EstimateBasisName(s.estimate.basis));
  if (launcher) {
    ASSIGN_OR_RETURN(Job launched, LaunchSubmission(*ledger, s, *launcher, [&](const Job&) {
                       return AuditCli(*ledger, now, "submit", audit + " launcher=" + a.launcher);
                     }));
    if (json) {
      nlohmann::json j = nlohmann::json::parse(SubmissionJson(s, true));
      j["launched"] = launcher->Launched();
      j["job"]["image_digest"] = launched.image_digest;
      j["job"]["labels"] = launched.labels;
      out << j.dump() << "\n";
      return OkStatus();
    }
    out << (lang == Lang::kZh ? "已登记任务 " : "registered job ") << s.job.id << " (pending)\n";
    out << (lang == Lang::kZh ? "已启动: " : "launched: ") << launcher->Launched() << "\n";
    if (!launched.image_digest.empty()) out << "image digest: " << launched.image_digest << "\n";
    return OkStatus();
  }
  RETURN_IF_ERROR(ledger->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(RegisterSubmission(*ledger, s));
    return AuditCli(*ledger, now, "submit", audit);
  }));
  if (json) {
    out << SubmissionJson(s, true);
    return OkStatus();
  }
  out << (lang == Lang::kZh ? "已登记任务 " : "registered job ") << s.job.id << " (pending)\n";
  if (a.launcher == "none")
    out << RenderEnvExports(s.job, lo);
  else if (a.launcher == "slurm")
    out << RenderSbatchScript(s.job, lo);
  else
    out << RenderKubernetesJob(s.job, lo, &stored);
  return OkStatus();
}

}  // namespace gpuledger
