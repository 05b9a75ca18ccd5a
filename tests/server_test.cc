// The server as clients see it over HTTP: every endpoint x every role, remote write
// accepted and refused, and the audit log. Real SQLite, real sockets (port 0).
#include "server/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <snappy.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <regex>

#include "agent/disk_queue.h"
#include "agent/shipper.h"
#include "common/bytes.h"
#include "common/test_util.h"
#include "csv_reader.h"
#include "ingest/proto_writer.h"
#include "ledger/test_pg.h"
#include "server/auth.h"
#include "server/journal.h"
#include "sim_ledger.h"

namespace gpuledger {
namespace {

const SimulatedClock kClock(1794744000000);  // 2026-11-15T12:00:00Z
const char* kUsers[] = {"zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi", "zhouba", "wujiu", "zhengshi"};

std::string Snappy(const std::string& raw) {
  std::string out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

std::string Incompressible(size_t n) {
  std::string out(n, '\0');
  uint64_t x = 0x9E3779B97F4A7C15ULL;
  for (char& c : out) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x & 0xff);
  }
  return out;
}

// Every server test runs on both backends: an SQLite file and a fresh PostgreSQL database.
class ServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  // A new connection to the test's ledger (the server holds its own).
  std::unique_ptr<Ledger> Open() {
    auto l = GetParam() == "postgres" ? OpenPostgresLedger(conninfo_) : OpenLedger(db_);
    EXPECT_TRUE(l.ok()) << l.status().ToString();
    return l.ok() ? std::move(l).value() : nullptr;
  }
  void SetUp() override {
    db_ = dir_.path() + "/server.db";
    if (GetParam() == "postgres") {
      std::string why;
      auto conninfo = testing::NewPostgresDatabase(&why);
      if (!conninfo) GTEST_SKIP() << why;
      conninfo_ = *conninfo;
    }
    SimOptions o;
    o.seed = 5;
    o.month = {2026, 10};
    o.sample_interval_ms = 10 * kMinuteMs;
    o.a10g_nodes = 1;
    o.a100_nodes = 1;
    o.gpus_per_node = 2;
    o.load = 0.2;
    auto sim = testing::LoadSimulationInto(Open(), o, "Asia/Shanghai");
    ASSERT_TRUE(sim.ok()) << sim.status().ToString();
    for (auto [role, project, dept] :
         {std::tuple{Role::kIngest, "", ""}, std::tuple{Role::kUser, "pcb-solder-qc", ""},
          std::tuple{Role::kDeptAdmin, "", "retail"}, std::tuple{Role::kFinance, "", ""},
          std::tuple{Role::kAdmin, "", ""}}) {
      auto t = MakeToken(role, project, dept, kClock.Now());
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      ASSERT_TRUE(sim->ledger->PutToken(t->record).ok());
      tokens_[role] = t->secret;
    }
    sim->ledger.reset();
    std::unique_ptr<Ledger> ledger = Open();
    ASSERT_TRUE(ledger);
    ServerOptions opt;
    opt.port = 0;
    opt.max_body_bytes = 64 * 1024;
    opt.journal_dir = dir_.path() + "/journal";  // as `gpuledger server` has by default
    server_ = std::make_unique<Server>(std::move(ledger), kClock, opt);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    // The first report builds two months' books from scratch (seconds on PostgreSQL under
    // the sanitizers); these tests check answers, not latency (bench/ measures that).
    client_->set_read_timeout(60, 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  httplib::Headers Auth(std::optional<Role> role) {
    if (!role) return {};
    return {{"Authorization", "Bearer " + tokens_[*role]}};
  }
  int Get(const std::string& path, std::optional<Role> role, std::string* body = nullptr) {
    auto res = client_->Get(path.c_str(), Auth(role));
    if (!res) return -1;
    if (body) *body = res->body;
    return res->status;
  }
  httplib::Result Write(std::optional<Role> role, const std::string& body,
                        const std::string& type = "application/x-protobuf;proto=prometheus.WriteRequest") {
    httplib::Headers h = Auth(role);
    h.emplace("Content-Encoding", "snappy");
    return client_->Post("/api/v1/write", h, body, type.c_str());
  }
  // The ledger once the server's writer thread has moved what it acknowledged (samples,
  // then the label attribution they carry) into it: what a reader sees a second later.
  std::unique_ptr<Ledger> Settled() {
    EXPECT_TRUE(server_->FlushJournal().ok());
    return Open();
  }
  int64_t StoredSamples(const std::string& gpu) {
    EXPECT_TRUE(server_->FlushJournal().ok());  // the writer thread's next round, now
    auto ledger = Open();
    int64_t n = 0;
    EXPECT_TRUE(ledger->ScanSamples(gpu, {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++n; }).ok());
    return n;
  }

  testing::TempDir dir_;
  std::string db_;        // sqlite
  std::string conninfo_;  // postgres
  std::map<Role, std::string> tokens_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

// The message of a JSON error answer (its escapes undone).
std::string MessageOf(const std::string& body) {
  const auto j = nlohmann::json::parse(body, nullptr, false);
  return j.is_object() && j.contains("message") && j["message"].is_string() ? j["message"].get<std::string>()
                                                                            : "not a JSON error: " + body;
}

const RwLabels kGpuLabels = {
    {"Hostname", "node-9"}, {"UUID", "GPU-remote-1"}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
    {"gpu", "0"},           {"modelName", "A10G"},    {"pod", "yolo-train-0"}};

TEST_P(ServerTest, ReportRoleMatrix) {
  const std::optional<Role> none;
  const std::string dept = "/api/v1/reports/monthly?month=2026-10&by=department";
  EXPECT_EQ(Get(dept, none), 401);
  EXPECT_EQ(Get(dept, Role::kIngest), 403);
  EXPECT_EQ(Get(dept, Role::kFinance), 200);
  EXPECT_EQ(Get(dept, Role::kAdmin), 200);
  std::string body;
  ASSERT_EQ(Get(dept, Role::kUser, &body), 200);
  EXPECT_NE(body.find("\"project\": \"pcb-solder-qc\""), std::string::npos);
  EXPECT_EQ(body.find("retail"), std::string::npos) << "a user sees only their project's department";
  EXPECT_EQ(body.find("unallocated"), std::string::npos);
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-10&by=project", Role::kDeptAdmin, &body), 200);
  EXPECT_NE(body.find("shelf-monitoring"), std::string::npos);
  EXPECT_NE(body.find("checkout-cam"), std::string::npos);
  EXPECT_EQ(body.find("defect-detection-line3"), std::string::npos) << "another department's project";
  for (const char* by : {"user", "job"}) {
    const std::string path = std::string("/api/v1/reports/monthly?month=2026-10&by=") + by;
    EXPECT_EQ(Get(path, Role::kFinance, &body), 403) << by;
    EXPECT_EQ(Get(path, Role::kUser), 200) << by;
    EXPECT_EQ(Get(path, Role::kDeptAdmin), 200) << by;
    EXPECT_EQ(Get(path, Role::kAdmin), 200) << by;
    EXPECT_EQ(Get(path, Role::kIngest), 403) << by;
  }
  EXPECT_EQ(Get("/api/v1/reports/monthly?month=2026-13", Role::kAdmin), 400);
  EXPECT_EQ(Get("/healthz", none), 200);
  EXPECT_EQ(Get("/metrics", none), 200);
}

TEST_P(ServerTest, FinanceNeverSeesUserOrJobNames) {
  for (const char* by : {"department", "project", "model", "image", "framework", "gpu-model"}) {
    std::string body;
    ASSERT_EQ(Get(std::string("/api/v1/reports/monthly?month=2026-10&by=") + by, Role::kFinance, &body), 200)
        << by;
    for (const char* user : kUsers) EXPECT_EQ(body.find(user), std::string::npos) << by << " shows " << user;
    EXPECT_EQ(body.find("job-"), std::string::npos) << by << " shows a job id";
  }
  auto ledger = Open();
  auto audit = ledger->ListAudit();
  ASSERT_EQ(audit->size(), 6u);
  EXPECT_EQ((*audit)[0].role, "finance");
  EXPECT_EQ((*audit)[0].detail, "month=2026-10 by=department");
}

TEST_P(ServerTest, WriteAndJobsRoleMatrix) {
  const std::string body = Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{55, 1790900000000}})}));
  EXPECT_EQ(Write(std::nullopt, body)->status, 401);
  for (Role r : {Role::kUser, Role::kDeptAdmin, Role::kFinance}) EXPECT_EQ(Write(r, body)->status, 403);
  EXPECT_EQ(Write(Role::kIngest, body)->status, 204);
  EXPECT_EQ(Write(Role::kAdmin, body)->status, 204);  // same sample again: idempotent
  EXPECT_EQ(StoredSamples("GPU-remote-1"), 1);
  const std::string job = R"({"id": "api-job-1", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolov8s", "gpu_request": "1xA10G",
    "start": "2026-11-02T00:00:00Z", "allocations": [{"gpu_uuid": "GPU-remote-1", "start": "2026-11-02T00:00:00Z"}]})";
  for (Role r : {Role::kUser, Role::kDeptAdmin, Role::kFinance}) {
    EXPECT_EQ(client_->Post("/api/v1/jobs", Auth(r), job, "application/json")->status, 403);
  }
  auto created = client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json");
  ASSERT_EQ(created->status, 201) << created->body;
  auto bad = client_->Post("/api/v1/jobs", Auth(Role::kAdmin), R"({"id": "x", "colour": "red"})",
                           "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("unknown field 'colour'"), std::string::npos) << bad->body;
  // A registration refused for its allocations (an unknown GPU; an over-allocation)
  // stores nothing: the job is not in the ledger and nobody is billed for it.
  const std::string unknown_gpu = R"({"id": "api-job-2", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolov8s", "gpu_request": "1xA10G",
    "start": "2026-11-02T00:00:00Z", "allocations": [{"gpu_uuid": "GPU-nowhere", "start": "2026-11-02T00:00:00Z"}]})";
  auto refused = client_->Post("/api/v1/jobs", Auth(Role::kAdmin), unknown_gpu, "application/json");
  EXPECT_EQ(refused->status, 404) << refused->body;
  const std::string over = R"({"id": "api-job-3", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolov8s", "gpu_request": "1xA10G",
    "start": "2026-11-02T00:00:00Z", "allocations": [{"gpu_uuid": "GPU-remote-1", "start": "2026-11-02T01:00:00Z"}]})";
  refused = client_->Post("/api/v1/jobs", Auth(Role::kAdmin), over, "application/json");
  EXPECT_EQ(refused->status, 400) << refused->body;
  for (const char* id : {"api-job-2", "api-job-3"}) {
    auto read = client_->Get((std::string("/api/v1/jobs/") + id).c_str(), Auth(Role::kAdmin));
    EXPECT_EQ(read->status, 404) << id << ": " << read->body;
  }
  // Registered again while running: what is sent replaces, what is left out is kept.
  auto again = client_->Post("/api/v1/jobs", Auth(Role::kIngest),
                             R"({"id": "api-job-1", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "framework": "ultralytics==8.3.40"})",
                             "application/json");
  ASSERT_EQ(again->status, 201) << again->body;
  auto kept = Open()->GetJob("api-job-1");
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->model_type, "yolov8s");
  EXPECT_EQ((*kept)->framework, "ultralytics==8.3.40");
  EXPECT_EQ((*kept)->start_ms, 1793577600000);
  // Registering can neither end it (PATCH does, with its holds) nor touch a finished job.
  auto ending = client_->Post("/api/v1/jobs", Auth(Role::kIngest),
                              R"({"id": "api-job-1", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "status": "succeeded", "start": "2026-11-02T00:00:00Z",
    "end": "2026-11-03T00:00:00Z"})",
                              "application/json");
  EXPECT_EQ(ending->status, 409) << ending->body;
  EXPECT_NE(ending->body.find("PATCH /api/v1/jobs/api-job-1"), std::string::npos) << ending->body;
  EXPECT_EQ((*Open()->GetJob("api-job-1"))->status, JobStatus::kRunning);
}

