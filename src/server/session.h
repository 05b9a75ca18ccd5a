// Dashboard sessions (docs/DASHBOARD.md): POST /api/v1/session trades an API token for a
// session cookie and a CSRF token. The server keeps sessions in memory only (a restart
// signs everyone out; no migration): each names the hash of the token it was made from,
// so every request made with the cookie is authenticated as that token is (server_auth.cc:
// a revoked or expired token ends its sessions at once). Requests that change state
// (anything but GET, HEAD, OPTIONS) made with the cookie must carry the session's CSRF
// token in X-CSRF-Token. The parsing and checks are pure; SessionStore is thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "common/status.h"
#include "common/time.h"

namespace gpuledger {

inline constexpr std::string_view kSessionCookie = "gl_session";
inline constexpr std::string_view kCsrfHeader = "X-CSRF-Token";

struct Session {
  std::string id;          // the cookie's value: 32 random bytes, hex
  std::string csrf;        // 32 random bytes, hex: sent back in X-CSRF-Token
  std::string token_hash;  // HashToken of the API token it was made from
  std::string token_id;
  TimeMs created_ms = 0;
  TimeMs expires_ms = 0;  // created + max age (the token's own expiry is checked apart)
};

class SessionStore {
 public:
  static constexpr DurationMs kMaxAgeMs = 12 * kHourMs;
  static constexpr size_t kMaxSessions = 10'000;  // past it the oldest are dropped
  // A new session for the token; its ids from libsodium's random source.
  StatusOr<Session> Create(const std::string& token_hash, const std::string& token_id, TimeMs now);
  // The session with this id that has not expired at `now` (an expired one is dropped).
  std::optional<Session> Find(const std::string& id, TimeMs now);
  void Remove(const std::string& id);
  size_t size();

 private:
  Mutex mu_;
  std::unordered_map<std::string, Session> sessions_ GL_GUARDED_BY(mu_);
};

// The value of cookie `name` in a Cookie header ("a=1; gl_session=..."), or "".
std::string CookieValue(std::string_view header, std::string_view name);
// The Set-Cookie value for a session (HttpOnly, SameSite=Strict, Path=/; Secure when the
// server speaks TLS itself), and the one that clears it.
std::string SessionSetCookie(const Session& s, TimeMs now, bool secure);
std::string ClearSessionCookie(bool secure);
// Whether a request with this method changes state (needs the CSRF token with a cookie).
bool ChangesState(std::string_view method);
// Compares two secrets in time independent of where they differ; false when either is empty.
bool SameSecret(std::string_view a, std::string_view b);
// What a request with this cookie header, method and X-CSRF-Token header is
// authenticated as: the token hash of its session, or Unauthenticated (no cookie, no or
// an ended session) / PermissionDenied (a state change without the session's CSRF token).
StatusOr<std::string> SessionTokenHash(SessionStore& store, std::string_view cookie_header,
                                       std::string_view method, std::string_view csrf_header, TimeMs now);

// The requests served without a token: the dashboard's page and assets (GET) and the
// sign-in itself (POST /api/v1/session, which checks the token in its body).
bool IsPublicWebRequest(std::string_view method, std::string_view path);

}  // namespace gpuledger
