#include "policy/rules.h"

#include <gtest/gtest.h>

#include "policy/policy_config.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1'764'633'600'000;  // 2025-12-02T00:00Z
constexpr TimeMs kNow = kT0 + 5 * kHourMs;

JobInputs Running(int gpus = 1) {
  JobInputs in;
  in.job.id = "j1";
  in.job.project = "vision";
  in.job.status = JobStatus::kRunning;
  in.job.start_ms = kT0;
  in.job.gpu_share_ppm = gpus * kFullShare;
  in.segment_start_ms = kT0;
  for (int i = 0; i < gpus; ++i) in.gpus.push_back({"GPU-" + std::to_string(i), {}});
  return in;
}

// Samples every minute in [from, to] at `util` on GPU i.
void Fill(JobInputs& in, size_t gpu, TimeMs from, TimeMs to, float util) {
  for (TimeMs t = from; t <= to; t += kMinuteMs) {
    Sample s;
    s.t = t;
    s.util_pct = util;
    in.gpus[gpu].samples.push_back(s);
  }
}

// Epochs every 30 min ending in (kNow - 2 h, kNow], losses from `first` stepping by `step`.
void Epochs(JobInputs& in, double first, double step, int n = 4, std::optional<double> map = std::nullopt,
            double map_step = 0) {
  for (int i = 0; i < n; ++i) {
    EpochPoint e;
    e.epoch = 10 + i;
    e.end_ms = kNow - 2 * kHourMs + static_cast<DurationMs>(i) * 40 * kMinuteMs;
    e.loss = first + step * i;
    if (map) e.map50 = *map + map_step * i;
    in.epochs.push_back(e);
  }
}

TEST(Breaker, PlateauWithLowUtilisationPauses) {
  JobInputs in = Running();
  Epochs(in, 1.0, -0.0002);  // improves 0.0006 in 2 h
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 30);
  auto d = EvaluateBreaker(BreakerRule{}, in, kNow);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->action, PolicyAction::kPause);
  EXPECT_EQ(d->event, "breaker.paused");
  EXPECT_EQ(d->cause_key, "breaker/j1/segment-" + std::to_string(kT0));
  EXPECT_NEAR(d->figures["loss_improvement"], 0.0006, 1e-9);
  EXPECT_NEAR(d->figures["mean_util_pct"], 30, 1e-9);
  EXPECT_EQ(d->thresholds["min_loss_improvement"], 0.001);
  EXPECT_EQ(d->window.start, kNow - 2 * kHourMs);
  EXPECT_EQ(d->window.end, kNow);
}

TEST(Breaker, ImprovementOfExactlyTheThresholdIsNotAPlateau) {
  BreakerRule rule;
  rule.min_loss_improvement = 0.0009765625;  // 2^-10: exact in binary
  JobInputs in = Running();
  Epochs(in, 1.0, -0.0009765625 / 3);  // 4 epochs: the last is 2^-10 below the first
  in.epochs.back().loss = 1.0 - 0.0009765625;
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 10);
  EXPECT_FALSE(EvaluateBreaker(rule, in, kNow));
  in.epochs.back().loss = 1.0 - 0.0009765625 + 0.00000001;
  EXPECT_TRUE(EvaluateBreaker(rule, in, kNow));
}

TEST(Breaker, UtilisationAtFortyPercentIsNotLow) {
  JobInputs in = Running();
  Epochs(in, 1.0, 0);
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 40);
  EXPECT_FALSE(EvaluateBreaker(BreakerRule{}, in, kNow));
  in.gpus[0].samples.clear();
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 39.9F);
  EXPECT_TRUE(EvaluateBreaker(BreakerRule{}, in, kNow));
}

TEST(Breaker, BusyPlateauIsSpared) {
  JobInputs in = Running(2);
  Epochs(in, 1.0, 0);
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 20);
  Fill(in, 1, kNow - 2 * kHourMs, kNow, 95);  // mean 57.5
  EXPECT_FALSE(EvaluateBreaker(BreakerRule{}, in, kNow));
}

