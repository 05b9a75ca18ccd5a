#include "agent/agent.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "gpu/fake_backend.h"
#include "ingest/dcgm.h"
#include "ingest/job_memory.h"
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

  // First the GPU, with what remote write labels lack (NVML's name made canonical).
  auto gpu = (*queue)->Front();
  ASSERT_TRUE(gpu.ok() && gpu->has_value());
  EXPECT_EQ((*gpu)->path, "/api/v1/gpus");
  EXPECT_EQ(nlohmann::json::parse((*gpu)->body)["gpus"][0]["uuid"], "GPU-aaaa");
  ASSERT_TRUE((*queue)->Ack((*gpu)->seq).ok());

  // Then the job, from the process environment (never its token).
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

// Everything queued, front to back (acknowledging each).
std::vector<QueuedRequest> Drain(DiskQueue& q) {
  std::vector<QueuedRequest> out;
  for (;;) {
    auto f = q.Front();
    if (!f.ok() || !f->has_value()) return out;
    out.push_back(**f);
    EXPECT_TRUE(q.Ack((*f)->seq).ok());
  }
}

// Two pruned runs time-sliced on one A10G: each job's memory is its own processes', not
// the GPU's; a job with a process NVML gave no figure for is left out; a process no job
// claims counts for nobody.
TEST(Agent, ReportsEachJobsOwnMemoryOnASharedGpu) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("/proc/100/environ", "GPULEDGER_JOB_ID=pruned-a\0"s).ok());
  ASSERT_TRUE(fs.Append("/proc/101/environ", "GPULEDGER_JOB_ID=pruned-a\0"s).ok());  // a dataloader worker
  ASSERT_TRUE(fs.Append("/proc/200/cgroup", "0::/system.slice/slurmstepd.scope/job_4242/step_0\n").ok());
  ASSERT_TRUE(fs.Append("/proc/300/environ", "GPULEDGER_JOB_ID=pruned-c\0"s).ok());
  ASSERT_TRUE(fs.Append("/proc/400/environ", "HOSTNAME=x\0"s).ok());
  std::vector<std::vector<GpuReading>> rounds;
  for (int64_t a_mib : {3000, 3600}) {
    GpuReading g;
    g.uuid = "GPU-shared";
    g.name = "NVIDIA A10G";
    g.util_pct = 90;
    g.mem_used_mib = 15000;  // the whole GPU: every job's memory and the driver's
    g.processes = {{100, a_mib, ""}, {101, 900, ""}, {200, 3500, ""}, {300, -1, ""}, {400, 800, ""}};
    rounds.push_back({g});
  }
  FakeBackend gpus(rounds);
  auto queue = DiskQueue::Open(fs, "/q", 8 << 20);
  ASSERT_TRUE(queue.ok());
  NodeAttributor attributor(fs, {"/proc", "/run/gpustat", ""});
  ProgressFollower progress(fs);
  SimulatedClock clock(1790812800000);
  Agent agent(&gpus, attributor, nullptr, progress, **queue, clock, "node-9");
  ASSERT_TRUE(agent.Tick().ok());
  clock.Advance(kMinuteMs);
  ASSERT_TRUE(agent.Tick().ok());
  ASSERT_TRUE(agent.Push().ok());
  std::vector<JobMemoryReport> rows;
  for (const QueuedRequest& r : Drain(**queue)) {
    if (r.path != "/api/v1/memory") continue;
    auto parsed = ParseJobMemoryJson(r.body);  // what the server's own parser makes of it
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    rows.insert(rows.end(), parsed->begin(), parsed->end());
  }
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].job_label, "4242");  // the Slurm job, by its cgroup
  EXPECT_EQ(rows[0].peak_mib, 3500);
  EXPECT_EQ(rows[1].job_label, "pruned-a");
  EXPECT_EQ(rows[1].gpu_uuid, "GPU-shared");
  EXPECT_EQ(rows[1].peak_mib, 3600 + 900);  // its two processes, at their peak round
  EXPECT_EQ(rows[1].first_ms, 1790812800000);
  EXPECT_EQ(rows[1].last_ms, 1790812800000 + kMinuteMs);
  // Sent once: the next Push without a Tick sends none.
  ASSERT_TRUE(agent.Push().ok());
  for (const QueuedRequest& r : Drain(**queue)) EXPECT_NE(r.path, "/api/v1/memory");
}

