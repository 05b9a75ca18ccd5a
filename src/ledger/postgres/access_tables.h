// The PostgreSQL ledger's API tokens and audit log (docs/formats/audit-log.md): token
// rows, and audit entries appended as a hash chain (ledger/audit_chain.h). Calls run on
// the ledger's connection, inside the caller's transaction where there is one. Not
// thread-safe (one Conn).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/types.h"
#include "ledger/postgres/pg.h"

namespace gpuledger::pg {

class AccessTables {
 public:
  explicit AccessTables(Conn& c) : c_(c) {}

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
  StatusOr<std::vector<TokenRecord>> ReadTokens(const std::string& where, const std::vector<Param>& params);
  Status InsertAudit(const AuditEntry& e);

  Conn& c_;
};

}  // namespace gpuledger::pg
