// Must show (#13, budgets): a simulated month streamed through the server (remote write
// into the ingest journal, the journal flushed every simulated hour, as the writer does)
// crosses 80 % and then 100 % of a project's budget and of its department's: each alert is
// stored in the real outbox exactly once, at the first flush whose month-to-date cost
// reached it, with deliveries to finance, the department admin and (a project's) the
// project's channel, recorded once in the ledger's budget alerts, and none for a budget
// that is never reached. Then the submission gate, through the API: warn accepts
// with a warning naming the budget, refuse answers 409 naming it and stores nothing.
#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "server/auth.h"
#include "server/server.h"
#include "sim/simulator.h"
#include "submit/budget_books.h"

namespace gpuledger {
namespace {

constexpr YearMonth kMonth{2026, 12};

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

class BudgetAlerts : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tz = TimeZone::Load("Asia/Shanghai");
    ASSERT_TRUE(tz.ok());
    tz_ = *tz;
    SimOptions o;
    o.month = kMonth;
    o.a10g_nodes = 1;
    o.a100_nodes = 1;
    o.sample_interval_ms = 10 * kMinuteMs;
    auto c = SimulateCluster(o, tz_);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    for (Price& p : cluster_.prices)
      p.micros_per_kwh = 0;  // GPU time only: the cost of [start, t) is final at t
    auto w = tz_.MonthWindow(kMonth);
    ASSERT_TRUE(w.ok());
    month_ = *w;

    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    ASSERT_TRUE(l.ok());
    owned_ = std::move(l).value();
    ledger_ = owned_.get();
    LedgerSettings s;
    s.timezone = "Asia/Shanghai";
    s.default_interval_ms = 10 * kMinuteMs;
    s.default_max_gap_ms = 30 * kMinuteMs;
    ASSERT_TRUE(ledger_->SetSettings(s).ok());
    ASSERT_TRUE(ledger_->PutPrices(cluster_.prices).ok());
    ASSERT_TRUE(ledger_->PutGpus(cluster_.gpus).ok());
    ASSERT_TRUE(ledger_->PutJobs(cluster_.jobs).ok());
    ASSERT_TRUE(ledger_->PutAllocations(cluster_.allocations).ok());
    auto ingest = MakeToken(Role::kIngest, "", "", month_.start);
    auto admin = MakeToken(Role::kAdmin, "", "", month_.start);
    ASSERT_TRUE(ledger_->PutToken(ingest->record).ok());
    ASSERT_TRUE(ledger_->PutToken(admin->record).ok());
    ingest_ = ingest->secret;
    admin_ = admin->secret;

    // The project that costs most in December, its department, and another department.
    auto ctx = LoadBooksContext(*ledger_);
    ASSERT_TRUE(ctx.ok());
    auto whole = MonthToDateCosts(*ledger_, *ctx, kMonth, month_.end);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    for (const auto& [p, c2] : whole->costs.by_project) {
      if (c2 > project_cost_) {
        project_ = p;
        project_cost_ = c2;
      }
    }
    department_ = whole->DepartmentOf(project_);
    for (const auto& [d, c2] : whole->costs.by_department) {
      if (d != department_) other_department_ = d;
    }
    ASSERT_GT(project_cost_, 0);
    ASSERT_FALSE(other_department_.empty());
    // 100 % at 80 % of the project's December cost (about the 25th), 80 % at 64 %.
    BudgetRecord b;
    b.scope = BudgetScope::kProject;
    b.name = project_;
    b.month = kMonth;
    b.amount_minor = project_cost_ * 8 / 10 / 10'000;  // fen
    b.currency = "CNY";
    b.set_by = "test";
    ASSERT_TRUE(ledger_->PutBudget(b).ok());
    budget_micros_ = b.amount_minor * 10'000;
    // The project's department: 100 % at 95 % of its December cost, near the month's end.
    BudgetRecord own = b;
    own.scope = BudgetScope::kDepartment;
    own.name = department_;
    own.amount_minor = whole->costs.Of(BudgetScope::kDepartment, department_) * 95 / 100 / 10'000;
    ASSERT_TRUE(ledger_->PutBudget(own).ok());
    dept_budget_micros_ = own.amount_minor * 10'000;
    // Never reached: twice the department's month.
    BudgetRecord d;
    d.scope = BudgetScope::kDepartment;
    d.name = other_department_;
    d.amount_minor = whole->costs.Of(BudgetScope::kDepartment, other_department_) * 2 / 10'000 + 1;
    d.currency = "CNY";
    d.set_by = "test";
    ASSERT_TRUE(ledger_->PutBudget(d).ok());

