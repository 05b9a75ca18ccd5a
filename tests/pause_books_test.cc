// Paused and resumed jobs in the books, through the real server (#13, docs/POLICIES.md
// "Paused time on the books"): a job its workload labels place, suspended (GPUs freed)
// and resumed on other GPUs, is held once, where its samples are; a cooperative run
// stopped on a pause and resumed under the same job id runs again in its job (its
// re-registration and its final PATCH are taken), billed for its runs and not the time
// between; and a pause whose launcher was never asked (or whose answer was never
// recorded) before a crash is asked again when the server starts on the same ledger.
#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>
#include <sqlite3.h>

#include <nlohmann/json.hpp>

#include "books/books.h"
#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "pause/target.h"
#include "report/report.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1796205600000;         // 2026-12-02T10:00:00Z
constexpr int64_t kPricePerHour = 3'500'000;  // micros per GPU-hour

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

// Answers as the launchers do: Kubernetes' suspend and Slurm's requeue free the GPUs,
// Docker's freezer keeps them. Pausing a job it paused already counts as done (Docker
// answers 409 "already paused", Kubernetes' suspend: true is idempotent).
class FakeLauncher : public JobController {
 public:
  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override {
    ++pauses;
    if (!answer.ok()) return answer;
    PauseOutcome o;
    o.gpus_freed = target.mode == PauseMode::kKubernetes || target.mode == PauseMode::kSlurmRequeue;
    o.resume_command = "resume " + target.handle;
    o.detail = paused.insert(target.job_id).second ? "paused" : "already paused";
    return o;
  }
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override {
    ++resumes;
    paused.erase(target.job_id);
    PauseOutcome o;
    o.resume_command = "resume " + target.handle;
    return o;
  }
  int pauses = 0;
  int resumes = 0;
  Status answer = OkStatus();  // a refusal to give instead
  std::set<std::string> paused;
};

// Copies the SQLite ledger at `from` to `to` as it stands (a consistent snapshot of what
// has committed), through a connection of its own.
Status SnapshotLedger(const std::string& from, const std::string& to) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(from.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return Internal("cannot open " + from);
  }
  char* error = nullptr;
  const int rc = sqlite3_exec(db, ("VACUUM INTO '" + to + "'").c_str(), nullptr, nullptr, &error);
  const std::string why = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  return rc == SQLITE_OK ? OkStatus() : Internal("VACUUM INTO " + to + ": " + why);
}

// A launcher asked while the server is in the middle of a pause: it snapshots the ledger
// first, so a later server can start on the ledger as a crash at that instant (the
// intent committed, the answer not) would have left it. Then it pauses the job.
class SnapshottingLauncher : public FakeLauncher {
 public:
  SnapshottingLauncher(std::string ledger, std::string to) : ledger_(std::move(ledger)), to_(std::move(to)) {}
  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override {
    snapshot = SnapshotLedger(ledger_, to_);
    return FakeLauncher::Pause(target);
  }
  Status snapshot = Internal("not asked");

 private:
  std::string ledger_, to_;
};

