// Pauses a job's container through the Docker Engine API on its Unix socket
// (POST /containers/{id}/pause and /unpause; GET /containers/{id}/json for its state).
// Docker's pause is the cgroup freezer: every process stops where it is and all memory,
// GPU memory included, stays held, so gpus_freed is false: the GPUs stay the job's and
// are billed to it while paused. Resume continues exactly where it stopped.
// The socket is the server's own: this adapter reaches containers on the server's host
// (or a socket forwarded to it). Thread-safe.
#pragma once

#include <string>

#include "policy/actions.h"

namespace gpuledger {

class DockerController : public JobController {
 public:
  explicit DockerController(std::string socket_path = "/var/run/docker.sock", int timeout_ms = 5000)
      : socket_(std::move(socket_path)), timeout_ms_(timeout_ms) {}

  // 204 paused; 409 when the container is already paused (idempotent: ok) or not
  // running (FailedPrecondition); 404 NotFound; anything else Unavailable.
  StatusOr<PauseOutcome> Pause(const PauseTarget& target) override;
  // 204 unpaused; 409 when it is not paused: ok if it runs, else FailedPrecondition.
  StatusOr<PauseOutcome> Resume(const PauseTarget& target) override;

 private:
  StatusOr<PauseOutcome> Act(const PauseTarget& target, bool pause);
  std::string socket_;
  int timeout_ms_;
};

// "docker unpause <id>".
std::string DockerResumeCommand(const std::string& container);

}  // namespace gpuledger