TEST(Breaker, NeedsTwoEpochsInTheWindow) {
  JobInputs in = Running();
  Epochs(in, 1.0, 0, 1);
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 5);
  EXPECT_FALSE(EvaluateBreaker(BreakerRule{}, in, kNow));
  Epochs(in, 1.0, 0, 2);  // adds epochs 10 and 11 again: two more in the window
  in.epochs.erase(in.epochs.begin());
  EXPECT_TRUE(EvaluateBreaker(BreakerRule{}, in, kNow));
  BreakerRule three;
  three.min_epochs = 3;
  EXPECT_FALSE(EvaluateBreaker(three, in, kNow));
}

TEST(Breaker, EpochsBeforeTheWindowDoNotCount) {
  JobInputs in = Running();
  EpochPoint old{1, kNow - 2 * kHourMs - 1, 1.0, std::nullopt};
  EpochPoint recent{2, kNow - kMinuteMs, 1.0, std::nullopt};
  in.epochs = {old, recent};
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 5);
  EXPECT_FALSE(EvaluateBreaker(BreakerRule{}, in, kNow));
  in.epochs[0].end_ms = kNow - 2 * kHourMs;  // on the window's edge: inside
  EXPECT_TRUE(EvaluateBreaker(BreakerRule{}, in, kNow));
}

TEST(Breaker, RisingMapMeansNotPlateaued) {
  JobInputs in = Running();
  Epochs(in, 1.0, 0, 4, 0.50, 0.002);
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 5);
  EXPECT_FALSE(EvaluateBreaker(BreakerRule{}, in, kNow));
  JobInputs flat = Running();
  Epochs(flat, 1.0, 0, 4, 0.50, 0);
  Fill(flat, 0, kNow - 2 * kHourMs, kNow, 5);
  EXPECT_TRUE(EvaluateBreaker(BreakerRule{}, flat, kNow));
  BreakerRule lenient;
  lenient.min_map50_rise = 0.01;  // a rise of 0.006 is noise under this rule
  EXPECT_TRUE(EvaluateBreaker(lenient, in, kNow));
}

TEST(Breaker, ASegmentShorterThanTheWindowIsNotJudged) {
  JobInputs in = Running();
  Epochs(in, 1.0, 0);
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 5);
  in.segment_start_ms = kNow - 2 * kHourMs + 1;  // resumed just after the window began
  EXPECT_FALSE(EvaluateBreaker(BreakerRule{}, in, kNow));
  in.segment_start_ms = kNow - 2 * kHourMs;
  EXPECT_TRUE(EvaluateBreaker(BreakerRule{}, in, kNow));
}

TEST(Breaker, NoUtilisationReadingMeansNoDecision) {
  JobInputs in = Running();
  Epochs(in, 1.0, 0);
  EXPECT_FALSE(EvaluateBreaker(BreakerRule{}, in, kNow));
}

TEST(Breaker, LossThatGetsWorseIsAPlateau) {
  JobInputs in = Running();
  Epochs(in, 1.0, 0.01);
  Fill(in, 0, kNow - 2 * kHourMs, kNow, 5);
  auto d = EvaluateBreaker(BreakerRule{}, in, kNow);
  ASSERT_TRUE(d);
  EXPECT_LT(d->figures["loss_improvement"], 0);
}

