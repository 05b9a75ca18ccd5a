#include "pause/docker.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "common/unix_http.h"
#include "pause/fake_docker_engine.h"

namespace gpuledger {
namespace {

using testing::FakeDockerEngine;

PauseTarget Docker(const std::string& id) {
  PauseTarget t;
  t.job_id = "job-" + id;
  t.mode = PauseMode::kDocker;
  t.handle = id;
  return t;
}

TEST(DockerController, PausesAndUnpausesKeepingTheGpus) {
  testing::TempDir dir;
  FakeDockerEngine engine(dir.path() + "/docker.sock");
  engine.Add("yolo1", {});
  DockerController docker(dir.path() + "/docker.sock");

  auto paused = docker.Pause(Docker("yolo1"));
  ASSERT_TRUE(paused.ok()) << paused.status().message();
  EXPECT_FALSE(paused->gpus_freed);
  EXPECT_EQ(paused->resume_command, "docker unpause yolo1");
  EXPECT_TRUE(engine.Get("yolo1").paused);
  EXPECT_EQ(engine.requests(), std::vector<std::string>{"POST /containers/yolo1/pause HTTP/1.0"});

  auto resumed = docker.Resume(Docker("yolo1"));
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_FALSE(resumed->gpus_freed);
  EXPECT_FALSE(engine.Get("yolo1").paused);
  EXPECT_EQ(engine.requests().back(), "POST /containers/yolo1/unpause HTTP/1.0");
}

TEST(DockerController, AlreadyInThatStateIsDoneAfterAnInspect) {
  testing::TempDir dir;
  FakeDockerEngine engine(dir.path() + "/docker.sock");
  engine.Add("p", {.running = true, .paused = true});
  engine.Add("r", {.running = true, .paused = false});
  DockerController docker(dir.path() + "/docker.sock");

  auto again = docker.Pause(Docker("p"));  // 409 already paused
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_NE(again->detail.find("already paused"), std::string::npos);
  EXPECT_EQ(engine.requests(), (std::vector<std::string>{"POST /containers/p/pause HTTP/1.0",
                                                         "GET /containers/p/json HTTP/1.0"}));
  auto running = docker.Resume(Docker("r"));  // 409 not paused, but it runs
  ASSERT_TRUE(running.ok()) << running.status().message();
  EXPECT_NE(running->detail.find("already running"), std::string::npos);
}

TEST(DockerController, ErrorsSayWhatTheEngineAnswered) {
  testing::TempDir dir;
  FakeDockerEngine engine(dir.path() + "/docker.sock");
  engine.Add("dead", {.running = false, .paused = false});
  DockerController docker(dir.path() + "/docker.sock");

  auto missing = docker.Pause(Docker("nope"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("No such container: nope"), std::string::npos);

  auto dead = docker.Pause(Docker("dead"));
  EXPECT_EQ(dead.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(dead.status().message().find("is not running"), std::string::npos);
  EXPECT_NE(dead.status().message().find("state exited"), std::string::npos);
  EXPECT_FALSE(engine.Get("dead").paused);

  PauseTarget wrong = Docker("x");
  wrong.mode = PauseMode::kKubernetes;
  EXPECT_EQ(docker.Pause(wrong).status().code(), StatusCode::kInvalidArgument);

  DockerController nowhere(dir.path() + "/no.sock");
  auto down = nowhere.Pause(Docker("dead"));
  EXPECT_EQ(down.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(down.status().message().find("no.sock"), std::string::npos);
}

TEST(UnixHttp, ParsesTheStatusAndBodyAnd304) {
  testing::TempDir dir;
  FakeDockerEngine engine(dir.path() + "/docker.sock");
  engine.Add("c", {});
  auto r = UnixHttpRequest(dir.path() + "/docker.sock", "POST", "/containers/c/start");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 304);
  EXPECT_EQ(r->body, "");
  auto p = ParseHttpResponse("HTTP/1.1 409 Conflict\r\nA: b\r\n\r\n{\"message\":\"x\"}");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->status, 409);
  EXPECT_EQ(p->body, "{\"message\":\"x\"}");
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 4x9 Conflict\r\n\r\n").ok());
  EXPECT_FALSE(ParseHttpResponse("HTTP/1.1 409 Conflict\r\n").ok());
}

TEST(DockerEngine, CreatesStartsAndRemovesAContainerAndReadsTheImageDigest) {
  testing::TempDir dir;
  FakeDockerEngine engine(dir.path() + "/docker.sock");
  const std::string d = "sha256:" + std::string(64, 'd');
  engine.AddImage("reg/yolo:t1", {"reg/yolo@" + d});
  DockerEngine docker(dir.path() + "/docker.sock");
  EXPECT_EQ(*docker.ImageDigest("reg/yolo:t1"), d);
  auto missing = docker.ImageDigest("reg/yolo:t2");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("docker pull reg/yolo:t2 first"), std::string::npos);
  auto id = docker.CreateContainer("c1", R"({"Image":"reg/yolo:t1"})");
  ASSERT_TRUE(id.ok()) << id.status().message();
  EXPECT_FALSE(engine.Get("c1").running);
  EXPECT_EQ(docker.CreateContainer("c1", R"({"Image":"reg/yolo:t1"})").status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(docker.CreateContainer("c2", R"({"Image":"reg/yolo:t9"})").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(docker.CreateContainer("c3", R"({})").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(docker.StartContainer(*id).ok());
  EXPECT_TRUE(engine.Get("c1").running);
  ASSERT_TRUE(docker.StartContainer(*id).ok());  // 304: already started
  ASSERT_TRUE(docker.RemoveContainer(*id).ok());  // running: force
  EXPECT_FALSE(engine.Has("c1"));
  ASSERT_TRUE(docker.RemoveContainer(*id).ok());  // 404: already gone
  EXPECT_EQ(docker.StartContainer(*id).code(), StatusCode::kNotFound);
}

TEST(ParseImageDigest, PicksTheImagesRepositoryAndSkipsWhatIsNoDigest) {
  const std::string a = "sha256:" + std::string(64, 'a'), b = "sha256:" + std::string(64, 'b');
  const std::string body = R"({"RepoDigests":["reg/other@)" + a + R"(","reg/yolo@)" + b + R"("]})";
  EXPECT_EQ(*ParseImageDigest("reg/yolo:t", body), b);
  EXPECT_EQ(*ParseImageDigest("reg/yolo:t@" + b, body), b);
  EXPECT_EQ(*ParseImageDigest("elsewhere/x:t", body), a);  // none names it: the first
  EXPECT_EQ(*ParseImageDigest("reg/yolo:t", R"({"RepoDigests":[]})"), "");  // built locally
  EXPECT_EQ(*ParseImageDigest("reg/yolo:t", R"({"RepoDigests":["reg/yolo@sha256:../../x", 7]})"), "");
  EXPECT_EQ(ParseImageDigest("reg/yolo:t", "[]").status().code(), StatusCode::kUnavailable);
}

}  // namespace
}  // namespace gpuledger
