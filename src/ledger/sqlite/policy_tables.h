// The SQLite ledger's policy decisions and job pauses (ledger/policy_rows.h, migration
// 0018). Calls run on the ledger's connection, inside the caller's transaction where
// there is one. Not thread-safe (one Db).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/policy_rows.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

class PolicyTables {
 public:
  explicit PolicyTables(Db& db) : db_(db) {}

  StatusOr<bool> PutDecision(PolicyDecisionRow& d);
  StatusOr<std::optional<PolicyDecisionRow>> GetDecision(const std::string& cause_key);
  StatusOr<std::vector<PolicyDecisionRow>> ListDecisions(const std::string& job_id, TimeMs from_ms, size_t limit);
  Status PutPause(JobPause& p);
  StatusOr<std::optional<JobPause>> OpenPause(const std::string& job_id);
  Status EndPause(const std::string& job_id, TimeMs resumed_ms);
  StatusOr<std::vector<JobPause>> ListPauses(const std::string& job_id);
  StatusOr<std::vector<JobPause>> PausesOverlapping(Window w);
  Status SettlePause(const JobPause& p);
  Status DeletePause(int64_t pause_id);
  Status SetDecisionData(const std::string& cause_key, const std::string& data_json);
  Status DeleteDecision(const std::string& cause_key);

 private:
  Status CheckJob(const std::string& job_id);
  Db& db_;
};

}  // namespace gpuledger::sqlite
