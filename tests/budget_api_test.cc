// /api/v1/budgets by role: admin sets any budget; a dept_admin its department and the
// projects whose jobs are in it; finance reads all; a user reads its project's; every
// answer carries month-to-date cost, share and as_of; refusals store nothing; calls are
// audited.
#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>

#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

constexpr TimeMs kDec1 = 1796083200000;  // 2026-12-01T00:00:00Z (the ledger's zone is UTC here)

class BudgetApi : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(dir_.path() + "/l.db");
    ASSERT_TRUE(l.ok());
    Ledger& ledger = **l;
    LedgerSettings s;
    s.timezone = "UTC";
    ASSERT_TRUE(ledger.SetSettings(s).ok());
    ASSERT_TRUE(ledger.PutPrices({{"A10G", kDec1 - kDayMs, 10'000'000, 0, "CNY"}}).ok());
    Gpu g;
    g.uuid = "GPU-a";
    g.node = "n1";
    g.model = "A10G";
    g.in_service_from = kDec1 - kDayMs;
    Gpu g2 = g;
    g2.uuid = "GPU-b";
    ASSERT_TRUE(ledger.PutGpus({g, g2}).ok());
    ASSERT_TRUE(ledger.PutJobs({Running("j1", "det", "retail"), Running("j2", "lidar", "autonomy")}).ok());
    ASSERT_TRUE(
        ledger.PutAllocations({{"j1", "GPU-a", kDec1, 0, kFullShare}, {"j2", "GPU-b", kDec1, 0, kFullShare}}).ok());
    auto token = [&](Role r, const std::string& project, const std::string& dept) {
      auto t = MakeToken(r, project, dept, kDec1);
      EXPECT_TRUE(t.ok() && ledger.PutToken(t->record).ok());
      return t->secret;
    };
    admin_ = token(Role::kAdmin, "", "");
    retail_ = token(Role::kDeptAdmin, "", "retail");
    finance_ = token(Role::kFinance, "", "");
    user_ = token(Role::kUser, "det", "");
    ingest_ = token(Role::kIngest, "", "");
    clock_.Set(kDec1 + 10 * kHourMs);
    ServerOptions o;
    o.port = 0;
    o.journal_dir.clear();
    server_ = std::make_unique<Server>(std::move(l).value(), clock_, std::move(o));
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  static Job Running(const std::string& id, const std::string& project, const std::string& dept) {
    Job j;
    j.id = id;
    j.user = "alice";
    j.project = project;
    j.department = dept;
    j.status = JobStatus::kRunning;
    j.start_ms = kDec1;
    return j;
  }
  httplib::Headers As(const std::string& secret) { return {{"Authorization", "Bearer " + secret}}; }
  httplib::Result Put(const std::string& who, const std::string& body) {
    return client_->Put("/api/v1/budgets", As(who), body, "application/json");
  }
  nlohmann::json Get(const std::string& who) {
    auto r = client_->Get("/api/v1/budgets", As(who));
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 200) << r->body;
    return nlohmann::json::parse(r->body);
  }
  // One utilisation sample of GPU-a by remote write: the flush runs the budget watch.
  int WriteSample(TimeMs t) {
    const RwLabels labels = {{"Hostname", "n1"}, {"UUID", "GPU-a"}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                             {"gpu", "0"}, {"modelName", "A10G"}};
    std::string body;
    const std::string raw = RwRequestV1({RwSeriesV1(labels, {{90.0, t}})});
    snappy::Compress(raw.data(), raw.size(), &body);
    httplib::Headers h = As(ingest_);
    h.emplace("Content-Encoding", "snappy");
    auto r = client_->Post("/api/v1/write", h, body, "application/x-protobuf;proto=prometheus.WriteRequest");
    return r ? r->status : -1;
  }
  std::vector<std::string> Names(const nlohmann::json& view) {
    std::vector<std::string> out;
    for (const auto& b : view["budgets"]) out.push_back(b["scope"].get<std::string>() + ":" + b["name"].get<std::string>());
    return out;
  }

  testing::TempDir dir_;
  SimulatedClock clock_{kDec1};
  std::string admin_, retail_, finance_, user_, ingest_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(BudgetApi, AnAnswerCarriesMonthToDateShareProjectionAndAsOf) {
  auto r = Put(admin_, R"({"scope": "project", "name": "det", "amount": "125.00"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const nlohmann::json j = nlohmann::json::parse(r->body);
  EXPECT_EQ(j["as_of"], "2026-12-01T10:00:00Z");
  EXPECT_EQ(j["month"], "2026-12");
  ASSERT_EQ(j["budgets"].size(), 1U);
  const nlohmann::json& b = j["budgets"][0];
  EXPECT_EQ(b["month"], "every");
  EXPECT_EQ(b["month_to_date"], "100.00");  // 10 h x 10 CNY
  EXPECT_DOUBLE_EQ(b["share"].get<double>(), 0.8);
  EXPECT_TRUE(b["reached_80"].get<bool>());
  EXPECT_TRUE(b["projected"].is_null());  // 10 hours is under a quarter of the month
}

TEST_F(BudgetApi, ADeptAdminSetsItsDepartmentAndItsProjectsOnly) {
  auto own = Put(retail_, R"({"scope": "department", "name": "retail", "amount": "500"})");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 200) << own->body;
  auto project = Put(retail_, R"({"scope": "project", "name": "det", "month": "2026-12", "amount": "300"})");
  ASSERT_TRUE(project);
  EXPECT_EQ(project->status, 200) << project->body;
  auto other = Put(retail_, R"({"scope": "project", "name": "lidar", "amount": "300"})");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  EXPECT_NE(other->body.find("project 'lidar' does not have all its jobs in department 'retail'"), std::string::npos) << other->body;
  auto dept = Put(retail_, R"({"scope": "department", "name": "autonomy", "amount": "300"})");
  ASSERT_TRUE(dept);
  EXPECT_EQ(dept->status, 403);
  auto finance = Put(finance_, R"({"scope": "department", "name": "retail", "amount": "1"})");
  ASSERT_TRUE(finance);
  EXPECT_EQ(finance->status, 403);
  // Nothing the refusals sent was stored: admin sees the two set.
  EXPECT_EQ(Names(Get(admin_)), (std::vector<std::string>{"project:det", "department:retail"}));
}

