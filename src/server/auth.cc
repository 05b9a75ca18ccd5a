#include "server/auth.h"

#include <sodium.h>

namespace gpuledger {

std::string_view RoleName(Role r) {
  switch (r) {
    case Role::kIngest:
      return "ingest";
    case Role::kUser:
      return "user";
    case Role::kDeptAdmin:
      return "dept_admin";
    case Role::kFinance:
      return "finance";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

StatusOr<Role> ParseRole(std::string_view s) {
  for (Role r : {Role::kIngest, Role::kUser, Role::kDeptAdmin, Role::kFinance, Role::kAdmin}) {
    if (s == RoleName(r)) return r;
  }
  return InvalidArgument("role '" + std::string(s) +
                         "' is not one of ingest, user, dept_admin, finance, admin");
}

namespace {
std::string Hex(const unsigned char* b, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), b, n);
  out.pop_back();
  return out;
}
}  // namespace

std::string HashToken(std::string_view secret) {
  unsigned char h[32];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     nullptr, 0);
  return Hex(h, sizeof h);
}

StatusOr<NewToken> MakeToken(Role role, const std::string& project, const std::string& department,
                             TimeMs now) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  if (role == Role::kUser && (project.empty() || !department.empty())) {
    return InvalidArgument("a user token needs --project (and no --department)");
  }
  if (role == Role::kDeptAdmin && (department.empty() || !project.empty())) {
    return InvalidArgument("a dept_admin token needs --department (and no --project)");
  }
  if (role != Role::kUser && role != Role::kDeptAdmin && (!project.empty() || !department.empty())) {
    return InvalidArgument("a " + std::string(RoleName(role)) + " token takes no --project or --department");
  }
  unsigned char secret[32], id[6];
  randombytes_buf(secret, sizeof secret);
  randombytes_buf(id, sizeof id);
  NewToken t;
  t.secret = "glt_" + Hex(secret, sizeof secret);
  t.record = {"tok_" + Hex(id, sizeof id),
              HashToken(t.secret),
              std::string(RoleName(role)),
              project,
              department,
              now,
              false};
  return t;
}

StatusOr<Principal> PrincipalOf(const TokenRecord& t) {
  if (t.revoked) return Unauthenticated("token " + t.id + " is revoked");
  ASSIGN_OR_RETURN(Role role, ParseRole(t.role));
  return Principal{t.id, role, t.project, t.department};
}

StatusOr<ReportScope> ReportScopeFor(const Principal& p, GroupBy by) {
  switch (p.role) {
    case Role::kAdmin:
      return ReportScope{};
    case Role::kUser:
      return ReportScope{p.project, ""};
    case Role::kDeptAdmin:
      return ReportScope{"", p.department};
    case Role::kFinance:
      if (by == GroupBy::kUser || by == GroupBy::kJob) {
        return PermissionDenied("finance sees summary amounts only: grouping by user or job is not allowed");
      }
      return ReportScope{};
    case Role::kIngest:
      return PermissionDenied("an ingest token reads no reports");
  }
  return Internal("unknown role");
}

std::optional<TokenRecord> TokenCache::Find(const std::string& hash, TimeMs now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(hash);
  if (it == entries_.end()) return std::nullopt;
  if (now - it->second.second >= kTtlMs || now < it->second.second) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.first;
}

void TokenCache::Put(const std::string& hash, const TokenRecord& record, TimeMs now) {
  std::lock_guard lock(mu_);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[hash] = {record, now};
}

}  // namespace gpuledger