// Cost reads are as of the clock floored to the read grain (5 s) and do not flush the
// journal: between two flushes they are answered from the books kept since the last
// change, and the flush that stores new samples makes the next read meter them.
TEST_P(ServerTest, ReadsOfTheMonthInProgressAreKeptUntilAFlushChangesTheBooks) {
  const std::string path = "/api/v1/reports/monthly?month=2026-11&by=department";
  auto covered = [](const std::string& body) {
    return nlohmann::json::parse(body)["total"]["covered_gpu_hours"].get<double>();
  };
  std::string before, again, metrics;
  ASSERT_EQ(Get(path, Role::kAdmin, &before), 200);
  EXPECT_NE(before.find("\"as_of\": \"2026-11-15T12:00:00Z\""), std::string::npos) << before.substr(0, 400);
  ASSERT_EQ(Get(path, Role::kAdmin, &again), 200);
  EXPECT_EQ(again, before);
  Get("/metrics", std::nullopt, &metrics);
  EXPECT_NE(metrics.find("gpuledger_books_cache_hits_total 1\n"), std::string::npos) << metrics;
  // An hour of samples of a new GPU: acknowledged into the journal, then flushed.
  RwPoints points;
  const TimeMs t0 = 1794657600000;  // 2026-11-14T12:00:00Z
  for (int i = 0; i < 60; ++i) points.emplace_back(90, t0 + i * kMinuteMs);
  ASSERT_EQ(Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, points)})))->status, 204);
  ASSERT_TRUE(server_->FlushJournal().ok());
  std::string after;
  ASSERT_EQ(Get(path, Role::kAdmin, &after), 200);
  EXPECT_GE(covered(after) - covered(before), 59.0 / 60) << after.substr(0, 600);  // the minutes between them
  Get("/metrics", std::nullopt, &metrics);
  EXPECT_NE(metrics.find("gpuledger_books_cache_hits_total 1\n"), std::string::npos) << metrics;
}

// The report lists the most idle GPUs, 50 unless asked; the rest are counted.
TEST_P(ServerTest, TheReportListsTheMostIdleGpusAndCountsTheRest) {
  std::string body;
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-10&idle_gpus=all", Role::kAdmin, &body), 200);
  const auto all = nlohmann::json::parse(body);
  const size_t n = all["idle_by_gpu"].size();
  ASSERT_GT(n, 2u);
  EXPECT_EQ(all["idle_by_gpu_omitted"], 0);
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-10&idle_gpus=2", Role::kAdmin, &body), 200);
  const auto two = nlohmann::json::parse(body);
  ASSERT_EQ(two["idle_by_gpu"].size(), 2u);
  EXPECT_EQ(two["idle_by_gpu"][1], all["idle_by_gpu"][1]);  // most unallocated first
  EXPECT_EQ(two["idle_by_gpu_omitted"], n - 2);
  EXPECT_EQ(two["total"], all["total"]);
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-10&idle_gpus=-1", Role::kAdmin, &body), 400);
  EXPECT_EQ(MessageOf(body), "query parameter 'idle_gpus' is '-1': send a count from 0 to 1000000, or all");
}

TEST_P(ServerTest, SamplesBeforeTheirJobAreHeldAndReattributed) {
  // An hour of samples of a new A10G, a minute apart, before any job claims it.
  std::vector<std::string> series;
  RwPoints points;
  const TimeMs t0 = 1793577600000;  // 2026-11-02T00:00:00Z
  for (int i = 0; i < 60; ++i) points.emplace_back(90, t0 + i * kMinuteMs);
  ASSERT_EQ(Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, points)})))->status, 204);
  std::string body;
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-11&by=job", Role::kAdmin, &body), 200);
  EXPECT_EQ(body.find("late-job"), std::string::npos);
  // The scheduler's record arrives afterwards; the month's books are rebuilt.
  const std::string job = R"({"id": "late-job", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolov8s", "start": "2026-11-02T00:00:00Z",
    "end": "2026-11-02T01:00:00Z", "allocations": [{"gpu_uuid": "GPU-remote-1",
    "start": "2026-11-02T00:00:00Z", "end": "2026-11-02T01:00:00Z"}]})";
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json")->status, 201);
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-11&by=job", Role::kAdmin, &body), 200);
  const size_t at = body.find("\"key\": \"late-job\"");
  ASSERT_NE(at, std::string::npos) << body;
  EXPECT_NE(body.find("\"gpu_hours\": 1.0,", at), std::string::npos) << body.substr(at, 300);
  EXPECT_NE(body.find("\"cost\": \"3.50\"", at), std::string::npos)
      << body.substr(at, 600);  // 1 h x 3.50 CNY
}

TEST_P(ServerTest, NvmlModelNamesArePricedAndAnUnpricedModelFailsNoRead) {
  // dcgm-exporter names the GPUs "NVIDIA A10G" (priced as "A10G") and "NVIDIA H200" (no
  // price). Before canonical names, every report and job summary answered 404.
  RwPoints points;
  const TimeMs t0 = 1793577600000;  // 2026-11-02T00:00:00Z
  for (int i = 0; i < 60; ++i) points.emplace_back(90, t0 + i * kMinuteMs);
  RwLabels a10g = kGpuLabels, h200 = kGpuLabels;
  a10g[4] = {"modelName", "NVIDIA A10G"};
  h200[1] = {"UUID", "GPU-remote-h200"};
  h200[4] = {"modelName", "NVIDIA H200"};
  h200[5] = {"pod", "llm-eval-0"};
  ASSERT_EQ(
      Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(a10g, points), RwSeriesV1(h200, points)})))->status,
      204);
  const std::string job = R"({"id": "h200-job", "user": "lisi", "project": "pcb-solder-qc",
    "department": "manufacturing", "start": "2026-11-02T00:00:00Z",
    "end": "2026-11-02T01:00:00Z", "allocations": [{"gpu_uuid": "GPU-remote-h200",
    "start": "2026-11-02T00:00:00Z", "end": "2026-11-02T01:00:00Z"}]})";
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json")->status, 201);
  auto gpus = Settled()->ListGpus();
  ASSERT_TRUE(gpus.ok());
  std::map<std::string, std::string> models;
  for (const Gpu& g : *gpus) models[g.uuid] = g.model;
  EXPECT_EQ(models["GPU-remote-1"], "A10G");
  EXPECT_EQ(models["GPU-remote-h200"], "H200");
  std::string body;
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-11&by=job", Role::kAdmin, &body), 200) << body;
  EXPECT_NE(body.find("\"key\": \"(unpriced) H200\""), std::string::npos) << body;
  EXPECT_NE(body.find("GPU-hours of GPU model 'H200'"), std::string::npos) << body;
  ASSERT_EQ(Get("/api/v1/jobs/h200-job", Role::kUser, &body), 200) << body;
}

TEST_P(ServerTest, JobQueryRoleMatrixAndFigures) {
  auto ledger = Open();
  auto jobs = ledger->ListJobs();
  ledger.reset();
  const Job* mine = nullptr;    // pcb-solder-qc (the user token's project, manufacturing)
  const Job* retail = nullptr;  // the dept_admin token's department
  for (const Job& j : *jobs) {
    if (j.project == "pcb-solder-qc" && j.end_ms && !mine) mine = &j;
    if (j.department == "retail" && !retail) retail = &j;
  }
  ASSERT_TRUE(mine && retail);
  const std::string path = "/api/v1/jobs/" + mine->id;
  std::string body;
  EXPECT_EQ(Get(path, std::nullopt), 401);
  EXPECT_EQ(Get(path, Role::kFinance), 403);
  EXPECT_EQ(Get(path, Role::kIngest), 403);
  EXPECT_EQ(Get(path, Role::kDeptAdmin), 404) << "another department's job reads as absent";
  EXPECT_EQ(Get("/api/v1/jobs/" + retail->id, Role::kDeptAdmin), 200);
  EXPECT_EQ(Get("/api/v1/jobs/" + retail->id, Role::kUser), 404);
  ASSERT_EQ(Get(path, Role::kUser, &body), 200);
  EXPECT_NE(body.find("\"id\": \"" + mine->id + "\""), std::string::npos) << body;
  EXPECT_NE(body.find("\"currency\": \"CNY\""), std::string::npos);
  EXPECT_EQ(body.find("\"cost\": \"0.00\""), std::string::npos) << "a finished job has a cost: " << body;
  EXPECT_NE(body.find("\"best_map50\""), std::string::npos);
  EXPECT_EQ(Get("/api/v1/jobs/no-such-job", Role::kAdmin), 404);
}

// The agent's per-job memory: stored for the job its label names (id or Slurm label),
// shown on the job as its own (peak_mem_source "process"); a row naming an unknown GPU
// refuses the request and stores nothing; other roles may not report it.
TEST_P(ServerTest, TheAgentsPerJobMemoryIsTheJobsOwnPeakAndARefusalStoresNothing) {
  auto ledger = Open();
  auto jobs = ledger->ListJobs();
  auto gpus = ledger->ListGpus();
  ASSERT_TRUE(jobs.ok() && gpus.ok() && !gpus->empty());
  const Job* job = nullptr;
  for (const Job& j : *jobs) {
    if (j.end_ms && j.project == "pcb-solder-qc" && !ledger->AllocationsOfJob(j.id)->empty()) job = &j;
  }
  ASSERT_TRUE(job);
  const std::string gpu = ledger->AllocationsOfJob(job->id)->front().gpu_uuid;
  ledger.reset();
  std::string view;
  ASSERT_EQ(Get("/api/v1/jobs/" + job->id, Role::kAdmin, &view), 200);
  EXPECT_EQ(nlohmann::json::parse(view)["peak_mem_source"], "gpu") << view;
  const std::string span = R"(, "first": ")" + FormatTime(job->start_ms) + R"(", "last": ")" +
                           FormatTime(job->end_ms) + R"("})";
  const std::string row = R"({"hpc_job": ")" + job->id + R"(", "gpu": ")" + gpu + R"(", "peak_mib": 3072)" + span;
  const std::string unknown_gpu =
      R"({"hpc_job": ")" + job->id + R"(", "gpu": "GPU-not-registered", "peak_mib": 1)" + span;
  const std::string stranger = R"({"hpc_job": "no-such-job", "gpu": ")" + gpu + R"(", "peak_mib": 9)" + span;
  auto post = [&](std::optional<Role> role, const std::string& body) {
    auto r = client_->Post("/api/v1/memory", Auth(role), body, "application/json");
    return r ? r->status : -1;
  };
  EXPECT_EQ(post(Role::kUser, R"({"jobs": [)" + row + "]}"), 403);
  EXPECT_EQ(post(Role::kIngest, R"({"jobs": [)" + row + "," + unknown_gpu + "]}"), 404);
  EXPECT_TRUE(Open()->GetJobGpuMemory(job->id)->empty()) << "a refused report stored a row";
  EXPECT_EQ(post(Role::kIngest, R"({"jobs": [{"hpc_job": "x"}]})"), 400);
  auto ok = client_->Post("/api/v1/memory", Auth(Role::kIngest), R"({"jobs": [)" + row + "," + stranger + "]}",
                          "application/json");
  ASSERT_EQ(ok->status, 200) << ok->body;
  EXPECT_EQ(nlohmann::json::parse(ok->body), nlohmann::json::parse(R"({"stored": 1, "unmatched": 1})"));
  ASSERT_EQ(Get("/api/v1/jobs/" + job->id, Role::kAdmin, &view), 200);
  const auto seen = nlohmann::json::parse(view);
  EXPECT_EQ(seen["peak_mem_source"], "process");
  EXPECT_DOUBLE_EQ(seen["peak_mem_gib"].get<double>(), 3.0);
}

