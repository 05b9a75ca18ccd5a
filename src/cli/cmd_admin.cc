// admin token create|list|revoke and admin audit list|verify.
#include <cstdlib>
#include <iomanip>

#include "cli/commands.h"
#include "ledger/audit_chain.h"
#include "ledger/ledger.h"
#include "server/admin_json.h"
#include "server/auth.h"

namespace gpuledger {

namespace {

// Admin commands never create a ledger: a mistyped --db names the path instead.
StatusOr<std::unique_ptr<Ledger>> OpenExisting(const std::string& db) {
  RETURN_IF_ERROR(LedgerExists(db));
  return OpenLedger(db);
}

StatusOr<TimeMs> ExpiryOf(const std::string& text, TimeMs now) {
  if (text.empty()) return TimeMs{0};
  if (auto d = ParseDuration(text); d.ok()) return now + *d;
  auto t = ParseTime(text);
  if (!t.ok()) {
    return InvalidArgument("--expires '" + text + "' is neither a duration (\"720h\") nor a time (" +
                           t.status().message() + ")");
  }
  return *t;
}

std::string OrDash(const std::string& s) { return s.empty() ? "-" : s; }
std::string TimeOrDash(TimeMs t) { return t == 0 ? "-" : FormatTime(t); }

}  // namespace

// Who ran the command, for the audit log.
std::string CliRemote() {
  const char* user = std::getenv("USER");
  if (user == nullptr) user = std::getenv("LOGNAME");
  return std::string("cli user=") + (user ? user : "?");
}

Status AuditCli(Ledger& ledger, TimeMs now, const std::string& action, const std::string& detail) {
  AuditEntry e;
  e.at_ms = now;
  e.role = "cli";
  e.action = action;
  e.detail = detail;
  e.remote = CliRemote();
  return ledger.AppendAudit(e);
}

Status CmdTokenCreate(const TokenArgs& a, const Clock& clock, std::ostream& out) {
  const TimeMs now = clock.Now();
  ASSIGN_OR_RETURN(TimeMs expires, ExpiryOf(a.expires, now));
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  TokenRequest req{a.role, a.project, a.department, a.name, a.owner, expires};
  ASSIGN_OR_RETURN(NewToken t, CreateToken(*ledger, req, now));
  RETURN_IF_ERROR(ledger->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger->PutToken(t.record));
    return AuditCli(*ledger, now, "admin token create",
                    "token=" + t.record.id + " role=" + t.record.role + " project=" + t.record.project +
                        " department=" + t.record.department + " name=" + t.record.name +
                        " owner=" + t.record.owner + " expires=" + (expires ? FormatTime(expires) : "never"));
  }));
  out << t.secret << "\n";  // the only line on stdout: scripts capture it
  return OkStatus();
}

Status CmdTokenList(const TokenArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenExisting(a.db));
  ASSIGN_OR_RETURN(std::vector<TokenRecord> tokens, ledger->ListTokens());
  const TimeMs now = clock.Now();
  if (a.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const TokenRecord& t : tokens) list.push_back(TokenToJson(t, now));
    out << nlohmann::json{{"tokens", list}}.dump(2) << "\n";
    return OkStatus();
  }
  out << std::left << std::setw(18) << "ID" << std::setw(10) << "STATE" << std::setw(11) << "ROLE"
      << std::setw(24) << "SCOPE" << std::setw(24) << "NAME" << std::setw(12) << "OWNER" << std::setw(22)
      << "EXPIRES"
      << "LAST USED\n";
  for (const TokenRecord& t : tokens) {
    const std::string scope = !t.project.empty()      ? "project=" + t.project
                              : !t.department.empty() ? "department=" + t.department
                                                      : "-";
    out << std::setw(18) << t.id << std::setw(10) << TokenState(t, now) << std::setw(11) << t.role
        << std::setw(24) << scope << std::setw(24) << OrDash(t.name) << std::setw(12) << OrDash(t.owner)
        << std::setw(22) << TimeOrDash(t.expires_ms) << TimeOrDash(t.last_used_ms) << "\n";
  }
  return OkStatus();
}

Status CmdTokenRevoke(const TokenArgs& a, const Clock& clock, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenExisting(a.db));
  const TimeMs now = clock.Now();
  RETURN_IF_ERROR(ledger->InTransaction([&]() -> Status {
    RETURN_IF_ERROR(ledger->RevokeToken(a.id, now));
    return AuditCli(*ledger, now, "admin token revoke", "token=" + a.id);
  }));
  out << "revoked " << a.id << " (a running server that has it cached accepts it for up to "
      << TokenCache::kTtlMs / 1000 << " s more; DELETE /api/v1/tokens/" << a.id << " takes effect at once)\n";
  return OkStatus();
}

Status CmdAuditVerify(const AuditArgs& a, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenExisting(a.db));
  AuditChainVerifier v;
  RETURN_IF_ERROR(VerifyAuditLog(*ledger, v));
  if (v.first_broken_seq()) {
    out << "audit log BROKEN at seq " << *v.first_broken_seq() << ": " << v.why() << "\n"
        << v.checked() << " entries before it verified\n";
    return FailedPrecondition("audit log broken at seq " + std::to_string(*v.first_broken_seq()) +
                              " (entries from there on cannot be trusted)");
  }
  out << "audit log ok: " << v.checked() << " entries, head seq " << v.head_seq() << " hash " << v.head_hash()
      << "\n(record the head elsewhere: removing entries from the end is only visible against it)\n";
  return OkStatus();
}

Status CmdAuditList(const AuditArgs& a, std::ostream& out) {
  if (a.after < 0) return InvalidArgument("--after " + std::to_string(a.after) + " is negative");
  if (a.limit < 0) return InvalidArgument("--limit " + std::to_string(a.limit) + " is negative");
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenExisting(a.db));
  ASSIGN_OR_RETURN(std::vector<AuditEntry> entries, ledger->ListAudit(a.after, static_cast<size_t>(a.limit)));
  if (a.format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const AuditEntry& e : entries) list.push_back(AuditEntryToJson(e));
    out << nlohmann::json{{"entries", list}}.dump(2) << "\n";
    return OkStatus();
  }
  out << std::left << std::setw(7) << "SEQ" << std::setw(26) << "AT" << std::setw(18) << "TOKEN"
      << std::setw(11) << "ROLE" << std::setw(20) << "FROM" << std::setw(7) << "STATUS" << std::setw(34)
      << "ACTION"
      << "DETAIL\n";
  for (const AuditEntry& e : entries) {
    out << std::setw(7) << e.seq << std::setw(26) << FormatTime(e.at_ms) << std::setw(18)
        << OrDash(e.token_id) << std::setw(11) << OrDash(e.role) << std::setw(20) << OrDash(e.remote)
        << std::setw(7) << (e.status ? std::to_string(e.status) : "-") << std::setw(34) << e.action
        << e.detail << "\n";
  }
  return OkStatus();
}

}  // namespace gpuledger
