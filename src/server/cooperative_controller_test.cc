#include "server/cooperative_controller.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z

PauseTarget Target(const std::string& id) {
  PauseTarget t;
  t.job_id = id;
  return t;
}

Job Running(const std::string& id) {
  Job j;
  j.id = id;
  j.user = "zhangsan";
  j.project = "defect-detection-line3";
  j.department = "manufacturing";
  j.status = JobStatus::kRunning;
  j.start_ms = kT0;
  j.labels["gpuledger.save_dir"] = "runs/detect/exp7";
  return j;
}

TEST(CooperativeController, APauseIsAStopRequestOfKindPauseAndResumeWithdrawsIt) {
  testing::TempDir dir;
  auto ledger = OpenSqliteLedger(dir.path() + "/l.db");
  ASSERT_TRUE(ledger.ok());
  ASSERT_TRUE((*ledger)->PutJobs({Running("j1")}).ok());
  SimulatedClock clock(kT0 + kHourMs);
  CooperativeController c(**ledger, clock);
  auto out = c.PauseWithReason(Target("j1"), "plateau", "policy");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->resume_command, "yolo train resume model=runs/detect/exp7/weights/last.pt");
  auto stop = (*ledger)->GetStopRequest("j1");
  ASSERT_TRUE(stop.ok() && stop->has_value());
  EXPECT_EQ((*stop)->kind, "pause");
  EXPECT_EQ((*stop)->reason, "plateau");
  ASSERT_TRUE(c.Resume(Target("j1")).ok());
  stop = (*ledger)->GetStopRequest("j1");
  ASSERT_TRUE(stop.ok());
  EXPECT_FALSE(stop->has_value()) << "the pause request is withdrawn";
}

// A user asked the job to stop: a policy pause must not turn it into a resumable pause.
TEST(CooperativeController, APendingStopIsNeverTurnedIntoAPause) {
  testing::TempDir dir;
  auto ledger = OpenSqliteLedger(dir.path() + "/l.db");
  ASSERT_TRUE(ledger.ok());
  ASSERT_TRUE((*ledger)->PutJobs({Running("j2")}).ok());
  ASSERT_TRUE((*ledger)->PutStopRequest({"j2", kT0 + 60'000, "tok-user", "wrong dataset", "stop"}).ok());
  SimulatedClock clock(kT0 + kHourMs);
  CooperativeController c(**ledger, clock);
  auto out = c.PauseWithReason(Target("j2"), "plateau", "policy");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(out.status().message().find("wrong dataset"), std::string::npos) << out.status().message();
  auto stop = (*ledger)->GetStopRequest("j2");
  ASSERT_TRUE(stop.ok() && stop->has_value());
  EXPECT_EQ((*stop)->kind, "stop");
  EXPECT_EQ((*stop)->reason, "wrong dataset");
}

}  // namespace
}  // namespace gpuledger