TEST_P(ServerTest, SeriesRoleMatrixAndValues) {
  auto ledger = Open();
  auto jobs = ledger->ListJobs();
  auto allocs = ledger->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});
  const Job* mine = nullptr;
  for (const Job& j : *jobs) {
    if (j.project == "pcb-solder-qc" && j.end_ms && !mine) mine = &j;
  }
  ASSERT_TRUE(mine);
  // What the ledger holds for the job, GPU by GPU: the series must return exactly that.
  size_t parts = 0;
  int64_t expected = 0;
  for (const Allocation& a : *allocs) {
    if (a.job_id != mine->id) continue;
    ++parts;
    ASSERT_TRUE(ledger->ScanSamples(a.gpu_uuid, a.window(), [&](const Sample&) { ++expected; }).ok());
  }
  ledger.reset();
  ASSERT_GT(expected, 0);
  const std::string path = "/api/v1/series?job=" + mine->id;
  EXPECT_EQ(Get(path, std::nullopt), 401);
  EXPECT_EQ(Get(path, Role::kFinance), 403);
  EXPECT_EQ(Get(path, Role::kIngest), 403);
  EXPECT_EQ(Get(path, Role::kDeptAdmin), 404) << "another department's job reads as absent";
  std::string body;
  ASSERT_EQ(Get(path, Role::kUser, &body), 200) << body;
  auto json = nlohmann::json::parse(body);
  EXPECT_EQ(json["job"], mine->id);
  ASSERT_EQ(json["series"].size(), parts);
  int64_t got = 0;
  for (const auto& part : json["series"]) got += static_cast<int64_t>(part["values"].size());
  EXPECT_EQ(got, expected);
  // Read to the server's clock: the default window runs to now, so more may come.
  EXPECT_EQ(json["as_of"], "2026-11-15T12:00:00Z");
  EXPECT_EQ(json["partial"], true);
  ASSERT_EQ(Get(path + "&to=2026-11-01T00:00:00Z", Role::kUser, &body), 200) << body;
  EXPECT_EQ(nlohmann::json::parse(body)["partial"], false) << "a window that ended before now is whole";
  EXPECT_EQ(Get("/api/v1/series?gpu=GPU-remote-1", Role::kUser), 403);
  EXPECT_EQ(Get("/api/v1/series", Role::kAdmin), 400);
  EXPECT_EQ(Get("/api/v1/series?gpu=GPU-nope", Role::kAdmin), 404);
  EXPECT_EQ(Get(path + "&gpu=GPU-remote-1", Role::kAdmin), 400);
  EXPECT_EQ(Get(path + "&from=2026-10-02T00:00:00Z&to=2026-10-01T00:00:00Z", Role::kAdmin, &body), 400);
  EXPECT_NE(body.find("is not before"), std::string::npos) << body;
  EXPECT_EQ(Get(path + "&from=yesterday", Role::kAdmin, &body), 400);
  EXPECT_NE(body.find("'from'"), std::string::npos) << body;
}

TEST_P(ServerTest, SeriesReadsWhatWasJustAcknowledgedMergedAcrossRequests) {
  const TimeMs t = kClock.Now() - kMinuteMs;
  RwLabels mem = kGpuLabels;
  mem[2].second = "DCGM_FI_DEV_FB_USED";
  // Prometheus may send one GPU's metrics in two requests: the series shows one sample.
  ASSERT_EQ(Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{87, t}})})))->status, 204);
  ASSERT_EQ(Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(mem, {{7270, t}})})))->status, 204);
  RwLabels gr = kGpuLabels;
  gr[2].second = "DCGM_FI_PROF_GR_ENGINE_ACTIVE";
  ASSERT_EQ(Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(gr, {{0.873, t}})})))->status, 204);
  std::string body;
  ASSERT_EQ(Get("/api/v1/series?gpu=GPU-remote-1", Role::kAdmin, &body), 200) << body;
  auto json = nlohmann::json::parse(body);
  ASSERT_EQ(json["series"].size(), 1u);
  const auto& values = json["series"][0]["values"];
  ASSERT_EQ(values.size(), 1u) << body;
  EXPECT_EQ(values[0][0], t);
  EXPECT_EQ(values[0][1], 87.0);
  EXPECT_EQ(values[0][2], 7270.0);
  EXPECT_TRUE(values[0][3].is_null()) << "power was never reported";
  EXPECT_EQ(values[0][6], 0.873) << "graphics engine activity, as the shortest decimal of its float";
  std::string metrics;
  Get("/metrics", std::nullopt, &metrics);
  EXPECT_NE(metrics.find("gpuledger_journal_pending_samples 0"), std::string::npos) << metrics;
}

TEST_P(ServerTest, ProgressAndStopRequestsRoleMatrix) {
  auto ledger = Open();
  auto jobs = ledger->ListJobs();
  ledger.reset();
  const Job* mine = nullptr;
  for (const Job& j : *jobs) {
    if (j.project == "pcb-solder-qc" && !mine) mine = &j;
  }
  ASSERT_TRUE(mine);
  // A job still running: a finished one has nothing to stop (StopRequestsOfFinishedJobs...).
  Job live = *mine;
  live.id = "qc-live";
  live.status = JobStatus::kRunning;
  live.end_ms = 0;
  live.duration_limit_ms = 0;  // else, long past it, the duration policy pauses it (#13)
  ASSERT_TRUE(Open()->PutJobs({live}).ok());
  mine = &live;
  const std::string progress = "/api/v1/jobs/" + mine->id + "/progress",
                    stop = "/api/v1/jobs/" + mine->id + "/stop";
  const std::string epochs = R"({"epochs": [{"epoch": 41, "map50": 0.61}, {"epoch": 42, "map50": 0.62}]})";
  for (Role r : {Role::kUser, Role::kDeptAdmin, Role::kFinance}) {
    EXPECT_EQ(client_->Post(progress, Auth(r), epochs, "application/json")->status, 403);
  }
  auto posted = client_->Post(progress, Auth(Role::kIngest), epochs, "application/json");
  ASSERT_EQ(posted->status, 200) << posted->body;
  EXPECT_EQ(nlohmann::json::parse(posted->body)["stop"], false);
  EXPECT_EQ(
      client_->Post("/api/v1/jobs/no-such-job/progress", Auth(Role::kIngest), epochs, "application/json")
          ->status,
      404);
  auto bad =
      client_->Post(progress, Auth(Role::kIngest), R"({"epochs": [{"epoch": -1}]})", "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("epochs[0].epoch"), std::string::npos) << bad->body;

  // Who may ask the job to stop: its project's user, its department's admin, admins.
  EXPECT_EQ(client_->Post(stop, Auth(Role::kFinance), "", "application/json")->status, 403);
  EXPECT_EQ(client_->Post(stop, Auth(Role::kIngest), "", "application/json")->status, 403);
  EXPECT_EQ(client_->Post(stop, Auth(Role::kDeptAdmin), "", "application/json")->status, 404);
  EXPECT_EQ(client_->Post(stop, Auth(Role::kUser), R"({"reason": 5})", "application/json")->status, 400);
  auto asked =
      client_->Post(stop, Auth(Role::kUser), R"({"reason": "mAP has plateaued"})", "application/json");
  ASSERT_EQ(asked->status, 202) << asked->body;
  posted = client_->Post(progress, Auth(Role::kIngest), R"({"epochs": [{"epoch": 43}]})", "application/json");
  ASSERT_EQ(posted->status, 200);
  const auto answer = nlohmann::json::parse(posted->body);
  EXPECT_EQ(answer["stop"], true);
  EXPECT_EQ(answer["reason"], "mAP has plateaued");
  auto stored = Open()->GetProgress(mine->id);
  ASSERT_TRUE(stored.ok());
  auto e42 =
      std::find_if(stored->begin(), stored->end(), [](const EpochProgress& e) { return e.epoch == 42; });
  ASSERT_NE(e42, stored->end());
  EXPECT_DOUBLE_EQ(*e42->map50, 0.62);  // replaced what the simulator had written
  auto audit = Open()->ListAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->back().action, "POST /api/v1/jobs/{id}/stop");
}

// Allocations of `job` on GPU-remote-1, as (start, end).
std::vector<std::pair<TimeMs, TimeMs>> HoldsOf(std::unique_ptr<Ledger> ledger, const std::string& job) {
  std::vector<std::pair<TimeMs, TimeMs>> out;
  auto allocs = ledger->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});  // keep it alive while iterating
  for (const Allocation& a : *allocs) {
    if (a.job_id == job && a.gpu_uuid == "GPU-remote-1") out.emplace_back(a.start_ms, a.end_ms);
  }
  return out;
}

TEST_P(ServerTest, TheAgentRegistersGpusWithMemoryAndIntervalKeepingTheirServiceSpan) {
  // First seen by remote write (no memory, no interval), then registered by the agent.
  ASSERT_EQ(
      Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{55, 1794729600000}})})))->status,
      204);
  const std::string body = R"({"gpus": [{"uuid": "GPU-remote-1", "model": "NVIDIA A10G", "node": "node-9",
    "index": 0, "memory_mib": 23028, "sample_interval_ms": 1000, "in_service_from": "2026-11-15T09:00:00Z"},
    {"uuid": "GPU-agent-2", "model": "NVIDIA A10G", "node": "node-9", "index": 1, "memory_mib": 23028,
     "in_service_from": "2026-11-15T09:00:00Z"}]})";
  for (Role r : {Role::kUser, Role::kDeptAdmin, Role::kFinance}) {
    EXPECT_EQ(client_->Post("/api/v1/gpus", Auth(r), body, "application/json")->status, 403);
  }
  auto unknown = client_->Post("/api/v1/gpus", Auth(Role::kIngest),
                               R"({"gpus": [{"uuid": "GPU-x", "model": "A10G", "colour": "green"}]})",
                               "application/json");
  EXPECT_EQ(unknown->status, 400);
  EXPECT_NE(unknown->body.find("unknown field 'gpus[0].colour'"), std::string::npos) << unknown->body;
  auto done = client_->Post("/api/v1/gpus", Auth(Role::kIngest), body, "application/json");
  ASSERT_EQ(done->status, 200) << done->body;
  auto gpus = Open()->ListGpus();
  ASSERT_TRUE(gpus.ok());
  auto find = [&](const std::string& uuid) {
    auto it = std::find_if(gpus->begin(), gpus->end(), [&](const Gpu& g) { return g.uuid == uuid; });
    EXPECT_NE(it, gpus->end()) << uuid;
    return it == gpus->end() ? Gpu{} : *it;
  };
  const Gpu seen = find("GPU-remote-1");
  EXPECT_EQ(seen.memory_mib, 23028);
  EXPECT_EQ(seen.sample_interval_ms, 1000);
  EXPECT_EQ(seen.model, "A10G");
  EXPECT_EQ(seen.in_service_from, 1794729600000) << "the earlier of the two: its first sample, 08:00";
  const Gpu fresh = find("GPU-agent-2");
  EXPECT_EQ(fresh.in_service_from, 1794733200000);  // 09:00
  EXPECT_EQ(fresh.sample_interval_ms, 0);           // the ledger's default
}

