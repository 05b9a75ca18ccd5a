// The SQLite ledger's notification outbox (ledger/outbox.h, migration 0013): notices
// and their deliveries. Calls run on the ledger's connection, inside the caller's
// transaction where there is one. Not thread-safe (one Db).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/outbox.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

class OutboxTables {
 public:
  explicit OutboxTables(Db& db) : db_(db) {}

  StatusOr<bool> PutNotice(const OutboxNotice& n, const std::vector<OutboxDelivery>& deliveries);
  StatusOr<std::vector<OutboxDelivery>> DueDeliveries(TimeMs now, size_t limit);
  Status UpdateDelivery(const OutboxDelivery& d);
  StatusOr<std::vector<OutboxDelivery>> ListDeliveries(const std::string& cause_key);

 private:
  StatusOr<std::vector<OutboxDelivery>> Read(Stmt& q);
  Db& db_;
};

}  // namespace gpuledger::sqlite