class PauseBooks : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(path());
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
    for (auto [name, role] : {std::pair{"ingest", Role::kIngest}, std::pair{"admin", Role::kAdmin}}) {
      auto t = MakeToken(role, "", "", kT0);
      ASSERT_TRUE(t.ok());
      ASSERT_TRUE(ledger->PutToken(t->record).ok());
      tokens_[name] = t->secret;
    }
  }
  void TearDown() override { StopServer(); }
  std::string path() const { return dir_.path() + "/ledger.db"; }
  void PutJob(const Job& j) {
    auto l = OpenSqliteLedger(path());
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE((*l)->PutJobs({j}).ok());
  }
  void StartServer(JobController* controller) { StartServerOn(path(), controller); }
  void StartServerOn(const std::string& ledger_path, JobController* controller) {
    auto l = OpenSqliteLedger(ledger_path);
    ASSERT_TRUE(l.ok());
    ServerOptions o;
    o.port = 0;
    o.journal_dir = "";  // each write commits (and attributes) before its answer
    o.job_controller = controller;
    server_ = std::make_unique<Server>(std::move(l).value(), clock_, std::move(o));
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
  }
  void StopServer() {
    if (server_) server_->Stop();
    server_.reset();
    client_.reset();
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
  httplib::Headers As(const std::string& who) { return {{"Authorization", "Bearer " + tokens_[who]}}; }
  // The GPU's utilisation every minute over [from, to], labelled hpc_job=`job` as the node
  // agent labels a job's GPUs (none: unlabelled).
  int WriteUtil(const std::string& gpu, TimeMs from, TimeMs to, const std::string& job) {
    RwPoints points;
    for (TimeMs t = from; t <= to; t += kMinuteMs) points.emplace_back(80, t);
    RwLabels labels = {{"Hostname", "n1"},
                       {"UUID", gpu},
                       {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                       {"gpu", gpu == "GPU-a" ? "0" : "1"},
                       {"modelName", "A10G"}};
    if (!job.empty()) labels.insert(labels.begin() + 4, {"hpc_job", job});
    httplib::Headers h = As("ingest");
    h.emplace("Content-Encoding", "snappy");
    auto r = client_->Post("/api/v1/write", h, Snappy(RwRequestV1({RwSeriesV1(labels, points)})),
                           "application/x-protobuf;proto=prometheus.WriteRequest");
    return r ? r->status : -1;
  }
  std::pair<int, nlohmann::json> Send(const std::string& method, const std::string& path,
                                      const std::string& who, const std::string& body = "") {
    httplib::Result r = method == "PATCH" ? client_->Patch(path.c_str(), As(who), body, "application/json")
                                          : client_->Post(path.c_str(), As(who), body, "application/json");
    if (!r) return {-1, {}};
    return {r->status, nlohmann::json::parse(r->body, nullptr, false)};
  }
  std::vector<Allocation> Holds(const std::string& job) { return HoldsIn(path(), job); }
  std::vector<Allocation> HoldsIn(const std::string& ledger_path, const std::string& job) {
    auto l = OpenSqliteLedger(ledger_path);
    EXPECT_TRUE(l.ok());
    auto a = (*l)->AllocationsOfJob(job);
    EXPECT_TRUE(a.ok());
    return *a;
  }
  // GPU-hours the job is held for up to `as_of`, in minutes.
  int64_t HeldMinutes(const std::string& job, TimeMs as_of) {
    int64_t ms = 0;
    for (const Allocation& a : Holds(job)) {
      const TimeMs end = a.end_ms == 0 ? as_of : std::min(a.end_ms, as_of);
      if (end > a.start_ms) ms += end - a.start_ms;
    }
    return ms / kMinuteMs;
  }
  JobSummary Summary(const std::string& job, TimeMs as_of) {
    auto l = OpenSqliteLedger(path());
    EXPECT_TRUE(l.ok());
    auto ctx = LoadBooksContext(**l);
    EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
    auto j = (*l)->GetJob(job);
    EXPECT_TRUE(j.ok() && j->has_value());
    auto s = BuildJobSummary(**l, *ctx, **j, as_of);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return *s;
  }
  std::string Describe(const std::string& job) {
    std::string out;
    for (const Allocation& a : Holds(job))
      out += a.gpu_uuid + " [" + FormatTime(a.start_ms) + ", " + (a.end_ms ? FormatTime(a.end_ms) : "open") +
             ") ";
    return out;
  }

  testing::TempDir dir_;
  SimulatedClock clock_{kT0};
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
  std::map<std::string, std::string> tokens_;
};

TEST_F(PauseBooks, ASuspendedJobResumedOnOtherGpusIsHeldOnceAndItsOldGpuIsFreeForAnotherJob) {
  Job kube = Running("kube");
  kube.labels = {{kLauncherLabel, "kubernetes"}, {kK8sNamespaceLabel, "vision"}, {kK8sJobLabel, "yolo-17"}};
  PutJob(kube);
  FakeLauncher launcher;
  clock_.Set(kT0 + kHourMs);
  StartServer(&launcher);
  // Its first hour on GPU-a, placed there by its samples' labels.
  ASSERT_EQ(WriteUtil("GPU-a", kT0, kT0 + 59 * kMinuteMs, "kube"), 204);
  ASSERT_EQ(HeldMinutes("kube", kT0 + kHourMs), 60) << Describe("kube");
  // Suspended at T0 + 1 h: its pods go, GPU-a is freed at the pause. A last sample from
  // the terminating pod, labelled, does not hold it again.
  auto [paused, why] = Send("POST", "/api/v1/jobs/kube/pause", "admin");
  ASSERT_EQ(paused, 202) << why.dump();
  ASSERT_EQ(why["gpus_freed"], true);
  clock_.Set(kT0 + kHourMs + 5 * kMinuteMs);
  ASSERT_EQ(WriteUtil("GPU-a", kT0 + kHourMs + 2 * kMinuteMs, kT0 + kHourMs + 2 * kMinuteMs, "kube"), 204);
  EXPECT_EQ(HeldMinutes("kube", kT0 + 2 * kHourMs), 60) << Describe("kube");

  // Resumed at T0 + 2 h; the scheduler starts it on GPU-b, where its samples place it.
  clock_.Set(kT0 + 2 * kHourMs);
  auto [resumed, answer] = Send("POST", "/api/v1/jobs/kube/resume", "admin");
  ASSERT_EQ(resumed, 200) << answer.dump();
  EXPECT_EQ(launcher.resumes, 1);
  clock_.Set(kT0 + 3 * kHourMs);
  ASSERT_EQ(WriteUtil("GPU-b", kT0 + 2 * kHourMs, kT0 + 3 * kHourMs - kMinuteMs, "kube"), 204);

  // Counted once: its hour on GPU-a before the pause and its hour on GPU-b after the
  // resume, nothing on GPU-a after it (a reopened hold there would add a third hour).
  EXPECT_EQ(HeldMinutes("kube", kT0 + 3 * kHourMs), 120) << Describe("kube");
  for (const Allocation& a : Holds("kube")) {
    if (a.gpu_uuid == "GPU-a") {
      EXPECT_EQ(a.end_ms, kT0 + kHourMs) << Describe("kube");
    }
  }
  EXPECT_EQ(Summary("kube", kT0 + 3 * kHourMs).cost_micros, 2 * kPricePerHour);

  // GPU-a is free: another job is registered on it from the resume on.
  const std::string next = R"({"id": "next", "user": "bob", "project": "det", "department": "retail",
    "status": "running", "start": "2026-12-02T12:10:00Z",
    "allocations": [{"gpu_uuid": "GPU-a", "start": "2026-12-02T12:10:00Z"}]})";
  auto [registered, body] = Send("POST", "/api/v1/jobs", "ingest", next);
  EXPECT_EQ(registered, 201) << body.dump();
}

