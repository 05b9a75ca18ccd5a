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

// One answer of the API server.
struct KubernetesReply {
  int status = 0;
  std::string body;
};

// One request to the API server, with the bearer token, the server and CA resolved as
// KubernetesOptions says. Unavailable when no answer came (the error names the server).
StatusOr<KubernetesReply> KubernetesRequest(const KubernetesOptions& options, const std::string& method,
                                            const std::string& path, const std::string& body,
                                            const std::string& content_type);

// The answer as a Status for `what` ("create Job ns/name"): 401 Unauthenticated, 403
// PermissionDenied, 404 NotFound, 409 AlreadyExists, 400 and 422 InvalidArgument, other
// codes outside 2xx Unavailable; each with the API server's message.
Status KubernetesStatus(const std::string& what, const KubernetesReply& reply);

// POST /apis/batch/v1/namespaces/{ns}/jobs with a batch/v1 Job (JSON): 201 -> the
// created Job's metadata.name. `submit --launcher kubernetes` (submit/launcher.h).
StatusOr<std::string> CreateKubernetesJob(const KubernetesOptions& options, const std::string& ns,
                                          const std::string& manifest_json);
// DELETE .../jobs/{name} with propagationPolicy Background (its pods go too): 200 or
// 202; 404 (already gone) is ok.
Status DeleteKubernetesJob(const KubernetesOptions& options, const std::string& ns, const std::string& name);

// "kubectl patch job <name> -n <ns> --type=merge -p '{"spec":{"suspend":false}}'".
std::string KubernetesResumeCommand(const std::string& ns, const std::string& name);

}  // namespace gpuledger
