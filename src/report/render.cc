#include "report/render.h"

#include <map>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "report/figures.h"

namespace gpuledger {

namespace {

std::string Pct(double ratio) { return FormatFixed(100.0 * ratio, 1) + " %"; }

std::string Change(const std::optional<int64_t>& prev, int64_t cur) {
  if (!prev) return "";
  if (*prev == 0) return cur == 0 ? "0.0 %" : "new";
  const double c = 100.0 * static_cast<double>(cur - *prev) / static_cast<double>(*prev);
  return (c >= 0 ? "+" : "") + FormatFixed(c, 1) + " %";
}

// Width in display columns: UTF-8 lead bytes, with CJK (U+3000..U+DFFF) as two.
size_t DisplayWidth(const std::string& s) {
  size_t cols = 0;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c & 0xC0) != 0x80) cols += c >= 0xE3 && c <= 0xED ? 2 : 1;
  }
  return cols;
}

std::string Pad(const std::string& s, size_t w, bool right) {
  const size_t cols = DisplayWidth(s);
  if (cols >= w) return s;
  return right ? std::string(w - cols, ' ') + s : s + std::string(w - cols, ' ');
}

struct Table {
  std::vector<std::string> head;
  std::vector<bool> right;
  std::vector<std::vector<std::string>> rows;
  std::string Render() const {
    std::vector<size_t> w(head.size());
    auto widen = [&](const std::vector<std::string>& r) {
      for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], DisplayWidth(r[i]));
    };
    widen(head);
    for (const auto& r : rows) widen(r);
    std::string out;
    auto line = [&](const std::vector<std::string>& r) {
      std::string l;
      for (size_t i = 0; i < r.size(); ++i) l += (i ? "  " : "") + Pad(r[i], w[i], right[i]);
      while (!l.empty() && l.back() == ' ') l.pop_back();
      out += l + "\n";
    };
    line(head);
    size_t total = 0;
    for (size_t x : w) total += x + 2;
    out += std::string(total - 2, '-') + "\n";
    for (const auto& r : rows) {
      if (r.empty()) {
        out += std::string(total - 2, '-') + "\n";
      } else {
        line(r);
      }
    }
    return out;
  }
};

// RFC 4180: quote a field that holds a comma, quote or newline.
std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

std::string Hours(GpuNsSum ns) {
  return FormatFixed(static_cast<double>(ns) / static_cast<double>(kGpuNsPerGpuHour), 1);
}

// Held time no sample covers: a line's GPU time minus its covered time.
GpuNsSum NoDataNs(const UsageTotals& u) { return u.gpu_ns > u.covered_ns ? u.gpu_ns - u.covered_ns : 0; }

