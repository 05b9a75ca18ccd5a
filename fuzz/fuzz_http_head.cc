// Fuzz target: HTTP request heads, as any client on the network sends them before a
// token is checked (server/http_front.h). What parses has a path that starts with '/' and
// an HTTP/1.x version.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/http_front.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  httplib::Request req;
  const gpuledger::Status s =
      gpuledger::ParseRequestHead(std::string_view(reinterpret_cast<const char*>(data), size), req);
  if (s.ok() && (req.target.empty() || req.target[0] != '/' ||
                 (req.version != "HTTP/1.1" && req.version != "HTTP/1.0")))
    __builtin_trap();
  return 0;
}
