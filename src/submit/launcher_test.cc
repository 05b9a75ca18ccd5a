// Launching a submission: the Docker container's create body, and the rule "a refusal
// leaves nothing behind" at each failure point of each launcher (fake Docker Engine on
// a Unix socket, a fake sbatch runner, a fake Kubernetes API server).
#include "submit/launcher.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "common/test_util.h"
#include "pause/fake_docker_engine.h"
#include "pause/target.h"

namespace gpuledger {
namespace {

using testing::FakeDockerEngine;

constexpr TimeMs kNow = 1794744000000;  // 2026-11-15T12:00:00Z
const std::string kImage = "reg/yolo:train-yolov8-small-cu118";
const std::string kDigest = "sha256:" + std::string(64, 'd');

class LaunchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto l = OpenSqliteLedger(dir_.path() + "/l.db");
    ASSERT_TRUE(l.ok());
    ledger_ = std::move(*l);
    LedgerSettings st;
    st.timezone = "UTC";
    ASSERT_TRUE(ledger_->SetSettings(st).ok());
    ASSERT_TRUE(ledger_->PutPrices({{"A10G", kNow - kDayMs, 3'500'000, 0, "CNY"}}).ok());
    SubmitRequest req;
    req.job.id = "sub-1";
    req.job.user = "alice";
    req.job.project = "vision";
    req.job.department = "research";
    req.job.model_type = "yolov8s";
    req.job.image_repo = "reg/yolo";
    req.job.image_tag = "train-yolov8-small-cu118";
    req.job.gpu_model = "A10G";
    req.job.gpu_share_ppm = 2 * kFullShare;
    req.job.duration_limit_ms = 2 * kHourMs;
    req.job.epochs = 50;
    req.job.labels["team"] = "edge";
    auto s = PrepareSubmission(*ledger_, PolicySet{}, req, kNow);
    ASSERT_TRUE(s.ok()) << s.status().message();
    sub_ = std::move(*s);
  }
  // Nothing of the submission is stored: no job, no estimate, no audit entry.
  void ExpectNothingStored() {
    EXPECT_FALSE(ledger_->GetJob("sub-1")->has_value());
    EXPECT_FALSE(ledger_->GetEstimate("sub-1")->has_value());
    EXPECT_TRUE(ledger_->ListAudit()->empty());
  }
  Status Audit(const Job& j) {
    AuditEntry e;
    e.at_ms = kNow;
    e.role = "cli";
    e.action = "submit";
    e.detail = "job=" + j.id;
    return ledger_->AppendAudit(e);
  }

  testing::TempDir dir_;
  std::unique_ptr<Ledger> ledger_;
  Submission sub_;
};