nlohmann::ordered_json SilentHoldsJson(const std::vector<SilentHold>& holds, bool with_job) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const SilentHold& h : holds) {
    nlohmann::ordered_json e;
    if (with_job) e["job"] = h.job_id;
    e["gpu"] = h.gpu_uuid;
    e["held_since"] = FormatTime(h.held_since);
    e["last_sample"] =
        h.last_sample_ms ? nlohmann::ordered_json(FormatTime(h.last_sample_ms)) : nlohmann::ordered_json();
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

std::string FormatMoneyGrouped(int64_t micros, int digits) {
  int64_t unit = kMicrosPerUnit;
  for (int i = 0; i < digits && unit > 1; ++i) unit /= 10;
  std::string s = FormatMicros(RoundMicros(micros, unit), digits);
  const size_t dot = s.find('.');
  const bool neg = !s.empty() && s[0] == '-';
  std::string whole = s.substr(neg ? 1 : 0, (dot == std::string::npos ? s.size() : dot) - (neg ? 1 : 0));
  int64_t w = 0;
  for (char c : whole) w = w * 10 + (c - '0');
  return (neg ? "-" : "") + FormatGrouped(w) + (dot == std::string::npos ? "" : s.substr(dot));
}

std::string RenderReportTable(const MonthlyReport& r) {
  const int d = r.currency.minor_digits;
  const std::string title =
      r.period.empty() ? "gpuledger monthly report " + r.month.ToString() : "gpuledger report " + r.period;
  const std::string in_progress = r.month_books ? "the month" : "the period";
  std::string out = title + " by " + std::string(GroupByName(r.by)) + " (" + r.timezone + ": " +
                    FormatTime(r.window.start) + " to " + FormatTime(r.window.end) + "), amounts in " +
                    r.currency.code +
                    (r.share_idle ? r.idle_pools == IdlePools::kAcrossModels
                                        ? ", idle cost shared out by cost across GPU models"
                                        : ", idle cost shared out by cost within each GPU model"
                                  : "") +
                    "\n" +
                    (r.partial ? "PARTIAL: " + in_progress + " is in progress; figures are as of " +
                                     FormatTime(r.as_of) + " and open holds end there\n"
                               : "") +
                    (r.closed ? "CLOSED at " + FormatTime(r.closed_ms) + ": the frozen books, checksum " +
                                    r.close_checksum + " (verified)\n"
                              : "") +
                    "\n";
  Table t;
  t.head = {std::string(GroupByName(r.by)),
            "jobs",
            "GPU-h",
            "busy GPU-h",
            "no data GPU-h",
            "density",
            "mean util",
            "energy kWh",
            "cost",
            "share",
            r.month_books ? "vs " + r.month.Prev().ToString() : std::string("vs before")};
  t.right = {false, true, true, true, true, true, true, true, true, true, true};
  const int64_t total = r.total.cost_micros;
  auto row = [&](const ReportLine& l, bool usage_ratios) {
    const int64_t amount = l.total_micros();
    t.rows.push_back({l.key, l.jobs ? std::to_string(l.jobs) : "", Hours(l.usage.gpu_ns),
                      Hours(l.usage.busy_ns), Hours(NoDataNs(l.usage)),
                      usage_ratios ? PctCell(l.usage.density()) : "",
                      usage_ratios ? FigureCell(l.usage.mean_util_pct(), 1, " %") : "",
                      FigureCell(l.usage.energy_kwh(), 1), FormatMoneyGrouped(amount, d),
                      Pct(total ? static_cast<double>(amount) / static_cast<double>(total) : 0),
                      Change(l.prev_cost_micros, amount)});
  };
  for (const ReportLine& l : r.lines) row(l, true);
  row(r.unallocated, false);
  for (const ReportLine& l : r.adjustments) {  // money only: a correction of a closed month
    t.rows.push_back({"(adjustment for " + l.corrects + ") " + l.key, "", "", "", "", "", "", "",
                      FormatMoneyGrouped(l.total_micros(), d), "", ""});
  }
  for (const ReportLine& l : r.unpriced) {  // no price: no cost, share or change to show
    t.rows.push_back({l.key, l.jobs ? std::to_string(l.jobs) : "", Hours(l.usage.gpu_ns),
                      Hours(l.usage.busy_ns), Hours(NoDataNs(l.usage)), "", "",
                      FigureCell(l.usage.energy_kwh(), 1), kNoFigure, "", ""});
  }
  t.rows.emplace_back();
  row(r.total, true);
  out += t.Render();
  // Re-add what the table shows: the lines and the unallocated line must give the total
  // that was rounded from capacity x price on its own.
  int64_t shown = r.unallocated.total_micros();
  for (const ReportLine& l : r.lines) shown += l.total_micros();
  for (const ReportLine& l : r.adjustments) shown += l.total_micros();
  out += "\ncheck: " + std::to_string(r.lines.size()) +
         (r.adjustments.empty() ? " lines"
                                : " lines + " + std::to_string(r.adjustments.size()) + " adjustments") +
         " + unallocated = " + FormatMoneyGrouped(shown, d) + " " + r.currency.code +
         (shown == total ? " = " : " DIFFERS FROM ") + FormatMoneyGrouped(total, d) + " capacity x price\n";
  for (const std::string& w : r.warnings) out += "warning: " + w + "\n";
  if (!r.held_without_samples.empty()) {
    out += "\nheld without samples at " + FormatTime(r.as_of) + " (billed, no sample for the set time)\n";
    Table ht;
    ht.head = {"job", "GPU", "held since", "last sample"};
    ht.right = {false, false, false, false};
    for (const SilentHold& h : r.held_without_samples) {
      ht.rows.push_back({h.job_id, h.gpu_uuid, FormatTime(h.held_since),
                         h.last_sample_ms ? FormatTime(h.last_sample_ms) : "none ever"});
    }
    out += ht.Render();
  }
  if (r.total.paused_ms > 0) {  // shown only when a job was paused in the window
    out += "\npaused (jobs' paused time in the window; GPUs freed: not billed, else billed as held)\n";
    Table pt;
    pt.head = {std::string(GroupByName(r.by)), "paused h", "GPUs freed h"};
    pt.right = {false, true, true};
    auto prow = [&](const ReportLine& l) {
      pt.rows.push_back({l.key, FormatFixed(static_cast<double>(l.paused_ms) / kHourMs, 1),
                         FormatFixed(static_cast<double>(l.paused_freed_ms) / kHourMs, 1)});
    };
    for (const ReportLine& l : r.lines) {
      if (l.paused_ms > 0) prow(l);
    }
    prow(r.total);
    out += pt.Render();
  }
  if (!r.idle.empty()) {
    out += "\nwhere the GPU time went (why GPUs sit idle)\n";
    Table it;
    it.head = {"GPU model",        "capacity GPU-h", "allocated",       "unallocated",
               "held idle (<5 %)", "held, no data",  "unallocated cost"};
    it.right = {false, true, true, true, true, true, true};
    for (const IdleByModel& m : r.idle) {
      auto share = [&](GpuNsSum ns) {
        return Hours(ns) + " (" +
               Pct(m.capacity_ns ? static_cast<double>(ns) / static_cast<double>(m.capacity_ns) : 0) + ")";
      };
      it.rows.push_back({m.gpu_model, Hours(m.capacity_ns), share(m.allocated_ns), share(m.unallocated_ns),
                         share(m.held_idle_ns), share(m.held_no_data_ns),
                         FormatMoneyGrouped(m.unallocated_micros, d)});
    }
    out += it.Render();
  }
  if (r.count_only_jobs > 0) {
    out += "\nnote: " + std::to_string(r.count_only_jobs) +
           " jobs carry only a GPU count (no GPU allocations); they are priced from the count and do not "
           "reduce the unallocated line\n";
  }
  return out;
}

namespace {

// The report's CSV rows, each led by `lead` (a range's period columns), after the header
// when `head` is set (its own leading columns in `lead_head`).
std::string ReportCsv(const MonthlyReport& r, const std::string& lead_head, const std::string& lead,
                      bool head) {
  const int d = r.currency.minor_digits;
  std::string out;
  if (head) {
    out =
        lead_head + std::string(GroupByName(r.by)) +
        ",jobs,gpu_hours,busy_gpu_hours,density,mean_util_pct,energy_kwh,cost,idle_share,"
        "currency,share_of_total,prev_cost,covered_gpu_hours,dense_gpu_hours,as_of,partial,no_data_gpu_hours,"
        "paused_hours,paused_freed_hours\n";
  }
  auto row = [&](const ReportLine& l) {
    const int64_t amount = l.total_micros();
    out +=
        lead + CsvField(l.key) + "," + std::to_string(l.jobs) + "," + FormatFixed(l.usage.gpu_hours(), 6) +
        "," + FormatFixed(l.usage.busy_hours(), 6) + "," + FigureCsv(l.usage.density(), 6) + "," +
        FigureCsv(l.usage.mean_util_pct(), 3) + "," + FigureCsv(l.usage.energy_kwh(), 6) + "," +
        FormatMicros(amount, d) + "," + FormatMicros(l.idle_share_micros, d) + "," + r.currency.code + "," +
        FormatFixed(
            r.total.cost_micros ? static_cast<double>(amount) / static_cast<double>(r.total.cost_micros) : 0,
            6) +
        "," + (l.prev_cost_micros ? FormatMicros(*l.prev_cost_micros, d) : "") + "," +
        FormatFixed(l.usage.covered_hours(), 6) + "," + FormatFixed(l.usage.dense_hours(), 6) + "," +
        FormatTime(r.as_of) + "," + (r.partial ? "true" : "false") + "," +
        FormatFixed(static_cast<double>(NoDataNs(l.usage)) / kGpuNsPerGpuHour, 6) + "," +
        FormatFixed(static_cast<double>(l.paused_ms) / kHourMs, 6) + "," +
        FormatFixed(static_cast<double>(l.paused_freed_ms) / kHourMs, 6) + "\n";
  };
  for (const ReportLine& l : r.lines) row(l);
  row(r.unallocated);
  for (const ReportLine& l : r.adjustments) {  // money only: no usage columns
    out += lead + CsvField("(adjustment for " + l.corrects + ") " + l.key) + ",0,,,,,," +
           FormatMicros(l.total_micros(), d) + "," + FormatMicros(l.idle_share_micros, d) + "," +
           r.currency.code + ",,,,," + FormatTime(r.as_of) + "," + (r.partial ? "true" : "false") + ",,,\n";
  }
  // An unpriced line has GPU-hours and no cost: its cost fields are empty, never 0.
  for (const ReportLine& l : r.unpriced) {
    out += lead + CsvField(l.key) + "," + std::to_string(l.jobs) + "," + FormatFixed(l.usage.gpu_hours(), 6) +
           "," + FormatFixed(l.usage.busy_hours(), 6) + "," + FigureCsv(l.usage.density(), 6) + "," +
           FigureCsv(l.usage.mean_util_pct(), 3) + "," + FigureCsv(l.usage.energy_kwh(), 6) + ",,," +
           r.currency.code + ",,," + FormatFixed(l.usage.covered_hours(), 6) + "," +
           FormatFixed(l.usage.dense_hours(), 6) + "," + FormatTime(r.as_of) + "," +
           (r.partial ? "true" : "false") + "," +
           FormatFixed(static_cast<double>(NoDataNs(l.usage)) / kGpuNsPerGpuHour, 6) + "," +
           FormatFixed(static_cast<double>(l.paused_ms) / kHourMs, 6) + "," +
           FormatFixed(static_cast<double>(l.paused_freed_ms) / kHourMs, 6) + "\n";
  }
  row(ShownTotal(r));
  // Warnings close the file as rows of their own: the key column says what they are.
  for (const std::string& w : r.warnings) out += lead + "(warning)," + CsvField(w) + ",,,,,,,,,,,,,,,,,\n";
  return out;
}

}  // namespace

std::string RenderReportCsv(const MonthlyReport& r) { return ReportCsv(r, "", "", true); }

std::string RenderRangeCsv(const RangeReport& rr) {
  std::string out;
  bool head = true;
  for (const MonthlyReport& r : rr.periods) {
    out += ReportCsv(
        r, "period,period_start,period_end,",
        CsvField(r.period) + "," + FormatTime(r.window.start) + "," + FormatTime(r.window.end) + ",", head);
    head = false;
  }
  return out;
}

std::string RenderRangeTable(const RangeReport& rr) {
  const int d = rr.currency.minor_digits;
  std::string out = "gpuledger report " + rr.range.first_day + " to " + rr.range.last_day + " by " +
                    std::string(GroupByName(rr.by)) + ", " + std::to_string(rr.periods.size()) + " " +
                    std::string(GrainName(rr.range.grain)) + " period(s) (" + rr.timezone + "), amounts in " +
                    rr.currency.code + "\n" +
                    (rr.partial ? "PARTIAL: the range is in progress; figures are as of " +
                                      FormatTime(rr.as_of) + " and periods after it are left out\n"
                                : "") +
                    "\n";
  Table t;
  t.head = {"period", "start", "end", "GPU-h", "busy GPU-h", "density", "cost"};
  t.right = {false, false, false, true, true, true, true};
  for (const MonthlyReport& r : rr.periods) {
    t.rows.push_back({r.period + (r.partial ? " (partial)" : ""), FormatTime(r.window.start),
                      FormatTime(r.window.end), Hours(r.total.usage.gpu_ns), Hours(r.total.usage.busy_ns),
                      PctCell(r.total.usage.density()), FormatMoneyGrouped(r.total.cost_micros, d)});
  }
  t.rows.emplace_back();
  t.rows.push_back({"total", FormatTime(rr.range.window.start),
                    FormatTime(rr.periods.empty() ? rr.range.window.start : rr.periods.back().window.end),
                    Hours(rr.usage.gpu_ns), Hours(rr.usage.busy_ns), PctCell(rr.usage.density()),
                    FormatMoneyGrouped(rr.total_micros, d)});
  out += t.Render();
  out += "\neach period is priced on its own and rounded to the " + std::string(d ? "minor unit" : "unit") +
         "; the total is their sum\n";
  for (const MonthlyReport& r : rr.periods) out += "\n" + RenderReportTable(r);
  return out;
}

std::string RenderRangeJson(const RangeReport& rr) {
  nlohmann::ordered_json j;
  j["from"] = rr.range.first_day;
  j["to"] = rr.range.last_day;
  j["grain"] = GrainName(rr.range.grain);
  j["timezone"] = rr.timezone;
  j["window"] = {{"start", FormatTime(rr.range.window.start)}, {"end", FormatTime(rr.range.window.end)}};
  j["as_of"] = FormatTime(rr.as_of);
  j["partial"] = rr.partial;
  j["currency"] = rr.currency.code;
  j["by"] = GroupByName(rr.by);
  j["periods"] = nlohmann::ordered_json::array();
  for (const MonthlyReport& r : rr.periods)
    j["periods"].push_back(nlohmann::ordered_json::parse(RenderReportJson(r)));
  j["total"] = {{"gpu_hours", rr.usage.gpu_hours()},
                {"busy_gpu_hours", rr.usage.busy_hours()},
                {"covered_gpu_hours", rr.usage.covered_hours()},
                {"dense_gpu_hours", rr.usage.dense_hours()},
                {"density", FigureJson(rr.usage.density())},
                {"cost", FormatMicros(rr.total_micros, rr.currency.minor_digits)}};
  return j.dump(2) + "\n";
}

std::string RenderReportJson(const MonthlyReport& r) {
  const int d = r.currency.minor_digits;
  auto line = [&](const ReportLine& l) {
    nlohmann::ordered_json j;
    j["key"] = l.key;
    j["jobs"] = l.jobs;
    j["gpu_hours"] = l.usage.gpu_hours();
    j["busy_gpu_hours"] = l.usage.busy_hours();
    j["covered_gpu_hours"] = l.usage.covered_hours();
    j["dense_gpu_hours"] = l.usage.dense_hours();
    j["no_data_gpu_hours"] = static_cast<double>(NoDataNs(l.usage)) / kGpuNsPerGpuHour;
    j["paused_hours"] = static_cast<double>(l.paused_ms) / kHourMs;
    j["paused_freed_hours"] = static_cast<double>(l.paused_freed_ms) / kHourMs;
    j["density"] = FigureJson(l.usage.density());
    j["density_of_allocated"] = FigureJson(l.usage.density_allocated());
    j["mean_util_pct"] = FigureJson(l.usage.mean_util_pct());
    j["energy_kwh"] = FigureJson(l.usage.energy_kwh());
    j["energy_flags"] = l.usage.energy_flags;  // docs/METERING.md, "Energy"
    j["phases_gpu_hours"] = {{"loading", static_cast<double>(l.usage.loading_ns) / kGpuNsPerGpuHour},
                             {"steady", static_cast<double>(l.usage.steady_ns) / kGpuNsPerGpuHour},
                             {"tail", static_cast<double>(l.usage.tail_ns) / kGpuNsPerGpuHour},
                             {"idle", static_cast<double>(l.usage.idle_ns) / kGpuNsPerGpuHour}};
    j["cost"] = FormatMicros(l.total_micros(), d);
    j["direct_cost"] = FormatMicros(l.cost_micros, d);
    j["idle_share"] = FormatMicros(l.idle_share_micros, d);
    j["share_of_total"] =
        r.total.cost_micros ? static_cast<double>(l.total_micros()) / static_cast<double>(r.total.cost_micros)
                            : 0.0;
    if (l.prev_cost_micros) j["prev_cost"] = FormatMicros(*l.prev_cost_micros, d);
    return j;
  };
  nlohmann::ordered_json j;
  if (!r.period.empty()) j["period"] = r.period;
  // A period that is not one whole month has no month of its own (nor a month before).
  j["month"] = r.month_books ? nlohmann::ordered_json(r.month.ToString()) : nlohmann::ordered_json(nullptr);
  j["timezone"] = r.timezone;
  j["window"] = {{"start", FormatTime(r.window.start)}, {"end", FormatTime(r.window.end)}};
  j["as_of"] = FormatTime(r.as_of);
  j["partial"] = r.partial;
  j["currency"] = r.currency.code;
  j["by"] = GroupByName(r.by);
  j["share_idle"] = r.share_idle;
  if (r.share_idle)
    j["idle_pools"] = r.idle_pools == IdlePools::kAcrossModels ? "across_gpu_models" : "per_gpu_model";
  if (!r.scope.empty()) {
    j["scope"] = r.scope.project.empty() ? nlohmann::ordered_json{{"department", r.scope.department}}
                                         : nlohmann::ordered_json{{"project", r.scope.project}};
  }
  j["lines"] = nlohmann::ordered_json::array();
  for (const ReportLine& l : r.lines) j["lines"].push_back(line(l));
  if (r.scope.empty()) j["unallocated"] = line(r.unallocated);
  if (!r.unpriced.empty()) {
    j["unpriced"] = nlohmann::ordered_json::array();
    for (const ReportLine& l : r.unpriced) {
      nlohmann::ordered_json u = line(l);
      for (const char* k : {"cost", "direct_cost", "idle_share", "share_of_total"}) u[k] = nullptr;
      j["unpriced"].push_back(std::move(u));
    }
  }
  if (!r.adjustments.empty()) {
    j["adjustments"] = nlohmann::ordered_json::array();
    for (const ReportLine& l : r.adjustments) {
      j["adjustments"].push_back(
          {{"corrects_month", l.corrects}, {"key", l.key}, {"cost", FormatMicros(l.total_micros(), d)}});
    }
  }
  if (r.closed) {
    j["closed"] = true;
    j["closed_at"] = FormatTime(r.closed_ms);
    j["checksum"] = r.close_checksum;
  }
  j["total"] = line(ShownTotal(r));  // direct cost and idle share as the lines split them
  if (!r.warnings.empty()) j["warnings"] = r.warnings;
  if (r.scope.empty()) {
    j["idle_by_gpu_model"] = nlohmann::ordered_json::array();
    for (const IdleByModel& m : r.idle) {
      j["idle_by_gpu_model"].push_back(
          {{"gpu_model", m.gpu_model},
           {"capacity_gpu_hours", static_cast<double>(m.capacity_ns) / kGpuNsPerGpuHour},
           {"allocated_gpu_hours", static_cast<double>(m.allocated_ns) / kGpuNsPerGpuHour},
           {"unallocated_gpu_hours", static_cast<double>(m.unallocated_ns) / kGpuNsPerGpuHour},
           {"held_idle_gpu_hours", static_cast<double>(m.held_idle_ns) / kGpuNsPerGpuHour},
           {"held_no_data_gpu_hours", static_cast<double>(m.held_no_data_ns) / kGpuNsPerGpuHour},
           {"unallocated_cost", FormatMicros(m.unallocated_micros, d)}});
    }
    j["idle_by_gpu"] = nlohmann::ordered_json::array();
    for (const IdleByModel& g : r.idle_by_gpu) {
      j["idle_by_gpu"].push_back(
          {{"gpu", g.gpu_uuid},
           {"gpu_model", g.gpu_model},
           {"capacity_gpu_hours", static_cast<double>(g.capacity_ns) / kGpuNsPerGpuHour},
           {"allocated_gpu_hours", static_cast<double>(g.allocated_ns) / kGpuNsPerGpuHour},
           {"unallocated_gpu_hours", static_cast<double>(g.unallocated_ns) / kGpuNsPerGpuHour},
           {"held_idle_gpu_hours", static_cast<double>(g.held_idle_ns) / kGpuNsPerGpuHour},
           {"held_no_data_gpu_hours", static_cast<double>(g.held_no_data_ns) / kGpuNsPerGpuHour}});
    }
    j["idle_by_gpu_omitted"] = r.idle_by_gpu_omitted;
  }
  if (r.partial) j["held_without_samples"] = SilentHoldsJson(r.held_without_samples, true);
  j["count_only_jobs"] = r.count_only_jobs;
  return j.dump(2) + "\n";
}

namespace {

// Wall-clock hours of a job past its duration limit, within the report's window.
double OverLimitHours(const MonthlyReport& r, const Job* j) {
  if (j == nullptr || j->duration_limit_ms == 0 || j->start_ms == 0) return 0.0;
  const Window over =
      Window{j->start_ms + j->duration_limit_ms, j->end_ms ? j->end_ms : r.window.end}.Intersect(r.window);
  return static_cast<double>(over.length()) / static_cast<double>(kHourMs);
}

// `jobs --format csv|json` for machines: snake_case keys, fractions 0..1, numbers as
// numbers, money as exact decimal strings; the period and partial/as_of on every CSV row.
std::string RenderJobsData(const MonthlyReport& r, const std::map<std::string, const Job*>& by_id,
                           const std::string& format) {
  const int d = r.currency.minor_digits;
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const ReportLine& l : r.lines) {
    auto it = by_id.find(l.key);
    const Job* j = it == by_id.end() ? nullptr : it->second;
    const UsageTotals& u = l.usage;
    nlohmann::ordered_json o;
    o["job"] = l.key;
    o["user"] = j ? j->user : "";
    o["project"] = j ? j->project : "";
    o["department"] = j ? j->department : "";
    o["model"] = j ? j->model_type : "";
    o["status"] = j ? std::string(JobStatusName(j->status)) : "";
    o["gpu_hours"] = u.gpu_hours();
    o["busy_gpu_hours"] = u.busy_hours();
    o["covered_gpu_hours"] = u.covered_hours();
    o["dense_gpu_hours"] = u.dense_hours();
    o["density"] = FigureJson(u.density());
    o["mean_utilisation"] = FigureJson(Scaled(u.mean_util_pct(), 0.01));
    o["peak_mem_gib"] = FigureJson(u.peak_mem_gib());
    o["energy_kwh"] = FigureJson(u.energy_kwh());
    o["phase_loading"] = FigureJson(u.phase_share(u.loading_ns));
    o["phase_steady"] = FigureJson(u.phase_share(u.steady_ns));
    o["phase_tail"] = FigureJson(u.phase_share(u.tail_ns));
    o["phase_idle"] = FigureJson(u.phase_share(u.idle_ns));
    o["over_limit_hours"] = OverLimitHours(r, j);
    o["cost"] = FormatMicros(l.total_micros(), d);
    arr.push_back(std::move(o));
  }
  if (format == "json") {
    nlohmann::ordered_json j = {{"month", r.month.ToString()},
                                {"period_start", FormatTime(r.window.start)},
                                {"period_end", FormatTime(r.window.end)},
                                {"as_of", FormatTime(r.as_of)},
                                {"partial", r.partial},
                                {"currency", r.currency.code},
                                {"jobs", arr}};
    j["warnings"] = r.warnings;  // unpriced usage is in no job's row
    return j.dump(2) + "\n";
  }
  static const char* kHead =
      "job,user,project,department,model,status,gpu_hours,density,mean_utilisation,peak_mem_gib,energy_kwh,"
      "phase_loading,phase_steady,phase_tail,phase_idle,over_limit_hours,cost,currency,period_start,"
      "period_end,as_of,partial,busy_gpu_hours,covered_gpu_hours,dense_gpu_hours\n";
  std::string out = kHead;
  const std::string period = "," + r.currency.code + "," + FormatTime(r.window.start) + "," +
                             FormatTime(r.window.end) + "," + FormatTime(r.as_of) + "," +
                             (r.partial ? "true" : "false");
  for (const auto& o : arr) {
    std::string row;
    for (const char* k : {"job", "user", "project", "department", "model", "status"})
      row += (row.empty() ? "" : ",") + CsvField(o[k].get<std::string>());
    for (const char* k : {"gpu_hours", "density", "mean_utilisation", "peak_mem_gib", "energy_kwh",
                          "phase_loading", "phase_steady", "phase_tail", "phase_idle", "over_limit_hours"})
      row += "," + (o[k].is_null() ? std::string() : FormatFixed(o[k].get<double>(), 6));
    out += row + "," + o["cost"].get<std::string>() + period;
    for (const char* k : {"busy_gpu_hours", "covered_gpu_hours", "dense_gpu_hours"})
      out += "," + FormatFixed(o[k].get<double>(), 6);
    out += "\n";
  }
  return out;
}

}  // namespace

