#include "ingest/prom_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ingest/dcgm.h"

namespace gpuledger {
namespace {

TEST(ParsePromText, LabelsEscapesValuesAndTimestamps) {
  auto r = ParsePromText(
      "# HELP x a metric\n"
      "# TYPE x gauge\n"
      "x{a=\"1\",b=\"q\\\"uote\\\\ back\\nslash\",} 3.5 1790812800000\n"
      "y 1e3\n"
      "z{} NaN\n"
      "w -Inf\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].Label("b"), "q\"uote\\ back\nslash");
  EXPECT_EQ((*r)[0].line, 3);
  EXPECT_EQ(*(*r)[0].timestamp_ms, 1790812800000);
  EXPECT_DOUBLE_EQ((*r)[1].value, 1000);
  EXPECT_TRUE(std::isnan((*r)[2].value));
  EXPECT_TRUE(std::isinf((*r)[3].value));
}

TEST(ParsePromText, ErrorsNameTheLine) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"ok 1\n9bad 1\n", "line 2: metric name expected"},   {"x{a=\"1\" 2\n", "line 1: ',' or '}' expected"},
      {"x{a=\"1\",a=\"2\"} 2\n", "label a appears twice"},  {"x{a=\"1\\t\"} 2\n", "unknown escape"},
      {"x{a=\"open} 2\n", "unterminated value of label a"}, {"x one\n", "value 'one' is not a number"},
      {"x 1 yesterday\n", "timestamp 'yesterday'"},
  };
  for (const Case& c : cases) {
    auto r = ParsePromText(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

TEST(SamplesFromDcgm, MergesMetricsPerGpuAndRejectsBadValues) {
  auto series = ParsePromText(
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-1\",Hostname=\"n1\",modelName=\"NVIDIA "
      "A10G\",pod=\"train-0\"} 87\n"
      "DCGM_FI_DEV_FB_USED{gpu=\"1\",UUID=\"GPU-1\"} 7270\n"
      "DCGM_FI_DEV_SM_CLOCK{gpu=\"1\",UUID=\"GPU-1\"} 1710\n"
      "DCGM_FI_DEV_POWER_USAGE{gpu=\"1\",UUID=\"GPU-1\",container=\"c\"} 210\n"
      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-0\",GPU_I_ID=\"3\",GPU_I_PROFILE=\"1g.10gb\"} 10\n");
  ASSERT_TRUE(series.ok());
  auto b = SamplesFromDcgm(*series, 1790812800000);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_EQ(b->samples.size(), 1u);
  EXPECT_FLOAT_EQ(b->samples[0].sample.util_pct, 87);
  EXPECT_FLOAT_EQ(b->samples[0].sample.mem_mib, 7270);
  EXPECT_EQ(b->skipped_metrics, 1);
  EXPECT_EQ(b->skipped_mig, 1);
  ASSERT_EQ(b->gpus.size(), 1u);
  EXPECT_EQ(b->gpus[0].ToGpu().model, "A10G");  // modelName "NVIDIA A10G", canonicalized
  EXPECT_EQ(b->gpus[0].ToGpu().index, 1);
  // Labels a GPU's later series lack keep their earlier values; new ones join.
  EXPECT_EQ(b->gpus[0].ToGpu().node, "n1");
  EXPECT_EQ(b->Workload()["GPU-1"]["pod"], "train-0");
  EXPECT_EQ(b->Workload()["GPU-1"]["container"], "c");
  auto moved = SamplesFromDcgm(*ParsePromText("DCGM_FI_DEV_GPU_UTIL{UUID=\"GPU-1\",pod=\"a\"} 1\n"
                                              "DCGM_FI_DEV_FB_USED{UUID=\"GPU-1\",pod=\"b\"} 2\n"),
                               1790812800000);
  ASSERT_TRUE(moved.ok());
  EXPECT_EQ(moved->Workload()["GPU-1"]["pod"], "b") << "the last label set of the batch wins";

  auto nan = SamplesFromDcgm(*ParsePromText("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{UUID=\"GPU-1\"} NaN\n"),
                             1790812800000);
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(
      nan.status().message().find("line 1: GPU GPU-1: DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION is not finite"),
      std::string::npos)
      << nan.status().message();
  auto anon = SamplesFromDcgm(*ParsePromText("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 5\n"), 1790812800000);
  EXPECT_NE(anon.status().message().find("has no UUID label"), std::string::npos);
}

std::string ReadRealData(const std::string& name) {
  std::ifstream in(std::string(GPULEDGER_SOURCE_DIR) + "/../shared/realdata/artifacts/dcgm/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(SamplesFromDcgmRealData, RealScrapesOfRtx4000AdaAndL4) {
  const std::string lke = ReadRealData("lke_rtx4000ada_dcgm_metrics_with_pod_labels.prom");
  const std::string kops = ReadRealData("kops_aws_L4_dcgm_metrics_no_workload.prom");
  if (lke.empty() || kops.empty()) GTEST_SKIP() << "no ../shared/realdata (a fresh clone has none)";
  auto s1 = ParsePromText(lke);
  ASSERT_TRUE(s1.ok()) << s1.status().ToString();
  auto b1 = SamplesFromDcgm(*s1, 1790812800000);
  ASSERT_TRUE(b1.ok()) << b1.status().ToString();
  ASSERT_EQ(b1->samples.size(), 1u);
  const Sample& s = b1->samples[0].sample;
  EXPECT_EQ(b1->samples[0].gpu_uuid, "GPU-a8394b51-c086-568a-9f1a-c1e1c934c44c");
  EXPECT_FLOAT_EQ(s.util_pct, 0);
  EXPECT_FLOAT_EQ(s.power_w, 40.979f);
  EXPECT_EQ(s.energy_mj, 455497156);
  EXPECT_FLOAT_EQ(s.mem_mib, 1);
  EXPECT_EQ(b1->gpus[0].ToGpu().model, "RTX 4000 Ada Generation");  // "NVIDIA " dropped
  EXPECT_EQ(b1->gpus[0].ToGpu().node, "lke529760-766837-0a634ab30000");
  EXPECT_EQ(b1->Workload().at(b1->gpus[0].ToGpu().uuid).at("pod"), "cuda-75454ffb9f-8ljq7");

  auto s2 = ParsePromText(kops);
  ASSERT_TRUE(s2.ok()) << s2.status().ToString();
  auto b2 = SamplesFromDcgm(*s2, 1790812800000);
  ASSERT_TRUE(b2.ok()) << b2.status().ToString();
  ASSERT_EQ(b2->samples.size(), 1u);  // the file holds the same scrape twice: one sample
  EXPECT_EQ(b2->gpus[0].ToGpu().model, "L4");
  EXPECT_TRUE(b2->Workload().empty());
  EXPECT_GT(b2->skipped_metrics, 10);
}

}  // namespace
}  // namespace gpuledger
