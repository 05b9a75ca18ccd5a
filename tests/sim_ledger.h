// Test helper: a simulated cluster loaded into a real SQLite ledger.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
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

// Into an SQLite file, from a copy of the same simulation loaded once per test binary:
// each gtest case runs as its own process, and suites that only read a simulated month
// would otherwise load the same ~300,000 samples once per case. The copy is keyed by the
// options, the zone and the test binary's size and time (a rebuilt binary loads afresh)
// and kept beside the binary; a lock file makes parallel cases wait for the one that
// loads it. The copy carries both months' books, built as a report builds them.
inline StatusOr<SimLedger> LoadSimulationCached(const std::string& db, const SimOptions& o,
                                                const std::string& zone) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (exe.empty() || ec) return LoadSimulation(db, o, zone);
  const fs::path dir = exe.parent_path() / "sim-cache";  // beside the binary, in its build tree
  fs::create_directories(dir, ec);
  if (ec) return LoadSimulation(db, o, zone);
  std::ostringstream key;
  key << exe.filename().string() << '-' << fs::file_size(exe, ec) << '-'
      << fs::last_write_time(exe, ec).time_since_epoch().count();
  const std::string stamp = key.str();
  key << '-'
      << std::hash<std::string>{}(std::to_string(o.seed) + '|' + o.month.ToString() + '|' +
                                  std::to_string(o.sample_interval_ms) + '|' + std::to_string(o.a10g_nodes) +
                                  '|' + std::to_string(o.a100_nodes) + '|' + std::to_string(o.gpus_per_node) +
                                  '|' + std::to_string(o.load) + '|' + o.currency + '|' + zone);
  const fs::path cached = dir / (key.str() + ".db");
  {
    const int lock = ::open((dir / "lock").c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (lock < 0) return LoadSimulation(db, o, zone);
    ::flock(lock, LOCK_EX);
    Status loaded = OkStatus();
    if (!fs::exists(cached)) {
      for (const auto& e : fs::directory_iterator(dir, ec)) {  // earlier builds' copies
        if (e.path().extension() == ".db" && e.path().filename().string().rfind(stamp, 0) != 0) {
          fs::remove(e.path(), ec);
        }
      }
      const fs::path partial = dir / (key.str() + ".partial");
      fs::remove(partial, ec);
      auto s = LoadSimulation(partial.string(), o, zone);  // closed (checkpointed) at scope end
      if (s.ok()) {
        // Each suite reads both months' books: the copy carries them, built as a report
        // builds them (MonthUsage stores them), so a case reads them rather than metering.
        auto ctx = LoadBooksContext(*s->ledger);
        for (YearMonth m : {o.month.Prev(), o.month}) {
          if (ctx.ok()) loaded = MonthUsage(*s->ledger, *ctx, m, s->cluster.span.end).status();
          if (!loaded.ok()) break;
        }
        if (!ctx.ok()) loaded = ctx.status();
        s->ledger.reset();
        if (loaded.ok()) fs::rename(partial, cached, ec);
        if (ec) loaded = Internal("sim cache: " + ec.message());
      } else {
        loaded = s.status();
      }
    }
    if (loaded.ok()) {  // still under the lock: no other case removes it meanwhile
      fs::copy_file(cached, db, fs::copy_options::overwrite_existing, ec);
      if (ec) loaded = Internal("sim cache: copying " + cached.string() + ": " + ec.message());
    }
    ::close(lock);
    RETURN_IF_ERROR(loaded);
  }
  SimLedger s;
  ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(zone));
  ASSIGN_OR_RETURN(s.cluster, SimulateCluster(o, tz));
  ASSIGN_OR_RETURN(s.ledger, OpenSqliteLedger(db));
  ASSIGN_OR_RETURN(s.settings, s.ledger->GetSettings());
  return s;
}

}  // namespace gpuledger::testing
