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

StatusOr<KubernetesReply> KubernetesRequest(const KubernetesOptions& options, const std::string& method,
                                            const std::string& path, const std::string& body,
                                            const std::string& content_type) {
  std::string server = options.api_server;
  std::string ca = options.ca_file;
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
                   ReadToken(options.token_file.empty() ? kInClusterTokenFile : options.token_file));

  httplib::Client client(server);
  if (!client.is_valid())
    return InvalidArgument("Kubernetes API server must be an http(s):// URL; saw " + server);
  if (!ca.empty()) client.set_ca_cert_path(ca.c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(options.timeout_s, 0);
  client.set_read_timeout(options.timeout_s, 0);
  client.set_write_timeout(options.timeout_s, 0);
  const httplib::Headers headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
  auto send = [&]() -> httplib::Result {
    if (method == "PATCH") return client.Patch(path, headers, body, content_type);
    if (method == "POST") return client.Post(path, headers, body, content_type);
    if (method == "DELETE") return client.Delete(path, headers, body, content_type);
    return client.Get(path, headers);
  };
  if (method != "PATCH" && method != "POST" && method != "DELETE" && method != "GET")
    return InvalidArgument("Kubernetes request: method " + method + " is not GET, POST, PATCH or DELETE");
  httplib::Result res = send();
  if (!res) return Unavailable(method + " " + path + ": " + server + ": " + httplib::to_string(res.error()));
  return KubernetesReply{res->status, res->body};
}

Status KubernetesStatus(const std::string& what, const KubernetesReply& r) {
  if (r.status >= 200 && r.status < 300) return OkStatus();
  const std::string why = what + ": " + std::to_string(r.status) + " " + Message(r.body);
  if (r.status == 401) return Unauthenticated(why);
  if (r.status == 403) return PermissionDenied(why);
  if (r.status == 404) return NotFound(why);
  if (r.status == 409) return AlreadyExists(why);
  if (r.status == 400 || r.status == 422) return InvalidArgument(why);
  return Unavailable(why);
}

StatusOr<std::string> CreateKubernetesJob(const KubernetesOptions& options, const std::string& ns,
                                          const std::string& manifest_json) {
  const nlohmann::json m = nlohmann::json::parse(manifest_json, nullptr, /*allow_exceptions=*/false);
  const std::string name = m.is_object() && m.contains("metadata") && m["metadata"].is_object()
                               ? m["metadata"].value("name", std::string())
                               : std::string();
  const std::string what = "create Job " + ns + "/" + name;
  ASSIGN_OR_RETURN(KubernetesReply r, KubernetesRequest(options, "POST", "/apis/batch/v1/namespaces/" + ns + "/jobs",
                                                        manifest_json, "application/json"));
  RETURN_IF_ERROR(KubernetesStatus(what, r));
  const nlohmann::json job = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!job.is_object() || !job.contains("metadata") || !job["metadata"].is_object() ||
      !job["metadata"].contains("name") || !job["metadata"]["name"].is_string()) {
    return Unavailable(what + ": the API server answered " + std::to_string(r.status) +
                       " without the Job's metadata.name");
  }
  return job["metadata"]["name"].get<std::string>();
}

Status DeleteKubernetesJob(const KubernetesOptions& options, const std::string& ns, const std::string& name) {
  ASSIGN_OR_RETURN(KubernetesReply r,
                   KubernetesRequest(options, "DELETE", "/apis/batch/v1/namespaces/" + ns + "/jobs/" + name,
                                     R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"})",
                                     "application/json"));
  if (r.status == 404) return OkStatus();
  return KubernetesStatus("delete Job " + ns + "/" + name, r);
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
  const std::string path = "/apis/batch/v1/namespaces/" + ns + "/jobs/" + name;
  const std::string body = std::string(R"({"spec":{"suspend":)") + (suspend ? "true" : "false") + "}}";
  const std::string what = std::string(suspend ? "suspend" : "resume") + " Job " + ns + "/" + name;
  ASSIGN_OR_RETURN(KubernetesReply r, KubernetesRequest(options_, "PATCH", path, body, "application/merge-patch+json"));
  if (r.status != 200) {
    Status s = KubernetesStatus(what, r);
    if (s.ok() || s.code() == StatusCode::kAlreadyExists) s = Unavailable(what + ": " + std::to_string(r.status) + " " + Message(r.body));
    return s;
  }
  const nlohmann::json job = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
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