std::string RenderJobs(const MonthlyReport& r, const std::vector<Job>& jobs, const std::string& format) {
  const int d = r.currency.minor_digits;
  std::map<std::string, const Job*> by_id;
  for (const Job& j : jobs) by_id[j.id] = &j;
  if (format == "json" || format == "csv") return RenderJobsData(r, by_id, format);
  std::vector<std::string> head = {"job",     "user",      "project",      "model",      "status",  "GPU-h",
                                   "density", "mean util", "peak GiB",     "energy kWh", "loading", "steady",
                                   "tail",    "idle",      "over limit h", "cost"};
  std::vector<std::vector<std::string>> rows;
  for (const ReportLine& l : r.lines) {
    auto it = by_id.find(l.key);
    const Job* j = it == by_id.end() ? nullptr : it->second;
    const UsageTotals& u = l.usage;
    auto phase = [&](GpuNsSum ns) { return PctCell(u.phase_share(ns)); };
    rows.push_back({l.key, j ? j->user : "", j ? j->project : "", j ? j->model_type : "",
                    j ? std::string(JobStatusName(j->status)) : "", FormatFixed(u.gpu_hours(), 2),
                    PctCell(u.density()), FigureCell(u.mean_util_pct(), 1, " %"),
                    FigureCell(u.peak_mem_gib(), 1), FigureCell(u.energy_kwh(), 2), phase(u.loading_ns),
                    phase(u.steady_ns), phase(u.tail_ns), phase(u.idle_ns),
                    FormatFixed(OverLimitHours(r, j), 1), FormatMicros(l.total_micros(), d)});
  }
  Table t;
  t.head = head;
  t.right = std::vector<bool>(head.size(), true);
  for (size_t i = 0; i < 5; ++i) t.right[i] = false;
  t.rows = std::move(rows);
  std::string warnings;
  for (const std::string& w : r.warnings) warnings += "warning: " + w + "\n";
  return "jobs of " + r.month.ToString() + " (" + r.timezone + "), amounts in " + r.currency.code +
         "; phases as shares of sampled time\n" +
         (r.partial ? "PARTIAL: the month is in progress; figures are as of " + FormatTime(r.as_of) + "\n"
                    : "") +
         "\n" + t.Render() + (warnings.empty() ? "" : "\n" + warnings);
}

