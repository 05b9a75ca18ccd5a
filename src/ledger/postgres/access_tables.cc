#include "ledger/postgres/access_tables.h"

#include "ledger/audit_chain.h"

namespace gpuledger::pg {

namespace {
constexpr const char* kTokenColumns =
    "id, hash, role, project, department, created_ms, revoked, name, owner, expires_ms, last_used_ms, "
    "revoked_ms";
}  // namespace

Status AccessTables::PutToken(const TokenRecord& t) {
  return c_
      .Exec(std::string("INSERT INTO tokens (") + kTokenColumns +
                ") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12) ON CONFLICT (id) DO UPDATE SET hash=$2, "
                "role=$3, project=$4, department=$5, created_ms=$6, revoked=$7, name=$8, owner=$9, "
                "expires_ms=$10, last_used_ms=$11, revoked_ms=$12",
            {P(t.id), P(t.hash), P(t.role), P(t.project), P(t.department), P(t.created_ms),
             P(int64_t{t.revoked ? 1 : 0}), P(t.name), P(t.owner), P(t.expires_ms), P(t.last_used_ms),
             P(t.revoked_ms)})
      .status();
}

StatusOr<std::optional<TokenRecord>> AccessTables::FindTokenByHash(const std::string& hash) {
  ASSIGN_OR_RETURN(std::vector<TokenRecord> found, ReadTokens("WHERE hash = $1", {P(hash)}));
  if (found.empty()) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(std::move(found[0]));
}

StatusOr<std::optional<TokenRecord>> AccessTables::FindTokenById(const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<TokenRecord> found, ReadTokens("WHERE id = $1", {P(id)}));
  if (found.empty()) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(std::move(found[0]));
}

StatusOr<std::vector<TokenRecord>> AccessTables::ListTokens() {
  return ReadTokens("ORDER BY created_ms, id", {});
}

Status AccessTables::RevokeToken(const std::string& id, TimeMs at_ms) {
  ASSIGN_OR_RETURN(Result r, c_.Exec("UPDATE tokens SET revoked = 1, revoked_ms = CASE WHEN revoked = 1 AND "
                                     "revoked_ms > 0 THEN revoked_ms ELSE $1 END WHERE id = $2",
                                     {P(at_ms), P(id)}));
  if (r.affected() == 0) return NotFound("no token '" + id + "'");
  return OkStatus();
}

Status AccessTables::TouchToken(const std::string& id, TimeMs at_ms) {
  return c_.Exec("UPDATE tokens SET last_used_ms = $1 WHERE id = $2 AND last_used_ms < $1", {P(at_ms), P(id)})
      .status();
}

Status AccessTables::AppendAudit(const AuditEntry& entry) {
  Transaction tx(c_);
  RETURN_IF_ERROR(tx.Begin());
  // Self-conflicting, so appenders (in any process) take turns; readers are not blocked.
  RETURN_IF_ERROR(c_.Exec("LOCK TABLE audit IN SHARE ROW EXCLUSIVE MODE").status());
  ASSIGN_OR_RETURN(Result last, c_.Exec("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
  AuditEntry e = entry;
  ChainAuditEntry(last.rows() ? last.Int(0, 0) : 0, last.rows() ? last.Text(0, 1) : "", e);
  RETURN_IF_ERROR(InsertAudit(e));
  return tx.Commit();
}

StatusOr<std::vector<AuditEntry>> AccessTables::ListAudit(int64_t after_seq, size_t limit) {
  std::vector<AuditEntry> out;
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT at_ms, token_id, role, action, detail, remote, status, seq, "
                                     "prev_hash, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
                                     {P(after_seq), limit == 0 ? Param() : P(static_cast<int64_t>(limit))}));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.Int(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4), r.Text(i, 5),
                   static_cast<int>(r.Int(i, 6)), r.Int(i, 7), r.Text(i, 8), r.Text(i, 9)});
  }
  return out;
}

StatusOr<std::vector<TokenRecord>> AccessTables::ReadTokens(const std::string& where,
                                                            const std::vector<Param>& params) {
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec(std::string("SELECT ") + kTokenColumns + " FROM tokens " + where, params));
  std::vector<TokenRecord> out;
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Text(i, 3), r.Text(i, 4), r.Int(i, 5),
                   r.Int(i, 6) != 0, r.Text(i, 7), r.Text(i, 8), r.Int(i, 9), r.Int(i, 10), r.Int(i, 11)});
  }
  return out;
}

Status AccessTables::InsertAudit(const AuditEntry& e) {
  return c_
      .Exec(
          "INSERT INTO audit (seq, at_ms, token_id, role, action, detail, remote, status, prev_hash, hash) "
          "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
          {P(e.seq), P(e.at_ms), P(e.token_id), P(e.role), P(e.action), P(e.detail), P(e.remote),
           P(int64_t{e.status}), P(e.prev_hash), P(e.hash)})
      .status();
}

Status AccessTables::ChainLegacyAudit() {
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT at_ms, token_id, role, action, detail FROM audit ORDER BY seq"));
  RETURN_IF_ERROR(c_.Exec("DELETE FROM audit").status());
  std::string last;
  for (int i = 0; i < r.rows(); ++i) {
    AuditEntry e;
    e.at_ms = r.Int(i, 0), e.token_id = r.Text(i, 1), e.role = r.Text(i, 2), e.action = r.Text(i, 3);
    e.detail = r.Text(i, 4);
    ChainAuditEntry(i, last, e);
    last = e.hash;
    RETURN_IF_ERROR(InsertAudit(e));
  }
  return OkStatus();
}

}  // namespace gpuledger::pg
