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

}  // namespace
}  // namespace gpuledger
