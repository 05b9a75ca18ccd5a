#include "server/session.h"

#include <gtest/gtest.h>

namespace gpuledger {
namespace {

TEST(SessionTest, CookieValueFindsTheNamedCookieAmongOthers) {
  EXPECT_EQ(CookieValue("a=1; gl_session=abc ;b=2", "gl_session"), "abc");
  EXPECT_EQ(CookieValue("gl_session=x", "gl_session"), "x");
  EXPECT_EQ(CookieValue("xgl_session=1; b", "gl_session"), "");
  EXPECT_EQ(CookieValue("", "gl_session"), "");
}

TEST(SessionTest, SetCookieIsHttpOnlyStrictAndSecureOnlyUnderTls) {
  Session s;
  s.id = "ab";
  s.expires_ms = 10 * kSecondMs;
  const std::string plain = SessionSetCookie(s, 0, false);
  EXPECT_EQ(plain, "gl_session=ab; Path=/; Max-Age=10; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SessionSetCookie(s, 0, true), plain + "; Secure");
  EXPECT_NE(ClearSessionCookie(false).find("Max-Age=0"), std::string::npos);
}

TEST(SessionTest, StoreFindsUntilTheSessionExpiresAndRemoves) {
  SessionStore store;
  auto s = store.Create("hash1", "tok1", 1000);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->id.size(), 64u);
  EXPECT_EQ(s->csrf.size(), 64u);
  EXPECT_NE(s->id, s->csrf);
  auto found = store.Find(s->id, 1000 + SessionStore::kMaxAgeMs - 1);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->token_hash, "hash1");
  EXPECT_FALSE(store.Find(s->id, 1000 + SessionStore::kMaxAgeMs).has_value());
  EXPECT_EQ(store.size(), 0u);  // the expired one was dropped
  auto t = store.Create("hash2", "tok2", 0);
  ASSERT_TRUE(t.ok());
  store.Remove(t->id);
  EXPECT_FALSE(store.Find(t->id, 1).has_value());
}

TEST(SessionTest, StateChangesNeedTheSessionsCsrfToken) {
  SessionStore store;
  auto s = store.Create("hash", "tok", 0);
  ASSERT_TRUE(s.ok());
  const std::string cookie = "gl_session=" + s->id;
  auto get = SessionTokenHash(store, cookie, "GET", "", 1);
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(*get, "hash");
  auto post = SessionTokenHash(store, cookie, "POST", "", 1);
  EXPECT_EQ(post.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(post.status().message().find("missing"), std::string::npos);
  auto wrong = SessionTokenHash(store, cookie, "DELETE", std::string(64, '0'), 1);
  EXPECT_EQ(wrong.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(wrong.status().message().find("wrong"), std::string::npos);
  EXPECT_TRUE(SessionTokenHash(store, cookie, "POST", s->csrf, 1).ok());
  EXPECT_EQ(SessionTokenHash(store, "", "GET", "", 1).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(SessionTokenHash(store, "gl_session=nope", "GET", "", 1).status().code(),
            StatusCode::kUnauthenticated);
}

TEST(SessionTest, SameSecretNeedsEqualNonEmptyStrings) {
  EXPECT_TRUE(SameSecret("abc", "abc"));
  EXPECT_FALSE(SameSecret("abc", "abd"));
  EXPECT_FALSE(SameSecret("abc", "ab"));
  EXPECT_FALSE(SameSecret("", ""));
}

}  // namespace
}  // namespace gpuledger
