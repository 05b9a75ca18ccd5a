// The policies that act (#13) through the real server: samples arriving by remote write
// and epochs by the progress API are evaluated as they come; the circuit breaker pauses
// a plateaued, underused run cooperatively (the progress answer says stop, kind pause),
// once; the decision and the pause show on the job and in the decisions endpoints, in
// each role's scope, audited; a dry-run rule records without acting; the rules change
// through the API (admins; department admins for their projects); pause and resume by
// hand go through the same path.
#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1796205600000;  // 2026-12-02T10:00:00Z

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

class PolicyServer : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    ASSERT_TRUE(l.ok());
    std::unique_ptr<Ledger> ledger = std::move(l).value();
    LedgerSettings s;
    s.timezone = "UTC";
    s.default_interval_ms = kMinuteMs;
    s.default_max_gap_ms = 2 * kMinuteMs;
    ASSERT_TRUE(ledger->SetSettings(s).ok());
    ASSERT_TRUE(ledger->PutPrices({{"A10G", kT0 - kDayMs, 3'500'000, 0, "CNY"}}).ok());
    std::vector<Gpu> gpus;
    for (const char* uuid : {"GPU-a", "GPU-b"}) {
      Gpu g;
      g.uuid = uuid;
      g.node = "n1";
      g.model = "A10G";
      g.in_service_from = kT0 - kDayMs;
      gpus.push_back(g);
    }
    ASSERT_TRUE(ledger->PutGpus(gpus).ok());
    Job plateau = Running("plateau", "det", "retail");
    Job idle = Running("idle", "det", "retail");
    ASSERT_TRUE(ledger->PutJobs({plateau, idle}).ok());
    ASSERT_TRUE(ledger->PutAllocations({{"plateau", "GPU-a", kT0, 0, kFullShare}, {"idle", "GPU-b", kT0, 0, kFullShare}})
                    .ok());
    for (auto [name, role, project, dept] :
         {std::tuple{"ingest", Role::kIngest, "", ""}, std::tuple{"user", Role::kUser, "det", ""},
          std::tuple{"other", Role::kUser, "nlp", ""}, std::tuple{"dept", Role::kDeptAdmin, "", "retail"},
          std::tuple{"dept2", Role::kDeptAdmin, "", "finance-dept"}, std::tuple{"finance", Role::kFinance, "", ""},
          std::tuple{"admin", Role::kAdmin, "", ""}}) {
      auto t = MakeToken(role, project, dept, kT0);
      ASSERT_TRUE(t.ok());
      ASSERT_TRUE(ledger->PutToken(t->record).ok());
      tokens_[name] = t->secret;
    }
    ServerOptions o;
    o.port = 0;
    o.journal_dir = "";  // each write commits (and is evaluated) before its answer
    o.policy_rules_file = dir_.path() + "/policy.json";
    clock_.Set(kT0 + 3 * kHourMs);
    server_ = std::make_unique<Server>(std::move(ledger), clock_, std::move(o));
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
    j.start_ms = kT0;
    j.gpu_share_ppm = kFullShare;
    return j;
  }
  httplib::Headers As(const std::string& who) { return {{"Authorization", "Bearer " + tokens_[who]}}; }
  // One GPU's utilisation every minute over [from, to].
  int WriteUtil(const std::string& gpu, TimeMs from, TimeMs to, double util) {
    RwPoints points;
    for (TimeMs t = from; t <= to; t += kMinuteMs) points.emplace_back(util, t);
    const RwLabels labels = {{"Hostname", "n1"}, {"UUID", gpu}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                             {"gpu", gpu == "GPU-a" ? "0" : "1"}, {"modelName", "A10G"}};
    httplib::Headers h = As("ingest");
    h.emplace("Content-Encoding", "snappy");
    auto r = client_->Post("/api/v1/write", h, Snappy(RwRequestV1({RwSeriesV1(labels, points)})),
                           "application/x-protobuf;proto=prometheus.WriteRequest");
    return r ? r->status : -1;
  }
  // Epochs 1..n, 30 min apiece, flat loss and mAP: a plateau.
  nlohmann::json PostFlatEpochs(const std::string& job, int n) {
    nlohmann::json epochs = nlohmann::json::array();
    for (int e = 1; e <= n; ++e)
      epochs.push_back({{"epoch", e}, {"time_s", e * 1800}, {"train_loss", 2.5 - (e == 1 ? 0.0 : 0.0001)},
                        {"map50", 0.61}});
    auto r = client_->Post(("/api/v1/jobs/" + job + "/progress").c_str(), As("ingest"),
                           nlohmann::json{{"epochs", epochs}}.dump(), "application/json");
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return nlohmann::json::parse(r->body);
  }
  nlohmann::json GetJson(const std::string& path, const std::string& who, int want = 200) {
    auto r = client_->Get(path.c_str(), As(who));
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, want) << path << " as " << who << ": " << r->body;
    return nlohmann::json::parse(r->body, nullptr, false);
  }
  std::vector<AuditEntry> Audit() {
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    EXPECT_TRUE(l.ok());
    return (*l)->ListAudit().value();
  }

  testing::TempDir dir_;
  SimulatedClock clock_{kT0};
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(PolicyServer, ThePlateauedUnderusedRunIsPausedOnceAndTheProgressAnswerSaysSo) {
  ASSERT_EQ(WriteUtil("GPU-a", kT0, kT0 + 3 * kHourMs, 22), 204);
  // Samples alone: no epochs yet, nothing to decide.
  EXPECT_EQ(GetJson("/api/v1/jobs/plateau/decisions", "user")["decisions"].size(), 0u);
  nlohmann::json answer = PostFlatEpochs("plateau", 6);
  EXPECT_EQ(answer["stop"], true);
  EXPECT_EQ(answer["kind"], "pause");
  EXPECT_NE(answer["reason"].get<std::string>().find("mean GPU utilisation was 22 %"), std::string::npos)
      << answer.dump();

  nlohmann::json d = GetJson("/api/v1/jobs/plateau/decisions", "user");
  ASSERT_EQ(d["decisions"].size(), 1u) << d.dump();
  const nlohmann::json& first = d["decisions"][0];
  EXPECT_EQ(first["rule"], "breaker");
  EXPECT_EQ(first["action"], "pause");
  EXPECT_EQ(first["dry_run"], false);
  EXPECT_EQ(first["cause_key"], "breaker/plateau/segment-" + std::to_string(kT0));
  EXPECT_EQ(first["data"]["outcome"], "paused (cooperative)");
  EXPECT_DOUBLE_EQ(first["data"]["figures"]["mean_util_pct"].get<double>(), 22);
  EXPECT_DOUBLE_EQ(first["data"]["thresholds"]["max_util_pct"].get<double>(), 40);
  EXPECT_EQ(first["data"]["window"]["from"], FormatTime(kT0 + kHourMs));
  EXPECT_EQ(d["paused_now"], true);
  EXPECT_EQ(d["resume_command"], "yolo train resume model=runs/detect/train/weights/last.pt");
  ASSERT_EQ(d["paused"].size(), 1u);
  EXPECT_EQ(d["paused"][0]["gpus_freed"], true);

  // Evaluated again (another epoch, more samples): the same cause decides nothing new.
  clock_.Advance(10 * kMinuteMs);
  ASSERT_EQ(WriteUtil("GPU-a", kT0 + 3 * kHourMs + kMinuteMs, kT0 + 3 * kHourMs + 10 * kMinuteMs, 22), 204);
  EXPECT_EQ(PostFlatEpochs("plateau", 7)["kind"], "pause");
  EXPECT_EQ(GetJson("/api/v1/jobs/plateau/decisions", "user")["decisions"].size(), 1u);

  // The job's view shows it; the decisions endpoint in each role's scope.
  nlohmann::json view = GetJson("/api/v1/jobs/plateau", "user");
  EXPECT_EQ(view["policy"]["decisions"].size(), 1u);
  EXPECT_EQ(view["policy"]["paused_now"], true);
  EXPECT_EQ(GetJson("/api/v1/decisions", "admin")["decisions"].size(), 1u);
  EXPECT_EQ(GetJson("/api/v1/decisions", "dept")["decisions"].size(), 1u);
  EXPECT_EQ(GetJson("/api/v1/decisions", "dept2")["decisions"].size(), 0u);
  EXPECT_EQ(GetJson("/api/v1/decisions", "other")["decisions"].size(), 0u);
  EXPECT_EQ(GetJson("/api/v1/decisions?rule=idle", "admin")["decisions"].size(), 0u);
  GetJson("/api/v1/decisions", "finance", 403);
  GetJson("/api/v1/jobs/plateau/decisions", "other", 404);

  // Resumed by hand: the pause request is withdrawn and the pause closed.
  auto r = client_->Post("/api/v1/jobs/plateau/resume", As("user"), "", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["resume_command"],
            "yolo train resume model=runs/detect/train/weights/last.pt");
  nlohmann::json after = PostFlatEpochs("plateau", 7);
  EXPECT_EQ(after["stop"], false) << after.dump();  // a fresh segment: not judged for 2 h
  d = GetJson("/api/v1/jobs/plateau/decisions", "user");
  EXPECT_EQ(d["paused_now"], false);
  EXPECT_FALSE(d["paused"][0]["resumed"].is_null());
  r = client_->Post("/api/v1/jobs/plateau/resume", As("user"), "", "application/json");
  EXPECT_EQ(r->status, 409) << r->body;

  bool audited_policy = false;
  bool audited_resume = false;
  for (const AuditEntry& e : Audit()) {
    audited_policy = audited_policy || (e.action == "policy breaker pause" && e.role == "policy");
    audited_resume = audited_resume || e.action == "POST /api/v1/jobs/{id}/resume";
  }
  EXPECT_TRUE(audited_policy);
  EXPECT_TRUE(audited_resume);
}