TEST_P(ServerTest, AHeldGpuWithNoRecentSampleIsCountedInMetrics) {
  auto gauge = [&] {
    std::string body;
    EXPECT_EQ(Get("/metrics", std::nullopt, &body), 200);
    std::smatch m;
    if (!std::regex_search(body, m, std::regex(R"(\ngpuledger_held_gpus_without_samples (\d+)\n)")))
      return -1;
    return std::stoi(m[1]);
  };
  // The simulation leaves jobs running with open holds and no sample since October: flagged.
  const int before = gauge();
  EXPECT_GE(before, 1);
  // GPU-remote-1: one sample at 08:00, then held from 08:00 by a job; now is 12:00.
  ASSERT_EQ(
      Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{55, 1794729600000}})})))->status,
      204);
  const std::string job = R"({"id": "silent", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolo11n", "gpu_request": "1xA10G",
    "start": "2026-11-15T08:00:00Z", "allocations": [{"gpu_uuid": "GPU-remote-1", "start": "2026-11-15T08:00:00Z"}]})";
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json")->status, 201);
  EXPECT_EQ(gauge(), before + 1);  // billed for four hours, nothing heard for as long
  ASSERT_EQ(
      Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{40, 1794743940000}})})))->status,
      204);  // 11:59, still in the journal
  EXPECT_EQ(gauge(), before);
}

TEST_P(ServerTest, ACounterDipIsFlaggedOnTheJobsLineAndInMetrics) {
  // GPU-remote-1 at 10 s samples, 10:00 to 10:01; its energy counter reads 26.8 J low at
  // 10:00:30 (seen live), which counts nothing and is flagged, not billed as a reset.
  const TimeMs t0 = 1794736800000;  // 2026-11-15T10:00:00Z
  RwPoints util, energy;
  for (int i = 0; i <= 6; ++i) {
    util.emplace_back(90, t0 + i * 10 * kSecondMs);
    const double e = 4849626557291.0 + i * 2'700'000.0 - (i >= 3 ? 2'726'802.0 : 0.0);
    energy.emplace_back(e, t0 + i * 10 * kSecondMs);
  }
  RwLabels counter = kGpuLabels;
  counter[2] = {"__name__", "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"};
  ASSERT_EQ(
      Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, util), RwSeriesV1(counter, energy)})))
          ->status,
      204);
  const std::string job = R"({"id": "energy-dip", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "start": "2026-11-15T10:00:00Z", "end": "2026-11-15T10:01:00Z",
    "allocations": [{"gpu_uuid": "GPU-remote-1", "start": "2026-11-15T10:00:00Z", "end": "2026-11-15T10:01:00Z"}]})";
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json")->status, 201);
  ASSERT_TRUE(server_->FlushJournal().ok());
  std::string body;
  ASSERT_EQ(Get("/api/v1/reports/monthly?month=2026-11&by=job", Role::kAdmin, &body), 200) << body;
  const nlohmann::json report = nlohmann::json::parse(body);
  const nlohmann::json* line = nullptr;
  for (const nlohmann::json& l : report["lines"]) {
    if (l["key"] == "energy-dip") line = &l;
  }
  ASSERT_NE(line, nullptr) << body;
  EXPECT_EQ((*line)["energy_flags"], 1) << line->dump();
  // 6 intervals of 2.7 kJ but the dipped one, which counts nothing: 5 x 2.7 kJ = 13.5 kJ.
  EXPECT_NEAR((*line)["energy_kwh"].get<double>(), 13'500'000.0 / 3.6e9, 1e-9) << line->dump();
  ASSERT_EQ(Get("/api/v1/jobs/energy-dip", Role::kAdmin, &body), 200) << body;
  EXPECT_EQ(nlohmann::json::parse(body)["energy_flags"], 1) << body;
  // The exports carry it too: the JSON export's line and its GPU model, the FOCUS row.
  ASSERT_EQ(Get("/api/v1/exports/2026-11?format=json&by=job", Role::kAdmin, &body), 200) << body;
  bool exported = false;
  const nlohmann::json exported_doc = nlohmann::json::parse(body);
  for (const nlohmann::json& l : exported_doc["lines"]) {
    if (l["key"] != "energy-dip") continue;
    exported = true;
    EXPECT_EQ(l["energy_flags"], 1) << l.dump();
    EXPECT_EQ(l["by_gpu_model"][0]["energy_flags"], 1) << l.dump();
  }
  EXPECT_TRUE(exported) << body;
  ASSERT_EQ(Get("/api/v1/exports/2026-11?format=focus", Role::kAdmin, &body), 200) << body;
  const testing::Table focus = testing::ParseCsv(body);
  ASSERT_FALSE(focus.empty());
  const size_t column =
      static_cast<size_t>(std::find(focus[0].begin(), focus[0].end(), "x_EnergyFlags") - focus[0].begin());
  ASSERT_LT(column, focus[0].size()) << body;
  int flagged_rows = 0;
  for (const std::vector<std::string>& row : focus) {
    if (row.size() == focus[0].size() && row[column] == "1") ++flagged_rows;
  }
  EXPECT_EQ(flagged_rows, 1) << body;
  std::string metrics;
  ASSERT_EQ(Get("/metrics", std::nullopt, &metrics), 200);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(metrics, m,
                                std::regex(R"(\ngpuledger_books_energy_flags\{month="2026-11"\} (\d+)\n)")))
      << metrics;
  EXPECT_GE(std::stoi(m[1]), 1);
}

TEST_P(ServerTest, TheAgentsOutboxRegistersAGpuAndEndsAJobThroughTheShipper) {
  // What the agent queues, shipped by its Shipper to this server: a GPU, a job, its end.
  MemFileSystem fs;
  auto queue = DiskQueue::Open(fs, "/outbox", 8 << 20);
  ASSERT_TRUE(queue.ok());
  ASSERT_TRUE((*queue)
                  ->Append({0, "/api/v1/gpus", "application/json",
                            R"({"gpus": [{"uuid": "GPU-agent-1", "model": "NVIDIA A10G", "node": "node-9",
                                "index": 0, "memory_mib": 23028, "sample_interval_ms": 1000,
                                "in_service_from": "2026-11-15T07:00:00Z"}]})"})
                  .ok());
  ASSERT_TRUE((*queue)
                  ->Append({0, "/api/v1/jobs", "application/json",
                            R"({"id": "agent-run", "user": "lisi", "project": "defect-detection-line3",
                                "department": "manufacturing", "status": "running", "start": "2026-11-15T08:00:00Z",
                                "allocations": [{"gpu_uuid": "GPU-agent-1", "start": "2026-11-15T08:00:00Z"}]})"})
                  .ok());
  ASSERT_TRUE((*queue)
                  ->Append({0, "/api/v1/jobs/agent-run", "application/json",
                            R"({"status": "failed", "end": "2026-11-15T09:00:00Z"})", "PATCH"})
                  .ok());
  Shipper shipper(**queue, {"http://127.0.0.1:" + std::to_string(server_->port()), tokens_[Role::kIngest]});
  shipper.Run(/*drain=*/true);
  EXPECT_EQ(shipper.counters().sent, 3) << shipper.last_error();
  EXPECT_EQ(shipper.counters().rejected, 0);
  auto ledger = Open();
  auto job = ledger->GetJob("agent-run");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->status, JobStatus::kFailed);
  EXPECT_EQ((*job)->end_ms, 1794736800000 - kHourMs);  // 09:00Z
  auto held = ledger->AllocationsOverlapping({kMinTimeMs, kMaxTimeMs});
  ASSERT_TRUE(held.ok());
  bool found = false;
  for (const Allocation& a : *held) {
    if (a.job_id != "agent-run") continue;
    found = true;
    EXPECT_EQ(a.end_ms, (*job)->end_ms);
  }
  EXPECT_TRUE(found);
}

TEST_P(ServerTest, AStopIsRefusedOnAFinishedJobAndCanBeWithdrawnSoAReRunIsNotStopped) {
  auto jobs = Open()->ListJobs();
  ASSERT_TRUE(jobs.ok());
  std::optional<Job> finished;
  for (const Job& j : *jobs) {
    if (j.project == "pcb-solder-qc" && j.status == JobStatus::kSucceeded && !finished) finished = j;
  }
  ASSERT_TRUE(finished);
  auto refused =
      client_->Post("/api/v1/jobs/" + finished->id + "/stop", Auth(Role::kUser), "", "application/json");
  EXPECT_EQ(refused->status, 409) << refused->body;
  EXPECT_NE(refused->body.find("is succeeded"), std::string::npos) << refused->body;

  Job live = *finished;
  live.id = "qc-rerun";
  live.status = JobStatus::kRunning;
  live.end_ms = 0;
  live.duration_limit_ms = 0;  // else, long past it, the duration policy pauses it (#13)
  ASSERT_TRUE(Open()->PutJobs({live}).ok());
  const std::string stop = "/api/v1/jobs/qc-rerun/stop", progress = "/api/v1/jobs/qc-rerun/progress";
  EXPECT_EQ(client_->Delete(stop, Auth(Role::kUser))->status, 404);  // none to withdraw
  ASSERT_EQ(client_->Post(stop, Auth(Role::kUser), R"({"reason": "wrong lr"})", "application/json")->status,
            202);
  for (Role r : {Role::kFinance, Role::kIngest}) EXPECT_EQ(client_->Delete(stop, Auth(r))->status, 403);
  EXPECT_EQ(client_->Delete(stop, Auth(Role::kDeptAdmin))->status, 404);  // another department's job
  auto withdrawn = client_->Delete(stop, Auth(Role::kUser));
  ASSERT_EQ(withdrawn->status, 200) << withdrawn->body;
  EXPECT_EQ(nlohmann::json::parse(withdrawn->body)["stop"], false);
  // The re-run's next epoch is not told to stop.
  auto posted =
      client_->Post(progress, Auth(Role::kIngest), R"({"epochs": [{"epoch": 1}]})", "application/json");
  ASSERT_EQ(posted->status, 200) << posted->body;
  EXPECT_EQ(nlohmann::json::parse(posted->body)["stop"], false);
  auto audit = Open()->ListAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->back().action, "DELETE /api/v1/jobs/{id}/stop");
  EXPECT_EQ(audit->back().detail, "job=qc-rerun");
}

