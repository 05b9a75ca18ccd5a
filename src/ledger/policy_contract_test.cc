// The Ledger contract for the policies that act (#13, migration 0018): decisions once per
// cause, job pauses, and stop requests' kind, on SQLite and on PostgreSQL
// (GPULEDGER_TEST_PG; skipped without it, as the main contract suite).
#include <gtest/gtest.h>

#include <cstdlib>
#include <tuple>

#include "common/test_util.h"
#include "ledger/ledger.h"
#include "ledger/test_pg.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;

using Factory = std::unique_ptr<Ledger> (*)(const std::string& dir);

std::unique_ptr<Ledger> Sqlite(const std::string& dir) {
  auto l = OpenSqliteLedger(dir + "/ledger.db");
  return l.ok() ? std::move(l).value() : nullptr;
}

std::unique_ptr<Ledger> Postgres(const std::string&) {
  std::string why;
  const std::optional<std::string> conninfo = testing::NewPostgresDatabase(&why);
  if (!conninfo) {
    ADD_FAILURE() << why;
    return nullptr;
  }
  auto l = OpenPostgresLedger(*conninfo);
  if (!l.ok()) ADD_FAILURE() << l.status().ToString();
  return l.ok() ? std::move(l).value() : nullptr;
}

struct Backend {
  const char* name;
  Factory make;
};

class PolicyContract : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (std::string(GetParam().name) == "postgres" && std::getenv("GPULEDGER_TEST_PG") == nullptr) {
      GTEST_SKIP() << "GPULEDGER_TEST_PG is not set: no PostgreSQL to test against (make test starts one)";
    }
    ledger_ = GetParam().make(dir_.path());
    ASSERT_NE(ledger_, nullptr);
    Job j;
    j.id = "j1";
    j.user = "zhangsan";
    j.project = "defect-detection";
    j.department = "manufacturing";
    j.start_ms = kT0;
    Job k = j;
    k.id = "j2";
    ASSERT_TRUE(ledger_->PutJobs({j, k}).ok());
  }
  static PolicyDecisionRow Decision(const std::string& job, const std::string& key, TimeMs at) {
    PolicyDecisionRow d;
    d.job_id = job;
    d.rule = "breaker";
    d.cause_key = key;
    d.action = "pause";
    d.dry_run = true;
    d.at_ms = at;
    d.data_json = R"({"figures":{"mean_util_pct":22.5}})";
    return d;
  }

  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_P(PolicyContract, ADecisionIsStoredOncePerCause) {
  PolicyDecisionRow d = Decision("j1", "breaker/j1/segment-1", kT0 + 10);
  auto first = ledger_->PutDecision(d);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  EXPECT_GT(d.id, 0);
  PolicyDecisionRow again = Decision("j1", "breaker/j1/segment-1", kT0 + 20);
  again.action = "warn";
  auto second = ledger_->PutDecision(again);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(*second);
  auto all = ledger_->ListDecisions("", 0, 0);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].id, d.id);
  EXPECT_EQ((*all)[0].action, "pause");
  EXPECT_EQ((*all)[0].at_ms, kT0 + 10);
  EXPECT_TRUE((*all)[0].dry_run);
  EXPECT_EQ((*all)[0].rule, "breaker");
  EXPECT_EQ((*all)[0].data_json, R"({"figures":{"mean_util_pct":22.5}})");
  auto got = ledger_->GetDecision("breaker/j1/segment-1");
  ASSERT_TRUE(got.ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->id, d.id);
  EXPECT_EQ((*got)->job_id, "j1");
  EXPECT_FALSE(ledger_->GetDecision("breaker/j1/segment-2")->has_value());
}

TEST_P(PolicyContract, DecisionsListByJobTimeAndLimit) {
  for (auto [job, key, at] : {std::tuple{"j1", "a", kT0 + 30}, {"j2", "b", kT0 + 10}, {"j1", "c", kT0 + 20}}) {
    PolicyDecisionRow d = Decision(job, key, at);
    ASSERT_TRUE(ledger_->PutDecision(d).ok());
  }
  auto j1 = ledger_->ListDecisions("j1", 0, 0);
  ASSERT_EQ(j1->size(), 2u);
  EXPECT_EQ((*j1)[0].cause_key, "c");
  EXPECT_EQ((*j1)[1].cause_key, "a");
  EXPECT_EQ(ledger_->ListDecisions("", kT0 + 15, 0)->size(), 2u);
  auto first = ledger_->ListDecisions("", 0, 1);
  ASSERT_EQ(first->size(), 1u);
  EXPECT_EQ((*first)[0].cause_key, "b");
}

TEST_P(PolicyContract, ADecisionNeedsAKnownJobAndAKnownAction) {
  PolicyDecisionRow ghost = Decision("nobody", "k", kT0);
  EXPECT_EQ(ledger_->PutDecision(ghost).status().code(), StatusCode::kNotFound);
  PolicyDecisionRow bad = Decision("j1", "k", kT0);
  bad.action = "explode";
  EXPECT_FALSE(ledger_->PutDecision(bad).ok());
  EXPECT_EQ(ledger_->ListDecisions("", 0, 0)->size(), 0u);
}

