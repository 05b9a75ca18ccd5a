// Roles, API tokens and what each role may see (BRIEF §10). Tokens are 32 random bytes
// (libsodium), shown once; the ledger keeps only their BLAKE2b-256 hash, which suffices
// for secrets of that entropy. Also the server's token cache and its throttle of failed
// authentications. Pure apart from the random source and CreateToken's ledger reads;
// thread-safe (CreateToken: as thread-safe as the Ledger it is given).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/mutex.h"
#include "common/status.h"
#include "domain/types.h"
#include "ledger/ledger.h"
#include "report/report.h"

namespace gpuledger {

enum class Role { kIngest, kUser, kDeptAdmin, kFinance, kAdmin };
std::string_view RoleName(Role r);
StatusOr<Role> ParseRole(std::string_view s);

struct Principal {
  std::string token_id;
  Role role = Role::kUser;
  std::string project;     // kUser
  std::string department;  // kDeptAdmin
};

struct NewToken {
  std::string secret;  // "glt_" + 64 hex digits: give it to the caller, store only the record
  TokenRecord record;
};
// A user token needs a project, a dept_admin token a department; others take neither.
StatusOr<NewToken> MakeToken(Role role, const std::string& project, const std::string& department,
                             TimeMs now);
std::string HashToken(std::string_view secret);
// Unauthenticated naming the token when it is revoked or expired at `now`.
StatusOr<Principal> PrincipalOf(const TokenRecord& t, TimeMs now);

// What `admin token create` and POST /api/v1/tokens take.
struct TokenRequest {
  std::string role;
  std::string project;
  std::string department;
  std::string name;
  std::string owner;
  TimeMs expires_ms = 0;  // 0: never
};
// A new token for `req`, checked against the ledger: a user token's project and a
// dept_admin token's department must be in the books; an expiry must be after `now`;
// name and owner are at most kMaxTokenLabel bytes of printable text.
inline constexpr size_t kMaxTokenLabel = 200;
StatusOr<NewToken> CreateToken(Ledger& ledger, const TokenRequest& req, TimeMs now);

// Token records the server found recently, by hash, so a request is authenticated
// without the ledger (whose lock a flush may hold). A record is trusted for kTtlMs of
// the server's clock: a token revoked in the ledger by another process (the CLI, another
// server) stops working within that; one revoked through this server is forgotten at
// once (Forget). Unknown hashes are not cached (a new token works at once). Thread-safe.
class TokenCache {
 public:
  static constexpr DurationMs kTtlMs = kMinuteMs;
  static constexpr size_t kMaxEntries = 10'000;  // past it the cache starts afresh
  std::optional<TokenRecord> Find(const std::string& hash, TimeMs now);
  void Put(const std::string& hash, const TokenRecord& record, TimeMs now);
  // Drops the record of the token with this id, if cached.
  void Forget(const std::string& token_id);

 private:
  Mutex mu_;
  // hash -> (record, found at)
  std::unordered_map<std::string, std::pair<TokenRecord, TimeMs>> entries_ GL_GUARDED_BY(mu_);
};

// Slows down guessing: failed authentications are counted per client address in a fixed
// window; an address with max_failures failures in its window is refused (429) until
// the window ends, whatever it sends. Successes do not reset the count (a valid token
// must not launder guesses). At most max_addresses are tracked; past that, addresses
// whose window is over are dropped, and if none is, the table starts afresh (a flood of
// addresses can make it forget, never refuse a newcomer). Time is the caller's clock.
// Thread-safe.
class AuthThrottle {
 public:
  struct Limits {
    int max_failures = 10;
    DurationMs window_ms = kMinuteMs;
    size_t max_addresses = 100'000;
  };
  AuthThrottle() = default;
  explicit AuthThrottle(Limits limits) : limits_(limits) {}
  // How long the address must wait before it is heard again; 0 when it may try now.
  DurationMs RetryAfterMs(const std::string& address, TimeMs now);
  void RecordFailure(const std::string& address, TimeMs now);
  const Limits& limits() const { return limits_; }

 private:
  struct Window {
    TimeMs start = 0;
    int failures = 0;
  };
  Limits limits_;
  Mutex mu_;
  std::unordered_map<std::string, Window> windows_ GL_GUARDED_BY(mu_);  // by address
};

// What a principal may ask of the monthly report: the scope it is confined to, and
// whether the grouping is allowed (finance never sees user or job names; ingest tokens
// read nothing).
StatusOr<ReportScope> ReportScopeFor(const Principal& p, GroupBy by);

}  // namespace gpuledger
