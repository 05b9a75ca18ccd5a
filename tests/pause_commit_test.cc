// A launcher's pause through the real server (#13, docs/POLICIES.md "What a decision
// does"): the decision and the pause record commit first (the intent), the launcher is
// asked after the commit without the ledger lock, and its answer is recorded in a second
// transaction. A manual pause the launcher refuses leaves no decision and no pause behind
// (the API answers the refusal); a launcher that does not answer holds no ledger reader;
// and the books: a job whose pause keeps its GPU (Docker's freezer) stays billed for it,
// one whose pause frees it (Kubernetes' suspend) stops accruing at the pause and holds it
// again from its resume (BuildJobSummary, the monthly report's unallocated capacity).
#include <gtest/gtest.h>
#include <httplib.h>

#include <future>
#include <nlohmann/json.hpp>

#include "books/books.h"
#include "common/test_util.h"
#include "pause/docker.h"
#include "pause/target.h"
#include "report/report.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1796205600000;         // 2026-12-02T10:00:00Z
constexpr int64_t kPricePerHour = 3'500'000;  // micros per GPU-hour
constexpr const char* kDockerJob = "dock";    // paused by the freezer: GPU held
constexpr const char* kKubeJob = "kube";      // suspended: pods deleted, GPU freed

// A launcher that answers as Docker (GPU held) or Kubernetes (GPU freed) would, or refuses
// with `refusal`; when `gate` is set, Pause waits on it (a launcher that hangs).
class FakeLauncher : public JobController {
 public:
  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override {
    ++pauses;
    if (entered) entered->set_value();
    if (gate) gate->wait();
    if (!refusal.ok()) return refusal;
    PauseOutcome o;
    o.gpus_freed = target.mode == PauseMode::kKubernetes;
    o.resume_command = "resume " + target.handle;
    return o;
  }
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override {
    ++resumes;
    PauseOutcome o;
    o.resume_command = "resume " + target.handle;
    return o;
  }
  std::atomic<int> pauses{0};
  std::atomic<int> resumes{0};
  Status refusal = OkStatus();
  std::promise<void>* entered = nullptr;  // set once Pause is called
  std::shared_future<void>* gate = nullptr;
};

class PauseCommit : public ::testing::Test {
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
    ASSERT_TRUE(ledger->PutPrices({{"A10G", kT0 - kDayMs, kPricePerHour, 0, "CNY"}}).ok());
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
    Job dock = Running(kDockerJob);
    dock.labels = {{kLauncherLabel, "docker"}, {kDockerContainerLabel, "train-17"}};
    Job kube = Running(kKubeJob);
    kube.labels = {{kLauncherLabel, "kubernetes"}, {kK8sNamespaceLabel, "vision"}, {kK8sJobLabel, "yolo-17"}};
    ASSERT_TRUE(ledger->PutJobs({dock, kube}).ok());
    ASSERT_TRUE(ledger
                    ->PutAllocations(
                        {{kDockerJob, "GPU-a", kT0, 0, kFullShare}, {kKubeJob, "GPU-b", kT0, 0, kFullShare}})
                    .ok());
    auto t = MakeToken(Role::kAdmin, "", "", kT0);
    ASSERT_TRUE(t.ok());
    ASSERT_TRUE(ledger->PutToken(t->record).ok());
    admin_ = t->secret;
    ledger_ = std::move(ledger);
  }
  void StartServer(JobController* controller, const std::string& rules_file = "") {
    ServerOptions o;
    o.port = 0;
    o.journal_dir = "";
    o.job_controller = controller;
    o.policy_rules_file = rules_file;
    clock_.Set(kT0 + kHourMs);
    server_ = std::make_unique<Server>(std::move(ledger_), clock_, std::move(o));
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  static Job Running(const std::string& id) {
    Job j;
    j.id = id;
    j.user = "alice";
    j.project = "det";
    j.department = "retail";
    j.status = JobStatus::kRunning;
    j.start_ms = kT0;
    j.gpu_share_ppm = kFullShare;
    return j;
  }
  httplib::Headers Admin() { return {{"Authorization", "Bearer " + admin_}}; }
  std::pair<int, nlohmann::json> Post(const std::string& path, httplib::Client& c) {
    auto r = c.Post(path.c_str(), Admin(), "", "application/json");
    if (!r) return {-1, {}};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }
  nlohmann::json Decisions(const std::string& job) {
    auto r = client_->Get(("/api/v1/jobs/" + job + "/decisions").c_str(), Admin());
    EXPECT_TRUE(r);
    if (!r) return {};
    EXPECT_EQ(r->status, 200) << r->body;
    return nlohmann::json::parse(r->body);
  }
  // The job's books from a second connection to the server's ledger file.
  JobSummary Summary(const std::string& job, TimeMs as_of) {
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    EXPECT_TRUE(l.ok());
    auto ctx = LoadBooksContext(**l);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    auto j = (*l)->GetJob(job);
    EXPECT_TRUE(j.ok() && j->has_value());
    auto s = BuildJobSummary(**l, *ctx, **j, as_of);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return *s;
  }

  testing::TempDir dir_;
  SimulatedClock clock_{kT0};
  std::unique_ptr<Ledger> ledger_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::string admin_;
};

