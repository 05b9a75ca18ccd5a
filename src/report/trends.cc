#include "report/trends.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/money.h"

namespace gpuledger {

std::string ModelSize(std::string_view m) {
  if (m.rfind("yolo", 0) != 0) return "other";
  size_t i = 4;
  if (i < m.size() && (m[i] == 'v' || m[i] == 'V')) ++i;
  const size_t digits = i;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') ++i;
  if (i == digits || i >= m.size()) return "other";
  const char c = m[i];
  const bool ends = i + 1 == m.size() || m[i + 1] == '-' || m[i + 1] == '.' || m[i + 1] == '_';
  if (ends && std::string_view("nsmlx").find(c) != std::string_view::npos) return std::string(1, c);
  return "other";
}

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::optional<std::string> Label(const Job& j, const char* k) {
  auto it = j.labels.find(k);
  if (it == j.labels.end() || it->second.empty()) return std::nullopt;
  return Lower(it->second);
}

}  // namespace

std::string StartedFrom(const Job& j) {
  if (auto v = Label(j, "restart_from")) {
    if (*v == "scratch") return "scratch";
    if (*v == "shared-checkpoint" || *v == "shared_checkpoint" || *v == "checkpoint")
      return "shared_checkpoint";
  }
  if (auto v = Label(j, "resume"); v && *v != "false" && *v != "0") return "resumed";
  if (auto v = Label(j, "pretrained")) {
    return *v == "false" || *v == "0" || *v == "none" ? "scratch" : "shared_checkpoint";
  }
  if (auto v = Label(j, "model")) {
    if (EndsWith(*v, ".pt")) return "shared_checkpoint";
    if (EndsWith(*v, ".yaml") || EndsWith(*v, ".yml")) return "scratch";
  }
  return "unknown";
}

StatusOr<Trends> BuildTrends(Ledger& ledger, const BooksContext& ctx, const TrendsOptions& o, TimeMs as_of) {
  if (o.from && o.to && *o.to < *o.from) {
    return InvalidArgument("trends from " + o.from->ToString() + " to " + o.to->ToString() +
                           ": the end is before the start");
  }
  Trends t;
  t.scope = o.scope;
  t.as_of = as_of;
  t.currency = ctx.prices.currency();
  t.from = o.from;
  t.to = o.to;
  t.partial = true;
  if (o.to) {
    ASSIGN_OR_RETURN(Window last, ctx.tz.MonthWindow(*o.to));
    t.partial = as_of < last.end;
  }
  ASSIGN_OR_RETURN(std::vector<Job> all, ledger.ListJobs());
  std::vector<Job> jobs;
  std::vector<YearMonth> started;
  for (Job& j : all) {
    if (j.start_ms == 0 || j.start_ms >= as_of) continue;
    if (!o.scope.project.empty() && j.project != o.scope.project) continue;
    if (!o.scope.department.empty() && j.department != o.scope.department) continue;
    if (!o.project.empty() && j.project != o.project) continue;
    ASSIGN_OR_RETURN(YearMonth m, ctx.tz.MonthOf(j.start_ms));
    if ((o.from && m < *o.from) || (o.to && *o.to < m)) continue;
    jobs.push_back(std::move(j));
    started.push_back(m);
  }
  ASSIGN_OR_RETURN(auto costs, BuildJobCosts(ledger, ctx, jobs, as_of));
  const int64_t unit = t.currency.micros_per_minor();
  std::map<std::string, std::map<YearMonth, ProjectMonthTrend>> acc;
  std::map<std::string, std::string> dept;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Job& j = jobs[i];
    auto jc = costs.find(j.id);
    const int64_t cost = jc == costs.end() ? 0 : jc->second.cost_micros;
    ProjectMonthTrend& pm = acc[j.project][started[i]];
    pm.month = started[i];
    dept[j.project] = j.department;
    ++pm.runs;
    pm.cost_micros += cost;
    TrendCell& s = pm.by_size[ModelSize(j.model_type)];
    ++s.runs;
    s.cost_micros += cost;
    TrendCell& f = pm.by_start[StartedFrom(j)];
    ++f.runs;
    f.cost_micros += cost;
    const TimeMs until = std::min(j.end_ms ? j.end_ms : as_of, as_of);
    if (until - j.start_ms > kLongJobMs) {
      ++pm.long_runs;
      pm.long_cost_micros += cost;
    }
  }
  for (auto& [project, months] : acc) {
    ProjectTrend pt;
    pt.project = project;
    pt.department = dept[project];
    for (auto& [m, pm] : months) {
      for (auto* cells : {&pm.by_size, &pm.by_start}) {
        for (auto& [k, c] : *cells) {
          // cost / runs rounded to the unit in one step, half away from zero
          const int64_t d = c.runs * unit, n = c.cost_micros < 0 ? -c.cost_micros : c.cost_micros;
          const int64_t q = (2 * n + d) / (2 * d) * unit;
          c.cost_per_run_micros = c.cost_micros < 0 ? -q : q;
        }
      }
      pm.long_share = static_cast<double>(pm.long_runs) / pm.runs;
      pm.long_cost_share =
          pm.cost_micros > 0 ? static_cast<double>(pm.long_cost_micros) / static_cast<double>(pm.cost_micros)
                             : 0.0;
      pt.months.push_back(pm);
    }
    if (pt.months.size() > 1)
      pt.long_share_trend = pt.months.back().long_share - pt.months.front().long_share;
    t.projects.push_back(std::move(pt));
  }
  return t;
}

