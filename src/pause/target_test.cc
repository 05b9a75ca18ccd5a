#include "pause/target.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

using Labels = std::map<std::string, std::string>;

TEST(PauseTarget, NoLauncherIsCooperative) {
  auto t = PauseTargetFromLabels("j1", {{"gpuledger.node", "node-3"}});
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->mode, PauseMode::kCooperative);
  EXPECT_EQ(t->handle, "");
  EXPECT_EQ(t->node, "node-3");
  EXPECT_EQ(t->job_id, "j1");
}

TEST(PauseTarget, EachLauncherFindsItsHandle) {
  auto d = PauseTargetFromLabels(
      "j", {{"gpuledger.launcher", "docker"}, {"gpuledger.docker.container", "yolo_run.1"}});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->mode, PauseMode::kDocker);
  EXPECT_EQ(d->handle, "yolo_run.1");
  auto k = PauseTargetFromLabels("j", {{"gpuledger.launcher", "kubernetes"},
                                       {"gpuledger.k8s.namespace", "vision"},
                                       {"gpuledger.k8s.job", "yolov8s-e100"}});
  ASSERT_TRUE(k.ok());
  EXPECT_EQ(k->mode, PauseMode::kKubernetes);
  EXPECT_EQ(k->handle, "vision/yolov8s-e100");
  auto s =
      PauseTargetFromLabels("j", {{"gpuledger.launcher", "slurm"}, {"gpuledger.slurm.job_id", "4711_3"}});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->mode, PauseMode::kSlurmSuspend);
  EXPECT_EQ(s->handle, "4711_3");
  auto r = PauseTargetFromLabels("j", {{"gpuledger.launcher", "slurm"},
                                       {"gpuledger.slurm.job_id", "12"},
                                       {"gpuledger.slurm.pause", "requeue"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, PauseMode::kSlurmRequeue);
  EXPECT_STREQ(PauseModeName(r->mode), "slurm-requeue");
}

TEST(PauseTarget, MalformedLabelsNameTheLabelAndTheValue) {
  struct Case {
    Labels labels;
    std::string label;
  };
  const std::vector<Case> cases = {
      {{{"gpuledger.launcher", "systemd"}}, "gpuledger.launcher"},
      {{{"gpuledger.launcher", "docker"}}, "gpuledger.docker.container"},
      {{{"gpuledger.launcher", "docker"}, {"gpuledger.docker.container", "-x"}},
       "gpuledger.docker.container"},
      {{{"gpuledger.launcher", "docker"}, {"gpuledger.docker.container", "a/../b"}},
       "gpuledger.docker.container"},
      {{{"gpuledger.launcher", "kubernetes"}, {"gpuledger.k8s.job", "j"}}, "gpuledger.k8s.namespace"},
      {{{"gpuledger.launcher", "kubernetes"},
        {"gpuledger.k8s.namespace", "Vision"},
        {"gpuledger.k8s.job", "j"}},
       "gpuledger.k8s.namespace"},
      {{{"gpuledger.launcher", "kubernetes"}, {"gpuledger.k8s.namespace", "v"}, {"gpuledger.k8s.job", "a/b"}},
       "gpuledger.k8s.job"},
      {{{"gpuledger.launcher", "slurm"}, {"gpuledger.slurm.job_id", "12;rm"}}, "gpuledger.slurm.job_id"},
      {{{"gpuledger.launcher", "slurm"}, {"gpuledger.slurm.job_id", "1_2_3"}}, "gpuledger.slurm.job_id"},
      {{{"gpuledger.launcher", "slurm"}, {"gpuledger.slurm.job_id", "1"}, {"gpuledger.slurm.pause", "kill"}},
       "gpuledger.slurm.pause"},
  };
  for (const Case& c : cases) {
    auto t = PauseTargetFromLabels("j", c.labels);
    ASSERT_FALSE(t.ok()) << c.label;
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(c.label), std::string::npos) << t.status().message();
    EXPECT_NE(t.status().message().find("saw"), std::string::npos) << t.status().message();
  }
}

}  // namespace
}  // namespace gpuledger
