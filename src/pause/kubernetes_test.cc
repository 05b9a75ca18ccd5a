#include "pause/kubernetes.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "common/test_util.h"
#include "server/test_certificate.h"

namespace gpuledger {
namespace {

// A fake Kubernetes API server for batch/v1 Jobs over TLS (a certificate made at test
// time): PATCH /apis/batch/v1/namespaces/{ns}/jobs/{name} with a merge patch, as the
// real one checks it: 401 without the bearer token, 403 for a namespace the token may
// not touch, 415 for another content type, 400 for a body that is not JSON, 404 for an
// unknown Job, 422 for a suspend that is not a boolean; else 200 and the Job.
class FakeApiServer {
 public:
  FakeApiServer(const std::string& cert, const std::string& key, std::string token)
      : server_(cert.c_str(), key.c_str()), token_(std::move(token)) {
    server_.Patch(R"(/apis/batch/v1/namespaces/([a-z0-9.-]+)/jobs/([a-z0-9.-]+))",
                  [this](const httplib::Request& req, httplib::Response& res) { Handle(req, res); });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~FakeApiServer() {
    server_.stop();
    thread_.join();
  }
  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;

  std::string base() const { return "https://127.0.0.1:" + std::to_string(port_); }
  void AddJob(const std::string& ns, const std::string& name) {
    std::lock_guard<std::mutex> l(mu_);
    jobs_[ns + "/" + name] = false;
  }
  bool suspended(const std::string& key) {
    std::lock_guard<std::mutex> l(mu_);
    return jobs_.at(key);
  }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

 private:
  static void Status(httplib::Response& res, int code, const std::string& reason, const std::string& msg) {
    res.status = code;
    res.set_content(nlohmann::json{{"kind", "Status"},
                                   {"apiVersion", "v1"},
                                   {"status", "Failure"},
                                   {"message", msg},
                                   {"reason", reason},
                                   {"code", code}}
                        .dump(),
                    "application/json");
  }

  void Handle(const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> l(mu_);
    const std::string ns = req.matches[1];
    const std::string name = req.matches[2];
    seen_.push_back(req.method + " " + req.path + " " + req.get_header_value("Content-Type") + " " +
                    req.body);
    if (req.get_header_value("Authorization") != "Bearer " + token_) {
      return Status(res, 401, "Unauthorized", "Unauthorized");
    }
    if (ns == "kube-system") {
      return Status(res, 403, "Forbidden",
                    "jobs.batch \"" + name + "\" is forbidden: User cannot patch resource");
    }
    if (req.get_header_value("Content-Type") != "application/merge-patch+json") {
      return Status(res, 415, "UnsupportedMediaType", "the body of the request was in an unknown format");
    }
    const nlohmann::json patch = nlohmann::json::parse(req.body, nullptr, false);
    if (!patch.is_object()) return Status(res, 400, "BadRequest", "error decoding patch");
    auto it = jobs_.find(ns + "/" + name);
    if (it == jobs_.end()) return Status(res, 404, "NotFound", "jobs.batch \"" + name + "\" not found");
    const auto& suspend = patch["spec"]["suspend"];
    if (!suspend.is_boolean()) return Status(res, 422, "Invalid", "Job.batch \"" + name + "\" is invalid");
    it->second = suspend.get<bool>();
    res.set_content(nlohmann::json{{"apiVersion", "batch/v1"},
                                   {"kind", "Job"},
                                   {"metadata", {{"name", name}, {"namespace", ns}}},
                                   {"spec", {{"suspend", it->second}, {"parallelism", 1}}}}
                        .dump(),
                    "application/json");
  }

  httplib::SSLServer server_;
  std::string token_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, bool> jobs_;
  std::vector<std::string> seen_;
};

PauseTarget Job(const std::string& handle) {
  PauseTarget t;
  t.job_id = "job-1";
  t.mode = PauseMode::kKubernetes;
  t.handle = handle;
  return t;
}

class KubernetesControllerTest : public ::testing::Test {
 protected:
  KubernetesControllerTest()
      : cert_(testing::MakeTestCertificate()),
        cert_file_(dir_.File("ca.crt", cert_.cert_pem)),
        key_file_(dir_.File("key.pem", cert_.key_pem)),
        token_file_(dir_.File("token", "s3cret-token\n")),
        api_(cert_file_, key_file_, "s3cret-token") {
    api_.AddJob("vision", "yolo-train-7");
  }
  KubernetesOptions Options() const {
    KubernetesOptions o;
    o.api_server = api_.base();
    o.token_file = token_file_;
    o.ca_file = cert_file_;
    return o;
  }
  gpuledger::testing::TempDir dir_;
  gpuledger::testing::TestCertificate cert_;
  std::string cert_file_, key_file_, token_file_;
  FakeApiServer api_;
};

TEST_F(KubernetesControllerTest, SuspendsAndResumesTheJobByMergePatch) {
  KubernetesController k8s(Options());
  auto paused = k8s.Pause(Job("vision/yolo-train-7"));
  ASSERT_TRUE(paused.ok()) << paused.status().message();
  EXPECT_TRUE(paused->gpus_freed);
  EXPECT_EQ(paused->resume_command,
            R"(kubectl patch job yolo-train-7 -n vision --type=merge -p '{"spec":{"suspend":false}}')");
  EXPECT_TRUE(api_.suspended("vision/yolo-train-7"));
  ASSERT_EQ(api_.seen().size(), 1U);
  EXPECT_EQ(
      api_.seen()[0],
      R"(PATCH /apis/batch/v1/namespaces/vision/jobs/yolo-train-7 application/merge-patch+json {"spec":{"suspend":true}})");

  auto resumed = k8s.Resume(Job("vision/yolo-train-7"));
  ASSERT_TRUE(resumed.ok()) << resumed.status().message();
  EXPECT_FALSE(resumed->gpus_freed);
  EXPECT_FALSE(api_.suspended("vision/yolo-train-7"));
  EXPECT_EQ(
      api_.seen()[1],
      R"(PATCH /apis/batch/v1/namespaces/vision/jobs/yolo-train-7 application/merge-patch+json {"spec":{"suspend":false}})");
}

TEST_F(KubernetesControllerTest, RefusalsKeepTheApiServersReason) {
  KubernetesController k8s(Options());
  auto missing = k8s.Pause(Job("vision/nope"));
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(R"(jobs.batch "nope" not found)"), std::string::npos);
  EXPECT_EQ(k8s.Pause(Job("kube-system/x")).status().code(), StatusCode::kPermissionDenied);

