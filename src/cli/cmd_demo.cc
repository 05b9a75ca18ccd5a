// demo: simulate a cluster into a fresh ledger, then print the department report and
// the leaderboard, as a new user would see them.
#include <filesystem>

#include "cli/commands.h"
#include "report/render.h"
#include "sim/simulator.h"

namespace gpuledger {

Status CmdDemo(const DemoArgs& a, std::ostream& out) {
  SimOptions opt;
  opt.seed = a.seed;
  ASSIGN_OR_RETURN(opt.month, ParseYearMonth(a.month));
  ASSIGN_OR_RETURN(opt.sample_interval_ms, ParseDuration(a.interval));
  LedgerSettings settings;  // CNY, Asia/Shanghai
  ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(settings.timezone));
  ASSIGN_OR_RETURN(SimCluster c, SimulateCluster(opt, tz));

  if (a.db.find("://") != std::string::npos) {
    return InvalidArgument("demo writes a fresh SQLite file and replaces it; give a file path, not '" + a.db +
                           "'");
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(a.db + suffix);
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  settings.default_interval_ms = opt.sample_interval_ms;
  settings.default_max_gap_ms = 3 * opt.sample_interval_ms;
  RETURN_IF_ERROR(ledger->SetSettings(settings));
  RETURN_IF_ERROR(ledger->PutPrices(c.prices));
  RETURN_IF_ERROR(ledger->PutGpus(c.gpus));
  RETURN_IF_ERROR(ledger->PutJobs(c.jobs));
  RETURN_IF_ERROR(ledger->PutAllocations(c.allocations));
  for (const auto& [job, epochs] : c.progress) RETURN_IF_ERROR(ledger->PutProgress(job, epochs));
  RETURN_IF_ERROR(ledger->PutJobGpuMemory(SimulateJobMemory(c)));
  int64_t samples = 0;
  for (size_t g = 0; g < c.gpus.size(); ++g) {
    std::vector<GpuSample> batch;
    for (const Sample& s : SimulateSamples(c, g)) batch.push_back({c.gpus[g].uuid, s});
    samples += static_cast<int64_t>(batch.size());
    RETURN_IF_ERROR(ledger->PutSamples(batch));
  }
  out << "simulated " << c.gpus.size() << " GPUs, " << c.jobs.size() << " YOLO training jobs and " << samples
      << " samples over " << opt.month.Prev().ToString() << " and " << opt.month.ToString() << " into "
      << a.db << "\n\n";

  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger));
  // The simulated cluster's books are read as of the end of its last month.
  ASSIGN_OR_RETURN(Window simulated, ctx.tz.MonthWindow(opt.month));
  const TimeMs as_of = simulated.end;
  ASSIGN_OR_RETURN(MonthlyReport r, BuildMonthlyReport(*ledger, ctx, opt.month, as_of, GroupBy::kDepartment, false));
  out << RenderReportTable(r) << "\n";
  ASSIGN_OR_RETURN(Leaderboard lb, BuildLeaderboard(*ledger, ctx, opt.month, as_of));
  out << RenderLeaderboardTable(lb) << "\n";
  out << "next: gpuledger report --db " << a.db << " --month " << opt.month.ToString()
      << " --by project|user|model|image|framework|gpu-model [--format csv|json] [--share-idle]\n"
      << "      gpuledger jobs --db " << a.db << " --month " << opt.month.ToString() << "\n";
  return OkStatus();
}

}  // namespace gpuledger
