#include "server/forwarded.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "common/strings.h"
#include "domain/ids.h"

namespace gpuledger {

namespace {

constexpr size_t kMaxSpecs = 256, kMaxEntries = 64, kMaxHeaderBytes = 4096;

struct Address {
  bool v6 = false;
  std::array<uint8_t, 16> bytes{};
};

// A literal address; an IPv4-mapped IPv6 one (::ffff:a.b.c.d) is its IPv4 address.
std::optional<Address> ParseAddress(std::string_view text) {
  if (text.empty() || text.size() > 45) return std::nullopt;
  // Only what a literal address is made of (inet_pton would stop at a NUL and take the
  // rest for nothing).
  if (text.find_first_not_of("0123456789abcdefABCDEF.:") != std::string_view::npos) return std::nullopt;
  const std::string s(text);
  Address a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) return a;
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, 12) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    return a;
  }
  a.v6 = true;
  return a;
}

}  // namespace

StatusOr<TrustedProxies> TrustedProxies::Parse(const std::vector<std::string>& specs) {
  if (specs.size() > kMaxSpecs) {
    return InvalidArgument(std::to_string(specs.size()) + " trusted proxies exceed the limit " +
                           std::to_string(kMaxSpecs));
  }
  TrustedProxies out;
  for (const std::string& spec : specs) {
    const std::string shown = "trusted proxy '" + EscapeForMessage(spec) + "'";
    const size_t slash = spec.find('/');
    auto addr = ParseAddress(std::string_view(spec).substr(0, slash));
    if (!addr) return InvalidArgument(shown + " is not an IPv4 or IPv6 address, or a network such as 10.0.0.0/8");
    Net n;
    n.v6 = addr->v6;
    n.bytes = addr->bytes;
    const int bits = n.v6 ? 128 : 32;
    n.prefix = bits;
    if (slash != std::string::npos) {
      const std::string p = spec.substr(slash + 1);
      if (p.empty() || p.size() > 3 || p.find_first_not_of("0123456789") != std::string::npos ||
          std::stoi(p) > bits) {
        return InvalidArgument(shown + ": the prefix length '" + EscapeForMessage(p) + "' is not in [0, " +
                               std::to_string(bits) + "]");
      }
      n.prefix = std::stoi(p);
    }
    out.nets_.push_back(n);
  }
  return out;
}

bool TrustedProxies::Contains(std::string_view address) const {
  auto a = ParseAddress(address);
  if (!a) return false;
  for (const Net& n : nets_) {
    if (n.v6 != a->v6) continue;
    int left = n.prefix;
    bool in = true;
    for (size_t i = 0; left > 0 && in; ++i, left -= 8) {
      const uint8_t mask = left >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - left));
      in = (a->bytes[i] & mask) == (n.bytes[i] & mask);
    }
    if (in) return true;
  }
  return false;
}

std::string ClientAddress(std::string_view peer, std::string_view forwarded_for, const TrustedProxies& trusted) {
  if (trusted.empty() || forwarded_for.empty() || !trusted.Contains(peer)) return std::string(peer);
  // The nearest hops are on the right: a longer header loses its leftmost bytes.
  std::string_view rest =
      forwarded_for.size() > kMaxHeaderBytes ? forwarded_for.substr(forwarded_for.size() - kMaxHeaderBytes) : forwarded_for;
  std::string hop(peer);  // the nearest trusted hop so far
  for (size_t n = 0; n < kMaxEntries && !rest.empty(); ++n) {
    const size_t comma = rest.rfind(',');
    const std::string_view entry = Trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    auto a = ParseAddress(entry);
    if (!a) return hop;  // not an address: the hop it came through is all that is known
    if (!trusted.Contains(entry)) return std::string(entry);
    hop = std::string(entry);
  }
  return hop;
}

}  // namespace gpuledger
