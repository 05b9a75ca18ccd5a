// The SQLite ledger's per-job side tables: stop and pause requests (the agent's stop
// channel), the estimate a submission was shown (#12), and each job's peak GPU memory per
// GPU. Each write checks that its job (and GPU) exists first. Calls run on the ledger's
// connection, inside the caller's transaction where there is one. Not thread-safe (one Db).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/ledger.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

class JobTables {
 public:
  explicit JobTables(Db& db) : db_(db) {}

  Status PutStopRequest(const StopRequest& r);
  StatusOr<std::optional<StopRequest>> GetStopRequest(const std::string& job_id);
  StatusOr<bool> DeleteStopRequest(const std::string& job_id);
  Status PutEstimate(const JobEstimate& e);
  StatusOr<std::optional<JobEstimate>> GetEstimate(const std::string& job_id);
  Status PutJobGpuMemory(const std::vector<JobGpuMemory>& rows);
  StatusOr<std::vector<JobGpuMemory>> GetJobGpuMemory(const std::string& job_id);

 private:
  Db& db_;
};

}  // namespace gpuledger::sqlite
