// A monthly statement per project (docs/INSIGHT.md), as Princeton's sponsor reports: each
// user's GPU-hours, cost, share of the project's cost and effective compute density,
// and the project's rank in the cluster by cost ("18 of 169"). Built from the monthly
// report (the same books: its users' costs sum to the project's line there). Pure
// apart from the Ledger reads; thread-compatible.
#pragma once

#include <optional>
#include <string>
#include <vector>

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

std::string RenderStatementJson(const ProjectStatement& s);
std::string RenderStatementText(const ProjectStatement& s);

}  // namespace gpuledger
