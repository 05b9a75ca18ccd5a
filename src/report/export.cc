#include "report/export.h"

#include <sodium.h>

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "report/figures.h"
#include "report/focus.h"
#include "report/xlsx.h"

namespace gpuledger {

namespace {

std::string ToHex(const unsigned char* b, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out += kDigits[b[i] >> 4];
    out += kDigits[b[i] & 0xf];
  }
  return out;
}

double Hours(GpuNsSum ns) { return static_cast<double>(ns) / static_cast<double>(kGpuNsPerGpuHour); }

// A report line's key as the export may show it: user and job names become their keys
// in the desensitised variant ("(job not registered)" and the like stay: they name nobody).
std::string ShownKey(const MonthlyReport& r, const std::string& key, const ExportNames& names) {
  if (!names.desensitised() || key.empty() || key.front() == '(') return key;
  if (r.by == GroupBy::kUser) return names.pseudonyms->User(key);
  if (r.by == GroupBy::kJob) return names.pseudonyms->Job(key);
  return key;
}

struct Row {
  std::string line_kind;
  const ReportLine* line;
  bool priced;
};

std::vector<Row> Rows(const MonthlyReport& r) {
  std::vector<Row> rows;
  for (const ReportLine& l : r.lines) rows.push_back({"usage", &l, true});
  if (r.scope.empty()) rows.push_back({"unallocated", &r.unallocated, true});
  for (const ReportLine& l : r.unpriced) rows.push_back({"unpriced", &l, false});
  for (const ReportLine& l : r.adjustments) rows.push_back({"adjustment", &l, true});
  return rows;
}

double ShareOf(const MonthlyReport& r, int64_t amount) {
  return r.total.cost_micros ? static_cast<double>(amount) / static_cast<double>(r.total.cost_micros) : 0.0;
}

}  // namespace

std::string Pseudonyms::Key(const char* prefix, const char* kind, const std::string& name) const {
  const std::string msg = std::string(kind) + ":" + name;
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, reinterpret_cast<const unsigned char*>(salt_.data()), salt_.size());
  crypto_auth_hmacsha256_update(&st, reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
  crypto_auth_hmacsha256_final(&st, mac);
  return prefix + ToHex(mac, 8);
}

StatusOr<Pseudonyms> LoadPseudonyms(Ledger& ledger) {
  if (sodium_init() < 0) return Internal("libsodium failed to initialise");
  unsigned char salt[32];
  randombytes_buf(salt, sizeof salt);
  ASSIGN_OR_RETURN(std::string stored, ledger.GetOrCreateExportSalt(ToHex(salt, sizeof salt)));
  return Pseudonyms(std::move(stored));
}

std::string FormatScaled(Int128 v, int decimals) {
  const bool neg = v < 0;
  if (neg) v = -v;
  Int128 scale = 1;
  for (int i = 0; i < decimals; ++i) scale *= 10;
  auto digits = [](Int128 x) {
    std::string s;
    do {
      s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(x % 10)));
      x /= 10;
    } while (x > 0);
    return s;
  };
  std::string out = (neg ? "-" : "") + digits(v / scale);
  std::string frac = decimals > 0 ? digits(v % scale) : "";
  if (decimals > 0) frac.insert(frac.begin(), static_cast<size_t>(decimals) - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return frac.empty() ? out : out + "." + frac;
}