TEST_F(PolicyServer, AnIdleJobUnderADryRunRuleIsRecordedNotActedOn) {
  // A user may not change rules; a department admin may for its department's project.
  auto put = [&](const std::string& path, const std::string& who, const std::string& body) {
    auto r = client_->Put(path.c_str(), As(who), body, "application/json");
    EXPECT_TRUE(r);
    return r ? std::pair{r->status, r->body} : std::pair{-1, std::string()};
  };
  EXPECT_EQ(put("/api/v1/policy/rules/projects/det", "user", R"({"idle": {"dry_run": true}})").first, 403);
  EXPECT_EQ(put("/api/v1/policy/rules/projects/det", "dept2", R"({"idle": {"dry_run": true}})").first, 403);
  auto bad = put("/api/v1/policy/rules/projects/det", "dept", R"({"idle": {"act_min": 0}})");
  EXPECT_EQ(bad.first, 400);
  EXPECT_NE(bad.second.find("projects.det.rules.idle.act_min must be above 0 and at most 10080, got 0"),
            std::string::npos)
      << bad.second;
  auto ok = put("/api/v1/policy/rules/projects/det", "dept", R"({"idle": {"dry_run": true}})");
  ASSERT_EQ(ok.first, 200) << ok.second;
  EXPECT_EQ(nlohmann::json::parse(ok.second)["projects"]["det"]["effective"]["idle"]["dry_run"], true);
  // Written back: the file reads as the same rules.
  std::ifstream f(dir_.path() + "/policy.json");
  std::stringstream text;
  text << f.rdbuf();
  auto reread = ParsePolicyRulesJson(text.str());
  ASSERT_TRUE(reread.ok()) << reread.status().ToString() << "\n" << text.str();
  EXPECT_TRUE(reread->For("det").idle.dry_run);

  ASSERT_EQ(WriteUtil("GPU-b", kT0 + 30 * kMinuteMs, kT0 + 3 * kHourMs, 0), 204);
  nlohmann::json d = GetJson("/api/v1/jobs/idle/decisions", "user");
  ASSERT_EQ(d["decisions"].size(), 1u) << d.dump();
  EXPECT_EQ(d["decisions"][0]["rule"], "idle");
  EXPECT_EQ(d["decisions"][0]["action"], "pause");
  EXPECT_EQ(d["decisions"][0]["dry_run"], true);
  EXPECT_EQ(d["decisions"][0]["cause_key"], "idle/idle/segment-" + std::to_string(kT0) + "/act");
  // The samples read reach back 125 min (act + max sample age): the stretch is seen from there.
  EXPECT_EQ(d["decisions"][0]["data"]["window"]["from"], FormatTime(kT0 + 55 * kMinuteMs));
  // Evaluated again a minute later: the same cause, nothing new.
  clock_.Advance(kMinuteMs);
  ASSERT_EQ(WriteUtil("GPU-b", kT0 + 3 * kHourMs + kMinuteMs, kT0 + 3 * kHourMs + kMinuteMs, 0), 204);
  clock_.Advance(kMinuteMs);
  ASSERT_EQ(WriteUtil("GPU-b", kT0 + 3 * kHourMs + 2 * kMinuteMs, kT0 + 3 * kHourMs + 2 * kMinuteMs, 0), 204);
  EXPECT_EQ(GetJson("/api/v1/jobs/idle/decisions", "user")["decisions"].size(), 1u);
  EXPECT_EQ(d["paused"].size(), 0u);
  EXPECT_EQ(d["paused_now"], false);

  // Paused by hand through the same path: recorded as a manual decision, audited.
  auto r = client_->Post("/api/v1/jobs/idle/pause", As("admin"), R"({"reason": "holding GPUs overnight"})",
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["mode"], "cooperative");
  r = client_->Post("/api/v1/jobs/idle/pause", As("admin"), "", "application/json");
  EXPECT_EQ(r->status, 409) << r->body;
  EXPECT_EQ(client_->Post("/api/v1/jobs/idle/pause", As("finance"), "", "application/json")->status, 403);
  nlohmann::json progress = PostFlatEpochs("idle", 1);
  EXPECT_EQ(progress["kind"], "pause");
  EXPECT_EQ(progress["reason"], "holding GPUs overnight");
  d = GetJson("/api/v1/jobs/idle/decisions", "admin");
  ASSERT_EQ(d["decisions"].size(), 2u);
  EXPECT_EQ(d["decisions"][1]["rule"], "manual");
  EXPECT_EQ(d["paused_now"], true);

  // Organisation rules: admins only, validated.
  EXPECT_EQ(put("/api/v1/policy/rules", "dept", R"({})").first, 403);
  auto org = put("/api/v1/policy/rules", "admin", R"({"breaker": {"max_util_pct": 30}})");
  ASSERT_EQ(org.first, 200) << org.second;
  nlohmann::json rules = GetJson("/api/v1/policy/rules", "user");
  EXPECT_DOUBLE_EQ(rules["rules"]["breaker"]["max_util_pct"].get<double>(), 30);
  EXPECT_DOUBLE_EQ(rules["projects"]["det"]["effective"]["breaker"]["max_util_pct"].get<double>(), 30);
  // Another project's user does not see det's override; an admin does.
  EXPECT_FALSE(GetJson("/api/v1/policy/rules", "other")["projects"].contains("det"));
  EXPECT_TRUE(GetJson("/api/v1/policy/rules", "admin")["projects"].contains("det"));
}

