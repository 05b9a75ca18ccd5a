#include "report/xlsx.h"

#include <xlsxwriter.h>

#include "common/strings.h"

namespace gpuledger {

namespace {

double Money(int64_t micros) { return static_cast<double>(micros) / static_cast<double>(kMicrosPerUnit); }
double Hours(GpuNsSum ns) { return static_cast<double>(ns) / static_cast<double>(kGpuNsPerGpuHour); }

// libxlsxwriter's handles for one workbook; the first write error is kept (a cell write
// only fails on bad arguments or memory, and the file is written by workbook_close).
class Book {
 public:
  Book(const std::string& path, const Currency& c) : wb_(workbook_new(path.c_str())) {
    if (wb_ == nullptr) return;
    bold_ = workbook_add_format(wb_);
    format_set_bold(bold_);
    // "#,##0.00 "CNY"": grouped, the currency's minor digits, the code after the amount.
    std::string digits =
        c.minor_digits > 0 ? "." + std::string(static_cast<size_t>(c.minor_digits), '0') : "";
    const std::string money = "#,##0" + digits + " \"" + c.code + "\"";
    money_ = workbook_add_format(wb_);
    format_set_num_format(money_, money.c_str());
    money_bold_ = workbook_add_format(wb_);
    format_set_num_format(money_bold_, money.c_str());
    format_set_bold(money_bold_);
    pct_ = workbook_add_format(wb_);
    format_set_num_format(pct_, "0.0%");
    hours_ = workbook_add_format(wb_);
    format_set_num_format(hours_, "#,##0.0");
  }
  bool ok() const { return wb_ != nullptr; }
  lxw_workbook* wb() { return wb_; }

  void Text(lxw_worksheet* ws, int row, int col, const std::string& s, lxw_format* f = nullptr) {
    Keep(worksheet_write_string(ws, static_cast<lxw_row_t>(row), static_cast<lxw_col_t>(col), s.c_str(), f));
  }
  void Number(lxw_worksheet* ws, int row, int col, double v, lxw_format* f) {
    Keep(worksheet_write_number(ws, static_cast<lxw_row_t>(row), static_cast<lxw_col_t>(col), v, f));
  }
  // A figure with no data behind it leaves its cell empty, never 0.
  void Figure(lxw_worksheet* ws, int row, int col, std::optional<double> v, lxw_format* f) {
    if (v) Number(ws, row, col, *v, f);
  }
  Status Close() {
    const lxw_error e = workbook_close(wb_);  // frees the workbook whatever it returns
    wb_ = nullptr;
    if (first_error_ != LXW_NO_ERROR) return Internal(std::string("xlsx: ") + lxw_strerror(first_error_));
    if (e != LXW_NO_ERROR)
      return Unavailable(std::string("xlsx: writing the workbook failed: ") + lxw_strerror(e));
    return OkStatus();
  }
  ~Book() {
    if (wb_ != nullptr) (void)workbook_close(wb_);
  }
  Book(const Book&) = delete;
  Book& operator=(const Book&) = delete;

  lxw_format *bold_ = nullptr, *money_ = nullptr, *money_bold_ = nullptr, *pct_ = nullptr, *hours_ = nullptr;