TEST(DockerCreateConfig, CarriesImageCommandEnvironmentLabelsAndTheGpuDeviceRequest) {
  Job j;
  j.id = "sub-1";
  j.user = "alice";
  j.project = "vision";
  j.department = "research";
  j.image_repo = "reg/yolo";
  j.image_tag = "train-yolov8-small-cu118";
  j.image_digest = kDigest;
  j.gpu_share_ppm = 1'500'000;  // 1.5 GPUs: two devices
  j.labels["team"] = "edge";
  DockerLaunchOptions o;
  o.env.server = "https://ledger:8443";
  o.env.command = "yolo train model=yolov8s.pt";
  const nlohmann::json c = nlohmann::json::parse(DockerCreateConfig(j, o));
  EXPECT_EQ(c["Image"], kImage + "@" + kDigest);
  EXPECT_EQ(c["Cmd"], nlohmann::json({"/bin/sh", "-c", "yolo train model=yolov8s.pt"}));
  const auto& env = c["Env"];
  EXPECT_NE(std::find(env.begin(), env.end(), "GPULEDGER_JOB_ID=sub-1"), env.end()) << env;
  EXPECT_NE(std::find(env.begin(), env.end(), "GPULEDGER_SERVER=https://ledger:8443"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "GPULEDGER_PROJECT=vision"), env.end());
  EXPECT_EQ(c["Labels"]["gpuledger.job_id"], "sub-1");
  EXPECT_EQ(c["Labels"]["gpuledger.user"], "alice");
  EXPECT_EQ(c["Labels"]["gpuledger.launcher"], "docker");
  EXPECT_EQ(c["Labels"]["gpuledger.docker.container"], "gpuledger-sub-1");
  EXPECT_EQ(c["Labels"]["team"], "edge");
  const auto& dr = c["HostConfig"]["DeviceRequests"];
  ASSERT_EQ(dr.size(), 1u);
  EXPECT_EQ(dr[0]["Driver"], "nvidia");
  EXPECT_EQ(dr[0]["Count"], 2);
  EXPECT_EQ(dr[0]["Capabilities"], nlohmann::json::parse(R"([["gpu"]])"));
  EXPECT_FALSE(dr[0].contains("DeviceIDs"));

  o.device_ids = {"0", "GPU-abc"};
  const nlohmann::json by_id = nlohmann::json::parse(DockerCreateConfig(j, o));
  EXPECT_EQ(by_id["HostConfig"]["DeviceRequests"][0]["DeviceIDs"], nlohmann::json({"0", "GPU-abc"}));
  EXPECT_FALSE(by_id["HostConfig"]["DeviceRequests"][0].contains("Count"));

  j.gpu_share_ppm = 0;  // no GPU asked for: no device request
  o.device_ids.clear();
  o.env.command.clear();
  const nlohmann::json none = nlohmann::json::parse(DockerCreateConfig(j, o));
  EXPECT_FALSE(none["HostConfig"].contains("DeviceRequests"));
  EXPECT_FALSE(none.contains("Cmd"));  // the image's own
  Job odd = j;
  odd.id = "a/b c";
  EXPECT_EQ(DockerContainerName(odd), "gpuledger-a-b-c");
}

TEST_F(LaunchTest, DockerCreatesStartsRecordsTheDigestAndLabelsThePauseAdapterFinds) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/other@sha256:" + std::string(64, '0'), "reg/yolo@" + kDigest});
  DockerLauncher launcher(DockerEngine(engine.path()), {{"", "yolo train", "", ""}, {}});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, [&](const Job& j) { return Audit(j); });
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(
      engine.requests(),
      (std::vector<std::string>{"GET /images/" + kImage + "/json HTTP/1.0",
                                "POST /containers/create?name=gpuledger-sub-1 HTTP/1.0",
                                "POST /containers/" + engine.Get("gpuledger-sub-1").id + "/start HTTP/1.0"}));
  const FakeDockerEngine::Record c = engine.Get("gpuledger-sub-1");
  EXPECT_TRUE(c.running);
  EXPECT_EQ(c.config["HostConfig"]["DeviceRequests"][0]["Count"], 2);
  EXPECT_EQ(c.config["Labels"]["gpuledger.job_id"], "sub-1");
  auto stored = ledger_->GetJob("sub-1");
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->status, JobStatus::kPending);
  EXPECT_EQ((*stored)->submitted_ms, kNow);
  EXPECT_EQ((*stored)->image_digest, kDigest);  // the one naming the image's repository
  EXPECT_TRUE(ledger_->GetEstimate("sub-1")->has_value());
  EXPECT_EQ(ledger_->ListAudit()->size(), 1u);
  // The pause adapter reads the job's labels and pauses that very container.
  auto target = PauseTargetFromLabels("sub-1", (*stored)->labels);
  ASSERT_TRUE(target.ok()) << target.status().message();
  EXPECT_EQ(target->mode, PauseMode::kDocker);
  ASSERT_TRUE(DockerController(engine.path()).Pause(*target).ok());
  EXPECT_TRUE(engine.Get("gpuledger-sub-1").paused);
  EXPECT_NE(launcher.Launched().find("gpuledger-sub-1"), std::string::npos);
}

