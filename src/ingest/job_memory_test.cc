#include "ingest/job_memory.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(JobMemoryJson, RoundTripsWhatTheAgentSends) {
  std::vector<JobMemoryReport> rows = {{"4242", "GPU-a", 7012, 1790812800000, 1790812860000},
                                       {"pruned-a", "GPU-b", 0, 1790812800000, 1790812800000}};
  auto back = ParseJobMemoryJson(JobMemoryJson(rows));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].job_label, "4242");
  EXPECT_EQ((*back)[0].gpu_uuid, "GPU-a");
  EXPECT_EQ((*back)[0].peak_mib, 7012);
  EXPECT_EQ((*back)[0].first_ms, 1790812800000);
  EXPECT_EQ((*back)[0].last_ms, 1790812860000);
  EXPECT_EQ((*back)[1].peak_mib, 0);
}

TEST(JobMemoryJson, ErrorsNameTheRowTheFieldTheLimitAndTheValue) {
  auto err = [](const std::string& body) { return ParseJobMemoryJson(body).status().message(); };
  const std::string row = R"("hpc_job": "j", "gpu": "GPU-a", "first": "2026-12-02T10:00:00Z", "last": "2026-12-02T10:01:00Z")";
  EXPECT_EQ(err("[]"), R"(body is not a JSON object (send {"jobs": [...]}))");
  EXPECT_EQ(err(R"({"rows": []})"), R"(unknown field 'rows' (send {"jobs": [...]}))");
  EXPECT_EQ(err(R"({"jobs": [{)" + row + R"(, "peak_mib": -5}]})"),
            "jobs[0].peak_mib must be an integer in [0, 4194304], got -5");
  EXPECT_EQ(err(R"({"jobs": [{)" + row + R"(, "peak_mib": 1.5}]})"),
            "jobs[0].peak_mib must be an integer in [0, 4194304], got 1.5");
  EXPECT_EQ(err(R"({"jobs": [{)" + row + R"(, "peak_mib": 1, "pid": 7}]})"),
            "jobs[0]: unknown field 'pid' (hpc_job, gpu, peak_mib, first, last)");
  EXPECT_EQ(err(R"({"jobs": [{"hpc_job": "j", "gpu": "GPU-a", "peak_mib": 1, "first": "2026-12-02T10:01:00Z", "last": "2026-12-02T10:00:00Z"}]})"),
            "jobs[0]: last 2026-12-02T10:00:00Z is before first 2026-12-02T10:01:00Z");
  EXPECT_EQ(err(R"({"jobs": [{"gpu": "GPU-a"}]})"), "jobs[0] has no 'hpc_job'");
  EXPECT_EQ(err(R"({"jobs": [{"hpc_job": 7}]})"), "jobs[0].hpc_job must be a string, got number");
  std::string many = R"({"jobs": [)";
  for (size_t i = 0; i <= kMaxJobMemoryRows; ++i) many += std::string(i ? "," : "") + "{}";
  EXPECT_EQ(err(many + "]}"), "10001 rows exceed the limit 10000");
}

}  // namespace
}  // namespace gpuledger
