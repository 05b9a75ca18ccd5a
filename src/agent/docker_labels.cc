#include "agent/docker_labels.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

namespace gpuledger {

namespace {

// One request over the unix socket, HTTP/1.0 so the daemon closes when done.
StatusOr<std::string> Get(const std::string& socket_path, const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path)
    return InvalidArgument("socket path too long: " + socket_path);
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket: " + std::string(std::strerror(errno)));
  timeval tv{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return Unavailable("connect " + socket_path + ": " + why);
  }
  const std::string req = "GET " + path + " HTTP/1.0\r\nHost: docker\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return Unavailable("write to " + socket_path + " failed");
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (4u << 20)) break;  // a container description is a few KiB
  }
  ::close(fd);
  return out;
}

}  // namespace

StatusOr<std::map<std::string, std::string>> ParseContainerLabels(std::string_view http) {
  if (http.rfind("HTTP/1.", 0) != 0 || http.size() < 12) return InvalidArgument("not an HTTP response");
  const std::string_view code = http.substr(9, 3);
  if (code != "200") return NotFound("the Docker API answered " + std::string(code));
  const size_t body = http.find("\r\n\r\n");
  if (body == std::string_view::npos) return InvalidArgument("HTTP response without a body");
  const nlohmann::json j = nlohmann::json::parse(http.substr(body + 4), nullptr, /*allow_exceptions=*/false);
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
  if (auto answer = Get(socket_, "/containers/" + container_id + "/json"); answer.ok()) {
    if (auto parsed = ParseContainerLabels(*answer); parsed.ok()) labels = std::move(parsed).value();
  }
  if (cache_.size() > 10000) cache_.clear();
  cache_[container_id] = labels;
  return labels;
}

}  // namespace gpuledger
