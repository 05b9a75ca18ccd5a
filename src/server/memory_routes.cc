// POST /api/v1/memory: each job's own GPU memory as the node agent saw it (its processes'
// NVML figures, per GPU; ingest/job_memory.h). A row's job is found by its workload label
// as a sample's is (attribution.h): the one job the label names whose run overlaps the
// row's span. Rows whose label names no such job yet are counted, not stored (the agent
// reports again); a row naming an unknown GPU refuses the request and nothing is stored.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "ingest/job_memory.h"
#include "server/http_front.h"
#include "server/reply.h"
#include "server/server.h"

namespace gpuledger {

void Server::MemoryRoutes() {
  http_->Post("/api/v1/memory", [this](const httplib::Request& req, httplib::Response& res) {
    auto p = Authenticate(req, res);
    if (!p) return;
    if (p->role != Role::kIngest && p->role != Role::kAdmin) {
      return Deny(req, res, *p,
                  PermissionDenied("role " + std::string(RoleName(p->role)) +
                                   " may not report job memory (ingest and admin tokens do)"));
    }
    if (Status s = OnlyParams(req, {}); !s.ok()) return Reply(res, s);
    auto reports = ParseJobMemoryJson(req.body);
    if (!reports.ok()) return Reply(res, reports.status());
    MutexLock lock(ledger_mu_);
    if (Status s = FlushJournalLocked(); !s.ok()) return Reply(res, s);  // the GPUs it names may be new
    std::vector<JobGpuMemory> rows;
    size_t unmatched = 0;
    for (const JobMemoryReport& r : *reports) {
      auto jobs = label_jobs_.Find(*ledger_, "hpc_job", r.job_label);
      if (!jobs.ok()) return Reply(res, jobs.status());
      const Job* match = nullptr;
      int matches = 0;
      for (const Job& j : *jobs) {
        const TimeMs end = j.end_ms != 0 ? j.end_ms : kMaxTimeMs;
        if (j.start_ms != 0 && (j.start_ms > r.last_ms || end <= r.first_ms)) continue;
        match = &j;
        ++matches;
      }
      if (matches != 1) {
        ++unmatched;
        continue;
      }
      rows.push_back({match->id, r.gpu_uuid, r.peak_mib, r.first_ms, r.last_ms});
    }
    if (Status s = ledger_->PutJobGpuMemory(rows); !s.ok()) return Reply(res, s);
    res.set_content(nlohmann::json{{"stored", rows.size()}, {"unmatched", unmatched}}.dump() + "\n",
                    "application/json");
  });
}

}  // namespace gpuledger
