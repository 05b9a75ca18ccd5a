// The PostgreSQL ledger's monthly closes (migration 0020; report/close.h): one row per
// month ever closed. Calls run on the ledger's connection, inside the caller's
// transaction where there is one. Not thread-safe (one Conn).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/ledger.h"
#include "ledger/postgres/pg.h"

namespace gpuledger::pg {

class CloseTables {
 public:
  explicit CloseTables(Conn& c) : c_(c) {}

  Status PutMonthClose(const MonthClose& c);
  StatusOr<std::optional<MonthClose>> GetMonthClose(const std::string& month);
  StatusOr<std::vector<MonthClose>> ListMonthCloses(bool with_body);

 private:
  static std::vector<MonthClose> Read(const Result& r);
  Conn& c_;
};

}  // namespace gpuledger::pg