TEST(EpochPoints, EndsAreStartPlusCumulativeTimeAndGapsAreSkipped) {
  EpochProgress a;
  a.epoch = 2;
  a.time_s = 120.5;
  a.train_loss = 3.0;
  a.map50 = 0.4;
  EpochProgress no_time;
  no_time.epoch = 3;
  no_time.train_loss = 2.0;
  EpochProgress b;
  b.epoch = 1;
  b.time_s = 60;
  b.train_loss = 3.5;
  auto pts = EpochPoints(kT0, {a, no_time, b});
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[0].epoch, 1);
  EXPECT_EQ(pts[0].end_ms, kT0 + 60'000);
  EXPECT_EQ(pts[1].end_ms, kT0 + 120'500);
  EXPECT_EQ(pts[1].map50, 0.4);
  EXPECT_FALSE(pts[0].map50);
}

TEST(Idle, WarnsAtSixtyAgainAtOneHundredFiveActsAtOneHundredTwenty) {
  IdleRule rule;
  const TimeMs since = kNow - 3 * kHourMs;
  JobInputs in = Running(2);
  Fill(in, 0, kNow - 4 * kHourMs, since - kMinuteMs, 80);
  Fill(in, 1, kNow - 4 * kHourMs, since - kMinuteMs, 80);
  Fill(in, 0, since, kNow, 0);
  Fill(in, 1, since, kNow, 0);
  EXPECT_FALSE(EvaluateIdle(rule, in, since + 60 * kMinuteMs - 1));
  auto w1 = EvaluateIdle(rule, in, since + 60 * kMinuteMs);
  ASSERT_TRUE(w1);
  EXPECT_EQ(w1->action, PolicyAction::kWarn);
  EXPECT_EQ(w1->event, "idle.warn");
  EXPECT_EQ(w1->cause_key, "idle/j1/segment-" + std::to_string(kT0) + "/warn-1");
  auto w1b = EvaluateIdle(rule, in, since + 105 * kMinuteMs - 1);
  ASSERT_TRUE(w1b);
  EXPECT_EQ(w1b->cause_key, w1->cause_key);  // same cause: recorded once
  auto w2 = EvaluateIdle(rule, in, since + 105 * kMinuteMs);
  ASSERT_TRUE(w2);
  EXPECT_EQ(w2->cause_key, "idle/j1/segment-" + std::to_string(kT0) + "/warn-2");
  EXPECT_EQ(w2->action, PolicyAction::kWarn);
  EXPECT_EQ(EvaluateIdle(rule, in, since + 120 * kMinuteMs - 1)->action, PolicyAction::kWarn);
  auto act = EvaluateIdle(rule, in, since + 120 * kMinuteMs);
  ASSERT_TRUE(act);
  EXPECT_EQ(act->action, PolicyAction::kPause);
  EXPECT_EQ(act->event, "idle.acted");
  EXPECT_EQ(act->cause_key, "idle/j1/segment-" + std::to_string(kT0) + "/act");
  EXPECT_EQ(act->figures["idle_min"], 120);
}

TEST(Idle, OneBusyGpuSparesTheJobByDefault) {
  JobInputs in = Running(4);
  for (size_t g = 0; g < 3; ++g) Fill(in, g, kNow - 3 * kHourMs, kNow, 0);
  Fill(in, 3, kNow - 3 * kHourMs, kNow, 1);
  EXPECT_FALSE(EvaluateIdle(IdleRule{}, in, kNow));
}

TEST(Idle, SpareFractionIsConfigurable) {
  JobInputs in = Running(4);
  for (size_t g = 0; g < 3; ++g) Fill(in, g, kNow - 3 * kHourMs, kNow, 0);
  Fill(in, 3, kNow - 3 * kHourMs, kNow, 90);
  IdleRule rule;
  rule.spare_busy_fraction = 0.25;  // 1 of 4 busy is 25 %: spared
  EXPECT_FALSE(EvaluateIdle(rule, in, kNow));
  rule.spare_busy_fraction = 0.26;  // 25 % busy is under 26 %: acted on
  auto d = EvaluateIdle(rule, in, kNow);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->figures["gpus_idle"], 3);
}

TEST(Idle, AnIdleGpuWithoutRecentSamplesIsNotKnownIdle) {
  JobInputs in = Running();
  Fill(in, 0, kNow - 3 * kHourMs, kNow - 5 * kMinuteMs, 0);
  EXPECT_TRUE(EvaluateIdle(IdleRule{}, in, kNow));  // 5 min old: still known
  EXPECT_FALSE(EvaluateIdle(IdleRule{}, in, kNow + 1));
}

TEST(Idle, UtilisationJustAboveTheIdleLevelIsBusy) {
  JobInputs in = Running();
  Fill(in, 0, kNow - 3 * kHourMs, kNow, 0);
  in.gpus[0].samples[100].util_pct = 0.5F;  // one busy reading restarts the stretch
  auto d = EvaluateIdle(IdleRule{}, in, kNow);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->window.start, in.gpus[0].samples[101].t);
  IdleRule loose;
  loose.idle_util_pct = 0.5;
  EXPECT_EQ(EvaluateIdle(loose, in, kNow)->window.start, in.gpus[0].samples[0].t);
}

