#include "ledger/audit_chain.h"

#include <sodium.h>

#include "ledger/ledger.h"

namespace gpuledger {

const std::string& AuditGenesisHash() {
  static const std::string kGenesis(64, '0');
  return kGenesis;
}

namespace {
void Field(std::string& out, const char* name, const std::string& value) {
  out += name;
  out += '=';
  out += std::to_string(value.size());
  out += ':';
  out += value;
  out += '\n';
}
}  // namespace

std::string AuditCanonical(const AuditEntry& e) {
  std::string out;
  Field(out, "seq", std::to_string(e.seq));
  Field(out, "at_ms", std::to_string(e.at_ms));
  Field(out, "token_id", e.token_id);
  Field(out, "role", e.role);
  Field(out, "action", e.action);
  Field(out, "detail", e.detail);
  Field(out, "remote", e.remote);
  Field(out, "status", std::to_string(e.status));
  return out;
}

std::string AuditHash(const std::string& prev_hash, const AuditEntry& e) {
  const std::string data = prev_hash + "\n" + AuditCanonical(e);
  unsigned char h[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(h, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  std::string hex(sizeof h * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), h, sizeof h);
  hex.pop_back();
  return hex;
}

void ChainAuditEntry(int64_t last_seq, const std::string& last_hash, AuditEntry& e) {
  e.seq = last_seq + 1;
  e.prev_hash = last_hash.empty() ? AuditGenesisHash() : last_hash;
  e.hash = AuditHash(e.prev_hash, e);
}

bool AuditChainVerifier::Add(const AuditEntry& e) {
  if (broken_seq_) return false;
  auto broken = [&](std::string why) {
    broken_seq_ = e.seq;
    why_ = std::move(why);
    return false;
  };
  if (e.seq != last_seq_ + 1) {
    return broken("seq " + std::to_string(e.seq) + " follows seq " + std::to_string(last_seq_) +
                  " (expected " + std::to_string(last_seq_ + 1) + ": an entry was removed or inserted)");
  }
  if (e.prev_hash != last_hash_) {
    return broken("prev_hash " + e.prev_hash + " is not the hash of the entry before (" + last_hash_ + ")");
  }
  const std::string want = AuditHash(e.prev_hash, e);
  if (e.hash != want) {
    return broken("hash " + e.hash + " does not match the entry's fields (they hash to " + want +
                  "): the entry was edited");
  }
  ++checked_;
  last_seq_ = e.seq;
  last_hash_ = e.hash;
  return true;
}

Status VerifyAuditLog(Ledger& ledger, AuditChainVerifier& v) {
  constexpr size_t kPage = 10'000;
  int64_t after = 0;
  for (;;) {
    ASSIGN_OR_RETURN(std::vector<AuditEntry> page, ledger.ListAudit(after, kPage));
    for (const AuditEntry& e : page) {
      if (!v.Add(e)) return OkStatus();
      after = e.seq;
    }
    if (page.size() < kPage) return OkStatus();
  }
}

}  // namespace gpuledger
