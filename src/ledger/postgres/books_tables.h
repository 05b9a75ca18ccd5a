// The PostgreSQL ledger's books (docs/METERING.md, "Slices"): the change log that tells
// which slices a write made stale, the stored usage of each built book with the change it
// was built at, and each GPU's minute rollups. Calls run on the ledger's connection,
// inside the caller's transaction where there is one. Not thread-safe (one Conn).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "domain/types.h"
#include "ledger/ledger.h"
#include "ledger/postgres/pg.h"

namespace gpuledger::pg {

class BooksTables {
 public:
  explicit BooksTables(Conn& c) : c_(c) {}

  // Appends a change over `w` (`slices`: it makes metered slices stale, not only what
  // months add). Change ids become visible in the order they are drawn (a lock held to
  // the caller's commit), so books built at change N are never rebuilt for one below N.
  Status RecordChange(Window w, bool slices = true);
  StatusOr<int64_t> LatestChangeOverlapping(Window w);
  StatusOr<std::vector<Window>> SliceChangesSince(int64_t after_id, Window w);

  StatusOr<std::optional<int64_t>> BuiltAt(const std::string& key);
  Status ReplaceUsage(const std::string& key, int64_t built_change, const std::vector<UsageRow>& rows);
  StatusOr<std::vector<UsageRow>> Usage(const std::string& key);

  Status ReplaceMinutes(const std::string& gpu_uuid, Window w, const std::vector<MinuteRollup>& rows);
  StatusOr<std::vector<MinuteRollup>> Minutes(const std::string& gpu_uuid, Window w);

 private:
  Conn& c_;
};

}  // namespace gpuledger::pg
