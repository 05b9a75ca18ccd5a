#include "cli/demo_live.h"

#include <gtest/gtest.h>

#include "ingest/importers.h"

namespace gpuledger {
namespace {

GpuSample At(const std::string& gpu, TimeMs t, int64_t energy_mj) {
  Sample s;
  s.t = t;
  s.util_pct = 80;
  s.mem_mib = 9000;
  s.power_w = 250;
  s.energy_mj = energy_mj;
  s.sm_active = 0.7f;
  return {gpu, s};
}

TEST(IdleAfterStop, TheStoppedRunsGpusReadIdleFromTheStopAndTheirCounterRisesByTheIdleDraw) {
  std::vector<GpuSample> samples = {At("g1", 1000, 5'000'000), At("g2", 1000, 7'000'000),
                                    At("g1", 61000, 20'000'000), At("g2", 61000, 22'000'000),
                                    At("g1", 121000, 35'000'000), At("g2", 121000, 37'000'000)};
  // g1's run stopped at 50 s; its first sample was sent already (index 2 on are not).
  IdleAfterStop(samples, 2, {"g1"}, 50'000, {{"g1", 24.0}, {"g2", 62.0}}, {{"g1", {1000, 5'000'000}}});
  EXPECT_EQ(samples[0].sample.util_pct, 80);  // before `from`: as it was
  for (size_t i : {2u, 4u}) {
    const Sample& s = samples[i].sample;
    EXPECT_EQ(s.util_pct, 0);
    EXPECT_EQ(s.mem_mib, 0);
    EXPECT_EQ(s.power_w, 24.0f);
    EXPECT_EQ(s.sm_active, 0.0f);
  }
  EXPECT_EQ(samples[2].sample.energy_mj, 5'000'000 + 24 * 60'000);  // W x ms from the last sent
  EXPECT_EQ(samples[4].sample.energy_mj, 5'000'000 + 24 * 120'000);
  for (size_t i : {3u, 5u}) EXPECT_EQ(samples[i].sample.util_pct, 80);  // g2 runs on
  EXPECT_EQ(samples[5].sample.energy_mj, 37'000'000);
}

TEST(IdleAfterStop, SamplesBeforeTheStopAndAGpuNeverSentKeepWhatTheyRead) {
  std::vector<GpuSample> samples = {At("g1", 10'000, 1'000), At("g1", 70'000, 9'000)};
  IdleAfterStop(samples, 0, {"g1"}, 60'000, {{"g1", 10.0}}, {});
  EXPECT_EQ(samples[0].sample.util_pct, 80);  // before the stop
  EXPECT_EQ(samples[1].sample.util_pct, 0);
  // Nothing sent before: the counter goes on from where the sample reads, by 10 W x 0 ms.
  EXPECT_EQ(samples[1].sample.energy_mj, 9'000);
}

TEST(JobRegistrationJson, IsWhatTheJobsApiParsesBackToTheSameJobAndHolds) {
  Job j;
  j.id = "job-late";
  j.user = "wujiu";
  j.project = "forklift-perception";
  j.department = "autonomy";
  j.model_type = "yolo11s";
  j.image_repo = "registry.local/yolo/train";
  j.image_tag = "train-yolo11-small-cu121";
  j.image_digest = "sha256:" + std::string(64, 'a');
  j.framework = "ultralytics==8.3.40";
  j.gpu_share_ppm = kFullShare;
  j.gpu_model = "A10G";
  j.duration_limit_ms = 48 * kHourMs;
  j.dataset = "forklift-perception-v3";
  j.dataset_images = 78400;
  j.epochs = 120;
  j.batch = 32;
  j.imgsz = 640;
  j.amp = true;
  j.status = JobStatus::kRunning;
  j.submitted_ms = 1793458680000;
  j.start_ms = 1793458800000;
  j.labels = {{"patience", "100"}, {"queue", "a10g"}};
  const std::vector<Allocation> holds = {
      {"job-late", "GPU-1", j.start_ms, 0, kFullShare},
      {"job-late", "GPU-2", j.start_ms, j.start_ms + kHourMs, kFullShare / 2}};
  auto back = ParseJobJson(JobRegistrationJson(j, holds));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  const Job& g = back->job;
  EXPECT_EQ(g.id, j.id);
  EXPECT_EQ(g.user, j.user);
  EXPECT_EQ(g.project, j.project);
  EXPECT_EQ(g.department, j.department);
  EXPECT_EQ(g.model_type, j.model_type);
  EXPECT_EQ(g.image_repo, j.image_repo);
  EXPECT_EQ(g.image_tag, j.image_tag);
  EXPECT_EQ(g.image_digest, j.image_digest);
  EXPECT_EQ(g.framework, j.framework);
  EXPECT_EQ(g.gpu_share_ppm, j.gpu_share_ppm);
  EXPECT_EQ(g.gpu_model, j.gpu_model);
  EXPECT_EQ(g.duration_limit_ms, j.duration_limit_ms);
  EXPECT_EQ(g.dataset, j.dataset);
  EXPECT_EQ(g.dataset_images, j.dataset_images);
  EXPECT_EQ(g.epochs, j.epochs);
  EXPECT_EQ(g.batch, j.batch);
  EXPECT_EQ(g.imgsz, j.imgsz);
  EXPECT_EQ(g.amp, j.amp);
  EXPECT_EQ(g.status, j.status);
  EXPECT_EQ(g.submitted_ms, j.submitted_ms);
  EXPECT_EQ(g.start_ms, j.start_ms);
  EXPECT_EQ(g.labels, j.labels);
  ASSERT_EQ(back->allocations.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back->allocations[i].gpu_uuid, holds[i].gpu_uuid);
    EXPECT_EQ(back->allocations[i].start_ms, holds[i].start_ms);
    EXPECT_EQ(back->allocations[i].end_ms, holds[i].end_ms);
    EXPECT_EQ(back->allocations[i].share_ppm, holds[i].share_ppm);
  }
}

}  // namespace
}  // namespace gpuledger
