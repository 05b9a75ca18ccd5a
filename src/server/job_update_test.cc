#include "server/job_update.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z
constexpr TimeMs kNow = kT0 + 10 * kHourMs;

Job Running() {
  Job j;
  j.id = "run-1";
  j.user = "zhangsan";
  j.project = "defect-detection-line3";
  j.department = "manufacturing";
  j.status = JobStatus::kRunning;
  j.start_ms = kT0;
  return j;
}

JobUpdate Parse(const std::string& body) {
  auto u = ParseJobUpdateJson(body);
  EXPECT_TRUE(u.ok()) << u.status().ToString();
  return u.ok() ? *u : JobUpdate{};
}

TEST(ParseJobUpdateJson, TakesWhatThePythonCallbackSends) {
  JobUpdate u = Parse(R"({"status": "succeeded", "end": "2026-10-01T08:00:00Z"})");
  EXPECT_EQ(u.status, JobStatus::kSucceeded);
  EXPECT_EQ(u.end_ms, kT0 + 8 * kHourMs);
  EXPECT_FALSE(u.start_ms);
  EXPECT_TRUE(u.fields.empty());
}

TEST(ParseJobUpdateJson, RefusesUnknownFieldsByNameAndNonStrings) {
  auto unknown = ParseJobUpdateJson(R"({"status": "failed", "gpu_count": "2"})");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("unknown field 'gpu_count'"), std::string::npos)
      << unknown.status().message();
  EXPECT_NE(unknown.status().message().find("model_type"), std::string::npos);  // what it takes
  auto number = ParseJobUpdateJson(R"({"end": 1790812800})");
  ASSERT_FALSE(number.ok());
  EXPECT_NE(number.status().message().find("'end' must be a string"), std::string::npos);
  auto bad_time = ParseJobUpdateJson(R"({"end": "yesterday"})");
  ASSERT_FALSE(bad_time.ok());
  EXPECT_NE(bad_time.status().message().find("'end'"), std::string::npos);
  auto bad_status = ParseJobUpdateJson(R"({"status": "exploded"})");
  ASSERT_FALSE(bad_status.ok());
  EXPECT_NE(bad_status.status().message().find("exploded"), std::string::npos);
  EXPECT_FALSE(ParseJobUpdateJson("{}").ok());
  EXPECT_FALSE(ParseJobUpdateJson("[1]").ok());
  EXPECT_FALSE(ParseJobUpdateJson("not json").ok());
}

// What the Python callback sends when a pause request stopped the run after its
// checkpoint: the job ends paused (finished: its GPUs are released at its end) and keeps
// the command that resumes it.
TEST(ApplyJobUpdate, APausedRunEndsWithItsResumeCommand) {
  JobUpdate u = Parse(R"({"status": "paused", "end": "2026-10-01T08:00:00Z",
                          "resume_command": "yolo train resume model=runs/detect/train/weights/last.pt"})");
  auto j = ApplyJobUpdate(Running(), u, false, kNow);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->status, JobStatus::kPaused);
  EXPECT_EQ(j->end_ms, kT0 + 8 * kHourMs);
  EXPECT_EQ(j->labels.at("gpuledger.resume_command"), "yolo train resume model=runs/detect/train/weights/last.pt");
  EXPECT_TRUE(IsFinished(JobStatus::kPaused));
  // A resume command with any other status is refused, naming the status.
  auto wrong = ApplyJobUpdate(Running(), Parse(R"({"status": "cancelled", "resume_command": "x"})"), false, kNow);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("cancelled"), std::string::npos) << wrong.status().message();
  auto control = ParseJobUpdateJson("{\"status\": \"paused\", \"resume_command\": \"yolo\\u0007\"}");
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.status().message().find("resume_command"), std::string::npos) << control.status().message();
}

TEST(ApplyJobUpdate, AFinishedStatusWithoutAnEndEndsTheJobNow) {
  JobUpdate u;
  u.status = JobStatus::kCancelled;
  auto j = ApplyJobUpdate(Running(), u, false, kNow);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->status, JobStatus::kCancelled);
  EXPECT_EQ(j->end_ms, kNow);
}

TEST(ApplyJobUpdate, RefusesAnEndBeforeStartFarAheadOrOnARunningJob) {
  JobUpdate before_start = Parse(R"({"status": "failed", "end": "2026-09-30T23:00:00Z"})");
  auto a = ApplyJobUpdate(Running(), before_start, true, kNow);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(a.status().message().find("end 2026-09-30T23:00:00Z is before its start 2026-10-01T00:00:00Z"),
            std::string::npos)
      << a.status().message();
  JobUpdate ahead = Parse(R"({"status": "failed", "end": "2026-10-01T11:00:00Z"})");
  auto b = ApplyJobUpdate(Running(), ahead, true, kNow);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("after the clock's now 2026-10-01T10:00:00Z"), std::string::npos)
      << b.status().message();
  JobUpdate no_status = Parse(R"({"end": "2026-10-01T08:00:00Z"})");
  auto c = ApplyJobUpdate(Running(), no_status, true, kNow);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("an end needs a finished status"), std::string::npos);
}

