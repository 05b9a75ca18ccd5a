#include "ledger/ledger.h"

#include <sys/stat.h>

#include <algorithm>

namespace gpuledger {

std::string RedactLedgerUrl(std::string_view url) {
  std::string out(url);
  // postgresql://user:secret@host/db: the userinfo's part after its first ':'.
  if (const size_t scheme = out.find("://"); scheme != std::string::npos) {
    const size_t auth = scheme + 3;
    const size_t auth_end = std::min(out.find_first_of("/?", auth), out.size());
    const size_t at = out.rfind('@', auth_end);
    if (at != std::string::npos && at >= auth) {
      const size_t colon = out.find(':', auth);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // password=secret, as a URL query parameter or a keyword/value pair.
  for (size_t at = out.find("password="); at != std::string::npos; at = out.find("password=", at)) {
    const size_t value = at + 9;
    const size_t end = std::min(out.find_first_of("& ", value), out.size());
    out.replace(value, end - value, "***");
    at = value + 3;
  }
  return out;
}

StatusOr<std::unique_ptr<Ledger>> OpenLedger(const std::string& db) {
  auto starts = [&](std::string_view p) { return db.rfind(p, 0) == 0; };
  if (starts("postgresql://") || starts("postgres://")) return OpenPostgresLedger(db);
  if (starts("sqlite://")) return OpenSqliteLedger(db.substr(9));
  if (db.find("://") != std::string::npos) {
    return InvalidArgument("ledger '" + RedactLedgerUrl(db) +
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
