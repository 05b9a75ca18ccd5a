// Token and audit-log administration for admins (docs/api/openapi.yaml): create, list
// and revoke tokens; read the audit log. Every call is audited.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "server/admin_json.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

namespace {

nlohmann::json TimeOrNull(TimeMs t) {
  return t == 0 ? nlohmann::json(nullptr) : nlohmann::json(FormatTime(t));
}

constexpr size_t kDefaultAuditPage = 100;
constexpr size_t kMaxAuditPage = 1000;

// The body of POST /api/v1/tokens: every field a string; unknown fields refused by name.
StatusOr<TokenRequest> ParseTokenRequest(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return InvalidArgument(R"(send a JSON object: {"role": "...", ...})");
  TokenRequest r;
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) return InvalidArgument("field '" + key + "' must be a string");
    const std::string v = value.get<std::string>();
    if (key == "role") {
      r.role = v;
    } else if (key == "project") {
      r.project = v;
    } else if (key == "department") {
      r.department = v;
    } else if (key == "name") {
      r.name = v;
    } else if (key == "owner") {
      r.owner = v;
    } else if (key == "expires_at") {
      auto t = ParseTime(v);
      if (!t.ok()) return InvalidArgument("field 'expires_at': " + t.status().message());
      r.expires_ms = *t;
    } else {
      return InvalidArgument("unknown field '" + key +
                             "': a token takes role, project, department, name, owner, expires_at");
    }
  }
  if (r.role.empty()) return InvalidArgument("field 'role' is required");
  return r;
}

}  // namespace

std::string TokenState(const TokenRecord& t, TimeMs now) {
  if (t.revoked) return "revoked";
  if (t.expires_ms != 0 && now >= t.expires_ms) return "expired";
  return "active";
}

nlohmann::json TokenToJson(const TokenRecord& t, TimeMs now) {
  return {{"id", t.id},
          {"name", t.name},
          {"owner", t.owner},
          {"role", t.role},
          {"project", t.project},
          {"department", t.department},
          {"created_at", TimeOrNull(t.created_ms)},
          {"expires_at", TimeOrNull(t.expires_ms)},
          {"last_used_at", TimeOrNull(t.last_used_ms)},
          {"revoked_at", t.revoked ? TimeOrNull(t.revoked_ms) : nlohmann::json(nullptr)},
          {"state", TokenState(t, now)}};
}

nlohmann::json AuditEntryToJson(const AuditEntry& e) {
  return {{"seq", e.seq},       {"at", FormatTime(e.at_ms)}, {"token_id", e.token_id},
          {"role", e.role},     {"action", e.action},        {"detail", e.detail},
          {"remote", e.remote}, {"status", e.status},        {"prev_hash", e.prev_hash},
          {"hash", e.hash}};
}

