// Roles, API tokens and what each role may see (BRIEF §10). Tokens are 32 random bytes
// (libsodium), shown once; the ledger keeps only their BLAKE2b-256 hash, which suffices
// for secrets of that entropy. Pure apart from the random source; thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "domain/types.h"
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
StatusOr<Principal> PrincipalOf(const TokenRecord& t);

// Token records the server found recently, by hash, so a request is authenticated
// without the ledger (whose lock a flush may hold). A record is trusted for kTtlMs of
// the server's clock: a token revoked in the ledger stops working within that. Unknown
// hashes are not cached (a new token works at once). Thread-safe.
class TokenCache {
 public:
  static constexpr DurationMs kTtlMs = kMinuteMs;
  static constexpr size_t kMaxEntries = 10'000;  // past it the cache starts afresh
  std::optional<TokenRecord> Find(const std::string& hash, TimeMs now);
  void Put(const std::string& hash, const TokenRecord& record, TimeMs now);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::pair<TokenRecord, TimeMs>> entries_;  // hash -> (record, found at)
};

// What a principal may ask of the monthly report: the scope it is confined to, and
// whether the grouping is allowed (finance never sees user or job names; ingest tokens
// read nothing).
StatusOr<ReportScope> ReportScopeFor(const Principal& p, GroupBy by);

}  // namespace gpuledger
