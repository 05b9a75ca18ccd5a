// server: serves the API until a signal.
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <mutex>

#include "cli/commands.h"
#include "common/backoff.h"
#include "common/logger.h"
#include "common/strings.h"
#include "pause/dispatcher.h"
#include "server/auth.h"
#include "server/server.h"
#include "server/starting_front.h"

namespace gpuledger {

namespace {

std::string Seconds(int64_t ms) { return std::to_string(ms / 1000) + "s"; }

// The ledger at `db`; while PostgreSQL does not answer (Unavailable), tried again with
// capped backoff (1 s doubling to 30 s) for up to `wait_ms`, each failure logged once per
// message, until a signal of `signals` comes (then the start is abandoned). SQLite, and
// any other error, is not waited for. While it waits, a StartingFront answers on the
// server's address (a fixed port only: port 0 would pick another one than the server's)
// so that probes read a 503 that names the database's error.
StatusOr<std::unique_ptr<Ledger>> OpenLedgerWaiting(const std::string& db, DurationMs wait_ms,
                                                    const sigset_t& signals, Logger& log,
                                                    const ServerOptions& opt) {
  const auto began = std::chrono::steady_clock::now();
  Backoff backoff({1'000, 30'000, 2});
  std::string last;
  std::mutex why_mu;
  std::string why;  // the latest error, for the starting front's threads
  std::unique_ptr<StartingFront> front;
  for (;;) {
    auto ledger = OpenLedger(db);
    if (ledger.ok() || ledger.status().code() != StatusCode::kUnavailable) {
      if (front) front->Stop();
      return ledger;
    }
    {
      std::lock_guard<std::mutex> lock(why_mu);
      why = ledger.status().message();
    }
    if (!front && wait_ms > 0 && opt.port != 0) {
      front = std::make_unique<StartingFront>(FrontOptionsOf(opt), [&] {
        std::lock_guard<std::mutex> lock(why_mu);
        return why;
      });
      if (Status s = front->Start(); !s.ok()) return s;  // the server could not bind either
      log.Info("starting_front_listening", {{"address", opt.host + ":" + std::to_string(opt.port)}});
    }
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began)
            .count();
    if (waited >= wait_ms) {
      if (wait_ms == 0) return ledger.status();
      return Unavailable(ledger.status().message() + " (waited " + Seconds(waited) + ", --db-wait " +
                         Seconds(wait_ms) + ")");
    }
    if (ledger.status().message() != last) {
      last = ledger.status().message();
      log.Warn("ledger_unreachable", {{"error", ledger.status()}, {"waiting_up_to", Seconds(wait_ms)}});
    }
    backoff.Failed(waited);
    const DurationMs delay = std::min<DurationMs>(backoff.next_at_ms() - waited, wait_ms - waited);
    timespec ts{static_cast<time_t>(delay / 1000), static_cast<long>(delay % 1000) * 1'000'000};
    if (sigtimedwait(&signals, nullptr, &ts) > 0) {
      return Unavailable("stopped by a signal while waiting for the database: " + ledger.status().message());
    }
  }
}

}  // namespace

