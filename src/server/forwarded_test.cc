#include "server/forwarded.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TrustedProxies Trust(const std::vector<std::string>& specs) {
  auto t = TrustedProxies::Parse(specs);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? *t : TrustedProxies{};
}

TEST(TrustedProxies, AddressesAndNetworksOfBothFamilies) {
  const TrustedProxies t = Trust({"127.0.0.1", "10.0.0.0/8", "fd00::/8", "2001:db8::1"});
  for (const char* in : {"127.0.0.1", "10.1.2.3", "10.255.255.255", "fd12::7", "2001:db8::1", "::ffff:10.9.9.9"})
    EXPECT_TRUE(t.Contains(in)) << in;
  for (const char* out : {"127.0.0.2", "11.0.0.1", "fe80::1", "2001:db8::2", "", "localhost", "10.0.0.1 ", "::1"})
    EXPECT_FALSE(t.Contains(out)) << out;
  EXPECT_TRUE(Trust({"0.0.0.0/0"}).Contains("198.51.100.4"));
  EXPECT_FALSE(Trust({"0.0.0.0/0"}).Contains("2001:db8::5")) << "an IPv4 network holds no IPv6 address";
  EXPECT_TRUE(Trust({"192.168.1.128/25"}).Contains("192.168.1.200"));
  EXPECT_FALSE(Trust({"192.168.1.128/25"}).Contains("192.168.1.127"));
}

TEST(TrustedProxies, ABadSpecIsRefusedByNameWithWhatWasWrong) {
  const std::pair<const char*, const char*> bad[] = {
      {"nginx", "trusted proxy 'nginx' is not an IPv4 or IPv6 address"},
      {"10.0.0.0/33", "the prefix length '33' is not in [0, 32]"},
      {"fd00::/129", "the prefix length '129' is not in [0, 128]"},
      {"10.0.0.0/", "the prefix length '' is not in [0, 32]"},
      {"10.0.0.0/-1", "the prefix length '-1' is not in [0, 32]"},
      {"300.1.1.1", "trusted proxy '300.1.1.1' is not an IPv4 or IPv6 address"},
  };
  for (const auto& [spec, want] : bad) {
    auto t = TrustedProxies::Parse({spec});
    ASSERT_FALSE(t.ok()) << spec;
    EXPECT_NE(t.status().message().find(want), std::string::npos) << t.status().message();
  }
  EXPECT_FALSE(TrustedProxies::Parse(std::vector<std::string>(257, "10.0.0.1")).ok());
}

TEST(ClientAddress, BelievesTheHeaderOnlyFromATrustedPeerAndOnlyUpToTheFirstUntrustedHop) {
  const TrustedProxies t = Trust({"127.0.0.1", "10.0.0.0/8"});
  // No proxies trusted, or a peer that is not one: the peer, whatever the header says.
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7", TrustedProxies{}), "127.0.0.1");
  EXPECT_EQ(ClientAddress("198.51.100.9", "203.0.113.7", t), "198.51.100.9");
  // Through nginx: the address it appended.
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7", t), "203.0.113.7");
  EXPECT_EQ(ClientAddress("127.0.0.1", "", t), "127.0.0.1");
  // A client that prepends a made-up address is still itself.
  EXPECT_EQ(ClientAddress("127.0.0.1", "1.2.3.4, 203.0.113.7", t), "203.0.113.7");
  // Two trusted proxies (a load balancer, then nginx): the hop before them.
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7, 10.0.0.5", t), "203.0.113.7");
  EXPECT_EQ(ClientAddress("127.0.0.1", " 10.0.0.6 ,10.0.0.5", t), "10.0.0.6") << "all trusted: the leftmost";
  EXPECT_EQ(ClientAddress("127.0.0.1", "2001:db8::9", t), "2001:db8::9");
  // Not an address: the walk ends at the trusted hop it came through.
  EXPECT_EQ(ClientAddress("127.0.0.1", "203.0.113.7, bogus", t), "127.0.0.1");
  EXPECT_EQ(ClientAddress("127.0.0.1", "bogus, 10.0.0.5", t), "10.0.0.5");
  EXPECT_EQ(ClientAddress("127.0.0.1", "\x1b[31m, 203.0.113.7", t), "203.0.113.7");
  EXPECT_EQ(ClientAddress("127.0.0.1", ",,,", t), "127.0.0.1");
  // A long header: its nearest hops count.
  std::string longer;
  for (int i = 0; i < 1000; ++i) longer += "10.0.0." + std::to_string(i % 250) + ", ";
  longer += "203.0.113.7";
  EXPECT_EQ(ClientAddress("127.0.0.1", longer, t), "203.0.113.7");
  std::string all_trusted;
  for (int i = 0; i < 100; ++i) all_trusted += std::string(i ? "," : "") + "10.0.0.1";
  EXPECT_EQ(ClientAddress("127.0.0.1", all_trusted, t), "10.0.0.1") << "64 entries at most";
}

}  // namespace
}  // namespace gpuledger
