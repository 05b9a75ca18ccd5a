// Who a request came from when it reached the server through reverse proxies the
// operator trusts (`gpuledger server --trusted-proxy`, docs/DEPLOY.md): the address the
// audit log, the access log and the failed-authentication throttle use. Behind nginx
// every request's peer is nginx; its X-Forwarded-For says who asked. The header is
// believed only when the peer is a trusted proxy, and only as far as the nearest entry
// that is not one (nginx's real_ip_recursive): a client can prepend anything to it.
// Untrusted input (fuzz/fuzz_forwarded.cc). Pure; thread-compatible.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuledger {

class TrustedProxies {
 public:
  // Each spec an IPv4 or IPv6 address, or a network in CIDR form ("10.0.0.0/8",
  // "fd00::/8"); a refusal names the spec and what was wrong with it. At most 256.
  static StatusOr<TrustedProxies> Parse(const std::vector<std::string>& specs);
  // Whether `address` (a literal IPv4 or IPv6 address; an IPv4-mapped IPv6 one counts as
  // its IPv4 address) lies in one of the networks. Anything else is not trusted.
  bool Contains(std::string_view address) const;
  bool empty() const { return nets_.empty(); }

 private:
  struct Net {
    bool v6 = false;
    std::array<uint8_t, 16> bytes{};
    int prefix = 0;  // bits
  };
  std::vector<Net> nets_;
};

// The client's address: `peer`, unless it is a trusted proxy and `forwarded_for` (the
// X-Forwarded-For values, comma-separated, the nearest hop last) names someone: then,
// walking from the right, the first address that is not a trusted proxy (or the leftmost
// when all are). An entry that is not an IP address ends the walk at the trusted hop it
// came through (a trusted proxy appends a real address, so such an entry is one the client
// wrote, or a misconfigured proxy's); so do more than 64 entries or 4096 bytes.
std::string ClientAddress(std::string_view peer, std::string_view forwarded_for, const TrustedProxies& trusted);

}  // namespace gpuledger
