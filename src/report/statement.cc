#include "report/statement.h"

#include <algorithm>
#include <iomanip>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/money.h"
#include "report/figures.h"

namespace gpuledger {

std::vector<std::string> ProjectDepartments(const std::vector<Job>& jobs, const std::string& project) {
  std::vector<std::string> out;
  for (const Job& j : jobs) {
    if (j.project == project) out.push_back(j.department);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

StatusOr<ProjectStatement> BuildProjectStatement(Ledger& ledger, const BooksContext& ctx, YearMonth month,
                                                 TimeMs as_of, const std::string& project) {
  if (project.empty()) return InvalidArgument("a statement needs a project");
  ASSIGN_OR_RETURN(MonthlyReport cluster,
                   BuildMonthlyReport(ledger, ctx, month, as_of, GroupBy::kProject, false));
  ProjectStatement s;
  s.month = month;
  s.project = project;
  s.currency = cluster.currency;
  s.as_of = as_of;
  s.partial = cluster.partial;
  s.closed = cluster.closed;
  int rank = 0;
  for (const ReportLine& l : cluster.lines) {
    if (l.total_micros() <= 0 && l.usage.gpu_ns == 0) continue;
    ++s.projects;
    ++rank;
    if (l.key == project) {
      s.rank = rank;
      s.prev_cost_micros = l.prev_cost_micros;
    }
  }
  if (s.rank == 0) {
    return NotFound("project '" + project + "' has no usage in " + month.ToString() + " (" +
                    std::to_string(s.projects) + " projects have)");
  }
  ASSIGN_OR_RETURN(MonthlyReport mine, BuildMonthlyReport(ledger, ctx, month, as_of, GroupBy::kUser, false,
                                                          ReportScope{project, ""}));
  s.jobs = mine.total.jobs;
  s.gpu_hours = mine.total.usage.gpu_hours();
  s.cost_micros = mine.total.cost_micros;
  s.covered_gpu_hours = mine.total.usage.covered_hours();
  s.dense_gpu_hours = mine.total.usage.dense_hours();
  s.density = mine.total.usage.density();
  for (const ReportLine& l : mine.lines) {
    StatementUser u;
    u.user = l.key;
    u.jobs = l.jobs;
    u.gpu_hours = l.usage.gpu_hours();
    u.cost_micros = l.cost_micros;
    u.share =
        s.cost_micros > 0 ? static_cast<double>(l.cost_micros) / static_cast<double>(s.cost_micros) : 0.0;
    u.covered_gpu_hours = l.usage.covered_hours();
    u.dense_gpu_hours = l.usage.dense_hours();
    u.density = l.usage.density();
    s.users.push_back(std::move(u));
  }
  ASSIGN_OR_RETURN(std::vector<Job> jobs, ledger.ListJobs());
  for (const std::string& d : ProjectDepartments(jobs, project)) {
    s.department += (s.department.empty() ? "" : ", ") + d;
  }
  return s;
}

std::string RenderStatementJson(const ProjectStatement& s, int indent) {
  using J = nlohmann::ordered_json;
  const int d = s.currency.minor_digits;
  J j;
  j["month"] = s.month.ToString();
  j["project"] = s.project;
  j["department"] = s.department;
  j["currency"] = s.currency.code;
  j["partial"] = s.partial;
  j["closed"] = s.closed;
  j["jobs"] = s.jobs;
  j["gpu_hours"] = s.gpu_hours;
  j["cost"] = FormatMicros(s.cost_micros, d);
  j["prev_cost"] = s.prev_cost_micros ? J(FormatMicros(*s.prev_cost_micros, d)) : J();
  j["covered_gpu_hours"] = s.covered_gpu_hours;
  j["dense_gpu_hours"] = s.dense_gpu_hours;
  j["density"] = FigureJson(s.density);
  j["rank"] = s.rank;
  j["projects"] = s.projects;
  j["users"] = J::array();
  for (const StatementUser& u : s.users) {
    j["users"].push_back({{"user", u.user},
                          {"jobs", u.jobs},
                          {"gpu_hours", u.gpu_hours},
                          {"cost", FormatMicros(u.cost_micros, d)},
                          {"share", u.share},
                          {"covered_gpu_hours", u.covered_gpu_hours},
                          {"dense_gpu_hours", u.dense_gpu_hours},
                          {"density", FigureJson(u.density)}});
  }
  return j.dump(indent) + "\n";
}

std::string RenderStatementText(const ProjectStatement& s) {
  std::ostringstream o;
  o.imbue(std::locale::classic());
  o.setf(std::ios::fixed);
  o.precision(1);
  const int d = s.currency.minor_digits;
  o << "Statement " << s.month.ToString()
    << (s.partial  ? " (in progress)"
        : s.closed ? " (closed)"
                   : "")
    << ": project " << s.project << " (" << s.department << ")\n";
  o << "  " << s.jobs << " jobs, " << s.gpu_hours << " GPU-h, " << FormatMicros(s.cost_micros, d) << " "
    << s.currency.code << ", density " << PctCell(s.density);
  if (s.prev_cost_micros)
    o << ", month before " << FormatMicros(*s.prev_cost_micros, d) << " " << s.currency.code;
  o << "\n  rank in the cluster by cost: " << s.rank << " of " << s.projects << "\n\n";
  // Columns right-aligned under their heads: user (22, left), jobs (6), GPU-h (9), cost
  // (12), share (8), density (9); a longer value pushes the rest of its row right.
  o << "  " << std::left << std::setw(22) << "user" << std::right << std::setw(6) << "jobs" << std::setw(9)
    << "GPU-h" << std::setw(12) << "cost" << std::setw(8) << "share" << std::setw(9) << "density"
    << "\n";
  for (const StatementUser& u : s.users) {
    std::string name = u.user;
    name.resize(std::max<size_t>(name.size(), 22), ' ');
    std::ostringstream share;
    share.imbue(std::locale::classic());
    share << std::fixed << std::setprecision(1) << 100 * u.share << " %";
    o << "  " << name << std::setw(6) << u.jobs << std::setw(9) << u.gpu_hours << std::setw(12)
      << FormatMicros(u.cost_micros, d) << std::setw(8) << share.str() << std::setw(9) << PctCell(u.density)
      << "\n";
  }
  return o.str();
}

StatusOr<TimeMs> StatementSendTime(const TimeZone& tz, YearMonth month, int day, int hour) {
  if (day < 1 || day > 28 || hour < 0 || hour > 23) {
    return InvalidArgument("statement schedule day " + std::to_string(day) + " hour " + std::to_string(hour) +
                           " (allowed day 1..28, hour 0..23)");
  }
  const YearMonth next = month.Next();
  const int64_t local_s =
      DaysFromCivil(next.year, static_cast<unsigned>(next.month), static_cast<unsigned>(day)) * 86400 +
      int64_t{hour} * 3600;
  return tz.LocalToUtc(local_s);
}

StatusOr<YearMonth> StatementMonthDue(const TimeZone& tz, int day, int hour, TimeMs now) {
  ASSIGN_OR_RETURN(YearMonth current, tz.MonthOf(now));
  const YearMonth last = current.Prev();
  ASSIGN_OR_RETURN(TimeMs send, StatementSendTime(tz, last, day, hour));
  return now >= send ? last : last.Prev();
}

std::string StatementCauseKey(const std::string& project, YearMonth month) {
  return "statement/" + project + "/" + month.ToString();
}

Notice StatementNotice(const ProjectStatement& s, TimeMs at_ms, size_t max_field_bytes) {
  const int d = s.currency.minor_digits;
  Notice n;
  n.cause_key = StatementCauseKey(s.project, s.month);
  n.event = "statement.monthly";
  n.at_ms = at_ms;
  n.project = s.project;
  n.department = s.department;
  n.audiences = {Audience::kStatement};
  std::ostringstream hours;
  hours.imbue(std::locale::classic());
  hours.setf(std::ios::fixed);
  hours.precision(1);
  hours << s.gpu_hours;
  n.fields = {{"month", s.month.ToString()},
              {"jobs", std::to_string(s.jobs)},
              {"gpu_hours", hours.str()},
              {"cost", FormatMicros(s.cost_micros, d)},
              {"currency", s.currency.code}};
  if (s.prev_cost_micros) n.fields.emplace_back("prev_cost", FormatMicros(*s.prev_cost_micros, d));
  n.fields.emplace_back("density", PctCell(s.density));
  n.fields.emplace_back("rank", std::to_string(s.rank) + " of " + std::to_string(s.projects));
  n.fields.emplace_back("users", std::to_string(s.users.size()));
  // The most users (in the statement's order) with which both fit, the text saying how
  // many are left out: the text and the JSON name the same ones. Fitting only gets harder
  // as users are added, so a binary search.
  ProjectStatement shown = s;
  std::string text, json;
  auto fits = [&](size_t users) {
    shown.users.assign(s.users.begin(), s.users.begin() + static_cast<std::ptrdiff_t>(users));
    text = RenderStatementText(shown);
    if (users < s.users.size()) {
      text += "  ... and " + std::to_string(s.users.size() - users) +
              " more users (gpuledger statement --project " + s.project + " --month " + s.month.ToString() +
              ")\n";
    }
    json = RenderStatementJson(shown, -1);
    return text.size() <= max_field_bytes && json.size() <= max_field_bytes;
  };
  size_t keep = s.users.size();
  if (!fits(keep)) {
    size_t lo = 0, hi = keep;  // fits(lo) is assumed, fits(hi) is false
    while (hi - lo > 1) {
      const size_t mid = lo + (hi - lo) / 2;
      (fits(mid) ? lo : hi) = mid;
    }
    keep = lo;
    fits(keep);  // the text and the JSON of what is kept
  }
  if (keep < s.users.size()) n.fields.emplace_back("users_omitted", std::to_string(s.users.size() - keep));
  if (text.size() <= max_field_bytes) n.fields.emplace_back("statement_text", std::move(text));
  if (json.size() <= max_field_bytes) n.fields.emplace_back("statement_json", std::move(json));
  return n;
}

}  // namespace gpuledger
