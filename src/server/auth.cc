#include "server/auth.h"

#include <sodium.h>

#include "common/time.h"

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
  t.record.id = "tok_" + Hex(id, sizeof id);
  t.record.hash = HashToken(t.secret);
  t.record.role = std::string(RoleName(role));
  t.record.project = project;
  t.record.department = department;
  t.record.created_ms = now;
  return t;
}

StatusOr<Principal> PrincipalOf(const TokenRecord& t, TimeMs now) {
  if (t.revoked) return Unauthenticated("token " + t.id + " is revoked");
  if (t.expires_ms != 0 && now >= t.expires_ms) {
    return Unauthenticated("token " + t.id + " expired at " + FormatTime(t.expires_ms));
  }
  ASSIGN_OR_RETURN(Role role, ParseRole(t.role));
  return Principal{t.id, role, t.project, t.department};
}

namespace {
Status CheckLabel(const char* what, const std::string& v) {
  if (v.size() > kMaxTokenLabel) {
    return InvalidArgument(std::string("token ") + what + " is " + std::to_string(v.size()) +
                           " bytes, over the limit of " + std::to_string(kMaxTokenLabel));
  }
  for (size_t i = 0; i < v.size(); ++i) {
    const auto c = static_cast<unsigned char>(v[i]);
    if (c < 0x20 || c == 0x7f) {
      return InvalidArgument(std::string("token ") + what + " has control character 0x" + Hex(&c, 1) +
                             " at byte " + std::to_string(i) + ": only printable text is allowed");
    }
  }
  return OkStatus();
}
}  // namespace

StatusOr<NewToken> CreateToken(Ledger& ledger, const TokenRequest& req, TimeMs now) {
  ASSIGN_OR_RETURN(Role role, ParseRole(req.role));
  RETURN_IF_ERROR(CheckLabel("name", req.name));
  RETURN_IF_ERROR(CheckLabel("owner", req.owner));
  if (req.expires_ms != 0 && req.expires_ms <= now) {
    return InvalidArgument("token expiry " + FormatTime(req.expires_ms) + " is not after now (" +
                           FormatTime(now) + ")");
  }
  ASSIGN_OR_RETURN(NewToken t, MakeToken(role, req.project, req.department, now));
  if (!req.project.empty()) {
    ASSIGN_OR_RETURN(bool known, ledger.HasProject(req.project));
    if (!known) return NotFound("project '" + req.project + "' is not in the books (import its jobs first)");
  }
  if (!req.department.empty()) {
    ASSIGN_OR_RETURN(bool known, ledger.HasDepartment(req.department));
    if (!known) {
      return NotFound("department '" + req.department + "' is not in the books (import its jobs first)");
    }
  }
  t.record.name = req.name;
  t.record.owner = req.owner;
  t.record.expires_ms = req.expires_ms;
  return t;
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
  MutexLock lock(mu_);
  auto it = entries_.find(hash);
  if (it == entries_.end()) return std::nullopt;
  if (now - it->second.second >= kTtlMs || now < it->second.second) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.first;
}

void TokenCache::Forget(const std::string& token_id) {
  MutexLock lock(mu_);
  std::erase_if(entries_, [&](const auto& kv) { return kv.second.first.id == token_id; });
}

void TokenCache::Put(const std::string& hash, const TokenRecord& record, TimeMs now) {
  MutexLock lock(mu_);
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[hash] = {record, now};
}

DurationMs AuthThrottle::RetryAfterMs(const std::string& address, TimeMs now) {
  MutexLock lock(mu_);
  auto it = windows_.find(address);
  if (it == windows_.end()) return 0;
  const TimeMs end = it->second.start + limits_.window_ms;
  if (now >= end || now < it->second.start) {
    windows_.erase(it);
    return 0;
  }
  return it->second.failures >= limits_.max_failures ? end - now : 0;
}

void AuthThrottle::RecordFailure(const std::string& address, TimeMs now) {
  MutexLock lock(mu_);
  auto it = windows_.find(address);
  if (it != windows_.end() && (now >= it->second.start + limits_.window_ms || now < it->second.start)) {
    it->second = Window{now, 0};
  }
  if (it == windows_.end()) {
    if (windows_.size() >= limits_.max_addresses) {
      std::erase_if(windows_, [&](const auto& kv) { return now >= kv.second.start + limits_.window_ms; });
      if (windows_.size() >= limits_.max_addresses) windows_.clear();
    }
    it = windows_.emplace(address, Window{now, 0}).first;
  }
  ++it->second.failures;
}

}  // namespace gpuledger
