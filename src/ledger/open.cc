#include "ledger/ledger.h"

#include <sys/stat.h>

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

Status LedgerExists(const std::string& db) {
  auto starts = [&](std::string_view p) { return db.rfind(p, 0) == 0; };
  if (starts("postgresql://") || starts("postgres://")) return OkStatus();  // the server says
  if (db.find("://") != std::string::npos && !starts("sqlite://")) return OkStatus();  // OpenLedger refuses it
  const std::string path = starts("sqlite://") ? db.substr(9) : db;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return NotFound("no ledger at '" + path + "' (--db); create one with `gpuledger init --db " + path +
                    "` or check the path");
  }
  return OkStatus();
}

}  // namespace gpuledger
