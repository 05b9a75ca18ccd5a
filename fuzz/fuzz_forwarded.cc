// Fuzz target: X-Forwarded-For (server/forwarded.h) over arbitrary bytes, with a fixed set
// of trusted proxies; the first byte picks the peer. The answer is always the peer or an
// address that parses (no control bytes, at most 45 bytes), and never a trusted proxy
// unless every hop named was one.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/forwarded.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const gpuledger::TrustedProxies trusted =
      *gpuledger::TrustedProxies::Parse({"127.0.0.1", "10.0.0.0/8", "fd00::/8"});
  const char* peers[] = {"127.0.0.1", "10.1.1.1", "198.51.100.1", "fd00::1"};
  const std::string peer = peers[data[0] % 4];
  const std::string_view header(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string got = gpuledger::ClientAddress(peer, header, trusted);
  if (got != peer) {
    if (got.size() > 45) __builtin_trap();
    for (char c : got) {
      const auto u = static_cast<unsigned char>(c);
      if (u <= 0x20 || u >= 0x7f) __builtin_trap();
    }
    if (!trusted.Contains(peer)) __builtin_trap();  // an untrusted peer's header is never read
  }
  // The spec parser on the same bytes: never crashes, whatever it answers.
  (void)gpuledger::TrustedProxies::Parse({std::string(header)});
  return 0;
}