void Server::AdminRoutes() {
  // The admin check every handler here starts with; nullopt (and a reply) for others.
  auto admin = [this](const httplib::Request& req, httplib::Response& res) -> std::optional<Principal> {
    auto p = Authenticate(req, res);
    if (!p) return std::nullopt;
    if (p->role != Role::kAdmin) {
      Deny(req, res, *p,
           PermissionDenied("role " + std::string(RoleName(p->role)) +
                            " may not manage tokens "
                            "or read the audit log (admins only)"));
      return std::nullopt;
    }
    return p;
  };

  http_->Post("/api/v1/tokens", [this, admin](const httplib::Request& req, httplib::Response& res) {
    auto p = admin(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    auto want = ParseTokenRequest(req.body);
    if (!want.ok()) return Reply(res, want.status());
    const TimeMs now = clock_.Now();
    MutexLock lock(ledger_mu_);
    auto made = CreateToken(*ledger_, *want, now);
    if (!made.ok()) return Reply(res, made.status());
    const TokenRecord& t = made->record;
    Status stored = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      RETURN_IF_ERROR(ledger_->PutToken(t));
      return AuditLocked(req, &*p, 201, "POST /api/v1/tokens",
                         "token=" + t.id + " role=" + t.role + " project=" + t.project +
                             " department=" + t.department + " name=" + t.name + " owner=" + t.owner +
                             " expires=" + (t.expires_ms ? FormatTime(t.expires_ms) : "never"));
    });
    if (!stored.ok()) return Reply(res, stored);
    nlohmann::json out = TokenToJson(t, now);
    out["secret"] = made->secret;  // shown this once; the ledger keeps only its hash
    res.status = 201;
    res.set_header("Cache-Control", "no-store");
    res.set_content(out.dump() + "\n", "application/json");
  });

  http_->Get("/api/v1/tokens", [this, admin](const httplib::Request& req, httplib::Response& res) {
    auto p = admin(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    MutexLock lock(ledger_mu_);
    auto tokens = ledger_->ListTokens();
    if (!tokens.ok()) return Reply(res, tokens.status());
    if (Status s = AuditLocked(req, &*p, 200, "GET /api/v1/tokens", ""); !s.ok()) return Reply(res, s);
    nlohmann::json list = nlohmann::json::array();
    for (const TokenRecord& t : *tokens) list.push_back(TokenToJson(t, clock_.Now()));
    res.set_content(nlohmann::json{{"tokens", list}}.dump() + "\n", "application/json");
  });

  // Revocation takes effect at once on this server (its cache forgets the token); other
  // servers stop accepting it within TokenCache::kTtlMs.
  http_->Delete(
      R"(/api/v1/tokens/([^/]+))", [this, admin](const httplib::Request& req, httplib::Response& res) {
        auto p = admin(req, res);
        if (!p) return;
        if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
        const std::string id = req.matches[1];
        MutexLock lock(ledger_mu_);
        Status revoked = ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
          RETURN_IF_ERROR(ledger_->RevokeToken(id, clock_.Now()));
          return AuditLocked(req, &*p, 200, "DELETE /api/v1/tokens/{id}", "token=" + id);
        });
        tokens_.Forget(id);
        if (!revoked.ok()) return Reply(res, revoked);
        res.set_content(nlohmann::json{{"id", id}, {"state", "revoked"}}.dump() + "\n", "application/json");
      });

  // The audit log, oldest first: ?after=SEQ (default 0) and ?limit=N (default 100, at most 1000).
  http_->Get("/api/v1/audit", [this, admin](const httplib::Request& req, httplib::Response& res) {
    auto p = admin(req, res);
    if (!p) return;
    if (Status s = OnlyParams(req, {"after", "limit"}); !s.ok()) return Reply(res, s);
    int64_t after = 0;
    size_t limit = kDefaultAuditPage;
    if (req.has_param("after")) {
      auto v = ParseInt(req.get_param_value("after"), "query parameter 'after'");
      if (!v.ok()) return Reply(res, v.status());
      if (*v < 0)
        return Reply(res, InvalidArgument("query parameter 'after' " + std::to_string(*v) + " is negative"));
      after = *v;
    }
    if (req.has_param("limit")) {
      auto v = ParseInt(req.get_param_value("limit"), "query parameter 'limit'");
      if (!v.ok()) return Reply(res, v.status());
      if (*v < 1 || *v > static_cast<int64_t>(kMaxAuditPage)) {
        return Reply(res, InvalidArgument("query parameter 'limit' " + std::to_string(*v) +
                                          " is outside [1, " + std::to_string(kMaxAuditPage) + "]"));
      }
      limit = static_cast<size_t>(*v);
    }
    MutexLock lock(ledger_mu_);
    auto entries = ledger_->ListAudit(after, limit);
    if (!entries.ok()) return Reply(res, entries.status());
    if (Status s = AuditLocked(req, &*p, 200, "GET /api/v1/audit",
                               "after=" + std::to_string(after) + " limit=" + std::to_string(limit));
        !s.ok()) {
      return Reply(res, s);
    }
    nlohmann::json list = nlohmann::json::array();
    for (const AuditEntry& e : *entries) list.push_back(AuditEntryToJson(e));
    nlohmann::json out = {{"entries", list}};
    if (entries->size() == limit) out["next_after"] = entries->back().seq;
    res.set_content(out.dump() + "\n", "application/json");
  });
}

}  // namespace gpuledger
