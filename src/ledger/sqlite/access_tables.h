// The SQLite ledger's API tokens and audit log (docs/formats/audit-log.md): token rows,
// and audit entries appended as a hash chain (ledger/audit_chain.h). Calls run on the
// ledger's connection, inside the caller's transaction where there is one. Not
// thread-safe (one Db).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/types.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

class AccessTables {
 public:
  explicit AccessTables(Db& db) : db_(db) {}

  Status PutToken(const TokenRecord& t);
  StatusOr<std::optional<TokenRecord>> FindTokenByHash(const std::string& hash);
  StatusOr<std::optional<TokenRecord>> FindTokenById(const std::string& id);
  StatusOr<std::vector<TokenRecord>> ListTokens();
  Status RevokeToken(const std::string& id, TimeMs at_ms);
  Status TouchToken(const std::string& id, TimeMs at_ms);
  Status AppendAudit(const AuditEntry& entry);
  StatusOr<std::vector<AuditEntry>> ListAudit(int64_t after_seq, size_t limit);
  // Migration 0008: chains the audit rows written before it, in seq order (their seq
  // renumbered from 1 so the chain's seq + 1 rule holds).
  Status ChainLegacyAudit();

 private:
  // Every token row matching `where` (with one optional text parameter).
  StatusOr<std::vector<TokenRecord>> ReadTokens(const std::string& where, std::optional<std::string> param);
  Status InsertAudit(const AuditEntry& e);

  Db& db_;
};

}  // namespace gpuledger::sqlite
