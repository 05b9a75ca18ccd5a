#include "submit/launch.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/money.h"

namespace gpuledger {

namespace {

std::string DurationText(DurationMs ms) {
  const int64_t s = ms / kSecondMs;
  if (s % 3600 == 0) return std::to_string(s / 3600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

std::string GpuRequest(const Job& j) {
  if (j.gpu_share_ppm <= 0) return "";
  std::string n;
  if (j.gpu_share_ppm % kFullShare == 0) {
    n = std::to_string(j.gpu_share_ppm / kFullShare);
  } else {
    n = FormatMicros(j.gpu_share_ppm, 0);  // ppm are micro-units of one GPU
  }
  return n + "x" + j.gpu_model;
}

int WholeGpus(const Job& j) { return static_cast<int>((j.gpu_share_ppm + kFullShare - 1) / kFullShare); }

// A Kubernetes label value: at most 63 of [A-Za-z0-9_.-], alphanumeric ends; "" if none.
bool IsLabelValue(const std::string& v) {
  if (v.size() > 63) return false;
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return v.empty() || (std::isalnum(static_cast<unsigned char>(v.front())) &&
                       std::isalnum(static_cast<unsigned char>(v.back())));
}

}  // namespace

std::string DnsLabel(const std::string& s) {
  std::string out;
  for (char c : s) {
    const char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += std::isalnum(static_cast<unsigned char>(l)) ? l : '-';
  }
  if (out.size() > 63) out.resize(63);
  while (!out.empty() && out.back() == '-') out.pop_back();
  while (!out.empty() && out.front() == '-') out.erase(out.begin());
  return out.empty() ? "job" : out;
}

std::vector<std::pair<std::string, std::string>> LaunchEnvironment(const Job& j, const LaunchOptions& o) {
  std::vector<std::pair<std::string, std::string>> env;
  auto add = [&](const char* name, const std::string& v) {
    if (!v.empty()) env.emplace_back(std::string("GPULEDGER_") + name, v);
  };
  auto add_n = [&](const char* name, int64_t v) {
    if (v > 0) add(name, std::to_string(v));
  };
  add("SERVER", o.server);
  add("JOB_ID", j.id);
  add("USER", j.user);
  add("PROJECT", j.project);
  add("DEPARTMENT", j.department);
  add("MODEL_TYPE", j.model_type);
  add("IMAGE", j.image());
  add("IMAGE_DIGEST", j.image_digest);
  add("FRAMEWORK", j.framework);
  add("GPU_REQUEST", GpuRequest(j));
  if (j.duration_limit_ms > 0) add("DURATION_LIMIT", DurationText(j.duration_limit_ms));
  add("DATASET", j.dataset);
  add_n("DATASET_IMAGES", j.dataset_images);
  add_n("EPOCHS", j.epochs);
  add_n("BATCH", j.batch);
  add_n("IMGSZ", j.imgsz);
  add("AMP", j.amp ? "true" : "false");
  if (j.submitted_ms) add("SUBMITTED", FormatTime(j.submitted_ms));
  std::string labels;
  for (const auto& [k, v] : j.labels) labels += (labels.empty() ? "" : ";") + k + "=" + v;
  add("LABELS", labels);
  return env;
}

std::string ShellQuote(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string RenderEnvExports(const Job& j, const LaunchOptions& o) {
  std::string out =
      "# gpuledger job " + j.id + ": export before the training starts (GPULEDGER_TOKEN: an ingest token)\n";
  for (const auto& [k, v] : LaunchEnvironment(j, o)) out += "export " + k + "=" + ShellQuote(v) + "\n";
  return out;
}

std::string RenderSbatchScript(const Job& j, const LaunchOptions& o) {
  std::string out = "#!/bin/bash\n";
  out += "#SBATCH --job-name=" + DnsLabel(j.id) + "\n";
  out += "#SBATCH --comment=gpuledger:" + j.id + "\n";
  if (j.gpu_share_ppm > 0) out += "#SBATCH --gres=gpu:" + std::to_string(WholeGpus(j)) + "\n";
  if (j.duration_limit_ms > 0) {
    const int64_t min = (j.duration_limit_ms + kMinuteMs - 1) / kMinuteMs;
    out += "#SBATCH --time=" + std::to_string(min) + "\n";  // minutes
  }
  out += "# gpuledger: GPU model " + (j.gpu_model.empty() ? std::string("(any)") : j.gpu_model) +
         " (site-specific: add --constraint or a typed --gres if the cluster names it)\n";
  out += "# GPULEDGER_TOKEN (an ingest token) comes from the site, e.g. the prolog's token file.\n";
  for (const auto& [k, v] : LaunchEnvironment(j, o)) out += "export " + k + "=" + ShellQuote(v) + "\n";
  if (!o.command.empty()) {
    out += "srun " + o.command + "\n";
  } else {
    out += "# the training command goes here, e.g.: srun yolo train model=" +
           (j.model_type.empty() ? std::string("yolov8s") : j.model_type) + ".pt ...\n";
  }
  return out;
}

std::string RenderKubernetesJob(const Job& j, const LaunchOptions& o, const JobEstimate* est) {
  nlohmann::json labels = {{"app.kubernetes.io/managed-by", "gpuledger"}};
  nlohmann::json annotations = {{"gpuledger.io/job-id", j.id}, {"gpuledger.io/image", j.image()}};
  auto label = [&](const std::string& k, const std::string& v) {
    if (v.empty()) return;
    if (IsLabelValue(v))
      labels[k] = v;
    else
      annotations[k] = v;  // not a label value: kept, as an annotation
  };
  label("gpuledger.io/job-id", j.id);
  label("gpuledger.io/user", j.user);
  label("gpuledger.io/project", j.project);
  label("gpuledger.io/department", j.department);
  label("gpuledger.io/model-type", j.model_type);
  for (const auto& [k, v] : j.labels) label("gpuledger.io/label-" + DnsLabel(k), v);
  if (j.submitted_ms) annotations["gpuledger.io/submitted"] = FormatTime(j.submitted_ms);
  if (est != nullptr) {
    annotations["gpuledger.io/estimate-basis"] = est->basis;
    if (est->cost_micros >= 0)
      annotations["gpuledger.io/estimate-cost-micros"] = std::to_string(est->cost_micros);
    if (est->best_cost_micros >= 0)
      annotations["gpuledger.io/best-practice-cost-micros"] = std::to_string(est->best_cost_micros);
  }
  nlohmann::json env = nlohmann::json::array();
  for (const auto& [k, v] : LaunchEnvironment(j, o)) env.push_back({{"name", k}, {"value", v}});
  env.push_back({{"name", "GPULEDGER_TOKEN"},
                 {"valueFrom", {{"secretKeyRef", {{"name", o.token_secret}, {"key", "token"}}}}}});
  nlohmann::json container = {
      {"name", "train"},
      {"image", j.image_digest.empty() ? j.image() : j.image() + "@" + j.image_digest},
      {"env", env}};
  if (j.gpu_share_ppm > 0)
    container["resources"] = {{"limits", {{"nvidia.com/gpu", std::to_string(WholeGpus(j))}}}};
  if (!o.command.empty()) container["command"] = {"/bin/sh", "-c", o.command};
  nlohmann::json pod_spec = {{"restartPolicy", "Never"}, {"containers", {container}}};
  nlohmann::json metadata = {
      {"name", DnsLabel("gpuledger-" + j.id)}, {"labels", labels}, {"annotations", annotations}};
  if (!o.k8s_namespace.empty()) metadata["namespace"] = o.k8s_namespace;
  nlohmann::json spec = {
      {"backoffLimit", 0},
      {"template", {{"metadata", {{"labels", labels}, {"annotations", annotations}}}, {"spec", pod_spec}}}};
  if (j.duration_limit_ms > 0) spec["activeDeadlineSeconds"] = j.duration_limit_ms / kSecondMs;
  nlohmann::json manifest = {
      {"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", metadata}, {"spec", spec}};
  return manifest.dump(2) + "\n";
}

}  // namespace gpuledger
