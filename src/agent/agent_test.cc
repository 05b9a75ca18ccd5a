#include "agent/agent.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <nlohmann/json.hpp>

#include "gpu/fake_backend.h"
#include "ingest/dcgm.h"
#include "ingest/remote_write.h"

namespace gpuledger {
namespace {

using std::string_literals::operator""s;

// One H100 whose utilisation steps 0, 10, 20 over three reads; pid 4242 on it.
FakeBackend ScriptedGpus() {
  std::vector<std::vector<GpuReading>> rounds;
  for (int i = 0; i < 3; ++i) {
    GpuReading g;
    g.uuid = "GPU-aaaa";
    g.name = "NVIDIA H100 80GB HBM3";
    g.util_pct = static_cast<float>(10 * i);
    g.mem_used_mib = 19818;
    g.power_w = 631.95F;
    g.energy_mj = 1000 * (i + 1);
    g.processes = {{4242, 2566, ""}};
    rounds.push_back({g});
  }
  return FakeBackend(rounds);
}

TEST(Agent, QueuesTheJobThenDcgmShapedSamplesTheServerAttributes) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("/proc/4242/environ",
                        "GPULEDGER_JOB_ID=run-7\0GPULEDGER_USER=lisi\0GPULEDGER_PROJECT=pcb\0"
                        "GPULEDGER_DEPARTMENT=mfg\0GPULEDGER_EPOCHS=50\0GPULEDGER_TOKEN=secret\0"s)
                  .ok());
  auto queue = DiskQueue::Open(fs, "/q", 8 << 20);
  ASSERT_TRUE(queue.ok());
  FakeBackend gpus = ScriptedGpus();
  NodeAttributor attributor(fs, {"/proc", "/run/gpustat", ""});
  ProgressFollower progress(fs);
  SimulatedClock clock(1790812800000);
  Agent agent(&gpus, attributor, nullptr, progress, **queue, clock, "node-9");
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(agent.Tick().ok());
    clock.Advance(kSecondMs);
  }
  ASSERT_TRUE(agent.Push().ok());
  EXPECT_EQ(agent.counters().gpu_samples, 3);

  // First the job, from the process environment (never its token).
  auto job = (*queue)->Front();
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->path, "/api/v1/jobs");
  const auto body = nlohmann::json::parse((*job)->body);
  EXPECT_EQ(body["id"], "run-7");
  EXPECT_EQ(body["user"], "lisi");
  EXPECT_EQ(body["epochs"], "50");
  EXPECT_FALSE(body.contains("token"));
  ASSERT_TRUE((*queue)->Ack((*job)->seq).ok());

  // Then one remote write request: what the server's own decoder makes of it.
  auto write = (*queue)->Front();
  ASSERT_TRUE(write.ok() && write->has_value());
  EXPECT_EQ((*write)->path, "/api/v1/write");
  std::string raw;
  ASSERT_TRUE(snappy::Uncompress((*write)->body.data(), (*write)->body.size(), &raw));
  auto decoded = DecodeRemoteWriteV1(raw);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  auto batch = SamplesFromDcgm(decoded->series);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  ASSERT_EQ(batch->samples.size(), 3u);
  EXPECT_FLOAT_EQ(batch->samples[2].sample.util_pct, 20);
  EXPECT_FLOAT_EQ(batch->samples[2].sample.mem_mib, 19818);
  EXPECT_EQ(batch->samples[2].sample.energy_mj, 3000);
  EXPECT_EQ(batch->samples[1].sample.t - batch->samples[0].sample.t, kSecondMs);
  ASSERT_EQ(batch->gpus.size(), 1u);
  EXPECT_EQ(batch->gpus[0].ToGpu().node, "node-9");
  EXPECT_EQ(batch->Workload().at("GPU-aaaa").at("hpc_job"), "run-7");
  ASSERT_TRUE((*queue)->Ack((*write)->seq).ok());

  // Nothing new: nothing queued; the job is registered once.
  ASSERT_TRUE(agent.Tick().ok());
  ASSERT_TRUE(agent.Push().ok());
  EXPECT_EQ(agent.counters().jobs_registered, 1);
}

TEST(Agent, ADriverFailureIsReportedAndTheNextRoundGoesOn) {
  MemFileSystem fs;
  auto queue = DiskQueue::Open(fs, "/q", 8 << 20);
  FakeBackend gpus = ScriptedGpus();
  NodeAttributor attributor(fs, {});
  ProgressFollower progress(fs);
  SimulatedClock clock(1790812800000);
  Agent agent(&gpus, attributor, nullptr, progress, **queue, clock, "node-9");
  gpus.Fail();
  EXPECT_EQ(agent.Tick().code(), StatusCode::kUnavailable);
  clock.Advance(kSecondMs);
  ASSERT_TRUE(agent.Tick().ok());
  EXPECT_EQ(agent.counters().read_errors, 1);
  EXPECT_EQ(agent.counters().gpu_samples, 1);
}

TEST(Agent, WithoutAGpuItStillSamplesTheNode) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("/proc/stat", "cpu  100 0 100 700 100 0 0 0\n").ok());
  auto queue = DiskQueue::Open(fs, "/q", 8 << 20);
  NodeAttributor attributor(fs, {});
  NodeStats node(fs, "/proc", "/sys/block");
  ProgressFollower progress(fs);
  SimulatedClock clock(1790812800000);
  Agent agent(nullptr, attributor, &node, progress, **queue, clock, "cpu-node");
  ASSERT_TRUE(agent.Tick().ok());
  ASSERT_TRUE(agent.Push().ok());
  EXPECT_EQ(agent.counters().gpu_samples, 0);
  EXPECT_EQ((*queue)->pending(), 1);  // node CPU and disk series
}

}  // namespace
}  // namespace gpuledger