TEST_P(ServerTest, PatchEndsAJobAndItsOpenHoldsWithThePythonCallbacksBody) {
  const std::string job = R"({"id": "py-run", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolo11n", "gpu_request": "1xA10G",
    "start": "2026-11-15T08:00:00Z", "allocations": [{"gpu_uuid": "GPU-remote-1", "start": "2026-11-15T08:00:00Z"}]})";
  const std::string gpu = Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{55, 1794729600000}})}));
  ASSERT_EQ(Write(Role::kIngest, gpu)->status, 204);  // registers GPU-remote-1
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json")->status, 201);
  // Exactly what clients/python/gpuledger/client.py end_job sends.
  const std::string end = R"({"status": "succeeded", "end": "2026-11-15T11:30:00Z"})";
  EXPECT_EQ(client_->Patch("/api/v1/jobs/py-run", Auth(std::nullopt), end, "application/json")->status, 401);
  for (Role r : {Role::kUser, Role::kDeptAdmin, Role::kFinance}) {
    auto denied = client_->Patch("/api/v1/jobs/py-run", Auth(r), end, "application/json");
    EXPECT_EQ(denied->status, 403) << denied->body;
  }
  auto unknown = client_->Patch("/api/v1/jobs/py-run", Auth(Role::kIngest),
                                R"({"status": "failed", "gpus": "2"})", "application/json");
  EXPECT_EQ(unknown->status, 400);
  EXPECT_NE(unknown->body.find("unknown field 'gpus'"), std::string::npos) << unknown->body;
  auto early = client_->Patch("/api/v1/jobs/py-run", Auth(Role::kIngest),
                              R"({"status": "failed", "end": "2026-11-15T07:00:00Z"})", "application/json");
  EXPECT_EQ(early->status, 400);
  EXPECT_NE(early->body.find("is before its start 2026-11-15T08:00:00Z"), std::string::npos) << early->body;
  EXPECT_EQ(client_->Patch("/api/v1/jobs/no-such-job", Auth(Role::kIngest), end, "application/json")->status,
            404);

  auto ended = client_->Patch("/api/v1/jobs/py-run", Auth(Role::kIngest), end, "application/json");
  ASSERT_EQ(ended->status, 200) << ended->body;
  const auto answer = nlohmann::json::parse(ended->body);
  EXPECT_EQ(answer["status"], "succeeded");
  EXPECT_EQ(answer["end"], "2026-11-15T11:30:00Z");
  EXPECT_EQ(answer["allocations_ended"], 1);
  EXPECT_EQ(HoldsOf(Open(), "py-run"),
            (std::vector<std::pair<TimeMs, TimeMs>>{{1794729600000, 1794742200000}}));  // 08:00-11:30
  auto stored = Open()->GetJob("py-run");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, JobStatus::kSucceeded);
  // The same request again (a retry) is fine; another end from an ingest token is not.
  EXPECT_EQ(client_->Patch("/api/v1/jobs/py-run", Auth(Role::kIngest), end, "application/json")->status, 200);
  const std::string later = R"({"end": "2026-11-15T11:45:00Z"})";
  auto conflict = client_->Patch("/api/v1/jobs/py-run", Auth(Role::kIngest), later, "application/json");
  EXPECT_EQ(conflict->status, 409);
  EXPECT_NE(conflict->body.find("is already succeeded (ended 2026-11-15T11:30:00Z)"), std::string::npos)
      << conflict->body;
  auto corrected = client_->Patch("/api/v1/jobs/py-run", Auth(Role::kAdmin), later, "application/json");
  ASSERT_EQ(corrected->status, 200) << corrected->body;
  EXPECT_EQ(HoldsOf(Open(), "py-run"),
            (std::vector<std::pair<TimeMs, TimeMs>>{{1794729600000, 1794743100000}}));  // the hold follows
  auto audit = Open()->ListAudit();
  ASSERT_TRUE(audit.ok());
  EXPECT_EQ(audit->back().action, "PATCH /api/v1/jobs/{id}");
  EXPECT_EQ(audit->back().role, "admin");
  EXPECT_EQ(audit->back().detail, "job=py-run status=succeeded end=2026-11-15T11:45:00Z");
  // The job's view reads the end: no cost after 11:45.
  auto view = client_->Get("/api/v1/jobs/py-run", Auth(Role::kAdmin));
  ASSERT_EQ(view->status, 200) << view->body;
  EXPECT_EQ(nlohmann::json::parse(view->body)["status"], "succeeded") << view->body;
}

TEST_P(ServerTest, APodLabelNamesItsJobBeforeAndAfterTheJobIsRegistered) {
  const TimeMs t0 = 1793577600000;  // 2026-11-02T00:00:00Z
  auto hour = [&](int h) {
    RwPoints points;
    for (int i = 0; i < 60; ++i) points.emplace_back(90, t0 + (h * 60 + i) * kMinuteMs);
    return Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, points)}));  // labelled pod=yolo-train-0
  };
  ASSERT_EQ(Write(Role::kIngest, hour(0))->status, 204);  // no job claims the pod yet
  EXPECT_TRUE(HoldsOf(Settled(), "pod-job").empty());
  const std::string job = R"({"id": "pod-job", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "start": "2026-11-02T00:00:00Z", "labels": "pod=yolo-train-0"})";
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json")->status, 201);
  // The job claims the hour it was seen for, plus the last sample's interval (10 min here).
  EXPECT_EQ(HoldsOf(Settled(), "pod-job"),
            (std::vector<std::pair<TimeMs, TimeMs>>{{t0, t0 + 69 * kMinuteMs}}));
  ASSERT_EQ(Write(Role::kIngest, hour(1))->status, 204);  // and grows with new samples
  EXPECT_EQ(HoldsOf(Settled(), "pod-job"),
            (std::vector<std::pair<TimeMs, TimeMs>>{{t0, t0 + 129 * kMinuteMs}}));
  // The job's view and the month's report read the same books: the same GPU-hours, the
  // same cost, also for a job registered with no start (known only by its label).
  const std::string later = R"({"id": "pod-job-2", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "labels": "pod=yolo-train-9"})";
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), later, "application/json")->status, 201);
  RwLabels other = kGpuLabels;
  other.back().second = "yolo-train-9";
  RwPoints points;
  for (int i = 0; i < 60; ++i) points.emplace_back(80, t0 + (3 * 60 + i) * kMinuteMs);
  ASSERT_EQ(Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(other, points)})))->status, 204);
  (void)Settled();
  auto report = client_->Get("/api/v1/reports/monthly?month=2026-11&by=job", Auth(Role::kAdmin));
  ASSERT_EQ(report->status, 200) << report->body;
  const auto lines = nlohmann::json::parse(report->body)["lines"];
  for (const char* id : {"pod-job", "pod-job-2"}) {
    auto line = std::find_if(lines.begin(), lines.end(), [&](const auto& l) { return l["key"] == id; });
    ASSERT_NE(line, lines.end()) << id << " not in " << report->body;
    EXPECT_GT((*line)["gpu_hours"].get<double>(), 0.9) << id;
    auto view = client_->Get((std::string("/api/v1/jobs/") + id).c_str(), Auth(Role::kAdmin));
    ASSERT_EQ(view->status, 200) << view->body;
    const auto seen = nlohmann::json::parse(view->body);
    EXPECT_DOUBLE_EQ(seen["gpu_hours"].get<double>(), (*line)["gpu_hours"].get<double>()) << id;
    EXPECT_EQ(seen["cost"], (*line)["cost"]) << id;
  }
}

TEST_P(ServerTest, AGpuHandedToTheNextLabelledJobGoesToItFromWhereTheFirstHoldEnds) {
  const TimeMs t0 = 1793577600000;  // 2026-11-02T00:00:00Z
  auto samples = [&](const std::string& pod, int from_min, int to_min) {
    RwLabels labels = kGpuLabels;
    labels.back().second = pod;
    RwPoints points;
    for (int m = from_min; m < to_min; m += 10) points.emplace_back(90, t0 + m * kMinuteMs);
    return Snappy(RwRequestV1({RwSeriesV1(labels, points)}));
  };
  for (const char* id : {"a", "b"}) {
    const std::string job =
        std::string(R"({"id": "job-)") + id +
        R"(", "user": "lisi", "project": "defect-detection-line3", "department": "manufacturing",
      "start": "2026-11-01T00:00:00Z", "labels": "pod=pod-)" +
        id + R"("})";
    ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json")->status, 201);
  }
  ASSERT_EQ(Write(Role::kIngest, samples("pod-a", 0, 60))->status, 204);  // job a: 00:00 .. 00:50
  // Job b's first sample comes 5 minutes after a's last: inside a's last interval (10 min).
  ASSERT_EQ(Write(Role::kIngest, samples("pod-b", 55, 120))->status, 204);
  ASSERT_EQ(Write(Role::kIngest, samples("pod-b", 125, 130))->status, 204);
  EXPECT_EQ(HoldsOf(Settled(), "job-a"), (std::vector<std::pair<TimeMs, TimeMs>>{{t0, t0 + 60 * kMinuteMs}}));
  EXPECT_EQ(HoldsOf(Settled(), "job-b"),
            (std::vector<std::pair<TimeMs, TimeMs>>{{t0 + 60 * kMinuteMs, t0 + 135 * kMinuteMs}}));
}

TEST_P(ServerTest, AnExplicitAllocationWinsOverALabel) {
  const TimeMs t0 = 1793577600000;
  const std::string holder = R"({"id": "holder", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "start": "2026-11-02T00:00:00Z", "allocations": [{"gpu_uuid": "GPU-remote-1",
    "start": "2026-11-02T00:00:00Z", "end": "2026-11-03T00:00:00Z"}]})";
  const std::string labelled = R"({"id": "pod-job", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "start": "2026-11-02T00:00:00Z", "labels": "pod=yolo-train-0"})";
  // The GPU must exist for the explicit allocation: one sample registers it.
  ASSERT_EQ(Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{50, t0 - kHourMs}})})))->status,
            204);
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), holder, "application/json")->status, 201);
  ASSERT_EQ(client_->Post("/api/v1/jobs", Auth(Role::kIngest), labelled, "application/json")->status, 201);
  ASSERT_EQ(
      Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{90, t0 + kMinuteMs}})})))->status,
      204);
  EXPECT_TRUE(HoldsOf(Settled(), "pod-job").empty());
  EXPECT_EQ(HoldsOf(Settled(), "holder").size(), 1u);
  std::string metrics;
  Get("/metrics", std::nullopt, &metrics);  // after the flushes above
  EXPECT_EQ(metrics.find("gpuledger_label_conflicts_total 0"), std::string::npos) << metrics;
}

TEST_P(ServerTest, RemoteWrite2AnswersWithWrittenCounts) {
  auto res =
      Write(Role::kIngest, Snappy(RwRequestV2({{kGpuLabels, {{40, 1790900000000}, {60, 1790900010000}}}})),
            "application/x-protobuf;proto=io.prometheus.write.v2.Request");
  ASSERT_EQ(res->status, 204) << res->body;
  EXPECT_EQ(res->get_header_value("X-Prometheus-Remote-Write-Samples-Written"), "2");
  EXPECT_EQ(StoredSamples("GPU-remote-1"), 2);
}

