#include "pause/target.h"

#include <algorithm>
#include <cctype>

namespace gpuledger {
namespace {

std::string Get(const std::map<std::string, std::string>& labels, const char* key) {
  auto it = labels.find(key);
  return it == labels.end() ? std::string() : it->second;
}

bool AllOf(const std::string& s, bool (*ok)(char)) { return std::all_of(s.begin(), s.end(), ok); }

// Docker's container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+; ids are hex (64, or a prefix).
bool DockerChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
}
// RFC 1123 labels and subdomains, as Kubernetes names namespaces and Jobs.
bool DnsChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'; }
bool SlurmChar(char c) { return (c >= '0' && c <= '9') || c == '_'; }

Status Bad(const char* label, const std::string& must, const std::string& seen) {
  return InvalidArgument(std::string("label ") + label + " must be " + must + "; saw \"" +
                         seen.substr(0, 80) + (seen.size() > 80 ? "...\"" : "\""));
}

Status CheckDnsName(const char* label, const std::string& v, size_t max, bool dots) {
  const std::string must = "a lowercase RFC 1123 name of at most " + std::to_string(max) + " characters";
  if (v.empty() || v.size() > max || !AllOf(v, DnsChar) || v.front() == '-' || v.back() == '-' ||
      v.front() == '.' || v.back() == '.' || (!dots && v.find('.') != std::string::npos)) {
    return Bad(label, must, v);
  }
  return OkStatus();
}

}  // namespace

const char* PauseModeName(PauseMode mode) {
  switch (mode) {
    case PauseMode::kCooperative:
      return "cooperative";
    case PauseMode::kDocker:
      return "docker";
    case PauseMode::kKubernetes:
      return "kubernetes";
    case PauseMode::kSlurmSuspend:
      return "slurm-suspend";
    case PauseMode::kSlurmRequeue:
      return "slurm-requeue";
  }
  return "cooperative";
}

StatusOr<PauseTarget> PauseTargetFromLabels(const std::string& job_id,
                                            const std::map<std::string, std::string>& labels) {
  PauseTarget t;
  t.job_id = job_id;
  t.node = Get(labels, kNodeLabel);
  if (t.node.size() > 253) return Bad(kNodeLabel, "a host name of at most 253 characters", t.node);
  const std::string launcher = Get(labels, kLauncherLabel);
  if (launcher.empty() || launcher == "cooperative") return t;
  if (launcher == "docker") {
    t.mode = PauseMode::kDocker;
    t.handle = Get(labels, kDockerContainerLabel);
    if (t.handle.empty() || t.handle.size() > 128 || !AllOf(t.handle, DockerChar) ||
        std::isalnum(static_cast<unsigned char>(t.handle.front())) == 0) {
      return Bad(kDockerContainerLabel, "a container id or name ([A-Za-z0-9][A-Za-z0-9_.-]*, at most 128)",
                 t.handle);
    }
    return t;
  }
  if (launcher == "kubernetes") {
    t.mode = PauseMode::kKubernetes;
    const std::string ns = Get(labels, kK8sNamespaceLabel);
    const std::string name = Get(labels, kK8sJobLabel);
    RETURN_IF_ERROR(CheckDnsName(kK8sNamespaceLabel, ns, 63, false));
    RETURN_IF_ERROR(CheckDnsName(kK8sJobLabel, name, 253, true));
    t.handle = ns + "/" + name;
    return t;
  }
  if (launcher == "slurm") {
    const std::string how = Get(labels, kSlurmPauseLabel);
    if (how.empty() || how == "suspend") {
      t.mode = PauseMode::kSlurmSuspend;
    } else if (how == "requeue") {
      t.mode = PauseMode::kSlurmRequeue;
    } else {
      return Bad(kSlurmPauseLabel, "suspend or requeue", how);
    }
    t.handle = Get(labels, kSlurmJobIdLabel);
    const size_t us = t.handle.find('_');
    if (t.handle.empty() || t.handle.size() > 32 || !AllOf(t.handle, SlurmChar) || t.handle.front() == '_' ||
        t.handle.back() == '_' ||
        (us != std::string::npos && t.handle.find('_', us + 1) != std::string::npos)) {
      return Bad(kSlurmJobIdLabel, "a Slurm job id (digits, or digits_digits for an array task)", t.handle);
    }
    return t;
  }
  return Bad(kLauncherLabel, "cooperative, docker, kubernetes or slurm", launcher);
}

}  // namespace gpuledger
