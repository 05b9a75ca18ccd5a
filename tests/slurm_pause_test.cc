// The Slurm pause adapter against Debian's real Slurm: a slurmctld and a slurmd started
// on localhost from a configuration written here (auth/none, no munge), a real batch
// job (`sleep`), suspended with `scontrol suspend` (its process stops: state T), resumed,
// then requeued held (`scontrol requeuehold`: its process ends, the job waits, held) and
// released. Skips, saying why, where Slurm is not installed, not run as root (slurmd
// launches jobs as their user) or does not come up.
#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/command.h"
#include "common/test_util.h"
#include "pause/slurm.h"
#include "real_slurm.h"

namespace gpuledger {
namespace {

// The one-letter state of the process whose command line is `sleep <marker>`, or ' '.
char SleepState(const std::string& marker) {
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return ' ';
  char state = ' ';
  while (dirent* e = ::readdir(d)) {
    const std::string pid = e->d_name;
    if (pid.empty() || pid[0] < '0' || pid[0] > '9') continue;
    std::ifstream cmd("/proc/" + pid + "/cmdline", std::ios::binary);
    std::stringstream ss;
    ss << cmd.rdbuf();
    if (ss.str() != std::string("sleep\0", 6) + marker + std::string("\0", 1)) continue;
    std::ifstream stat("/proc/" + pid + "/stat");
    std::string line;
    std::getline(stat, line);
    const size_t paren = line.rfind(')');
    if (paren != std::string::npos && paren + 2 < line.size()) state = line[paren + 2];
  }
  ::closedir(d);
  return state;
}

// Until the `sleep <marker>` process is stopped (state T), or runs, for 20 s.
bool WaitForSleep(const std::string& marker, bool stopped) {
  for (int i = 0; i < 80; ++i) {
    const char s = SleepState(marker);
    if (stopped ? s == 'T' : (s != 'T' && s != ' ')) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

TEST_F(RealSlurm, SuspendStopsARealJobAndResumeContinuesIt) {
  const std::string marker = std::to_string(600 + ::getpid() % 300);
  job_ = Out({"sbatch", "--parsable", "-o", "/dev/null", "--wrap", "sleep " + marker});
  ASSERT_FALSE(job_.empty());
  ASSERT_TRUE(WaitFor({"squeue", "-h", "-j", job_, "-o", "%T"}, "RUNNING", 60)) << JobState();
  ASSERT_TRUE(WaitForSleep(marker, false)) << "the job's sleep did not start";

  SlurmController slurm(&runner_);
  PauseTarget t;
  t.job_id = "job-slurm";
  t.mode = PauseMode::kSlurmSuspend;
  t.handle = job_;
  auto paused = slurm.Pause(t);
  ASSERT_TRUE(paused.ok()) << paused.status().message();
  EXPECT_FALSE(paused->gpus_freed);
  EXPECT_EQ(paused->resume_command, "scontrol resume " + job_);
  EXPECT_TRUE(WaitFor({"squeue", "-h", "-j", job_, "-o", "%T"}, "SUSPENDED", 20)) << JobState();
  EXPECT_TRUE(WaitForSleep(marker, true)) << "the job's process is not stopped: " << SleepState(marker);

  auto resumed = slurm.Resume(t);
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_TRUE(WaitFor({"squeue", "-h", "-j", job_, "-o", "%T"}, "RUNNING", 20)) << JobState();
  EXPECT_TRUE(WaitForSleep(marker, false)) << "the job's process did not continue: " << SleepState(marker);

  // Requeue: the job ends (its process goes) and waits in the queue, held, until released.
  t.mode = PauseMode::kSlurmRequeue;
  auto requeued = slurm.Pause(t);
  ASSERT_TRUE(requeued.ok()) << requeued.status().message();
  EXPECT_TRUE(requeued->gpus_freed);
  EXPECT_EQ(requeued->resume_command, "scontrol release " + job_);
  // (REQUEUE_HOLD for a moment, then PENDING, held)
  EXPECT_TRUE(WaitFor({"squeue", "-h", "-j", job_, "-o", "%T"}, "PENDING", 20)) << JobState();
  EXPECT_NE(JobState().find("held"), std::string::npos) << JobState();
  for (int i = 0; i < 80 && SleepState(marker) != ' '; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  EXPECT_EQ(SleepState(marker), ' ') << "the requeued job's process is still there";
  auto released = slurm.Resume(t);
  ASSERT_TRUE(released.ok()) << released.status().message();
  EXPECT_EQ(JobState().find("held"), std::string::npos) << JobState();

  // An unknown job: scontrol's own words are the error.
  t.handle = "999999";
  t.mode = PauseMode::kSlurmSuspend;
  auto missing = slurm.Pause(t);
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("scontrol suspend 999999 exited"), std::string::npos)
      << missing.status().message();
}

}  // namespace
}  // namespace gpuledger