TEST_P(ServerTest, BadWritesGetTheRightStatusAndStoreNothing) {
  double stale_free_nan = std::numeric_limits<double>::quiet_NaN();
  RwLabels unsorted = kGpuLabels;
  std::swap(unsorted[0], unsorted[1]);
  RwLabels energy = kGpuLabels;
  energy[2].second = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";
  struct Case {
    const char* name;
    std::string body;
    std::string type;
    int status;
    const char* message;
  } cases[] = {
      {"wrong content type", Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{1, 1790900000000}})})),
       "application/json", 415, "unsupported Content-Type"},
      {"corrupt snappy", std::string("\x05\xff\xff\xff junk", 10), "application/x-protobuf", 400, "snappy"},
      {"unsorted labels", Snappy(RwRequestV1({RwSeriesV1(unsorted, {{1, 1790900000000}})})),
       "application/x-protobuf", 400, "label names not sorted and unique ('UUID' then 'Hostname')"},
      {"NaN in a counter",
       Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{1, 1790900000000}}),
                           RwSeriesV1(energy, {{stale_free_nan, 1790900000000}})})),
       "application/x-protobuf", 400, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION is not finite"},
      {"timestamp far in the future", Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{1, 5680000000000}})})),
       "application/x-protobuf", 400, "outside the accepted range"},
      {"body over the limit", Incompressible(100 * 1024), "application/x-protobuf", 413, ""},
  };
  for (const Case& c : cases) {
    auto res = Write(Role::kIngest, c.body, c.type);
    ASSERT_TRUE(res) << c.name;
    EXPECT_EQ(res->status, c.status) << c.name << ": " << res->body;
    EXPECT_NE(res->body.find(c.message), std::string::npos) << c.name << ": " << res->body;
  }
  EXPECT_EQ(StoredSamples("GPU-remote-1"), 0);
  std::string metrics;
  Get("/metrics", std::nullopt, &metrics);
  EXPECT_NE(metrics.find("gpuledger_remote_write_rejected_total 5"), std::string::npos)
      << metrics;  // 413 is the HTTP front's, before the handler
}

TEST_P(ServerTest, EveryRefusalIsTheDocumentedJsonError) {
  auto is_error = [](const httplib::Result& r, int status, const std::string& part) {
    if (!r) return ::testing::AssertionFailure() << "no answer";
    const auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (r->status != status || !j.is_object() || !j.contains("error") || !j["error"].is_string() ||
        !j.contains("message") || j["message"].get<std::string>().find(part) == std::string::npos)
      return ::testing::AssertionFailure() << r->status << " " << r->body;
    return ::testing::AssertionSuccess();
  };
  const std::string v1 = Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{1, 1790900000000}})}));
  EXPECT_TRUE(is_error(Write(Role::kIngest, v1, "application/json"), 415, "unsupported Content-Type"));
  httplib::Headers gz = Auth(Role::kIngest);
  gz.emplace("Content-Encoding", "gzip");
  EXPECT_TRUE(is_error(client_->Post("/api/v1/write", gz, v1, "application/x-protobuf"), 415,
                       "unsupported Content-Encoding 'gzip'"));
  EXPECT_TRUE(
      is_error(client_->Get("/api/v1/nowhere", Auth(Role::kAdmin)), 404, "no route GET /api/v1/nowhere"));
  EXPECT_TRUE(is_error(Write(Role::kIngest, Incompressible(100 * 1024)), 413,
                       "request body 102400 bytes exceeds limit 65536 bytes"));
  EXPECT_TRUE(is_error(
      client_->Get("/api/v1/reports/monthly?month=2026-10&format=csv", Auth(Role::kAdmin)), 400,
      "unknown query parameter 'format' on /api/v1/reports/monthly (it takes month, by, share_idle, idle_gpus)"));
  EXPECT_TRUE(is_error(client_->Get("/api/v1/series?job=a&job=b", Auth(Role::kAdmin)), 400,
                       "query parameter 'job' given 2 times"));
  EXPECT_TRUE(is_error(client_->Get("/api/v1/jobs/a%1b[31m", Auth(Role::kAdmin)), 400,
                       "job id \"a\\x1b[31m\" (6 bytes) has control character \\x1b"));
  EXPECT_TRUE(
      is_error(client_->Get("/api/v1/series?job=..%2Fx", Auth(Role::kAdmin)), 400, "no path separators"));
}

// This process's resident set (the server runs in it).
int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * ::sysconf(_SC_PAGESIZE);
}

TEST_P(ServerTest, BodiesWithoutATokenAreRefusedBeforeTheyAreRead) {
  // The client's blocks are made once: what the process's RSS measures is the server's.
  const std::string block(64 * 1024, 'x');
  const std::string small(16 * 1024, 'x');
  const int64_t rss_before = RssBytes();
  // A gzip bomb (within --max-body): refused by its encoding, never decoded (the library
  // used to inflate 0.5 MB into 512 MiB before the token was looked at).
  httplib::Headers gz;
  gz.emplace("Content-Encoding", "gzip");
  auto bomb = client_->Post("/api/v1/write", gz, std::string(32 * 1024, '\0'), "application/x-protobuf");
  ASSERT_TRUE(bomb);
  EXPECT_EQ(bomb->status, 415);
  // An endless chunked body: refused for its missing token after its head.
  size_t offered = 0;
  httplib::Client chunked("127.0.0.1", server_->port());
  auto res = chunked.Post(
      "/api/v1/write", {},
      [&](size_t, httplib::DataSink& sink) {
        offered += block.size();
        return offered < (256u << 20) && sink.write(block.data(), block.size());
      },
      "application/x-protobuf");
  if (res) {
    EXPECT_EQ(res->status, 401);  // or the connection closed under the sender
  }
  EXPECT_LT(offered, 64u << 20) << "the server stopped taking the body";
  // A token whose role may not write is refused before the body too.
  offered = 0;
  auto user = chunked.Post(
      "/api/v1/write", Auth(Role::kUser),
      [&](size_t, httplib::DataSink& sink) {
        offered += block.size();
        return offered < (256u << 20) && sink.write(block.data(), block.size());
      },
      "application/x-protobuf");
  if (user) {
    EXPECT_EQ(user->status, 403) << user->body;
  }
  EXPECT_LT(offered, 64u << 20);
  // With a token, a chunked body is bounded by --max-body (64 KiB here).
  offered = 0;
  auto big = chunked.Post(
      "/api/v1/write", Auth(Role::kIngest),
      [&](size_t, httplib::DataSink& sink) {
        offered += small.size();
        return offered < (256u << 20) && sink.write(small.data(), small.size());
      },
      "application/x-protobuf");
  if (big) {
    EXPECT_EQ(big->status, 413) << big->body;
  }
  EXPECT_LT(offered, 64u << 20);
#if !defined(__SANITIZE_ADDRESS__)
  // (Under AddressSanitizer freed memory sits in its quarantine, so RSS says nothing of
  // what the server holds: the bound is checked by the plain build.)
  EXPECT_LT(RssBytes() - rss_before, 16 << 20) << "the refused bodies were not held in memory";
#else
  (void)rss_before;
#endif
  EXPECT_EQ(StoredSamples("GPU-remote-1"), 0);
}

TEST_P(ServerTest, WrongBodiesAreRefusedNotAcknowledgedAsEmpty) {
  // A 2.0 body under the 1.0 content type decoded to nothing and answered 204.
  auto v2 = Write(Role::kIngest, Snappy(RwRequestV2({{kGpuLabels, {{40, 1790900000000}}}})));
  ASSERT_TRUE(v2);
  EXPECT_EQ(v2->status, 400) << v2->body;
  EXPECT_NE(v2->body.find("is this a 2.0 io.prometheus.write.v2.Request?"), std::string::npos) << v2->body;
  // A 1.0 body whose timeseries field is a varint.
  auto wrong = Write(Role::kIngest, Snappy(ProtoWriter().Varint(1, 5).str()));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400) << wrong->body;
  EXPECT_NE(wrong->body.find("WriteRequest.timeseries (field 1) has wire type 0 (varint)"), std::string::npos)
      << wrong->body;
  EXPECT_EQ(StoredSamples("GPU-remote-1"), 0);
}

TEST_P(ServerTest, ARefusedWriteLeavesNoGpuNoSightingNoSampleBehind) {
  auto gpus_before = Open()->ListGpus();
  ASSERT_TRUE(gpus_before.ok());
  RwLabels long_uuid = kGpuLabels;
  long_uuid[1].second = "GPU-" + std::string(300, 'f');
  RwLabels other = kGpuLabels;
  other[1].second = "GPU-remote-2";
  struct Case {
    const char* name;
    std::string body;
    const char* message;
  } cases[] = {
      {"a UUID over 255 bytes beside a good GPU",
       Snappy(RwRequestV1(
           {RwSeriesV1(kGpuLabels, {{40, 1790900000000}}), RwSeriesV1(long_uuid, {{40, 1790900000000}})})),
       "(304 bytes) exceeds the limit 255 bytes"},
      {"a UUID with an escape character",
       Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{40, 1790900000000}}),
                           RwSeriesV1({{"UUID", "GPU-\x1b[2J"}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"}},
                                      {{40, 1790900000000}})})),
       "has control character \\x1b"},
      {"a sample out of range on a new GPU",
       Snappy(RwRequestV1({RwSeriesV1(other, {{40, 1790900000000}, {40, 5680000000000}})})),
       "outside the accepted range"},
      // What the ledger would refuse of a new GPU is refused before anything is journaled
      // (a journaled GPU the flush cannot store would hold the journal back).
      {"a new GPU without a modelName",
       Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{40, 1790900000000}}),
                           RwSeriesV1({{"UUID", "GPU-remote-3"}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"}},
                                      {{40, 1790900000000}})})),
       "GPU GPU-remote-3: model is empty"},
      {"a new GPU with an index out of range",
       Snappy(RwRequestV1({RwSeriesV1({{"UUID", "GPU-remote-3"},
                                       {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                                       {"gpu", "1024"},
                                       {"modelName", "A10G"}},
                                      {{40, 1790900000000}})})),
       "index 1024 is outside [0, 1023]"},
  };
  for (const Case& c : cases) {
    auto res = Write(Role::kIngest, c.body);
    ASSERT_TRUE(res) << c.name;
    EXPECT_EQ(res->status, 400) << c.name << ": " << res->body;
    EXPECT_NE(MessageOf(res->body).find(c.message), std::string::npos) << c.name << ": " << res->body;
  }
  EXPECT_EQ(StoredSamples("GPU-remote-1"), 0);
  EXPECT_EQ(StoredSamples("GPU-remote-2"), 0);
  EXPECT_EQ(StoredSamples("GPU-remote-3"), 0);
  ASSERT_TRUE(server_->FlushJournal().ok()) << "nothing journaled that the ledger refuses";
  ASSERT_TRUE(server_->FlushSightings().ok());
  auto ledger = Settled();
  auto gpus_after = ledger->ListGpus();
  ASSERT_TRUE(gpus_after.ok());
  EXPECT_EQ(gpus_after->size(), gpus_before->size()) << "no GPU registered by a refused request";
  for (const Gpu& g : *gpus_after) EXPECT_EQ(g.uuid.rfind("GPU-remote", 0), std::string::npos) << g.uuid;
  std::string metrics;
  Get("/metrics", std::nullopt, &metrics);
  EXPECT_NE(metrics.find("gpuledger_label_allocations_total 0"), std::string::npos) << metrics;
}

