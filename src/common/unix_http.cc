#include "common/unix_http.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace gpuledger {

StatusOr<std::string> UnixHttpExchange(const std::string& socket_path, const std::string& method,
                                       const std::string& path, const std::string& body,
                                       const std::string& content_type, int timeout_ms) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.size() >= sizeof addr.sun_path) {
    return InvalidArgument("socket path must be under " + std::to_string(sizeof addr.sun_path) +
                           " bytes; saw " + std::to_string(socket_path.size()) + ": " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("socket: " + std::string(std::strerror(errno)));
  timeval tv{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    const std::string why = std::strerror(errno);
    ::close(fd);
    return Unavailable("connect " + socket_path + ": " + why);
  }
  std::string req = method + " " + path + " HTTP/1.0\r\nHost: docker\r\n";
  if (!content_type.empty()) req += "Content-Type: " + content_type + "\r\n";
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = ::write(fd, req.data() + sent, req.size() - sent);
    if (n <= 0) {
      ::close(fd);
      return Unavailable("write to " + socket_path + " failed");
    }
    sent += static_cast<size_t>(n);
  }
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && out.empty()) {
      const std::string why = std::strerror(errno);
      ::close(fd);
      return Unavailable("read from " + socket_path + ": " + why);
    }
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (4U << 20)) break;  // a container description is a few KiB
  }
  ::close(fd);
  return out;
}

StatusOr<UnixHttpResponse> ParseHttpResponse(std::string_view raw) {
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12 || raw[8] != ' ') {
    return InvalidArgument("not an HTTP response");
  }
  UnixHttpResponse r;
  for (size_t i = 9; i < 12; ++i) {
    if (raw[i] < '0' || raw[i] > '9') return InvalidArgument("HTTP status is not 3 digits");
    r.status = r.status * 10 + (raw[i] - '0');
  }
  const size_t body = raw.find("\r\n\r\n");
  if (body == std::string_view::npos) return InvalidArgument("HTTP response without the end of its headers");
  r.body = std::string(raw.substr(body + 4));
  return r;
}

StatusOr<UnixHttpResponse> UnixHttpRequest(const std::string& socket_path, const std::string& method,
                                           const std::string& path, const std::string& body,
                                           const std::string& content_type, int timeout_ms) {
  ASSIGN_OR_RETURN(std::string raw,
                   UnixHttpExchange(socket_path, method, path, body, content_type, timeout_ms));
  return ParseHttpResponse(raw);
}

}  // namespace gpuledger
