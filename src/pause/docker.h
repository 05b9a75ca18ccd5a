// Pauses a job's container through the Docker Engine API on its Unix socket
// (POST /containers/{id}/pause and /unpause; GET /containers/{id}/json for its state).
// Docker's pause is the cgroup freezer: every process stops where it is and all memory,
// GPU memory included, stays held, so gpus_freed is false: the GPUs stay the job's and
// are billed to it while paused. Resume continues exactly where it stopped.
// The socket is the server's own: this adapter reaches containers on the server's host
// (or a socket forwarded to it).
// DockerEngine is the client both this adapter and `gpuledger submit --launcher docker`
// (submit/launcher.h) use: create, start, remove, inspect an image. Thread-safe: each
// call has its own connection.
#pragma once

#include <string>

#include "common/unix_http.h"
#include "policy/actions.h"

namespace gpuledger {

class DockerEngine {
 public:
  explicit DockerEngine(std::string socket_path = "/var/run/docker.sock", int timeout_ms = 5000)
      : socket_(std::move(socket_path)), timeout_ms_(timeout_ms) {}

  // One exchange: Unavailable when the socket cannot be reached or the exchange fails.
  StatusOr<UnixHttpResponse> Call(const std::string& method, const std::string& path,
                                  const std::string& body = "") const;
  // POST /containers/create?name=NAME with `config` (the Engine API's ContainerConfig
  // with HostConfig): 201 -> the new container's id. 404 (no such image) NotFound, 409
  // (the name is taken) AlreadyExists, 400 InvalidArgument, anything else Unavailable;
  // each with the daemon's message.
  StatusOr<std::string> CreateContainer(const std::string& name, const std::string& config_json) const;
  // POST /containers/{id}/start: 204, or 304 (already started). 404 NotFound; anything
  // else (500 "could not select device driver \"nvidia\"") Unavailable.
  Status StartContainer(const std::string& id) const;
  // DELETE /containers/{id}?force=true&v=true (killed first if it runs, its anonymous
  // volumes with it): 204, or 404 (already gone). Anything else Unavailable.
  Status RemoveContainer(const std::string& id) const;
  // GET /images/{name}/json: the digest ("sha256:...") of the RepoDigests entry naming
  // the image's repository (else the first); "" when it has none (built locally, never
  // pushed). 404 NotFound ("pull it first").
  StatusOr<std::string> ImageDigest(const std::string& image) const;

  const std::string& socket() const { return socket_; }

 private:
  std::string socket_;
  int timeout_ms_;
};

// The digest ImageDigest picks from a GET /images/{name}/json answer: RepoDigests'
// "repo@algorithm:hex" entries (others skipped), the one whose repo is the image's,
// else the first; "" when none. Unavailable for a body that is not a JSON object. Pure.
StatusOr<std::string> ParseImageDigest(const std::string& image, const std::string& inspect_json);

// The "message" of a Docker Engine error body, else the body's start.
std::string DockerMessage(const std::string& body);

class DockerController : public JobController {
 public:
  explicit DockerController(std::string socket_path = "/var/run/docker.sock", int timeout_ms = 5000)
      : engine_(std::move(socket_path), timeout_ms) {}

  // 204 paused; 409 when the container is already paused (idempotent: ok) or not
  // running (FailedPrecondition); 404 NotFound; anything else Unavailable.
  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override;
  // 204 unpaused; 409 when it is not paused: ok if it runs, else FailedPrecondition.
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override;

 private:
  StatusOr<PauseOutcome> Act(const PauseTarget& target, bool pause);
  DockerEngine engine_;
};

// "docker unpause <id>".
std::string DockerResumeCommand(const std::string& container);

}  // namespace gpuledger
