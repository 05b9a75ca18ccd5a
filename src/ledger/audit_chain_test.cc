#include "ledger/audit_chain.h"

#include <gtest/gtest.h>

#include <vector>

namespace gpuledger {
namespace {

std::vector<AuditEntry> Chain(int n) {
  std::vector<AuditEntry> out;
  std::string last;
  for (int i = 0; i < n; ++i) {
    AuditEntry e;
    e.at_ms = 1000 + i, e.token_id = "tok_a", e.role = "admin", e.action = "GET /api/v1/reports/monthly";
    e.detail = "month=2026-10", e.remote = "10.0.0.1", e.status = 200;
    ChainAuditEntry(i, last, e);
    last = e.hash;
    out.push_back(e);
  }
  return out;
}

TEST(AuditChain, AnUntouchedChainVerifies) {
  AuditChainVerifier v;
  for (const AuditEntry& e : Chain(5)) EXPECT_TRUE(v.Add(e));
  EXPECT_EQ(v.checked(), 5);
  EXPECT_FALSE(v.first_broken_seq().has_value());
  EXPECT_EQ(v.head_seq(), 5);
  EXPECT_EQ(Chain(5)[0].prev_hash, AuditGenesisHash());
}

TEST(AuditChain, AnEditedFieldIsReportedAtItsEntry) {
  auto chain = Chain(5);
  chain[2].detail = "month=2026-11";
  AuditChainVerifier v;
  for (const AuditEntry& e : chain) v.Add(e);
  ASSERT_TRUE(v.first_broken_seq().has_value());
  EXPECT_EQ(*v.first_broken_seq(), 3);
  EXPECT_NE(v.why().find("edited"), std::string::npos) << v.why();
  EXPECT_EQ(v.checked(), 2);
}

TEST(AuditChain, ARehashedEditBreaksTheNextLink) {
  auto chain = Chain(5);
  chain[1].token_id = "tok_b";
  chain[1].hash = AuditHash(chain[1].prev_hash, chain[1]);
  AuditChainVerifier v;
  for (const AuditEntry& e : chain) v.Add(e);
  EXPECT_EQ(v.first_broken_seq(), 3);
}

TEST(AuditChain, ARemovedEntryIsReported) {
  auto chain = Chain(5);
  chain.erase(chain.begin() + 3);
  AuditChainVerifier v;
  for (const AuditEntry& e : chain) v.Add(e);
  EXPECT_EQ(v.first_broken_seq(), 5);
}

TEST(AuditChain, FieldBoundariesCannotShift) {
  AuditEntry a, b;
  a.token_id = "ab", a.role = "c";
  b.token_id = "a", b.role = "bc";
  EXPECT_NE(AuditCanonical(a), AuditCanonical(b));
  EXPECT_NE(AuditHash(AuditGenesisHash(), a), AuditHash(AuditGenesisHash(), b));
}

}  // namespace
}  // namespace gpuledger