std::string RenderMinutes(const std::string& gpu_uuid, const std::vector<MinuteRollup>& rows, TimeMs as_of,
                          bool partial, const std::string& format) {
  auto opt = [](float v, int digits) { return v < 0 ? std::string() : FormatFixed(v, digits); };
  if (format == "json") {
    nlohmann::ordered_json arr = nlohmann::ordered_json::array();
    for (const MinuteRollup& m : rows) {
      nlohmann::ordered_json o = {{"minute", FormatTime(m.minute_ms)},
                                  {"samples", m.samples},
                                  {"util_mean_pct", m.util_mean_pct},
                                  {"util_max_pct", m.util_max_pct}};
      if (m.mem_max_mib >= 0) o["mem_max_mib"] = m.mem_max_mib;
      if (m.power_mean_w >= 0) o["power_mean_w"] = m.power_mean_w;
      arr.push_back(o);
    }
    return nlohmann::ordered_json{
               {"gpu", gpu_uuid}, {"as_of", FormatTime(as_of)}, {"partial", partial}, {"minutes", arr}}
               .dump(2) +
           "\n";
  }
  const std::string tail = "," + FormatTime(as_of) + (partial ? ",true\n" : ",false\n");
  std::string out = "minute,samples,util_mean_pct,util_max_pct,mem_max_mib,power_mean_w,as_of,partial\n";
  for (const MinuteRollup& m : rows) {
    out += FormatTime(m.minute_ms) + "," + std::to_string(m.samples) + "," + FormatFixed(m.util_mean_pct, 2) +
           "," + FormatFixed(m.util_max_pct, 1) + "," + opt(m.mem_max_mib, 0) + "," + opt(m.power_mean_w, 1) +
           tail;
  }
  return out;
}

