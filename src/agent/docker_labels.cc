#include "agent/docker_labels.h"

#include <cctype>
#include <nlohmann/json.hpp>

#include "common/unix_http.h"

namespace gpuledger {

StatusOr<std::map<std::string, std::string>> ParseContainerLabels(std::string_view http) {
  ASSIGN_OR_RETURN(UnixHttpResponse r, ParseHttpResponse(http));
  if (r.status != 200) return NotFound("the Docker API answered " + std::to_string(r.status));
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument("the Docker API's answer is not a JSON object");
  std::map<std::string, std::string> out;
  auto config = j.find("Config");
  if (config == j.end() || !config->is_object()) return out;
  auto labels = config->find("Labels");
  if (labels == config->end() || !labels->is_object()) return out;
  for (auto it = labels->begin(); it != labels->end(); ++it) {
    if (it->is_string()) out[it.key()] = it->get<std::string>();
  }
  return out;
}

std::map<std::string, std::string> DockerLabels::Labels(const std::string& container_id) {
  auto cached = cache_.find(container_id);
  if (cached != cache_.end()) return cached->second;
  for (char c : container_id) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return {};  // ids come from cgroup paths: hex only
  }
  std::map<std::string, std::string> labels;
  if (auto answer = UnixHttpExchange(socket_, "GET", "/containers/" + container_id + "/json"); answer.ok()) {
    if (auto parsed = ParseContainerLabels(*answer); parsed.ok()) labels = std::move(parsed).value();
  }
  if (cache_.size() > 10000) cache_.clear();
  cache_[container_id] = labels;
  return labels;
}

}  // namespace gpuledger