TEST(Idle, SmallInteractiveJobsAreExemptLargeOnesAreNot) {
  JobInputs in = Running(1);
  in.job.labels[kInteractiveLabel] = "true";
  Fill(in, 0, kNow - 3 * kHourMs, kNow, 0);
  EXPECT_FALSE(EvaluateIdle(IdleRule{}, in, kNow));
  JobInputs big = Running(2);
  big.job.labels[kInteractiveLabel] = "true";
  Fill(big, 0, kNow - 3 * kHourMs, kNow, 0);
  Fill(big, 1, kNow - 3 * kHourMs, kNow, 0);
  EXPECT_TRUE(EvaluateIdle(IdleRule{}, big, kNow));
}

TEST(Idle, ActionIsByPolicy) {
  JobInputs in = Running();
  Fill(in, 0, kNow - 3 * kHourMs, kNow, 0);
  IdleRule rule;
  rule.action = PolicyAction::kStop;
  EXPECT_EQ(EvaluateIdle(rule, in, kNow)->action, PolicyAction::kStop);
}

TEST(Duration, WarnsAtNinetyPercentActsAtTheLimit) {
  JobInputs in = Running();
  in.job.duration_limit_ms = 10 * kHourMs;
  EXPECT_FALSE(EvaluateDuration(DurationRule{}, in, kT0 + 9 * kHourMs - 1));
  auto w = EvaluateDuration(DurationRule{}, in, kT0 + 9 * kHourMs);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->action, PolicyAction::kWarn);
  EXPECT_EQ(w->event, "duration.warn");
  EXPECT_EQ(w->cause_key, "duration/j1/warn");
  EXPECT_EQ(EvaluateDuration(DurationRule{}, in, kT0 + 10 * kHourMs - 1)->action, PolicyAction::kWarn);
  auto a = EvaluateDuration(DurationRule{}, in, kT0 + 10 * kHourMs);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->action, PolicyAction::kPause);
  EXPECT_EQ(a->event, "duration.acted");
  EXPECT_EQ(a->cause_key, "duration/j1/act");
  DurationRule stop;
  stop.action = PolicyAction::kStop;
  EXPECT_EQ(EvaluateDuration(stop, in, kT0 + 10 * kHourMs)->action, PolicyAction::kStop);
}

TEST(Duration, NoLimitNoDecision) {
  JobInputs in = Running();
  EXPECT_FALSE(EvaluateDuration(DurationRule{}, in, kT0 + 1000 * kHourMs));
}

TEST(Engine, ExemptionLabelDisabledRulesAndDryRun) {
  JobInputs in = Running();
  in.job.duration_limit_ms = kHourMs;
  Fill(in, 0, kNow - 3 * kHourMs, kNow, 0);
  Epochs(in, 1.0, 0);
  RulesConfig cfg;
  auto all = Evaluate(cfg, in, kNow);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].rule, "breaker");
  EXPECT_EQ(all[1].rule, "idle");
  EXPECT_EQ(all[2].rule, "duration");
  in.job.labels[kPolicyExemptLabel] = " breaker , duration";
  auto some = Evaluate(cfg, in, kNow);
  ASSERT_EQ(some.size(), 1u);
  EXPECT_EQ(some[0].rule, "idle");
  in.job.labels[kPolicyExemptLabel] = "all";
  EXPECT_TRUE(Evaluate(cfg, in, kNow).empty());
  in.job.labels.clear();
  cfg.idle.enabled = false;
  cfg.breaker.dry_run = true;
  auto dry = Evaluate(cfg, in, kNow);
  ASSERT_EQ(dry.size(), 2u);
  EXPECT_TRUE(dry[0].dry_run);
  EXPECT_FALSE(dry[1].dry_run);
}

TEST(Engine, PausedOrFinishedJobsAreNotEvaluated) {
  JobInputs in = Running();
  in.job.duration_limit_ms = kHourMs;
  in.paused = true;
  EXPECT_TRUE(Evaluate(RulesConfig{}, in, kNow).empty());
  in.paused = false;
  in.job.status = JobStatus::kSucceeded;
  EXPECT_TRUE(Evaluate(RulesConfig{}, in, kNow).empty());
}