  KubernetesOptions wrong_token = Options();
  wrong_token.token_file = dir_.File("other", "not-the-token");
  auto denied = KubernetesController(wrong_token).Pause(Job("vision/yolo-train-7"));
  EXPECT_EQ(denied.status().code(), StatusCode::kUnauthenticated);
  EXPECT_FALSE(api_.suspended("vision/yolo-train-7"));

  KubernetesOptions no_token = Options();
  no_token.token_file = dir_.path() + "/absent";
  auto unread = KubernetesController(no_token).Pause(Job("vision/yolo-train-7"));
  EXPECT_EQ(unread.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(unread.status().message().find("absent"), std::string::npos);

  EXPECT_EQ(k8s.Pause(Job("no-slash")).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(KubernetesControllerTest, AServerTheCaFileDoesNotVouchForIsRefused) {
  KubernetesOptions untrusted = Options();
  untrusted.ca_file = dir_.File("other-ca.crt", testing::MakeTestCertificate("someone else").cert_pem);
  auto r = KubernetesController(untrusted).Pause(Job("vision/yolo-train-7"));
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(api_.seen().empty());
  EXPECT_FALSE(api_.suspended("vision/yolo-train-7"));
}

TEST_F(KubernetesControllerTest, InClusterTheServerComesFromTheEnvironment) {
  KubernetesOptions in_cluster = Options();
  in_cluster.api_server.clear();
  const std::string port = api_.base().substr(api_.base().rfind(':') + 1);
  ::unsetenv("KUBERNETES_SERVICE_HOST");  // NOLINT(concurrency-mt-unsafe): no other thread reads it
  auto outside = KubernetesController(in_cluster).Pause(Job("vision/yolo-train-7"));
  EXPECT_EQ(outside.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(outside.status().message().find("KUBERNETES_SERVICE_HOST"), std::string::npos);

  ::setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1", 1);   // NOLINT(concurrency-mt-unsafe)
  ::setenv("KUBERNETES_SERVICE_PORT", port.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  auto inside = KubernetesController(in_cluster).Pause(Job("vision/yolo-train-7"));
  ::unsetenv("KUBERNETES_SERVICE_HOST");  // NOLINT(concurrency-mt-unsafe)
  ::unsetenv("KUBERNETES_SERVICE_PORT");  // NOLINT(concurrency-mt-unsafe)
  ASSERT_TRUE(inside.ok()) << inside.status().message();
  EXPECT_TRUE(api_.suspended("vision/yolo-train-7"));
}

}  // namespace
}  // namespace gpuledger
