// The server's own JobController (policy/actions.h) for cooperative pauses, used when
// ServerOptions::job_controller is null: a pause is a stop request of kind "pause" that
// the training callback honours after the epoch's checkpoint is written (the progress
// POST answers {"stop": true, "kind": "pause"}); the trainer exits and frees its GPUs,
// and the job is resumed by its resume command, which restarts from weights/last.pt
// with resume=True. Resume withdraws the pause request (the command is run by whoever
// resumes the job: the server cannot start a trainer). docs/POLICIES.md "Pause and
// resume". Uses the server's Ledger under the server's ledger lock; not thread-safe.
#pragma once

#include <string>

#include "common/clock.h"
#include "domain/types.h"
#include "ledger/ledger.h"
#include "policy/actions.h"

namespace gpuledger {

// Labels the Python client may set to say how its run resumes.
inline constexpr char kResumeCommandLabel[] = "gpuledger.resume_command";  // the whole command
inline constexpr char kSaveDirLabel[] = "gpuledger.save_dir";              // the trainer's save_dir

// The job's resume command: its gpuledger.resume_command label, else
// `yolo train resume model=<save_dir>/weights/last.pt` (save_dir: its gpuledger.save_dir
// label, else runs/detect/train, Ultralytics' default).
std::string CooperativeResumeCommand(const Job& job);

class CooperativeController : public JobController {
 public:
  CooperativeController(Ledger& ledger, const Clock& clock) : ledger_(ledger), clock_(clock) {}

  // Writes the pause request with `reason`, by `by` (a token id, or "policy").
  StatusOr<PauseOutcome> PauseWithReason(const PauseTarget& target, const std::string& reason,
                                         const std::string& by);
  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override {
    return PauseWithReason(target, "paused", "policy");
  }
  // Withdraws the job's pause request (a stop request of kind "stop" is left alone).
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override;

 private:
  Ledger& ledger_;
  const Clock& clock_;
};

}  // namespace gpuledger
