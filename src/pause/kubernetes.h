// Pauses a Kubernetes Job by its spec.suspend (batch/v1, stable since 1.24): PATCH
// /apis/batch/v1/namespaces/{ns}/jobs/{name} with a JSON merge patch
// {"spec":{"suspend":true}} (false to resume). Kubernetes then terminates the Job's
// running pods (SIGTERM, then deletion): nothing in memory survives, only what the job
// checkpointed, and the GPUs are freed (gpus_freed = true). Resume makes new pods,
// which start from the checkpoint if the job's command resumes (Ultralytics:
// resume=True from weights/last.pt on a volume that outlives the pod).
// Thread-safe: each call makes its own connection and reads the token file again
// (projected service-account tokens rotate).
#pragma once

#include <string>

#include "policy/actions.h"

namespace gpuledger {

struct KubernetesOptions {
  // https://host:port (or http:// for a test). Empty: in-cluster, from
  // $KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT.
  std::string api_server;
  // A file holding the bearer token. Empty: the pod's service-account token.
  std::string token_file;
  // PEM file of the CA that signs the API server's certificate. Empty: in-cluster,
  // the service account's ca.crt; with an explicit api_server, the system's store.
  std::string ca_file;
  int timeout_s = 10;
};

inline constexpr char kInClusterTokenFile[] = "/var/run/secrets/kubernetes.io/serviceaccount/token";
inline constexpr char kInClusterCaFile[] = "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt";

class KubernetesController : public JobController {
 public:
  explicit KubernetesController(KubernetesOptions options) : options_(std::move(options)) {}

  // 200 (the Job, checked to say suspend as asked); 401 Unauthenticated; 403
  // PermissionDenied; 404 NotFound; 422 InvalidArgument; anything else Unavailable.
  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override;
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override;

 private:
  StatusOr<PauseOutcome> Suspend(const PauseTarget& target, bool suspend);
  KubernetesOptions options_;
};

// "kubectl patch job <name> -n <ns> --type=merge -p '{"spec":{"suspend":false}}'".
std::string KubernetesResumeCommand(const std::string& ns, const std::string& name);

}  // namespace gpuledger
