// Exports of the monthly books for machines (docs/EXPORTS.md): CSV and JSON whose
// columns have one type each (numbers as numbers, fractions 0..1, money as exact decimal
// strings in the ledger's currency), and the desensitised variant's pseudonyms. The
// figures are MonthlyReport's (report.h): an export computes no cost of its own. The
// renderers are pure and thread-safe; LoadPseudonyms reads (and once writes) the ledger.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ledger/ledger.h"
#include "report/report.h"

namespace gpuledger {

// Stable salted keys for names an export may not show: "u-" / "j-" and the first 16 hex
// digits of HMAC-SHA256(salt, kind + ":" + name). The salt is the ledger's (created once),
// so every export of one ledger gives a name the same key.
class Pseudonyms {
 public:
  explicit Pseudonyms(std::string salt) : salt_(std::move(salt)) {}
  std::string User(const std::string& name) const { return Key("u-", "user", name); }
  std::string Job(const std::string& id) const { return Key("j-", "job", id); }

 private:
  std::string Key(const char* prefix, const char* kind, const std::string& name) const;
  std::string salt_;
};

// The ledger's export salt, creating it (32 random bytes, hex) if it has none.
StatusOr<Pseudonyms> LoadPseudonyms(Ledger& ledger);

// What an export may show. `pseudonyms` is set exactly when the export is desensitised:
// user and job names are replaced by their keys, and nothing else names them.
struct ExportNames {
  const Pseudonyms* pseudonyms = nullptr;
  bool desensitised() const { return pseudonyms != nullptr; }
};

// One row per report line, its unallocated line and its unpriced lines (column
// `line_kind`: usage | unallocated | unpriced | adjustment, the last a closed month's
// correction with its month in `corrects_month`). The cost column of all rows sums to the
// report's total.
std::string RenderExportCsv(const MonthlyReport& r, const ExportNames& names);
// The same rows under "lines", with the total, the warnings and the period.
std::string RenderExportJson(const MonthlyReport& r, const ExportNames& names);

// The columns of RenderExportCsv, in order (tests and docs check against it).
const std::vector<std::string>& ExportCsvColumns();

// What to export: csv | json | focus | xlsx. `by` is empty for the default (department;
// focus is always one row per job per GPU model and xlsx has its own sheets: both refuse
// another grouping). xlsx is written to xlsx_path, not returned.
struct ExportRequest {
  YearMonth month;
  // A date range instead of the month (report/periods.h): its periods exported one after
  // another (csv, json, focus; not xlsx).
  std::optional<DateRange> range;
  TimeMs as_of = 0;
  std::string format;
  std::string by;
  bool desensitised = false;
  // csv and json: the idle capacity shared out to the lines (as report --share-idle, per
  // GPU model); FOCUS and the workbook are each job's own charge and refuse it.
  bool share_idle = false;
  ReportScope scope;
  std::string xlsx_path;
};
struct ExportOutput {
  std::string body;
  std::string content_type;  // text/csv; charset=utf-8 or application/json
  GroupBy by = GroupBy::kDepartment;
};
// Builds the month's report (one book: BuildMonthlyReport) and renders it.
StatusOr<ExportOutput> BuildExport(Ledger& ledger, const BooksContext& ctx, const ExportRequest& req);

// Plain decimal text of v / 10^decimals, exact, trailing zeros dropped ("12.5", "3").
std::string FormatScaled(Int128 v, int decimals);

// RFC 4180: a field quoted when it holds a comma, quote or line break.
std::string CsvQuote(const std::string& s);

}  // namespace gpuledger
