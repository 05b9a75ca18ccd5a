#include "server/session.h"

#include <sodium.h>

#include <algorithm>
#include <vector>

namespace gpuledger {

namespace {

StatusOr<std::string> RandomHex() {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return std::string(hex);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

StatusOr<Session> SessionStore::Create(const std::string& token_hash, const std::string& token_id,
                                       TimeMs now) {
  Session s;
  ASSIGN_OR_RETURN(s.id, RandomHex());
  ASSIGN_OR_RETURN(s.csrf, RandomHex());
  s.token_hash = token_hash;
  s.token_id = token_id;
  s.created_ms = now;
  s.expires_ms = now + kMaxAgeMs;
  MutexLock lock(mu_);
  if (sessions_.size() >= kMaxSessions) {
    // Expired ones first; if none, the oldest tenth (a flood of sign-ins signs the oldest out).
    std::erase_if(sessions_, [&](const auto& e) { return e.second.expires_ms <= now; });
    if (sessions_.size() >= kMaxSessions) {
      std::vector<std::pair<TimeMs, std::string>> by_age;
      by_age.reserve(sessions_.size());
      for (const auto& [id, session] : sessions_) by_age.emplace_back(session.created_ms, id);
      std::sort(by_age.begin(), by_age.end());
      for (size_t i = 0; i < by_age.size() / 10 + 1; ++i) sessions_.erase(by_age[i].second);
    }
  }
  sessions_[s.id] = s;
  return s;
}

std::optional<Session> SessionStore::Find(const std::string& id, TimeMs now) {
  MutexLock lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return std::nullopt;
  if (it->second.expires_ms <= now) {
    sessions_.erase(it);
    return std::nullopt;
  }
  return it->second;
}

void SessionStore::Remove(const std::string& id) {
  MutexLock lock(mu_);
  sessions_.erase(id);
}

size_t SessionStore::size() {
  MutexLock lock(mu_);
  return sessions_.size();
}

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view pair = Trim(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (Trim(pair.substr(0, eq)) == name) return std::string(Trim(pair.substr(eq + 1)));
  }
  return "";
}

std::string SessionSetCookie(const Session& s, TimeMs now, bool secure) {
  const DurationMs left = std::max<DurationMs>(0, s.expires_ms - now);
  return std::string(kSessionCookie) + "=" + s.id + "; Path=/; Max-Age=" + std::to_string(left / kSecondMs) +
         "; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
}

std::string ClearSessionCookie(bool secure) {
  return std::string(kSessionCookie) + "=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict" +
         (secure ? "; Secure" : "");
}

bool ChangesState(std::string_view method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

bool SameSecret(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

StatusOr<std::string> SessionTokenHash(SessionStore& store, std::string_view cookie_header,
                                       std::string_view method, std::string_view csrf_header, TimeMs now) {
  const std::string id = CookieValue(cookie_header, kSessionCookie);
  if (id.empty()) {
    return Unauthenticated(
        "send an API token as 'Authorization: Bearer <token>' or sign in (POST /api/v1/session)");
  }
  std::optional<Session> s = store.Find(id, now);
  if (!s)
    return Unauthenticated(
        "the session has ended (signed out, expired or the server restarted): sign in again");
  if (ChangesState(method) && !SameSecret(csrf_header, s->csrf)) {
    return PermissionDenied(
        std::string("a request that changes state with a session cookie needs the session's ") +
        std::string(kCsrfHeader) + " header; it was " + (csrf_header.empty() ? "missing" : "wrong"));
  }
  return s->token_hash;
}

bool IsPublicWebRequest(std::string_view method, std::string_view path) {
  if (method == "POST") return path == "/api/v1/session";
  if (method != "GET" && method != "HEAD") return false;
  return path == "/" || path == "/index.html" || path == "/app.js" || path == "/app.css";
}

}  // namespace gpuledger
