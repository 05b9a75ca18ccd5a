// The CLI as a user drives it: init, import, report on a real SQLite file; bad input
// gets a clear error and leaves the ledger as it was.
#include "cli/cli.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/clock.h"
#include "common/test_util.h"
#include "ledger/ledger.h"

namespace gpuledger {
namespace {

struct CliRun {
  int code;
  std::string out, err;
};

// "Now" for every test: 2026-11-15T12:00:00Z, so the default report month is 2026-10.
const SimulatedClock kClock(1794744000000);

CliRun Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "gpuledger");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), kClock, out, err);
  return {code, out.str(), err.str()};
}

class CliBooks : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() + "/books.db";
    Ok({"init", "--db", db_, "--currency", "CNY", "--timezone", "Asia/Shanghai", "--interval", "60s",
        "--max-gap", "180s"});
    Import("prices",
           "gpu_model,effective_from,price_per_gpu_hour,price_per_kwh,currency\n"
           "A10G,2026-01-01T00:00:00Z,3.5,,CNY\n");
    Import("gpus",
           "uuid,node,index,model,memory_mib,in_service_from\n"
           "GPU-a,node-1,0,A10G,23028,2026-09-01T00:00:00+08:00\n"
           "GPU-b,node-1,1,A10G,23028,2026-09-01T00:00:00+08:00\n");
    // The article's yolov8s run: 8.3 h on one A10G.
    Import("jobs",
           "id,user,project,department,model_type,image,image_digest,framework,gpu_request,duration_limit,"
           "start,end\n"
           "v8s,zhangsan,defect-detection-line3,manufacturing,yolov8s,reg/yolo:train-yolov8-medium-cu118,"
           "sha256:01,ultralytics==8.0.200,1xA10G,48h,2026-10-02T00:00:00+08:00,2026-10-02T08:18:00+08:00\n");
    Import("allocations",
           "job_id,gpu_uuid,start,end,share\n"
           "v8s,GPU-a,2026-10-02T00:00:00+08:00,2026-10-02T08:18:00+08:00,1\n");
    std::string samples = "timestamp,gpu,metric,value\n";
    const int64_t t0 = 1790870400;   // 2026-10-02T00:00:00+08:00
    for (int i = 0; i < 498; ++i) {  // one per minute for 8.3 h
      const int util = i < 10 ? 5 : i < 450 ? 90 : 20;
      samples += std::to_string(t0 + 60 * i) + ",GPU-a,DCGM_FI_DEV_GPU_UTIL," + std::to_string(util) + "\n";
      samples += std::to_string(t0 + 60 * i) + ",GPU-a,DCGM_FI_DEV_FB_USED," +
                 std::to_string(i < 10 ? 1000 : 7270) + "\n";
    }
    Import("samples", samples);
  }
  void Ok(std::vector<std::string> args) {
    CliRun r = Cli(args);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  void Import(const std::string& kind, const std::string& csv) {
    Ok({"import", kind, "--db", db_, dir_.File(kind + ".csv", csv)});
  }
  CliRun ImportBad(const std::string& kind, const std::string& csv) {
    return Cli({"import", kind, "--db", db_, dir_.File("bad-" + kind + ".csv", csv)});
  }
  std::string ReportJson() {
    CliRun r = Cli({"report", "--db", db_, "--month", "2026-10", "--format", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return r.out;
  }

  testing::TempDir dir_;
  std::string db_;
};

TEST_F(CliBooks, ArticleExampleCosts2905AndBooksReconcile) {
  CliRun r = Cli({"report", "--db", db_, "--month", "2026-10", "--format", "csv"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Two A10Gs for all of October (Asia/Shanghai): 2 x 744 h x 3.5 = 5208.00 CNY.
  EXPECT_NE(r.out.find("manufacturing,1,8.300000,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(",29.05,0.00,CNY,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("(unallocated capacity),0,1479.700000,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(",5178.95,0.00,CNY,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("total,1,1488.000000,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(",5208.00,0.00,CNY,1.000000,"), std::string::npos) << r.out;
}

TEST_F(CliBooks, ReportDefaultsToLastMonthInTheLedgersZone) {
  CliRun r = Cli({"report", "--db", db_});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("monthly report 2026-10 by department"), std::string::npos) << r.out;
}

TEST_F(CliBooks, SeriesGivesOneGpusMinutes) {
  CliRun r = Cli({"series", "--db", db_, "--gpu", "GPU-a", "--month", "2026-10"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("minute,samples,util_mean_pct,util_max_pct,mem_max_mib,power_mean_w,as_of,partial\n", 0),
            0U)
      << r.out;
  // A finished month: every row says as of when, and that the month was whole then.
  EXPECT_NE(r.out.find("2026-10-01T16:00:00Z,1,5.00,5.0,1000,,2026-11-15T12:00:00Z,false\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("2026-10-01T16:10:00Z,1,90.00,90.0,7270,,2026-11-15T12:00:00Z,false\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1 + 498);
  r = Cli({"series", "--db", db_, "--gpu", "GPU-a", "--month", "2026-10", "--as-of", "2026-10-01T17:00:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("2026-10-01T16:00:00Z,1,5.00,5.0,1000,,2026-10-01T17:00:00Z,true\n"), std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find(",false\n"), std::string::npos) << r.out;
  r = Cli({"series", "--db", db_, "--gpu", "GPU-a", "--month", "2026-10", "--as-of", "2026-10-01T17:00:00Z",
           "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["as_of"], "2026-10-01T17:00:00Z");
  EXPECT_EQ(j["partial"], true);
  EXPECT_EQ(j["minutes"].size(), 60U);  // the month's whole hours up to as-of: 16:00 to 17:00
  r = Cli({"series", "--db", db_, "--gpu", "GPU-nope", "--month", "2026-10"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no GPU 'GPU-nope'"), std::string::npos) << r.err;
}

TEST_F(CliBooks, JsonShowsWhereEachGpusTimeWent) {
  const std::string json = ReportJson();
  // GPU-b held nothing all month (744 h); GPU-a was held 8.3 h of it.
  EXPECT_NE(
      json.find("\"gpu\": \"GPU-b\",\n      \"gpu_model\": \"A10G\",\n      \"capacity_gpu_hours\": 744.0,\n"
                "      \"allocated_gpu_hours\": 0.0,\n      \"unallocated_gpu_hours\": 744.0"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find("\"allocated_gpu_hours\": 8.3,\n      \"unallocated_gpu_hours\": 735.7"),
            std::string::npos)
      << json;
}

TEST_F(CliBooks, JobsShowDensityPhasesAndPeakMemory) {
  CliRun r = Cli({"jobs", "--db", db_, "--month", "2026-10", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  // Machine-readable: fractions and numbers, not display text.
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["jobs"].size(), 1u);
  const auto& job = j["jobs"][0];
  EXPECT_NEAR(job["density"].get<double>(), 440.0 / 498.0, 1e-3) << r.out;  // 440 of 498 minutes
  // ... and its parts, so density can be checked from them.
  EXPECT_NEAR(job["dense_gpu_hours"].get<double>(), 440.0 / 60, 1e-6) << r.out;
  EXPECT_NEAR(job["covered_gpu_hours"].get<double>(), 498.0 / 60, 1e-6) << r.out;
  EXPECT_TRUE(job["busy_gpu_hours"].is_number()) << r.out;
  CliRun csv = Cli({"jobs", "--db", db_, "--month", "2026-10", "--format", "csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  EXPECT_NE(csv.out.find(",as_of,partial,busy_gpu_hours,covered_gpu_hours,dense_gpu_hours\n"),
            std::string::npos)
      << csv.out;
  EXPECT_NEAR(job["peak_mem_gib"].get<double>(), 7.1, 0.05) << r.out;
  EXPECT_NEAR(job["phase_loading"].get<double>(), 0.020, 0.0005) << r.out;
  EXPECT_NEAR(job["phase_tail"].get<double>(), 0.096, 0.0005) << r.out;
  EXPECT_EQ(job["cost"], "29.05") << r.out;
  EXPECT_EQ(r.out.find('%'), std::string::npos) << r.out;
  // The table keeps its display text.
  CliRun table = Cli({"jobs", "--db", db_, "--month", "2026-10"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("88.4 %"), std::string::npos) << table.out;
}

TEST_F(CliBooks, LeaderboardCostPerMapPoint) {
  Ok({"import", "progress", "--db", db_, "--job", "v8s",
      dir_.File("results.csv", "epoch,time,metrics/mAP50(B)\n1,100,0.30\n2,200,0.562\n3,300,0.55\n")});
  CliRun r = Cli({"leaderboard", "--db", db_, "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"map50\": 56.2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"cost_per_run\": \"29.05\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"cost_per_map_point\": \"0.52\""), std::string::npos) << r.out;
  // As of an instant; all months to date stay partial, a whole past month is not.
  EXPECT_NE(r.out.find("\"as_of\": \""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"partial\": true"), std::string::npos) << r.out;
  CliRun oct = Cli({"leaderboard", "--db", db_, "--month", "2026-10", "--format", "json"});
  ASSERT_EQ(oct.code, 0) << oct.err;
  EXPECT_NE(oct.out.find("\"partial\": false"), std::string::npos) << oct.out;
}

TEST_F(CliBooks, CountOnlyRecordsArePricedFromTheCountAndSaidSo) {
  // An accounting record with a GPU count and model, no allocations: 2 x A10G for 10 h.
  Import("jobs",
         "id,user,project,department,model_type,gpu_request,start,end\n"
         "acct-1,lisi,defect-detection-line3,manufacturing,yolov8n,2xA10G,"
         "2026-10-05T00:00:00Z,2026-10-05T10:00:00Z\n");
  CliRun r = Cli({"report", "--db", db_, "--month", "2026-10", "--by", "user"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("lisi"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("70.00"), std::string::npos) << r.out;  // 20 GPU-h x 3.5
  EXPECT_NE(r.out.find("1 jobs carry only a GPU count"), std::string::npos) << r.out;
}

TEST_F(CliBooks, NvmlModelNamesArePricedAndAnUnpricedModelIsItsOwnLine) {
  // dcgm-exporter and NVML say "NVIDIA A10G"; the price book says "A10G". H200 has no price.
  Import("gpus",
         "uuid,node,index,model,memory_mib,in_service_from\n"
         "GPU-c,node-2,0,NVIDIA A10G,23028,2026-09-01T00:00:00+08:00\n"
         "GPU-h,node-3,0,NVIDIA H200,143771,2026-09-01T00:00:00+08:00\n");
  {
    auto ledger = OpenSqliteLedger(db_);
    ASSERT_TRUE(ledger.ok());
    auto gpus = (*ledger)->ListGpus();
    ASSERT_TRUE(gpus.ok());
    std::string model_c;
    for (const Gpu& g : *gpus) {
      if (g.uuid == "GPU-c") model_c = g.model;
    }
    EXPECT_EQ(model_c, "A10G");  // canonical from the import on
    // A GPU stored under the NVML name before canonical names existed is priced too.
    Gpu old;
    old.uuid = "GPU-d";
    old.node = "node-2";
    old.index = 1;
    old.model = "NVIDIA A10G";
    old.in_service_from = 1790784000000;  // 2026-10-01T00:00:00+08:00
    ASSERT_TRUE((*ledger)->PutGpus({old}).ok());
  }
  Import("jobs",
         "id,user,project,department,start,end\n"
         "h200-run,wangwu,llm-eval,research,2026-10-03T00:00:00Z,2026-10-03T10:00:00Z\n");
  Import("allocations",
         "job_id,gpu_uuid,start,end,share\n"
         "h200-run,GPU-h,2026-10-03T00:00:00Z,2026-10-03T10:00:00Z,1\n");

  CliRun csv = Cli({"report", "--db", db_, "--month", "2026-10", "--format", "csv"});
  ASSERT_EQ(csv.code, 0) << csv.err;
  // Four A10Gs for October: 4 x 744 h x 3.5 = 10416.00; the H200's 744 h are unpriced.
  EXPECT_NE(csv.out.find("total,2,3720.000000,"), std::string::npos) << csv.out;
  EXPECT_NE(csv.out.find(",10416.00,0.00,CNY,1.000000,"), std::string::npos) << csv.out;
  EXPECT_NE(csv.out.find("(unpriced) H200,1,744.000000,"), std::string::npos) << csv.out;
  EXPECT_EQ(csv.out.find("research"), std::string::npos) << csv.out;  // its only usage is unpriced
  EXPECT_NE(csv.out.find("(warning),744.00 GPU-hours of GPU model 'H200' from 2026-09-30T16:00:00Z are not "
                         "priced and not in the total: no price for GPU model 'H200'"),
            std::string::npos)
      << csv.out;

  CliRun table = Cli({"report", "--db", db_, "--month", "2026-10"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("(unpriced) H200"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("= 10,416.00 capacity x price"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("warning: 744.00 GPU-hours of GPU model 'H200'"), std::string::npos) << table.out;

  const std::string json = ReportJson();
  EXPECT_NE(json.find("\"unpriced\": [\n    {\n      \"key\": \"(unpriced) H200\""), std::string::npos)
      << json;
  EXPECT_NE(json.find("\"cost\": null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"warnings\": [\n    \"744.00 GPU-hours"), std::string::npos) << json;
  EXPECT_NE(json.find("\"gpu_model\": \"A10G\",\n      \"capacity_gpu_hours\": 2976.0"), std::string::npos)
      << json;  // GPU-d ("NVIDIA A10G") is in the A10G pool

  CliRun jobs = Cli({"jobs", "--db", db_, "--month", "2026-10"});
  EXPECT_EQ(jobs.code, 0) << jobs.err;
  EXPECT_NE(jobs.out.find("warning: 744.00 GPU-hours of GPU model 'H200'"), std::string::npos) << jobs.out;
}

TEST_F(CliBooks, SharedIdleCostStaysInItsGpuModelsPoolUnlessAskedAcross) {
  // An idle A100 beside the two A10Gs: manufacturing ran only on A10Gs.
  Import("prices",
         "gpu_model,effective_from,price_per_gpu_hour,price_per_kwh,currency\n"
         "A100-SXM4-80GB,2026-01-01T00:00:00Z,10,,CNY\n");
  Import("gpus",
         "uuid,node,index,model,memory_mib,in_service_from\n"
         "GPU-x,node-9,0,NVIDIA A100-SXM4-80GB,81920,2026-09-01T00:00:00+08:00\n");
  CliRun pooled = Cli({"report", "--db", db_, "--month", "2026-10", "--format", "csv", "--share-idle"});
  ASSERT_EQ(pooled.code, 0) << pooled.err;
  // 29.05 direct + the A10Gs' idle 5178.95; the A100's 7440.00 stays unallocated.
  EXPECT_NE(pooled.out.find(",5208.00,5178.95,CNY,"), std::string::npos) << pooled.out;
  EXPECT_NE(pooled.out.find(",7440.00,0.00,CNY,"), std::string::npos) << pooled.out;

  CliRun across = Cli({"report", "--db", db_, "--month", "2026-10", "--format", "csv", "--share-idle",
                       "--share-idle-across-models"});
  ASSERT_EQ(across.code, 0) << across.err;
  EXPECT_NE(across.out.find(",12648.00,12618.95,CNY,"), std::string::npos) << across.out;

  CliRun alone = Cli({"report", "--db", db_, "--month", "2026-10", "--share-idle-across-models"});
  EXPECT_EQ(alone.code, 1);
  EXPECT_NE(alone.err.find("--share-idle-across-models needs --share-idle"), std::string::npos) << alone.err;
}

struct BadCase {
  const char* name;
  const char* kind;
  const char* csv;
  const char* message;
};

TEST_F(CliBooks, BadInputIsRejectedWithAClearErrorAndWritesNothing) {
  const std::string before = ReportJson();
  const BadCase cases[] = {
      {"malformed row", "jobs", "id,user,project,department\nok1,u,p,d\nbad,u,p\n",
       "line 3: has 3 fields, the header has 4"},
      {"unknown GPU", "allocations",
       "job_id,gpu_uuid,start,end\nv8s,GPU-zz,2026-10-03T00:00:00Z,2026-10-03T01:00:00Z\n",
       "unknown GPU 'GPU-zz'"},
      {"GPU over 100 %", "allocations",
       "job_id,gpu_uuid,start,end,share\nv8s,GPU-b,2026-10-05T00:00:00Z,2026-10-05T02:00:00Z,0.7\n"
       "v8s,GPU-b,2026-10-05T01:00:00Z,2026-10-05T03:00:00Z,0.5\n",
       "would be allocated 120.00 % at 2026-10-05T01:00:00Z (limit 100 %)"},
      {"negative value", "samples",
       "timestamp,gpu,metric,value\n1790900000,GPU-b,util,50\n1790900060,GPU-b,power_w,-5\n",
       "line 3: power_w -5.000 is negative"},
      {"NaN", "samples", "timestamp,gpu,metric,value\n1790900000,GPU-b,util,NaN\n",
       "line 2: util 'NaN' is not finite"},
      {"time out of range", "samples",
       "timestamp,gpu,metric,value\n1790900000,GPU-b,util,5\n2150-01-01T00:00:00Z,GPU-b,util,5\n",
       "line 3: time '2150-01-01T00:00:00Z' = 2150-01-01T00:00:00Z is outside the accepted range"},
      {"unknown GPU in samples", "samples",
       "timestamp,gpu,metric,value\n1790900000,GPU-b,util,5\n1790900000,GPU-q,util,5\n",
       "unknown GPU 'GPU-q'"},
      {"unknown currency", "prices",
       "gpu_model,effective_from,price_per_gpu_hour,currency\nA10G,2026-11-01T00:00:00Z,3,CNY\nH100,2026-11-"
       "01T00:00:00Z,9,XYZ\n",
       "line 3: unknown currency 'XYZ'"},
      {"other currency", "prices",
       "gpu_model,effective_from,price_per_gpu_hour,currency\nA10G,2026-10-10T00:00:00Z,3,USD\n",
       "is in USD but this ledger keeps its books in CNY"},
      {"unknown column", "gpus", "uuid,node,model,in_service_from,colour\n", "unknown column 'colour'"},
  };
  for (const BadCase& c : cases) {
    CliRun r = ImportBad(c.kind, c.csv);
    EXPECT_EQ(r.code, 1) << c.name;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.name << ": " << r.err;
    EXPECT_NE(r.err.find("bad-" + std::string(c.kind) + ".csv"), std::string::npos)
        << c.name << ": " << r.err;
  }
  EXPECT_EQ(ReportJson(), before);
  auto ledger = OpenSqliteLedger(db_);
  EXPECT_EQ((*ledger)->ListJobs()->size(), 1u);
  EXPECT_EQ((*ledger)->ListPrices()->size(), 1u);
}

TEST_F(CliBooks, JobEndEndsARunningJobAndItsOpenHoldAndJobSetCorrectsAFinishedOne) {
  Import("jobs",
         "id,user,project,department,model_type,gpu_request,start,status\n"
         "live,lisi,defect-detection-line3,manufacturing,yolo11n,1xA10G,2026-11-15T08:00:00Z,running\n");
  Import("allocations", "job_id,gpu_uuid,start,end,share\nlive,GPU-b,2026-11-15T08:00:00Z,,1\n");
  CliRun r = Cli({"job", "end", "--db", db_, "--id", "live", "--status", "running"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("a job ends succeeded, failed or cancelled"), std::string::npos) << r.err;
  r = Cli(
      {"job", "end", "--db", db_, "--id", "live", "--status", "cancelled", "--at", "2026-11-15T10:00:00Z"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "job live: cancelled, ended 2026-11-15T10:00:00Z; 1 allocation(s) ended with it\n");
  auto ledger = OpenLedger(db_);
  ASSERT_TRUE(ledger.ok());
  auto job = (*ledger)->GetJob("live");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->status, JobStatus::kCancelled);
  auto held = (*ledger)->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});
  ASSERT_TRUE(held.ok());
  for (const Allocation& a : *held) {
    if (a.job_id == "live") {
      EXPECT_EQ(a.end_ms, 1794736800000);  // 10:00Z
    }
  }
  // An operator corrects a finished job (as an admin may) and its descriptive fields.
  r = Cli({"job", "set", "--db", db_, "--id", "v8s", "--end", "2026-10-02T08:00:00+08:00", "--model-type",
           "yolov8m"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("succeeded, ended 2026-10-02T00:00:00Z; 1 allocation(s)"), std::string::npos) << r.out;
  EXPECT_EQ((*(*ledger)->GetJob("v8s"))->model_type, "yolov8m");
  r = Cli({"job", "end", "--db", db_, "--id", "nope"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no job 'nope'"), std::string::npos) << r.err;
  auto audit = (*ledger)->ListAudit();
  ASSERT_TRUE(audit.ok());
  ASSERT_FALSE(audit->empty());
  EXPECT_EQ(audit->back().action, "gpuledger job set");
  EXPECT_EQ(audit->back().role, "cli");
}

TEST(Cli, ImportsADcgmScrapeAndRegistersItsGpus) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/s.db";
  const std::string scrape = dir.File("metrics.prom",
                                      "# TYPE DCGM_FI_DEV_GPU_UTIL gauge\n"
                                      "DCGM_FI_DEV_GPU_UTIL{gpu=\"2\",UUID=\"GPU-s\",Hostname=\"n1\","
                                      "modelName=\"NVIDIA A10G\",pod=\"yolo-0\"} 90\n"
                                      "DCGM_FI_DEV_FB_USED{gpu=\"2\",UUID=\"GPU-s\"} 7270\n"
                                      "DCGM_FI_DEV_MEM_CLOCK{gpu=\"2\",UUID=\"GPU-s\"} 6251\n");
  CliRun r = Cli({"import", "scrape", "--db", db, scrape});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("metrics.prom: line 2: DCGM_FI_DEV_GPU_UTIL has no timestamp; give --at TIME"),
            std::string::npos)
      << r.err;
  r = Cli({"import", "scrape", "--db", db, "--at", "2026-10-01T00:00:00Z", scrape});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown GPU 'GPU-s'"), std::string::npos) << r.err;
  r = Cli({"import", "scrape", "--db", db, "--at", "2026-10-01T00:00:00Z", "--register-gpus", scrape});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("imported 1 samples from"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find(
          "(1 GPUs; 3 series, 1 of metrics not metered, 0 of MIG instances skipped; 1 GPUs registered)"),
      std::string::npos)
      << r.out;
  auto ledger = OpenSqliteLedger(db);
  auto gpus = (*ledger)->ListGpus();
  ASSERT_EQ(gpus->size(), 1u);
  EXPECT_EQ((*gpus)[0].model, "A10G");  // the scrape's modelName "NVIDIA A10G", canonical
  EXPECT_EQ((*gpus)[0].node, "n1");
  EXPECT_EQ((*gpus)[0].index, 2);
  std::vector<Sample> got;
  ASSERT_TRUE((*ledger)
                  ->ScanSamples("GPU-s", {kMinTimeMs, kMaxTimeMs}, [&](const Sample& x) { got.push_back(x); })
                  .ok());
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FLOAT_EQ(got[0].util_pct, 90);
  EXPECT_FLOAT_EQ(got[0].mem_mib, 7270);
}

// A refused import stores nothing: not the GPUs it would have registered, and, into a
// path that held no ledger, not even the file. (The scrape's GPUs and samples are also one
// ledger transaction; that a unit refused after its first write leaves nothing is
// LedgerContract.AUnitOfWorkStoresAllOrNothing.)
TEST(Cli, ARefusedImportLeavesNothingBehind) {
  testing::TempDir dir;
  const std::string scrape = dir.File("bad.prom",
                                      "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-b\",Hostname=\"n1\","
                                      "modelName=\"A10G\"} 150\n");
  const std::string fresh = dir.path() + "/fresh.db";
  CliRun r = Cli({"import", "scrape", "--db", fresh, "--at", "2026-10-01T00:00:00Z", "--register-gpus", scrape});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("150"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(fresh)) << "a refused import created a ledger";
  // Into an existing ledger: the GPU the scrape would register is not there.
  const std::string db = dir.path() + "/l.db";
  ASSERT_EQ(Cli({"init", "--db", db}).code, 0);
  r = Cli({"import", "scrape", "--db", db, "--at", "2026-10-01T00:00:00Z", "--register-gpus", scrape});
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(std::filesystem::exists(db));
  auto ledger = OpenSqliteLedger(db);
  ASSERT_TRUE(ledger.ok());
  EXPECT_TRUE((*ledger)->ListGpus()->empty());
}

TEST(Cli, UsageErrorsExitTwo) {
  EXPECT_EQ(Cli({"report", "--month", "2026-10"}).code, 2);  // no --db
  EXPECT_EQ(Cli({"frobnicate"}).code, 2);
  testing::TempDir dir;
  CliRun r = Cli({"init", "--db", dir.path() + "/x.db", "--currency", "XYZ"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("unknown currency 'XYZ'"), std::string::npos) << r.err;
  // A read command never creates a ledger: the failed init left none, and report says so.
  r = Cli({"report", "--db", dir.path() + "/x.db", "--month", "2026-10"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no ledger at '" + dir.path() + "/x.db'"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir.path() + "/x.db"));
  ASSERT_EQ(Cli({"init", "--db", dir.path() + "/y.db"}).code, 0);
  r = Cli({"report", "--db", dir.path() + "/y.db", "--month", "2026-13"});
  EXPECT_NE(r.err.find("month '2026-13' is not YYYY-MM"), std::string::npos) << r.err;
}

TEST(Cli, HelpListsSubcommands) {
  CliRun r = Cli({"--help"});
  EXPECT_EQ(r.code, 0);
  for (const char* sub : {"init", "import", "report", "jobs", "export", "job", "leaderboard", "demo"}) {
    EXPECT_NE(r.out.find(sub), std::string::npos) << sub;
  }
}

}  // namespace
}  // namespace gpuledger
