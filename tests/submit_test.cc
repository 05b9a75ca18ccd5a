// Submission end to end on a real SQLite ledger: `gpuledger submit` and POST
// /api/v1/submissions give the same answers: refusals of `latest`, a bare digest and a
// tag off the template (each with its own message and a valid example), warn mode, the
// estimate from the books' finished runs, the pending job and its estimate, the
// launchers' output, and pending -> running at the first progress.
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/cli.h"
#include "cli/commands.h"
#include "common/clock.h"
#include "common/test_util.h"
#include "ledger/ledger.h"
#include "server/auth.h"
#include "server/server.h"

namespace gpuledger {
namespace {

const SimulatedClock kClock(1794744000000);  // 2026-11-15T12:00:00Z

struct CliRun {
  int code;
  std::string out, err;
};

CliRun Cli(std::vector<std::string> args) {
  args.insert(args.begin(), "gpuledger");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int code = RunCli(static_cast<int>(argv.size()), argv.data(), kClock, out, err);
  return {code, out.str(), err.str()};
}

const std::string kHex64(64, 'c');

class Submit : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = dir_.path() + "/books.db";
    Ok({"init", "--db", db_, "--currency", "CNY", "--timezone", "Asia/Shanghai"});
    Import("prices",
           "gpu_model,effective_from,price_per_gpu_hour,price_per_kwh,currency\n"
           "A10G,2026-01-01T00:00:00Z,3.5,,CNY\n");
    Import("gpus",
           "uuid,node,index,model,memory_mib,in_service_from\n"
           "GPU-a,node-1,0,A10G,23028,2026-09-01T00:00:00Z\n");
    // Three finished yolov8s runs of 100 epochs: 2, 4 and 6 hours on one A10G at 3.50 CNY
    // per GPU-hour: 7.00, 14.00 and 21.00 CNY.
    std::string jobs =
        "id,user,project,department,model_type,image,gpu_request,epochs,dataset,dataset_images,imgsz,start,"
        "end\n";
    std::string allocs = "job_id,gpu_uuid,start,end,share\n";
    for (int i = 0; i < 3; ++i) {
      const std::string day = "2026-10-0" + std::to_string(i + 1);
      const std::string start = day + "T00:00:00Z",
                        end = day + "T0" + std::to_string(2 * (i + 1)) + ":00:00Z";
      jobs += "r" + std::to_string(i) +
              ",zhangsan,vision,research,yolov8s,reg/yolo:train-yolov8-small-cu118,1xA10G,100," +
              "coco,10000,640," + start + "," + end + "\n";
      allocs += "r" + std::to_string(i) + ",GPU-a," + start + "," + end + ",1\n";
    }
    Import("jobs", jobs);
    Import("allocations", allocs);
  }
  void Ok(std::vector<std::string> args) {
    CliRun r = Cli(args);
    ASSERT_EQ(r.code, 0) << r.err;
  }
  void Import(const std::string& kind, const std::string& csv) {
    Ok({"import", kind, "--db", db_, dir_.File(kind + ".csv", csv)});
  }
  std::vector<std::string> SubmitArgsFor(const std::string& image, const std::string& model = "yolov8s") {
    return {"submit", "--db",          db_,        "--user",           "alice", "--project",
            "vision", "--department",  "research", "--model-type",     model,   "--image",
            image,    "--gpu-request", "1xA10G",   "--duration-limit", "48h",   "--epochs",
            "100",    "--dataset",     "coco",     "--dataset-images", "10000", "--imgsz",
            "640"};
  }
  CliRun SubmitCli(const std::string& image, std::vector<std::string> extra = {},
                   const std::string& model = "yolov8s") {
    auto args = SubmitArgsFor(image, model);
    args.insert(args.end(), extra.begin(), extra.end());
    if (std::find(extra.begin(), extra.end(), "--lang") == extra.end())
      args.insert(args.end(), {"--lang", "en"});
    return Cli(args);
  }
  size_t Jobs() {
    auto l = OpenLedger(db_);
    return l.ok() ? (*l)->ListJobs()->size() : 0;
  }

  testing::TempDir dir_;
  std::string db_;
};

