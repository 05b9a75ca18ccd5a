// init and import: the commands that write a ledger.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/commands.h"
#include "common/money.h"
#include "common/strings.h"
#include "common/tz.h"
#include "ingest/dcgm.h"
#include "ingest/importers.h"
#include "ingest/prom_text.h"
#include "ingest/results_csv.h"
#include "ledger/ledger.h"

namespace gpuledger {

namespace {

constexpr std::uintmax_t kMaxImportBytes = 4ULL << 30;

StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFound("cannot read '" + path + "': " + ec.message());
  if (size > kMaxImportBytes) {
    return InvalidArgument("'" + path + "' is " + std::to_string(size >> 20) + " MiB; the limit is " +
                           std::to_string(kMaxImportBytes >> 20) + " MiB per file");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in && !in.eof()) return Unavailable("error reading '" + path + "'");
  return ss.str();
}

// A dcgm-exporter scrape (Prometheus text): samples of its GPUs, and with
// --register-gpus the GPUs the ledger does not know yet.
Status ImportScrape(const ImportArgs& a, const std::string& text, Ledger& ledger, size_t* n,
                    std::string* extra) {
  ASSIGN_OR_RETURN(std::vector<PromSample> series, ParsePromText(text));
  TimeMs at = 0;
  if (!a.at.empty()) {
    ASSIGN_OR_RETURN(at, ParseTime(a.at));
  } else {
    for (const PromSample& p : series) {
      if (!p.timestamp_ms) {
        return InvalidArgument("line " + std::to_string(p.line) + ": " + p.name +
                               " has no timestamp; give --at TIME for a saved scrape");
      }
    }
  }
  ASSIGN_OR_RETURN(DcgmBatch batch, SamplesFromDcgm(series, at));
  int registered = 0;
  if (a.register_gpus) {
    ASSIGN_OR_RETURN(std::vector<Gpu> known, ledger.ListGpus());
    std::vector<Gpu> fresh;
    for (const DcgmGpu& g : batch.gpus) {
      if (std::none_of(known.begin(), known.end(), [&](const Gpu& k) { return k.uuid == g.labels->uuid; }))
        fresh.push_back(g.ToGpu());
    }
    RETURN_IF_ERROR(ledger.PutGpus(fresh));
    registered = static_cast<int>(fresh.size());
  }
  RETURN_IF_ERROR(ledger.PutSamples(batch.samples));
  *n = batch.samples.size();
  *extra = " (" + std::to_string(batch.gpus.size()) + " GPUs; " + std::to_string(batch.series) + " series, " +
           std::to_string(batch.skipped_metrics) + " of metrics not metered, " +
           std::to_string(batch.skipped_mig) + " of MIG instances skipped; " + std::to_string(registered) +
           " GPUs registered)";
  return OkStatus();
}

}  // namespace

Status CmdInit(const InitArgs& a, std::ostream& out) {
  LedgerSettings s;
  ASSIGN_OR_RETURN(Currency c, LookupCurrency(a.currency));
  s.currency = c.code;
  RETURN_IF_ERROR(TimeZone::Load(a.timezone).status());
  s.timezone = a.timezone;
  ASSIGN_OR_RETURN(s.default_interval_ms, ParseDuration(a.interval));
  ASSIGN_OR_RETURN(s.default_max_gap_ms, ParseDuration(a.max_gap));
  if (s.default_max_gap_ms < s.default_interval_ms) {
    return InvalidArgument("--max-gap " + a.max_gap + " is shorter than --interval " + a.interval);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
  ASSIGN_OR_RETURN(std::vector<Price> prices, ledger->ListPrices());
  if (!prices.empty() && prices.front().currency != s.currency) {
    return FailedPrecondition("ledger '" + a.db + "' already holds prices in " + prices.front().currency +
                              "; its currency cannot change to " + s.currency);
  }
  RETURN_IF_ERROR(ledger->SetSettings(s));
  out << "ledger " << a.db << ": currency " << s.currency << ", time zone " << s.timezone
      << ", sample interval " << a.interval << ", max gap " << a.max_gap << "\n";
  return OkStatus();
}

namespace {
Status ImportInto(const ImportArgs& a, const std::string& text, Ledger& ledger, std::ostream& out);
}  // namespace

Status CmdImport(const ImportArgs& a, std::ostream& out) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(a.file));
  // An import that names a file with no ledger creates it; when it is refused, the new
  // file goes too (a refusal leaves nothing behind, not even an empty ledger).
  const bool fresh = !LedgerExists(a.db).ok();
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedger(a.db));
    return ImportInto(a, text, *ledger, out);
  }();
  if (!s.ok() && fresh) {
    const std::string path = a.db.rfind("sqlite://", 0) == 0 ? a.db.substr(9) : a.db;
    for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  }
  return s;
}

namespace {
Status ImportInto(const ImportArgs& a, const std::string& text, Ledger& ledger, std::ostream& out) {
  auto in_file = [&](const Status& s) { return s.WithContext(a.file); };
  size_t n = 0;
  std::string extra;
  // Parse the whole file, then store it in one all-or-nothing write.
  auto load = [&](auto parse, auto put) -> Status {
    auto parsed = parse(text);
    if (!parsed.ok()) return in_file(parsed.status());
    RETURN_IF_ERROR(in_file(put(*parsed)));
    n = parsed->size();
    return OkStatus();
  };
  if (a.kind == "jobs") {
    RETURN_IF_ERROR(load(ParseJobsCsv, [&](const auto& v) { return ledger.PutJobs(v); }));
  } else if (a.kind == "gpus") {
    RETURN_IF_ERROR(load(ParseGpusCsv, [&](const auto& v) { return ledger.PutGpus(v); }));
  } else if (a.kind == "allocations") {
    RETURN_IF_ERROR(load(ParseAllocationsCsv, [&](const auto& v) { return ledger.PutAllocations(v); }));
  } else if (a.kind == "prices") {
    RETURN_IF_ERROR(load(ParsePricesCsv, [&](const auto& v) { return ledger.PutPrices(v); }));
  } else if (a.kind == "samples") {
    auto samples = ParseSamplesCsv(text);
    if (!samples.ok()) return in_file(samples.status());
    RETURN_IF_ERROR(in_file(ledger.PutSamples(samples->samples)));
    n = samples->samples.size();
    extra = " (from " + std::to_string(samples->rows) + " rows; " + std::to_string(samples->skipped_metrics) +
            " rows of metrics not metered were skipped)";
  } else if (a.kind == "scrape") {
    // The GPUs it registers and its samples: one unit of work (a refused sample leaves no GPU).
    RETURN_IF_ERROR(
        in_file(ledger.InTransaction([&] { return ImportScrape(a, text, ledger, &n, &extra); })));
  } else if (a.kind == "progress") {
    if (a.job.empty())
      return InvalidArgument("import progress needs --job ID: the job the results.csv belongs to");
    auto epochs = ParseResultsCsv(text);
    if (!epochs.ok()) return in_file(epochs.status());
    RETURN_IF_ERROR(in_file(ledger.PutProgress(a.job, *epochs)));
    n = epochs->size();
    double best = -1;
    for (const auto& e : *epochs) best = std::max(best, e.map50.value_or(-1));
    if (best >= 0) extra = " (best mAP@0.5 " + FormatFixed(best * 100, 2) + ")";
  }
  out << "imported " << n << " " << (a.kind == "scrape" ? "samples" : a.kind) << " from " << a.file << extra
      << "\n";
  return OkStatus();
}

}  // namespace

}  // namespace gpuledger