TEST_F(PolicyServer, AnExemptionSetByRegistrationIsAuditedAndSparesTheRun) {
  // The agent re-registers the running job with an exemption from the breaker: who set it
  // is in the audit log, and the plateaued, underused run is not paused.
  auto r = client_->Post("/api/v1/jobs", As("ingest"),
                         nlohmann::json{{"id", "plateau"},
                                        {"user", "alice"},
                                        {"project", "det"},
                                        {"department", "retail"},
                                        {"status", "running"},
                                        {"start", FormatTime(kT0)},
                                        {"labels", "gpuledger.policy.exempt=breaker"}}
                             .dump(),
                         "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 201) << r->body;
  ASSERT_EQ(WriteUtil("GPU-a", kT0, kT0 + 3 * kHourMs, 22), 204);
  nlohmann::json answer = PostFlatEpochs("plateau", 6);
  EXPECT_EQ(answer["stop"], false) << answer.dump();
  EXPECT_EQ(GetJson("/api/v1/jobs/plateau/decisions", "user")["decisions"].size(), 0u);
  bool audited = false;
  for (const AuditEntry& e : Audit()) {
    if (e.action != "POST /api/v1/jobs") continue;
    EXPECT_EQ(e.role, "ingest");
    EXPECT_NE(e.detail.find("job=plateau"), std::string::npos) << e.detail;
    audited = e.detail.find("exempt=\"breaker\"") != std::string::npos;
  }
  EXPECT_TRUE(audited);
}

}  // namespace
}  // namespace gpuledger
