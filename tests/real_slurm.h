// Test-only: Debian's real Slurm for a test, a slurmctld and a slurmd started on localhost
// from a configuration written here (auth/none, no munge, one node with one CPU and no
// GPUs, partition "debug"), SLURM_CONF set for the commands the test runs. Skips, saying
// why, where Slurm is not installed, not run as root (slurmd launches jobs as their user)
// or does not come up. Used by slurm_pause_test.cc and slurm_launch_test.cc.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/command.h"
#include "common/test_util.h"

namespace gpuledger {

inline std::string SlurmTrim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
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
    // Ports nothing listens on now (a fixed range collided with daemons of another test).
    const std::vector<int> ports = FreePorts(2);
    if (ports.size() != 2) GTEST_SKIP() << "real Slurm test skipped: no free local port";
    const int port = ports[0], slurmd_port = ports[1];
    const std::string d = dir_.path();
    std::ostringstream conf;
    conf
        << "ClusterName=gpltest\nSlurmctldHost=" << name << "(127.0.0.1)\n"
        << "SlurmctldPort=" << port << "\nSlurmdPort=" << slurmd_port << "\n"
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
    return r.ok() ? SlurmTrim(r->out) : r.status().message();
  }
  // Polls until `want` shows or `seconds` of wall time pass (each poll may itself wait on
  // a controller that is not there: the deadline bounds the whole wait).
  bool WaitFor(const std::vector<std::string>& argv, const std::string& want, int seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Out(argv).find(want) != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return false;
  }
  // `n` distinct ports nothing listens on now: each socket stays bound until all are
  // drawn, so the kernel cannot hand the same port out twice.
  static std::vector<int> FreePorts(int n) {
    std::vector<int> fds, ports;
    for (int i = 0; i < n; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      if (fd < 0) break;
      fds.push_back(fd);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof a;
      if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        break;
      }
      ports.push_back(ntohs(a.sin_port));
    }
    for (const int fd : fds) ::close(fd);
    return ports;
  }
  std::string JobState() { return Out({"squeue", "-h", "-j", job_, "-o", "%T %r"}); }

  ProcessRunner runner_;
  gpuledger::testing::TempDir dir_;
  std::string conf_;
  std::string job_;
  bool started_ = false;
};

}  // namespace gpuledger
