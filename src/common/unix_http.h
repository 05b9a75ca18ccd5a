// One HTTP/1.0 request over a Unix socket (the Docker Engine API's transport): the
// daemon closes the connection after its answer, so no chunking or keep-alive is needed.
// Shared by the agent (container labels) and pause/ (pause and unpause). Thread-safe:
// each call has its own connection.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

struct UnixHttpResponse {
  int status = 0;
  std::string body;
};

// The raw answer (status line, headers, body). Unavailable when the socket cannot be
// reached or the exchange fails; `timeout_ms` bounds each read and write.
StatusOr<std::string> UnixHttpExchange(const std::string& socket_path, const std::string& method,
                                       const std::string& path, const std::string& body = "",
                                       const std::string& content_type = "", int timeout_ms = 1000);

// The status code and body of a raw HTTP/1.x answer. Pure.
StatusOr<UnixHttpResponse> ParseHttpResponse(std::string_view raw);

// Both: the exchange, then the parse.
StatusOr<UnixHttpResponse> UnixHttpRequest(const std::string& socket_path, const std::string& method,
                                           const std::string& path, const std::string& body = "",
                                           const std::string& content_type = "", int timeout_ms = 1000);

}  // namespace gpuledger
