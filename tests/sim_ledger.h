// Test helper: a simulated cluster loaded into a real SQLite ledger.
#pragma once

#include <memory>
#include <string>

#include "books/books.h"
#include "ledger/ledger.h"
#include "sim/simulator.h"

namespace gpuledger::testing {

struct SimLedger {
  SimCluster cluster;
  std::unique_ptr<Ledger> ledger;
  LedgerSettings settings;
};

// Into a given ledger (any backend).
inline StatusOr<SimLedger> LoadSimulationInto(std::unique_ptr<Ledger> ledger, const SimOptions& o,
                                              const std::string& zone) {
  SimLedger s;
  ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(zone));
  ASSIGN_OR_RETURN(s.cluster, SimulateCluster(o, tz));
  s.ledger = std::move(ledger);
  s.settings.timezone = zone;
  s.settings.currency = o.currency;
  s.settings.default_interval_ms = o.sample_interval_ms;
  s.settings.default_max_gap_ms = 3 * o.sample_interval_ms;
  RETURN_IF_ERROR(s.ledger->SetSettings(s.settings));
  RETURN_IF_ERROR(s.ledger->PutPrices(s.cluster.prices));
  RETURN_IF_ERROR(s.ledger->PutGpus(s.cluster.gpus));
  RETURN_IF_ERROR(s.ledger->PutJobs(s.cluster.jobs));
  RETURN_IF_ERROR(s.ledger->PutAllocations(s.cluster.allocations));
  for (const auto& [job, epochs] : s.cluster.progress) RETURN_IF_ERROR(s.ledger->PutProgress(job, epochs));
  for (size_t g = 0; g < s.cluster.gpus.size(); ++g) {
    std::vector<GpuSample> batch;
    for (const Sample& x : SimulateSamples(s.cluster, g)) batch.push_back({s.cluster.gpus[g].uuid, x});
    RETURN_IF_ERROR(s.ledger->PutSamples(batch));
  }
  return s;
}

// Into an SQLite file.
inline StatusOr<SimLedger> LoadSimulation(const std::string& db, const SimOptions& o,
                                          const std::string& zone) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenSqliteLedger(db));
  return LoadSimulationInto(std::move(ledger), o, zone);
}

}  // namespace gpuledger::testing
