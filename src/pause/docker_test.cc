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

namespace gpuledger {
namespace {

// A fake Docker Engine on a Unix socket, speaking HTTP/1.0 as the daemon does to an
// HTTP/1.0 client, with the Engine API's answers for pause, unpause and inspect:
// 204 done, 404 {"message":"No such container: X"}, 409 {"message":"Container X is
// already paused" | "is not paused" | "is not running"}.
class FakeDockerEngine {
 public:
  struct Container {
    bool running = true;
    bool paused = false;
  };

  explicit FakeDockerEngine(std::string path) : path_(std::move(path)) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << std::strerror(errno);
    EXPECT_EQ(::listen(fd_, 8), 0);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeDockerEngine() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  FakeDockerEngine(const FakeDockerEngine&) = delete;
  FakeDockerEngine& operator=(const FakeDockerEngine&) = delete;

  void Add(const std::string& id, Container c) {
    std::lock_guard<std::mutex> l(mu_);
    containers_[id] = c;
  }
  Container Get(const std::string& id) {
    std::lock_guard<std::mutex> l(mu_);
    return containers_[id];
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  void Serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
      }
      const std::string answer = Answer(req);
      (void)::write(c, answer.data(), answer.size());
      ::close(c);
    }
  }

  static std::string Reply(int code, const std::string& reason, const std::string& body) {
    std::string r = "HTTP/1.0 " + std::to_string(code) + " " + reason + "\r\nApi-Version: 1.43\r\n";
    if (!body.empty()) r += "Content-Type: application/json\r\n";
    return r + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  }
  static std::string Error(int code, const std::string& reason, const std::string& msg) {
    return Reply(code, reason, nlohmann::json{{"message", msg}}.dump() + "\n");
  }

  std::string Answer(const std::string& req) {
    std::lock_guard<std::mutex> l(mu_);
    const std::string line = req.substr(0, req.find("\r\n"));
    requests_.push_back(line);
    const size_t sp1 = line.find(' ');
    const size_t sp2 = line.find(' ', sp1 + 1);
    const std::string method = line.substr(0, sp1);
    const std::string path = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (line.substr(sp2 + 1) != "HTTP/1.0" || path.rfind("/containers/", 0) != 0) {
      return Error(400, "Bad Request", "bad request");
    }
    const std::string rest = path.substr(12);
    const std::string id = rest.substr(0, rest.find('/'));
    const std::string op = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
    auto it = containers_.find(id);
    if (it == containers_.end()) return Error(404, "Not Found", "No such container: " + id);
    Container& ct = it->second;
    if (method == "GET" && op == "json") {
      const std::string status = ct.paused ? "paused" : ct.running ? "running" : "exited";
      const nlohmann::json state = {{"Status", status}, {"Running", ct.running}, {"Paused", ct.paused}};
      return Reply(200, "OK", nlohmann::json{{"Id", id}, {"State", state}}.dump());
    }
    if (method != "POST" || req.find("Content-Length: 0\r\n") == std::string::npos) {
      return Error(400, "Bad Request", "expected a POST without a body");
    }
    if (op == "pause") {
      if (!ct.running) return Error(409, "Conflict", "Container " + id + " is not running");
      if (ct.paused) return Error(409, "Conflict", "Container " + id + " is already paused");
      ct.paused = true;
      return Reply(204, "No Content", "");
    }
    if (op == "unpause") {
      if (!ct.paused) return Error(409, "Conflict", "Container " + id + " is not paused");
      ct.paused = false;
      return Reply(204, "No Content", "");
    }
    if (op == "start") return Reply(304, "Not Modified", "");  // already started
    return Error(404, "Not Found", "page not found");
  }

  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, Container> containers_;
  std::vector<std::string> requests_;
};

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

}  // namespace
}  // namespace gpuledger