std::string RenderJobSummaryJson(const JobSummary& s) {
  const Job& j = s.job;
  const UsageTotals& u = s.usage;
  auto hours = [](GpuNsSum ns) { return static_cast<double>(ns) / static_cast<double>(kGpuNsPerGpuHour); };
  // No reading of the job's own or its GPUs' memory: no peak.
  const nlohmann::ordered_json peak_gib =
      s.mem_source == MemorySource::kNone
          ? nlohmann::ordered_json()
          : nlohmann::ordered_json(static_cast<double>(u.peak_mem_mib) / 1024.0);
  nlohmann::ordered_json out = {{"id", j.id},
                                {"as_of", FormatTime(s.as_of)},
                                {"partial", s.partial},
                                {"user", j.user},
                                {"project", j.project},
                                {"department", j.department},
                                {"model_type", j.model_type},
                                {"image", j.image()},
                                {"image_digest", j.image_digest},
                                {"framework", j.framework},
                                {"status", std::string(JobStatusName(j.status))},
                                {"start", j.start_ms ? FormatTime(j.start_ms) : ""},
                                {"end", j.end_ms ? FormatTime(j.end_ms) : ""},
                                {"gpu_hours", u.gpu_hours()},
                                {"busy_gpu_hours", u.busy_hours()},
                                {"covered_gpu_hours", hours(u.covered_ns)},
                                {"dense_gpu_hours", hours(u.dense_ns)},
                                {"density", FigureJson(u.density())},
                                {"density_of_allocated", FigureJson(u.density_allocated())},
                                {"mean_util_pct", FigureJson(u.mean_util_pct())},
                                {"peak_mem_gib", peak_gib},
                                {"peak_mem_source", std::string(MemorySourceName(s.mem_source))},
                                {"energy_kwh", FigureJson(u.energy_kwh())},
                                {"energy_flags", u.energy_flags},
                                {"phases_gpu_hours",
                                 {{"loading", hours(u.loading_ns)},
                                  {"steady", hours(u.steady_ns)},
                                  {"tail", hours(u.tail_ns)},
                                  {"idle", hours(u.idle_ns)}}},
                                {"cost", FormatMicros(s.cost_micros, s.currency.minor_digits)},
                                {"currency", s.currency.code},
                                {"epochs_done", s.epochs_done},
                                // Paused time (docs/POLICIES.md): billed while the GPUs stay held,
                                // not once freed.
                                {"paused_hours", static_cast<double>(s.paused_ms) / kHourMs},
                                {"paused_freed_hours", static_cast<double>(s.paused_freed_ms) / kHourMs}};
  if (s.best_map50) out["best_map50"] = *s.best_map50;
  out["held_without_samples"] = SilentHoldsJson(s.silent_holds, false);
  return out.dump(2) + "\n";
}

