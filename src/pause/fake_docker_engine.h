// Test-only: a fake Docker Engine on a Unix socket, speaking HTTP/1.0 as the daemon does
// to an HTTP/1.0 client, with the Engine API's answers for the calls gpuledger makes:
//   GET    /images/{name}/json          200 {"Id", "RepoTags", "RepoDigests"} | 404
//   POST   /containers/create?name=N    201 {"Id","Warnings"} | 404 no such image | 409 name in use
//                                       | 400 for a body that is not a ContainerConfig
//   POST   /containers/{id}/start       204 | 304 already started | 404
//   POST   /containers/{id}/pause       204 | 409 already paused / not running | 404
//   POST   /containers/{id}/unpause     204 | 409 not paused | 404
//   GET    /containers/{id}/json        200 {"Id","Name","State","Config":{"Labels"}} | 404
//   DELETE /containers/{id}?force=true  204 (409 when it runs and force is not true) | 404
// Containers are found by id or name. FailNext makes one call answer an error instead
// (the failure points of a launch). Every request (line and body) is recorded.
// Header-only, used by tests, never by the libraries. Thread-safe.
#pragma once

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace gpuledger::testing {

class FakeDockerEngine {
 public:
  struct Container {
    bool running = true;
    bool paused = false;
  };
  struct Record : Container {
    std::string id;
    std::string name;
    nlohmann::json config;  // the create body
  };
  struct Request {
    std::string line;  // "POST /containers/create?name=x HTTP/1.0"
    std::string body;
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

  const std::string& path() const { return path_; }
  void Add(const std::string& id, Container c, const std::string& name = "") {
    std::lock_guard<std::mutex> l(mu_);
    Record r;
    static_cast<Container&>(r) = c;
    r.id = id;
    r.name = name;
    containers_[id] = r;
  }
  // An image the daemon has, with its RepoDigests ("reg/yolo@sha256:...").
  void AddImage(const std::string& name, std::vector<std::string> repo_digests) {
    std::lock_guard<std::mutex> l(mu_);
    images_[name] = std::move(repo_digests);
  }
  // The next call whose method and path start with `prefix` ("POST /containers/" ...
  // "/start" is matched with `contains`) answers `code` with {"message": message}.
  void FailNext(const std::string& method, const std::string& contains, int code,
                const std::string& message) {
    std::lock_guard<std::mutex> l(mu_);
    failures_.push_back({method, contains, code, message});
  }
  Record Get(const std::string& id_or_name) {
    std::lock_guard<std::mutex> l(mu_);
    auto it = Find(id_or_name);
    return it == containers_.end() ? Record{} : it->second;
  }
  bool Has(const std::string& id_or_name) {
    std::lock_guard<std::mutex> l(mu_);
    return Find(id_or_name) != containers_.end();
  }
  size_t containers() {
    std::lock_guard<std::mutex> l(mu_);
    return containers_.size();
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out;
    for (const Request& r : requests_) out.push_back(r.line);
    return out;
  }
  std::vector<Request> full_requests() {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }

 private:
  struct Failure {
    std::string method, contains;
    int code;
    std::string message;
  };

  std::map<std::string, Record>::iterator Find(const std::string& key) {
    auto it = containers_.find(key);
    if (it != containers_.end()) return it;
    for (it = containers_.begin(); it != containers_.end(); ++it)
      if (it->second.name == key) return it;
    return containers_.end();
  }

  void Serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      std::string req;
      char buf[4096];
      size_t want = std::string::npos;  // headers + body
      while (want == std::string::npos || req.size() < want) {
        const ssize_t n = ::read(c, buf, sizeof buf);
        if (n <= 0) break;
        req.append(buf, static_cast<size_t>(n));
        const size_t end = req.find("\r\n\r\n");
        if (want == std::string::npos && end != std::string::npos) {
          const size_t cl = req.find("Content-Length: ");
          const size_t len = cl != std::string::npos && cl < end ? std::stoul(req.substr(cl + 16)) : 0;
          want = end + 4 + len;
        }
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
    const size_t head_end = req.find("\r\n\r\n");
    const std::string line = req.substr(0, req.find("\r\n"));
    const std::string body = head_end == std::string::npos ? "" : req.substr(head_end + 4);
    requests_.push_back({line, body});
    const size_t sp1 = line.find(' ');
    const size_t sp2 = line.find(' ', sp1 + 1);
    const std::string method = line.substr(0, sp1);
    const std::string target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (line.substr(sp2 + 1) != "HTTP/1.0") return Error(400, "Bad Request", "bad request");
    for (auto f = failures_.begin(); f != failures_.end(); ++f) {
      if (f->method == method && target.find(f->contains) != std::string::npos) {
        const Failure failure = *f;
        failures_.erase(f);
        return Error(failure.code, "Error", failure.message);
      }
    }
    const std::string path = target.substr(0, target.find('?'));
    const std::string query =
        target.find('?') == std::string::npos ? "" : target.substr(target.find('?') + 1);
    if (method == "GET" && path.rfind("/images/", 0) == 0 && path.size() > 13 &&
        path.substr(path.size() - 5) == "/json") {
      const std::string name = path.substr(8, path.size() - 13);
      auto it = images_.find(name);
      if (it == images_.end()) return Error(404, "Not Found", "No such image: " + name);
      return Reply(
          200, "OK",
          nlohmann::json{
              {"Id", "sha256:" + std::string(64, 'e')}, {"RepoTags", {name}}, {"RepoDigests", it->second}}
              .dump());
    }
    if (method == "POST" && path == "/containers/create") {
      const std::string name = query.rfind("name=", 0) == 0 ? query.substr(5) : "";
      const nlohmann::json config = nlohmann::json::parse(body, nullptr, false);
      if (!config.is_object() || !config.contains("Image") || !config["Image"].is_string())
        return Error(400, "Bad Request", "config cannot be empty in order to create a container");
      const std::string image = config["Image"];
      if (!images_.count(image)) {
        bool by_digest = false;
        for (const auto& [n, digests] : images_)
          for (const std::string& d : digests)
            if (image == n + d.substr(d.find('@'))) by_digest = true;
        if (!by_digest) return Error(404, "Not Found", "No such image: " + image);
      }
      if (!name.empty() && Find(name) != containers_.end())
        return Error(409, "Conflict",
                     "Conflict. The container name \"/" + name + "\" is already in use by container \"" +
                         Find(name)->first + "\".");
      const std::string id = std::string(52, 'a') + std::to_string(100000000000 + ++created_);
      Record r;
      r.running = false;
      r.id = id;
      r.name = name;
      r.config = config;
      containers_[id] = r;
      return Reply(201, "Created", nlohmann::json{{"Id", id}, {"Warnings", nlohmann::json::array()}}.dump());
    }
    if (path.rfind("/containers/", 0) != 0) return Error(404, "Not Found", "page not found");
    const std::string rest = path.substr(12);
    const std::string id = rest.substr(0, rest.find('/'));
    const std::string op = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
    auto it = Find(id);
    if (it == containers_.end()) return Error(404, "Not Found", "No such container: " + id);
    Record& ct = it->second;
    if (method == "GET" && op == "json") {
      const std::string status = ct.paused ? "paused" : ct.running ? "running" : "exited";
      const nlohmann::json state = {{"Status", status}, {"Running", ct.running}, {"Paused", ct.paused}};
      nlohmann::json labels = ct.config.is_object() && ct.config.contains("Labels")
                                  ? ct.config["Labels"]
                                  : nlohmann::json::object();
      return Reply(
          200, "OK",
          nlohmann::json{
              {"Id", ct.id}, {"Name", "/" + ct.name}, {"State", state}, {"Config", {{"Labels", labels}}}}
              .dump());
    }
    if (method == "DELETE" && op.empty()) {
      if (ct.running && query.find("force=true") == std::string::npos)
        return Error(409, "Conflict", "cannot remove container \"/" + ct.name + "\": container is running");
      containers_.erase(it);
      return Reply(204, "No Content", "");
    }
    if (method != "POST" || req.find("Content-Length: 0\r\n") == std::string::npos) {
      return Error(400, "Bad Request", "expected a POST without a body");
    }
    if (op == "start") {
      if (ct.running) return Reply(304, "Not Modified", "");
      ct.running = true;
      return Reply(204, "No Content", "");
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
    return Error(404, "Not Found", "page not found");
  }

  std::string path_;
  int fd_ = -1;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, Record> containers_;
  std::map<std::string, std::vector<std::string>> images_;
  std::vector<Failure> failures_;
  std::vector<Request> requests_;
  int64_t created_ = 0;
};

}  // namespace gpuledger::testing