TEST_F(Submit, RefusesLatestABareDigestAndATagOffTheTemplateEachWithAValidExample) {
  struct Case {
    std::string image, rule, says;
  } cases[] = {
      {"reg/yolo:latest", "rule no-latest", "the tag 'latest'"},
      {"reg/yolo", "rule no-latest", "no tag, which means 'latest'"},
      {"reg/yolo@sha256:" + kHex64, "rule no-digest-only", "names a digest and no tag"},
      {"reg/yolo:" + kHex64.substr(0, 40).replace(0, 1, "7"), "rule no-hash-tag",
       "is a hash (40 hex digits)"},
      {"reg/yolo:train-yolov8-fast-cu118", "rule template",
       "field optimization_level of tag "
       "'train-yolov8-fast-cu118' is 'fast'"},
  };
  for (const Case& c : cases) {
    CliRun r = SubmitCli(c.image, {"--yes"});
    EXPECT_EQ(r.code, 1) << c.image;
    EXPECT_NE(r.err.find(c.rule), std::string::npos) << r.err;
    EXPECT_NE(r.err.find(c.says), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("a valid tag: 'train-yolov8-small-cu118'"), std::string::npos) << r.err;
  }
  EXPECT_EQ(Jobs(), 3u);  // nothing registered
}

TEST_F(Submit, AcceptsAValidTagRegistersThePendingJobWithItsEstimateAndPrintsTheEnvironment) {
  CliRun r = SubmitCli("reg/yolo:train-yolov8-small-cu118",
                       {"--yes", "--id", "new-1", "--server", "http://gl:8080"});
  ASSERT_EQ(r.code, 0) << r.err;
  // The median of 7, 14 and 21: 14.00; three runs are too few for an interval.
  EXPECT_NE(r.out.find("estimate from 3 similar finished runs (yolov8s on A10G)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("This configuration is estimated at 14.00 CNY"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("cost interval"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("export GPULEDGER_JOB_ID='new-1'\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("export GPULEDGER_SERVER='http://gl:8080'\n"), std::string::npos) << r.out;
  auto l = OpenLedger(db_);
  ASSERT_TRUE(l.ok());
  auto job = (*l)->GetJob("new-1");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->status, JobStatus::kPending);
  EXPECT_EQ((*job)->submitted_ms, kClock.Now());
  EXPECT_EQ((*job)->start_ms, 0);
  auto est = (*l)->GetEstimate("new-1");
  ASSERT_TRUE(est.ok() && est->has_value());
  EXPECT_EQ((*est)->basis, "history");
  EXPECT_EQ((*est)->runs, 3);
  EXPECT_EQ((*est)->cost_micros, 14'000'000);
  EXPECT_EQ((*est)->cost_low_micros, -1);
  // The same id again is refused.
  r = SubmitCli("reg/yolo:train-yolov8-small-cu118", {"--yes", "--id", "new-1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("already in the books"), std::string::npos) << r.err;
}

TEST_F(Submit, SpeaksChineseAndFallsBackToTheRateOnThinHistory) {
  CliRun r = SubmitCli("reg/yolo:train-yolov10-medium-cu118", {"--dry-run", "--lang", "zh"}, "yolov10m");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("history is thin: 0 similar finished runs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("当前配置预计消耗168.00元"), std::string::npos) << r.out;  // 48 h x 3.50
  EXPECT_NE(r.out.find("未登记任务"), std::string::npos) << r.out;
  EXPECT_EQ(Jobs(), 3u);
}

TEST_F(Submit, MaxCostRefusesAboveItAndAnAnswerOtherThanYesRegistersNothing) {
  CliRun r = SubmitCli("reg/yolo:train-yolov8-small-cu118", {"--yes", "--max-cost", "10"});
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("estimated cost 14.00 CNY exceeds the max cost 10.00 CNY"), std::string::npos)
      << r.err;
  EXPECT_TRUE(SubmitCli("reg/yolo:train-yolov8-small-cu118", {"--yes", "--max-cost", "14"}).code == 0);
  SubmitArgs a;
  a.db = db_;
  a.fields = {{"user", "bob"},
              {"project", "vision"},
              {"department", "research"},
              {"model_type", "yolov8s"},
              {"image", "reg/yolo:train-yolov8-small-cu118"},
              {"gpu_request", "1xA10G"}};
  a.lang = "en";
  std::istringstream no("n\n");
  std::ostringstream out;
  Status s = CmdSubmit(a, kClock, no, out);
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("not confirmed"), std::string::npos);
  EXPECT_EQ(Jobs(), 4u);  // only the --max-cost 14 one
}

TEST_F(Submit, WarnModeLetsTheTagThroughWithTheWarning) {
  const std::string policy =
      dir_.File("policy.json", R"({"projects": {"vision": {"image_tag": {"mode": "warn"}}}})");
  CliRun r = SubmitCli("reg/yolo:latest", {"--yes", "--policy", policy, "--id", "warned"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("warning: image tag policy (warn): rule no-latest"), std::string::npos) << r.out;
}

TEST_F(Submit, LaunchersPrintAnSbatchScriptAndAKubernetesJob) {
  CliRun r = SubmitCli("reg/yolo:train-yolov8-small-cu118",
                       {"--yes", "--id", "k1", "--launcher", "kubernetes", "--namespace", "ml"});
  ASSERT_EQ(r.code, 0) << r.err;
  const size_t brace = r.out.find("{\n");
  ASSERT_NE(brace, std::string::npos) << r.out;
  const nlohmann::json m = nlohmann::json::parse(r.out.substr(brace));
  EXPECT_EQ(m["kind"], "Job");
  EXPECT_EQ(m["metadata"]["annotations"]["gpuledger.io/estimate-cost-micros"], "14000000");
  r = SubmitCli("reg/yolo:train-yolov8-small-cu118",
                {"--yes", "--id", "s1", "--launcher", "slurm", "--command", "yolo train"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("#!/bin/bash\n#SBATCH --job-name=s1\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nsrun yolo train\n"), std::string::npos) << r.out;
}

TEST_F(Submit, SpecFileFieldsAreOverriddenByFlags) {
  const std::string spec =
      dir_.File("job.json", R"({"user": "alice", "project": "vision", "department": "research",
      "model_type": "yolov8s", "image": "reg/yolo:latest", "gpu_request": "1xA10G", "epochs": 100,
      "labels": {"team": "edge"}})");
  CliRun r = Cli({"submit", "--db", db_, "--spec", spec, "--image", "reg/yolo:train-yolov8-small-cu118",
                  "--id", "from-spec", "--yes", "--lang", "en", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["registered"], true);
  EXPECT_EQ(j["job"]["image"], "reg/yolo:train-yolov8-small-cu118");
  EXPECT_EQ(j["estimate"]["cost"]["median"], "14.00");
  auto l = OpenLedger(db_);
  EXPECT_EQ((*(*l)->GetJob("from-spec"))->labels.at("team"), "edge");
}

TEST_F(Submit, YamlSpecFileIsTheArticlesJobSpec) {
  const std::string spec = dir_.File("job.yaml", R"(# job_spec, as the article writes it
user: alice
project: vision
department: research
model_type: yolov8s
image: reg/yolo:train-yolov8-small-cu118
gpu_request: "1×A10G"
duration_limit: 48h
epochs: 100
dataset: coco
dataset_images: 10000
imgsz: 640
labels:
  team: edge
)");
  CliRun r = Cli(
      {"submit", "--db", db_, "--spec", spec, "--id", "yaml-1", "--yes", "--lang", "en", "--format", "json"});
  ASSERT_EQ(r.code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["registered"], true);
  EXPECT_EQ(j["estimate"]["cost"]["median"], "14.00");  // the same history as the JSON spec
  auto l = OpenLedger(db_);
  auto job = (*l)->GetJob("yaml-1");
  ASSERT_TRUE(job.ok() && job->has_value());
  EXPECT_EQ((*job)->labels.at("team"), "edge");
  EXPECT_EQ((*job)->duration_limit_ms, 48 * kHourMs);
  // A mistake names the file, the key and its line; nothing is registered.
  const std::string bad = dir_.File("bad.yaml", "user: alice\nepoch: 100\n");
  CliRun e = Cli({"submit", "--db", db_, "--spec", bad, "--yes", "--lang", "en"});
  EXPECT_NE(e.code, 0);
  EXPECT_NE(e.err.find("job spec file '" + bad + "': unknown key 'epoch' at line 2"), std::string::npos)
      << e.err;
  EXPECT_EQ(Jobs(), 4u);
}

// The API: the same answers, by role; a warning comes back on POST /api/v1/jobs.
class SubmitApi : public Submit {
 protected:
  void StartServer(PolicyMode mode) {
    auto ledger = OpenLedger(db_);
    ASSERT_TRUE(ledger.ok());
    for (Role role : {Role::kIngest, Role::kUser, Role::kAdmin, Role::kDeptAdmin, Role::kFinance}) {
      auto t = MakeToken(role, role == Role::kUser ? "vision" : "",
                         role == Role::kDeptAdmin ? "research" : "", kClock.Now());
      ASSERT_TRUE(t.ok()) << t.status().ToString();
      ASSERT_TRUE((*ledger)->PutToken(t->record).ok());
      tokens_[role] = t->secret;
    }
    ServerOptions opt;
    opt.port = 0;
    opt.journal_dir.clear();
    opt.policy.image_tag.mode = mode;
    server_ = std::make_unique<Server>(std::move(ledger).value(), kClock, opt);
    ASSERT_TRUE(server_->Start().ok());
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(60, 0);
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  httplib::Result Post(const std::string& path, Role role, const std::string& body) {
    return client_->Post(path, {{"Authorization", "Bearer " + tokens_[role]}}, body, "application/json");
  }
  static std::string Body(const std::string& id, const std::string& image) {
    return R"({"id": ")" + id + R"(", "user": "alice", "project": "vision", "department": "research",
              "model_type": "yolov8s", "image": ")" +
           image + R"(", "gpu_request": "1xA10G", "epochs": 100,
              "dataset": "coco", "dataset_images": 10000, "imgsz": 640, "duration_limit": "48h"})";
  }

  std::map<Role, std::string> tokens_;
  std::unique_ptr<Server> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(SubmitApi, SubmissionsGiveTheCliAnswers) {
  StartServer(PolicyMode::kEnforce);
  for (auto [image, rule] : {std::pair{std::string("reg/yolo:latest"), "rule no-latest"},
                             std::pair{"reg/yolo@sha256:" + kHex64, "rule no-digest-only"},
                             std::pair{std::string("reg/yolo:train-yolov8-fast-cu118"), "rule template"}}) {
    auto res = Post("/api/v1/submissions", Role::kAdmin, Body("a1", image));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << image;
    const nlohmann::json err = nlohmann::json::parse(res->body);
    const std::string msg = err["message"];
    EXPECT_NE(msg.find(rule), std::string::npos) << msg;
    EXPECT_NE(msg.find("a valid tag: 'train-yolov8-small-cu118'"), std::string::npos) << msg;
  }
  EXPECT_EQ(Post("/api/v1/submissions", Role::kUser, Body("a1", "reg/yolo:train-yolov8-small-cu118"))->status,
            403);
  auto dry = Post("/api/v1/submissions", Role::kIngest,
                  Body("a1", "reg/yolo:train-yolov8-small-cu118").insert(1, R"("dry_run": true, )"));
  ASSERT_TRUE(dry);
  EXPECT_EQ(dry->status, 200) << dry->body;
  {  // The refusals and the dry run stored nothing: no job, no estimate.
    auto before = OpenLedger(db_);
    ASSERT_TRUE(before.ok());
    EXPECT_FALSE((*before)->GetJob("a1")->has_value());
    EXPECT_FALSE((*before)->GetEstimate("a1")->has_value());
  }
  auto res = Post("/api/v1/submissions", Role::kIngest, Body("a1", "reg/yolo:train-yolov8-small-cu118"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  const nlohmann::json j = nlohmann::json::parse(res->body);
  EXPECT_EQ(j["job"]["status"], "pending");
  EXPECT_EQ(j["job"]["submitted"], "2026-11-15T12:00:00Z");
  EXPECT_EQ(j["estimate"]["basis"], "history");
  EXPECT_EQ(j["estimate"]["runs"], 3);
  EXPECT_EQ(j["estimate"]["cost"]["median"], "14.00");
  EXPECT_FALSE(j["estimate"]["cost"].contains("low"));
  auto over = Post("/api/v1/submissions", Role::kIngest,
                   Body("a2", "reg/yolo:train-yolov8-small-cu118").insert(1, R"("max_cost": "10", )"));
  EXPECT_EQ(over->status, 409) << over->body;
  // The first progress moves the pending job to running.
  auto prog = Post("/api/v1/jobs/a1/progress", Role::kIngest, R"({"epochs": [{"epoch": 1, "time_s": 60}]})");
  ASSERT_EQ(prog->status, 200) << prog->body;
  auto l = OpenLedger(db_);
  auto job = (*l)->GetJob("a1");
  EXPECT_EQ((*job)->status, JobStatus::kRunning);
  EXPECT_EQ((*job)->start_ms, kClock.Now());
  EXPECT_TRUE((*l)->GetEstimate("a1")->has_value());
  // The job's view carries its estimate beside its actual cost.
  auto view = client_->Get("/api/v1/jobs/a1", {{"Authorization", "Bearer " + tokens_[Role::kUser]}});
  ASSERT_EQ(view->status, 200) << view->body;
  const nlohmann::json v = nlohmann::json::parse(view->body);
  EXPECT_EQ(v["estimate"]["cost"]["median"], "14.00");
  EXPECT_EQ(v["estimate"]["made"], "2026-11-15T12:00:00Z");
  EXPECT_FALSE((*l)->GetJob("a2")->has_value());
  EXPECT_FALSE((*l)->GetEstimate("a2")->has_value());  // refused over max_cost: nothing kept
}

// Users and department admins ask for the estimate (the dashboard's form) of their own
// project's or department's job: the dry run's answer, as an admin gets it; a
// registration, another project or department, and finance are refused; nothing stored.
TEST_F(SubmitApi, UsersAndDeptAdminsGetTheDryRunOfTheirOwnJobsOnly) {
  StartServer(PolicyMode::kEnforce);
  const std::string dry = Body("e1", "reg/yolo:train-yolov8-small-cu118").insert(1, R"("dry_run": true, )");
  auto admin = Post("/api/v1/submissions", Role::kAdmin, dry);
  ASSERT_TRUE(admin);
  ASSERT_EQ(admin->status, 200) << admin->body;
  const auto want = nlohmann::json::parse(admin->body)["estimate"];
  for (Role role : {Role::kUser, Role::kDeptAdmin}) {
    auto res = Post("/api/v1/submissions", role, dry);
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    const auto j = nlohmann::json::parse(res->body);
    EXPECT_EQ(j["registered"], false);
    EXPECT_EQ(j["estimate"], want) << "the same estimate as the admin's";
  }
  std::string other = dry;
  other.replace(other.find(R"("project": "vision")"), 19, R"("project": "retail")");
  auto res = Post("/api/v1/submissions", Role::kUser, other);
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_NE(res->body.find("estimates its project's jobs, not 'retail'"), std::string::npos) << res->body;
  std::string dept = dry;
  dept.replace(dept.find(R"("department": "research")"), 24, R"("department": "finance")");
  res = Post("/api/v1/submissions", Role::kDeptAdmin, dept);
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_NE(res->body.find("estimates its department's jobs, not 'finance'"), std::string::npos) << res->body;
  res = Post("/api/v1/submissions", Role::kDeptAdmin, Body("e2", "reg/yolo:train-yolov8-small-cu118"));
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_NE(res->body.find(R"(asks for estimates only)"), std::string::npos) << res->body;
  EXPECT_EQ(Post("/api/v1/submissions", Role::kFinance, dry)->status, 403);
  auto ledger = OpenLedger(db_);
  ASSERT_TRUE(ledger.ok());
  for (const char* id : {"e1", "e2"}) {
    EXPECT_FALSE((*ledger)->GetJob(id)->has_value()) << id;
    EXPECT_FALSE((*ledger)->GetEstimate(id)->has_value()) << id;
  }
}

TEST_F(SubmitApi, JobsApiRefusesANewPendingJobInEnforceModeAndWarnsAboutARunningOne) {
  StartServer(PolicyMode::kEnforce);
  auto res = Post("/api/v1/jobs", Role::kIngest, Body("p1", "reg/yolo:latest"));
  EXPECT_EQ(res->status, 400) << res->body;
  {  // Refused inside the registration's unit of work: the job is not stored.
    auto l = OpenLedger(db_);
    ASSERT_TRUE(l.ok());
    EXPECT_FALSE((*l)->GetJob("p1")->has_value());
  }
  res = Post(
      "/api/v1/jobs", Role::kIngest,
      Body("p2", "reg/yolo:latest").insert(1, R"("status": "running", "start": "2026-11-15T11:00:00Z", )"));
  ASSERT_EQ(res->status, 201) << res->body;
  const nlohmann::json j = nlohmann::json::parse(res->body);
  ASSERT_TRUE(j.contains("warnings"));
  EXPECT_NE(j["warnings"][0].get<std::string>().find("rule no-latest"), std::string::npos);
}

TEST_F(SubmitApi, WarnModeAnswersTheWarning) {
  StartServer(PolicyMode::kWarn);
  auto res = Post("/api/v1/submissions", Role::kAdmin, Body("w1", "reg/yolo:latest"));
  ASSERT_EQ(res->status, 201) << res->body;
  const nlohmann::json j = nlohmann::json::parse(res->body);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find("image tag policy (warn): rule no-latest"),
            std::string::npos);
  auto jobs = Post("/api/v1/jobs", Role::kIngest, Body("w2", "reg/yolo:latest"));
  ASSERT_EQ(jobs->status, 201) << jobs->body;
  EXPECT_NE(jobs->body.find("rule no-latest"), std::string::npos);
  std::string policy;
  auto got = client_->Get("/api/v1/policy", {{"Authorization", "Bearer " + tokens_[Role::kUser]}});
  ASSERT_EQ(got->status, 200);
  EXPECT_EQ(nlohmann::json::parse(got->body)["image_tag"]["mode"], "warn");
}

TEST_F(SubmitApi, AnAgentRegisteredJobKeepsItsTagWarningInTheAuditLog) {
  StartServer(PolicyMode::kEnforce);
  // As the agent registers a running job: never refused, the warning kept for operators.
  auto res = Post(
      "/api/v1/jobs", Role::kIngest,
      Body("ag1", "reg/yolo:latest").insert(1, R"("status": "running", "start": "2026-11-15T11:00:00Z", )"));
  ASSERT_EQ(res->status, 201) << res->body;
  auto l = OpenLedger(db_);
  auto audit = (*l)->ListAudit();
  ASSERT_TRUE(audit.ok());
  auto it = std::find_if(audit->begin(), audit->end(),
                         [](const AuditEntry& e) { return e.action == "POST /api/v1/jobs"; });
  ASSERT_NE(it, audit->end());
  EXPECT_NE(it->detail.find("job=ag1"), std::string::npos) << it->detail;
  EXPECT_NE(it->detail.find("warning=\"image tag policy"), std::string::npos) << it->detail;
  EXPECT_NE(it->detail.find("rule no-latest"), std::string::npos) << it->detail;
  // And in the job's view, against the policy in force.
  auto view = client_->Get("/api/v1/jobs/ag1", {{"Authorization", "Bearer " + tokens_[Role::kUser]}});
  ASSERT_EQ(view->status, 200) << view->body;
  const auto v = nlohmann::json::parse(view->body);
  EXPECT_EQ(v["image_tag"]["mode"], "enforce") << view->body;
  ASSERT_EQ(v["image_tag"]["violations"].size(), 1u) << view->body;
  EXPECT_NE(v["image_tag"]["violations"][0].get<std::string>().find("rule no-latest"), std::string::npos);
}

TEST_F(SubmitApi, ADigestUnknownAtSubmissionIsFilledInAndAKnownOneIsNeverReplaced) {
  StartServer(PolicyMode::kEnforce);
  const std::string d1 = "sha256:" + std::string(64, 'a'), d2 = "sha256:" + std::string(64, 'b');
  ASSERT_EQ(
      Post("/api/v1/submissions", Role::kAdmin, Body("dg1", "reg/yolo:train-yolov8-small-cu118"))->status,
      201);
  {
    auto l = OpenLedger(db_);
    EXPECT_EQ((*(*l)->GetJob("dg1"))->image_digest, "");
  }
  // The agent (or the launcher) learns the digest once the container runs.
  const std::string image = "reg/yolo:train-yolov8-small-cu118";
  auto running = [&](const std::string& digest) {
    return Body("dg1", image).insert(1, R"("status": "running", "image_digest": ")" + digest + R"(", )");
  };
  auto res = Post("/api/v1/jobs", Role::kIngest, running(d1));
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_FALSE(nlohmann::json::parse(res->body).contains("warnings")) << res->body;
  {
    auto l = OpenLedger(db_);
    EXPECT_EQ((*(*l)->GetJob("dg1"))->image_digest, d1);
  }
  // A different one later is a warning, and the known one stays.
  res = Post("/api/v1/jobs", Role::kIngest, running(d2));
  ASSERT_EQ(res->status, 201) << res->body;
  const nlohmann::json j = nlohmann::json::parse(res->body);
  ASSERT_EQ(j["warnings"].size(), 1u) << res->body;
  EXPECT_EQ(j["warnings"][0], "job 'dg1' image digest " + d2 + " differs from the one known, " + d1 +
                                  "; the known one is kept");
  auto l = OpenLedger(db_);
  EXPECT_EQ((*(*l)->GetJob("dg1"))->image_digest, d1);
}

}  // namespace
}  // namespace gpuledger
