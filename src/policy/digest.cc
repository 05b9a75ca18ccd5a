#include "policy/digest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

namespace gpuledger {

namespace {

double Hours(GpuNsSum ns) { return static_cast<double>(ns) / static_cast<double>(kGpuNsPerGpuHour); }

std::string Pct(double share) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %%", share * 100.0);
  return buf;
}

std::string GpuHours(double h) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.1f GPU-h", h);
  return buf;
}

// Floor division for times before the epoch too.
TimeMs FloorDiv(TimeMs a, TimeMs b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

Window DigestPeriodBefore(const DigestRule& rule, TimeMs now) {
  const DurationMs period = static_cast<DurationMs>(std::max(rule.period_days, 1)) * kDayMs;
  // 1970-01-01 was a Thursday: weeks counted from Monday 1969-12-29 start on Mondays.
  const TimeMs origin = rule.period_days == 7 ? -3 * kDayMs : 0;
  const TimeMs current = origin + FloorDiv(now - origin, period) * period;  // the period now is in
  return {current - period, current};
}

std::vector<DigestEntry> LowEfficiencyDigest(const DigestRule& rule, Window period,
                                             const std::vector<DigestJobUsage>& jobs) {
  struct PerUser {
    UsageTotals usage;
    std::vector<const DigestJobUsage*> jobs;
  };
  std::map<std::string, PerUser> users;
  for (const DigestJobUsage& j : jobs) {
    if (j.user.empty() || j.usage.gpu_ns <= 0) continue;
    PerUser& u = users[j.user];
    u.usage.Add(j.usage);
    u.jobs.push_back(&j);
  }
  std::vector<DigestEntry> out;
  for (auto& [user, u] : users) {
    if (u.usage.covered_ns <= 0) continue;  // no samples: density unknown, not judged
    const double hours = Hours(u.usage.gpu_ns);
    const double density = u.usage.density().value_or(0);  // covered > 0: a value
    if (hours < rule.min_gpu_hours || density * 100.0 >= rule.max_density_pct) continue;
    DigestEntry e;
    e.user = user;
    e.period = period;
    e.cause_key = std::string(kDigestRule) + "/" + user + "/" + FormatTime(period.start);
    e.gpu_hours = hours;
    e.covered_gpu_hours = Hours(u.usage.covered_ns);
    e.density = density;
    // The job that held most of the user's time routes the notice (its project channel).
    const DigestJobUsage* most = *std::max_element(u.jobs.begin(), u.jobs.end(), [](auto* a, auto* b) {
      return a->usage.gpu_ns != b->usage.gpu_ns ? a->usage.gpu_ns < b->usage.gpu_ns : a->job_id > b->job_id;
    });
    e.project = most->project;
    e.department = most->department;
    std::vector<const DigestJobUsage*> judged;
    for (const DigestJobUsage* j : u.jobs)
      if (j->usage.covered_ns > 0) judged.push_back(j);
    // Least dense first; among equals the one that held more GPU time (it wasted more).
    std::sort(judged.begin(), judged.end(), [](const DigestJobUsage* a, const DigestJobUsage* b) {
      const double da = *a->usage.density(), db = *b->usage.density();  // judged: covered > 0
      if (da != db) return da < db;
      if (a->usage.gpu_ns != b->usage.gpu_ns) return a->usage.gpu_ns > b->usage.gpu_ns;
      return a->job_id < b->job_id;
    });
    for (const DigestJobUsage* j : judged) {
      if (static_cast<int>(e.worst.size()) >= rule.worst_jobs) break;
      e.worst.push_back({j->job_id, Hours(j->usage.gpu_ns), *j->usage.density(), j->advice_en, j->advice_zh});
    }
    out.push_back(std::move(e));
  }
  return out;
}

Notice DigestNotice(const DigestEntry& e) {
  Notice n;
  n.cause_key = e.cause_key;
  n.event = "digest.weekly";
  n.at_ms = e.period.end;
  n.user = e.user;
  n.project = e.project;
  n.department = e.department;
  n.audiences = {Audience::kJobOwner, Audience::kProjectChannel};
  n.fields = {{"period", FormatTime(e.period.start) + " – " + FormatTime(e.period.end)},
              {"gpu_hours", GpuHours(e.gpu_hours)},
              {"density", Pct(e.density) + " (dense / sampled time)"}};
  std::vector<std::string> tries_en, tries_zh;
  for (size_t i = 0; i < e.worst.size(); ++i) {
    const DigestJobLine& j = e.worst[i];
    n.fields.emplace_back("job " + std::to_string(i + 1),
                          j.job_id + ": density " + Pct(j.density) + ", " + GpuHours(j.gpu_hours));
    for (const std::string& a : j.advice_en)
      if (std::find(tries_en.begin(), tries_en.end(), a) == tries_en.end()) tries_en.push_back(a);
    for (const std::string& a : j.advice_zh)
      if (std::find(tries_zh.begin(), tries_zh.end(), a) == tries_zh.end()) tries_zh.push_back(a);
  }
  if (tries_en.empty())
    tries_en.emplace_back(
        "look at the job's report (gpuledger job report <id>): its phases show where the GPU waited");
  if (tries_zh.empty())
    tries_zh.emplace_back("查看任务报告（gpuledger job report <id>）：各阶段显示 GPU 在哪里等待");
  std::string en, zh;
  for (const std::string& a : tries_en) en += (en.empty() ? "" : "; ") + a;
  for (const std::string& a : tries_zh) zh += (zh.empty() ? "" : "；") + a;
  n.fields.emplace_back("try", en);
  n.fields.emplace_back("尝试", zh);
  return n;
}

}  // namespace gpuledger
