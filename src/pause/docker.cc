#include "pause/docker.h"

#include <nlohmann/json.hpp>

#include "common/unix_http.h"

namespace gpuledger {
namespace {

std::string Message(const std::string& body) { return DockerMessage(body); }

struct State {
  bool running = false;
  bool paused = false;
  std::string status;
};

}  // namespace

std::string DockerMessage(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  return body.substr(0, 200);
}

StatusOr<UnixHttpResponse> DockerEngine::Call(const std::string& method, const std::string& path,
                                              const std::string& body) const {
  return UnixHttpRequest(socket_, method, path, body, body.empty() ? "" : "application/json", timeout_ms_);
}

StatusOr<std::string> DockerEngine::CreateContainer(const std::string& name, const std::string& config) const {
  ASSIGN_OR_RETURN(UnixHttpResponse r, Call("POST", "/containers/create?name=" + name, config));
  const std::string what = "docker create " + name + ": " + std::to_string(r.status) + " ";
  if (r.status == 201) {
    const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("Id") || !j["Id"].is_string() || j["Id"].get<std::string>().empty())
      return Unavailable(what + "without the container's Id: " + r.body.substr(0, 200));
    return j["Id"].get<std::string>();
  }
  if (r.status == 404) return NotFound(what + Message(r.body));
  if (r.status == 409) return AlreadyExists(what + Message(r.body));
  if (r.status == 400) return InvalidArgument(what + Message(r.body));
  return Unavailable(what + Message(r.body));
}

Status DockerEngine::StartContainer(const std::string& id) const {
  ASSIGN_OR_RETURN(UnixHttpResponse r, Call("POST", "/containers/" + id + "/start"));
  if (r.status == 204 || r.status == 304) return OkStatus();
  const std::string what = "docker start " + id + ": " + std::to_string(r.status) + " " + Message(r.body);
  if (r.status == 404) return NotFound(what);
  return Unavailable(what);
}

Status DockerEngine::RemoveContainer(const std::string& id) const {
  ASSIGN_OR_RETURN(UnixHttpResponse r, Call("DELETE", "/containers/" + id + "?force=true&v=true"));
  if (r.status == 204 || r.status == 404) return OkStatus();
  return Unavailable("docker rm -f " + id + ": " + std::to_string(r.status) + " " + Message(r.body));
}

StatusOr<std::string> DockerEngine::ImageDigest(const std::string& image) const {
  ASSIGN_OR_RETURN(UnixHttpResponse r, Call("GET", "/images/" + image + "/json"));
  if (r.status == 404)
    return NotFound("docker image " + image + ": 404 " + Message(r.body) + " (docker pull " + image + " first)");
  if (r.status != 200)
    return Unavailable("docker image inspect " + image + ": " + std::to_string(r.status) + " " + Message(r.body));
  return ParseImageDigest(image, r.body);
}

namespace {

// "sha256:" and 64 lower-case hex digits (or another algorithm's name and 32+ hex).
bool IsDigest(const std::string& d) {
  const size_t colon = d.find(':');
  if (colon == std::string::npos || colon == 0 || d.size() - colon - 1 < 32 || d.size() > 200) return false;
  for (size_t i = 0; i < colon; ++i)
    if (!((d[i] >= 'a' && d[i] <= 'z') || (d[i] >= '0' && d[i] <= '9'))) return false;
  for (size_t i = colon + 1; i < d.size(); ++i)
    if (!((d[i] >= 'a' && d[i] <= 'f') || (d[i] >= '0' && d[i] <= '9'))) return false;
  return true;
}

}  // namespace

StatusOr<std::string> ParseImageDigest(const std::string& image, const std::string& inspect_json) {
  const nlohmann::json j = nlohmann::json::parse(inspect_json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return Unavailable("docker image inspect " + image + ": the answer is not a JSON object");
  // "reg/yolo:tag" and "reg/yolo:tag@sha256:..." -> "reg/yolo" (a ':' after the last '/').
  std::string repo = image.substr(0, image.find('@'));
  const size_t slash = repo.rfind('/');
  const size_t colon = repo.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) repo.resize(colon);
  std::string first;
  if (j.contains("RepoDigests") && j["RepoDigests"].is_array()) {
    for (const auto& d : j["RepoDigests"]) {
      if (!d.is_string()) continue;
      const std::string s = d.get<std::string>();
      const size_t at = s.find('@');
      if (at == std::string::npos || !IsDigest(s.substr(at + 1))) continue;  // not "repo@algo:hex"
      if (first.empty()) first = s.substr(at + 1);
      if (s.substr(0, at) == repo) return s.substr(at + 1);
    }
  }
  return first;
}

std::string DockerResumeCommand(const std::string& container) { return "docker unpause " + container; }

StatusOr<PauseOutcome> DockerController::Pause(const PauseTarget& target) { return Act(target, true); }
StatusOr<PauseOutcome> DockerController::Resume(const PauseTarget& target) { return Act(target, false); }

StatusOr<PauseOutcome> DockerController::Act(const PauseTarget& target, bool pause) {
  if (target.mode != PauseMode::kDocker || target.handle.empty()) {
    return InvalidArgument("the Docker adapter needs a docker target with a container; job " + target.job_id +
                           " is " + (target.handle.empty() ? "without one" : "another launcher's"));
  }
  const std::string& id = target.handle;
  const char* verb = pause ? "pause" : "unpause";
  ASSIGN_OR_RETURN(UnixHttpResponse r, engine_.Call("POST", "/containers/" + id + "/" + verb));
  PauseOutcome out;
  out.gpus_freed = false;  // the freezer keeps every byte, GPU memory included
  out.resume_command = pause ? DockerResumeCommand(id) : "";
  if (r.status == 204) {
    out.detail = std::string("docker ") + verb + " " + id + ": 204";
    return out;
  }
  if (r.status == 304) {
    out.detail = std::string("docker ") + verb + " " + id + ": 304, already so";
    return out;
  }
  if (r.status == 404) return NotFound("docker " + std::string(verb) + " " + id + ": 404 " + Message(r.body));
  if (r.status != 409) {
    return Unavailable("docker " + std::string(verb) + " " + id + ": " + std::to_string(r.status) + " " +
                       Message(r.body));
  }
  // 409: the container is already in that state, or cannot be (not running).
  ASSIGN_OR_RETURN(UnixHttpResponse info, engine_.Call("GET", "/containers/" + id + "/json"));
  if (info.status != 200) {
    return Unavailable("docker " + std::string(verb) + " " + id + ": 409 " + Message(r.body) +
                       "; inspect: " + std::to_string(info.status));
  }
  const nlohmann::json j = nlohmann::json::parse(info.body, nullptr, /*allow_exceptions=*/false);
  State st;
  if (j.is_object() && j.contains("State") && j["State"].is_object()) {
    const auto& s = j["State"];
    st.running = s.value("Running", false);
    st.paused = s.value("Paused", false);
    st.status = s.value("Status", std::string());
  }
  if (pause && st.paused) {
    out.detail = "docker pause " + id + ": already paused";
    return out;
  }
  if (!pause && st.running && !st.paused) {
    out.detail = "docker unpause " + id + ": already running";
    return out;
  }
  return FailedPrecondition("docker " + std::string(verb) + " " + id + ": 409 " + Message(r.body) +
                            " (state " + (st.status.empty() ? "unknown" : st.status) + ")");
}

}  // namespace gpuledger
