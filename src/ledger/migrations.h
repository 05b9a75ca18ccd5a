// The ledger's schema migrations, embedded at build time from migrations/*.sql.
// Versions ascend; a ledger records the ones it has applied. Thread-safe (read-only).
#pragma once

#include <vector>

namespace gpuledger {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& Migrations();

}  // namespace gpuledger
