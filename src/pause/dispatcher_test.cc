#include "pause/dispatcher.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <vector>

#include "common/test_util.h"
#include "pause/target.h"

namespace gpuledger {
namespace {

class Recording : public JobController {
 public:
  explicit Recording(std::string name) : name_(std::move(name)) {}
  StatusOr<PauseOutcome> Pause(const PauseTarget& t) override {
    calls.push_back("pause " + t.handle);
    PauseOutcome o;
    o.resume_command = name_ + " resume " + t.handle;
    return o;
  }
  StatusOr<PauseOutcome> Resume(const PauseTarget& t) override {
    calls.push_back("resume " + t.handle);
    return PauseOutcome{};
  }
  std::vector<std::string> calls;

 private:
  std::string name_;
};

PauseTarget FromLabels(const std::map<std::string, std::string>& labels) {
  auto t = PauseTargetFromLabels("job-1", labels);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : PauseTarget{};
}

TEST(PauseDispatcher, RoutesEachModeToItsAdapter) {
  Recording coop("coop");
  PauseDispatcher::Adapters a;
  auto docker = std::make_unique<Recording>("docker");
  auto k8s = std::make_unique<Recording>("k8s");
  auto slurm = std::make_unique<Recording>("slurm");
  Recording* d = docker.get();
  Recording* k = k8s.get();
  Recording* s = slurm.get();
  a.docker = std::move(docker);
  a.kubernetes = std::move(k8s);
  a.slurm = std::move(slurm);
  PauseDispatcher dispatch(std::move(a));
  EXPECT_EQ(dispatch.Pause(FromLabels({})).status().code(), StatusCode::kFailedPrecondition);
  dispatch.set_cooperative(&coop);

  EXPECT_EQ(dispatch.Pause(FromLabels({}))->resume_command, "coop resume ");
  EXPECT_EQ(
      dispatch.Pause(FromLabels({{kLauncherLabel, "docker"}, {kDockerContainerLabel, "c1"}}))->resume_command,
      "docker resume c1");
  ASSERT_TRUE(dispatch
                  .Resume(FromLabels(
                      {{kLauncherLabel, "kubernetes"}, {kK8sNamespaceLabel, "ns"}, {kK8sJobLabel, "j"}}))
                  .ok());
  ASSERT_TRUE(dispatch.Pause(FromLabels({{kLauncherLabel, "slurm"}, {kSlurmJobIdLabel, "5"}})).ok());
  ASSERT_TRUE(dispatch
                  .Pause(FromLabels(
                      {{kLauncherLabel, "slurm"}, {kSlurmJobIdLabel, "6"}, {kSlurmPauseLabel, "requeue"}}))
                  .ok());
  EXPECT_EQ(coop.calls, std::vector<std::string>{"pause "});
  EXPECT_EQ(d->calls, std::vector<std::string>{"pause c1"});
  EXPECT_EQ(k->calls, std::vector<std::string>{"resume ns/j"});
  EXPECT_EQ(s->calls, (std::vector<std::string>{"pause 5", "pause 6"}));
}

TEST(PauseDispatcher, TheFactoryMakesTheConfiguredAdapters) {
  testing::TempDir dir;
  // A stand-in scontrol that records its argv: the Slurm adapter runs it as a process.
  const std::string log = dir.path() + "/argv";
  const std::string script = dir.File("scontrol", "#!/bin/sh\necho \"$@\" >> " + log + "\n");
  ::chmod(script.c_str(), 0755);
  PauseConfig cfg;
  cfg.docker_socket = dir.path() + "/docker.sock";
  cfg.k8s_api_server = "none";
  cfg.scontrol = script;
  cfg.timeout_s = 10;
  auto dispatch = MakePauseDispatcher(cfg, nullptr);

  auto slurm = dispatch->Pause(FromLabels({{kLauncherLabel, "slurm"}, {kSlurmJobIdLabel, "4242"}}));
  ASSERT_TRUE(slurm.ok()) << slurm.status().message();
  EXPECT_EQ(slurm->resume_command, "scontrol resume 4242");
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "suspend 4242");

  auto docker = dispatch->Pause(FromLabels({{kLauncherLabel, "docker"}, {kDockerContainerLabel, "c1"}}));
  EXPECT_EQ(docker.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(docker.status().message().find(cfg.docker_socket), std::string::npos);

  auto k8s = dispatch->Pause(
      FromLabels({{kLauncherLabel, "kubernetes"}, {kK8sNamespaceLabel, "ns"}, {kK8sJobLabel, "j"}}));
  EXPECT_EQ(k8s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(k8s.status().message().find("--k8s-api-server"), std::string::npos);
  EXPECT_EQ(dispatch->Pause(FromLabels({})).status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace gpuledger
