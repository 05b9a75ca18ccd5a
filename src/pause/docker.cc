#include "pause/docker.h"

#include <nlohmann/json.hpp>

#include "common/unix_http.h"

namespace gpuledger {
namespace {

std::string Message(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  return body.substr(0, 200);
}

struct State {
  bool running = false;
  bool paused = false;
  std::string status;
};

}  // namespace

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
  ASSIGN_OR_RETURN(UnixHttpResponse r,
                   UnixHttpRequest(socket_, "POST", "/containers/" + id + "/" + verb, "", "", timeout_ms_));
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
  ASSIGN_OR_RETURN(UnixHttpResponse info,
                   UnixHttpRequest(socket_, "GET", "/containers/" + id + "/json", "", "", timeout_ms_));
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