TEST(ApplyJobUpdate, AFinishedJobIsCorrectedByAdminsOnlyAndNeverReopened) {
  Job done = Running();
  done.status = JobStatus::kSucceeded;
  done.end_ms = kT0 + 8 * kHourMs;
  JobUpdate later = Parse(R"({"end": "2026-10-01T09:00:00Z"})");
  auto by_ingest = ApplyJobUpdate(done, later, /*correct_finished=*/false, kNow);
  ASSERT_FALSE(by_ingest.ok());
  EXPECT_EQ(by_ingest.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(by_ingest.status().message().find("is already succeeded (ended 2026-10-01T08:00:00Z)"),
            std::string::npos)
      << by_ingest.status().message();
  auto by_admin = ApplyJobUpdate(done, later, /*correct_finished=*/true, kNow);
  ASSERT_TRUE(by_admin.ok()) << by_admin.status().ToString();
  EXPECT_EQ(by_admin->end_ms, kT0 + 9 * kHourMs);
  EXPECT_EQ(by_admin->status, JobStatus::kSucceeded);
  // The same end and status again (a retried request) is no change, for anyone.
  auto retried =
      ApplyJobUpdate(done, Parse(R"({"status": "succeeded", "end": "2026-10-01T08:00:00Z"})"), false, kNow);
  EXPECT_TRUE(retried.ok()) << retried.status().ToString();
  auto reopen = ApplyJobUpdate(done, Parse(R"({"status": "running"})"), true, kNow);
  ASSERT_FALSE(reopen.ok());
  EXPECT_NE(reopen.status().message().find("is not set running again"), std::string::npos)
      << reopen.status().message();
}

TEST(ApplyJobUpdate, CorrectsTheDescriptiveFields) {
  auto j = ApplyJobUpdate(Running(), Parse(R"({"model_type": "yolo11s", "user": "lisi"})"), false, kNow);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->model_type, "yolo11s");
  EXPECT_EQ(j->user, "lisi");
  EXPECT_EQ(j->status, JobStatus::kRunning);
  EXPECT_EQ(j->end_ms, 0);
  auto empty_user = ApplyJobUpdate(Running(), Parse(R"({"user": ""})"), false, kNow);
  EXPECT_FALSE(empty_user.ok());
}

class UpdateJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(dir_.path() + "/l.db");
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    ledger_ = std::move(l).value();
    Job other = Running();
    other.id = "run-2";
    ASSERT_TRUE(ledger_->PutJobs({Running(), other}).ok());
    ASSERT_TRUE(ledger_
                    ->PutGpus({{"GPU-1", "node-1", 0, "A10G", 23028, kT0 - kDayMs, 0, 0, 0},
                               {"GPU-2", "node-1", 1, "A10G", 23028, kT0 - kDayMs, 0, 0, 0}})
                    .ok());
  }
  std::vector<Allocation> Held(const std::string& job) {
    std::vector<Allocation> out;
    auto held = ledger_->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});  // alive while iterating
    EXPECT_TRUE(held.ok()) << held.status().ToString();
    if (!held.ok()) return out;
    for (const Allocation& a : *held) {
      if (a.job_id == job) out.push_back(a);
    }
    return out;
  }
  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
};

