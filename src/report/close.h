// Monthly close (docs/CLOSE.md): freezing a month's books, verifying them on every read,
// and the adjustments that carry later corrections of a closed month into the next open
// one. A closed month's books are its frozen usage rows priced with its frozen price list
// (so they give the same lines and totals on every read, whatever arrives later); a
// checksum (SHA-256 over the canonical body) is checked on every load, and a mismatch is
// an error, never served. Not thread-safe (one Ledger); the (de)serialisation is pure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "books/books.h"
#include "common/time.h"
#include "ledger/ledger.h"

namespace gpuledger {

// One priced line of the books: a job (or unallocated capacity, job_id "") on a GPU model,
// its direct cost without idle sharing (CostBook's items).
struct FrozenLine {
  std::string job_id;
  std::string gpu_model;
  int64_t cost_micros = 0;
  bool unpriced = false;
};

// A correction of closed month `corrects` carried by a later month: what the live books of
// that month now give for (job, GPU model), less what it was closed with and what earlier
// corrections carried.
struct Adjustment {
  YearMonth corrects;
  std::string job_id;  // "" = unallocated capacity
  std::string gpu_model;
  int64_t cost_micros = 0;  // may be negative
};

struct ClosedBooks {
  YearMonth month;
  TimeMs closed_ms = 0;
  std::string currency;  // ISO 4217 code
  std::string timezone;
  Window window;
  std::vector<UsageRow> rows;
  std::vector<Price> prices;  // the whole price list at close
  std::vector<FrozenLine> lines;
  int64_t total_micros = 0;
  int64_t unallocated_micros = 0;
  std::vector<Adjustment> adjustments;  // the corrections of earlier closed months it carries
};

// Canonical: fixed key order, integers only, rows and lines in the order given (CloseMonth
// sorts them). Parse rejects a body that is not one, naming what is wrong.
std::string SerializeClosedBooks(const ClosedBooks& b);
StatusOr<ClosedBooks> ParseClosedBooks(const std::string& body);
std::string BodyChecksum(const std::string& body);  // SHA-256, lowercase hex

// The month's frozen books when it is closed (not when never closed or reopened).
// Internal when the stored body does not match its checksum or cannot be read.
StatusOr<std::optional<ClosedBooks>> LoadClosedBooks(Ledger& ledger, YearMonth month);

// The corrections open month `month` carries at as_of: for each closed month just before
// it (the run of closed months that ends at month - 1), live books less frozen lines less
// corrections already carried by the closed months in between. Only non-zero ones, by
// (corrected month, job, GPU model). Empty for a closed month (its own are frozen).
StatusOr<std::vector<Adjustment>> PendingAdjustments(Ledger& ledger, const BooksContext& ctx, YearMonth month,
                                                     TimeMs as_of);

// Closes `month` at `now`: it must have ended at now and not be closed already
// (FailedPrecondition otherwise). Freezes its usage rows, the price list, its lines and
// totals, and the corrections it carries; stores them with the checksum and appends
// `audit` (who: its token_id, role, remote, action, status; at_ms and detail are set
// here), in one transaction. closed_by is audit.remote, or the token id when there is one.
StatusOr<MonthClose> CloseMonth(Ledger& ledger, const BooksContext& ctx, YearMonth month, TimeMs now,
                                const AuditEntry& audit);
// Reopens a closed month (audited; `reason` required). Refused while a later closed month
// carries corrections of it (reopen that one first), since closing again would count them twice.
StatusOr<MonthClose> ReopenMonth(Ledger& ledger, YearMonth month, TimeMs now, const AuditEntry& audit,
                                 const std::string& reason);

// Each month from the earliest with a GPU in service (or ever closed) to the month of `now`,
// oldest first, with its close record when it has one.
struct MonthState {
  YearMonth month;
  std::string state;                 // open | closed | reopened
  std::optional<MonthClose> record;  // without body
};
StatusOr<std::vector<MonthState>> ListMonthStates(Ledger& ledger, const BooksContext& ctx, TimeMs now);

// JSON for machines (CLI --format json and GET /api/v1/months): {"months": [{"month",
// "state", "closed_at", "closed_by", "total" (exact decimal), "checksum", "reopened_at",
// "reopened_by", "reopen_reason"}]}; absent facts are null. Pure.
std::string RenderMonthStatesJson(const std::vector<MonthState>& months, const Currency& currency);
// One close record as JSON (the close and reopen answers).
std::string RenderMonthCloseJson(const MonthClose& c, const Currency& currency);

}  // namespace gpuledger
