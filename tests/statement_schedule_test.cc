// Must show (#14, monthly statements on a schedule; docs/NOTIFICATIONS.md "Monthly
// statements"): a server with a statements schedule in its notify config, on a simulated
// clock over a simulated September and October, sends nothing a millisecond before the
// schedule's day and hour (in the ledger's time zone, Asia/Shanghai); from it, exactly
// one statement of last month per project with usage reaches the configured webhook
// channel (a real local HTTP peer), each carrying the figures BuildProjectStatement
// gives; a second round and a restart of the server on the same ledger send none again.
// Only the projects named get one when the schedule names them.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/money.h"
#include "common/test_util.h"
#include "notify/test_peer.h"
#include "report/statement.h"
#include "server/server.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

constexpr YearMonth kMonth{2026, 10};
// 2 November 09:00 in Shanghai: October's statements are due.
constexpr TimeMs kSendAt = 1793581200000;           // 2026-11-02T01:00:00Z
constexpr TimeMs kSeptemberSendAt = 1790902800000;  // 2026-10-02T01:00:00Z: September's

class StatementSchedule : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() + "/sim.db";
    SimOptions o;
    o.month = kMonth;
    o.sample_interval_ms = 10 * kMinuteMs;
    o.a10g_nodes = 1;
    o.a100_nodes = 1;
    auto sim = testing::LoadSimulationCached(db_, o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    sim->ledger.reset();
    ASSERT_EQ(FormatTime(kSendAt), "2026-11-02T01:00:00Z");
    ASSERT_EQ(FormatTime(kSeptemberSendAt), "2026-10-02T01:00:00Z");
  }

  std::unique_ptr<Server> Make(const std::string& statements) {
    const std::string file = dir_.path() + "/notify.json";
    std::ofstream(file) << R"({"channels": {"books": {"type": "webhook", "url": ")" + peer_.base() +
                               R"(/books", "secret": "s3"}},
            "statements": )" + statements +
                               "}";
    auto l = OpenSqliteLedger(db_);
    EXPECT_TRUE(l.ok());
    ServerOptions so;
    so.port = 0;
    so.journal_dir = "";
    so.raw_retention_ms = 0;
    so.notify_config = file;
    return std::make_unique<Server>(std::move(l).value(), clock_, std::move(so));
  }

  // What the books say of each project with usage in `month`, as `gpuledger statement`.
  std::map<std::string, ProjectStatement> Expected(YearMonth month, TimeMs as_of) {
    std::map<std::string, ProjectStatement> out;
    auto l = OpenSqliteLedger(db_);
    EXPECT_TRUE(l.ok());
    auto ctx = LoadBooksContext(**l);
    EXPECT_TRUE(ctx.ok());
    auto cluster = BuildMonthlyReport(**l, *ctx, month, as_of, GroupBy::kProject, false);
    EXPECT_TRUE(cluster.ok()) << cluster.status().ToString();
    for (const ReportLine& line : cluster->lines) {
      if (line.total_micros() <= 0 && line.usage.gpu_ns == 0) continue;
      auto st = BuildProjectStatement(**l, *ctx, month, as_of, line.key);
      EXPECT_TRUE(st.ok()) << st.status().ToString();
      out.emplace(line.key, *st);
    }
    return out;
  }

  size_t AuditedStatements() {
    auto l = OpenSqliteLedger(db_);
    EXPECT_TRUE(l.ok());
    auto audit = (*l)->ListAudit();
    EXPECT_TRUE(audit.ok());
    size_t n = 0;
    for (const AuditEntry& e : *audit) n += e.action == "statement sent";
    return n;
  }

  testing::TempDir dir_;
  std::string db_;
  testing::HttpPeer peer_;
  SimulatedClock clock_{kSendAt};
};

