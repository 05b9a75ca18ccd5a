// `gpuledger submit --launcher slurm --run` against Debian's real Slurm (real_slurm.h:
// slurmctld and slurmd on localhost): the rendered script goes to the real sbatch, runs
// on the node, and its `srun env` prints the GPULEDGER_* environment the script carries;
// the pending job is labelled with the Slurm job id sbatch answered and Slurm knows the
// job by its comment. A script sbatch refuses (a GPU on a node without GRES) registers
// nothing. Skips where Slurm cannot run (see real_slurm.h).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "cli/cli.h"
#include "common/clock.h"
#include "ledger/ledger.h"
#include "real_slurm.h"

namespace gpuledger {
namespace {

const SimulatedClock kClock(1794744000000);  // 2026-11-15T12:00:00Z

int Cli(std::vector<std::string> args, std::string* err) {
  args.insert(args.begin(), "gpuledger");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, e;
  const int code = RunCli(static_cast<int>(argv.size()), argv.data(), kClock, out, e);
  *err = e.str() + out.str();
  return code;
}

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

TEST_F(RealSlurm, SubmitRunsTheScriptThroughSbatchAndItRunsWithTheJobsEnvironment) {
  const std::string db = dir_.path() + "/books.db";
  std::string out;
  ASSERT_EQ(Cli({"init", "--db", db, "--currency", "CNY"}, &out), 0) << out;
  const std::string output = dir_.path() + "/job.out";
  const std::vector<std::string> base = {"submit",
                                         "--db",
                                         db,
                                         "--user",
                                         "alice",
                                         "--project",
                                         "vision",
                                         "--department",
                                         "research",
                                         "--model-type",
                                         "yolov8s",
                                         "--image",
                                         "reg/yolo:train-yolov8-small-cu118",
                                         "--epochs",
                                         "10",
                                         "--launcher",
                                         "slurm",
                                         "--run",
                                         "--yes",
                                         "--lang",
                                         "en",
                                         "--command",
                                         "env",
                                         "--sbatch-arg=--output=" + output};

  // A GPU asked of a node without GRES: sbatch refuses, nothing is registered.
  auto refused = base;
  refused.insert(refused.end(), {"--id", "slurm-gpu", "--gpu-request", "1xA10G"});
  ASSERT_EQ(Cli(refused, &out), 1) << out;
  EXPECT_NE(out.find("sbatch exited"), std::string::npos) << out;
  EXPECT_NE(out.find("nothing registered"), std::string::npos) << out;
  {
    auto l = OpenLedger(db);
    ASSERT_TRUE(l.ok());
    EXPECT_FALSE((*l)->GetJob("slurm-gpu")->has_value());
    EXPECT_FALSE((*l)->GetEstimate("slurm-gpu")->has_value());
  }

  auto ok = base;
  ok.insert(ok.end(), {"--id", "slurm-1", "--duration-limit", "10m"});
  ASSERT_EQ(Cli(ok, &out), 0) << out;
  EXPECT_NE(out.find("launched: Slurm batch job "), std::string::npos) << out;
  auto l = OpenLedger(db);
  ASSERT_TRUE(l.ok());
  auto job = (*l)->GetJob("slurm-1");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->status, JobStatus::kPending);
  EXPECT_EQ((*job)->labels.at("gpuledger.launcher"), "slurm");
  job_ = (*job)->labels.at("gpuledger.slurm.job_id");
  EXPECT_NE(out.find("Slurm batch job " + job_), std::string::npos) << out;
  // Slurm has it as the script asked: its comment names the gpuledger job, its limit 10 min.
  const std::string shown = Out({"scontrol", "show", "job", job_, "-o"});
  EXPECT_NE(shown.find("Comment=gpuledger:slurm-1"), std::string::npos) << shown;
  EXPECT_NE(shown.find("TimeLimit=00:10:00"), std::string::npos) << shown;
  // It ran: the step's environment carries the job's.
  // The step writes its environment as it goes: wait for the whole of it (its last lines).
  auto complete = [&] {
    const std::string e = Slurp(output);
    return e.find("GPULEDGER_JOB_ID=slurm-1") != std::string::npos &&
           e.find("GPULEDGER_PROJECT=") != std::string::npos &&
           e.find("GPULEDGER_IMAGE=") != std::string::npos && e.find("SLURM_JOB_ID=") != std::string::npos;
  };
  for (int i = 0; i < 240 && !complete(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  const std::string env = Slurp(output);
  EXPECT_NE(env.find("GPULEDGER_JOB_ID=slurm-1"), std::string::npos) << env << "\n" << JobState();
  EXPECT_NE(env.find("GPULEDGER_PROJECT=vision"), std::string::npos) << env;
  EXPECT_NE(env.find("GPULEDGER_IMAGE=reg/yolo:train-yolov8-small-cu118"), std::string::npos) << env;
  EXPECT_NE(env.find("SLURM_JOB_ID=" + job_), std::string::npos) << env;
}

}  // namespace
}  // namespace gpuledger
