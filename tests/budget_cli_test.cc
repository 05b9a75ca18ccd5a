// gpuledger budget set|list|rm|gate on a real SQLite file: the list shows month-to-date
// cost, share and projection from the books; refusals name what was wrong and store
// nothing; every write is in the audit log.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/test_util.h"
#include "ledger/ledger.h"

namespace gpuledger {
namespace {

// 2026-11-15T12:00:00Z: 14 days 20 hours (356 h) into November in Asia/Shanghai.
const SimulatedClock kClock(1794744000000);

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "gpuledger");
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  const int code = RunCli(static_cast<int>(argv.size()), argv.data(), kClock, out, err);
  return {code, out.str(), err.str()};
}

class BudgetCli : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() + "/books.db";
    Ok({"init", "--db", db_, "--currency", "CNY", "--timezone", "Asia/Shanghai"});
    Import("prices",
           "gpu_model,effective_from,price_per_gpu_hour,price_per_kwh,currency\nA10G,2026-01-01T00:00:00Z,3.5,,CNY\n");
    Import("gpus",
           "uuid,node,index,model,memory_mib,in_service_from\nGPU-a,node-1,0,A10G,23028,2026-09-01T00:00:00+08:00\n");
    Import("jobs",
           "id,user,project,department,model_type,image,framework,gpu_request,start,end\n"
           "n1,zhangsan,defect-detection-line3,manufacturing,yolov8s,reg/yolo:train-yolov8-medium-cu118,"
           "ultralytics==8.0.200,1xA10G,2026-11-01T00:00:00+08:00,2026-11-11T00:00:00+08:00\n");
    // 240 hours x 3.50 = 840.00 CNY in November.
    Import("allocations",
           "job_id,gpu_uuid,start,end,share\nn1,GPU-a,2026-11-01T00:00:00+08:00,2026-11-11T00:00:00+08:00,1\n");
  }
  void Ok(const std::vector<std::string>& args) {
    CliRun r = Cli(args);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  void Import(const std::string& kind, const std::string& csv) {
    Ok({"import", kind, "--db", db_, dir_.File(kind + ".csv", csv)});
  }
  nlohmann::json List() {
    CliRun r = Cli({"budget", "list", "--db", db_, "--format", "json"});
    EXPECT_EQ(r.code, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  testing::TempDir dir_;
  std::string db_;
};

TEST_F(BudgetCli, SetListAndRemoveWithTheBooksFigures) {
  Ok({"budget", "set", "--db", db_, "--project", "defect-detection-line3", "--amount", "1000"});
  Ok({"budget", "set", "--db", db_, "--department", "manufacturing", "--amount", "5000.50", "--month", "2026-12"});
  nlohmann::json j = List();
  EXPECT_EQ(j["month"], "2026-11");
  EXPECT_EQ(j["gate"], "warn");
  ASSERT_EQ(j["budgets"].size(), 2U);
  const nlohmann::json& p = j["budgets"][0];
  EXPECT_EQ(p["scope"], "project");
  EXPECT_EQ(p["amount"], "1000.00");
  EXPECT_EQ(p["month_to_date"], "840.00");
  EXPECT_DOUBLE_EQ(p["share"].get<double>(), 0.84);
  // 840 over 356 of the month's 720 hours: 1698.88 for the month.
  EXPECT_EQ(p["projected"], "1698.88");
  EXPECT_FALSE(j["budgets"][1]["in_force"].get<bool>());  // December's
  CliRun table = Cli({"budget", "list", "--db", db_});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_NE(table.out.find("84.0%"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("(not in force)"), std::string::npos) << table.out;

  Ok({"budget", "rm", "--db", db_, "--project", "defect-detection-line3"});
  CliRun again = Cli({"budget", "rm", "--db", db_, "--project", "defect-detection-line3"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("no project budget of 'defect-detection-line3' for every month"), std::string::npos)
      << again.err;
  Ok({"budget", "gate", "--db", db_, "refuse"});
  EXPECT_EQ(List()["gate"], "refuse");
  auto ledger = OpenLedger(db_);
  ASSERT_TRUE(ledger.ok());
  auto audit = (*ledger)->ListAudit();
  ASSERT_TRUE(audit.ok());
  std::vector<std::string> actions;
  for (const AuditEntry& e : *audit) actions.push_back(e.action);
  EXPECT_EQ(actions, (std::vector<std::string>{"budget set", "budget set", "budget rm", "budget gate"}));
}

TEST_F(BudgetCli, RefusalsNameTheProblemAndStoreNothing) {
  CliRun both = Cli({"budget", "set", "--db", db_, "--project", "a", "--department", "b", "--amount", "1"});
  EXPECT_EQ(both.code, 1);
  EXPECT_NE(both.err.find("name one scope"), std::string::npos) << both.err;
  CliRun fen = Cli({"budget", "set", "--db", db_, "--project", "a", "--amount", "1.005"});
  EXPECT_EQ(fen.code, 1);
  EXPECT_NE(fen.err.find("CNY has 2 decimals"), std::string::npos) << fen.err;
  CliRun zero = Cli({"budget", "set", "--db", db_, "--project", "a", "--amount", "0"});
  EXPECT_EQ(zero.code, 1);
  EXPECT_NE(zero.err.find("above zero"), std::string::npos) << zero.err;
  EXPECT_TRUE(List()["budgets"].empty());
}

}  // namespace
}  // namespace gpuledger
