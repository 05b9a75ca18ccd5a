#include "report/digest_books.h"

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "advice/advice.h"
#include "common/strings.h"
#include "report/job_report.h"

namespace gpuledger {

StatusOr<std::vector<DigestEntry>> BuildDigest(Ledger& ledger, const BooksContext& ctx,
                                               const DigestRule& rule, Window period) {
  ASSIGN_OR_RETURN(std::vector<UsageRow> rows, MeterWindow(ledger, ctx, period, {}));
  std::map<std::string, UsageTotals> by_job;
  for (const UsageRow& r : rows)
    if (!r.job_id.empty()) by_job[r.job_id].Add(r);
  std::vector<DigestJobUsage> jobs;
  for (const auto& [id, usage] : by_job) {
    ASSIGN_OR_RETURN(std::optional<Job> job, ledger.GetJob(id));
    if (!job) continue;
    DigestJobUsage j;
    j.job_id = id;
    j.user = job->user;
    j.project = job->project;
    j.department = job->department;
    j.usage = usage;
    ASSIGN_OR_RETURN(std::vector<EpochProgress> progress, ledger.GetProgress(id));
    const RunFacts facts = FactsOf(*job, usage, usage.peak_mem_mib, 0, progress);
    for (const Advice& a : Advise(facts, Lang::kEn)) j.advice_en.push_back(a.text);
    for (const Advice& a : Advise(facts, Lang::kZh)) j.advice_zh.push_back(a.text);
    jobs.push_back(std::move(j));
  }
  return LowEfficiencyDigest(rule, period, jobs);
}

std::string RenderDigestJson(const std::vector<DigestEntry>& entries, Window period, bool sent) {
  nlohmann::json out = {{"period", {{"from", FormatTime(period.start)}, {"to", FormatTime(period.end)}}},
                        {"sent", sent},
                        {"users", nlohmann::json::array()}};
  for (const DigestEntry& e : entries) {
    nlohmann::json worst = nlohmann::json::array();
    for (const DigestJobLine& j : e.worst)
      worst.push_back({{"job", j.job_id},
                       {"gpu_hours", j.gpu_hours},
                       {"density", j.density},
                       {"advice_en", j.advice_en},
                       {"advice_zh", j.advice_zh}});
    out["users"].push_back({{"user", e.user},
                            {"cause_key", e.cause_key},
                            {"gpu_hours", e.gpu_hours},
                            {"density", e.density},
                            {"worst_jobs", worst}});
  }
  return out.dump(2) + "\n";
}

std::string RenderDigestText(const std::vector<DigestEntry>& entries, Window period, const DigestRule& rule) {
  std::ostringstream o;
  o << "low-efficiency digest " << FormatTime(period.start) << " to " << FormatTime(period.end)
    << ": users under " << FormatFixed(rule.max_density_pct, 0) << " % density with at least "
    << FormatFixed(rule.min_gpu_hours, 0) << " GPU-hours\n";
  if (entries.empty()) o << "  nobody\n";
  for (const DigestEntry& e : entries) {
    o << "  " << e.user << "  " << FormatFixed(e.gpu_hours, 1) << " GPU-h  density "
      << FormatFixed(e.density * 100, 1) << " %  (" << e.project << ")\n";
    for (const DigestJobLine& j : e.worst) {
      o << "    " << j.job_id << "  " << FormatFixed(j.gpu_hours, 1) << " GPU-h  density "
        << FormatFixed(j.density * 100, 1) << " %";
      if (!j.advice_en.empty()) o << "  try: " << j.advice_en.front();
      o << "\n";
    }
  }
  return o.str();
}

}  // namespace gpuledger