TEST(Agent, EndsAJobItRegisteredAfterItsProcessesLeftAndItsResultsCsvGraceIsOver) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("/proc/4242/environ",
                        "GPULEDGER_JOB_ID=run-8\0GPULEDGER_USER=lisi\0GPULEDGER_PROJECT=pcb\0"
                        "GPULEDGER_DEPARTMENT=mfg\0GPULEDGER_EPOCHS=3\0GPULEDGER_RUN_DIR=/runs/r8\0"s)
                  .ok());
  ASSERT_TRUE(
      fs.Append("/runs/r8/results.csv", "epoch,train/box_loss,metrics/mAP50(B)\n1,1.5,0.2\n2,1.2,0.3\n")
          .ok());
  auto queue = DiskQueue::Open(fs, "/q", 8 << 20);
  ASSERT_TRUE(queue.ok());
  // The process is seen twice, then gone: one round with it, one without.
  GpuReading g;
  g.uuid = "GPU-aaaa";
  g.name = "NVIDIA A10G";
  g.memory_total_mib = 23028;
  GpuReading busy = g;
  busy.processes = {{4242, 2566, ""}};
  std::vector<std::vector<GpuReading>> rounds = {{busy}, {busy}};
  for (int i = 0; i < 100; ++i) rounds.push_back({g});
  FakeBackend gpus(rounds);
  NodeAttributor attributor(fs, {"/proc", "/run/gpustat", ""});
  ProgressFollower progress(fs);
  const TimeMs t0 = 1790812800000;  // 2026-10-01T00:00:00Z
  SimulatedClock clock(t0);
  Agent agent(&gpus, attributor, nullptr, progress, **queue, clock, "node-9", kMinuteMs);
  auto round = [&] {
    ASSERT_TRUE(agent.Tick().ok());
    ASSERT_TRUE(agent.Push().ok());
    clock.Advance(kMinuteMs);
  };
  round();  // 00:00 seen
  round();  // 00:01 seen
  round();  // 00:02 gone
  std::vector<QueuedRequest> sent = Drain(**queue);
  ASSERT_GE(sent.size(), 3u);
  EXPECT_EQ(sent[0].path, "/api/v1/gpus");  // first: the GPU with its memory and interval
  const auto gpu = nlohmann::json::parse(sent[0].body)["gpus"][0];
  EXPECT_EQ(gpu["uuid"], "GPU-aaaa");
  EXPECT_EQ(gpu["model"], "A10G");
  EXPECT_EQ(gpu["memory_mib"], 23028);
  EXPECT_EQ(gpu["sample_interval_ms"], kMinuteMs);
  EXPECT_EQ(gpu["node"], "node-9");
  EXPECT_EQ(sent[1].path, "/api/v1/jobs");
  for (const QueuedRequest& r : sent) EXPECT_EQ(r.method, "POST") << r.path;  // not ended yet: in its grace
  // The last epoch is written after the processes left; within the grace it is sent.
  ASSERT_TRUE(fs.Append("/runs/r8/results.csv", "3,1.1,0.4\n").ok());
  for (int i = 0; i < 9; ++i) round();  // to 00:11: ten minutes since last seen (00:01), not more
  sent = Drain(**queue);
  EXPECT_TRUE(
      std::none_of(sent.begin(), sent.end(), [](const QueuedRequest& r) { return r.method == "PATCH"; }));
  EXPECT_TRUE(std::any_of(sent.begin(), sent.end(), [](const QueuedRequest& r) {
    return r.path == "/api/v1/jobs/run-8/progress" && r.body.find("\"epoch\":3") != std::string::npos;
  }));
  EXPECT_EQ(agent.counters().jobs_ended, 0);
  round();  // 00:12: past the grace
  sent = Drain(**queue);
  ASSERT_FALSE(sent.empty());
  const QueuedRequest& end = sent.back();
  EXPECT_EQ(end.method, "PATCH");
  EXPECT_EQ(end.path, "/api/v1/jobs/run-8");
  // All 3 epochs done: succeeded; ended when first seen gone.
  EXPECT_EQ(nlohmann::json::parse(end.body),
            nlohmann::json({{"status", "succeeded"}, {"end", "2026-10-01T00:02:00Z"}}));
  EXPECT_EQ(agent.counters().jobs_ended, 1);
  EXPECT_EQ(agent.counters().gpus_registered, 1);  // once, while model and memory stay
  for (int i = 0; i < 20; ++i) round();
  EXPECT_EQ(agent.counters().jobs_ended, 1);  // once
}

