#include "server/auth.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(TokenCache, TrustsAFoundRecordForItsTtlOnly) {
  TokenCache cache;
  constexpr TimeMs kNow = 1790812800000;
  EXPECT_FALSE(cache.Find("h", kNow).has_value());
  TokenRecord rec;
  rec.id = "t1";
  rec.role = "ingest";
  cache.Put("h", rec, kNow);
  auto hit = cache.Find("h", kNow + TokenCache::kTtlMs - 1);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->id, "t1");
  EXPECT_FALSE(cache.Find("h", kNow + TokenCache::kTtlMs).has_value()) << "expired: read the ledger again";
  cache.Put("h", rec, kNow);
  EXPECT_FALSE(cache.Find("h", kNow - 1).has_value()) << "a clock that went back does not extend trust";
  EXPECT_FALSE(cache.Find("other", kNow).has_value());
}

TEST(TokenCache, ForgetDropsTheTokenAtOnce) {
  TokenCache cache;
  constexpr TimeMs kNow = 1790812800000;
  TokenRecord rec;
  rec.id = "t1";
  cache.Put("h", rec, kNow);
  cache.Forget("t2");
  EXPECT_TRUE(cache.Find("h", kNow).has_value());
  cache.Forget("t1");
  EXPECT_FALSE(cache.Find("h", kNow).has_value());
}

TEST(PrincipalOf, RefusesRevokedAndExpiredTokens) {
  constexpr TimeMs kNow = 1790812800000;
  TokenRecord rec;
  rec.id = "tok_x";
  rec.role = "admin";
  EXPECT_TRUE(PrincipalOf(rec, kNow).ok());
  rec.expires_ms = kNow + 1;
  EXPECT_TRUE(PrincipalOf(rec, kNow).ok());
  auto expired = PrincipalOf(rec, kNow + 1);
  ASSERT_FALSE(expired.ok());
  EXPECT_EQ(expired.status().code(), StatusCode::kUnauthenticated);
  EXPECT_NE(expired.status().message().find("tok_x expired at"), std::string::npos)
      << expired.status().message();
  rec.expires_ms = 0;
  rec.revoked = true;
  EXPECT_EQ(PrincipalOf(rec, kNow).status().code(), StatusCode::kUnauthenticated);
}

TEST(AuthThrottle, RefusesAnAddressPastItsFailuresUntilTheWindowEnds) {
  AuthThrottle throttle({3, 60'000, 100});
  constexpr TimeMs kNow = 1790812800000;
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(throttle.RetryAfterMs("10.0.0.1", kNow + i), 0) << i;
    throttle.RecordFailure("10.0.0.1", kNow + i);
  }
  EXPECT_EQ(throttle.RetryAfterMs("10.0.0.1", kNow + 10), 60'000 - 10);
  EXPECT_EQ(throttle.RetryAfterMs("10.0.0.2", kNow + 10), 0) << "another address is not slowed";
  EXPECT_EQ(throttle.RetryAfterMs("10.0.0.1", kNow + 60'000), 0) << "a new window";
  throttle.RecordFailure("10.0.0.1", kNow + 60'000);
  EXPECT_EQ(throttle.RetryAfterMs("10.0.0.1", kNow + 60'001), 0) << "one failure in the new window";
}

TEST(AuthThrottle, StaysBoundedUnderAFloodOfAddresses) {
  AuthThrottle throttle({1, 60'000, 4});
  constexpr TimeMs kNow = 1790812800000;
  for (int i = 0; i < 4; ++i) throttle.RecordFailure("a" + std::to_string(i), kNow);
  EXPECT_GT(throttle.RetryAfterMs("a0", kNow), 0);
  throttle.RecordFailure("a4", kNow);  // full, none expired: starts afresh
  EXPECT_EQ(throttle.RetryAfterMs("a0", kNow), 0);
  EXPECT_GT(throttle.RetryAfterMs("a4", kNow), 0) << "the newcomer is counted";
}

}  // namespace
}  // namespace gpuledger
