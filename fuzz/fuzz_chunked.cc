// Fuzz target: chunked request bodies (server/chunked.h), as any client with a token
// sends them. First byte: the read size the bytes arrive in. The decoded body never
// passes the limit, and decoding in pieces agrees with decoding at once.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/chunked.h"

namespace {

struct Result {
  bool ok = false, done = false;
  std::string body;
  size_t used = 0;
};

Result Run(std::string_view wire, size_t step) {
  gpuledger::ChunkedDecoder d(4096, 512);
  Result r;
  for (size_t at = 0; at < wire.size();) {
    const std::string_view piece = wire.substr(at, step);
    size_t used = 0;
    auto st = d.Feed(piece, &used, &r.body);
    if (!st.ok()) return r;
    at += used;
    r.used = at;
    if (*st) {
      r.ok = r.done = true;
      return r;
    }
    if (used != piece.size()) __builtin_trap();  // not done: everything is consumed
  }
  r.ok = true;
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 64;
  const std::string_view wire(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Result pieces = Run(wire, step), whole = Run(wire, wire.size() + 1);
  if (pieces.body.size() > 4096 || whole.body.size() > 4096) __builtin_trap();
  if (pieces.ok != whole.ok || pieces.done != whole.done) __builtin_trap();
  if (pieces.done && (pieces.body != whole.body || pieces.used != whole.used)) __builtin_trap();
  return 0;
}