std::string CsvQuote(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

const std::vector<std::string>& ExportCsvColumns() {
  static const std::vector<std::string> kColumns = {"period_start",
                                                    "period_end",
                                                    "month",
                                                    "timezone",
                                                    "partial",
                                                    "as_of",
                                                    "line_kind",
                                                    "by",
                                                    "key",
                                                    "jobs",
                                                    "gpu_hours",
                                                    "busy_gpu_hours",
                                                    "covered_gpu_hours",
                                                    "dense_gpu_hours",
                                                    "density",
                                                    "density_of_allocated",
                                                    "mean_utilisation",
                                                    "energy_kwh",
                                                    "energy_flags",
                                                    "peak_mem_gib",
                                                    "cost",
                                                    "direct_cost",
                                                    "idle_share",
                                                    "currency",
                                                    "share_of_total",
                                                    "prev_cost",
                                                    "corrects_month"};
  return kColumns;
}

std::string RenderExportCsv(const MonthlyReport& r, const ExportNames& names) {
  const int d = r.currency.minor_digits;
  std::string out;
  for (const std::string& c : ExportCsvColumns()) out += (out.empty() ? "" : ",") + c;
  out += "\n";
  for (const Row& row : Rows(r)) {
    const ReportLine& l = *row.line;
    const UsageTotals& u = l.usage;
    std::vector<std::string> f = {
        FormatTime(r.window.start), FormatTime(r.window.end), r.month_books ? r.month.ToString() : "",
        r.timezone, r.partial ? "true" : "false", FormatTime(r.as_of), row.line_kind,
        std::string(GroupByName(r.by)), ShownKey(r, l.key, names), std::to_string(l.jobs),
        FormatFixed(u.gpu_hours(), 6), FormatFixed(u.busy_hours(), 6), FormatFixed(Hours(u.covered_ns), 6),
        FormatFixed(Hours(u.dense_ns), 6), FigureCsv(u.density(), 6), FigureCsv(u.density_allocated(), 6),
        FigureCsv(Scaled(u.mean_util_pct(), 0.01), 6), FigureCsv(u.energy_kwh(), 6),
        std::to_string(u.energy_flags), FigureCsv(u.peak_mem_gib(), 3),
        // An unpriced line has no cost: its money fields are empty (null), never 0.
        row.priced ? FormatMicros(l.total_micros(), d) : "", row.priced ? FormatMicros(l.cost_micros, d) : "",
        row.priced ? FormatMicros(l.idle_share_micros, d) : "", r.currency.code,
        row.priced ? FormatFixed(ShareOf(r, l.total_micros()), 6) : "",
        row.priced && l.prev_cost_micros ? FormatMicros(*l.prev_cost_micros, d) : "", l.corrects};
    std::string line;
    for (size_t i = 0; i < f.size(); ++i) line += (i ? "," : "") + CsvQuote(f[i]);
    out += line + "\n";
  }
  return out;
}

std::string RenderExportJson(const MonthlyReport& r, const ExportNames& names) {
  const int d = r.currency.minor_digits;
  auto money = [&](bool priced, int64_t micros) {
    return priced ? nlohmann::ordered_json(FormatMicros(micros, d)) : nlohmann::ordered_json(nullptr);
  };
  auto line = [&](const std::string& kind, const ReportLine& l, bool priced, bool with_key) {
    const UsageTotals& u = l.usage;
    nlohmann::ordered_json j;
    if (!kind.empty()) j["line_kind"] = kind;
    if (with_key) j["key"] = ShownKey(r, l.key, names);
    j["jobs"] = l.jobs;
    j["gpu_hours"] = u.gpu_hours();
    j["busy_gpu_hours"] = u.busy_hours();
    j["covered_gpu_hours"] = Hours(u.covered_ns);
    j["dense_gpu_hours"] = Hours(u.dense_ns);
    j["density"] = FigureJson(u.density());
    j["density_of_allocated"] = FigureJson(u.density_allocated());
    j["mean_utilisation"] = FigureJson(Scaled(u.mean_util_pct(), 0.01));
    j["energy_kwh"] = FigureJson(u.energy_kwh());
    j["energy_flags"] = u.energy_flags;
    j["peak_mem_gib"] = FigureJson(u.peak_mem_gib());
    j["cost"] = money(priced, l.total_micros());
    j["direct_cost"] = money(priced, l.cost_micros);
    j["idle_share"] = money(priced, l.idle_share_micros);
    j["share_of_total"] = priced ? nlohmann::ordered_json(ShareOf(r, l.total_micros())) : nullptr;
    j["prev_cost"] = money(priced && l.prev_cost_micros.has_value(), l.prev_cost_micros.value_or(0));
    // An adjustment line corrects a closed month (report/close.h); null on every other line.
    j["corrects_month"] = l.corrects.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(l.corrects);
    j["by_gpu_model"] = nlohmann::ordered_json::array();
    for (const ReportPart& p : l.parts) {
      j["by_gpu_model"].push_back({{"gpu_model", p.gpu_model},
                                   {"jobs", p.jobs},
                                   {"gpu_hours", p.usage.gpu_hours()},
                                   {"busy_gpu_hours", p.usage.busy_hours()},
                                   {"covered_gpu_hours", p.usage.covered_hours()},
                                   {"dense_gpu_hours", p.usage.dense_hours()},
                                   {"density", FigureJson(p.usage.density())},
                                   {"energy_kwh", FigureJson(p.usage.energy_kwh())},
                                   {"energy_flags", p.usage.energy_flags},
                                   {"cost", money(priced, p.total_micros())}});
    }
    return j;
  };
  nlohmann::ordered_json j;
  j["format"] = "gpuledger.export";
  j["version"] = 1;
  j["month"] = r.month_books ? nlohmann::ordered_json(r.month.ToString()) : nlohmann::ordered_json(nullptr);
  if (!r.period.empty()) j["period"] = r.period;
  j["timezone"] = r.timezone;
  j["period_start"] = FormatTime(r.window.start);
  j["period_end"] = FormatTime(r.window.end);
  j["billing_period_start"] = FormatTime(r.month_window.start);
  j["billing_period_end"] = FormatTime(r.month_window.end);
  j["partial"] = r.partial;
  j["as_of"] = FormatTime(r.as_of);
  j["currency"] = r.currency.code;
  j["by"] = GroupByName(r.by);
  j["desensitised"] = names.desensitised();
  j["closed"] = r.closed;
  j["checksum"] = r.closed ? nlohmann::ordered_json(r.close_checksum) : nlohmann::ordered_json(nullptr);
  if (!r.scope.empty()) {
    j["scope"] = r.scope.project.empty() ? nlohmann::ordered_json{{"department", r.scope.department}}
                                         : nlohmann::ordered_json{{"project", r.scope.project}};
  }
  j["lines"] = nlohmann::ordered_json::array();
  for (const Row& row : Rows(r)) j["lines"].push_back(line(row.line_kind, *row.line, row.priced, true));
  nlohmann::ordered_json total = line("", ShownTotal(r), true, false);
  total.erase("by_gpu_model");
  j["total"] = std::move(total);
  j["warnings"] = r.warnings;
  return j.dump(2) + "\n";
}

namespace {

// The monthly workbook's months: the five before the month and the month, oldest first.
constexpr int kWorkbookMonths = 6;

// The workbook of a month, or of a range (its sheets the whole range as one period, then
// the range's periods at its grain).
StatusOr<ExportOutput> BuildWorkbook(Ledger& ledger, const BooksContext& ctx, const ExportRequest& req) {
  if (!req.by.empty()) {
    return InvalidArgument("the workbook has its own sheets (department, project, user): --by " + req.by +
                           " does not apply (leave it out)");
  }
  if (req.xlsx_path.empty()) return InvalidArgument("xlsx is written to a file: give --out FILE");
  std::optional<DateRange> whole;
  if (req.range) {
    ASSIGN_OR_RETURN(whole, MakeDateRange(ctx.tz, req.range->first_day, req.range->last_day, Grain::kRange));
  }
  auto report = [&](GroupBy by) -> StatusOr<MonthlyReport> {
    if (!whole) return BuildMonthlyReport(ledger, ctx, req.month, req.as_of, by, false, req.scope);
    ASSIGN_OR_RETURN(RangeReport rr, BuildRangeReport(ledger, ctx, *whole, req.as_of, by, false, req.scope));
    if (rr.periods.size() != 1)
      return Internal("a range as one period read " + std::to_string(rr.periods.size()));
    return std::move(rr.periods.front());
  };
  WorkbookInput in;
  in.desensitised = req.desensitised;
  ASSIGN_OR_RETURN(in.by_department, report(GroupBy::kDepartment));
  ASSIGN_OR_RETURN(in.by_project, report(GroupBy::kProject));
  if (!req.desensitised) {
    ASSIGN_OR_RETURN(in.by_user, report(GroupBy::kUser));
  }
  if (req.range) {
    in.range =
        WorkbookRange{req.range->first_day, req.range->last_day, std::string(GrainName(req.range->grain))};
    ASSIGN_OR_RETURN(RangeReport rr, BuildRangeReport(ledger, ctx, *req.range, req.as_of,
                                                      GroupBy::kDepartment, false, req.scope));
    for (const MonthlyReport& p : rr.periods) in.history.push_back(TotalsOf(p, p.period));
  } else {
    YearMonth first = req.month;
    for (int i = 1; i < kWorkbookMonths; ++i) first = first.Prev();
    for (YearMonth m = first; m <= req.month; m = m.Next()) {
      auto r = m == req.month
                   ? StatusOr<MonthlyReport>(in.by_department)
                   : BuildMonthlyReport(ledger, ctx, m, req.as_of, GroupBy::kDepartment, false, req.scope);
      // A month the books cannot give (before the retention horizon, or unpriced) is left out.
      if (!r.ok() && (r.status().code() == StatusCode::kNotFound ||
                      r.status().code() == StatusCode::kFailedPrecondition)) {
        continue;
      }
      RETURN_IF_ERROR(r.status());
      in.history.push_back(TotalsOf(*r, m.ToString()));
    }
  }
  RETURN_IF_ERROR(WriteWorkbook(in, req.xlsx_path));
  ExportOutput out;
  out.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  return out;
}

// A range's periods, each exported as a month is (its own rows, its period on each);
// CSV files share one header.
StatusOr<ExportOutput> RangeExport(Ledger& ledger, const BooksContext& ctx, const ExportRequest& req,
                                   const ExportNames& names, ExportOutput out) {
  const bool focus = req.format == "focus";
  ASSIGN_OR_RETURN(RangeReport rr,
                   BuildRangeReport(ledger, ctx, *req.range, req.as_of, out.by, req.share_idle, req.scope));
  std::vector<Job> jobs;
  if (focus) {
    ASSIGN_OR_RETURN(jobs, ledger.ListJobs());
  }
  nlohmann::ordered_json periods = nlohmann::ordered_json::array();
  for (const MonthlyReport& r : rr.periods) {
    std::string body;
    if (focus) {
      // FOCUS: a charge period lies within its billing period (the month).
      if (r.window.Intersect(r.month_window) != r.window) {
        return InvalidArgument("the FOCUS export's charge periods lie within one billing month: period " +
                               r.period + " (" + FormatTime(r.window.start) + " to " +
                               FormatTime(r.window.end) +
                               ") crosses a month's end; use --grain day or month");
      }
      ASSIGN_OR_RETURN(body, RenderFocusCsv(r, jobs, names));
    } else if (req.format == "csv") {
      body = RenderExportCsv(r, names);
    } else {
      periods.push_back(nlohmann::ordered_json::parse(RenderExportJson(r, names)));
      continue;
    }
    const size_t eol = body.find('\n');  // the header: no field of it is quoted
    out.body += out.body.empty() || eol == std::string::npos ? body : body.substr(eol + 1);
  }
  if (req.format == "json") {
    nlohmann::ordered_json j;
    j["format"] = "gpuledger.export.range";
    j["version"] = 1;
    j["from"] = rr.range.first_day;
    j["to"] = rr.range.last_day;
    j["grain"] = GrainName(rr.range.grain);
    j["timezone"] = rr.timezone;
    j["as_of"] = FormatTime(rr.as_of);
    j["partial"] = rr.partial;
    j["currency"] = rr.currency.code;
    j["total_cost"] = FormatMicros(rr.total_micros, rr.currency.minor_digits);
    j["periods"] = std::move(periods);
    out.body = j.dump(2) + "\n";
  }
  return out;
}

}  // namespace

StatusOr<ExportOutput> BuildExport(Ledger& ledger, const BooksContext& ctx, const ExportRequest& req) {
  const bool focus = req.format == "focus";
  if (req.share_idle && (focus || req.format == "xlsx")) {
    return InvalidArgument("share-idle applies to the csv and json exports: the " + req.format +
                           " export is each job's own charge (leave it out)");
  }
  if (req.format == "xlsx") return BuildWorkbook(ledger, ctx, req);
  if (!focus && req.format != "csv" && req.format != "json") {
    return InvalidArgument("export format '" + req.format + "' is not one of csv, json, focus, xlsx");
  }
  ExportOutput out;
  if (focus) {
    if (!req.by.empty() && req.by != "job") {
      return InvalidArgument("the FOCUS export has one row per job and GPU model: --by " + req.by +
                             " does not apply (leave it out)");
    }
    out.by = GroupBy::kJob;
  } else {
    ASSIGN_OR_RETURN(out.by, ParseGroupBy(req.by.empty() ? "department" : req.by));
  }
  std::optional<Pseudonyms> pseudonyms;
  if (req.desensitised) {
    ASSIGN_OR_RETURN(pseudonyms, LoadPseudonyms(ledger));
  }
  const ExportNames names{pseudonyms ? &*pseudonyms : nullptr};
  out.content_type = req.format == "json" ? "application/json" : "text/csv; charset=utf-8";
  if (req.range) return RangeExport(ledger, ctx, req, names, std::move(out));
  ASSIGN_OR_RETURN(MonthlyReport r,
                   BuildMonthlyReport(ledger, ctx, req.month, req.as_of, out.by, req.share_idle, req.scope));
  if (focus) {
    ASSIGN_OR_RETURN(std::vector<Job> jobs, ledger.ListJobs());
    ASSIGN_OR_RETURN(out.body, RenderFocusCsv(r, jobs, names));
  } else if (req.format == "csv") {
    out.body = RenderExportCsv(r, names);
  } else {
    out.body = RenderExportJson(r, names);
  }
  return out;
}

}  // namespace gpuledger