TEST_F(PauseBooks, ACooperativeRunResumedUnderItsJobIdRunsInItAgainAndThePauseBetweenIsNotBilled) {
  PutJob(Running("coop"));  // the cooperative launcher: no labels needed
  clock_.Set(kT0 + 50 * kMinuteMs);
  StartServer(nullptr);
  auto epoch = [&](int n) {
    nlohmann::json epochs =
        nlohmann::json::array({{{"epoch", n}, {"time_s", n * 600}, {"train_loss", 2.0 / n}}});
    return Send("POST", "/api/v1/jobs/coop/progress", "ingest", nlohmann::json{{"epochs", epochs}}.dump());
  };
  // Its first run on GPU-a, labelled by the agent; paused by hand at T0 + 50 min.
  ASSERT_EQ(WriteUtil("GPU-a", kT0, kT0 + 49 * kMinuteMs, "coop"), 204);
  auto [paused, why] = Send("POST", "/api/v1/jobs/coop/pause", "admin");
  ASSERT_EQ(paused, 202) << why.dump();
  // The callback stops after its epoch's checkpoint at T0 + 1 h and ends the job paused.
  clock_.Set(kT0 + kHourMs);
  ASSERT_EQ(WriteUtil("GPU-a", kT0 + 50 * kMinuteMs, kT0 + 59 * kMinuteMs, "coop"), 204);
  auto [posted, answer] = epoch(6);
  ASSERT_EQ(posted, 200) << answer.dump();
  ASSERT_EQ(answer["kind"], "pause") << answer.dump();
  auto [ended, end_body] =
      Send("PATCH", "/api/v1/jobs/coop", "ingest", R"({"status": "paused", "end": "2026-12-02T11:00:00Z"})");
  ASSERT_EQ(ended, 200) << end_body.dump();
  EXPECT_EQ(HeldMinutes("coop", kT0 + 3 * kHourMs), 60) << Describe("coop");

  // Resumed at T0 + 1.5 h: the pause request is withdrawn; its run is back at T0 + 2 h
  // (someone ran the resume command), on the same GPU, and registers under the same id.
  clock_.Set(kT0 + 90 * kMinuteMs);
  auto [resumed, r] = Send("POST", "/api/v1/jobs/coop/resume", "admin");
  ASSERT_EQ(resumed, 200) << r.dump();
  clock_.Set(kT0 + 2 * kHourMs);
  auto [registered, reg] = Send("POST", "/api/v1/jobs", "ingest",
                                R"({"id": "coop", "user": "alice", "project": "det", "department": "retail",
                                    "status": "running", "start": "2026-12-02T12:00:00Z"})");
  ASSERT_EQ(registered, 201) << reg.dump();
  clock_.Set(kT0 + 3 * kHourMs);
  ASSERT_EQ(WriteUtil("GPU-a", kT0 + 2 * kHourMs, kT0 + 3 * kHourMs - kMinuteMs, "coop"), 204);
  auto [again, go_on] = epoch(7);
  ASSERT_EQ(again, 200) << go_on.dump();
  EXPECT_EQ(go_on["stop"], false) << go_on.dump();
  // It finishes at T0 + 3 h: the callback's PATCH, with an ingest token, is taken.
  auto [done, done_body] = Send("PATCH", "/api/v1/jobs/coop", "ingest",
                                R"({"status": "succeeded", "end": "2026-12-02T13:00:00Z"})");
  ASSERT_EQ(done, 200) << done_body.dump();

  // One job: its first start, its last end; held for its two runs, not the hour between.
  auto l = OpenSqliteLedger(path());
  ASSERT_TRUE(l.ok());
  auto job = (*l)->GetJob("coop");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->status, JobStatus::kSucceeded);
  EXPECT_EQ((*job)->start_ms, kT0);
  EXPECT_EQ((*job)->end_ms, kT0 + 3 * kHourMs);
  EXPECT_EQ(HeldMinutes("coop", kT0 + 4 * kHourMs), 120) << Describe("coop");
  EXPECT_EQ(Summary("coop", kT0 + 4 * kHourMs).cost_micros, 2 * kPricePerHour);
  // Its pause lasted from the request until its run was back.
  auto pauses = (*l)->ListPauses("coop");
  ASSERT_TRUE(pauses.ok());
  ASSERT_EQ(pauses->size(), 1u);
  EXPECT_EQ((*pauses)[0].paused_ms, kT0 + 50 * kMinuteMs);
  EXPECT_EQ((*pauses)[0].resumed_ms, kT0 + 2 * kHourMs);
}