 private:
  void Keep(lxw_error e) {
    if (first_error_ == LXW_NO_ERROR) first_error_ = e;
  }
  lxw_workbook* wb_;
  lxw_error first_error_ = LXW_NO_ERROR;
};

void Header(Book& b, lxw_worksheet* ws, const std::vector<std::string>& head) {
  for (size_t i = 0; i < head.size(); ++i) b.Text(ws, 0, static_cast<int>(i), head[i], b.bold_);
  worksheet_freeze_panes(ws, 1, 0);
}

// A sheet of one report's lines, the unallocated line, unpriced lines and the total, with
// a column chart of the lines' cost.
void LinesSheet(Book& b, const MonthlyReport& r, const char* name) {
  lxw_worksheet* ws = workbook_add_worksheet(b.wb(), name);
  Header(b, ws,
         {std::string(GroupByName(r.by)), "line kind", "jobs", "GPU-hours", "busy GPU-hours", "density",
          "energy kWh", "cost", "share", "previous month", "change", "energy flags"});
  worksheet_set_column(ws, 0, 0, 28, nullptr);
  worksheet_set_column(ws, 1, 11, 14, nullptr);
  int row = 1;
  const int64_t total = r.total.cost_micros;
  auto line = [&](const ReportLine& l, const char* kind, bool priced, lxw_format* money) {
    b.Text(ws, row, 0, l.key);
    b.Text(ws, row, 1, kind);
    b.Number(ws, row, 2, static_cast<double>(l.jobs), nullptr);
    b.Number(ws, row, 3, l.usage.gpu_hours(), b.hours_);
    b.Number(ws, row, 4, l.usage.busy_hours(), b.hours_);
    b.Figure(ws, row, 5, l.usage.density(), b.pct_);
    b.Figure(ws, row, 6, l.usage.energy_kwh(), b.hours_);
    // Intervals whose energy was clamped or skipped (docs/METERING.md, "Energy"); last, so
    // the columns before it keep their places.
    b.Number(ws, row, 11, static_cast<double>(l.usage.energy_flags), nullptr);
    if (priced) {
      b.Number(ws, row, 7, Money(l.total_micros()), money);
      b.Number(ws, row, 8, total ? static_cast<double>(l.total_micros()) / static_cast<double>(total) : 0.0,
               b.pct_);
      if (l.prev_cost_micros) {
        b.Number(ws, row, 9, Money(*l.prev_cost_micros), b.money_);
        if (*l.prev_cost_micros != 0) {
          b.Number(ws, row, 10,
                   static_cast<double>(l.total_micros() - *l.prev_cost_micros) /
                       static_cast<double>(*l.prev_cost_micros),
                   b.pct_);
        }
      }
    }
    ++row;
  };
  for (const ReportLine& l : r.lines) line(l, "usage", true, b.money_);
  const int last_line_row = row - 1;
  if (r.scope.empty()) line(r.unallocated, "unallocated", true, b.money_);
  for (const ReportLine& l : r.unpriced) line(l, "unpriced", false, b.money_);
  line(r.total, "total", true, b.money_bold_);
  if (last_line_row >= 1) {
    lxw_chart* chart = workbook_add_chart(b.wb(), LXW_CHART_COLUMN);
    const std::string title = "Cost by " + std::string(GroupByName(r.by)) + ", " + r.currency.code;
    chart_title_set_name(chart, title.c_str());
    lxw_chart_series* s = chart_add_series(chart, nullptr, nullptr);
    chart_series_set_categories(s, name, 1, 0, static_cast<lxw_row_t>(last_line_row), 0);
    chart_series_set_values(s, name, 1, 7, static_cast<lxw_row_t>(last_line_row), 7);
    chart_series_set_name(s, "cost");
    worksheet_insert_chart(ws, static_cast<lxw_row_t>(row + 1), 0, chart);
  }
}

}  // namespace

PeriodTotals TotalsOf(const MonthlyReport& r, std::string label) {
  PeriodTotals t;
  t.label = std::move(label);
  t.partial = r.partial;
  t.total_micros = r.total.cost_micros;
  t.unallocated_micros = r.unallocated.total_micros();
  t.capacity_ns = r.total.usage.gpu_ns;
  t.density = r.total.usage.density();
  return t;
}

Status WriteWorkbook(const WorkbookInput& in, const std::string& path) {
  const MonthlyReport& r = in.by_department;
  Book b(path, r.currency);
  if (!b.ok()) return Unavailable("xlsx: cannot create '" + path + "'");

  lxw_worksheet* sum = workbook_add_worksheet(b.wb(), "Summary");
  worksheet_set_column(sum, 0, 0, 30, nullptr);
  worksheet_set_column(sum, 1, 1, 26, nullptr);
  int row = 0;
  auto kv = [&](const std::string& k, const std::string& v) {
    b.Text(sum, row, 0, k, b.bold_);
    b.Text(sum, row++, 1, v);
  };
  auto kn = [&](const std::string& k, double v, lxw_format* f) {
    b.Text(sum, row, 0, k, b.bold_);
    b.Number(sum, row++, 1, v, f);
  };
  int64_t allocated = 0;
  for (const ReportLine& l : r.lines) allocated += l.total_micros();
  if (in.range) {
    kv("range", in.range->first_day + " to " + in.range->last_day + " (inclusive)");
    kv("grain", in.range->grain);
  } else {
    kv("month", r.month.ToString());
  }
  kv("time zone", r.timezone);
  kv("period start (UTC)", FormatTime(r.window.start));
  kv("period end (UTC, exclusive)", FormatTime(r.window.end));
  kv("as of", FormatTime(r.as_of));
  kv("partial", !r.partial ? "no"
                : in.range ? "yes: the range is in progress"
                           : "yes: the month is in progress");
  kv("currency", r.currency.code);
  kv("desensitised", in.desensitised ? "yes: no user or job names" : "no");
  kn("total cost", Money(r.total.cost_micros), b.money_bold_);
  kn("allocated cost", Money(allocated), b.money_);
  kn("unallocated cost", Money(r.unallocated.total_micros()), b.money_);
  kn("GPU-hours", r.total.usage.gpu_hours(), b.hours_);
  kn("unallocated GPU-hours", r.unallocated.usage.gpu_hours(), b.hours_);
  kn("jobs", static_cast<double>(r.total.jobs), nullptr);
  b.Text(sum, row, 0, "effective compute density", b.bold_);
  b.Figure(sum, row++, 1, r.total.usage.density(), b.pct_);
  for (const std::string& w : r.warnings) kv("warning", w);

  LinesSheet(b, in.by_department, "By department");
  LinesSheet(b, in.by_project, "By project");
  if (in.by_user) LinesSheet(b, *in.by_user, "By user");

  lxw_worksheet* idle = workbook_add_worksheet(b.wb(), "Idle capacity");
  Header(b, idle,
         {"GPU model", "capacity GPU-hours", "allocated", "unallocated", "held idle (<5 %)", "held, no data",
          "unallocated cost"});
  worksheet_set_column(idle, 0, 6, 18, nullptr);
  row = 1;
  for (const IdleByModel& m : r.idle) {
    b.Text(idle, row, 0, m.gpu_model);
    b.Number(idle, row, 1, Hours(m.capacity_ns), b.hours_);
    b.Number(idle, row, 2, Hours(m.allocated_ns), b.hours_);
    b.Number(idle, row, 3, Hours(m.unallocated_ns), b.hours_);
    b.Number(idle, row, 4, Hours(m.held_idle_ns), b.hours_);
    b.Number(idle, row, 5, Hours(m.held_no_data_ns), b.hours_);
    b.Number(idle, row, 6, Money(m.unallocated_micros), b.money_);
    ++row;
  }
  if (row > 1) {
    lxw_chart* chart = workbook_add_chart(b.wb(), LXW_CHART_BAR_STACKED);
    chart_title_set_name(chart, "Where the GPU-hours went");
    for (int col : {2, 3}) {
      lxw_chart_series* s = chart_add_series(chart, nullptr, nullptr);
      chart_series_set_categories(s, "Idle capacity", 1, 0, static_cast<lxw_row_t>(row - 1), 0);
      chart_series_set_values(s, "Idle capacity", 1, static_cast<lxw_col_t>(col),
                              static_cast<lxw_row_t>(row - 1), static_cast<lxw_col_t>(col));
      chart_series_set_name(s, col == 2 ? "allocated" : "unallocated");
    }
    worksheet_insert_chart(idle, static_cast<lxw_row_t>(row + 1), 0, chart);
  }

  const char* periods = in.range ? "By period" : "Month over month";
  lxw_worksheet* mom = workbook_add_worksheet(b.wb(), periods);
  Header(b, mom,
         {in.range ? "period" : "month", "total cost", "allocated cost", "unallocated cost", "GPU-hours",
          "density", "partial"});
  worksheet_set_column(mom, 0, 0, in.range ? 24 : 16, nullptr);
  worksheet_set_column(mom, 1, 6, 16, nullptr);
  row = 1;
  for (const PeriodTotals& m : in.history) {
    b.Text(mom, row, 0, m.label);
    b.Number(mom, row, 1, Money(m.total_micros), b.money_);
    b.Number(mom, row, 2, Money(m.total_micros - m.unallocated_micros), b.money_);
    b.Number(mom, row, 3, Money(m.unallocated_micros), b.money_);
    b.Number(mom, row, 4, Hours(m.capacity_ns), b.hours_);
    b.Figure(mom, row, 5, m.density, b.pct_);
    b.Text(mom, row, 6, m.partial ? "yes" : "no");
    ++row;
  }
  if (row > 1) {
    lxw_chart* chart = workbook_add_chart(b.wb(), LXW_CHART_COLUMN_STACKED);
    chart_title_set_name(
        chart, (std::string(in.range ? "Cost by period, " : "Cost by month, ") + r.currency.code).c_str());
    for (int col : {2, 3}) {
      lxw_chart_series* s = chart_add_series(chart, nullptr, nullptr);
      chart_series_set_categories(s, periods, 1, 0, static_cast<lxw_row_t>(row - 1), 0);
      chart_series_set_values(s, periods, 1, static_cast<lxw_col_t>(col), static_cast<lxw_row_t>(row - 1),
                              static_cast<lxw_col_t>(col));
      chart_series_set_name(s, col == 2 ? "allocated" : "unallocated");
    }
    worksheet_insert_chart(mom, static_cast<lxw_row_t>(row + 1), 0, chart);
  }
  return b.Close();
}

}  // namespace gpuledger
