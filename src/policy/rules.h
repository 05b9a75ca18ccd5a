// The policies that act (#13, docs/POLICIES.md): the circuit breaker, idle GPUs and the
// duration limit, as pure rules over what the books hold about one running job (its
// epochs, its GPUs' utilisation samples over the window, its labels) and `now`. A rule
// answers Decisions: what to do (warn, pause, stop), why (the figures and thresholds
// seen over the window) and a cause key that names the cause, so whoever records the
// decisions (server: the ledger's decisions table, unique by cause key) acts on each
// cause once however often the rules are evaluated. Configuration: organisation
// defaults and per-project overrides (policy_config.h). No I/O; thread-compatible.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/time.h"
#include "policy/digest.h"
#include "domain/types.h"

namespace gpuledger {

// A job's label naming the rules that do not apply to it: "breaker", "idle", "duration",
// comma-separated (spaces ignored), or "all".
inline constexpr char kPolicyExemptLabel[] = "gpuledger.policy.exempt";
// "true": an interactive job (a notebook, a shell), exempt from the idle rule while it
// holds at most IdleRule::interactive_max_gpus GPUs.
inline constexpr char kInteractiveLabel[] = "gpuledger.interactive";

inline constexpr char kBreakerRule[] = "breaker";
inline constexpr char kIdleRule[] = "idle";
inline constexpr char kDurationRule[] = "duration";
// Decisions made by hand (POST /api/v1/jobs/{id}/pause): recorded and audited as the
// rules' are, with no notice.
inline constexpr char kManualRule[] = "manual";

enum class PolicyAction { kWarn, kPause, kStop, kNotify };
std::string_view PolicyActionName(PolicyAction a);  // warn | pause | stop | notify
StatusOr<PolicyAction> ParsePolicyAction(std::string_view s);

// The article's rule: loss improved by less than min_loss_improvement over the last
// window_ms AND the job's GPUs' mean utilisation stayed under max_util_pct over the same
// window -> pause and notify.
struct BreakerRule {
  bool enabled = true;
  bool dry_run = false;
  DurationMs window_ms = 2 * kHourMs;
  double min_loss_improvement = 0.001;  // absolute, in the loss's own units
  double max_util_pct = 40;             // mean over the window, all the job's GPUs
  int min_epochs = 2;                   // epochs ending within the window
  // mAP@0.5 rising by more than this over the window means the run is not plateaued.
  double min_map50_rise = 0.0;
};

// Princeton's Job Defense Shield practice: every GPU of the job reads idle for warn_ms ->
// warn; for warn_again_ms -> warn again; for act_ms -> act (pause or stop).
struct IdleRule {
  bool enabled = true;
  bool dry_run = false;
  DurationMs warn_ms = 60 * kMinuteMs;
  DurationMs warn_again_ms = 105 * kMinuteMs;
  DurationMs act_ms = 120 * kMinuteMs;
  double idle_util_pct = 0;  // a sample at or under this is idle (0: reads 0 %)
  // The job is spared while at least this fraction of its GPUs is not idle (the
  // default, 0.01, spares a job with any GPU busy: "all GPUs 0 %").
  double spare_busy_fraction = 0.01;
  // A GPU whose latest sample is older than this is not known to be idle.
  DurationMs max_sample_age_ms = 5 * kMinuteMs;
  int interactive_max_gpus = 1;  // interactive jobs holding at most this many are exempt
  PolicyAction action = PolicyAction::kPause;  // pause | stop
};

// The job's own duration_limit_ms (0: none): warn at warn_fraction of it, act at 100 %.
struct DurationRule {
  bool enabled = true;
  bool dry_run = false;
  double warn_fraction = 0.9;
  PolicyAction action = PolicyAction::kPause;  // pause | stop (after the checkpoint)
};

struct RulesConfig {
  BreakerRule breaker;
  IdleRule idle;
  DurationRule duration;
  DigestRule digest;  // per user, not per job: only the organisation's section is used
};

// One epoch as the breaker reads it: when it ended, the sum of its train/* losses and
// its mAP@0.5 (results.csv; EpochProgress).
struct EpochPoint {
  int epoch = 0;
  TimeMs end_ms = 0;
  double loss = 0;
  std::optional<double> map50;
};

// Epoch end times from a job's progress: start_ms plus results.csv's cumulative `time`
// (seconds since training began). Epochs without time or train loss are left out.
std::vector<EpochPoint> EpochPoints(TimeMs start_ms, const std::vector<EpochProgress>& epochs);

struct GpuSeries {
  std::string gpu_uuid;
  std::vector<Sample> samples;  // by time; those within the window the caller read
};

// Everything one evaluation reads about one job.
struct JobInputs {
  Job job;
  std::vector<EpochPoint> epochs;
  std::vector<GpuSeries> gpus;  // the GPUs it holds now
  // Where the current run segment began: the job's start, or its latest resume. The
  // breaker judges only a segment at least its window long, once per segment.
  TimeMs segment_start_ms = 0;
  bool paused = false;  // a paused job is not evaluated
};

// What the caller must read for JobInputs: samples since now - SampleLookbackMs(cfg).
DurationMs SampleLookbackMs(const RulesConfig& cfg);

struct Decision {
  std::string job_id;
  std::string rule;       // breaker | idle | duration
  std::string cause_key;  // e.g. "breaker/j1/segment-1764669600000"
  std::string event;      // the notice's template: breaker.paused, idle.warn, ...
  PolicyAction action = PolicyAction::kWarn;
  bool dry_run = false;
  TimeMs at_ms = 0;
  Window window;  // what the rule read
  std::map<std::string, double> figures;     // what it saw
  std::map<std::string, double> thresholds;  // what it compared them with
  std::string reason;                        // one sentence with both
};

// The rules' names in the exemption label (empty set when none; "all" names every rule).
std::vector<std::string> ExemptRules(const std::map<std::string, std::string>& labels);
// What the audit entry of a registration records of the exemptions a job's labels claim,
// so who set one is on record: ` exempt="breaker,idle"` and ` interactive="true"` for the
// labels present (values as sent), "" when neither is.
std::string ExemptionAuditNote(const std::map<std::string, std::string>& labels);

// Each rule alone (nullopt: nothing to decide now). They do not look at enabled,
// exemptions or paused: Evaluate does.
std::optional<Decision> EvaluateBreaker(const BreakerRule& rule, const JobInputs& in, TimeMs now);
std::optional<Decision> EvaluateIdle(const IdleRule& rule, const JobInputs& in, TimeMs now);
std::optional<Decision> EvaluateDuration(const DurationRule& rule, const JobInputs& in, TimeMs now);

// The engine: every enabled rule the job is not exempt from, for a running, unpaused
// job. Decisions carry their rule's dry_run.
std::vector<Decision> Evaluate(const RulesConfig& cfg, const JobInputs& in, TimeMs now);

}  // namespace gpuledger