// A batch of GPUs or of epochs with one bad entry is refused whole: none of the good
// entries before it is stored, and a pending job is not started by a refused report.
TEST_P(ServerTest, ARefusedGpuOrProgressBatchStoresNoneOfIt) {
  auto gpus_before = Open()->ListGpus();
  ASSERT_TRUE(gpus_before.ok());
  const std::string good = R"({"uuid": "GPU-batch-1", "model": "NVIDIA A10G", "node": "n9"})";
  const std::pair<std::string, const char*> gpu_cases[] = {
      {R"({"gpus": [)" + good + R"(, {"uuid": "GPU-batch-2", "model": 7}]})",
       "gpus[1].model must be a string"},
      {R"({"gpus": [)" + good + R"(, {"uuid": "GPU-batch-2", "in_service_from": "yesterday"}]})",
       "gpus[1].in_service_from"},
      {R"({"gpus": [)" + good + R"(, {"uuid": ")" + std::string(300, 'f') + R"("}]})", "bytes, over 256"},
      {R"({"gpus": [)" + good + R"(, 5]})", "gpus[1] is not an object"},
  };
  for (const auto& [body, message] : gpu_cases) {
    auto res = client_->Post("/api/v1/gpus", Auth(Role::kIngest), body, "application/json");
    ASSERT_TRUE(res) << message;
    EXPECT_EQ(res->status, 400) << message << ": " << res->body;
    EXPECT_NE(MessageOf(res->body).find(message), std::string::npos) << res->body;
  }
  auto gpus_after = Open()->ListGpus();
  ASSERT_TRUE(gpus_after.ok());
  EXPECT_EQ(gpus_after->size(), gpus_before->size());
  for (const Gpu& g : *gpus_after)
    EXPECT_NE(g.uuid, "GPU-batch-1") << "a refused batch registered its good GPU";

  const std::string job = R"({"id": "batch-job", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolov8s", "status": "pending"})";
  auto created = client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json");
  ASSERT_EQ(created->status, 201) << created->body;
  const char* progress_cases[][2] = {
      {R"({"epochs": [{"epoch": 1, "map50": 0.3}, {"epoch": 2, "map50": 41}]})",
       "epochs[1].map50 41 is outside [0, 1]"},
      {R"({"epochs": [{"epoch": 1}, {"epoch": 2, "colour": 1}]})", "epochs[1]: unknown field 'colour'"},
      {R"({"epochs": [{"epoch": 1}, {"epoch": 0}]})", "epochs[1].epoch must be an integer"},
  };
  for (const auto& [body, message] : progress_cases) {
    auto res =
        client_->Post("/api/v1/jobs/batch-job/progress", Auth(Role::kIngest), body, "application/json");
    ASSERT_TRUE(res) << message;
    EXPECT_EQ(res->status, 400) << message << ": " << res->body;
    EXPECT_NE(MessageOf(res->body).find(message), std::string::npos) << res->body;
  }
  auto ledger = Open();
  auto epochs = ledger->GetProgress("batch-job");
  ASSERT_TRUE(epochs.ok());
  EXPECT_TRUE(epochs->empty()) << "a refused report stored " << epochs->size() << " epoch(s)";
  auto still = ledger->GetJob("batch-job");
  ASSERT_TRUE(still.ok() && still->has_value());
  EXPECT_EQ((*still)->status, JobStatus::kPending) << "a refused report started the job";
  EXPECT_EQ((*still)->start_ms, 0);
}

TEST_P(ServerTest, AWorkloadLabelThatIsNoJobIdKeepsItsSamplesButNoSighting) {
  RwLabels labels = kGpuLabels;
  labels[5].second = "yolo\x1b[2J";  // pod
  auto res = Write(Role::kIngest, Snappy(RwRequestV1({RwSeriesV1(labels, {{40, 1790900000000}})})));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 204) << res->body;
  EXPECT_EQ(StoredSamples("GPU-remote-1"), 1);
  ASSERT_TRUE(server_->FlushSightings().ok());
  auto seen = Settled()->FindSightings("pod", "yolo\x1b[2J");
  ASSERT_TRUE(seen.ok()) << seen.status().ToString();
  EXPECT_TRUE(seen->empty());
}

TEST_P(ServerTest, JobNumbersTakeJsonNumbersAndIdsAreChecked) {
  const std::string job = R"({"id": "api-job-2", "user": "lisi", "project": "defect-detection-line3",
    "department": "manufacturing", "model_type": "yolov8s", "epochs": 50, "batch": -1, "imgsz": 640,
    "dataset_images": 1200, "amp": true, "start": "2026-11-02T00:00:00Z"})";
  auto created = client_->Post("/api/v1/jobs", Auth(Role::kIngest), job, "application/json");
  ASSERT_EQ(created->status, 201) << created->body;
  auto stored = Open()->GetJob("api-job-2");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->epochs, 50);
  EXPECT_EQ((*stored)->imgsz, 640);
  EXPECT_TRUE((*stored)->amp);
  auto frac = client_->Post(
      "/api/v1/jobs", Auth(Role::kIngest),
      R"({"id": "api-job-3", "user": "lisi", "project": "p", "department": "d", "epochs": 2.5})",
      "application/json");
  EXPECT_EQ(frac->status, 400);
  EXPECT_NE(frac->body.find("field 'epochs' must be an integer, got 2.5"), std::string::npos) << frac->body;
  for (const char* id : {"a\\u0000b", "../x", "a/b", "   ", "a\\nb", "\\u001b[31m"}) {
    const std::string body =
        std::string(R"({"id": ")") + id +
        R"(", "user": "lisi", "project": "defect-detection-line3", "department": "manufacturing"})";
    auto r = client_->Post("/api/v1/jobs", Auth(Role::kIngest), body, "application/json");
    EXPECT_EQ(r->status, 400) << id << ": " << r->body;
    EXPECT_EQ(MessageOf(r->body).rfind("job id \"", 0), 0u) << id << ": " << r->body;
  }
  auto long_id = client_->Post(
      "/api/v1/jobs", Auth(Role::kIngest),
      R"({"id": ")" + std::string(100000, 'a') +
          R"(", "user": "lisi", "project": "defect-detection-line3", "department": "manufacturing"})",
      "application/json");
  EXPECT_EQ(long_id->status, 413) << "over --max-body (64 KiB here)";
}

TEST_P(ServerTest, HealthzAndReadyzNameEachDependencyWithoutAToken) {
  const std::optional<Role> none;
  std::string body;
  ASSERT_EQ(Get("/healthz", none, &body), 200);
  const auto j = nlohmann::json::parse(body, nullptr, false);
  ASSERT_TRUE(j.is_object()) << body;
  EXPECT_EQ(j["status"], "ok") << body;
  EXPECT_EQ(j["ready"], true);
  const auto& db = j["dependencies"]["database"];
  EXPECT_EQ(db["ok"], true) << body;
  EXPECT_EQ(db["backend"], GetParam() == "postgres" ? "postgresql" : "sqlite") << body;
  const auto& journal = j["dependencies"]["journal"];
  EXPECT_EQ(journal["enabled"], true) << body;
  EXPECT_EQ(journal["ok"], true) << body;
  EXPECT_EQ(journal["pending_samples"], 0) << body;
  ASSERT_EQ(Get("/readyz", none, &body), 200);
  EXPECT_EQ(nlohmann::json::parse(body, nullptr, false)["ready"], true) << body;
  EXPECT_EQ(Get("/readyz?verbose=1", none, &body), 400) << body;
  ASSERT_EQ(Get("/metrics", none, &body), 200);
  EXPECT_NE(body.find("\ngpuledger_database_up 1\n"), std::string::npos) << body;
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& p) { return p.param; });

// An ingest token stored in the SQLite ledger at `db` (created if missing): its secret,
// empty when it could not be stored (the failure is reported).
std::string IngestTokenIn(const std::string& db) {
  auto ledger = OpenLedger(db);
  EXPECT_TRUE(ledger.ok()) << ledger.status().ToString();
  if (!ledger.ok()) return "";
  auto t = MakeToken(Role::kIngest, "", "", kClock.Now());
  const Status put = (*ledger)->PutToken(t->record);
  EXPECT_TRUE(put.ok()) << put.ToString();
  return put.ok() ? t->secret : "";
}

