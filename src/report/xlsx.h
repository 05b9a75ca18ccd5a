// The finance workbook (docs/EXPORTS.md, "XLSX"), written with Debian's libxlsxwriter:
// summary, by department, by project, by user (not when desensitised), idle capacity and
// month over month, with native charts and number formats in the ledger's currency.
// Every figure comes from MonthlyReports (report.h). Thread-compatible (one workbook per
// call; libxlsxwriter keeps no global state).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/report.h"

namespace gpuledger {

// One month's totals for the month-over-month sheet.
struct MonthTotals {
  YearMonth month;
  bool partial = false;
  int64_t total_micros = 0;
  int64_t unallocated_micros = 0;
  GpuNsSum capacity_ns = 0;       // jobs' and unallocated GPU time
  std::optional<double> density;  // of the jobs' sampled time; nothing without samples
};

struct WorkbookInput {
  MonthlyReport by_department;
  MonthlyReport by_project;
  std::optional<MonthlyReport> by_user;  // absent in the desensitised workbook
  std::vector<MonthTotals> history;      // oldest first, ending with the month
  bool desensitised = false;
};

// Writes the workbook to `path` (replacing it).
Status WriteWorkbook(const WorkbookInput& in, const std::string& path);

}  // namespace gpuledger
