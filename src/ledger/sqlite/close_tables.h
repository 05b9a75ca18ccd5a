// The SQLite ledger's monthly closes (migration 0020; report/close.h): one row per month
// ever closed. Calls run on the ledger's connection, inside the caller's transaction
// where there is one. Not thread-safe (one Db).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/ledger.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

class CloseTables {
 public:
  explicit CloseTables(Db& db) : db_(db) {}

  Status PutMonthClose(const MonthClose& c);
  StatusOr<std::optional<MonthClose>> GetMonthClose(const std::string& month);
  StatusOr<std::vector<MonthClose>> ListMonthCloses(bool with_body);

 private:
  StatusOr<std::vector<MonthClose>> Read(Stmt& q);
  Db& db_;
};

}  // namespace gpuledger::sqlite
