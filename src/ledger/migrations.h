// The ledger's schema migrations, embedded at build time from migrations/<backend>/*.sql.
// Versions ascend; a ledger records the ones it has applied. Thread-safe (read-only).
#pragma once

#include <vector>

namespace gpuledger {

struct Migration {
  int version;
  const char* name;
  const char* sql;
};

const std::vector<Migration>& SqliteMigrations();    // migrations/sqlite/
const std::vector<Migration>& PostgresMigrations();  // migrations/postgres/

}  // namespace gpuledger