TEST_F(BudgetApi, ReadsAreScopedByRole) {
  for (const char* body : {R"({"scope": "project", "name": "det", "amount": "300"})",
                           R"({"scope": "project", "name": "lidar", "amount": "300"})",
                           R"({"scope": "department", "name": "retail", "amount": "900"})",
                           R"({"scope": "department", "name": "autonomy", "amount": "900"})"}) {
    auto r = Put(admin_, body);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
  }
  EXPECT_EQ(Names(Get(finance_)).size(), 4U);
  EXPECT_EQ(Names(Get(retail_)), (std::vector<std::string>{"project:det", "department:retail"}));
  EXPECT_EQ(Names(Get(user_)), (std::vector<std::string>{"project:det"}));
  auto ingest = client_->Get("/api/v1/budgets", As(ingest_));
  ASSERT_TRUE(ingest);
  EXPECT_EQ(ingest->status, 403);
}

TEST_F(BudgetApi, BadBodiesAndMissingBudgetsAreRefusedAndStoreNothing) {
  for (const char* body : {R"({"scope": "team", "name": "det", "amount": "1"})",
                           R"({"scope": "project", "name": "det", "amount": "1.001"})",
                           R"({"scope": "project", "name": "det", "amount": "0"})",
                           R"({"scope": "project", "name": "det", "amount": "1", "month": "2026-13"})",
                           R"({"scope": "project", "name": "det", "amount": "1", "currency": "USD"})",
                           R"({"scope": "project", "name": "det", "amount": "1", "colour": "red"})"}) {
    auto r = Put(admin_, body);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << body << " " << r->body;
  }
  EXPECT_TRUE(Get(admin_)["budgets"].empty());
  auto gone = client_->Delete("/api/v1/budgets?scope=project&name=det", As(admin_));
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  auto gate = client_->Put("/api/v1/budgets/gate", As(retail_), R"({"mode": "refuse"})", "application/json");
  ASSERT_TRUE(gate);
  EXPECT_EQ(gate->status, 403);
  EXPECT_EQ(Get(admin_)["gate"], "warn");
}

TEST_F(BudgetApi, ACrossedThresholdIsRecordedAndAuditedOnceWithoutNotifications) {
  // No --notify: nobody is told, but the alert is on record, in each reader's scope.
  auto r = Put(admin_, R"({"scope": "project", "name": "det", "amount": "125.00"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(Get(admin_)["alerts"].empty());  // the watch runs at ingest, not on a budget's PUT
  ASSERT_EQ(WriteSample(kDec1 + 10 * kHourMs - kMinuteMs), 204);
  clock_.Advance(kMinuteMs);
  ASSERT_EQ(WriteSample(kDec1 + 10 * kHourMs), 204);  // evaluated again: the same cause
  const nlohmann::json view = Get(user_);
  ASSERT_EQ(view["alerts"].size(), 1U) << view.dump();
  const nlohmann::json& a = view["alerts"][0];
  EXPECT_EQ(a["cause_key"], "budget/project/det/2026-12/80");
  EXPECT_EQ(a["event"], "budget.80");
  EXPECT_EQ(a["name"], "det");
  EXPECT_EQ(a["data"]["month_to_date"], "100.00 CNY");
  EXPECT_EQ(a["data"]["budget"], "125.00 CNY");
  EXPECT_EQ(Get(retail_)["alerts"].size(), 1U);
  EXPECT_EQ(Get(finance_)["alerts"].size(), 1U);
  server_->Stop();
  auto l = OpenSqliteLedger(dir_.path() + "/l.db");
  ASSERT_TRUE(l.ok());
  auto audit = (*l)->ListAudit();
  ASSERT_TRUE(audit.ok());
  int alerts = 0;
  for (const AuditEntry& e : *audit) {
    if (e.action != "policy budget alert") continue;
    ++alerts;
    EXPECT_EQ(e.role, "policy");
    EXPECT_NE(e.detail.find("cause=budget/project/det/2026-12/80 event=budget.80 month_to_date=100.00 CNY budget=125.00 CNY"),
              std::string::npos)
        << e.detail;
  }
  EXPECT_EQ(alerts, 1);
}

TEST_F(BudgetApi, SetAndRemoveAreAudited) {
  auto r = Put(admin_, R"({"scope": "project", "name": "det", "amount": "300"})");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto d = client_->Delete("/api/v1/budgets?scope=project&name=det&month=every", As(admin_));
  ASSERT_TRUE(d);
  EXPECT_EQ(d->status, 200) << d->body;
  server_->Stop();
  auto l = OpenSqliteLedger(dir_.path() + "/l.db");
  ASSERT_TRUE(l.ok());
  auto audit = (*l)->ListAudit();
  ASSERT_TRUE(audit.ok());
  std::vector<std::string> details;
  for (const AuditEntry& e : *audit) {
    if (e.action == "PUT /api/v1/budgets" || e.action == "DELETE /api/v1/budgets") details.push_back(e.detail);
  }
  EXPECT_EQ(details, (std::vector<std::string>{"scope=project name=det month=every amount_minor=30000 currency=CNY",
                                               "scope=project name=det month=every"}));
}

}  // namespace
}  // namespace gpuledger
