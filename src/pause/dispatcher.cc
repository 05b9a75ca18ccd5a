#include "pause/dispatcher.h"

#include "pause/docker.h"
#include "pause/slurm.h"
#include "pause/target.h"

namespace gpuledger {

StatusOr<JobController*> PauseDispatcher::For(const PauseTarget& target) {
  JobController* c = nullptr;
  const char* flag = "";
  switch (target.mode) {
    case PauseMode::kCooperative:
      c = a_.cooperative;
      flag = "the server's own stop requests";
      break;
    case PauseMode::kDocker:
      c = a_.docker.get();
      flag = "--docker-socket";
      break;
    case PauseMode::kKubernetes:
      c = a_.kubernetes.get();
      flag = "--k8s-api-server";
      break;
    case PauseMode::kSlurmSuspend:
    case PauseMode::kSlurmRequeue:
      c = a_.slurm.get();
      flag = "--scontrol";
      break;
  }
  if (c == nullptr) {
    return FailedPrecondition(std::string("job ") + target.job_id + " is paused by " +
                              PauseModeName(target.mode) + ", which this server has no adapter for (" + flag +
                              ")");
  }
  return c;
}

StatusOr<PauseOutcome> PauseDispatcher::Pause(const PauseTarget& target) {
  ASSIGN_OR_RETURN(JobController * c, For(target));
  return c->Pause(target);
}

StatusOr<PauseOutcome> PauseDispatcher::Resume(const PauseTarget& target) {
  ASSIGN_OR_RETURN(JobController * c, For(target));
  return c->Resume(target);
}

std::unique_ptr<PauseDispatcher> MakePauseDispatcher(const PauseConfig& config, JobController* cooperative) {
  PauseDispatcher::Adapters a;
  a.cooperative = cooperative;
  const int timeout_ms = config.timeout_s * 1000;
  if (config.docker_socket != "none")
    a.docker = std::make_unique<DockerController>(config.docker_socket, timeout_ms);
  if (config.k8s_api_server != "none") {
    KubernetesOptions k;
    k.api_server = config.k8s_api_server;
    k.token_file = config.k8s_token_file;
    k.ca_file = config.k8s_ca_file;
    k.timeout_s = config.timeout_s;
    a.kubernetes = std::make_unique<KubernetesController>(std::move(k));
  }
  if (config.scontrol != "none") {
    a.runner = std::make_unique<ProcessRunner>();
    a.slurm = std::make_unique<SlurmController>(a.runner.get(), config.scontrol, timeout_ms);
  }
  return std::make_unique<PauseDispatcher>(std::move(a));
}

}  // namespace gpuledger
