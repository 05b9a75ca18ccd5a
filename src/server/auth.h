// Roles, API tokens and what each role may see (BRIEF §10). Tokens are 32 random bytes
// (libsodium), shown once; the ledger keeps only their BLAKE2b-256 hash, which suffices
// for secrets of that entropy. Pure apart from the random source; thread-safe.
#pragma once

#include <string>
#include <string_view>

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

// What a principal may ask of the monthly report: the scope it is confined to, and
// whether the grouping is allowed (finance never sees user or job names; ingest tokens
// read nothing).
StatusOr<ReportScope> ReportScopeFor(const Principal& p, GroupBy by);

}  // namespace gpuledger