TEST_F(LaunchTest, DockerImageMissingCreatesNothingAndRegistersNothing) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  DockerLauncher launcher(DockerEngine(engine.path()), {});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  EXPECT_EQ(job.status().code(), StatusCode::kNotFound);
  EXPECT_NE(job.status().message().find("No such image: " + kImage), std::string::npos)
      << job.status().message();
  EXPECT_NE(job.status().message().find("docker pull " + kImage), std::string::npos);
  EXPECT_NE(job.status().message().find("nothing registered"), std::string::npos);
  EXPECT_EQ(engine.containers(), 0u);
  ExpectNothingStored();
}

TEST_F(LaunchTest, DockerCreateRefusedLeavesTheOtherContainerAlone) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  engine.Add("0123abcd", {}, "gpuledger-sub-1");
  DockerLauncher launcher(DockerEngine(engine.path()), {});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  EXPECT_EQ(job.status().code(), StatusCode::kAlreadyExists);
  EXPECT_NE(job.status().message().find("is already in use"), std::string::npos) << job.status().message();
  EXPECT_TRUE(engine.Has("0123abcd"));  // not ours: not removed
  EXPECT_EQ(engine.containers(), 1u);
  ExpectNothingStored();
}

TEST_F(LaunchTest, DockerStartRefusedRemovesTheCreatedContainer) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  engine.FailNext("POST", "/start", 500,
                  "could not select device driver \"nvidia\" with capabilities: [[gpu]]");
  DockerLauncher launcher(DockerEngine(engine.path()), {});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, [&](const Job& j) { return Audit(j); });
  EXPECT_EQ(job.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(job.status().message().find("could not select device driver"), std::string::npos);
  EXPECT_NE(job.status().message().find("nothing registered, the launch undone"), std::string::npos);
  EXPECT_EQ(engine.containers(), 0u);
  EXPECT_EQ(engine.requests().back().rfind("DELETE /containers/", 0), 0u) << engine.requests().back();
  ExpectNothingStored();
}

TEST_F(LaunchTest, DockerRegistrationRefusedRemovesTheContainerBeforeItStarts) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  Job other = sub_.job;  // registered meanwhile under the same id
  other.status = JobStatus::kRunning;
  other.start_ms = kNow;
  ASSERT_TRUE(ledger_->PutJobs({other}).ok());
  DockerLauncher launcher(DockerEngine(engine.path()), {});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  EXPECT_EQ(job.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(engine.containers(), 0u);
  for (const std::string& r : engine.requests()) EXPECT_EQ(r.find("/start"), std::string::npos) << r;
  EXPECT_EQ((*ledger_->GetJob("sub-1"))->status, JobStatus::kRunning);  // the other one, untouched
  EXPECT_FALSE(ledger_->GetEstimate("sub-1")->has_value());
}

TEST_F(LaunchTest, DockerAFailureAfterTheStartKillsAndRemovesTheContainer) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  DockerLauncher launcher(DockerEngine(engine.path()), {});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, [&](const Job& j) -> Status {
    EXPECT_TRUE(engine.Get("gpuledger-sub-1").running);  // started before the job is registered
    RETURN_IF_ERROR(Audit(j));
    return Unavailable("audit log unreachable");
  });
  EXPECT_EQ(job.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(engine.containers(), 0u);
  const auto reqs = engine.full_requests();
  EXPECT_NE(reqs.back().line.find("?force=true"), std::string::npos) << reqs.back().line;
  ExpectNothingStored();
}

// A create whose answer is lost or odd may have made the container: it is removed by
// the name it was created under (a daemon that made none answers 404, which is fine).
TEST_F(LaunchTest, DockerACreateWithoutAClearAnswerIsUndoneByName) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  engine.FailNext("POST", "/containers/create", 500, "context deadline exceeded");
  DockerLauncher launcher(DockerEngine(engine.path()), {});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  EXPECT_EQ(job.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(job.status().message().find("nothing registered"), std::string::npos) << job.status().message();
  EXPECT_EQ(engine.requests().back().rfind("DELETE /containers/gpuledger-sub-1?force=true", 0), 0u)
      << engine.requests().back();
  ExpectNothingStored();
}

