// A monthly statement per project (docs/INSIGHT.md), as Princeton's sponsor reports: each
// user's GPU-hours, cost, share of the project's cost and effective compute density,
// and the project's rank in the cluster by cost ("18 of 169"). Built from the monthly
// report (the same books: its users' costs sum to the project's line there). And what a
// statement sent on a schedule needs: when it is due and the notice that carries it.
// Pure apart from the Ledger reads; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/tz.h"
#include "policy/actions.h"
#include "report/report.h"

namespace gpuledger {

struct StatementUser {
  std::string user;
  int64_t jobs = 0;
  double gpu_hours = 0;
  int64_t cost_micros = 0;
  double share = 0;                                   // of the project's cost, 0..1
  double covered_gpu_hours = 0, dense_gpu_hours = 0;  // what density is made of
  std::optional<double> density;  // dense time over sampled time, 0..1; nothing without samples
};

struct ProjectStatement {
  YearMonth month;
  std::string project;
  std::string department;  // its jobs' department; several joined by ", "
  Currency currency;
  TimeMs as_of = 0;
  bool partial = false;
  bool closed = false;
  std::vector<StatementUser> users;  // by cost, descending; then name
  int64_t jobs = 0;
  double gpu_hours = 0;
  int64_t cost_micros = 0;
  double covered_gpu_hours = 0, dense_gpu_hours = 0;  // what density is made of
  std::optional<double> density;                      // nothing without samples
  std::optional<int64_t> prev_cost_micros;            // the project's cost the month before
  int rank = 0;                                       // 1: the cluster's most costly project this month
  int projects = 0;                                   // projects with cost this month
};

// The departments of the project's jobs, sorted, each once (empty: no such jobs).
std::vector<std::string> ProjectDepartments(const std::vector<Job>& jobs, const std::string& project);

StatusOr<ProjectStatement> BuildProjectStatement(Ledger& ledger, const BooksContext& ctx, YearMonth month,
                                                 TimeMs as_of, const std::string& project);

// `indent` as nlohmann's dump: 2 (the API's), -1 compact (a notice's field).
std::string RenderStatementJson(const ProjectStatement& s, int indent = 2);
std::string RenderStatementText(const ProjectStatement& s);

// Statements sent on a schedule (docs/NOTIFICATIONS.md "Monthly statements"): `month`'s
// statement goes out at local wall time `hour`:00 on `day` (1..28) of the month after,
// in `tz` (the ledger's time zone).
StatusOr<TimeMs> StatementSendTime(const TimeZone& tz, YearMonth month, int day, int hour);
// The latest month whose statement is due at `now`: the month before now's once this
// month's send time has passed, else the month before that (a server that was down at
// the send time still sends it before the next one).
StatusOr<YearMonth> StatementMonthDue(const TimeZone& tz, int day, int hour, TimeMs now);
// "statement/<project>/<YYYY-MM>": the outbox keeps one notice per key.
std::string StatementCauseKey(const std::string& project, YearMonth month);
// The notice carrying `s` (event statement.monthly, audience kStatement): its totals as
// fields (month, jobs, gpu_hours, cost, currency, prev_cost, density, rank, users), the
// text as statement_text and the JSON (RenderStatementJson, compact) as statement_json.
// Users past what keeps each of those two within `max_field_bytes` are left out of both,
// last first, with users_omitted saying how many (the totals stay the whole project's).
Notice StatementNotice(const ProjectStatement& s, TimeMs at_ms, size_t max_field_bytes);

}  // namespace gpuledger
