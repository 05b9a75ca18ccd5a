// demo: simulate a cluster into a fresh ledger, then print the department report and
// the leaderboard, as a new user would see them.
#include <csignal>
#include <filesystem>
#include <set>
#include <thread>
#include <tuple>

#include "cli/commands.h"
#include "cli/demo_live.h"
#include "report/render.h"
#include "server/auth.h"
#include "server/server.h"
#include "sim/simulator.h"

namespace gpuledger {

namespace {

// demo --serve: a token per role in the demo ledger, then the server until a signal. The
// wall clock is moved to the simulated month (`now`), so the dashboard reads the demo
// ledger as a month in progress, and the time goes on passing; with --live, `held` is
// streamed in (jobs through the jobs API as they start, samples through remote write,
// epochs through the progress API) as the clock reaches it.
Status ServeDemo(const DemoArgs& a, TimeMs now, LiveFeed held, std::ostream& out) {
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  struct Want {
    Role role;
    const char* project;
    const char* department;
  };
  const Want wants[] = {{Role::kAdmin, "", ""},
                        {Role::kDeptAdmin, "", "manufacturing"},
                        {Role::kUser, "defect-detection-line3", ""},
                        {Role::kFinance, "", ""},
                        {Role::kIngest, "", ""}};
  std::vector<std::pair<Want, std::string>> made;
  for (const Want& w : wants) {
    ASSIGN_OR_RETURN(NewToken t, MakeToken(w.role, w.project, w.department, now));
    t.record.name = "demo " + std::string(RoleName(w.role));
    RETURN_IF_ERROR(ledger->PutToken(t.record));
    made.emplace_back(w, t.secret);
  }
  // Budgets for every month, so the dashboard's budgets view has a burn-down to show: a
  // department on track, a project past 80 % (the user token's), one over its line.
  for (const auto& [scope, name, amount_minor] :
       {std::tuple{BudgetScope::kDepartment, "manufacturing", int64_t{6'000'000}},
        std::tuple{BudgetScope::kProject, "defect-detection-line3", int64_t{2'000'000}},
        std::tuple{BudgetScope::kProject, "shelf-monitoring", int64_t{900'000}}}) {
    BudgetRecord b;
    b.scope = scope;
    b.name = name;
    b.amount_minor = amount_minor;
    b.currency = "CNY";
    b.set_by = "demo";
    b.set_ms = now;
    RETURN_IF_ERROR(ledger->PutBudget(b));
  }
  std::signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ScaledClock clock(now, a.live ? a.speed : 1.0);
  ServerOptions opt;
  opt.host = "127.0.0.1";
  opt.port = a.port;
  opt.raw_retention_ms = 0;  // the simulated months are kept whole
  Server server(std::move(ledger), clock, opt);
  RETURN_IF_ERROR(server.Start());
  out << "dashboard: http://127.0.0.1:" << server.port() << "/ (the demo ledger, its clock at "
      << FormatTime(now) << "; Ctrl-C stops)\n"
      << "sign in with one of these tokens:\n";
  for (const auto& [w, secret] : made) {
    std::string who = std::string(RoleName(w.role));
    if (*w.project) who += " (" + std::string(w.project) + ")";
    if (*w.department) who += " (" + std::string(w.department) + ")";
    out << "  " << who << std::string(who.size() < 36 ? 36 - who.size() : 1, ' ') << secret << "\n";
  }
  std::atomic<bool> stop{false};
  std::thread live;
  if (a.live) {
    out << "live: the last hour's " << held.jobs.size() << " new job(s), " << held.samples.size()
        << " samples and " << held.epochs.size()
        << " epochs stream in through the jobs API, remote write and the progress API as the "
        << "clock reaches them, the clock at " << a.speed << "x the wall's pace until then\n";
    LiveStreamOptions lo;
    lo.port = server.port();
    for (const auto& [w, secret] : made)
      if (w.role == Role::kIngest) lo.ingest_token = secret;
    live = std::thread([&, lo] {
      const LiveStreamed sent = StreamLive(std::move(held), clock, lo, stop, out);
      if (!stop) {
        out << "live: " << sent.jobs << " job(s), " << sent.samples << " samples and " << sent.epochs
            << " epochs streamed, up to " << FormatTime(clock.Now())
            << "; the clock runs at the wall's pace from here" << std::endl;
      }
    });
  }
  out << std::flush;
  int sig = 0;
  sigwait(&set, &sig);
  stop = true;
  if (live.joinable()) live.join();  // before this thread writes to `out` again
  out << "gpuledger demo: signal " << sig << ", stopping" << std::endl;
  server.Stop();
  return OkStatus();
}

}  // namespace

Status CmdDemo(const DemoArgs& a, std::ostream& out) {
  SimOptions opt;
  opt.seed = a.seed;
  ASSIGN_OR_RETURN(opt.month, ParseYearMonth(a.month));
  ASSIGN_OR_RETURN(opt.sample_interval_ms, ParseDuration(a.interval));
  LedgerSettings settings;  // CNY, Asia/Shanghai
  ASSIGN_OR_RETURN(TimeZone tz, TimeZone::Load(settings.timezone));
  opt.stalled_run = true;  // for the circuit breaker to meet in the live demo
  opt.late_run = true;     // for a job to start in it
  opt.hung_run = true;     // and for the idle rule to act
  ASSIGN_OR_RETURN(SimCluster c, SimulateCluster(opt, tz));
  // The simulated cluster's books are read as of the end of its last month; the dashboard
  // reads the ledger from an hour before it. With --live what that hour brings (samples,
  // epochs, a job that starts) is held back and streamed in as the server's clock reaches it.
  ASSIGN_OR_RETURN(Window simulated, tz.MonthWindow(opt.month));
  const TimeMs serve_from = simulated.end - kHourMs;
  const bool live = a.serve && a.live;
  LiveFeed held;
  std::vector<Job> jobs_now;
  std::vector<Allocation> allocations_now;
  std::set<std::string> later;  // jobs the stream registers
  for (const Job& j : c.jobs) {
    if (live && j.start_ms > serve_from) {
      later.insert(j.id);
      held.jobs.push_back({j.start_ms, j, {}});
    } else {
      jobs_now.push_back(j);
    }
  }
  for (const Allocation& al : c.allocations) {
    if (!later.count(al.job_id)) {
      allocations_now.push_back(al);
      continue;
    }
    for (LiveJob& lj : held.jobs)
      if (lj.job.id == al.job_id) lj.allocations.push_back(al);
  }
  std::vector<JobGpuMemory> memory_now;
  for (JobGpuMemory& m : SimulateJobMemory(c))
    if (!later.count(m.job_id)) memory_now.push_back(std::move(m));
  std::stable_sort(held.jobs.begin(), held.jobs.end(),
                   [](const LiveJob& x, const LiveJob& y) { return x.at_ms < y.at_ms; });

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
  RETURN_IF_ERROR(ledger->PutJobs(jobs_now));
  RETURN_IF_ERROR(ledger->PutAllocations(allocations_now));
  RETURN_IF_ERROR(ledger->PutJobGpuMemory(memory_now));
  ASSIGN_OR_RETURN(BooksContext ctx, LoadBooksContext(*ledger));
  std::map<std::string, TimeMs> started;
  for (const Job& j : c.jobs) started[j.id] = j.start_ms;
  for (const auto& [job, epochs] : c.progress) {
    std::vector<EpochProgress> now;
    for (const EpochProgress& e : epochs) {
      const TimeMs at = started[job] + static_cast<TimeMs>(e.time_s.value_or(0) * 1000);
      if (live && at > serve_from) {
        held.epochs.push_back({job, at, e});
      } else {
        now.push_back(e);
      }
    }
    if (!now.empty()) RETURN_IF_ERROR(ledger->PutProgress(job, now));
  }
  std::stable_sort(held.epochs.begin(), held.epochs.end(),
                   [](const LiveEpoch& x, const LiveEpoch& y) { return x.at_ms < y.at_ms; });
  for (const Allocation& al : c.allocations) {
    if (al.end_ms == 0 && al.share_ppm == kFullShare) held.sole_gpus_of[al.job_id].push_back(al.gpu_uuid);
  }
  int64_t samples = 0;
  for (size_t g = 0; g < c.gpus.size(); ++g) {
    std::vector<GpuSample> batch;
    for (const Sample& s : SimulateSamples(c, g)) {
      (live && s.t > serve_from ? held.samples : batch).push_back({c.gpus[g].uuid, s});
    }
    samples += static_cast<int64_t>(batch.size());
    RETURN_IF_ERROR(ledger->PutSamples(batch));
    held.node_of[c.gpus[g].uuid] = c.gpus[g].node;
    held.idle_power_w[c.gpus[g].uuid] = SimIdlePowerW(c.gpus[g]);
  }
  std::stable_sort(held.samples.begin(), held.samples.end(),
                   [](const GpuSample& x, const GpuSample& y) { return x.sample.t < y.sample.t; });
  out << "simulated " << c.gpus.size() << " GPUs, " << c.jobs.size() << " YOLO training jobs and " << samples
      << " samples over " << opt.month.Prev().ToString() << " and " << opt.month.ToString() << " into "
      << a.db << "\n\n";

  if (live) {
    out << "(live: the last hour's " << held.jobs.size() << " new job(s), " << held.samples.size()
        << " samples and " << held.epochs.size() << " epochs are held back, so the reports are as of "
        << FormatTime(serve_from) << ")\n\n";
  }
  const TimeMs as_of = live ? serve_from : simulated.end;
  ASSIGN_OR_RETURN(MonthlyReport r, BuildMonthlyReport(*ledger, ctx, opt.month, as_of, GroupBy::kDepartment, false));
  out << RenderReportTable(r) << "\n";
  ASSIGN_OR_RETURN(Leaderboard lb, BuildLeaderboard(*ledger, ctx, opt.month, as_of));
  out << RenderLeaderboardTable(lb) << "\n";
  out << "next: gpuledger report --db " << a.db << " --month " << opt.month.ToString()
      << " --by project|user|model|image|framework|gpu-model [--format csv|json] [--share-idle]\n"
      << "      gpuledger jobs --db " << a.db << " --month " << opt.month.ToString() << "\n"
      << "      gpuledger demo --serve [--live]   (the dashboard on this ledger, docs/DASHBOARD.md)\n";
  if (!a.serve) return OkStatus();
  ledger.reset();
  return ServeDemo(a, serve_from, std::move(held), out);
}

}  // namespace gpuledger