TEST_F(LaunchTest, AnUndoThatFailsIsNamedInTheError) {
  FakeDockerEngine engine(dir_.path() + "/docker.sock");
  engine.AddImage(kImage, {"reg/yolo@" + kDigest});
  engine.FailNext("POST", "/start", 500, "driver failed");
  engine.FailNext("DELETE", "/containers/", 500, "removal of container is already in progress");
  DockerLauncher launcher(DockerEngine(engine.path()), {});
  auto job = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  EXPECT_FALSE(job.ok());
  EXPECT_NE(job.status().message().find("undoing the launch failed: docker rm -f"), std::string::npos)
      << job.status().message();
  ExpectNothingStored();
}

TEST(ParseSbatchJobId, ReadsTheJobIdInEachForm) {
  EXPECT_EQ(*ParseSbatchJobId("Submitted batch job 4242\n"), "4242");
  EXPECT_EQ(*ParseSbatchJobId("Submitted batch job 17 on cluster gpu\n"), "17");
  EXPECT_EQ(*ParseSbatchJobId("sbatch: warning: x\nSubmitted batch job 9\n"), "9");
  EXPECT_EQ(*ParseSbatchJobId("88;gpu\n"), "88");  // --parsable
  EXPECT_EQ(ParseSbatchJobId("").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseSbatchJobId("Submitted batch job abc").status().code(), StatusCode::kInvalidArgument);
  auto bad = ParseSbatchJobId("sbatch: error: nope");
  EXPECT_NE(bad.status().message().find("saw \"sbatch: error: nope\""), std::string::npos);
}

// sbatch and scancel as the launcher runs them: argv recorded, the script read when run.
class FakeSlurm : public CommandRunner {
 public:
  StatusOr<CommandResult> Run(const std::vector<std::string>& argv, int) override {
    calls.push_back(argv);
    if (argv[0] == "sbatch") {
      std::ifstream f(argv.back());
      std::stringstream ss;
      ss << f.rdbuf();
      script = ss.str();
      return sbatch;
    }
    return CommandResult{0, "", ""};
  }
  std::vector<std::vector<std::string>> calls;
  std::string script;
  CommandResult sbatch{0, "Submitted batch job 4242\n", ""};
};

TEST_F(LaunchTest, SlurmRunsSbatchOnTheScriptAndLabelsTheJobWithItsId) {
  FakeSlurm slurm;
  SlurmLaunchOptions o;
  o.env.command = "yolo train";
  o.sbatch_args = {"--partition=gpu"};
  o.script_dir = dir_.path();
  SlurmLauncher launcher(&slurm, o);
  auto job = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  ASSERT_TRUE(job.ok()) << job.status().message();
  ASSERT_EQ(slurm.calls.size(), 1u);
  EXPECT_EQ(slurm.calls[0][1], "--partition=gpu");
  EXPECT_NE(slurm.script.find("#SBATCH --gres=gpu:2\n"), std::string::npos) << slurm.script;
  EXPECT_NE(slurm.script.find("export GPULEDGER_JOB_ID='sub-1'\n"), std::string::npos);
  EXPECT_NE(slurm.script.find("srun yolo train\n"), std::string::npos);
  EXPECT_FALSE(std::ifstream(slurm.calls[0].back()).good()) << "the script file is removed";
  const Job stored = **ledger_->GetJob("sub-1");
  EXPECT_EQ(stored.labels.at("gpuledger.launcher"), "slurm");
  EXPECT_EQ(stored.labels.at("gpuledger.slurm.job_id"), "4242");
  EXPECT_EQ(stored.labels.at("hpc_job"), "4242");  // dcgm-exporter's label names the job
  auto target = PauseTargetFromLabels("sub-1", stored.labels);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->handle, "4242");
}

