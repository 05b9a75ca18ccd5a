// The server's one authentication step, its refusals (401/403/429, each counted and
// audited) and the access log's hooks. Routes: routes.cc, admin_routes.cc.
#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "domain/ids.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

namespace {

// The token id of the request a worker thread is serving, for the access log: the HTTP
// front admits, handles and logs a request on one worker thread, one request at a time.
thread_local std::string current_token_id;

constexpr size_t kMaxAuditedPath = 256;  // bytes of a refused request's path kept in the audit log

// The method and path, escaped: the path is the client's (any bytes, percent-decoded),
// and the audit log is JSON, so it keeps printable ASCII and writes the rest as \xNN.
std::string RequestAction(const httplib::Request& req) {
  return EscapeForMessage(req.method, 16) + " " + EscapeForMessage(req.path, kMaxAuditedPath);
}

}  // namespace

void Server::InstallAccessLog() {
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res, int64_t duration_ms) {
    AccessRecord r;
    r.at_ms = clock_.Now();
    r.remote_addr = req.remote_addr;
    r.remote_port = req.remote_port;
    r.method = req.method;
    r.path = req.path;
    r.status = res.status;
    r.duration_ms = duration_ms;
    r.token_id = current_token_id;
    current_token_id.clear();
    if (access_log_->Write(r)) {
      access_log_log_.Succeeded();
    } else {
      ++counters_.access_log_errors;
      access_log_log_.Failed(
          Unavailable("access log " + options_.access_log + ": a line could not be written"));
    }
  });
}

Status Server::AuditLocked(const httplib::Request& req, const Principal* p, int status,
                           const std::string& action, const std::string& detail) {
  AuditEntry e;
  e.at_ms = clock_.Now();
  e.token_id = p ? p->token_id : "";
  e.role = p ? std::string(RoleName(p->role)) : "";
  e.action = action;
  e.detail = detail;
  e.remote = req.remote_addr;
  e.status = status;
  Status s = ledger_->AppendAudit(e);
  if (!s.ok()) ++counters_.audit_errors;
  audit_log_.Record(s);
  return s;
}

void Server::Deny(const httplib::Request& req, httplib::Response& res, const Principal& p,
                  const Status& why) {
  ++counters_.denied;
  Reply(res, why);
  MutexLock lock(ledger_mu_);
  (void)AuditLocked(req, &p, res.status, RequestAction(req), why.message());  // counted if it fails
}

