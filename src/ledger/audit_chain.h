// The audit log's hash chain (docs/formats/audit-log.md): each entry's hash is SHA-256
// over the previous entry's hash and this entry's fields in a canonical, length-prefixed
// form, so an edit, insertion or deletion inside the log breaks every later link.
// Truncating the tail is not visible to the chain alone: `admin audit verify` prints the
// head (seq, hash) for an operator to record elsewhere. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

// The prev_hash of the first entry: 64 zeros.
const std::string& AuditGenesisHash();
// The canonical bytes hashed for `e` (seq, at_ms, token_id, role, action, detail, remote,
// status; not prev_hash or hash): "name=<length>:<value>\n" per field.
std::string AuditCanonical(const AuditEntry& e);
// Hex SHA-256 of prev_hash, "\n", then AuditCanonical(e).
std::string AuditHash(const std::string& prev_hash, const AuditEntry& e);
// Fills e's seq, prev_hash and hash as the entry after (last_seq, last_hash); last_seq 0
// and an empty last_hash for the first entry.
void ChainAuditEntry(int64_t last_seq, const std::string& last_hash, AuditEntry& e);

// Checks entries one at a time, in seq order: every entry must name the previous
// entry's hash, carry the hash of its own fields, and follow it by seq + 1.
class AuditChainVerifier {
 public:
  // False once an entry is broken (that one and every later one are not checked).
  bool Add(const AuditEntry& e);
  int64_t checked() const { return checked_; }
  // The first broken entry's seq and what was wrong with it, if any.
  const std::optional<int64_t>& first_broken_seq() const { return broken_seq_; }
  const std::string& why() const { return why_; }
  int64_t head_seq() const { return last_seq_; }
  const std::string& head_hash() const { return last_hash_; }

 private:
  int64_t checked_ = 0;
  int64_t last_seq_ = 0;
  std::string last_hash_ = AuditGenesisHash();
  std::optional<int64_t> broken_seq_;
  std::string why_;
};

class Ledger;
// Feeds every entry of the ledger's audit log to `v`, a page at a time, stopping at the
// first broken one. An error only when the ledger cannot be read.
Status VerifyAuditLog(Ledger& ledger, AuditChainVerifier& v);

}  // namespace gpuledger