std::string RenderLeaderboardTable(const Leaderboard& lb) {
  const int d = lb.currency.minor_digits;
  std::string out =
      "cost-effectiveness leaderboard" +
      (lb.month ? " " + lb.month->ToString() : std::string(", all months")) + " (amounts in " +
      lb.currency.code + "), as of " + FormatTime(lb.as_of) + "\n" +
      (lb.partial ? lb.month ? "PARTIAL: the month is in progress; runs that end later join it\n"
                             : "PARTIAL: all months to date; runs that end later join it\n"
                  : "") +
      "\n";
  Table t;
  t.head = {"model configuration", "runs",    "mAP@0.5",      "training h",        "typical GiB", "peak GiB",
            "memory of",           "density", "cost per run", "cost per mAP point"};
  t.right = {false, true, true, true, true, true, false, true, true, true};
  bool whole_gpu = false;
  for (const LeaderboardRow& r : lb.rows) {
    const bool known = !r.mem_source.empty();
    whole_gpu = whole_gpu || r.mem_source == "gpu" || r.mem_source == "mixed";
    t.rows.push_back({r.config, std::to_string(r.runs), FormatFixed(r.map50_pts, 1),
                      FormatFixed(r.train_hours, 1), known ? FormatFixed(r.typical_mem_gib, 1) : "—",
                      known ? FormatFixed(r.peak_mem_gib, 1) : "—", known ? r.mem_source : "—",
                      PctCell(r.density), FormatMoneyGrouped(r.cost_per_run_micros, d),
                      FormatMicros(r.cost_per_map_point_micros, d)});
  }
  out += t.Render();
  out +=
      "\ntypical: the median of the runs' peaks. memory of process: the runs' own processes (the agent's\n"
      "per-process figures); gpu: the whole GPU (dcgm-exporter), which on a shared GPU counts its other jobs "
      "too.\n";
  if (whole_gpu) out += "Rows marked gpu or mixed may overstate a shared GPU's runs.\n";
  return out;
}