Status CmdServer(const ServerArgs& a, const Clock& clock, std::ostream& out) {
  ServerOptions opt;
  const size_t colon = a.listen.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("--listen '" + a.listen + "' is not host:port");
  opt.host = a.listen.substr(0, colon);
  ASSIGN_OR_RETURN(int64_t port, ParseInt(a.listen.substr(colon + 1), "--listen port"));
  if (port < 0 || port > 65535)
    return InvalidArgument("--listen port " + std::to_string(port) + " is outside [0, 65535]");
  opt.port = static_cast<int>(port);
  ASSIGN_OR_RETURN(int64_t max_body, ParseInt(a.max_body, "--max-body"));
  if (max_body < 1024 || max_body > (int64_t{1} << 30)) {
    return InvalidArgument("--max-body " + a.max_body + " is outside [1024, 1073741824] bytes");
  }
  opt.max_body_bytes = static_cast<size_t>(max_body);
  opt.scrape_targets = a.scrape;
  ASSIGN_OR_RETURN(opt.scrape_interval_ms, ParseDuration(a.scrape_interval));
  if (a.retention == "0") {
    opt.raw_retention_ms = 0;
  } else {
    ASSIGN_OR_RETURN(opt.raw_retention_ms, ParseDuration(a.retention));
  }
  const bool postgres = a.db.rfind("postgresql://", 0) == 0 || a.db.rfind("postgres://", 0) == 0;
  const std::string sqlite_file = a.db.rfind("sqlite://", 0) == 0 ? a.db.substr(9) : a.db;
  opt.journal_dir = a.journal.empty() && !postgres ? sqlite_file + ".journal" : a.journal;
  if (opt.journal_dir == "none") opt.journal_dir.clear();
  opt.access_log = a.access_log;
  if (a.tls_cert.empty() != a.tls_key.empty())
    return InvalidArgument(a.tls_cert.empty() ? "--tls-key needs --tls-cert" : "--tls-cert needs --tls-key");
  opt.tls_cert_file = a.tls_cert;
  opt.tls_key_file = a.tls_key;
  ASSIGN_OR_RETURN(opt.trusted_proxies, TrustedProxies::Parse(a.trusted_proxies));
  if (!a.policy.empty()) {
    ASSIGN_OR_RETURN(opt.policy, LoadPolicyFile(a.policy));
  }
  if (!a.policy_file.empty()) {
    ASSIGN_OR_RETURN(opt.policy_rules, LoadPolicyRulesFile(a.policy_file));
    opt.policy_rules_file = a.policy_file;
  }
  opt.notify_config = a.notify;  // loaded (and refused, naming the file) by Server::Start
  ASSIGN_OR_RETURN(opt.journal_flush_interval_ms, ParseDuration(a.journal_flush_interval));
  if (opt.journal_flush_interval_ms <= 0 || opt.journal_flush_interval_ms > kMinuteMs) {
    return InvalidArgument("--journal-flush-interval " + a.journal_flush_interval + " is outside (0, 1m]");
  }
  for (auto [text, name, out_ms] : {std::tuple{&a.head_timeout, "--head-timeout", &opt.head_timeout_ms},
                                    std::tuple{&a.body_timeout, "--body-timeout", &opt.body_timeout_ms}}) {
    ASSIGN_OR_RETURN(DurationMs ms, ParseDuration(*text));
    if (ms < 100 || ms > 10 * kMinuteMs)
      return InvalidArgument(std::string(name) + " " + *text + " is outside [100ms, 10m]");
    *out_ms = static_cast<int>(ms);
  }
  ASSIGN_OR_RETURN(int64_t max_conn, ParseInt(a.max_connections, "--max-connections"));
  ASSIGN_OR_RETURN(int64_t per_client,
                   ParseInt(a.max_connections_per_client, "--max-connections-per-client"));
  if (max_conn < 1 || max_conn > 100'000)
    return InvalidArgument("--max-connections " + a.max_connections + " is outside [1, 100000]");
  if (per_client < 1 || per_client > max_conn)
    return InvalidArgument("--max-connections-per-client " + a.max_connections_per_client +
                           " is outside [1, " + a.max_connections + "]");
  opt.max_connections = static_cast<size_t>(max_conn);
  opt.max_connections_per_client = static_cast<size_t>(per_client);
  if (a.held_without_samples_after == "0") {
    opt.held_without_samples_after_ms = 0;
  } else {
    ASSIGN_OR_RETURN(opt.held_without_samples_after_ms, ParseDuration(a.held_without_samples_after));
  }
  // SIGINT/SIGTERM are taken by sigwait (or sigtimedwait while the database is awaited),
  // not by a handler: no async-signal-safety concerns, and every thread the server starts
  // inherits the blocked mask.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  StderrLogger logger(clock);  // the server's events, one line each (docs/DEPLOY.md)
  DurationMs db_wait_ms = 0;
  if (a.db_wait != "0") {
    ASSIGN_OR_RETURN(db_wait_ms, ParseDuration(a.db_wait));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Ledger> ledger, OpenLedgerWaiting(a.db, db_wait_ms, set, logger, opt));
  // Request buffers (a decompressed remote-write body is ~1 MB) stay in the heap between
  // requests instead of being mapped and faulted in afresh each time.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  // A closed stdout (or any peer) must not kill the server with SIGPIPE: errors on writes
  // are handled where they happen (cpp-httplib's server used to ignore it for us).
  std::signal(SIGPIPE, SIG_IGN);
  opt.logger = &logger;
  // The pause adapters for jobs not of the cooperative launcher (the server pauses those
  // itself); it outlives the server.
  std::unique_ptr<PauseDispatcher> pause = MakePauseDispatcher(a.pause, /*cooperative=*/nullptr);
  opt.job_controller = pause.get();
  Server server(std::move(ledger), clock, opt);
  RETURN_IF_ERROR(server.Start());
  out << "gpuledger server listening on " << opt.host << ":" << server.port()
      << (opt.tls_cert_file.empty() ? " (" : " (https, ") << "ledger " << RedactLedgerUrl(a.db)
      << ", journal " << (opt.journal_dir.empty() ? "off" : opt.journal_dir) << ")" << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  out << "gpuledger server: signal " << sig << ", finishing requests in flight" << std::endl;
  server.Stop();
  return OkStatus();
}

}  // namespace gpuledger
