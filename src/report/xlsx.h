// The finance workbook (docs/EXPORTS.md, "XLSX"), written with Debian's libxlsxwriter:
// summary, by department, by project, by user (not when desensitised), idle capacity and
// month over month (a range's workbook: by period), with native charts and number formats
// in the ledger's currency.
// Every figure comes from MonthlyReports (report.h). Thread-compatible (one workbook per
// call; libxlsxwriter keeps no global state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/report.h"

namespace gpuledger {

// One period's totals for the last sheet: a month of the monthly workbook's six, or a
// period of a range's.
struct PeriodTotals {
  std::string label;  // "2026-10"; a range's period label (report/periods.h)
  bool partial = false;
  int64_t total_micros = 0;
  int64_t unallocated_micros = 0;
  GpuNsSum capacity_ns = 0;       // jobs' and unallocated GPU time
  std::optional<double> density;  // of the jobs' sampled time; nothing without samples
};
PeriodTotals TotalsOf(const MonthlyReport& r, std::string label);

// The workbook of a date range rather than a month.
struct WorkbookRange {
  std::string first_day, last_day;  // local dates, both inside
  std::string grain;                // of the by-period sheet: range | day | week | month
};

struct WorkbookInput {
  // The month's books, or with `range` the whole range as one period.
  MonthlyReport by_department;
  MonthlyReport by_project;
  std::optional<MonthlyReport> by_user;  // absent in the desensitised workbook
  // Oldest first: the five months before the month and the month ("Month over month"), or
  // the range's periods at its grain ("By period").
  std::vector<PeriodTotals> history;
  std::optional<WorkbookRange> range;
  bool desensitised = false;
};

// Writes the workbook to `path` (replacing it).
Status WriteWorkbook(const WorkbookInput& in, const std::string& path);

}  // namespace gpuledger
