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

namespace gpuledger {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

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

class RealSlurm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::getuid() != 0) GTEST_SKIP() << "real Slurm test skipped: slurmd must run as root to launch jobs";
    auto v = runner_.Run({"slurmctld", "-V"}, 10000);
    if (!v.ok() || v->exit_code != 0) {
      GTEST_SKIP()
          << "real Slurm test skipped: slurmctld is not installed (Debian: slurmctld slurmd slurm-client)";
    }
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    std::string name = host;
    name = name.substr(0, name.find('.'));
    const int port = 46000 + static_cast<int>(::getpid() % 1000) * 2;
    const std::string d = dir_.path();
    std::ostringstream conf;
    conf
        << "ClusterName=gpltest\nSlurmctldHost=" << name << "(127.0.0.1)\n"
        << "SlurmctldPort=" << port << "\nSlurmdPort=" << port + 1 << "\n"
        << "AuthType=auth/none\nCredType=cred/none\nSlurmUser=root\nSlurmdUser=root\n"
        << "StateSaveLocation=" << d << "/state\nSlurmdSpoolDir=" << d << "/spool\n"
        << "SlurmctldPidFile=" << d << "/slurmctld.pid\nSlurmdPidFile=" << d << "/slurmd.pid\n"
        << "SlurmctldLogFile=" << d << "/slurmctld.log\nSlurmdLogFile=" << d << "/slurmd.log\n"
        << "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\nSelectType=select/cons_tres\n"
        << "SelectTypeParameters=CR_Core\nSchedulerType=sched/builtin\nJobAcctGatherType=jobacct_gather/"
           "none\n"
        << "AccountingStorageType=accounting_storage/none\nMpiDefault=none\nReturnToService=2\nJobRequeue=1\n"
        << "NodeName=" << name << " NodeAddr=127.0.0.1 CPUs=1 RealMemory=100 State=UNKNOWN\n"
        << "PartitionName=debug Nodes=" << name << " Default=YES MaxTime=INFINITE State=UP\n";
    ::mkdir((d + "/state").c_str(), 0700);
    ::mkdir((d + "/spool").c_str(), 0700);
    conf_ = dir_.File("slurm.conf", conf.str());
    ::setenv("SLURM_CONF", conf_.c_str(), 1);  // NOLINT(concurrency-mt-unsafe): before any thread
    auto ctld = runner_.Run({"slurmctld", "-c", "-f", conf_}, 30000);
    auto slurmd = runner_.Run({"slurmd", "-f", conf_}, 30000);
    started_ = true;
    if (!ctld.ok() || ctld->exit_code != 0 || !slurmd.ok() || slurmd->exit_code != 0) {
      GTEST_SKIP() << "real Slurm test skipped: the daemons did not start: "
                   << (ctld.ok() ? ctld->err : ctld.status().message()) << " "
                   << (slurmd.ok() ? slurmd->err : slurmd.status().message());
    }
    if (!WaitFor({"sinfo", "-h", "-o", "%t"}, "idle", 60)) {
      GTEST_SKIP() << "real Slurm test skipped: the node did not become idle in 60 s (see " << d
                   << "/slurmd.log): sinfo says " << Out({"sinfo", "-h", "-o", "%t"});
    }
  }

  void TearDown() override {
    if (!job_.empty()) (void)runner_.Run({"scancel", job_}, 10000);
    if (!started_) return;
    for (const char* pidfile : {"/slurmd.pid", "/slurmctld.pid"}) {
      std::ifstream in(dir_.path() + pidfile);
      pid_t pid = 0;
      if (in >> pid && pid > 1) ::kill(pid, SIGTERM);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    ::unsetenv("SLURM_CONF");  // NOLINT(concurrency-mt-unsafe)
  }

  std::string Out(const std::vector<std::string>& argv) {
    auto r = runner_.Run(argv, 10000);
    return r.ok() ? Trim(r->out) : r.status().message();
  }
  bool WaitFor(const std::vector<std::string>& argv, const std::string& want, int seconds) {
    for (int i = 0; i < seconds * 4; ++i) {
      if (Out(argv).find(want) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }
  bool WaitForSleep(const std::string& marker, bool stopped) {
    for (int i = 0; i < 80; ++i) {
      const char s = SleepState(marker);
      if (stopped ? s == 'T' : (s != 'T' && s != ' ')) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }
  std::string JobState() { return Out({"squeue", "-h", "-j", job_, "-o", "%T %r"}); }

  ProcessRunner runner_;
  gpuledger::testing::TempDir dir_;
  std::string conf_;
  std::string job_;
  bool started_ = false;
};

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
