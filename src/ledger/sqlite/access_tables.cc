#include "ledger/sqlite/access_tables.h"

#include "ledger/audit_chain.h"

namespace gpuledger::sqlite {

namespace {
constexpr const char* kTokenColumns =
    "id, hash, role, project, department, created_ms, revoked, name, owner, expires_ms, last_used_ms, "
    "revoked_ms";
}  // namespace

Status AccessTables::PutToken(const TokenRecord& t) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(std::string("INSERT OR REPLACE INTO tokens (") + kTokenColumns +
                                       ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
  return q.Bind(1, std::string_view(t.id))
      .Bind(2, std::string_view(t.hash))
      .Bind(3, std::string_view(t.role))
      .Bind(4, std::string_view(t.project))
      .Bind(5, std::string_view(t.department))
      .Bind(6, t.created_ms)
      .Bind(7, t.revoked ? 1 : 0)
      .Bind(8, std::string_view(t.name))
      .Bind(9, std::string_view(t.owner))
      .Bind(10, t.expires_ms)
      .Bind(11, t.last_used_ms)
      .Bind(12, t.revoked_ms)
      .Run();
}

StatusOr<std::optional<TokenRecord>> AccessTables::FindTokenByHash(const std::string& hash) {
  ASSIGN_OR_RETURN(std::vector<TokenRecord> found, ReadTokens("WHERE hash = ?", hash));
  if (found.empty()) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(std::move(found[0]));
}

StatusOr<std::optional<TokenRecord>> AccessTables::FindTokenById(const std::string& id) {
  ASSIGN_OR_RETURN(std::vector<TokenRecord> found, ReadTokens("WHERE id = ?", id));
  if (found.empty()) return std::optional<TokenRecord>();
  return std::optional<TokenRecord>(std::move(found[0]));
}

StatusOr<std::vector<TokenRecord>> AccessTables::ListTokens() {
  return ReadTokens("ORDER BY created_ms, id", std::nullopt);
}

Status AccessTables::RevokeToken(const std::string& id, TimeMs at_ms) {
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.Begin());
  ASSIGN_OR_RETURN(
      Stmt q, db_.Prepare("UPDATE tokens SET revoked = 1, revoked_ms = CASE WHEN revoked = 1 AND revoked_ms "
                          "> 0 THEN revoked_ms ELSE ? END WHERE id = ?"));
  RETURN_IF_ERROR(q.Bind(1, at_ms).Bind(2, std::string_view(id)).Run());
  if (sqlite3_changes(db_.raw()) == 0) return NotFound("no token '" + id + "'");
  return tx.Commit();
}

Status AccessTables::TouchToken(const std::string& id, TimeMs at_ms) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("UPDATE tokens SET last_used_ms = ? WHERE id = ? AND last_used_ms < ?"));
  return q.Bind(1, at_ms).Bind(2, std::string_view(id)).Bind(3, at_ms).Run();
}

Status AccessTables::AppendAudit(const AuditEntry& entry) {
  Transaction tx(db_);
  RETURN_IF_ERROR(tx.Begin());  // BEGIN IMMEDIATE: one appender at a time, across processes
  ASSIGN_OR_RETURN(Stmt last, db_.Prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"));
  ASSIGN_OR_RETURN(bool row, last.Step());
  AuditEntry e = entry;
  ChainAuditEntry(row ? last.Int(0) : 0, row ? last.Text(1) : "", e);
  last.Reset();
  RETURN_IF_ERROR(InsertAudit(e));
  return tx.Commit();
}

StatusOr<std::vector<AuditEntry>> AccessTables::ListAudit(int64_t after_seq, size_t limit) {
  std::vector<AuditEntry> out;
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT at_ms, token_id, role, action, detail, remote, status, seq, "
                                       "prev_hash, hash FROM audit WHERE seq > ? ORDER BY seq LIMIT ?"));
  q.Bind(1, after_seq).Bind(2, limit == 0 ? int64_t{-1} : static_cast<int64_t>(limit));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Int(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5),
                   static_cast<int>(q.Int(6)), q.Int(7), q.Text(8), q.Text(9)});
  }
  return out;
}

StatusOr<std::vector<TokenRecord>> AccessTables::ReadTokens(const std::string& where,
                                                            std::optional<std::string> param) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare(std::string("SELECT ") + kTokenColumns + " FROM tokens " + where));
  if (param) q.Bind(1, std::string_view(*param));
  std::vector<TokenRecord> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Int(5), q.Int(6) != 0, q.Text(7),
                   q.Text(8), q.Int(9), q.Int(10), q.Int(11)});
  }
  return out;
}

Status AccessTables::InsertAudit(const AuditEntry& e) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("INSERT INTO audit (seq, at_ms, token_id, role, action, detail, remote, "
                               "status, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)"));
  return q.Bind(1, e.seq)
      .Bind(2, e.at_ms)
      .Bind(3, std::string_view(e.token_id))
      .Bind(4, std::string_view(e.role))
      .Bind(5, std::string_view(e.action))
      .Bind(6, std::string_view(e.detail))
      .Bind(7, std::string_view(e.remote))
      .Bind(8, int64_t{e.status})
      .Bind(9, std::string_view(e.prev_hash))
      .Bind(10, std::string_view(e.hash))
      .Run();
}

Status AccessTables::ChainLegacyAudit() {
  std::vector<AuditEntry> rows;
  {
    ASSIGN_OR_RETURN(Stmt q,
                     db_.Prepare("SELECT at_ms, token_id, role, action, detail FROM audit ORDER BY seq"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      AuditEntry e;
      e.at_ms = q.Int(0), e.token_id = q.Text(1), e.role = q.Text(2), e.action = q.Text(3),
      e.detail = q.Text(4);
      rows.push_back(std::move(e));
    }
  }
  RETURN_IF_ERROR(db_.Exec("DELETE FROM audit"));
  std::string last;
  for (size_t i = 0; i < rows.size(); ++i) {
    ChainAuditEntry(static_cast<int64_t>(i), last, rows[i]);
    last = rows[i].hash;
    RETURN_IF_ERROR(InsertAudit(rows[i]));
  }
  return OkStatus();
}

}  // namespace gpuledger::sqlite
