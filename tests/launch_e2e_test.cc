// A run from submission to its bill: `gpuledger submit --launcher docker` against a fake
// Docker Engine on a Unix socket (request bodies checked: the GPU device request, the
// GPULEDGER_* environment, the gpuledger.* labels), the pending job moving to running at
// its first sample (remote write, its hpc_job label naming the job, as the agent sends
// it), ended, and its view (GET /api/v1/jobs/{id}) showing its queue wait and its actual
// cost beside its estimate.
#include <gtest/gtest.h>
#include <httplib.h>
#include <snappy.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "common/clock.h"
#include "common/test_util.h"
#include "ingest/proto_writer.h"
#include "ledger/ledger.h"
#include "pause/fake_docker_engine.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

constexpr TimeMs kSubmitted = 1794744000000;  // 2026-11-15T12:00:00Z
const std::string kImage = "reg/yolo:train-yolov8-small-cu118";
const std::string kDigest = "sha256:" + std::string(64, 'b');

class LaunchE2E : public ::testing::Test {
 protected:
  struct Run {
    int code;
    std::string out, err;
  };
  Run Cli(std::vector<std::string> args) {
    args.insert(args.begin(), "gpuledger");
    std::vector<const char*> argv;
    for (const auto& a : args) argv.push_back(a.c_str());
    std::ostringstream out, err;
    const int code = RunCli(static_cast<int>(argv.size()), argv.data(), clock_, out, err);
    return {code, out.str(), err.str()};
  }
  void Ok(std::vector<std::string> args) {
    Run r = Cli(args);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  void SetUp() override {
    db_ = dir_.path() + "/books.db";
    Ok({"init", "--db", db_, "--currency", "CNY", "--timezone", "Asia/Shanghai"});
    const std::string prices =
        dir_.File("prices.csv",
                  "gpu_model,effective_from,price_per_gpu_hour,price_per_kwh,currency\n"
                  "A10G,2026-01-01T00:00:00Z,3.5,,CNY\n");
    Ok({"import", "prices", "--db", db_, prices});
    const std::string gpus = dir_.File("gpus.csv",
                                       "uuid,node,index,model,memory_mib,in_service_from\n"
                                       "GPU-a,node-1,0,A10G,23028,2026-09-01T00:00:00Z\n");
    Ok({"import", "gpus", "--db", db_, gpus});
    // History: three finished yolov8s runs of 100 epochs, 2, 4 and 6 hours on one A10G
    // at 3.50 CNY per GPU-hour: the estimate's median is 14.00 CNY.
    std::string jobs =
        "id,user,project,department,model_type,image,gpu_request,epochs,dataset,dataset_images,imgsz,start,"
        "end\n";
    std::string allocs = "job_id,gpu_uuid,start,end,share\n";
    for (int i = 0; i < 3; ++i) {
      const std::string day = "2026-10-0" + std::to_string(i + 1);
      const std::string start = day + "T00:00:00Z",
                        end = day + "T0" + std::to_string(2 * (i + 1)) + ":00:00Z";
      jobs += "r" + std::to_string(i) + ",zhangsan,vision,research,yolov8s," + kImage +
              ",1xA10G,100,coco,10000,640," + start + "," + end + "\n";
      allocs += "r" + std::to_string(i) + ",GPU-a," + start + "," + end + ",1\n";
    }
    Ok({"import", "jobs", "--db", db_, dir_.File("jobs.csv", jobs)});
    Ok({"import", "allocations", "--db", db_, dir_.File("allocs.csv", allocs)});
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  void StartServer() {
    auto ledger = OpenLedger(db_);
    ASSERT_TRUE(ledger.ok());
    for (Role role : {Role::kIngest, Role::kUser}) {
      auto t = MakeToken(role, role == Role::kUser ? "vision" : "", "", clock_.Now());
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
      tokens_[role] = t->secret;
    }
    ServerOptions opt;
    opt.port = 0;
    opt.journal_dir.clear();  // samples straight into the ledger
    server_ = std::make_unique<Server>(std::move(ledger).value(), clock_, opt);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
  }
  httplib::Headers Auth(Role r) { return {{"Authorization", "Bearer " + tokens_[r]}}; }
  nlohmann::json View(const std::string& id) {
    auto res = client_->Get("/api/v1/jobs/" + id, Auth(Role::kUser));
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    return res ? nlohmann::json::parse(res->body, nullptr, false) : nlohmann::json();
  }

  SimulatedClock clock_{kSubmitted};
  testing::TempDir dir_;
  std::string db_;
  std::map<Role, std::string> tokens_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(LaunchE2E, ASubmittedRunLaunchedOnDockerEndsWithItsActualCostBesideItsEstimate) {
  testing::FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  Run sub = Cli({"submit",
                 "--db",
                 db_,
                 "--id",
                 "e2e-1",
                 "--user",
                 "alice",
                 "--project",
                 "vision",
                 "--department",
                 "research",
                 "--model-type",
                 "yolov8s",
                 "--image",
                 kImage,
                 "--gpu-request",
                 "1xA10G",
                 "--epochs",
                 "100",
                 "--dataset",
                 "coco",
                 "--dataset-images",
                 "10000",
                 "--imgsz",
                 "640",
                 "--label",
                 "team=edge",
                 "--launcher",
                 "docker",
                 "--docker-socket",
                 engine.path(),
                 "--server",
                 "http://ledger:8080",
                 "--command",
                 "yolo train model=yolov8s.pt epochs=100",
                 "--yes",
                 "--lang",
                 "en"});
  ASSERT_EQ(sub.code, 0) << sub.err << sub.out;
  EXPECT_NE(sub.out.find("launched: docker container gpuledger-e2e-1"), std::string::npos) << sub.out;
  EXPECT_NE(sub.out.find("image digest: " + kDigest), std::string::npos) << sub.out;

  // What the Engine was sent.
  const auto reqs = engine.full_requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].line, "GET /images/" + kImage + "/json HTTP/1.0");
  EXPECT_EQ(reqs[1].line, "POST /containers/create?name=gpuledger-e2e-1 HTTP/1.0");
  const nlohmann::json create = nlohmann::json::parse(reqs[1].body);
  EXPECT_EQ(create["Image"], kImage + "@" + kDigest);
  EXPECT_EQ(create["Cmd"], nlohmann::json({"/bin/sh", "-c", "yolo train model=yolov8s.pt epochs=100"}));
  EXPECT_EQ(create["HostConfig"]["DeviceRequests"],
            nlohmann::json::parse(R"([{"Driver":"nvidia","Count":1,"Capabilities":[["gpu"]]}])"));
  std::set<std::string> env(create["Env"].begin(), create["Env"].end());
  for (const char* want :
       {"GPULEDGER_JOB_ID=e2e-1", "GPULEDGER_SERVER=http://ledger:8080", "GPULEDGER_USER=alice",
        "GPULEDGER_PROJECT=vision", "GPULEDGER_DEPARTMENT=research", "GPULEDGER_GPU_REQUEST=1xA10G",
        "GPULEDGER_EPOCHS=100", "GPULEDGER_LABELS=team=edge"})
    EXPECT_TRUE(env.count(want)) << want << " not in " << create["Env"];
  EXPECT_TRUE(env.count("GPULEDGER_IMAGE_DIGEST=" + kDigest));
  EXPECT_EQ(create["Labels"]["gpuledger.job_id"], "e2e-1");
  EXPECT_EQ(create["Labels"]["gpuledger.launcher"], "docker");
  EXPECT_EQ(create["Labels"]["gpuledger.docker.container"], "gpuledger-e2e-1");
  EXPECT_EQ(create["Labels"]["team"], "edge");
  EXPECT_EQ(reqs[2].line, "POST /containers/" + engine.Get("gpuledger-e2e-1").id + "/start HTTP/1.0");
  EXPECT_TRUE(engine.Get("gpuledger-e2e-1").running);

  // The container's GPU reports ten minutes later; two hours of samples, one a minute,
  // labelled with the job as the agent labels them (hpc_job = GPULEDGER_JOB_ID).
  const TimeMs first = kSubmitted + 10 * kMinuteMs, last = first + 120 * kMinuteMs;
  clock_.Set(last + kMinuteMs);
  StartServer();
  {
    auto l = OpenLedger(db_);
    EXPECT_EQ((*(*l)->GetJob("e2e-1"))->status, JobStatus::kPending);
    EXPECT_EQ((*(*l)->GetJob("e2e-1"))->image_digest, kDigest);
  }
  RwPoints points;
  for (TimeMs t = first; t <= last; t += kMinuteMs) points.emplace_back(80.0, t);
  const RwLabels labels = {{"Hostname", "node-1"}, {"UUID", "GPU-a"},    {"__name__", "DCGM_FI_DEV_GPU_UTIL"},
                           {"gpu", "0"},           {"hpc_job", "e2e-1"}, {"modelName", "A10G"}};
  std::string raw = RwRequestV1({RwSeriesV1(labels, points)}), body;
  snappy::Compress(raw.data(), raw.size(), &body);
  httplib::Headers h = Auth(Role::kIngest);
  h.emplace("Content-Encoding", "snappy");
  auto w = client_->Post("/api/v1/write", h, body, "application/x-protobuf;proto=prometheus.WriteRequest");
  ASSERT_TRUE(w);
  ASSERT_EQ(w->status, 204) << w->body;

  // Running from its first sample: the queue wait is the ten minutes before it.
  nlohmann::json v = View("e2e-1");
  EXPECT_EQ(v["status"], "running");
  EXPECT_EQ(v["start"], FormatTime(first));
  EXPECT_EQ(v["submitted"], FormatTime(kSubmitted));
  EXPECT_EQ(v["queue_wait_s"], 600);
  EXPECT_EQ(v["estimate_vs_actual"]["estimate"], "14.00");
  EXPECT_EQ(v["estimate_vs_actual"]["final"], false);

  auto end = client_->Patch("/api/v1/jobs/e2e-1", Auth(Role::kIngest),
                            R"({"status": "succeeded", "end": ")" + FormatTime(last + kMinuteMs) + R"("})",
                            "application/json");
  ASSERT_TRUE(end);
  ASSERT_EQ(end->status, 200) << end->body;
  v = View("e2e-1");
  EXPECT_EQ(v["status"], "succeeded");
  EXPECT_EQ(v["image_digest"], kDigest);
  EXPECT_EQ(v["estimate"]["cost"]["median"], "14.00");
  const nlohmann::json& eva = v["estimate_vs_actual"];
  EXPECT_EQ(eva["estimate"], "14.00");
  EXPECT_EQ(eva["actual"], v["cost"]);  // the books' cost of the run
  EXPECT_EQ(eva["currency"], "CNY");
  EXPECT_EQ(eva["final"], true);
  // Held from the first sample to one sample interval (the ledger's default, 10 s) past
  // the last: 2 h 10 s at 3.50 CNY/h = 7.0097.
  EXPECT_EQ(eva["actual"], "7.01") << v.dump(2);
  EXPECT_EQ(eva["difference"], "-6.99");
  EXPECT_NEAR(eva["actual_over_estimate"].get<double>(), 7.01 / 14.0, 0.001);
}

TEST_F(LaunchE2E, ADockerLaunchThatFailsRegistersNothingAndLeavesNoContainer) {
  testing::FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  engine.FailNext("POST", "/start", 500,
                  "could not select device driver \"nvidia\" with capabilities: [[gpu]]");
  Run sub = Cli({"submit",        "--db",         db_,          "--id",    "e2e-2",
                 "--user",        "alice",        "--project",  "vision",  "--department",
                 "research",      "--model-type", "yolov8s",    "--image", kImage,
                 "--gpu-request", "1xA10G",       "--launcher", "docker",  "--docker-socket",
                 engine.path(),   "--yes",        "--lang",     "en"});
  EXPECT_EQ(sub.code, 1);
  EXPECT_NE(sub.err.find("could not select device driver"), std::string::npos) << sub.err;
  EXPECT_NE(sub.err.find("nothing registered, the launch undone"), std::string::npos) << sub.err;
  EXPECT_EQ(engine.containers(), 0u);
  auto l = OpenLedger(db_);
  EXPECT_FALSE((*(*l)->GetJob("e2e-2")).has_value());
  EXPECT_FALSE((*(*l)->GetEstimate("e2e-2")).has_value());
  auto audit = (*l)->ListAudit();  // kept: a range-for over *temporary would dangle
  ASSERT_TRUE(audit.ok());
  for (const AuditEntry& e : *audit) EXPECT_EQ(e.detail.find("e2e-2"), std::string::npos) << e.detail;
}

}  // namespace
}  // namespace gpuledger