TEST(Agent, AJobThatStoppedShortOfItsEpochsEndsFailedAndOneItDidNotRegisterIsLeftAlone) {
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("/proc/4242/environ",
                        "GPULEDGER_JOB_ID=run-9\0GPULEDGER_USER=lisi\0GPULEDGER_PROJECT=pcb\0"
                        "GPULEDGER_DEPARTMENT=mfg\0GPULEDGER_EPOCHS=50\0GPULEDGER_RUN_DIR=/runs/r9\0"s)
                  .ok());
  ASSERT_TRUE(fs.Append("/proc/4343/environ", "GPULEDGER_JOB_ID=slurm-owned\0"s).ok());  // no owner: not ours
  ASSERT_TRUE(fs.Append("/runs/r9/results.csv", "epoch,metrics/mAP50(B)\n1,0.2\n2,0.3\n").ok());
  auto queue = DiskQueue::Open(fs, "/q", 8 << 20);
  GpuReading a, b;
  a.uuid = "GPU-aaaa";
  a.name = "NVIDIA A10G";
  b = a;
  b.uuid = "GPU-bbbb";
  b.index = 1;
  GpuReading a_busy = a, b_busy = b;
  a_busy.processes = {{4242, 2566, ""}};
  b_busy.processes = {{4343, 100, ""}};
  std::vector<std::vector<GpuReading>> rounds = {{a_busy, b_busy}};
  for (int i = 0; i < 100; ++i) rounds.push_back({a, b});
  FakeBackend gpus(rounds);
  NodeAttributor attributor(fs, {"/proc", "/run/gpustat", ""});
  ProgressFollower progress(fs);
  SimulatedClock clock(1790812800000);
  Agent agent(&gpus, attributor, nullptr, progress, **queue, clock, "node-9");
  std::vector<QueuedRequest> sent;
  for (int i = 0; i < 13; ++i) {
    ASSERT_TRUE(agent.Tick().ok());
    ASSERT_TRUE(agent.Push().ok());
    clock.Advance(kMinuteMs);
    for (QueuedRequest& r : Drain(**queue)) sent.push_back(std::move(r));
  }
  std::vector<QueuedRequest> ends;
  for (const QueuedRequest& r : sent) {
    if (r.method == "PATCH") ends.push_back(r);
  }
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].path, "/api/v1/jobs/run-9");
  EXPECT_EQ(nlohmann::json::parse(ends[0].body)["status"], "failed");  // 2 of 50 epochs
  EXPECT_EQ(nlohmann::json::parse(ends[0].body)["end"], "2026-10-01T00:01:00Z");
  // Without an interval, the GPUs are registered without one (the server's default).
  auto gpu =
      std::find_if(sent.begin(), sent.end(), [](const QueuedRequest& r) { return r.path == "/api/v1/gpus"; });
  ASSERT_NE(gpu, sent.end());
  EXPECT_FALSE(nlohmann::json::parse(gpu->body)["gpus"][0].contains("sample_interval_ms"));
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