std::string RenderLeaderboardJson(const Leaderboard& lb) {
  const int d = lb.currency.minor_digits;
  nlohmann::ordered_json j;
  j["currency"] = lb.currency.code;
  if (lb.month) j["month"] = lb.month->ToString();
  j["as_of"] = FormatTime(lb.as_of);
  j["partial"] = lb.partial;
  j["rows"] = nlohmann::ordered_json::array();
  for (const LeaderboardRow& r : lb.rows) {
    j["rows"].push_back(
        {{"config", r.config},
         {"runs", r.runs},
         {"map50", r.map50_pts},
         {"training_hours", r.train_hours},
         {"peak_mem_gib",
          r.mem_source.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.peak_mem_gib)},
         {"typical_mem_gib",
          r.mem_source.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.typical_mem_gib)},
         {"mem_source",
          r.mem_source.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(r.mem_source)},
         {"busy_gpu_hours", r.busy_gpu_hours},
         {"covered_gpu_hours", r.covered_gpu_hours},
         {"dense_gpu_hours", r.dense_gpu_hours},
         {"density", FigureJson(r.density)},
         {"cost_per_run", FormatMicros(r.cost_per_run_micros, d)},
         {"cost_per_map_point", FormatMicros(r.cost_per_map_point_micros, d)}});
  }
  return j.dump(2) + "\n";
}

}  // namespace gpuledger
