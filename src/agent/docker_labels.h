// Docker container labels through the Engine API on its unix socket
// (GET /containers/<id>/json, Config.Labels), for attribution on the node: a container
// started with --label gpuledger.job_id=... (and gpuledger.user=..., ...) names its job
// even when its processes' environment does not. Answers are cached per container (labels
// never change); a missing socket or an error reads as no labels. Thread-compatible.
#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace gpuledger {

class DockerLabels {
 public:
  explicit DockerLabels(std::string socket_path = "/var/run/docker.sock") : socket_(std::move(socket_path)) {}
  std::map<std::string, std::string> Labels(const std::string& container_id);

 private:
  std::string socket_;
  std::map<std::string, std::map<std::string, std::string>> cache_;
};

// The Config.Labels of a /containers/<id>/json answer (an HTTP/1.0 response with its
// headers); an error names what was wrong. Pure.
StatusOr<std::map<std::string, std::string>> ParseContainerLabels(std::string_view http_response);

}  // namespace gpuledger
