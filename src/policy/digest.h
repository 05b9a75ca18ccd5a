// The low-efficiency digest (#13; jobstats' weekly e-mail; docs/POLICIES.md "Low
// efficiency digest"): each user whose jobs' effective compute density (dense time over
// the time with samples, from the books) stayed under max_density_pct over one period, with at
// least min_gpu_hours of GPU time in it, gets one message naming their least dense jobs
// and what to try (src/advice/'s rules, given by the caller). Pure: the caller meters the
// period and enqueues the notices; the cause key (one per user and period) makes a
// second run of the same period send nothing. Thread-compatible.
#pragma once

#include <string>
#include <vector>

#include "common/time.h"
#include "domain/usage_totals.h"
#include "policy/actions.h"

namespace gpuledger {

inline constexpr char kDigestRule[] = "digest";

struct DigestRule {
  bool enabled = true;
  bool dry_run = false;          // previewed (and audited) but nobody told
  double max_density_pct = 25;   // a user under this density (%) over the period is written to
  double min_gpu_hours = 50;     // ... when their jobs held at least this much GPU time in it
  int period_days = 7;           // the period: UTC weeks from Monday 00:00 when 7
  int worst_jobs = 3;            // how many jobs the message names
};

// One job's part of the period, as metered (its rows clipped to the period).
struct DigestJobUsage {
  std::string job_id;
  std::string user;
  std::string project;
  std::string department;
  UsageTotals usage;
  std::vector<std::string> advice_en;  // what to try (advice rules' text), in each language
  std::vector<std::string> advice_zh;
};

struct DigestJobLine {
  std::string job_id;
  double gpu_hours = 0;
  double density = 0;  // dense / covered, 0..1
  std::vector<std::string> advice_en;
  std::vector<std::string> advice_zh;
};

struct DigestEntry {
  std::string user;
  std::string cause_key;  // digest/<user>/<period start, RFC 3339>
  Window period;
  double gpu_hours = 0;
  double covered_gpu_hours = 0;
  double density = 0;                // the user's dense / covered over all their jobs
  std::vector<DigestJobLine> worst;  // least dense first, at most worst_jobs
  std::string project;               // of their most used job (where the notice is routed)
  std::string department;
};

// The period that ended last at or before `now`: [start, start + period_days) with start a
// Monday 00:00 UTC when period_days is 7 (else a multiple of period_days from the epoch).
Window DigestPeriodBefore(const DigestRule& rule, TimeMs now);

// The users the rule writes to over `period`, by user. A user none of whose time had
// samples is not judged (density unknown, not zero).
std::vector<DigestEntry> LowEfficiencyDigest(const DigestRule& rule, Window period,
                                             const std::vector<DigestJobUsage>& jobs);

// The message (event digest.weekly, to the user and their project's channel): fields
// period, gpu_hours, density, one "job N" line per worst job and the advice in English
// and Chinese.
Notice DigestNotice(const DigestEntry& e);

}  // namespace gpuledger
