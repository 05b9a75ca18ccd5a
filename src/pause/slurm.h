// Pauses a Slurm job with scontrol, by argv (no shell), through a CommandRunner:
//   suspend  `scontrol suspend <id>`: SIGSTOP to every task; host memory stays
//            allocated and so do the CUDA contexts and GPU memory, so the GPUs are not
//            freed (gpus_freed = false); `scontrol resume <id>` sends SIGCONT and the
//            job continues where it stopped. Suspended time does not count toward the
//            job's time limit. Needs a Slurm operator or administrator.
//   requeue  `scontrol requeuehold <id>`: the job is ended and put back in the queue,
//            held, so it does not start again at once: the GPUs are freed
//            (gpus_freed = true) and only its checkpoints survive. `scontrol release
//            <id>` lets it be scheduled again; it restarts from its checkpoint if its
//            batch script resumes (plain `scontrol requeue` would reschedule it at
//            once: no pause at all). The job must be requeueable (--requeue or
//            JobRequeue=1).
// scontrol's failures keep its stderr: "Invalid job id" is NotFound, "Access/permission
// denied" PermissionDenied, any other FailedPrecondition ("Job is not running", ...).
// Thread-safe when the runner is.
#pragma once

#include <string>

#include "common/command.h"
#include "policy/actions.h"

namespace gpuledger {

class SlurmController : public JobController {
 public:
  // `runner` outlives this controller.
  SlurmController(CommandRunner* runner, std::string scontrol = "scontrol", int timeout_ms = 30000)
      : runner_(runner), scontrol_(std::move(scontrol)), timeout_ms_(timeout_ms) {}

  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override;
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override;

 private:
  StatusOr<std::string> Scontrol(const std::string& verb, const std::string& id);
  CommandRunner* runner_;
  std::string scontrol_;
  int timeout_ms_;
};

}  // namespace gpuledger