TEST_P(PolicyContract, AFailedUnitOfWorkTakesTheDecisionBackWithIt) {
  Status s = ledger_->InTransaction([&]() -> Status {
    PolicyDecisionRow d = Decision("j1", "idle/j1/act", kT0);
    RETURN_IF_ERROR(ledger_->PutDecision(d).status());
    return Unavailable("the pause adapter did not answer");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ledger_->ListDecisions("", 0, 0)->size(), 0u);
  PolicyDecisionRow d = Decision("j1", "idle/j1/act", kT0);
  EXPECT_TRUE(*ledger_->PutDecision(d));  // the cause is decided afresh next time
}

TEST_P(PolicyContract, PausesOpenCloseAndDoNotOverlap) {
  JobPause p;
  p.job_id = "j1";
  p.paused_ms = kT0 + 100;
  p.mode = "cooperative";
  p.gpus_freed = true;
  p.resume_command = "yolo train resume model=runs/detect/train/weights/last.pt";
  p.cause_key = "breaker/j1/segment-1";
  p.requested_by = "policy";
  ASSERT_TRUE(ledger_->PutPause(p).ok());
  EXPECT_GT(p.id, 0);
  JobPause twice = p;
  EXPECT_EQ(ledger_->PutPause(twice).code(), StatusCode::kFailedPrecondition);
  auto open = ledger_->OpenPause("j1");
  ASSERT_TRUE(open.ok());
  ASSERT_TRUE(open->has_value());
  EXPECT_EQ((*open)->resume_command, p.resume_command);
  EXPECT_TRUE((*open)->gpus_freed);
  EXPECT_EQ((*open)->resumed_ms, 0);
  EXPECT_FALSE(ledger_->OpenPause("j2")->has_value());
  EXPECT_EQ(ledger_->EndPause("j1", kT0 + 50).code(), StatusCode::kInvalidArgument);  // before the pause
  ASSERT_TRUE(ledger_->EndPause("j1", kT0 + 500).ok());
  EXPECT_FALSE(ledger_->OpenPause("j1")->has_value());
  EXPECT_EQ(ledger_->EndPause("j1", kT0 + 600).code(), StatusCode::kNotFound);
  JobPause second = p;
  second.paused_ms = kT0 + 1000;
  second.mode = "docker";
  second.gpus_freed = false;
  ASSERT_TRUE(ledger_->PutPause(second).ok());
  auto all = ledger_->ListPauses("j1");
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].resumed_ms, kT0 + 500);
  EXPECT_EQ((*all)[1].mode, "docker");
  EXPECT_FALSE((*all)[1].gpus_freed);
  JobPause ghost = p;
  ghost.job_id = "nobody";
  EXPECT_EQ(ledger_->PutPause(ghost).code(), StatusCode::kNotFound);
}

// A launcher's pause: the intent recorded first, then settled with what the launcher
// said, or taken back whole when it refused (docs/POLICIES.md "What a decision does").
TEST_P(PolicyContract, APauseIntentIsSettledOrTakenBack) {
  PolicyDecisionRow d = Decision("j1", "manual/j1/pause-1", kT0 + 10);
  ASSERT_TRUE(ledger_->PutDecision(d).ok());
  JobPause p;
  p.job_id = "j1";
  p.paused_ms = kT0 + 10;
  p.mode = "kubernetes";
  p.cause_key = d.cause_key;
  p.requested_by = "tok";
  ASSERT_TRUE(ledger_->PutPause(p).ok());
  p.gpus_freed = true;
  p.resume_command = "kubectl patch job yolo";
  ASSERT_TRUE(ledger_->SettlePause(p).ok());
  auto open = ledger_->OpenPause("j1");
  ASSERT_TRUE(open.ok() && open->has_value());
  EXPECT_TRUE((*open)->gpus_freed);
  EXPECT_EQ((*open)->resume_command, "kubectl patch job yolo");
  ASSERT_TRUE(ledger_->SetDecisionData(d.cause_key, R"j({"outcome":"paused (kubernetes)"})j").ok());
  EXPECT_EQ((*ledger_->GetDecision(d.cause_key))->data_json, R"j({"outcome":"paused (kubernetes)"})j");
  // Taken back: nothing left, and a second take-back names what is missing.
  ASSERT_TRUE(ledger_->DeletePause(p.id).ok());
  ASSERT_TRUE(ledger_->DeleteDecision(d.cause_key).ok());
  EXPECT_FALSE(ledger_->OpenPause("j1")->has_value());
  EXPECT_TRUE(ledger_->ListPauses("j1")->empty());
  EXPECT_TRUE(ledger_->ListDecisions("j1", 0, 0)->empty());
  EXPECT_EQ(ledger_->DeletePause(p.id).code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->DeleteDecision(d.cause_key).code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->SettlePause(p).code(), StatusCode::kNotFound);
  EXPECT_EQ(ledger_->SetDecisionData(d.cause_key, "{}").code(), StatusCode::kNotFound);
}

TEST_P(PolicyContract, AStopRequestKeepsItsKind) {
  ASSERT_TRUE(ledger_->PutStopRequest({"j1", kT0, "tok", "idle 120 min", "pause"}).ok());
  ASSERT_TRUE(ledger_->PutStopRequest({"j2", kT0, "tok", "by hand"}).ok());
  EXPECT_EQ((*ledger_->GetStopRequest("j1"))->kind, "pause");
  EXPECT_EQ((*ledger_->GetStopRequest("j2"))->kind, "stop");
  EXPECT_FALSE(ledger_->PutStopRequest({"j1", kT0, "tok", "x", "halt"}).ok());
  EXPECT_EQ((*ledger_->GetStopRequest("j1"))->kind, "pause");
}

INSTANTIATE_TEST_SUITE_P(Backends, PolicyContract,
                         ::testing::Values(Backend{"sqlite", Sqlite}, Backend{"postgres", Postgres}),
                         [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace gpuledger
