#include "ingest/importers.h"

#include <gtest/gtest.h>

#include "ingest/csv.h"

namespace gpuledger {
namespace {

TEST(CsvReader, QuotesCrlfAndBlankLines) {
  CsvReader r("a,\"b,c\",\"d\"\"e\"\r\n\r\nx,y,z\n");
  CsvRecord rec;
  ASSERT_TRUE(*r.Next(&rec));
  EXPECT_EQ(rec.fields, (std::vector<std::string>{"a", "b,c", "d\"e"}));
  ASSERT_TRUE(*r.Next(&rec));
  EXPECT_EQ(rec.line, 3);
  EXPECT_FALSE(*r.Next(&rec));
  CsvReader bad("a,\"open\n");
  EXPECT_FALSE(bad.Next(&rec).ok());
}

TEST(ParseJobsCsv, ReadsArticleJobSpec) {
  auto jobs = ParseJobsCsv(
      "id,user,project,department,model_type,image,gpu_request,duration_limit,framework,start,end\n"
      "j1,zhangsan,defect-detection-line3,manufacturing,yolov10,reg/yolo:yolo-v10-large-aug2024,1\xC3\x97"
      "A10G,48h,ultralytics==8.0.200,2026-10-01T00:00:00Z,2026-10-01T08:18:00Z\n");
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  const Job& j = (*jobs)[0];
  EXPECT_EQ(j.gpu_share_ppm, kFullShare);
  EXPECT_EQ(j.gpu_model, "A10G");
  EXPECT_EQ(j.image_repo, "reg/yolo");
  EXPECT_EQ(j.image_tag, "yolo-v10-large-aug2024");
  EXPECT_EQ(j.duration_limit_ms, 48 * kHourMs);
  EXPECT_EQ(j.status, JobStatus::kSucceeded);
}

TEST(ParseJobsCsv, ErrorsNameLineFieldAndValue) {
  auto r = ParseJobsCsv("id,user,project,department,epochs\nj1,u,p,d,100\nj2,u,p,d,-3\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 3"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("-3"), std::string::npos);
  auto typo = ParseJobsCsv("id,user,project,departmnet\n");
  EXPECT_NE(typo.status().message().find("unknown column 'departmnet'"), std::string::npos);
  auto short_row = ParseJobsCsv("id,user,project,department\nj1,u,p\n");
  EXPECT_NE(short_row.status().message().find("has 3 fields, the header has 4"), std::string::npos);
}

TEST(ParseJobsCsv, IdentifiersAreCheckedWithTheirLine) {
  auto escape = ParseJobsCsv("id,user,project,department\nj1,u,p,d\n\"j\x1b[2J\",u,p,d\n");
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(
      escape.status().message().find("line 3: job id \"j\\x1b[2J\" (5 bytes) has control character \\x1b"),
      std::string::npos)
      << escape.status().message();
  auto slash = ParseJobsCsv("id,user,project,department\nj1,u,../p,d\n");
  ASSERT_FALSE(slash.ok());
  EXPECT_NE(slash.status().message().find("line 2: project \"../p\" (4 bytes) has '/' at byte 2"),
            std::string::npos)
      << slash.status().message();
  auto gpus = ParseGpusCsv("uuid,node,model,in_service_from\nGPU-\x01X,n1,A10G,2026-10-01T00:00:00Z\n");
  ASSERT_FALSE(gpus.ok());
  EXPECT_NE(
      gpus.status().message().find("GPU UUID \"GPU-\\x01X\" (6 bytes) has control character \\x01 at byte 4"),
      std::string::npos)
      << gpus.status().message();
  auto allocs = ParseAllocationsCsv("job_id,gpu_uuid,start\na b,GPU-1,2026-10-01T00:00:00Z\n");
  ASSERT_FALSE(allocs.ok());
  EXPECT_NE(allocs.status().message().find("job id \"a b\" (3 bytes) has a space at byte 1"),
            std::string::npos)
      << allocs.status().message();
  auto samples =
      ParseSamplesCsv("timestamp,gpu,metric,value\n2026-10-01T00:00:00Z,GPU/1,DCGM_FI_DEV_GPU_UTIL,5\n");
  ASSERT_FALSE(samples.ok());
  EXPECT_NE(samples.status().message().find("GPU UUID \"GPU/1\""), std::string::npos)
      << samples.status().message();
}

TEST(ParseJobJson, CountsTakeJsonNumbersAndAmpABoolean) {
  auto j = ParseJobJson(R"({"id": "j1", "user": "u", "project": "p", "department": "d", "epochs": 50,
                           "batch": "16", "imgsz": 640, "dataset_images": 1200, "amp": true})");
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  EXPECT_EQ(j->job.epochs, 50);
  EXPECT_EQ(j->job.batch, 16);
  EXPECT_EQ(j->job.imgsz, 640);
  EXPECT_EQ(j->job.dataset_images, 1200);
  EXPECT_TRUE(j->job.amp);
  struct Case {
    const char* body;
    const char* message;
  } cases[] = {
      {R"({"id": "j1", "epochs": 2.5})", "field 'epochs' must be an integer, got 2.5"},
      {R"({"id": "j1", "epochs": -3})", "epochs -3 is outside [0, 100000]"},
      {R"({"id": 7})", "field 'id' must be a string, got number"},
      {R"({"id": "j1", "amp": 1})", "field 'amp' must be a boolean or a string, got number"},
      {R"({"id": "j1", "epochs": [1]})", "field 'epochs' must be an integer or a string, got array"},
  };
  for (const Case& c : cases) {
    auto r = ParseJobJson(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

TEST(ParseSamplesCsv, MergesLongFormAndAcceptsDcgmNames) {
  auto r = ParseSamplesCsv(
      "timestamp,gpu,metric,value\n"
      "1790812800,GPU-1,DCGM_FI_DEV_GPU_UTIL,87\n"
      "1790812800,GPU-1,DCGM_FI_DEV_FB_USED,7270\n"
      "1790812800,GPU-1,DCGM_FI_DEV_POWER_USAGE,251.5\n"
      "1790812800,GPU-1,DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION,123456\n"
      "1790812800,GPU-1,DCGM_FI_DEV_MEM_CLOCK,5000\n"
      "2026-10-01T00:00:10Z,GPU-1,util,90\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->samples.size(), 2u);
  EXPECT_EQ(r->skipped_metrics, 1);
  EXPECT_FLOAT_EQ(r->samples[0].sample.mem_mib, 7270);
  EXPECT_EQ(r->samples[0].sample.energy_mj, 123456);
  EXPECT_EQ(r->samples[1].sample.t, 1790812810000);
}

TEST(ParseSamplesCsv, RejectsNaNNegativeOverRangeAndUtilless) {
  for (const char* row :
       {"1790812800,GPU-1,util,NaN", "1790812800,GPU-1,util,-1", "1790812800,GPU-1,util,101",
        "1790812800,GPU-1,mem_mib,10", "4102444800,GPU-1,util,5", "1790812800,GPU-1,util,inf"}) {
    auto r = ParseSamplesCsv(std::string("timestamp,gpu,metric,value\n") + row + "\n");
    EXPECT_FALSE(r.ok()) << row;
    EXPECT_NE(r.status().message().find("line 2"), std::string::npos) << r.status().message();
  }
}

TEST(ParseGpuRequest, CountsAndFractions) {
  int64_t share;
  std::string model;
  ASSERT_TRUE(ParseGpuRequest("0.5xA10G", &share, &model).ok());
  EXPECT_EQ(share, 500'000);
  ASSERT_TRUE(ParseGpuRequest("8 x A100-SXM4-80GB", &share, &model).ok());
  EXPECT_EQ(share, 8 * kFullShare);
  EXPECT_EQ(model, "A100-SXM4-80GB");
  EXPECT_FALSE(ParseGpuRequest("A10G", &share, &model).ok());
  EXPECT_FALSE(ParseGpuRequest("0xA10G", &share, &model).ok());
}

TEST(ParseProgressJson, TakesEpochsAndNamesWhatIsWrong) {
  auto ok = ParseProgressJson(R"({"epochs": [{"epoch": 1, "time_s": 30.5, "map50": 0.41, "train_loss": 4.6},
                                            {"epoch": 2}]})");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_DOUBLE_EQ(*(*ok)[0].map50, 0.41);
  EXPECT_FALSE((*ok)[1].map50.has_value());
  const std::pair<const char*, const char*> bad[] = {
      {"[1]", "not a JSON object"},
      {R"({"epochs": 3})", "must be an array"},
      {R"({"epoch": []})", "unknown field 'epoch'"},
      {R"({"epochs": [{"epoch": 0}]})", "epochs[0].epoch must be an integer in [1, 1000000], got 0"},
      {R"({"epochs": [{"epoch": 1}, {"epoch": 2, "map50": 41}]})", "epochs[1].map50 41 is outside [0, 1]"},
      {R"({"epochs": [{"epoch": 1, "colour": 1}]})", "epochs[0]: unknown field 'colour'"},
      {R"({"epochs": [{"map50": 0.5}]})", "epochs[0] has no 'epoch'"},
      {R"({"epochs": [{"epoch": 1, "time_s": "soon"}]})", "epochs[0].time_s must be a number"},
  };
  for (const auto& [body, want] : bad) {
    auto r = ParseProgressJson(body);
    ASSERT_FALSE(r.ok()) << body;
    EXPECT_NE(r.status().message().find(want), std::string::npos) << body << " -> " << r.status().message();
  }
}

TEST(ParsePricesCsv, RejectsUnknownCurrency) {
  auto r = ParsePricesCsv(
      "gpu_model,effective_from,price_per_gpu_hour,currency\nA10G,2026-01-01T00:00:00Z,3.5,RMB\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown currency 'RMB'"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace gpuledger