namespace {

using J = nlohmann::ordered_json;

J Cells(const std::map<std::string, TrendCell>& cells, int d) {
  J o = J::object();
  for (const auto& [k, c] : cells) {
    o[k] = {{"runs", c.runs},
            {"cost", FormatMicros(c.cost_micros, d)},
            {"cost_per_run", FormatMicros(c.cost_per_run_micros, d)}};
  }
  return o;
}

}  // namespace

std::string RenderTrendsJson(const Trends& t) {
  const int d = t.currency.minor_digits;
  J j;
  j["currency"] = t.currency.code;
  j["from"] = t.from ? J(t.from->ToString()) : J();
  j["to"] = t.to ? J(t.to->ToString()) : J();
  j["as_of"] = FormatTime(t.as_of);
  j["partial"] = t.partial;
  j["long_job_hours"] = kLongJobMs / kHourMs;
  j["projects"] = J::array();
  for (const ProjectTrend& p : t.projects) {
    J months = J::array();
    for (const ProjectMonthTrend& m : p.months) {
      months.push_back({{"month", m.month.ToString()},
                        {"runs", m.runs},
                        {"cost", FormatMicros(m.cost_micros, d)},
                        {"by_model_size", Cells(m.by_size, d)},
                        {"long_runs", m.long_runs},
                        {"long_cost", FormatMicros(m.long_cost_micros, d)},
                        {"long_share", m.long_share},
                        {"long_cost_share", m.long_cost_share},
                        {"by_start", Cells(m.by_start, d)}});
    }
    j["projects"].push_back({{"project", p.project},
                             {"department", p.department},
                             {"long_share_trend", p.long_share_trend},
                             {"months", months}});
  }
  return j.dump(2) + "\n";
}

std::string RenderTrendsTable(const Trends& t) {
  std::ostringstream o;
  o.imbue(std::locale::classic());
  o.setf(std::ios::fixed);
  o.precision(1);
  const int d = t.currency.minor_digits;
  for (const ProjectTrend& p : t.projects) {
    o << p.project << " (" << p.department << ")\n";
    for (const ProjectMonthTrend& m : p.months) {
      o << "  " << m.month.ToString() << "  runs " << m.runs << "  cost " << FormatMicros(m.cost_micros, d)
        << " " << t.currency.code << "\n    by size:";
      for (const auto& [k, c] : m.by_size)
        o << " " << k << " " << c.runs << " x " << FormatMicros(c.cost_per_run_micros, d);
      o << "\n    over 72 h: " << m.long_runs << " (" << 100 * m.long_share << " % of runs, "
        << 100 * m.long_cost_share << " % of cost)\n    started from:";
      for (const auto& [k, c] : m.by_start)
        o << " " << k << " " << c.runs << " x " << FormatMicros(c.cost_per_run_micros, d);
      o << "\n";
    }
    o << "  long-run share trend " << (p.long_share_trend >= 0 ? "+" : "") << 100 * p.long_share_trend
      << " points\n";
  }
  return o.str();
}

}  // namespace gpuledger