TEST_F(UpdateJobTest, EndingAJobEndsItsOpenHoldsAtTheSameInstantAndLeavesOthersAlone) {
  ASSERT_TRUE(ledger_
                  ->PutAllocations({{"run-1", "GPU-1", kT0, 0, kFullShare},
                                    {"run-1", "GPU-2", kT0, kT0 + 9 * kHourMs, 500'000},  // reaches past
                                    {"run-2", "GPU-2", kT0, 0, 500'000}})
                  .ok());
  auto r = UpdateJob(*ledger_, "run-1", Parse(R"({"status": "succeeded", "end": "2026-10-01T08:00:00Z"})"),
                     false, kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->allocations_ended, 2);
  for (const Allocation& a : Held("run-1")) EXPECT_EQ(a.end_ms, kT0 + 8 * kHourMs) << a.gpu_uuid;
  EXPECT_EQ(Held("run-2").front().end_ms, 0);  // another job's hold runs on
  auto stored = ledger_->GetJob("run-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, JobStatus::kSucceeded);
  EXPECT_EQ((*stored)->end_ms, kT0 + 8 * kHourMs);
}

TEST_F(UpdateJobTest, AnAdminsLaterEndMovesTheHoldsThatEndedWithTheJob) {
  ASSERT_TRUE(ledger_->PutAllocations({{"run-1", "GPU-1", kT0, 0, kFullShare}}).ok());
  ASSERT_TRUE(UpdateJob(*ledger_, "run-1", Parse(R"({"status": "failed", "end": "2026-10-01T08:00:00Z"})"),
                        false, kNow)
                  .ok());
  auto r = UpdateJob(*ledger_, "run-1", Parse(R"({"end": "2026-10-01T09:00:00Z"})"), true, kNow);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->allocations_ended, 1);
  EXPECT_EQ(Held("run-1").front().end_ms, kT0 + 9 * kHourMs);
}

TEST_F(UpdateJobTest, ARefusedEndLeavesTheJobAndItsHoldsAsTheyWere) {
  // A hold of GPU-2 that starts after the end asked for: the end is refused, and the
  // job's status and its other hold (written first in the same unit of work) stay.
  ASSERT_TRUE(ledger_
                  ->PutAllocations({{"run-1", "GPU-1", kT0, 0, kFullShare},
                                    {"run-1", "GPU-2", kT0 + 9 * kHourMs, 0, kFullShare}})
                  .ok());
  auto r = UpdateJob(*ledger_, "run-1", Parse(R"({"status": "succeeded", "end": "2026-10-01T08:00:00Z"})"),
                     false, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("holds GPU GPU-2 from 2026-10-01T09:00:00Z"), std::string::npos)
      << r.status().message();
  EXPECT_EQ((*ledger_->GetJob("run-1"))->status, JobStatus::kRunning);
  for (const Allocation& a : Held("run-1")) EXPECT_EQ(a.end_ms, 0);
  auto missing = UpdateJob(*ledger_, "no-such", Parse(R"({"status": "failed"})"), true, kNow);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace gpuledger

namespace gpuledger {
namespace {

TEST_F(UpdateJobTest, APendingJobRunsFromItsFirstSampleInsideItsHold) {
  Job pending = Running();
  pending.id = "sub-1";
  pending.status = JobStatus::kPending;
  pending.start_ms = 0;
  pending.submitted_ms = kT0;
  Job idle = pending;  // pending too, holding GPU-2, whose samples come before its hold
  idle.id = "sub-2";
  ASSERT_TRUE(ledger_->PutJobs({pending, idle}).ok());
  ASSERT_TRUE(ledger_
                  ->PutAllocations({{"sub-1", "GPU-1", kT0 + 5 * kMinuteMs, 0, kFullShare},
                                    {"sub-2", "GPU-2", kT0 + kHourMs, 0, kFullShare}})
                  .ok());
  auto sample = [](const std::string& gpu, TimeMs t) {
    GpuSample g;
    g.gpu_uuid = gpu;
    g.sample.t = t;
    g.sample.util_pct = 50;
    return g;
  };
  // GPU-1 reported before sub-1's hold began (not its sample), then from minute 7.
  const std::vector<GpuSample> batch = {sample("GPU-1", kT0 + 2 * kMinuteMs), sample("GPU-1", kT0 + 9 * kMinuteMs),
                                        sample("GPU-1", kT0 + 7 * kMinuteMs), sample("GPU-2", kT0 + 10 * kMinuteMs)};
  ASSERT_TRUE(ledger_->PutSamples(batch).ok());
  std::set<std::string> not_pending;
  auto started = StartPendingJobsAtFirstSample(*ledger_, batch, &not_pending);
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  EXPECT_EQ(*started, std::vector<std::string>{"sub-1"});
  const Job s1 = **ledger_->GetJob("sub-1");
  EXPECT_EQ(s1.status, JobStatus::kRunning);
  EXPECT_EQ(s1.start_ms, kT0 + 7 * kMinuteMs);
  EXPECT_EQ(s1.submitted_ms, kT0);  // the queue wait stays: 7 minutes
  EXPECT_EQ((*ledger_->GetJob("sub-2"))->status, JobStatus::kPending);
  EXPECT_TRUE(not_pending.count("sub-1"));
  // Later samples: sub-1 is not read again, and its start stays its first sample.
  auto again = StartPendingJobsAtFirstSample(*ledger_, {sample("GPU-1", kT0 + 3 * kHourMs)}, &not_pending);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
  EXPECT_EQ((*ledger_->GetJob("sub-1"))->start_ms, kT0 + 7 * kMinuteMs);
  // A running job holding a GPU is left as it is.
  ASSERT_TRUE(ledger_->PutAllocations({{"run-1", "GPU-1", kT0, kT0 + 5 * kMinuteMs, kFullShare}}).ok());
  auto running = StartPendingJobsAtFirstSample(*ledger_, {sample("GPU-1", kT0 + kMinuteMs)}, nullptr);
  ASSERT_TRUE(running.ok());
  EXPECT_TRUE(running->empty());
  EXPECT_EQ((*ledger_->GetJob("run-1"))->start_ms, kT0);
}

}  // namespace
}  // namespace gpuledger
