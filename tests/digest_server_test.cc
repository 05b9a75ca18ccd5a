// The low-efficiency digest through the server (#13, docs/POLICIES.md "Low efficiency
// digest"): POST /api/v1/policy/digest on a simulated month names the users under the
// density bound with their worst jobs, records one notice per user in the real outbox,
// audits each user told once, and a second run of the same period (as after a restart)
// tells and audits nobody again. A dry run tells nobody; only admins run it.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/cli.h"
#include "common/test_util.h"
#include "server/auth.h"
#include "server/server.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

constexpr TimeMs kAt = 1792454400000;  // 2026-10-20T00:00:00Z: the week before is Mon 12 to Mon 19

TEST(DigestServer, ARunTellsEachUserOnceAndASecondRunNobody) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/sim.db";
  SimOptions o;
  o.month = {2026, 10};
  o.sample_interval_ms = 10 * kMinuteMs;
  o.a10g_nodes = 1;
  o.a100_nodes = 1;
  auto sim = testing::LoadSimulation(db, o, "UTC");
  ASSERT_TRUE(sim.ok()) << sim.status().ToString();
  auto admin = MakeToken(Role::kAdmin, "", "", kAt);
  auto user = MakeToken(Role::kUser, "shelf-monitoring", "", kAt);
  ASSERT_TRUE(sim->ledger->PutToken(admin->record).ok());
  ASSERT_TRUE(sim->ledger->PutToken(user->record).ok());
  // Everyone with GPU time is under a density bound of 100 %: every user is named.
  const std::string rules_json =
      R"({"rules": {"digest": {"enabled": true, "max_density_pct": 100, "min_gpu_hours": 0, "worst_jobs": 2}}})";
  std::ofstream(dir.path() + "/policy.json") << rules_json;
  auto rules = ParsePolicyRulesJson(rules_json);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  std::ofstream(dir.path() + "/notify.json")
      << R"({"channels": {"ops": {"type": "webhook", "url": "http://127.0.0.1:9/ops"}},
             "audiences": {"project_channel": {"default": ["ops"]}}})";
  SimulatedClock clock(kAt);
  ServerOptions so;
  so.port = 0;
  so.journal_dir = "";
  so.policy_rules = *rules;
  so.notify_config = dir.path() + "/notify.json";
  Server server(std::move(sim->ledger), clock, std::move(so));
  ASSERT_TRUE(server.Start().ok());
  httplib::Client c("127.0.0.1", server.port());
  auto post = [&](const std::string& token, const std::string& query) {
    auto r = c.Post(("/api/v1/policy/digest" + query).c_str(), {{"Authorization", "Bearer " + token}}, "",
                    "application/json");
    EXPECT_TRUE(r);
    return r ? std::make_pair(r->status, r->body) : std::make_pair(-1, std::string());
  };
  EXPECT_EQ(post(user->secret, "").first, 403);

  auto [preview, preview_body] = post(admin->secret, "?dry_run=true");
  ASSERT_EQ(preview, 200) << preview_body;
  const auto p = nlohmann::json::parse(preview_body);
  EXPECT_EQ(p["sent"], false);
  EXPECT_EQ(p["period"]["from"], "2026-10-12T00:00:00Z");
  ASSERT_FALSE(p["users"].empty()) << preview_body;
  for (const auto& u : p["users"]) {
    EXPECT_LE(u["worst_jobs"].size(), 2u);
    EXPECT_FALSE(u["worst_jobs"].empty());
  }

  // gpuledger digest previews the same from the ledger file.
  {
    const std::string db_arg = db, file = dir.path() + "/policy.json";
    const char* argv[] = {
        "gpuledger",     "digest",     "--db",     db_arg.c_str(), "--at", "2026-10-20T00:00:00Z",
        "--policy-file", file.c_str(), "--format", "json"};
    std::ostringstream out, err;
    ASSERT_EQ(RunCli(10, argv, clock, out, err), 0) << err.str();
    const auto cli = nlohmann::json::parse(out.str());
    EXPECT_EQ(cli["users"], p["users"]);
    EXPECT_EQ(cli["sent"], false);
  }

  auto audited_users = [&]() {
    auto l = OpenSqliteLedger(db);
    EXPECT_TRUE(l.ok());
    auto audit = (*l)->ListAudit();
    EXPECT_TRUE(audit.ok());
    std::multiset<std::string> users;
    for (const AuditEntry& e : *audit) {
      if (e.action == "policy digest notify") users.insert(e.detail.substr(0, e.detail.find(' ')));
    }
    return users;
  };
  for (int run = 0; run < 2; ++run) {
    auto [status, body] = post(admin->secret, "");
    ASSERT_EQ(status, 200) << body;
    EXPECT_EQ(nlohmann::json::parse(body)["users"].size(), p["users"].size()) << "run " << run;
    // Each user named once in the audit log, however many runs (and the maintenance
    // loop's own run of the period, which may come first).
    const auto told = audited_users();
    EXPECT_EQ(told.size(), p["users"].size()) << "run " << run;
    for (const auto& u : p["users"]) EXPECT_EQ(told.count("user=" + u["user"].get<std::string>()), 1u);
  }
  auto l = OpenSqliteLedger(db);
  ASSERT_TRUE(l.ok());
  for (const auto& u : p["users"]) {
    auto d = (*l)->ListDeliveries(u["cause_key"].get<std::string>());
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->size(), 1u) << u["cause_key"];  // the project channel's default, once
  }
  server.Stop();
}

}  // namespace
}  // namespace gpuledger
