#include "pause/slurm.h"

#include <gtest/gtest.h>

#include <deque>
#include <vector>

namespace gpuledger {
namespace {

// Records each argv; answers from a script.
class FakeRunner : public CommandRunner {
 public:
  StatusOr<CommandResult> Run(const std::vector<std::string>& argv, int timeout_ms) override {
    calls.push_back(argv);
    timeouts.push_back(timeout_ms);
    if (replies.empty()) return CommandResult{};
    auto r = replies.front();
    replies.pop_front();
    return r;
  }
  std::vector<std::vector<std::string>> calls;
  std::vector<int> timeouts;
  std::deque<StatusOr<CommandResult>> replies;
};

PauseTarget Slurm(PauseMode mode, const std::string& id) {
  PauseTarget t;
  t.job_id = "job-" + id;
  t.mode = mode;
  t.handle = id;
  return t;
}

using Argv = std::vector<std::string>;

TEST(SlurmController, SuspendKeepsTheGpusAndResumes) {
  FakeRunner runner;
  SlurmController slurm(&runner, "/usr/bin/scontrol", 5000);
  auto p = slurm.Pause(Slurm(PauseMode::kSlurmSuspend, "4242"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->gpus_freed);
  EXPECT_EQ(p->resume_command, "scontrol resume 4242");
  auto r = slurm.Resume(Slurm(PauseMode::kSlurmSuspend, "4242"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(runner.calls, (std::vector<Argv>{{"/usr/bin/scontrol", "suspend", "4242"},
                                             {"/usr/bin/scontrol", "resume", "4242"}}));
  EXPECT_EQ(runner.timeouts, (std::vector<int>{5000, 5000}));
}

TEST(SlurmController, RequeueFreesTheGpusAndHoldsTheJobUntilReleased) {
  FakeRunner runner;
  SlurmController slurm(&runner);
  auto p = slurm.Pause(Slurm(PauseMode::kSlurmRequeue, "77_3"));
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_TRUE(p->gpus_freed);
  EXPECT_EQ(p->resume_command, "scontrol release 77_3");
  ASSERT_TRUE(slurm.Resume(Slurm(PauseMode::kSlurmRequeue, "77_3")).ok());
  EXPECT_EQ(runner.calls,
            (std::vector<Argv>{{"scontrol", "requeuehold", "77_3"}, {"scontrol", "release", "77_3"}}));
}

TEST(SlurmController, ScontrolsStderrIsTheError) {
  FakeRunner runner;
  runner.replies.emplace_back(CommandResult{1, "", "slurm_suspend error: Invalid job id specified\n"});
  runner.replies.emplace_back(CommandResult{1, "", "slurm_suspend error: Access/permission denied\n"});
  runner.replies.emplace_back(CommandResult{1, "", "slurm_suspend error: Job is not running\n"});
  runner.replies.emplace_back(Unavailable("scontrol ran past its 30000 ms limit and was killed"));
  SlurmController slurm(&runner);
  auto missing = slurm.Pause(Slurm(PauseMode::kSlurmSuspend, "9"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "scontrol suspend 9 exited 1: slurm_suspend error: Invalid job id specified");
  EXPECT_EQ(slurm.Pause(Slurm(PauseMode::kSlurmSuspend, "9")).status().code(), StatusCode::kPermissionDenied);
  auto done = slurm.Pause(Slurm(PauseMode::kSlurmSuspend, "9"));
  EXPECT_EQ(done.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(done.status().message().find("Job is not running"), std::string::npos);
  EXPECT_EQ(slurm.Pause(Slurm(PauseMode::kSlurmSuspend, "9")).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(slurm.Pause(Slurm(PauseMode::kDocker, "9")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(runner.calls.size(), 4U);
}

TEST(ProcessRunner, RunsByArgvWithoutAShellAndCapturesBothStreams) {
  ProcessRunner runner;
  auto r = runner.Run({"/bin/sh", "-c", "echo out; echo \"$1\" >&2; exit 3", "sh", "a b; $(id)"}, 10000);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "a b; $(id)\n");  // an argument is never interpreted
  auto missing = runner.Run({"/nonexistent/scontrol", "suspend", "1"}, 10000);
  EXPECT_EQ(missing.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(missing.status().message().find("/nonexistent/scontrol"), std::string::npos);
  EXPECT_EQ(runner.Run({}, 1000).status().code(), StatusCode::kInvalidArgument);
  auto by_name = runner.Run({"sh", "-c", "echo found"}, 10000);  // looked up on PATH
  ASSERT_TRUE(by_name.ok()) << by_name.status().message();
  EXPECT_EQ(by_name->out, "found\n");
  auto unknown = runner.Run({"no-such-program-gpuledger"}, 10000);
  EXPECT_EQ(unknown.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unknown.status().message().find("not found on PATH"), std::string::npos);
}

TEST(ProcessRunner, KillsAProgramPastItsLimit) {
  ProcessRunner runner;
  auto r = runner.Run({"/bin/sh", "-c", "echo started >&2; exec sleep 60"}, 1500);
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("1500 ms"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("started"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace gpuledger
