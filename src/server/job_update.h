// Ending and correcting a job after it was registered: PATCH /api/v1/jobs/{id} (the
// Python callback's on_train_end, the agent when a job's processes have gone, an admin)
// and `gpuledger job end|set`. A job ended here ends its allocations that are still open
// (or reach past the end) at the same instant, in the same transaction, so no hold bills
// on after its job. Rules (docs/api/openapi.yaml):
//   - a finished status (succeeded, failed, cancelled) takes an end; without one given,
//     the end is the job's stored end or else `now`; a running or pending job has none;
//   - the end is not before the job's start nor more than kEndAheadOfClockMs after now;
//   - a finished job is never re-opened (running/pending); its status, start and end are
//     corrected only with `correct_finished` (admins); the same values again are a no-op,
//     so a retried request succeeds;
//   - a corrected later end moves the ends of the allocations that ended with the job.
// Pure except UpdateJob, which reads and writes the Ledger. Thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/types.h"
#include "ledger/ledger.h"

namespace gpuledger {

// An end this far after the clock is refused (clock skew between a node and the server
// is tolerated, a typo of a year is not).
inline constexpr DurationMs kEndAheadOfClockMs = 5 * kMinuteMs;

struct JobUpdate {
  std::optional<JobStatus> status;
  std::optional<TimeMs> start_ms;
  std::optional<TimeMs> end_ms;
  // The descriptive fields that may be corrected, by name (kCorrectableJobFields).
  std::map<std::string, std::string> fields;
  // How the run resumes, sent with status "paused" (the Python client): kept as the
  // job's gpuledger.resume_command label, which the job's pause record shows.
  std::optional<std::string> resume_command;

  bool empty() const { return !status && !start_ms && !end_ms && fields.empty() && !resume_command; }
};

// Besides status, start and end.
inline constexpr const char* kCorrectableJobFields[] = {"user",       "project",   "department",
                                                        "model_type", "framework", "dataset"};

// The PATCH body: a JSON object of strings, {"status": "succeeded", "end": "RFC 3339"}
// and any of "start" and kCorrectableJobFields. Unknown fields are refused by name.
StatusOr<JobUpdate> ParseJobUpdateJson(std::string_view body);

// `job` with `u` applied, by the rules above; errors name the job, the field and values.
StatusOr<Job> ApplyJobUpdate(const Job& job, const JobUpdate& u, bool correct_finished, TimeMs now);

// The allocations (among `allocs`; others' are skipped) that change when `before`
// becomes `after`: open ones, and those reaching past the new end, end at it; those that
// ended with the job at its old end follow a later one. FailedPrecondition for a hold
// that starts at or after the new end (it cannot end before it starts).
StatusOr<std::vector<Allocation>> AllocationsToEnd(const Job& before, const Job& after,
                                                   const std::vector<Allocation>& allocs);

bool IsFinished(JobStatus s);

// A registration (POST /api/v1/jobs) of a job that may be stored already. A new job is
// stored as sent. A stored one still pending or running takes what the registration
// sends and keeps what it leaves out (the agent and the callback each register what they
// know). A stored finished job, or a registration that would finish a stored one, is
// refused (FailedPrecondition): ending and correcting a job is PATCH's, which ends its
// holds with it. Sending a finished job again as it is stored is a retry: accepted.
// The image digest: one the stored job lacks is filled in (the agent or the launcher
// learns it after submission); a known one is never replaced, and a different one sent
// adds a warning to `warnings` (when given) naming both.
StatusOr<Job> MergeRegistration(const std::optional<Job>& stored, Job incoming,
                                std::vector<std::string>* warnings = nullptr);

// A submitted (pending) job is running once its first progress arrives: its status
// becomes running and, when it has none, its start `now`. Other jobs are left as they are.
Status StartPendingJob(Ledger& ledger, const std::string& job_id, TimeMs now);

// A paused job run again under its id (the run its resume command started registers or
// posts progress: a cooperative pause ends the job `paused`) is running again from `now`
// when nothing asks it to stay paused (a resume withdrew its pause request, or the
// server never asked for one): its status running, its end cleared (the holds that ended
// with its last run stay ended), its open pause closed at `now`, in one transaction.
// Returns whether it was taken back. A job with a pause request standing stays paused
// (MergeRegistration refuses its registration, naming the resume). docs/POLICIES.md.
StatusOr<bool> RunPausedJobAgain(Ledger& ledger, const std::string& job_id, TimeMs now);

// A submitted (pending) job is running once its first sample arrives too: among the
// allocations (explicit, or made from workload labels) of the GPUs `samples` are from,
// each pending job's becomes running, its start (when it has none) the first of those
// samples inside its hold, so the queue wait (submitted -> start) reads as the time
// until its GPU first reported. `samples` are in the ledger already. `not_pending`
// remembers jobs found not pending (a job never goes back to pending), so a busy GPU's
// job is read once; may be null. Returns the ids started.
StatusOr<std::vector<std::string>> StartPendingJobsAtFirstSample(Ledger& ledger,
                                                                 const std::vector<GpuSample>& samples,
                                                                 std::set<std::string>* not_pending);

struct JobUpdateResult {
  Job job;                        // as stored
  int64_t allocations_ended = 0;  // allocations whose end was set or moved
};

// Reads job `id` (NotFound when absent), applies `u` and stores the job and its
// allocations' ends in one ledger.InTransaction (joining the caller's, if any).
StatusOr<JobUpdateResult> UpdateJob(Ledger& ledger, const std::string& id, const JobUpdate& u,
                                    bool correct_finished, TimeMs now);

}  // namespace gpuledger