TEST_F(StatementSchedule, OnePerProjectAfterTheHourNoneBeforeAndNoneAgainAfterARestart) {
  // The simulated cluster runs over September and October.
  const std::map<std::string, ProjectStatement> september = Expected({2026, 9}, kSeptemberSendAt);
  const std::map<std::string, ProjectStatement> expected = Expected(kMonth, kSendAt);
  ASSERT_GE(september.size(), 1u);
  ASSERT_GE(expected.size(), 3u);
  const std::string schedule = R"({"projects": "all", "channels": ["books"], "day": 2, "hour": 9})";
  auto deliveries = [&]() {
    auto l = OpenSqliteLedger(db_);
    EXPECT_TRUE(l.ok());
    auto d = (*l)->ListDeliveries("");
    EXPECT_TRUE(d.ok());
    return d.ok() ? *d : std::vector<OutboxDelivery>();
  };
  // A millisecond before 2 October 09:00 in Shanghai: August's are the latest due, and
  // August has no usage.
  clock_.Set(kSeptemberSendAt - 1);
  auto server = Make(schedule);
  ASSERT_TRUE(server->Start().ok());
  ASSERT_TRUE(server->SendStatementsIfDue().ok());
  EXPECT_TRUE(deliveries().empty());
  // At 09:00: September's, one per project.
  clock_.Set(kSeptemberSendAt);
  ASSERT_TRUE(server->SendStatementsIfDue().ok());
  EXPECT_EQ(deliveries().size(), september.size());
  // A millisecond before 2 November 09:00: nothing more; at 09:00 October's.
  clock_.Set(kSendAt - 1);
  ASSERT_TRUE(server->SendStatementsIfDue().ok());
  EXPECT_EQ(deliveries().size(), september.size());
  clock_.Set(kSendAt);
  ASSERT_TRUE(server->SendStatementsIfDue().ok());
  ASSERT_TRUE(server->SendStatementsIfDue().ok());  // a second round in the same month: nothing
  const size_t total = september.size() + expected.size();
  peer_.WaitFor(total);
  server->Stop();
  {
    const std::vector<OutboxDelivery> d = deliveries();
    ASSERT_EQ(d.size(), total);
    for (const OutboxDelivery& x : d)
      EXPECT_EQ(x.state, DeliveryState::kSent) << x.cause_key << " " << x.last_error;
  }

  // Restarted on the same ledger, a day later: nothing is sent again.
  clock_.Set(kSendAt + kDayMs);
  server = Make(schedule);
  ASSERT_TRUE(server->Start().ok());
  ASSERT_TRUE(server->SendStatementsIfDue().ok());
  server->Stop();
  EXPECT_EQ(peer_.count(), total);
  EXPECT_EQ(deliveries().size(), total);
  EXPECT_EQ(AuditedStatements(), total);

  std::vector<testing::SeenRequest> october;
  for (const testing::SeenRequest& r : peer_.seen()) {
    const auto body = nlohmann::json::parse(r.body);
    if (body["fields"]["month"] == "2026-09") {
      EXPECT_TRUE(september.count(body["project"].get<std::string>())) << body["project"];
      EXPECT_EQ(body["fields"]["cost"], FormatMicros(september.at(body["project"]).cost_micros,
                                                     september.begin()->second.currency.minor_digits));
    } else {
      october.push_back(r);
    }
  }
  ASSERT_EQ(october.size(), expected.size());
  std::set<std::string> seen_projects, seen_ids;
  for (const testing::SeenRequest& r : october) {
    EXPECT_EQ(r.path, "/books");
    seen_ids.insert(r.headers.find("X-Gpuledger-Delivery")->second);
    const auto body = nlohmann::json::parse(r.body);
    EXPECT_EQ(body["event"], "statement.monthly");
    const std::string project = body["project"];
    seen_projects.insert(project);
    ASSERT_TRUE(expected.count(project)) << project;
    const ProjectStatement& want = expected.at(project);
    const int digits = want.currency.minor_digits;
    EXPECT_EQ(body["cause_key"], "statement/" + project + "/2026-10");
    EXPECT_EQ(body["fields"]["cost"], FormatMicros(want.cost_micros, digits)) << project;
    EXPECT_EQ(body["fields"]["jobs"], std::to_string(want.jobs)) << project;
    EXPECT_EQ(body["fields"]["rank"], std::to_string(want.rank) + " of " + std::to_string(want.projects));
    // The statement as the CLI and the API give it, whole (few users here).
    const auto st = nlohmann::json::parse(body["fields"]["statement_json"].get<std::string>());
    EXPECT_EQ(st, nlohmann::json::parse(RenderStatementJson(want))) << project;
    int64_t users_micros = 0;
    for (const auto& u : st["users"]) {
      auto m = ParseMicros(u["cost"].get<std::string>(), "cost");
      ASSERT_TRUE(m.ok());
      users_micros += *m;
    }
    EXPECT_EQ(users_micros, want.cost_micros) << project;
    // People read the table.
    EXPECT_NE(body["text"].get<std::string>().find("Statement 2026-10: project " + project),
              std::string::npos)
        << body["text"];
  }
  EXPECT_EQ(seen_projects.size(), expected.size());
  EXPECT_EQ(seen_ids.size(), expected.size());
}

TEST_F(StatementSchedule, OnlyTheProjectsNamedGetOneAndAProjectWithoutUsageNone) {
  const std::map<std::string, ProjectStatement> expected = Expected(kMonth, kSendAt);
  ASSERT_GE(expected.size(), 2u);
  const std::string named = expected.begin()->first;
  clock_.Set(kSendAt + kHourMs);
  auto server = Make(R"({"projects": [")" + named +
                     R"(", "no-such-project"], "channels": ["books"], "day": 2, "hour": 9})");
  ASSERT_TRUE(server->Start().ok());
  ASSERT_TRUE(server->SendStatementsIfDue().ok());
  peer_.WaitFor(1);
  server->Stop();
  ASSERT_EQ(peer_.count(), 1u);
  const auto body = nlohmann::json::parse(peer_.seen()[0].body);
  EXPECT_EQ(body["project"], named);
  EXPECT_EQ(body["fields"]["cost"],
            FormatMicros(expected.at(named).cost_micros, expected.at(named).currency.minor_digits));
}

}  // namespace
}  // namespace gpuledger
