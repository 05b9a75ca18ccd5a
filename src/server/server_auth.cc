// The server's one authentication step, its refusals (401/403/429, each counted and
// audited) and the access log's hooks. Routes: routes.cc, admin_routes.cc.
#include <httplib.h>

#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

namespace {

// What the access log needs of the request a worker thread is serving: cpp-httplib
// calls the pre-routing handler, the route's handler and the logger on the thread that
// read the request, one request at a time.
struct RequestContext {
  bool started = false;
  TimeMs start_ms = 0;
  std::string token_id;
};
thread_local RequestContext current;

constexpr size_t kMaxAuditedPath = 256;  // bytes of a refused request's path kept in the audit log

std::string RequestAction(const httplib::Request& req) {
  std::string path = req.path.substr(0, kMaxAuditedPath);
  return req.method + " " + path;
}

}  // namespace

void Server::InstallAccessLog() {
  http_->set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
    current = RequestContext{true, clock_.Now(), ""};
    return httplib::Server::HandlerResponse::Unhandled;
  });
  http_->set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const TimeMs now = clock_.Now();
    AccessRecord r;
    r.at_ms = now;
    r.remote_addr = req.remote_addr;
    r.remote_port = req.remote_port;
    r.method = req.method;
    r.path = req.path;
    r.status = res.status;
    r.duration_ms = current.started ? std::max<DurationMs>(0, now - current.start_ms) : 0;
    r.token_id = current.started ? current.token_id : "";
    current = RequestContext{};
    if (!access_log_->Write(r)) ++counters_.access_log_errors;
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
  return s;
}

void Server::Deny(const httplib::Request& req, httplib::Response& res, const Principal& p,
                  const Status& why) {
  ++counters_.denied;
  Reply(res, why);
  std::lock_guard lock(ledger_mu_);
  (void)AuditLocked(req, &p, res.status, RequestAction(req), why.message());  // counted if it fails
}

std::optional<Principal> Server::Authenticate(const httplib::Request& req, httplib::Response& res) {
  const TimeMs now = clock_.Now();
  if (const DurationMs wait = throttle_.RetryAfterMs(req.remote_addr, now); wait > 0) {
    // Not audited: that would hand a guesser the ledger's write rate. Counted instead.
    ++counters_.auth_throttled;
    Reply(res, Status(StatusCode::kResourceExhausted,
                      "too many failed authentications from " + req.remote_addr + ": " +
                          std::to_string(throttle_.limits().max_failures) + " within " +
                          std::to_string(throttle_.limits().window_ms / 1000) + " s; retry in " +
                          std::to_string((wait + 999) / 1000) + " s"));
    res.status = 429;
    res.set_header("Retry-After", std::to_string((wait + 999) / 1000));
    return std::nullopt;
  }
  // A refusal: 401, counted, audited, and held against the address.
  auto refuse = [&](const TokenRecord* token, const Status& why) -> std::optional<Principal> {
    ++counters_.denied;
    ++counters_.auth_failures;
    throttle_.RecordFailure(req.remote_addr, now);
    Reply(res, why);
    AuditEntry e;
    e.at_ms = now;
    e.token_id = token ? token->id : "";
    e.role = token ? token->role : "";
    e.action = RequestAction(req);
    e.detail = why.message();
    e.remote = req.remote_addr;
    e.status = res.status;
    std::lock_guard lock(ledger_mu_);
    if (!ledger_->AppendAudit(e).ok()) ++counters_.audit_errors;
    return std::nullopt;
  };
  const std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.rfind(prefix, 0) != 0) {
    return refuse(nullptr, Unauthenticated("send an API token as 'Authorization: Bearer <token>'"));
  }
  const std::string hash = HashToken(header.substr(prefix.size()));
  std::optional<TokenRecord> rec = tokens_.Find(hash, now);
  if (!rec) {
    std::lock_guard lock(ledger_mu_);
    auto found = ledger_->FindTokenByHash(hash);
    if (!found.ok()) {
      Reply(res, found.status());
      return std::nullopt;
    }
    rec = *found;
    if (rec) {
      tokens_.Put(hash, *rec, now);
      // last_used_ms: written when the cache is refilled, so to within TokenCache::kTtlMs.
      if (!ledger_->TouchToken(rec->id, now).ok()) ++counters_.token_touch_errors;
    }
  }
  if (!rec) return refuse(nullptr, Unauthenticated("unknown API token"));
  auto p = PrincipalOf(*rec, now);
  if (!p.ok()) return refuse(&*rec, p.status());
  current.token_id = p->token_id;
  return *p;
}

}  // namespace gpuledger
