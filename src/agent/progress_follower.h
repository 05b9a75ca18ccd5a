// Follows an Ultralytics run's results.csv as epochs are appended, without code changes
// in the training: the run directory comes from GPULEDGER_RUN_DIR, or from the training
// command's project=/name= arguments (Ultralytics' CLI form, relative to the process's
// working directory). Only complete lines count (a half-written last line waits for the
// next poll). Works the same for DDP runs, where Ultralytics runs no user callbacks in
// the worker processes. Thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/node_attribution.h"
#include "common/file_system.h"
#include "domain/types.h"

namespace gpuledger {

// The results.csv path of a workload's run, if it names one.
std::optional<std::string> ResultsCsvPath(const Workload& w);

class ProgressFollower {
 public:
  explicit ProgressFollower(FileSystem& fs) : fs_(fs) {}
  // Epochs of the job's results.csv beyond those returned before. A missing file is no
  // epochs yet; a malformed one is an error naming the line (and returns nothing new).
  StatusOr<std::vector<EpochProgress>> Poll(const std::string& job_id, const std::string& results_csv);
  // The last epoch Poll returned for the job (0: none).
  int LastEpoch(const std::string& job_id) const {
    auto it = last_epoch_.find(job_id);
    return it == last_epoch_.end() ? 0 : it->second;
  }

 private:
  FileSystem& fs_;
  std::map<std::string, int> last_epoch_;  // job -> last epoch returned
};

// {"epochs": [{"epoch": 1, "time_s": ..., "train_loss": ..., ...}]}: the body of
// POST /api/v1/jobs/{id}/progress (absent values are left out).
std::string ProgressJson(const std::vector<EpochProgress>& epochs);

}  // namespace gpuledger
