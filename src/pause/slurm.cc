#include "pause/slurm.h"

namespace gpuledger {
namespace {

bool Has(const std::string& s, const char* what) { return s.find(what) != std::string::npos; }

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

StatusOr<std::string> SlurmController::Scontrol(const std::string& verb, const std::string& id) {
  const std::vector<std::string> argv = {scontrol_, verb, id};
  const std::string cmd = "scontrol " + verb + " " + id;
  ASSIGN_OR_RETURN(CommandResult r, runner_->Run(argv, timeout_ms_));
  if (r.exit_code == 0) return cmd + ": ok" + (Trim(r.out).empty() ? "" : ": " + Trim(r.out));
  const std::string why = cmd + " exited " + std::to_string(r.exit_code) + ": " +
                          (Trim(r.err).empty() ? Trim(r.out) : Trim(r.err)).substr(0, 500);
  if (Has(r.err, "Invalid job id")) return NotFound(why);
  if (Has(r.err, "ermission denied") || Has(r.err, "Access denied")) return PermissionDenied(why);
  if (Has(r.err, "Unable to contact slurm controller") || Has(r.err, "Socket timed out"))
    return Unavailable(why);
  return FailedPrecondition(why);
}

StatusOr<PauseOutcome> SlurmController::Pause(const PauseTarget& target) {
  if ((target.mode != PauseMode::kSlurmSuspend && target.mode != PauseMode::kSlurmRequeue) ||
      target.handle.empty()) {
    return InvalidArgument("the Slurm adapter needs a slurm target with a job id; job " + target.job_id +
                           " has \"" + target.handle + "\"");
  }
  PauseOutcome out;
  if (target.mode == PauseMode::kSlurmSuspend) {
    ASSIGN_OR_RETURN(out.detail, Scontrol("suspend", target.handle));
    out.gpus_freed = false;  // SIGSTOP: memory, CUDA contexts included, stays allocated
    out.resume_command = "scontrol resume " + target.handle;
  } else {
    ASSIGN_OR_RETURN(out.detail, Scontrol("requeuehold", target.handle));
    out.gpus_freed = true;  // ended and requeued held: only checkpoints survive
    out.resume_command = "scontrol release " + target.handle;
  }
  return out;
}

StatusOr<PauseOutcome> SlurmController::Resume(const PauseTarget& target) {
  if ((target.mode != PauseMode::kSlurmSuspend && target.mode != PauseMode::kSlurmRequeue) ||
      target.handle.empty()) {
    return InvalidArgument("the Slurm adapter needs a slurm target with a job id; job " + target.job_id +
                           " has \"" + target.handle + "\"");
  }
  PauseOutcome out;
  const bool suspend = target.mode == PauseMode::kSlurmSuspend;
  ASSIGN_OR_RETURN(out.detail, Scontrol(suspend ? "resume" : "release", target.handle));
  out.gpus_freed = !suspend;  // a released job waits in the queue for GPUs again
  return out;
}

}  // namespace gpuledger