TEST(ServerJournal, AFullJournalRefusesWithItsFiguresAndLosesNothingAccepted) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/j.db";
  const std::string token = IngestTokenIn(db);
  ASSERT_FALSE(token.empty());
  ServerOptions opt;
  opt.port = 0;
  opt.journal_dir = dir.path() + "/journal";
  opt.journal_flush_interval_ms = kMinuteMs;  // only the flushes this test asks for
  opt.journal_max_pending_samples = 3;
  Server server(std::move(OpenLedger(db)).value(), kClock, opt);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  const httplib::Headers h = {{"Authorization", "Bearer " + token}, {"Content-Encoding", "snappy"}};
  auto two = [&](TimeMs t) {  // one GPU at two times: two samples
    return Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{40, t}, {50, t + 10'000}})}));
  };
  const TimeMs t0 = 1790900000000;
  ASSERT_EQ(client.Post("/api/v1/write", h, two(t0), "application/x-protobuf")->status, 204);
  auto full = client.Post("/api/v1/write", h, two(t0 + 20'000), "application/x-protobuf");
  ASSERT_EQ(full->status, 503) << "a retry can fix it";
  EXPECT_NE(full->body.find("holds 2 samples not yet in the ledger (limit 3)"), std::string::npos)
      << full->body;
  ASSERT_TRUE(server.FlushJournal().ok());  // the ledger catches up
  ASSERT_EQ(client.Post("/api/v1/write", h, two(t0 + 20'000), "application/x-protobuf")->status, 204);
  server.Stop();
  int64_t stored = 0;
  ASSERT_TRUE((*OpenLedger(db))
                  ->ScanSamples("GPU-remote-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++stored; })
                  .ok());
  EXPECT_EQ(stored, 4) << "both accepted requests, nothing of the refused one twice";
}

TEST(ServerSlowClients, FiveHundredSlowHeadsStopNeitherHealthzNorAWellBehavedSender) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/slow.db";
  const std::string token = IngestTokenIn(db);
  ASSERT_FALSE(token.empty());
  ServerOptions opt;
  opt.port = 0;
  opt.journal_dir = dir.path() + "/journal";
  opt.max_connections_per_client = 2000;  // every client here is 127.0.0.1
  opt.head_timeout_ms = 60'000;           // the slow heads stay for the whole test
  Server server(std::move(OpenLedger(db)).value(), kClock, opt);
  ASSERT_TRUE(server.Start().ok());
  // Each sends a first header byte and nothing more (as one byte a second would look to
  // the server for the length of this test). Eight used to hold every worker thread.
  // Each slow client costs this process two descriptors (its end and the server's): 500
  // of them, or as many as the descriptor limit allows.
  rlimit fds{};
  ::getrlimit(RLIMIT_NOFILE, &fds);
  fds.rlim_cur = std::max(fds.rlim_cur, std::min<rlim_t>(fds.rlim_max, 4096));
  ::setrlimit(RLIMIT_NOFILE, &fds);
  const int slow_clients = static_cast<int>(std::min<rlim_t>(500, (fds.rlim_cur - 100) / 2));
  std::vector<int> slow;
  for (int i = 0; i < slow_clients; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(server.port()));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::send(fd, "P", 1, MSG_NOSIGNAL), 1);
    slow.push_back(fd);
  }
  httplib::Client client("127.0.0.1", server.port());
  client.set_read_timeout(5, 0);
  const httplib::Headers h = {{"Authorization", "Bearer " + token}, {"Content-Encoding", "snappy"}};
  for (int i = 0; i < 20; ++i) {
    auto health = client.Get("/healthz");
    ASSERT_TRUE(health) << "request " << i;
    EXPECT_EQ(health->status, 200);
    auto w = client.Post("/api/v1/write", h,
                         Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{40, 1790900000000 + i * 10'000}})})),
                         "application/x-protobuf");
    ASSERT_TRUE(w) << "request " << i;
    EXPECT_EQ(w->status, 204) << w->body;
  }
  EXPECT_GE(server.open_connections(), static_cast<size_t>(slow_clients));
  for (int fd : slow) ::close(fd);
  server.Stop();
  int64_t stored = 0;
  ASSERT_TRUE((*OpenLedger(db))
                  ->ScanSamples("GPU-remote-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++stored; })
                  .ok());
  EXPECT_EQ(stored, 20);
}

TEST(ServerDiskFull, AFullJournalDiskRefusesWritesWith503KeepsNothingOfThemAndResumes) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/full.db";
  const std::string token = IngestTokenIn(db);
  ASSERT_FALSE(token.empty());
  MemFileSystem fs;  // the journal's disk
  ServerOptions opt;
  opt.port = 0;
  opt.journal_dir = "/journal";
  Server server(std::move(OpenLedger(db)).value(), kClock, opt, &fs);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  const httplib::Headers h = {{"Authorization", "Bearer " + token}, {"Content-Encoding", "snappy"}};
  RwLabels other = kGpuLabels;  // a GPU only the refused writes name
  other[1].second = "GPU-remote-2";
  auto write = [&](int i, bool with_other = false) {
    std::vector<std::string> series = {RwSeriesV1(kGpuLabels, {{40, 1790900000000 + i * 10'000}})};
    if (with_other) series.push_back(RwSeriesV1(other, {{40, 1790900000000 + i * 10'000}}));
    return client.Post("/api/v1/write", h, Snappy(RwRequestV1(series)), "application/x-protobuf");
  };
  auto first = write(0);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 204) << first->body;
  fs.SetCapacity(0);  // the disk fills
  for (int i = 1; i <= 3; ++i) {
    auto refused = write(i, true);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 503) << refused->body;  // a sender keeps it and retries
    EXPECT_NE(refused->body.find("\"RESOURCE_EXHAUSTED\""), std::string::npos) << refused->body;
    EXPECT_NE(MessageOf(refused->body).find("no space left on device"), std::string::npos) << refused->body;
  }
  fs.SetCapacity(-1);  // space again: the next write is taken
  auto resumed = write(4);
  ASSERT_TRUE(resumed);
  EXPECT_EQ(resumed->status, 204) << resumed->body;
  ASSERT_TRUE(server.FlushJournal().ok());
  ASSERT_TRUE(server.FlushSightings().ok());
  server.Stop();
  // Exactly what was acknowledged: the first and the last, none of the refused three,
  // and no GPU row for GPU-remote-2, named only by them (new GPUs are journaled with
  // their samples and registered by the flush).
  auto ledger = OpenLedger(db);
  auto gpus = (*ledger)->ListGpus();
  ASSERT_TRUE(gpus.ok());
  ASSERT_EQ(gpus->size(), 1u);
  EXPECT_EQ((*gpus)[0].uuid, "GPU-remote-1");
  ASSERT_TRUE(ledger.ok());
  std::vector<TimeMs> stored;
  for (const char* gpu : {"GPU-remote-1", "GPU-remote-2"}) {
    ASSERT_TRUE(
        (*ledger)
            ->ScanSamples(gpu, {kMinTimeMs, kMaxTimeMs}, [&](const Sample& s) { stored.push_back(s.t); })
            .ok());
  }
  EXPECT_EQ(stored, (std::vector<TimeMs>{1790900000000, 1790900040000}));
}

TEST(ServerJournal, AGpuAcknowledgedBeforeACrashIsRegisteredByTheReplay) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/replay.db";
  MemFileSystem fs;  // the journal's disk, as a killed server left it
  {
    auto j = IngestJournal::Open(fs, "/journal");
    ASSERT_TRUE(j.ok());
    Gpu g;
    g.uuid = "GPU-crash-1";
    g.node = "n3";
    g.model = "L4";
    g.in_service_from = 1790900000000;
    Sample s;
    s.t = 1790900000000;
    s.util_pct = 55;
    ASSERT_TRUE((*j)->Append({{"GPU-crash-1", s}}, {g}).ok());
  }
  ServerOptions opt;
  opt.port = 0;
  opt.journal_dir = "/journal";
  Server server(std::move(OpenLedger(db)).value(), kClock, opt, &fs);
  ASSERT_TRUE(server.Start().ok());  // replays and flushes before it listens
  server.Stop();
  auto ledger = OpenLedger(db);
  auto gpus = (*ledger)->ListGpus();
  ASSERT_TRUE(gpus.ok());
  ASSERT_EQ(gpus->size(), 1u);
  EXPECT_EQ((*gpus)[0].uuid, "GPU-crash-1");
  EXPECT_EQ((*gpus)[0].model, "L4");
  EXPECT_EQ((*gpus)[0].node, "n3");
  int64_t stored = 0;
  ASSERT_TRUE(
      (*ledger)->ScanSamples("GPU-crash-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample&) { ++stored; }).ok());
  EXPECT_EQ(stored, 1);
  EXPECT_EQ(server.counters().gpus_registered.load(), 1);
}

// Until a flush has registered a new GPU, every journal frame naming it carries it: each
// frame can be stored on its own, so a damaged earlier frame cannot strand later samples
// of a GPU the ledger never heard of.
TEST(ServerJournal, EveryFrameCarriesTheNewGpusItNamesUntilAFlushRegistersThem) {
  testing::TempDir dir;
  const std::string db = dir.path() + "/carry.db";
  const std::string token = IngestTokenIn(db);
  ASSERT_FALSE(token.empty());
  MemFileSystem fs;
  ServerOptions opt;
  opt.port = 0;
  opt.journal_dir = "/journal";
  opt.journal_flush_interval_ms = kHourMs;  // only the flush this test asks for
  Server server(std::move(OpenLedger(db)).value(), kClock, opt, &fs);
  ASSERT_TRUE(server.Start().ok());
  httplib::Client client("127.0.0.1", server.port());
  const httplib::Headers h = {{"Authorization", "Bearer " + token}, {"Content-Encoding", "snappy"}};
  auto write = [&](TimeMs t) {
    auto w = client.Post("/api/v1/write", h, Snappy(RwRequestV1({RwSeriesV1(kGpuLabels, {{40, t}})})),
                         "application/x-protobuf");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->status, 204) << w->body;
  };
  // The GPUs each frame on disk carries, frame by frame.
  auto frames = [&] {
    std::vector<size_t> out;
    auto files = fs.List("/journal");
    EXPECT_TRUE(files.ok());
    for (const std::string& f : *files) {
      auto bytes = fs.ReadAll("/journal/" + f);
      EXPECT_TRUE(bytes.ok());
      size_t at = 0;
      while (at + 12 <= bytes->size()) {  // [u32 length][u64 checksum][payload]
        const size_t len = GetLe(*bytes, at, 4);
        std::vector<GpuSample> rows;
        std::vector<Gpu> gpus;
        EXPECT_TRUE(DecodeJournalPayload(std::string_view(*bytes).substr(at + 12, len), rows, &gpus).ok());
        out.push_back(gpus.size());
        at += 12 + len;
      }
    }
    return out;
  };
  write(1790900000000);
  write(1790900010000);
  EXPECT_EQ(frames(), (std::vector<size_t>{1, 1})) << "both frames carry GPU-remote-1";
  ASSERT_TRUE(server.FlushJournal().ok());
  write(1790900020000);
  EXPECT_EQ(frames(), (std::vector<size_t>{0})) << "registered: the next frame need not carry it";
  server.Stop();
  EXPECT_EQ(server.counters().gpus_registered.load(), 1);
}

TEST(ServerScrape, ScrapesADcgmExporterPageOnAnInterval) {
  testing::TempDir dir;
  httplib::Server exporter;
  exporter.Get("/metrics", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(
        "DCGM_FI_DEV_GPU_UTIL{gpu=\"3\",UUID=\"GPU-scraped-1\",modelName=\"NVIDIA L4\",Hostname=\"n7\"} 64\n"
        "DCGM_FI_DEV_FB_USED{gpu=\"3\",UUID=\"GPU-scraped-1\"} 5120\n",
        "text/plain");
  });
  const int port = exporter.bind_to_any_port("127.0.0.1");
  std::thread exporter_thread([&] { exporter.listen_after_bind(); });
  // The server's interval passes on this clock: each move of 10 s is one more scrape.
  SimulatedClock clock(1790812800000, SimulatedClock::Waits::kOnThisClock);
  ServerOptions opt;
  opt.port = 0;
  opt.scrape_targets = {"http://127.0.0.1:" + std::to_string(port) + "/metrics"};
  opt.scrape_interval_ms = 10 * kSecondMs;
  auto ledger = OpenLedger(dir.path() + "/scrape.db");
  ASSERT_TRUE(ledger.ok());
  Server server(std::move(ledger).value(), clock, opt);
  ASSERT_TRUE(server.Start().ok());
  ASSERT_TRUE(clock.AwaitWaiters(2));  // the scraper, after its first scrape, and the maintenance
  ASSERT_TRUE(clock.AdvanceAndSettle(10 * kSecondMs));
  ASSERT_TRUE(clock.AdvanceAndSettle(10 * kSecondMs));
  server.Stop();
  exporter.stop();
  exporter_thread.join();
  EXPECT_EQ(server.counters().scrapes.load(), 3);
  EXPECT_EQ(server.counters().scrape_errors.load(), 0);
  auto check = OpenLedger(dir.path() + "/scrape.db");
  auto gpus = (*check)->ListGpus();
  ASSERT_EQ(gpus->size(), 1u);
  EXPECT_EQ((*gpus)[0].model, "L4");  // modelName "NVIDIA L4", canonical
  std::vector<Sample> got;
  ASSERT_TRUE(
      (*check)
          ->ScanSamples("GPU-scraped-1", {kMinTimeMs, kMaxTimeMs}, [&](const Sample& s) { got.push_back(s); })
          .ok());
  ASSERT_EQ(got.size(), 3u);  // one per scrape, stamped with the clock's time
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[i].t, 1790812800000 + i * 10 * kSecondMs);
    EXPECT_FLOAT_EQ(got[i].util_pct, 64);
    EXPECT_FLOAT_EQ(got[i].mem_mib, 5120);
  }

  ServerOptions bad;
  bad.scrape_targets = {"https://example/metrics"};
  Server refused(std::move(OpenLedger(dir.path() + "/other.db")).value(), clock, bad);
  EXPECT_EQ(refused.Start().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gpuledger
