// Test-only: a real HTTP server on 127.0.0.1 (cpp-httplib, port 0, its own thread) that
// records every request it gets and answers from a script, standing in for DingTalk,
// WeCom, Feishu, Slack or a webhook receiver in the notifier tests. Header-only; tests
// only. Thread-safe (the server's threads record, the test reads).
#pragma once

#include <httplib.h>

#include <deque>
#include <string>
#include <thread>
#include <vector>

#include "common/mutex.h"

namespace gpuledger::testing {

struct SeenRequest {
  std::string path;                                  // without the query
  std::multimap<std::string, std::string> params;    // the query, URL-decoded
  httplib::Headers headers;
  std::string body;
};

struct ScriptedReply {
  int status = 200;
  std::string body = R"({"errcode":0,"errmsg":"ok","code":0})";
  std::string retry_after;
};

class HttpPeer {
 public:
  HttpPeer() {
    server_.Post(".*", [this](const httplib::Request& req, httplib::Response& res) {
      ScriptedReply reply;
      {
        MutexLock lock(mu_);
        seen_.push_back({req.path, {req.params.begin(), req.params.end()}, req.headers, req.body});
        if (seen_.size() == hold_at_) {
          cv_.NotifyAll();
          cv_.Wait(mu_, [this]() GL_REQUIRES(mu_) { return released_; });
        }
        if (!script_.empty()) {
          reply = script_.front();
          script_.pop_front();
        } else {
          reply = default_;
        }
      }
      cv_.NotifyAll();
      res.status = reply.status;
      if (!reply.retry_after.empty()) res.set_header("Retry-After", reply.retry_after);
      res.set_content(reply.body, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~HttpPeer() {
    Release();
    server_.stop();
    thread_.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Replies to the next requests, in order; after them, `fallback` (set_default).
  void Script(std::vector<ScriptedReply> replies) {
    MutexLock lock(mu_);
    for (auto& r : replies) script_.push_back(std::move(r));
  }
  void set_default(ScriptedReply r) {
    MutexLock lock(mu_);
    default_ = std::move(r);
  }
  // The n-th request (from 1) is answered only after Release: a sender can be stopped
  // while it waits for an answer.
  void HoldAt(size_t n) {
    MutexLock lock(mu_);
    hold_at_ = n;
  }
  void Release() {
    {
      MutexLock lock(mu_);
      released_ = true;
    }
    cv_.NotifyAll();
  }
  std::vector<SeenRequest> seen() const {
    MutexLock lock(mu_);
    return seen_;
  }
  size_t count() const {
    MutexLock lock(mu_);
    return seen_.size();
  }
  // Blocks until at least n requests were seen (no deadline: a hung test is a failure ctest times out).
  void WaitFor(size_t n) {
    MutexLock lock(mu_);
    cv_.Wait(mu_, [&]() GL_REQUIRES(mu_) { return seen_.size() >= n; });
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  mutable Mutex mu_;
  CondVar cv_;
  std::vector<SeenRequest> seen_ GL_GUARDED_BY(mu_);
  std::deque<ScriptedReply> script_ GL_GUARDED_BY(mu_);
  ScriptedReply default_ GL_GUARDED_BY(mu_);
  size_t hold_at_ GL_GUARDED_BY(mu_) = 0;
  bool released_ GL_GUARDED_BY(mu_) = false;
};

}  // namespace gpuledger::testing
