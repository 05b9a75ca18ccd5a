#include "pause/kubernetes.h"

#include <httplib.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gpuledger {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read, never set, by gpuledger
  return v == nullptr ? std::string() : std::string(v);
}

StatusOr<std::string> ReadToken(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unavailable("Kubernetes token file " + path + " cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string t = ss.str();
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return Unavailable("Kubernetes token file " + path + " is empty");
  if (t.find_first_of("\r\n") != std::string::npos) {
    return InvalidArgument("Kubernetes token file " + path + " must hold one line; it holds several");
  }
  return t;
}

std::string Message(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  return body.substr(0, 200);
}

}  // namespace

std::string KubernetesResumeCommand(const std::string& ns, const std::string& name) {
  return "kubectl patch job " + name + " -n " + ns + R"( --type=merge -p '{"spec":{"suspend":false}}')";
}

StatusOr<PauseOutcome> KubernetesController::Pause(const PauseTarget& target) {
  return Suspend(target, true);
}
StatusOr<PauseOutcome> KubernetesController::Resume(const PauseTarget& target) {
  return Suspend(target, false);
}

StatusOr<PauseOutcome> KubernetesController::Suspend(const PauseTarget& target, bool suspend) {
  const size_t slash = target.handle.find('/');
  if (target.mode != PauseMode::kKubernetes || slash == std::string::npos || slash == 0 ||
      slash + 1 == target.handle.size()) {
    return InvalidArgument("the Kubernetes adapter needs a kubernetes target namespace/name; job " +
                           target.job_id + " has \"" + target.handle + "\"");
  }
  const std::string ns = target.handle.substr(0, slash);
  const std::string name = target.handle.substr(slash + 1);

  std::string server = options_.api_server;
  std::string ca = options_.ca_file;
  if (server.empty()) {
    const std::string host = Env("KUBERNETES_SERVICE_HOST");
    const std::string port = Env("KUBERNETES_SERVICE_PORT");
    if (host.empty()) {
      return FailedPrecondition(
          "no Kubernetes API server: set --k8s-api-server, or run in a pod "
          "(KUBERNETES_SERVICE_HOST is not set)");
    }
    server = "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
             (port.empty() ? "443" : port);
    if (ca.empty()) ca = kInClusterCaFile;
  }
  while (!server.empty() && server.back() == '/') server.pop_back();
  ASSIGN_OR_RETURN(std::string token,
                   ReadToken(options_.token_file.empty() ? kInClusterTokenFile : options_.token_file));

  httplib::Client client(server);
  if (!client.is_valid())
    return InvalidArgument("Kubernetes API server must be an http(s):// URL; saw " + server);
  if (!ca.empty()) client.set_ca_cert_path(ca.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(options_.timeout_s, 0);
  client.set_read_timeout(options_.timeout_s, 0);
  client.set_write_timeout(options_.timeout_s, 0);
  const std::string path = "/apis/batch/v1/namespaces/" + ns + "/jobs/" + name;
  const std::string body = std::string(R"({"spec":{"suspend":)") + (suspend ? "true" : "false") + "}}";
  const httplib::Headers headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
  auto res = client.Patch(path, headers, body, "application/merge-patch+json");
  const std::string what = std::string(suspend ? "suspend" : "resume") + " Job " + ns + "/" + name;
  if (!res) return Unavailable(what + ": " + server + ": " + httplib::to_string(res.error()));
  const std::string why = std::to_string(res->status) + " " + Message(res->body);
  if (res->status == 401) return Unauthenticated(what + ": " + why);
  if (res->status == 403) return PermissionDenied(what + ": " + why);
  if (res->status == 404) return NotFound(what + ": " + why);
  if (res->status == 422) return InvalidArgument(what + ": " + why);
  if (res->status != 200) return Unavailable(what + ": " + why);
  const nlohmann::json job = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json* spec = job.is_object() && job.contains("spec") ? &job["spec"] : nullptr;
  if (spec == nullptr || !spec->is_object() || spec->value("suspend", !suspend) != suspend) {
    return Unavailable(what +
                       ": the API server answered 200 without spec.suspend=" + (suspend ? "true" : "false"));
  }
  PauseOutcome out;
  out.gpus_freed = suspend;  // suspended: the pods are terminated, their GPUs released
  out.resume_command = suspend ? KubernetesResumeCommand(ns, name) : "";
  out.detail = what + ": 200, spec.suspend=" + (suspend ? "true" : "false");
  return out;
}

}  // namespace gpuledger