TEST_F(LaunchTest, SlurmRefusalOrALaterFailureLeavesNoJobAndCancelsWhatWasSubmitted) {
  FakeSlurm refused;
  refused.sbatch = {1, "", "sbatch: error: Invalid generic resource (gres) specification\n"};
  SlurmLauncher a(&refused, {});
  auto r = LaunchSubmission(*ledger_, sub_, a, nullptr);
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("Invalid generic resource"), std::string::npos);
  EXPECT_EQ(refused.calls.size(), 1u);  // nothing to cancel
  ExpectNothingStored();

  FakeSlurm ok;
  SlurmLauncher b(&ok, {});
  auto later = LaunchSubmission(*ledger_, sub_, b, [](const Job&) { return Unavailable("disk full"); });
  EXPECT_FALSE(later.ok());
  ASSERT_EQ(ok.calls.size(), 2u);
  EXPECT_EQ(ok.calls[1], (std::vector<std::string>{"scancel", "4242"}));
  ExpectNothingStored();
}

// sbatch that exits 0 without naming the job (or is killed at its time limit) may have
// queued it: it is cancelled by its name, the script's --job-name.
TEST_F(LaunchTest, SlurmAnSbatchWithoutAJobIdIsCancelledByName) {
  FakeSlurm odd;
  odd.sbatch = {0, "sbatch: warning: the job is queued elsewhere\n", ""};
  SlurmLauncher launcher(&odd, {});
  auto r = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  ASSERT_EQ(odd.calls.size(), 2u);
  EXPECT_EQ(odd.calls[1], (std::vector<std::string>{"scancel", "--name=sub-1"}));
  ExpectNothingStored();
}

