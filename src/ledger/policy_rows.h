// The rows of the policies that act (#13, migration 0018, docs/POLICIES.md): a policy
// decision, stored once per cause_key, and a job's pause, open (resumed_ms 0) until the
// job is resumed. The Ledger stores them (PutDecision, ListDecisions, PutPause,
// OpenPause, EndPause, ListPauses); policy/ and server/ decide what goes in. Plain
// types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>

#include "common/time.h"

namespace gpuledger {

struct PolicyDecisionRow {
  int64_t id = 0;  // assigned by PutDecision
  std::string job_id;
  std::string rule;       // breaker | idle | duration | manual
  std::string cause_key;  // unique
  std::string action;     // warn | pause | stop | notify
  bool dry_run = false;
  TimeMs at_ms = 0;
  std::string data_json;  // {"window": {...}, "figures": {...}, "thresholds": {...}, "reason": ..., "outcome": ...}
};

struct JobPause {
  int64_t id = 0;  // assigned by PutPause
  std::string job_id;
  TimeMs paused_ms = 0;
  TimeMs resumed_ms = 0;  // 0: still paused
  std::string mode;       // pause/target.h PauseModeName: cooperative | docker | ...
  bool gpus_freed = false;
  std::string resume_command;
  std::string cause_key;     // the decision that paused it, or "manual/<job>/<ms>"
  std::string requested_by;  // the token id, or "policy"
};

}  // namespace gpuledger