    const std::string notify = dir_.path() + "/notify.json";
    std::ofstream(notify) << R"({"channels": {
        "fin": {"type": "webhook", "url": "http://127.0.0.1:9/fin"},
        "dept": {"type": "webhook", "url": "http://127.0.0.1:9/dept"},
        "other-dept": {"type": "webhook", "url": "http://127.0.0.1:9/other"},
        "proj": {"type": "webhook", "url": "http://127.0.0.1:9/proj"},
        "ops": {"type": "webhook", "url": "http://127.0.0.1:9/ops"}},
      "audiences": {"finance": ["fin"],
        "dept_admin": {"departments": {")"
                          << department_ << R"(": ["dept"], ")" << other_department_
                          << R"(": ["other-dept"]}},
        "project_channel": {"default": ["ops"], "projects": {")"
                          << project_ << R"(": ["proj"]}}}})";
    ServerOptions so;
    so.port = 0;
    so.journal_dir = dir_.path() + "/journal";
    so.journal_flush_interval_ms = 24 * kHourMs;  // the test flushes, once a simulated hour
    so.notify_config = notify;
    so.raw_retention_ms = 0;
    clock_.Set(month_.start);
    server_ = std::make_unique<Server>(std::move(owned_), clock_, std::move(so));
    ASSERT_TRUE(server_->Start().ok());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // Every GPU's samples in [from, to), in one remote-write request.
  void Stream(TimeMs from, TimeMs to) {
    std::vector<std::string> series;
    for (size_t i = 0; i < cluster_.gpus.size(); ++i) {
      RwPoints points;
      for (const Sample& s : samples_[i]) {
        if (s.t >= from && s.t < to) points.emplace_back(s.util_pct, s.t);
      }
      if (points.empty()) continue;
      const Gpu& g = cluster_.gpus[i];
      series.push_back(RwSeriesV1(
          {{"UUID", g.uuid}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"}, {"modelName", g.model}}, points));
    }
    if (series.empty()) return;
    httplib::Client client("127.0.0.1", server_->port());
    auto res =
        client.Post("/api/v1/write", {{"Authorization", "Bearer " + ingest_}, {"Content-Encoding", "snappy"}},
                    Snappy(RwRequestV1(series)), "application/x-protobuf");
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 204) << res->body;
  }

  testing::TempDir dir_;
  TimeZone tz_ = TimeZone::Utc();
  SimCluster cluster_;
  std::vector<std::vector<Sample>> samples_;
  Window month_;
  Ledger* ledger_ = nullptr;
  std::unique_ptr<Ledger> owned_;
  std::string ingest_, admin_;
  std::string project_, department_, other_department_;
  int64_t project_cost_ = 0;
  int64_t budget_micros_ = 0;
  int64_t dept_budget_micros_ = 0;
  SimulatedClock clock_{0};
  std::unique_ptr<Server> server_;
};

TEST_F(BudgetAlerts, ASimulatedMonthSendsEachAlertOnceAtTheFirstFlushPastItToTheRightChannels) {
  samples_.resize(cluster_.gpus.size());
  for (size_t i = 0; i < cluster_.gpus.size(); ++i) samples_[i] = SimulateSamples(cluster_, i);
  std::vector<TimeMs> flushes;
  for (TimeMs t = month_.start; t < month_.end; t += 2 * kHourMs) {
    const TimeMs next = std::min(t + 2 * kHourMs, month_.end);
    clock_.Set(next);
    Stream(t, next);
    ASSERT_TRUE(server_->FlushJournal().ok());
    flushes.push_back(next);
    // Every flush evaluates again; the outbox keeps one notice per cause.
  }
  server_->Stop();
  auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
  ASSERT_TRUE(l.ok());
  Ledger& ledger = **l;
  auto all = ledger.ListDeliveries("");
  ASSERT_TRUE(all.ok());
  std::map<std::string, std::set<std::string>> channels;  // cause key -> channels
  for (const OutboxDelivery& d : *all) {
    EXPECT_TRUE(channels[d.cause_key].insert(d.channel).second)
        << "twice: " << d.cause_key << " " << d.channel;
  }
  const std::string base = "budget/project/" + project_ + "/2026-12/";
  const std::set<std::string> audience = {"fin", "dept", "proj"};
  EXPECT_EQ(channels[base + "80"], audience);
  EXPECT_EQ(channels[base + "100"], audience);
  // The department's budget: to finance and its admin, no project channel.
  const std::string dept_base = "budget/department/" + department_ + "/2026-12/";
  EXPECT_EQ(channels[dept_base + "80"], (std::set<std::string>{"fin", "dept"}));
  EXPECT_EQ(channels[dept_base + "100"], (std::set<std::string>{"fin", "dept"}));
  for (const auto& [key, chans] : channels) {
    EXPECT_TRUE(key.rfind(base, 0) == 0 || key.rfind(dept_base, 0) == 0)
        << "unexpected notice " << key;  // none for the other department
  }
  // Each alert is on record once, whether or not it was sent: the same causes.
  auto alerts = ledger.ListBudgetAlerts(kMonth);
  ASSERT_TRUE(alerts.ok());
  std::set<std::string> recorded;
  for (const BudgetAlertRow& a : *alerts) EXPECT_TRUE(recorded.insert(a.cause_key).second) << a.cause_key;
  std::set<std::string> sent;
  for (const auto& [key, chans] : channels) sent.insert(key);
  EXPECT_EQ(recorded, sent);
  // At the right time: the alert's instant is the first flush whose month-to-date cost
  // (read afresh from the final books) reached the threshold.
  auto ctx = LoadBooksContext(ledger);
  ASSERT_TRUE(ctx.ok());
  auto mtd_of = [&](BudgetScope scope, const std::string& name, TimeMs t) {
    auto m = MonthToDateCosts(ledger, *ctx, kMonth, t);
    EXPECT_TRUE(m.ok());
    return m.ok() ? m->costs.Of(scope, name) : -1;
  };
  auto mtd_at = [&](TimeMs t) { return mtd_of(BudgetScope::kProject, project_, t); };
  // Month-to-date cost never falls as the instant moves on, so the first flush at or over
  // a threshold is found by bisection (each probe meters the month up to that flush).
  auto first_flush_at_or_over = [&](int64_t threshold) -> TimeMs {
    auto it =
        std::partition_point(flushes.begin(), flushes.end(), [&](TimeMs f) { return mtd_at(f) < threshold; });
    return it == flushes.end() ? 0 : *it;
  };
  // The notices' at_ms, from the deliveries' created_ms (the clock at the flush).
  auto created = [&](const std::string& key) -> TimeMs {
    for (const OutboxDelivery& d : *all) {
      if (d.cause_key == key) return d.created_ms;
    }
    return 0;
  };
  const TimeMs at80 = first_flush_at_or_over((budget_micros_ * 4 + 4) / 5);
  const TimeMs at100 = first_flush_at_or_over(budget_micros_);
  ASSERT_NE(at80, 0);
  ASSERT_NE(at100, 0);
  EXPECT_LT(at80, at100);
  EXPECT_EQ(created(base + "80"), at80) << FormatTime(created(base + "80")) << " vs " << FormatTime(at80);
  EXPECT_EQ(created(base + "100"), at100) << FormatTime(created(base + "100")) << " vs " << FormatTime(at100);
  // The budget was set at 80 % of the month: the 100 % alert comes before the month ends.
  EXPECT_LT(at100, month_.end - kDayMs);
  auto dept_first_at_or_over = [&](int64_t threshold) -> TimeMs {
    auto it = std::partition_point(flushes.begin(), flushes.end(), [&](TimeMs f) {
      return mtd_of(BudgetScope::kDepartment, department_, f) < threshold;
    });
    return it == flushes.end() ? 0 : *it;
  };
  EXPECT_EQ(created(dept_base + "80"), dept_first_at_or_over((dept_budget_micros_ * 4 + 4) / 5));
  EXPECT_EQ(created(dept_base + "100"), dept_first_at_or_over(dept_budget_micros_));
  // Projected overrun, if it was sent, was sent once, before the budget was reached.
  if (channels.count(base + "projected") != 0) {  // the project's
    EXPECT_EQ(channels[base + "projected"], audience);
    EXPECT_LT(created(base + "projected"), at100);
  }
}

TEST_F(BudgetAlerts, TheGateWarnsByDefaultAndRefusesOnceSetThroughTheApi) {
  // Four weeks in: the holds alone (billed whether sampled or not) took the project past
  // its budget.
  clock_.Set(month_.start + 28 * kDayMs);
  httplib::Client client("127.0.0.1", server_->port());
  const httplib::Headers admin = {{"Authorization", "Bearer " + admin_}};
  auto body = [&](const std::string& id) {
    return R"({"id": ")" + id + R"(", "user": "zhangsan", "project": ")" + project_ +
           R"(", "department": ")" + department_ +
           R"(", "model_type": "yolov8s", "image": "reg/yolo:train-yolov8-small-cu118",
              "gpu_request": "1xA10G", "epochs": 50, "dataset": "coco", "dataset_images": 10000, "imgsz": 640,
              "duration_limit": "24h"})";
  };
  auto list = client.Get("/api/v1/budgets", admin);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->status, 200) << list->body;
  const nlohmann::json view = nlohmann::json::parse(list->body);
  EXPECT_EQ(view["gate"], "warn");
  EXPECT_EQ(view["month"], "2026-12");
  ASSERT_EQ(view["budgets"].size(), 3U);  // the project's, its department's, another department's
  EXPECT_EQ(view["budgets"][0]["name"], project_);
  EXPECT_TRUE(view["budgets"][0]["reached_100"].get<bool>());
  EXPECT_GE(view["budgets"][0]["share"].get<double>(), 1.0);

  auto warned = client.Post("/api/v1/submissions", admin, body("sub-warned"), "application/json");
  ASSERT_TRUE(warned);
  ASSERT_EQ(warned->status, 201) << warned->body;
  const nlohmann::json w = nlohmann::json::parse(warned->body);
  ASSERT_FALSE(w["warnings"].empty());
  const std::string warning = w["warnings"].back();
  EXPECT_NE(warning.find("the project budget of '" + project_ + "' for 2026-12 is "), std::string::npos)
      << warning;
  EXPECT_NE(warning.find("the budget gate warns"), std::string::npos) << warning;

  auto gate = client.Put("/api/v1/budgets/gate", admin, R"({"mode": "refuse"})", "application/json");
  ASSERT_TRUE(gate);
  ASSERT_EQ(gate->status, 200) << gate->body;
  auto refused = client.Post("/api/v1/submissions", admin, body("sub-refused"), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 409) << refused->body;
  const std::string msg = nlohmann::json::parse(refused->body)["message"];
  EXPECT_NE(msg.find("budget reached: the project budget of '" + project_ + "' for 2026-12 is " +
                     FormatMicros(budget_micros_, 2) + " CNY; its month-to-date cost is "),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("nothing registered"), std::string::npos);
  server_->Stop();
  auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
  ASSERT_TRUE(l.ok());
  EXPECT_TRUE((*l)->GetJob("sub-warned")->has_value());
  EXPECT_FALSE((*l)->GetJob("sub-refused")->has_value());
  EXPECT_FALSE((*l)->GetEstimate("sub-refused")->has_value());
}

}  // namespace
}  // namespace gpuledger
