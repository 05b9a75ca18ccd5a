// Renderers of reports: aligned text tables, CSV and JSON. Output never depends on the
// process locale (numbers are formatted by common/strings). Money in JSON and CSV is an
// exact decimal string in major units. Pure; thread-safe.
#pragma once

#include <string>

#include "report/report.h"

namespace gpuledger {

std::string RenderReportTable(const MonthlyReport& r);
std::string RenderReportCsv(const MonthlyReport& r);
std::string RenderReportJson(const MonthlyReport& r);

// A range's report: a summary of its periods then each period's report (table); each
// period's rows led by period, period_start and period_end (CSV); the periods' reports
// under "periods" with the range's total (JSON).
std::string RenderRangeTable(const RangeReport& rr);
std::string RenderRangeCsv(const RangeReport& rr);
std::string RenderRangeJson(const RangeReport& rr);

// Per-job lines of a GroupBy::kJob report with each job's metadata: table, csv or json.
std::string RenderJobs(const MonthlyReport& r, const std::vector<Job>& jobs, const std::string& format);

// One GPU's per-minute rollups as CSV or JSON, with the read's as-of time and whether
// the month was still in progress then (partial), on every CSV row as reports do.
std::string RenderMinutes(const std::string& gpu_uuid, const std::vector<MinuteRollup>& rows, TimeMs as_of,
                          bool partial, const std::string& format);

std::string RenderJobSummaryJson(const JobSummary& s);

std::string RenderLeaderboardTable(const Leaderboard& lb);
std::string RenderLeaderboardJson(const Leaderboard& lb);

// "1,234.50" (grouped, currency digits) for tables.
std::string FormatMoneyGrouped(int64_t micros, int digits);

}  // namespace gpuledger
