// The PostgreSQL ledger's notification outbox (ledger/outbox.h, migration 0013): notices
// and their deliveries. Calls run on the ledger's connection, inside the caller's
// transaction where there is one. Not thread-safe (one Conn).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "ledger/outbox.h"
#include "ledger/postgres/pg.h"

namespace gpuledger::pg {

class OutboxTables {
 public:
  explicit OutboxTables(Conn& c) : c_(c) {}

  StatusOr<bool> PutNotice(const OutboxNotice& n, const std::vector<OutboxDelivery>& deliveries);
  StatusOr<std::vector<OutboxDelivery>> DueDeliveries(TimeMs now, size_t limit);
  Status UpdateDelivery(const OutboxDelivery& d);
  StatusOr<std::vector<OutboxDelivery>> ListDeliveries(const std::string& cause_key);

 private:
  static std::vector<OutboxDelivery> Read(const Result& r);
  Conn& c_;
};

}  // namespace gpuledger::pg
