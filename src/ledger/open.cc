#include "ledger/ledger.h"

namespace gpuledger {

StatusOr<std::unique_ptr<Ledger>> OpenLedger(const std::string& db) {
  auto starts = [&](std::string_view p) { return db.rfind(p, 0) == 0; };
  if (starts("postgresql://") || starts("postgres://")) return OpenPostgresLedger(db);
  if (starts("sqlite://")) return OpenSqliteLedger(db.substr(9));
  if (db.find("://") != std::string::npos) {
    return InvalidArgument("ledger '" + db +
                           "': unknown scheme; use a file path, sqlite:///path or postgresql://...");
  }
  return OpenSqliteLedger(db);
}

}  // namespace gpuledger
