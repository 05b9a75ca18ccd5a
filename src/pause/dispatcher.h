// The JobController the server is given (#13 item 4): it routes each PauseTarget by its
// mode (pause/target.h reads it from the job's labels) to the launcher's adapter, and
// cooperative targets to the controller the server's own stop requests go through.
// An adapter that is not configured is a FailedPrecondition naming the mode. Every
// outcome of a pause carries the command that resumes the job. Thread-safe when the
// adapters are (they are) and `set_cooperative` happens before the first call.
#pragma once

#include <memory>
#include <string>

#include "common/command.h"
#include "pause/kubernetes.h"
#include "policy/actions.h"

namespace gpuledger {

class PauseDispatcher : public JobController {
 public:
  struct Adapters {
    JobController* cooperative = nullptr;  // not owned
    std::unique_ptr<JobController> docker;
    std::unique_ptr<JobController> kubernetes;
    std::unique_ptr<CommandRunner> runner;  // what slurm runs scontrol with, owned here
    std::unique_ptr<JobController> slurm;   // both suspend and requeue
  };
  explicit PauseDispatcher(Adapters adapters) : a_(std::move(adapters)) {}

  // The server's own controller (a stop request of kind "pause" that the job's Python
  // callback acts on), when the server makes it after this dispatcher.
  void set_cooperative(JobController* cooperative) { a_.cooperative = cooperative; }

  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override;
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override;

 private:
  StatusOr<JobController*> For(const PauseTarget& target);
  Adapters a_;
};

// The `gpuledger server` flags for the adapters (cli/pause_flags.h adds them).
struct PauseConfig {
  std::string docker_socket = "/var/run/docker.sock";  // "none": no Docker adapter
  std::string k8s_api_server;  // "" = in-cluster ($KUBERNETES_SERVICE_HOST); "none": no adapter
  std::string k8s_token_file;  // "" = the service account's token
  std::string k8s_ca_file;     // "" = in-cluster: the service account's ca.crt; else the system's store
  std::string scontrol = "scontrol";  // a path, or a name on PATH; "none": no Slurm adapter
  int timeout_s = 30;                 // each launcher call (HTTP exchange or scontrol run)
};

// A dispatcher with the adapters `config` enables, the Slurm one running scontrol as a
// real process. `cooperative` may be null and set later.
std::unique_ptr<PauseDispatcher> MakePauseDispatcher(const PauseConfig& config, JobController* cooperative);

}  // namespace gpuledger
