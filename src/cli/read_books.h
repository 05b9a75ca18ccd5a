// What the commands that read the books share: opening an existing ledger with its books
// context, and the --as-of and --month arguments. Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "books/books.h"
#include "common/clock.h"
#include "common/tz.h"
#include "ledger/ledger.h"
#include "report/periods.h"

namespace gpuledger {

struct OpenedBooks {
  std::unique_ptr<Ledger> ledger;
  BooksContext ctx;
};
// Read commands never create a ledger: a mistyped --db names the path instead.
StatusOr<OpenedBooks> OpenBooks(const std::string& db);
// --as-of: the clock's now when empty; never after now.
StatusOr<TimeMs> AsOfArg(const std::string& text, const Clock& clock);
// --month: the month before as_of's (in the ledger's zone) when empty.
StatusOr<YearMonth> MonthOrLast(const std::string& text, const TimeZone& tz, TimeMs as_of);
// --from/--to/--grain: a range when --from or --to is given (both needed, and not with
// --month); none otherwise (a --grain alone is an error).
StatusOr<std::optional<DateRange>> RangeArgs(const std::string& from, const std::string& to,
                                             const std::string& grain, const std::string& month,
                                             const TimeZone& tz);

}  // namespace gpuledger
