// Books: a calendar month's usage rows as of an instant. Kept in per-GPU hour slices,
// each metered on its own and stored, composed into days and the month (docs/METERING.md,
// "Slices"); a read re-meters only the hours a write touched since they were stored.
// Not thread-safe (one Ledger).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "books/open_hour.h"
#include "common/mutex.h"
#include "common/tz.h"
#include "cost/price_book.h"
#include "domain/types.h"
#include "ledger/ledger.h"

namespace gpuledger {

class BooksCache;

struct BooksContext {
  LedgerSettings settings;
  TimeZone tz;
  PriceBook prices;
  // Where partial months' books are kept between reads (the server's); none: each read
  // meters its month's open part afresh.
  BooksCache* cache = nullptr;
  // A running job's hold of at least this long whose GPU has had no sample for this long
  // is flagged on the job (JobSummary::silent_holds) rather than billed in silence
  // (gpuledger server --held-without-samples-after sets it; 0: never flagged).
  DurationMs held_without_samples_after_ms = 15 * kMinuteMs;
};

// Loads the ledger's settings, time zone and price book.
StatusOr<BooksContext> LoadBooksContext(Ledger& ledger);

struct MonthBooks {
  YearMonth month;
  Window window;  // the month's metered part: [month start, min(month end, as_of))
  TimeMs as_of = 0;
  // The month had not ended at as_of: its figures cover [start, as_of) and open holds end
  // at as_of. Partial books are metered on every read and never stored as the month's.
  bool partial = false;
  std::vector<UsageRow> rows;
  // The month starts before the retention horizon: its raw samples (some or all) are
  // gone, so its books stay as built even when a later write touches the month.
  bool frozen = false;
};

// Partial months' books kept between reads. A month in progress is never stored in the
// ledger (its open hour changes with as-of), so without this every read of it meters the
// open hour of every GPU again. An entry answers a read of the same month, time zone and
// as-of while the ledger has recorded no change since it was built. Thread-safe.
class BooksCache {
 public:
  explicit BooksCache(size_t max_entries = 16) : max_entries_(max_entries) {}
  std::optional<MonthBooks> Find(const std::string& key, TimeMs as_of, int64_t latest_change) const;
  void Put(const std::string& key, int64_t latest_change, const MonthBooks& books);
  size_t hits() const;
  // The newest month kept (the greatest as-of) and its energy flags (UsageRow) summed
  // over its lines: what /metrics shows of the month in progress without metering.
  // Nothing before the first read of a partial month.
  struct KeptFlags {
    YearMonth month;
    TimeMs as_of = 0;
    int64_t energy_flags = 0;
  };
  std::optional<KeptFlags> NewestEnergyFlags() const;

  // Runs `work` with the month's kept open hour (books/open_hour.h), under the lock that
  // guards it: one read of a month meters its open hour at a time.
  Status WithOpenHours(const std::string& key, const std::function<Status(OpenHours&)>& work);
  // Samples fed to open-hour meters and open-hour meters started afresh, over all months.
  int64_t open_hour_samples() const;
  int64_t open_hour_restarts() const;
  // Reads that composed their open hour onto the kept part before it (OpenHours::Closed).
  int64_t closed_part_reuses() const;

 private:
  struct Entry {
    int64_t latest_change = 0;
    MonthBooks books;
  };
  const size_t max_entries_;
  mutable Mutex mu_;
  std::map<std::string, Entry> entries_ GL_GUARDED_BY(mu_);
  mutable size_t hits_ GL_GUARDED_BY(mu_) = 0;
  mutable Mutex open_mu_;
  std::map<std::string, OpenHours> open_ GL_GUARDED_BY(open_mu_);  // by month key, the newest few
  int64_t retired_samples_ GL_GUARDED_BY(open_mu_) = 0;            // counted by open hours since evicted
  int64_t retired_restarts_ GL_GUARDED_BY(open_mu_) = 0;
  int64_t retired_reuses_ GL_GUARDED_BY(open_mu_) = 0;
};

// The month's usage rows as of `as_of`, metering it again first if the stored ones are
// stale. A month that ends after as_of is partial (see MonthBooks); one that has not begun
// at as_of is FailedPrecondition. A month that starts before the ledger's
// raw_retained_from_ms is never metered again: its stored rows are returned (frozen), or
// FailedPrecondition when it was never built.
StatusOr<MonthBooks> MonthUsage(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs as_of);

// The books of any window `w` as of `as_of`: the part of each month it overlaps composed
// from that month's slices (kept fresh as MonthUsage keeps them: a whole month is its
// stored books, a part costs its days' stored composites and the hours its edges cut,
// metered again), the months composed into one span. Within one month it equals
// MeterWindow(w) exactly; across months, the months' parts composed (a job billed by GPU
// count in one month and by its holds in the next stays so).
// A window that has not begun at as_of is FailedPrecondition; one that ends after it is
// partial and ends there. A part of a month before the retention horizon is
// FailedPrecondition (only the whole month's stored books are left).
struct WindowBooks {
  Window window;  // [w.start, min(w.end, as_of))
  TimeMs as_of = 0;
  bool partial = false;
  std::vector<UsageRow> rows;
};
StatusOr<WindowBooks> WindowUsage(Ledger& ledger, const BooksContext& ctx, Window w, TimeMs as_of);

// Meters window `w` afresh (no storage): every GPU in service, every allocation, and
// jobs that carry only a GPU count. `cuts` adds period boundaries (e.g. months). When
// `minutes` is given, each GPU's per-minute rollups of the window go there too.
using GpuMinutes = std::vector<std::pair<std::string, std::vector<MinuteRollup>>>;
StatusOr<std::vector<UsageRow>> MeterWindow(Ledger& ledger, const BooksContext& ctx, Window w,
                                            const std::vector<TimeMs>& cuts, GpuMinutes* minutes = nullptr);

}  // namespace gpuledger