TEST_F(PauseCommit, AManualPauseTheDockerSocketRefusesLeavesNoDecisionAndNoPause) {
  // The real Docker adapter, its socket unreachable: Unavailable, answered 503.
  DockerController docker(dir_.path() + "/no-such-docker.sock", 1000);
  StartServer(&docker);
  auto [status, body] = Post("/api/v1/jobs/dock/pause", *client_);
  EXPECT_EQ(status, 503) << body.dump();
  nlohmann::json d = Decisions(kDockerJob);
  EXPECT_EQ(d["decisions"].size(), 0u) << d.dump();
  EXPECT_EQ(d["paused"].size(), 0u) << d.dump();
  EXPECT_EQ(d["paused_now"], false);
  // Nothing left to block a later pause: the next one reaches the launcher again (and is
  // refused again, leaving nothing again).
  EXPECT_EQ(Post("/api/v1/jobs/dock/pause", *client_).first, 503);
  EXPECT_EQ(Decisions(kDockerJob)["decisions"].size(), 0u);
}

TEST_F(PauseCommit, AManualPauseAnyLauncherRefusesLeavesNothingAndANotRunningContainerIsAnswered409) {
  FakeLauncher launcher;
  launcher.refusal = FailedPrecondition("container train-17 is not running");
  StartServer(&launcher);
  EXPECT_EQ(Post("/api/v1/jobs/dock/pause", *client_).first, 409);
  EXPECT_EQ(launcher.pauses, 1);
  nlohmann::json d = Decisions(kDockerJob);
  EXPECT_EQ(d["decisions"].size(), 0u) << d.dump();
  EXPECT_EQ(d["paused"].size(), 0u) << d.dump();
}

TEST_F(PauseCommit, ALauncherThatDoesNotAnswerHoldsNoLedgerReaderAndItsIntentIsRecordedFirst) {
  FakeLauncher launcher;
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  launcher.gate = &gate;
  std::promise<void> entered;
  launcher.entered = &entered;
  StartServer(&launcher);
  httplib::Client other("127.0.0.1", server_->port());
  httplib::Client resumer("127.0.0.1", server_->port());
  auto pausing = std::async(std::launch::async, [&] { return Post("/api/v1/jobs/dock/pause", other); });
  // While the launcher hangs, a read that takes the ledger lock is answered, and it sees
  // the intent: the decision "pausing" and an open pause record.
  entered.get_future().wait();
  nlohmann::json d = Decisions(kDockerJob);
  ASSERT_EQ(d["decisions"].size(), 1u) << d.dump();
  EXPECT_EQ(d["decisions"][0]["data"]["outcome"], "pausing (docker)");
  EXPECT_EQ(d["paused_now"], true);
  // A resume before the launcher has answered would be undone by its answer: refused.
  auto [refused, why] = Post("/api/v1/jobs/dock/resume", resumer);
  EXPECT_EQ(refused, 409) << why.dump();
  EXPECT_EQ(launcher.resumes, 0);
  release.set_value();
  auto [status, body] = pausing.get();
  ASSERT_EQ(status, 202) << body.dump();
  EXPECT_EQ(body["resume_command"], "resume train-17");
  d = Decisions(kDockerJob);
  ASSERT_EQ(d["decisions"].size(), 1u);
  EXPECT_EQ(d["decisions"][0]["data"]["outcome"], "paused (docker)");
  EXPECT_EQ(d["paused"][0]["resume_command"], "resume train-17");
  // Answered: now it resumes.
  EXPECT_EQ(Post("/api/v1/jobs/dock/resume", resumer).first, 200);
  EXPECT_EQ(launcher.resumes, 1);
}

