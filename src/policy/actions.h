// The seams between the policy engine and what it acts through (#13): a decision
// becomes Notices, handed to a NoticeSink (notify/: a durable outbox that renders each
// notice's template per channel and delivers it), and pause/resume requests, handed to
// a JobController (pause/: one adapter per launcher: cooperative, Docker, Kubernetes,
// Slurm). The engine and the rules only ever see these interfaces; tests give them
// recording fakes. Interfaces only; implementations say their own thread-safety.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

// Who a notice is for. The sink resolves each audience to its channels from its own
// configuration (the job owner's address, the project's group robot, ...). kStatement:
// whoever a project's monthly statement goes to (the notify config's "statements").
enum class Audience { kJobOwner, kProjectChannel, kDeptAdmin, kFinance, kStatement };

// One thing to tell people, in no particular language: `event` names the template
// ("breaker.paused", "idle.warn", "budget.80", ...) and `fields` fill it. `cause_key`
// identifies the cause: a sink enqueues a key once and ignores it ever after, so a rule
// re-evaluated on every flush cannot send a storm.
struct Notice {
  std::string cause_key;  // e.g. "breaker/job-17/2026-12-02T10:00Z"
  std::string event;
  TimeMs at_ms = 0;       // when the decision was made
  std::string job_id;     // empty where the notice is not about one job (budgets)
  std::string user;
  std::string project;
  std::string department;
  std::vector<Audience> audiences;
  std::vector<std::pair<std::string, std::string>> fields;  // template name -> value
};

class NoticeSink {
 public:
  virtual ~NoticeSink() = default;
  // Durably records the notice for delivery (or does nothing when cause_key was seen
  // before) and returns; delivery happens later and is retried. An error means the
  // notice was not recorded.
  virtual Status Enqueue(const Notice& notice) = 0;
};

// How a job is paused, named on the job's `gpuledger.launcher` label (cooperative when
// absent): what survives and whether the GPU is freed differ (docs/POLICIES.md).
enum class PauseMode { kCooperative, kDocker, kKubernetes, kSlurmSuspend, kSlurmRequeue };

// What an adapter needs to find the job in its launcher.
struct PauseTarget {
  std::string job_id;
  PauseMode mode = PauseMode::kCooperative;
  std::string handle;  // container id | namespace/name | Slurm job id | empty (cooperative)
  std::string node;
};

// What a pause or resume did: whether the job's GPUs are now free (they stop being
// billed to it) and the command that resumes it, recorded on the job and shown.
struct PauseOutcome {
  bool gpus_freed = false;
  std::string resume_command;
  std::string detail;  // what the launcher answered, for the decision record
};

class JobController {
 public:
  virtual ~JobController() = default;
  virtual StatusOr<PauseOutcome> Pause(const PauseTarget& target) = 0;
  virtual StatusOr<PauseOutcome> Resume(const PauseTarget& target) = 0;
};

}  // namespace gpuledger
