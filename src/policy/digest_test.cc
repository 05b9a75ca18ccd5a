#include "policy/digest.h"

#include <gtest/gtest.h>

#include "policy/policy_config.h"

namespace gpuledger {
namespace {

constexpr TimeMs kMonday = 1796601600000;  // 2026-12-07T00:00:00Z, a Monday

// GPU time of `hours`, all of it sampled, `density` of it dense.
UsageTotals Usage(double hours, double density) {
  UsageTotals u;
  const auto ns = static_cast<int64_t>(hours * static_cast<double>(kGpuNsPerGpuHour));
  u.gpu_ns = ns;
  u.covered_ns = ns;
  u.dense_ns = static_cast<int64_t>(static_cast<double>(ns) * density);
  return u;
}

DigestJobUsage Job(const std::string& id, const std::string& user, double hours, double density) {
  DigestJobUsage j;
  j.job_id = id;
  j.user = user;
  j.project = "det";
  j.department = "retail";
  j.usage = Usage(hours, density);
  j.advice_en = {"raise workers"};
  j.advice_zh = {"增加 workers"};
  return j;
}

TEST(DigestPeriod, IsTheUtcWeekFromMondayThatEndedLast) {
  DigestRule r;
  EXPECT_EQ(DigestPeriodBefore(r, kMonday + 3 * kDayMs + 5 * kHourMs).start, kMonday - 7 * kDayMs);
  EXPECT_EQ(DigestPeriodBefore(r, kMonday + 3 * kDayMs + 5 * kHourMs).end, kMonday);
  EXPECT_EQ(DigestPeriodBefore(r, kMonday).start, kMonday - 7 * kDayMs);  // the week that just ended
  EXPECT_EQ(DigestPeriodBefore(r, kMonday - 1).start, kMonday - 14 * kDayMs);
  r.period_days = 1;
  EXPECT_EQ(DigestPeriodBefore(r, kMonday + 5 * kHourMs).start, kMonday - kDayMs);
}

TEST(LowEfficiencyDigest, NamesUsersUnderTheDensityWithEnoughGpuHoursOnceEach) {
  DigestRule r;
  const Window week{kMonday - 7 * kDayMs, kMonday};
  std::vector<DigestJobUsage> jobs = {
      Job("a1", "alice", 40, 0.10), Job("a2", "alice", 30, 0.20), Job("a3", "alice", 5, 0.05),  // 75 h, 13.7 %
      Job("b1", "bob", 200, 0.60),                                                            // dense enough
      Job("c1", "carol", 49, 0.01),                                                           // under 50 GPU-h
      Job("d1", "dave", 30, 0.25), Job("d2", "dave", 30, 0.25),                               // exactly 25 %: spared
  };
  std::vector<DigestEntry> out = LowEfficiencyDigest(r, week, jobs);
  ASSERT_EQ(out.size(), 1u);
  const DigestEntry& e = out[0];
  EXPECT_EQ(e.user, "alice");
  EXPECT_EQ(e.cause_key, "digest/alice/2026-11-30T00:00:00Z");
  EXPECT_NEAR(e.gpu_hours, 75, 1e-9);
  EXPECT_NEAR(e.density, (4.0 + 6.0 + 0.25) / 75.0, 1e-9);
  ASSERT_EQ(e.worst.size(), 3u);
  EXPECT_EQ(e.worst[0].job_id, "a3");  // least dense first
  EXPECT_EQ(e.worst[1].job_id, "a1");
  EXPECT_EQ(e.worst[2].job_id, "a2");
  EXPECT_EQ(e.project, "det");  // of a1, her most used job

  // The thresholds are the policy file's.
  r.min_gpu_hours = 40;
  r.max_density_pct = 30;
  r.worst_jobs = 1;
  out = LowEfficiencyDigest(r, week, jobs);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].user, "alice");
  EXPECT_EQ(out[0].worst.size(), 1u);
  EXPECT_EQ(out[1].user, "carol");
  EXPECT_EQ(out[2].user, "dave");
}

TEST(LowEfficiencyDigest, AUserWithoutSamplesIsNotJudged) {
  DigestJobUsage j = Job("x", "erin", 100, 0);
  j.usage.covered_ns = 0;
  j.usage.dense_ns = 0;
  EXPECT_TRUE(LowEfficiencyDigest(DigestRule{}, {kMonday - 7 * kDayMs, kMonday}, {j}).empty());
}

TEST(DigestNotice, CarriesTheWorstJobsAndWhatToTryInBothLanguages) {
  std::vector<DigestEntry> out = LowEfficiencyDigest(
      DigestRule{}, {kMonday - 7 * kDayMs, kMonday}, {Job("a1", "alice", 60, 0.10), Job("a2", "alice", 10, 0.0)});
  ASSERT_EQ(out.size(), 1u);
  Notice n = DigestNotice(out[0]);
  EXPECT_EQ(n.event, "digest.weekly");
  EXPECT_EQ(n.cause_key, out[0].cause_key);
  EXPECT_EQ(n.user, "alice");
  std::map<std::string, std::string> f(n.fields.begin(), n.fields.end());
  EXPECT_EQ(f["job 1"], "a2: density 0.0 %, 10.0 GPU-h");
  EXPECT_EQ(f["job 2"], "a1: density 10.0 %, 60.0 GPU-h");
  EXPECT_EQ(f["try"], "raise workers");  // the same advice once
  EXPECT_EQ(f["尝试"], "增加 workers");
  EXPECT_EQ(f["density"], "8.6 % (dense / sampled time)");
}

TEST(DigestConfig, ThePolicyFileSetsTheThresholdsAndRefusesOutOfRangeOnes) {
  auto rules = ParsePolicyRulesJson(
      R"({"rules": {"digest": {"max_density_pct": 30, "min_gpu_hours": 20, "period_days": 14, "worst_jobs": 5,
                               "dry_run": true}}})");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  const DigestRule& d = rules->org().digest;
  EXPECT_EQ(d.max_density_pct, 30);
  EXPECT_EQ(d.min_gpu_hours, 20);
  EXPECT_EQ(d.period_days, 14);
  EXPECT_EQ(d.worst_jobs, 5);
  EXPECT_TRUE(d.dry_run);
  EXPECT_EQ(DigestRule{}.max_density_pct, 25);  // the defaults: jobstats' 25 % and 50 GPU-hours
  EXPECT_EQ(DigestRule{}.min_gpu_hours, 50);
  auto bad = ParsePolicyRulesJson(R"({"rules": {"digest": {"period_days": 0}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("digest.period_days must be an integer from 1 to 31, got 0"),
            std::string::npos)
      << bad.status().message();
  bad = ParsePolicyRulesJson(R"({"rules": {"digest": {"max_density": 0.25}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown key"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace gpuledger