TEST_F(PauseCommit, AFreedGpuStopsBeingBilledAtThePauseAndAHeldOneStaysBilled) {
  FakeLauncher launcher;
  StartServer(&launcher);  // clock at T0 + 1 h
  ASSERT_EQ(Post("/api/v1/jobs/dock/pause", *client_).first, 202);
  auto [status, body] = Post("/api/v1/jobs/kube/pause", *client_);
  ASSERT_EQ(status, 202) << body.dump();
  EXPECT_EQ(body["gpus_freed"], true);
  clock_.Set(kT0 + 3 * kHourMs);

  // Three hours in: the frozen container's GPU is billed all three, the suspended job's
  // only the hour before its pause.
  JobSummary dock = Summary(kDockerJob, kT0 + 3 * kHourMs);
  JobSummary kube = Summary(kKubeJob, kT0 + 3 * kHourMs);
  EXPECT_EQ(dock.cost_micros, 3 * kPricePerHour);
  EXPECT_EQ(kube.cost_micros, 1 * kPricePerHour);
  EXPECT_EQ(dock.paused_ms, 2 * kHourMs);
  EXPECT_EQ(kube.paused_ms, 2 * kHourMs);
  EXPECT_EQ(dock.paused_freed_ms, 0);
  EXPECT_EQ(kube.paused_freed_ms, 2 * kHourMs);
  // The month's books: the freed GPU's two hours are unallocated capacity (without the
  // release they would be the suspended job's: 6 h allocated, 48 h unallocated).
  {
    auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
    ASSERT_TRUE(l.ok());
    auto ctx = LoadBooksContext(**l);
    ASSERT_TRUE(ctx.ok());
    auto month = ParseYearMonth("2026-12");
    ASSERT_TRUE(month.ok());
    auto report = BuildMonthlyReport(**l, *ctx, *month, kT0 + 3 * kHourMs, GroupBy::kJob, false);
    ASSERT_TRUE(report.ok()) << report.status().ToString();
    int64_t allocated = 0;
    for (const auto& line : report->lines) allocated += line.cost_micros;
    EXPECT_EQ(allocated, 4 * kPricePerHour);
    // Capacity: 2 GPUs in service from T0 - 1 d, 27 h each by T0 + 3 h; 4 h of it held.
    EXPECT_EQ(report->unallocated.cost_micros, (2 * 27 - 4) * kPricePerHour);
  }

  // Resumed at T0 + 3 h: the suspended job holds its GPU again from there on.
  ASSERT_EQ(Post("/api/v1/jobs/kube/resume", *client_).first, 200);
  ASSERT_EQ(Post("/api/v1/jobs/dock/resume", *client_).first, 200);
  EXPECT_EQ(launcher.resumes, 2);
  kube = Summary(kKubeJob, kT0 + 4 * kHourMs);
  dock = Summary(kDockerJob, kT0 + 4 * kHourMs);
  EXPECT_EQ(kube.cost_micros, 2 * kPricePerHour);
  EXPECT_EQ(dock.cost_micros, 4 * kPricePerHour);
  EXPECT_EQ(kube.paused_ms, 2 * kHourMs);
}

TEST_F(PauseCommit, ARulesChangeWhoseFileCannotBeWrittenIsAuditedAndNotPutInForce) {
  // The policy file is written after the change's audit entry commits; a write that fails
  // leaves the rules in force (and the file) as they were, and says so in the audit log.
  StartServer(nullptr, dir_.path() + "/no-such-dir/policy.json");
  auto r = client_->Put("/api/v1/policy/rules", Admin(), R"({"breaker": {"max_util_pct": 30}})",
                        "application/json");
  ASSERT_TRUE(r);
  EXPECT_GE(r->status, 500) << r->body;
  EXPECT_NE(r->body.find("change not applied"), std::string::npos) << r->body;
  auto g = client_->Get("/api/v1/policy/rules", Admin());
  ASSERT_TRUE(g && g->status == 200);
  EXPECT_DOUBLE_EQ(nlohmann::json::parse(g->body)["rules"]["breaker"]["max_util_pct"].get<double>(), 40);
  auto l = OpenSqliteLedger(dir_.path() + "/ledger.db");
  ASSERT_TRUE(l.ok());
  auto audit = (*l)->ListAudit();
  ASSERT_TRUE(audit.ok());
  bool asked = false, refused = false;
  for (const AuditEntry& e : *audit) {
    asked = asked || e.action == "PUT /api/v1/policy/rules";
    refused = refused || e.action == "PUT /api/v1/policy/rules not applied";
  }
  EXPECT_TRUE(asked);
  EXPECT_TRUE(refused);
}

}  // namespace
}  // namespace gpuledger
