// Test helper: a fresh, empty PostgreSQL database in the throwaway cluster that
// GPULEDGER_TEST_PG names (libpq keyword form; `make test` starts one through
// scripts/with-pg.sh). Header-only; tests only.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

#include "ledger/postgres/pg.h"

namespace gpuledger::testing {

// The conninfo of a new database, or nullopt (with `why` set) when there is no cluster.
inline std::optional<std::string> NewPostgresDatabase(std::string* why) {
  const char* base = std::getenv("GPULEDGER_TEST_PG");
  if (base == nullptr) {
    *why = "GPULEDGER_TEST_PG is not set: no PostgreSQL to test against (make test starts one)";
    return std::nullopt;
  }
  static int counter = 0;
  const std::string name = "gpuledger_t" + std::to_string(::getpid()) + "_" + std::to_string(++counter);
  auto admin = pg::Conn::Open(base);
  if (!admin.ok()) {
    *why = admin.status().ToString();
    return std::nullopt;
  }
  if (Status made = (*admin)->Exec("CREATE DATABASE " + name).status(); !made.ok()) {
    *why = made.ToString();
    return std::nullopt;
  }
  return std::string(base) + " dbname=" + name;
}

}  // namespace gpuledger::testing
