// The low-efficiency digest's server side (#13, policy/digest.h, docs/POLICIES.md "Low
// efficiency digest"): once per period the maintenance loop has the period that just
// ended digested from the books (report/digest_books.h) and enqueues one notice per user
// named. The outbox keeps
// each cause key once (digest/<user>/<period start>), so a second run of the same period —
// after a restart, or by hand — tells nobody twice, and a user told already is not
// audited again. POST /api/v1/policy/digest runs or
// previews it (admins).
#include <httplib.h>

#include <map>
#include <nlohmann/json.hpp>

#include "report/digest_books.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

StatusOr<std::vector<DigestEntry>> Server::DigestLocked(Window period, bool dry_run) {
  const DigestRule& rule = policy_rules_.org().digest;
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger_));
  ASSIGN_OR_RETURN(std::vector<DigestEntry> entries, BuildDigest(*ledger_, ctx, rule, period));
  if (dry_run || rule.dry_run) return entries;
  NoticeSink* sink = notice_sink();
  for (const DigestEntry& e : entries) {
    if (sink != nullptr) {
      // Told already (a restart digests the period before again): neither told nor
      // audited twice.
      ASSIGN_OR_RETURN(std::vector<OutboxDelivery> told, ledger_->ListDeliveries(e.cause_key));
      if (!told.empty()) continue;
    }
    RETURN_IF_ERROR(ledger_->InTransaction([&]() GL_REQUIRES(ledger_mu_) -> Status {
      AuditEntry a;
      a.at_ms = clock_.Now();
      a.role = "policy";
      a.action = "policy digest notify";
      a.detail = "user=" + e.user + " cause=" + e.cause_key + (sink ? "" : " (no --notify: nobody told)");
      a.remote = "policy engine";
      RETURN_IF_ERROR(ledger_->AppendAudit(a));
      return sink ? sink->Enqueue(DigestNotice(e)) : OkStatus();
    }));
  }
  return entries;
}

void Server::RunDigestIfDue() {
  MutexLock lock(ledger_mu_);
  const DigestRule& rule = policy_rules_.org().digest;
  if (!rule.enabled) return;
  const Window period = DigestPeriodBefore(rule, clock_.Now());
  if (period.start == digest_done_for_) return;  // once per period (and the outbox: once per key)
  auto done = DigestLocked(period, /*dry_run=*/false);
  policy_log_.Record(done.status());
  background_errors_.Record("policy", done.status(), clock_.Now());
  if (done.ok()) digest_done_for_ = period.start;  // a failure is tried again next round
}

void Server::DigestRoutes() {
  // Runs (or with ?dry_run=true previews) the digest of the period before ?at= (RFC 3339;
  // default now). Admins. A run tells each user at most once per period (the outbox).
  http_->Post("/api/v1/policy/digest", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kAdmin) return Deny(req, res, *p, PermissionDenied("only admins run the digest"));
    if (Status s = OnlyParams(req, {"dry_run", "at"}); !s.ok()) return Reply(res, s);
    bool dry_run = false;
    if (req.has_param("dry_run")) {
      const std::string v = req.get_param_value("dry_run");
      if (v != "true" && v != "false")
        return Reply(res,
                     InvalidArgument("query parameter 'dry_run' must be true or false, got '" + v + "'"));
      dry_run = v == "true";
    }
    TimeMs at = clock_.Now();
    if (req.has_param("at")) {
      auto t = ParseTime(req.get_param_value("at"));
      if (!t.ok()) return Reply(res, t.status().WithContext("query parameter 'at'"));
      at = *t;
    }
    MutexLock lock(ledger_mu_);
    const DigestRule& rule = policy_rules_.org().digest;
    const Window period = DigestPeriodBefore(rule, at);
    auto entries = DigestLocked(period, dry_run);
    if (!entries.ok()) return Reply(res, entries.status());
    const bool sent = !dry_run && !rule.dry_run && notice_sink() != nullptr;
    Status audited =
        AuditLocked(req, &*p, 200, "POST /api/v1/policy/digest",
                    "period=" + FormatTime(period.start) + " users=" + std::to_string(entries->size()) +
                        (dry_run ? " (dry run)" : ""));
    if (!audited.ok()) return Reply(res, audited);
    res.set_content(RenderDigestJson(*entries, period, sent), "application/json");
  });
}

}  // namespace gpuledger