StatusOr<Principal> Server::CheckToken(const httplib::Request& req, DurationMs* retry_after_ms) {
  const TimeMs now = clock_.Now();
  *retry_after_ms = 0;
  if (const DurationMs wait = throttle_.RetryAfterMs(req.remote_addr, now); wait > 0) {
    // Not audited: that would hand a guesser the ledger's write rate. Counted instead.
    ++counters_.auth_throttled;
    *retry_after_ms = wait;
    return Status(StatusCode::kResourceExhausted,
                  "too many failed authentications from " + req.remote_addr + ": " +
                      std::to_string(throttle_.limits().max_failures) + " within " +
                      std::to_string(throttle_.limits().window_ms / 1000) + " s; retry in " +
                      std::to_string((wait + 999) / 1000) + " s");
  }
  // A refusal: 401, counted, audited, and held against the address.
  auto refuse = [&](const TokenRecord* token, const Status& why) -> Status {
    ++counters_.denied;
    ++counters_.auth_failures;
    throttle_.RecordFailure(req.remote_addr, now);
    AuditEntry e;
    e.at_ms = now;
    e.token_id = token ? token->id : "";
    e.role = token ? token->role : "";
    e.action = RequestAction(req);
    e.detail = why.message();
    e.remote = req.remote_addr;
    e.status = HttpStatusFor(why);
    MutexLock lock(ledger_mu_);
    const Status s = ledger_->AppendAudit(e);
    if (!s.ok()) ++counters_.audit_errors;
    audit_log_.Record(s);
    return why;
  };
  const std::string header = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "bearer ";  // the scheme is case-insensitive (RFC 9110)
  const bool bearer = header.size() > kScheme.size() &&
                      std::equal(kScheme.begin(), kScheme.end(), header.begin(),
                                 [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); });
  std::string hash;
  if (bearer) {
    hash = HashToken(header.substr(kScheme.size()));
  } else {
    // A dashboard session's cookie stands for the token it was made from (session.h).
    StatusOr<std::string> from_session =
        SessionTokenHash(sessions_, req.get_header_value("Cookie"), req.method,
                         req.get_header_value(std::string(kCsrfHeader)), now);
    if (!from_session.ok()) return refuse(nullptr, from_session.status());
    hash = *std::move(from_session);
  }
  std::optional<TokenRecord> rec = tokens_.Find(hash, now);
  if (!rec) {
    MutexLock lock(ledger_mu_);
    ASSIGN_OR_RETURN(rec, ledger_->FindTokenByHash(hash));
    if (rec) {
      tokens_.Put(hash, *rec, now);
      // last_used_ms: written when the cache is refilled, so to within TokenCache::kTtlMs.
      const Status touched = ledger_->TouchToken(rec->id, now);
      if (!touched.ok()) ++counters_.token_touch_errors;
      token_touch_log_.Record(touched);
    }
  }
  if (!rec) return refuse(nullptr, Unauthenticated("unknown API token"));
  auto p = PrincipalOf(*rec, now);
  if (!p.ok()) return refuse(&*rec, p.status());
  current_token_id = p->token_id;
  return *p;
}

namespace {
void ReplyRefused(httplib::Response& res, const Status& why, DurationMs retry_after_ms) {
  Reply(res, why);
  if (retry_after_ms > 0) {
    res.status = 429;
    res.set_header("Retry-After", std::to_string((retry_after_ms + 999) / 1000));
  }
}
}  // namespace

std::optional<Principal> Server::Authenticate(const httplib::Request& req, httplib::Response& res) {
  DurationMs retry = 0;
  StatusOr<Principal> p = CheckToken(req, &retry);
  if (!p.ok()) {
    ReplyRefused(res, p.status(), retry);
    return std::nullopt;
  }
  return *p;
}

Status Server::Admit(const httplib::Request& req, httplib::Response& verdict) {
  current_token_id.clear();  // a request before on this worker may have ended unlogged
  if (req.path == "/healthz" || req.path == "/readyz" || req.path == "/metrics") return OkStatus();
  if (IsPublicWebRequest(req.method, req.path)) return OkStatus();  // the dashboard's page and sign-in
  DurationMs retry = 0;
  StatusOr<Principal> p = CheckToken(req, &retry);
  // The ingest routes' role is checked here too: a token of another role sends no body.
  const bool job_path = req.path.rfind("/api/v1/jobs/", 0) == 0 && req.path.size() > 13;
  const bool ingest_route =
      (req.method == "POST" &&
       (req.path == "/api/v1/write" || req.path == "/api/v1/jobs" || req.path == "/api/v1/gpus" ||
        req.path == "/api/v1/memory" ||
        (job_path && req.path.size() > 22 && req.path.compare(req.path.size() - 9, 9, "/progress") == 0))) ||
      (req.method == "PATCH" && job_path);
  Status refused = p.status();
  if (p.ok() && ingest_route && p->role != Role::kIngest && p->role != Role::kAdmin) {
    refused = PermissionDenied("role " + std::string(RoleName(p->role)) + " may not do this");
    Deny(req, verdict, *p, refused);
  } else if (!refused.ok()) {
    ReplyRefused(verdict, refused, retry);
  }
  if (refused.ok()) return OkStatus();
  if (req.path == "/api/v1/write") {  // the handler, which counts these, never runs
    ++counters_.write_requests;
    ++counters_.write_rejected;
  }
  return refused;
}

}  // namespace gpuledger
