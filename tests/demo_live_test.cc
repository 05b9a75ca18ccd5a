// demo --serve --live (src/cli/demo_live.h): the simulated month's last hour, held back
// and streamed into the served ledger through remote write as the accelerated clock
// reaches it, gives the month the batch demo gives, but for the run the circuit breaker
// paused on the way.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "child_process.h"
#include "common/test_util.h"

namespace gpuledger {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// Waits up to `seconds` for `re` to match the file; returns its first group ("" if none).
std::string WaitFor(const std::string& path, const std::regex& re, int seconds, std::string* text) {
  for (int i = 0; i < seconds * 10; ++i) {
    *text = ReadAll(path);
    std::smatch m;
    if (std::regex_search(*text, m, re)) return m[1];
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return "";
}

// The group of `re` in `text` ("" if none).
std::string Find(const std::string& text, const std::regex& re) {
  std::smatch m;
  return std::regex_search(text, m, re) ? std::string(m[1]) : std::string();
}

// Stops the child however the test ends.
struct Stopper {
  pid_t pid;
  ~Stopper() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }
};

TEST(DemoLive, TheStreamedLastHourGivesTheBatchDemosMonthButForTheRunTheBreakerPaused) {
  testing::TempDir dir;
  const std::string live_db = dir.path() + "/live.db", batch_db = dir.path() + "/batch.db";
  const std::string out = dir.path() + "/live.out";
  testing::Child demo = testing::Spawn({GPULEDGER_BINARY, "demo", "--db", live_db, "--interval", "5m",
                                        "--serve", "--live", "--speed", "120", "--port", "0"},
                                       {}, out);
  Stopper stopper{demo.pid};
  std::string text;
  const std::string port = WaitFor(out, std::regex(R"(dashboard: http://127\.0\.0\.1:(\d+)/)"), 120, &text);
  ASSERT_FALSE(port.empty()) << text;
  const std::string held = Find(text, std::regex(R"(live: the last hour's 1 new job\(s\), (\d+) samples)"));
  const std::string admin = Find(text, std::regex(R"(\n  admin\s+(glt_[0-9a-f]+))"));
  ASSERT_FALSE(held.empty() || admin.empty()) << text;
  EXPECT_NE(text.find("the reports are as of 2026-10-31T15:00:00Z"), std::string::npos) << text;
  // An hour at 120 times the wall's pace: 30 s. Each second brings 2 minutes of samples, well
  // under the idle rule's max_sample_age (5 min), even in a sanitizer build: a much faster
  // stream reads every GPU stale.
  const std::string done =
      WaitFor(out, std::regex(R"(live: 1 job\(s\), (\d+) samples and \d+ epochs streamed)"), 60, &text);
  ASSERT_FALSE(done.empty()) << text;
  EXPECT_EQ(done, held) << "every held-back sample acknowledged";
  EXPECT_GT(std::stoll(held), 0);

  httplib::Client client("127.0.0.1", std::stoi(port));
  auto metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("gpuledger_samples_written_total " + held), std::string::npos)
      << "they came in through remote write";
  EXPECT_NE(metrics->body.find("gpuledger_remote_write_rejected_total 0"), std::string::npos);
  // The month through the server, after the stream (its clock past the month's end) ...
  const httplib::Headers auth = {{"Authorization", "Bearer " + admin}};
  nlohmann::json live;
  for (int i = 0; i < 50; ++i) {  // the journal's flush lands within seconds
    auto r = client.Get("/api/v1/reports/monthly?month=2026-10&by=job", auth);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200) << r->body;
    live = nlohmann::json::parse(r->body);
    if (!live["partial"].get<bool>()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // The stalled run met the circuit breaker: paused at a flush or an epoch of the stream,
  // its callback told so at its next epoch, its GPU freed from the pause.
  EXPECT_NE(text.find("live: job-stalled-dataloader told at epoch"), std::string::npos) << text;
  EXPECT_NE(text.find("to pause: loss improved by"), std::string::npos) << text;
  // The late run was registered through the jobs API as it started, and its epochs came.
  EXPECT_NE(text.find("live: job-forklift-yolo11s-late (forklift-perception, yolo11s) starts at "
                      "2026-10-31T15:10:00Z on 1 GPU(s), registered through POST /api/v1/jobs"),
            std::string::npos)
      << text;
  auto late = client.Get("/api/v1/jobs/job-forklift-yolo11s-late", auth);
  ASSERT_TRUE(late && late->status == 200) << (late ? late->body : "no answer");
  EXPECT_EQ(nlohmann::json::parse(late->body)["status"], "running");
  auto late_epochs = client.Get("/api/v1/jobs/job-forklift-yolo11s-late/progress", auth);
  ASSERT_TRUE(late_epochs && late_epochs->status == 200) << (late_epochs ? late_epochs->body : "no answer");
  EXPECT_GE(nlohmann::json::parse(late_epochs->body)["epochs"].size(), 5u) << late_epochs->body;
  // The hung run met the idle rule: warned at 60 and 105 minutes of its GPUs at 0 %, acted
  // on at 120 (a cooperative pause its hung trainer never picks up).
  auto hung = client.Get("/api/v1/jobs/job-shelf-yolov8m-hung", auth);
  ASSERT_TRUE(hung && hung->status == 200) << (hung ? hung->body : "no answer");
  std::vector<std::string> idle_keys;
  const auto hung_view = nlohmann::json::parse(hung->body);  // kept alive for the loop
  for (const auto& d : hung_view["policy"]["decisions"]) {
    EXPECT_EQ(d["rule"], "idle") << d.dump();
    idle_keys.push_back(d["cause_key"].get<std::string>() + " " + d["action"].get<std::string>());
  }
  std::sort(idle_keys.begin(), idle_keys.end());
  ASSERT_EQ(idle_keys.size(), 3u) << hung_view["policy"].dump();
  EXPECT_NE(idle_keys[0].find("/act pause"), std::string::npos) << idle_keys[0];
  EXPECT_NE(idle_keys[1].find("/warn-1 warn"), std::string::npos) << idle_keys[1];
  EXPECT_NE(idle_keys[2].find("/warn-2 warn"), std::string::npos) << idle_keys[2];
  auto view = client.Get("/api/v1/jobs/job-stalled-dataloader", auth);
  ASSERT_TRUE(view && view->status == 200) << (view ? view->body : "no answer");
  const auto job = nlohmann::json::parse(view->body);
  ASSERT_EQ(job["policy"]["decisions"].size(), 1u) << job["policy"].dump();
  const auto& decision = job["policy"]["decisions"][0];
  EXPECT_EQ(decision["rule"], "breaker");
  EXPECT_EQ(decision["action"], "pause");
  EXPECT_EQ(decision["data"]["outcome"], "paused (cooperative)") << decision.dump();
  ASSERT_EQ(job["policy"]["paused"].size(), 1u);
  EXPECT_TRUE(job["policy"]["paused"][0]["gpus_freed"].get<bool>());
  // Between 40 and 20 minutes before the month's end (docs/POLICIES.md, the stalled run).
  const std::string paused = job["policy"]["paused"][0]["paused"];
  EXPECT_GE(paused, "2026-10-31T15:19:00Z");
  EXPECT_LE(paused, "2026-10-31T15:41:00Z");
  kill(demo.pid, SIGTERM);
  EXPECT_TRUE(WIFEXITED(testing::Wait(demo)));
  stopper.pid = -1;
  EXPECT_FALSE(live["partial"].get<bool>()) << live.dump();
  // ... is the batch demo's, where every sample was written before the report.
  testing::Child batch = testing::Spawn({GPULEDGER_BINARY, "demo", "--db", batch_db, "--interval", "5m"}, {},
                                        dir.path() + "/batch.out");
  ASSERT_EQ(testing::Wait(batch), 0);
  testing::Child report = testing::Spawn(
      {GPULEDGER_BINARY, "report", "--db", batch_db, "--month", "2026-10", "--by", "job", "--format", "json"},
      {}, dir.path() + "/batch.json");
  ASSERT_EQ(testing::Wait(report), 0);
  const auto want = nlohmann::json::parse(ReadAll(dir.path() + "/batch.json"));
  // Every GPU-second is on the books either way; every job but the paused one costs what
  // the batch demo says (which has no server to act), the paused one less: billed to its
  // pause, the rest of its GPU's month unallocated.
  EXPECT_EQ(live["total"]["covered_gpu_hours"], want["total"]["covered_gpu_hours"]);
  ASSERT_EQ(live["lines"].size(), want["lines"].size());
  std::map<std::string, nlohmann::json> live_lines;
  for (const auto& l : live["lines"]) live_lines[l["key"].get<std::string>()] = l;
  int compared = 0, off_by_a_cent = 0;
  for (const auto& w : want["lines"]) {
    const std::string key = w["key"];
    ASSERT_EQ(live_lines.count(key), 1u) << key;
    const nlohmann::json& l = live_lines[key];
    if (key == "job-stalled-dataloader") {
      EXPECT_LT(std::stod(l["cost"].get<std::string>()), std::stod(w["cost"].get<std::string>()));
      EXPECT_LT(l["gpu_hours"].get<double>(), w["gpu_hours"].get<double>());
      continue;
    }
    // The usage exactly; the cost to the minor unit but for one cent of rounding: the month's
    // cents go to its items by largest remainder (cost_engine.cc), so the paused run's
    // different amount can move one cent between two others.
    EXPECT_EQ(l["gpu_hours"], w["gpu_hours"]) << key;
    EXPECT_EQ(l["energy_kwh"], w["energy_kwh"]) << key;
    const double off =
        std::abs(std::stod(l["cost"].get<std::string>()) - std::stod(w["cost"].get<std::string>()));
    EXPECT_LT(off, 0.015) << key << " " << l["cost"] << " vs " << w["cost"];
    if (off > 0.005) ++off_by_a_cent;
    ++compared;
  }
  EXPECT_GT(compared, 100);
  EXPECT_LE(off_by_a_cent, 2) << "rounding moves a cent, not more";
  EXPECT_GT(live["unallocated"]["gpu_hours"].get<double>(), want["unallocated"]["gpu_hours"].get<double>());
}

}  // namespace
}  // namespace gpuledger