// A fake API server for POST /apis/batch/v1/namespaces/{ns}/jobs that checks the Job
// against the batch/v1 schema's fields the manifest uses, as the real one would refuse
// it (422 Invalid), and DELETE of a Job.
class FakeJobsApi {
 public:
  FakeJobsApi() {
    server_.Post(R"(/apis/batch/v1/namespaces/([a-z0-9-]+)/jobs)",
                 [this](const httplib::Request& req, httplib::Response& res) { Create(req, res); });
    server_.Delete(R"(/apis/batch/v1/namespaces/([a-z0-9-]+)/jobs/([a-z0-9.-]+))",
                   [this](const httplib::Request& req, httplib::Response& res) {
                     std::lock_guard<std::mutex> l(mu_);
                     seen_.push_back("DELETE " + req.path + " " + req.body);
                     const bool had =
                         jobs_.erase(std::string(req.matches[1]) + "/" + std::string(req.matches[2]));
                     res.status = had ? 200 : 404;
                     res.set_content(R"({"kind":"Status","status":"Success"})", "application/json");
                   });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeJobsApi() {
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  size_t jobs() {
    std::lock_guard<std::mutex> l(mu_);
    return jobs_.size();
  }
  nlohmann::json job(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    return jobs_.at(key);
  }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

  // The fields of batch/v1 Job (and core/v1 PodSpec, Container) the manifest uses, with
  // the API server's own validation rules for them; "" when valid.
  static std::string Invalid(const nlohmann::json& j, const std::string& ns) {
    auto str = [](const nlohmann::json& o, const char* k) { return o.contains(k) && o[k].is_string(); };
    if (!j.is_object()) return "body is not a JSON object";
    if (j.value("apiVersion", "") != "batch/v1") return "apiVersion must be batch/v1";
    if (j.value("kind", "") != "Job") return "kind must be Job";
    const auto& m = j.value("metadata", nlohmann::json::object());
    const std::string name = m.value("name", "");
    if (name.empty() || name.size() > 63 ||
        name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
      return "metadata.name: Invalid value: \"" + name + "\": a lowercase RFC 1123 label";
    if (m.contains("namespace") && m["namespace"] != ns)
      return "metadata.namespace does not match the request";
    for (const char* k : {"labels", "annotations"}) {
      if (!m.contains(k)) continue;
      if (!m[k].is_object()) return std::string("metadata.") + k + " must be a map";
      for (const auto& [key, v] : m[k].items()) {
        if (!v.is_string()) return std::string("metadata.") + k + "." + key + " must be a string";
        if (std::string(k) == "labels" && v.get<std::string>().size() > 63)
          return "metadata.labels: Invalid value: must be no more than 63 characters";
      }
    }
    const auto& spec = j.value("spec", nlohmann::json::object());
    if (spec.contains("backoffLimit") && !spec["backoffLimit"].is_number_integer())
      return "spec.backoffLimit";
    if (spec.contains("activeDeadlineSeconds") && (!spec["activeDeadlineSeconds"].is_number_integer() ||
                                                   spec["activeDeadlineSeconds"].get<int64_t>() <= 0))
      return "spec.activeDeadlineSeconds must be a positive integer";
    const auto& tmpl = spec.value("template", nlohmann::json::object());
    const auto& pod = tmpl.value("spec", nlohmann::json::object());
    const std::string restart = pod.value("restartPolicy", "");
    if (restart != "Never" && restart != "OnFailure")
      return "spec.template.spec.restartPolicy: Unsupported value: \"" + restart + "\"";
    if (!pod.contains("containers") || !pod["containers"].is_array() || pod["containers"].empty())
      return "spec.template.spec.containers: Required value";
    for (const auto& c : pod["containers"]) {
      if (!str(c, "name") || !str(c, "image") || c["image"].get<std::string>().empty())
        return "spec.template.spec.containers[0]: name and image are required";
      if (c.contains("command") && !c["command"].is_array()) return "containers[0].command must be an array";
      for (const auto& e : c.value("env", nlohmann::json::array())) {
        if (!str(e, "name")) return "containers[0].env[].name: Required value";
        if (e.contains("value") == e.contains("valueFrom"))
          return "containers[0].env[" + e["name"].get<std::string>() +
                 "]: exactly one of value and valueFrom";
        if (e.contains("valueFrom")) {
          const auto& ref = e["valueFrom"].value("secretKeyRef", nlohmann::json::object());
          if (!str(ref, "name") || !str(ref, "key")) return "valueFrom.secretKeyRef needs name and key";
        }
      }
      if (c.contains("resources")) {
        const auto& lim = c["resources"].value("limits", nlohmann::json::object());
        for (const auto& [res, q] : lim.items()) {
          if (!q.is_string()) return "resources.limits." + res + " must be a quantity string";
          const std::string v = q.get<std::string>();
          if (res == "nvidia.com/gpu" && v.find_first_not_of("0123456789") != std::string::npos)
            return "resources.limits.nvidia.com/gpu: must be an integer";
        }
      }
    }
    return "";
  }

 private:
  void Create(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu_);
    seen_.push_back("POST " + req.path + " " + req.get_header_value("Authorization"));
    if (req.get_header_value("Authorization") != "Bearer k8s-token") {
      res.status = 401;
      res.set_content(R"({"kind":"Status","message":"Unauthorized","code":401})", "application/json");
      return;
    }
    const std::string ns = req.matches[1];
    const nlohmann::json j = nlohmann::json::parse(req.body, nullptr, false);
    if (const std::string why = Invalid(j, ns); !why.empty()) {
      res.status = 422;
      res.set_content(
          nlohmann::json{{"kind", "Status"}, {"message", "Job.batch is invalid: " + why}, {"code", 422}}
              .dump(),
          "application/json");
      return;
    }
    const std::string key = ns + "/" + j["metadata"]["name"].get<std::string>();
    if (jobs_.count(key)) {
      res.status = 409;
      res.set_content(R"({"kind":"Status","message":"jobs.batch already exists","code":409})",
                      "application/json");
      return;
    }
    nlohmann::json created = j;
    created["metadata"]["namespace"] = ns;
    created["metadata"]["uid"] = "0d5f-uid";
    jobs_[key] = created;
    res.status = 201;
    res.set_content(created.dump(), "application/json");
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, nlohmann::json> jobs_;
  std::vector<std::string> seen_;
};

TEST_F(LaunchTest, KubernetesCreatesAValidJobThroughTheApiServer) {
  FakeJobsApi api;
  KubernetesOptions ko;
  ko.api_server = api.base();
  ko.token_file = dir_.File("token", "k8s-token\n");
  KubernetesLauncher launcher(ko, {"", "yolo train", "vision", "gpuledger-ingest"}, StoredEstimate(sub_));
  auto job = LaunchSubmission(*ledger_, sub_, launcher, nullptr);
  ASSERT_TRUE(job.ok()) << job.status().message();
  const nlohmann::json j = api.job("vision/gpuledger-sub-1");
  const auto& c = j["spec"]["template"]["spec"]["containers"][0];
  EXPECT_EQ(c["image"], kImage);
  EXPECT_EQ(c["resources"]["limits"]["nvidia.com/gpu"], "2");
  EXPECT_EQ(j["metadata"]["labels"]["gpuledger.io/job-id"], "sub-1");
  EXPECT_EQ(j["spec"]["activeDeadlineSeconds"], 7200);
  const Job stored = **ledger_->GetJob("sub-1");
  EXPECT_EQ(stored.labels.at("gpuledger.launcher"), "kubernetes");
  EXPECT_EQ(stored.labels.at("gpuledger.k8s.namespace"), "vision");
  EXPECT_EQ(stored.labels.at("gpuledger.k8s.job"), "gpuledger-sub-1");
  auto target = PauseTargetFromLabels("sub-1", stored.labels);
  ASSERT_TRUE(target.ok());
  EXPECT_EQ(target->handle, "vision/gpuledger-sub-1");
}

TEST_F(LaunchTest, KubernetesRefusalOrALaterFailureLeavesNoJobAnywhere) {
  FakeJobsApi api;
  KubernetesOptions ko;
  ko.api_server = api.base();
  ko.token_file = dir_.File("token", "wrong\n");
  KubernetesLauncher denied(ko, {"", "", "vision", "s"}, StoredEstimate(sub_));
  auto r = LaunchSubmission(*ledger_, sub_, denied, nullptr);
  EXPECT_EQ(r.status().code(), StatusCode::kUnauthenticated);
  ExpectNothingStored();

  ko.token_file = dir_.File("token", "k8s-token\n");
  KubernetesLauncher later(ko, {"", "", "vision", "s"}, StoredEstimate(sub_));
  auto l = LaunchSubmission(*ledger_, sub_, later, [](const Job&) { return Unavailable("disk full"); });
  EXPECT_FALSE(l.ok());
  EXPECT_EQ(api.jobs(), 0u);
  EXPECT_EQ(api.seen().back().rfind("DELETE /apis/batch/v1/namespaces/vision/jobs/gpuledger-sub-1", 0), 0u);
  EXPECT_NE(api.seen().back().find("\"propagationPolicy\":\"Background\""), std::string::npos);
  ExpectNothingStored();
}

TEST(FakeJobsApi, RefusesWhatTheRealApiServerRefuses) {
  Job j;
  j.id = "x";
  j.image_repo = "reg/yolo";
  j.image_tag = "t";
  j.gpu_share_ppm = kFullShare;
  nlohmann::json m = nlohmann::json::parse(RenderKubernetesJob(j, {}, nullptr));
  EXPECT_EQ(FakeJobsApi::Invalid(m, "default"), "");
  nlohmann::json bad = m;
  bad["spec"]["template"]["spec"]["restartPolicy"] = "Always";
  EXPECT_NE(FakeJobsApi::Invalid(bad, "default"), "");
  bad = m;
  bad["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = 1;
  EXPECT_NE(FakeJobsApi::Invalid(bad, "default"), "");
  bad = m;
  bad["metadata"]["name"] = "Upper_Case";
  EXPECT_NE(FakeJobsApi::Invalid(bad, "default"), "");
}

}  // namespace
}  // namespace gpuledger