TEST_F(PauseBooks, APausedJobWhosePauseRequestStandsIsNotRegisteredAgain) {
  PutJob(Running("coop"));
  clock_.Set(kT0 + kHourMs);
  StartServer(nullptr);
  ASSERT_EQ(Send("POST", "/api/v1/jobs/coop/pause", "admin").first, 202);
  ASSERT_EQ(Send("PATCH", "/api/v1/jobs/coop", "ingest", R"({"status": "paused"})").first, 200);
  clock_.Set(kT0 + 2 * kHourMs);
  auto [registered, reg] = Send("POST", "/api/v1/jobs", "ingest",
                                R"({"id": "coop", "user": "alice", "project": "det", "department": "retail",
                                    "status": "running", "start": "2026-12-02T12:00:00Z"})");
  EXPECT_EQ(registered, 409) << reg.dump();
  EXPECT_NE(reg.dump().find("/resume"), std::string::npos) << reg.dump();
}

TEST_F(PauseBooks, APauseLeftOverByACrashBeforeItsAnswerWasRecordedIsAskedAgainAtStart) {
  Job kube = Running("kube");
  kube.labels = {{kLauncherLabel, "kubernetes"}, {kK8sNamespaceLabel, "vision"}, {kK8sJobLabel, "yolo-17"}};
  PutJob(kube);
  {
    auto l = OpenSqliteLedger(path());
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE((*l)->PutAllocations({{"kube", "GPU-a", kT0, 0, kFullShare}}).ok());
  }
  // The first run: paused by hand at T0 + 1 h. Its launcher is asked after the intent
  // commits; the snapshot taken then is the ledger a crash at that instant leaves.
  const std::string crashed = dir_.path() + "/crashed.db";
  SnapshottingLauncher first(path(), crashed);
  clock_.Set(kT0 + kHourMs);
  StartServer(&first);
  ASSERT_EQ(Send("POST", "/api/v1/jobs/kube/pause", "admin").first, 202);
  ASSERT_TRUE(first.snapshot.ok()) << first.snapshot.ToString();
  StopServer();
  {
    auto l = OpenSqliteLedger(crashed);
    ASSERT_TRUE(l.ok());
    auto open = (*l)->OpenPause("kube");
    ASSERT_TRUE(open.ok() && open->has_value());
    EXPECT_FALSE((*open)->gpus_freed);  // an intent: the launcher has not answered
  }
  ASSERT_EQ(HoldsIn(crashed, "kube").size(), 1u);
  EXPECT_EQ(HoldsIn(crashed, "kube")[0].end_ms, 0);

  // The next run starts on that ledger; the launcher paused the job already (its answer
  // was lost), so asked again it says so, and that counts as done.
  FakeLauncher launcher;
  launcher.paused = first.paused;
  clock_.Set(kT0 + kHourMs + 10 * kMinuteMs);
  StartServerOn(crashed, &launcher);
  // Until its launcher has answered, a resume would be undone by the answer: refused.
  EXPECT_EQ(Send("POST", "/api/v1/jobs/kube/resume", "admin").first, 409);
  ASSERT_EQ(WriteUtil("GPU-b", kT0 + kHourMs, kT0 + kHourMs + 5 * kMinuteMs, ""), 204);  // runs them
  EXPECT_EQ(launcher.pauses, 1);
  {
    auto l = OpenSqliteLedger(crashed);
    ASSERT_TRUE(l.ok());
    auto open = (*l)->OpenPause("kube");
    ASSERT_TRUE(open.ok() && open->has_value());
    EXPECT_TRUE((*open)->gpus_freed);
    auto d = (*l)->GetDecision((*open)->cause_key);
    ASSERT_TRUE(d.ok() && d->has_value());
    const nlohmann::json data = nlohmann::json::parse((*d)->data_json);
    EXPECT_EQ(data["outcome"], "paused (kubernetes)") << data.dump();
    EXPECT_EQ(data["detail"], "already paused") << data.dump();
    // Audited by the policy engine: the caller that asked for it is gone.
    auto audit = client_->Get("/api/v1/audit", As("admin"));
    ASSERT_TRUE(audit);
    EXPECT_NE(audit->body.find(R"("action":"policy manual pause settled")"), std::string::npos)
        << audit->body;
  }
  // Settled: the freed GPU's hold ends at the pause, not at the restart.
  ASSERT_EQ(HoldsIn(crashed, "kube").size(), 1u);
  EXPECT_EQ(HoldsIn(crashed, "kube")[0].end_ms, kT0 + kHourMs);
  StopServer();

  // Once settled it is never asked again.
  FakeLauncher third;
  StartServerOn(crashed, &third);
  ASSERT_EQ(WriteUtil("GPU-b", kT0 + kHourMs + 6 * kMinuteMs, kT0 + kHourMs + 7 * kMinuteMs, ""), 204);
  EXPECT_EQ(third.pauses, 0);
  EXPECT_EQ(Send("POST", "/api/v1/jobs/kube/resume", "admin").first, 200);
}

}  // namespace
}  // namespace gpuledger
