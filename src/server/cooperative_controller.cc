#include "server/cooperative_controller.h"

namespace gpuledger {

std::string CooperativeResumeCommand(const Job& job) {
  if (auto it = job.labels.find(kResumeCommandLabel); it != job.labels.end() && !it->second.empty())
    return it->second;
  std::string save_dir = "runs/detect/train";
  if (auto it = job.labels.find(kSaveDirLabel); it != job.labels.end() && !it->second.empty())
    save_dir = it->second;
  return "yolo train resume model=" + save_dir + "/weights/last.pt";
}

StatusOr<PauseOutcome> CooperativeController::PauseWithReason(const PauseTarget& target, const std::string& reason,
                                                             const std::string& by) {
  ASSIGN_OR_RETURN(std::optional<Job> job, ledger_.GetJob(target.job_id));
  if (!job) return NotFound("no job '" + target.job_id + "' to pause");
  // A stop asked for already wins: the job ends after this epoch either way, and a pause
  // must not turn it into a resumable one.
  ASSIGN_OR_RETURN(std::optional<StopRequest> pending, ledger_.GetStopRequest(target.job_id));
  if (pending && pending->kind != "pause") {
    return FailedPrecondition("job '" + target.job_id + "' has a stop request already (" + pending->reason +
                              "): it stops after this epoch and is not paused");
  }
  RETURN_IF_ERROR(ledger_.PutStopRequest({target.job_id, clock_.Now(), by, reason, "pause"}));
  PauseOutcome out;
  out.gpus_freed = true;  // the trainer exits after its checkpoint
  out.resume_command = CooperativeResumeCommand(*job);
  out.detail = "pause requested: the training callback stops after this epoch's checkpoint";
  return out;
}

StatusOr<PauseOutcome> CooperativeController::Resume(const PauseTarget& target) {
  ASSIGN_OR_RETURN(std::optional<Job> job, ledger_.GetJob(target.job_id));
  if (!job) return NotFound("no job '" + target.job_id + "' to resume");
  ASSIGN_OR_RETURN(std::optional<StopRequest> stop, ledger_.GetStopRequest(target.job_id));
  PauseOutcome out;
  out.gpus_freed = true;
  out.resume_command = CooperativeResumeCommand(*job);
  if (stop && stop->kind == "pause") {
    ASSIGN_OR_RETURN(bool withdrawn, ledger_.DeleteStopRequest(target.job_id));
    out.detail = withdrawn ? "pause request withdrawn; run the resume command" : "run the resume command";
  } else {
    out.detail = "no pause request pending; run the resume command";
  }
  return out;
}

}  // namespace gpuledger
