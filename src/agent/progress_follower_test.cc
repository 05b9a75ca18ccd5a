#include "agent/progress_follower.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace gpuledger {
namespace {

// YOLO11's header (8.3.x): 1-based epochs and a time column.
const char* kHeader =
    "epoch,time,train/box_loss,train/cls_loss,train/dfl_loss,metrics/precision(B),metrics/recall(B),"
    "metrics/mAP50(B),metrics/mAP50-95(B),val/box_loss,val/cls_loss,val/dfl_loss,lr/pg0,lr/pg1,lr/pg2\n";

TEST(ProgressFollower, ReturnsEachCompleteEpochOnce) {
  MemFileSystem fs;
  ProgressFollower f(fs);
  EXPECT_TRUE(f.Poll("run-7", "/runs/a/results.csv")->empty());  // not written yet
  ASSERT_TRUE(fs.Append("/runs/a/results.csv", kHeader).ok());
  ASSERT_TRUE(fs.Append("/runs/a/results.csv",
                        "1,30.1,1.2,2.3,1.1,0.5,0.4,0.41,0.22,1.3,2.0,1.2,0.01,0.01,0.01\n2,60")
                  .ok());
  auto first = f.Poll("run-7", "/runs/a/results.csv");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 1u);  // epoch 2 is still being written
  EXPECT_EQ((*first)[0].epoch, 1);
  EXPECT_DOUBLE_EQ(*(*first)[0].map50, 0.41);
  ASSERT_TRUE(
      fs.Append("/runs/a/results.csv", ".2,1.1,2.1,1.0,0.6,0.5,0.52,0.3,1.2,1.9,1.1,0.01,0.01,0.01\n").ok());
  auto second = f.Poll("run-7", "/runs/a/results.csv");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);
  EXPECT_EQ((*second)[0].epoch, 2);
  EXPECT_TRUE(f.Poll("run-7", "/runs/a/results.csv")->empty());
  const auto json = nlohmann::json::parse(ProgressJson(*second));
  EXPECT_EQ(json["epochs"][0]["epoch"], 2);
  EXPECT_DOUBLE_EQ(json["epochs"][0]["map50"].get<double>(), 0.52);
}

TEST(ProgressFollower, FindsTheRunDirectory) {
  Workload w;
  EXPECT_FALSE(ResultsCsvPath(w).has_value());
  w.cmdline = {"yolo", "train", "model=yolo11n.pt", "project=runs/pcb", "name=exp3"};
  w.cwd = "/home/lisi";
  EXPECT_EQ(ResultsCsvPath(w), "/home/lisi/runs/pcb/exp3/results.csv");
  w.fields["run_dir"] = "/data/run7";
  EXPECT_EQ(ResultsCsvPath(w), "/data/run7/results.csv");  // the environment wins
}

}  // namespace
}  // namespace gpuledger