TEST(PolicyConfig, ProjectOverridesFollowTheOrganisation) {
  auto p = ParsePolicyRulesJson(
      R"({"rules": {"breaker": {"max_util_pct": 30}},
          "projects": {"vision": {"rules": {"breaker": {"dry_run": true}, "duration": {"action": "stop"}}}}})");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->org().breaker.max_util_pct, 30);
  EXPECT_FALSE(p->org().breaker.dry_run);
  EXPECT_TRUE(p->For("vision").breaker.dry_run);
  EXPECT_EQ(p->For("vision").breaker.max_util_pct, 30);
  EXPECT_EQ(p->For("vision").duration.action, PolicyAction::kStop);
  EXPECT_EQ(p->For("other").duration.action, PolicyAction::kPause);
  ASSERT_TRUE(p->SetOrg(R"({"breaker": {"window_min": 90}})").ok());
  EXPECT_EQ(p->For("vision").breaker.window_ms, 90 * kMinuteMs);
  EXPECT_EQ(p->For("vision").breaker.max_util_pct, 40);  // the new org's (defaults)
  EXPECT_TRUE(p->For("vision").breaker.dry_run);
  ASSERT_TRUE(p->SetProject("vision", "{}").ok());
  EXPECT_FALSE(p->For("vision").breaker.dry_run);
  // What ToJson() writes reads back the same.
  ASSERT_TRUE(p->SetProject("nlp", R"({"idle": {"act_min": 150}})").ok());
  auto again = ParsePolicyRulesJson(p->ToJson());
  ASSERT_FALSE(again.ok());  // ToJson() adds "effective" beside each override: not a policy file
  RulesConfig c;
  ASSERT_TRUE(ApplyRulesJson(RulesConfigJson(p->For("nlp")), "rules", &c).ok());
  EXPECT_EQ(c.idle.act_ms, 150 * kMinuteMs);
  EXPECT_EQ(c.breaker.window_ms, 90 * kMinuteMs);
}

TEST(PolicyConfig, ErrorsNameTheKeyTheLimitAndTheValue) {
  auto expect = [](const std::string& text, const std::string& message) {
    auto p = ParsePolicyRulesJson(text);
    ASSERT_FALSE(p.ok()) << text;
    EXPECT_EQ(p.status().message(), message) << text;
  };
  expect(R"({"rules": {"breaker": {"max_util_pct": 140}}})",
         "rules.breaker.max_util_pct must be above 0 and at most 100, got 140");
  expect(R"({"rules": {"breaker": {"min_epochs": 1}}})",
         "rules.breaker.min_epochs must be an integer from 2 to 10000, got 1");
  expect(R"({"rules": {"breaker": {"window": 120}}})",
         "unknown key rules.breaker.window (it takes enabled, dry_run, window_min, min_loss_improvement, "
         "max_util_pct, min_epochs, min_map50_rise)");
  expect(R"({"rules": {"idle": {"warn_min": 130}}})",
         "rules.idle: warn_min <= warn_again_min <= act_min must hold, got 130, 105, 120");
  expect(R"({"rules": {"duration": {"action": "kill"}}})",
         R"(rules.duration.action must be "pause" or "stop", got "kill")");
  expect(R"({"rules": {"duration": {"warn_fraction": 0}}})",
         "rules.duration.warn_fraction must be above 0 and at most 1, got 0");
  expect(R"({"rules": {"idle": {"dry_run": "yes"}}})", R"(rules.idle.dry_run must be true or false, got "yes")");
  expect(R"({"projects": {"vision": {"rules": {"idle": {"act_min": -5}}}}})",
         "projects.vision.rules.idle.act_min must be above 0 and at most 10080, got -5");
  expect(R"({"rule": {}})", "unknown key policy file.rule (it takes rules, projects)");
  expect("[1", "policy file: not valid JSON");
}

TEST(PolicyConfig, AnOrgChangeThatBreaksAProjectOverrideIsRefused) {
  PolicyRules p;
  ASSERT_TRUE(p.SetProject("vision", R"({"idle": {"warn_min": 100}})").ok());
  Status s = p.SetOrg(R"({"idle": {"warn_again_min": 90, "warn_min": 30}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), "projects.vision.rules.idle: warn_min <= warn_again_min <= act_min must hold, got 100, 90, 120");
  EXPECT_EQ(p.org().idle.warn_again_ms, 105 * kMinuteMs);  // unchanged
}

}  // namespace
}  // namespace gpuledger
