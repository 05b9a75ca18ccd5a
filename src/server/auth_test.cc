#include "server/auth.h"

#include <gtest/gtest.h>

#include "common/test_util.h"

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

TEST(CreateToken, ScopesMustNameWhatIsInTheBooks) {
  testing::TempDir dir;
  auto ledger = OpenSqliteLedger(dir.path() + "/l.db");
  ASSERT_TRUE(ledger.ok());
  Job j;
  j.id = "j1", j.user = "zhangsan", j.project = "line3", j.department = "manufacturing";
  j.start_ms = 1790812800000;
  ASSERT_TRUE((*ledger)->PutJobs({j}).ok());
  constexpr TimeMs kNow = 1790812800000;
  auto ok = CreateToken(**ledger, {"user", "line3", "", "ci", "zhangsan", kNow + 1}, kNow);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->record.name, "ci");
  EXPECT_EQ(ok->record.owner, "zhangsan");
  EXPECT_EQ(ok->record.expires_ms, kNow + 1);
  auto no_project = CreateToken(**ledger, {"user", "line4", "", "", "", 0}, kNow);
  ASSERT_FALSE(no_project.ok());
  EXPECT_EQ(no_project.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_project.status().message().find("project 'line4'"), std::string::npos);
  auto no_dept = CreateToken(**ledger, {"dept_admin", "", "line3", "", "", 0}, kNow);
  ASSERT_FALSE(no_dept.ok()) << "a project's name is not a department";
  EXPECT_NE(no_dept.status().message().find("department 'line3'"), std::string::npos);
  EXPECT_TRUE(CreateToken(**ledger, {"dept_admin", "", "manufacturing", "", "", 0}, kNow).ok());
  auto past = CreateToken(**ledger, {"admin", "", "", "", "", kNow}, kNow);
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.status().message().find("is not after now"), std::string::npos);
  auto ctl = CreateToken(**ledger, {"admin", "", "", "a\x1b[2Jb", "", 0}, kNow);
  ASSERT_FALSE(ctl.ok());
  EXPECT_NE(ctl.status().message().find("control character 0x1b at byte 1"), std::string::npos)
      << ctl.status().message();
  auto long_name =
      CreateToken(**ledger, {"admin", "", "", std::string(kMaxTokenLabel + 1, 'x'), "", 0}, kNow);
  ASSERT_FALSE(long_name.ok());
  EXPECT_NE(long_name.status().message().find("201 bytes, over the limit of 200"), std::string::npos);
}

}  // namespace
}  // namespace gpuledger
