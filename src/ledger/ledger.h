// Ledger: the books' store, the only interface the rest of gpuledger uses to read and
// write jobs, GPUs, allocations, samples, progress, prices and built usage rows.
// Backends: sqlite/ (the embedded default) and postgres/ (production). Every Put* is all-or-nothing: it
// validates everything first and writes in one transaction, so a bad row leaves nothing behind. A Ledger
// object is not thread-safe (open one per thread) unless thread_safe() says it is: the PostgreSQL one
// is, a pool of connections (postgres/pool.h). Health() is always thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/backoff.h"
#include "common/clock.h"
#include "common/status.h"
#include "domain/types.h"
#include "ledger/budgets.h"
#include "ledger/outbox.h"
#include "ledger/policy_rows.h"

namespace gpuledger {

struct LedgerSettings {
  std::string currency = "CNY";
  std::string timezone = "Asia/Shanghai";
  DurationMs default_interval_ms = 10 * kSecondMs;
  DurationMs default_max_gap_ms = 30 * kSecondMs;
  // Set only by DropSamplesBefore (SetSettings leaves it): raw samples before this time
  // were dropped by retention, so books of months that start before it are frozen.
  TimeMs raw_retained_from_ms = 0;
};

// Whether the store behind a Ledger answers (/healthz, /readyz). An embedded SQLite file
// always does; a PostgreSQL server may be away (restarting, crashed, unreachable).
// Monthly close (report/close.h, docs/CLOSE.md): a month's frozen books and its state.
struct MonthClose {
  std::string month;  // YYYY-MM
  bool closed = true;  // false: reopened (the row keeps who reopened it and why)
  TimeMs closed_ms = 0;
  std::string closed_by;
  TimeMs reopened_ms = 0;
  std::string reopened_by;
  std::string reopen_reason;
  int64_t total_micros = 0;  // the frozen books' total, for listings
  std::string checksum;      // SHA-256 of body, hex
  std::string body;          // the canonical serialisation the checksum covers
};

struct LedgerHealth {
  std::string backend = "sqlite";
  bool reachable = true;
  Status last_error;           // the latest connection loss or failed connect, if any (kept after recovery)
  TimeMs down_since_ms = 0;    // while !reachable
  TimeMs next_attempt_ms = 0;  // while !reachable: no reconnect is tried before this
  int failed_connects = 0;     // in a row, while !reachable
  int64_t losses = 0;          // connections that broke, since open
  int64_t reconnects = 0;      // connections made again after a loss
  int64_t retries = 0;         // calls run again on a new connection after a loss
};

class Ledger {
 public:
  virtual ~Ledger() = default;

  // Whether every method may be called from several threads at once.
  virtual bool thread_safe() const { return false; }
  // A snapshot; never blocks, sends nothing.
  virtual LedgerHealth Health() const { return {}; }
  // One round trip to the store (PostgreSQL: reconnecting first when a reconnect is due);
  // Unavailable while it is away. Thread-safe when thread_safe().
  virtual Status Ping() { return OkStatus(); }

  // One unit of work: every write `work` makes through this Ledger is stored in one
  // transaction, or none is (the writes' own transactions join it). A refused request
  // that wrote a job and then failed on its allocations leaves nothing behind. Reads
  // inside see the writes made so far.
  virtual Status InTransaction(const std::function<Status()>& work) = 0;

  virtual StatusOr<LedgerSettings> GetSettings() = 0;
  virtual Status SetSettings(const LedgerSettings& s) = 0;

  // Jobs replace earlier versions of themselves (status and end time change). The image
  // digest of every job is also kept in a table that retention never touches.
  virtual Status PutJobs(const std::vector<Job>& jobs) = 0;
  virtual Status PutGpus(const std::vector<Gpu>& gpus) = 0;
  // Rejects unknown jobs or GPUs, holds outside the GPU's service, and any instant at
  // which one GPU's shares (with those already stored) exceed 1.
  virtual Status PutAllocations(const std::vector<Allocation>& allocs) = 0;
  // Rejects samples of unknown GPUs. A sample with the same GPU and time as a stored
  // one is merged field by field: the fields it reports (>= 0) replace the stored ones,
  // those it lacks (-1) keep theirs. Remote write splits one GPU's metrics across
  // requests; a re-import is idempotent.
  virtual Status PutSamples(const std::vector<GpuSample>& samples) = 0;
  virtual Status PutProgress(const std::string& job_id, const std::vector<EpochProgress>& epochs) = 0;
  virtual Status PutPrices(const std::vector<Price>& prices) = 0;

  virtual StatusOr<std::vector<Job>> ListJobs() = 0;  // in no particular order
  virtual StatusOr<std::optional<Job>> GetJob(const std::string& id) = 0;
  // (job id, that field) for every job: what reports group by, without loading whole
  // jobs (a month of a 1,000-GPU cluster has ~60,000).
  enum class JobField { kUser, kProject, kDepartment, kModelType, kImage, kFramework };
  virtual StatusOr<std::vector<std::pair<std::string, std::string>>> ListJobField(JobField field) = 0;
  virtual StatusOr<std::vector<Gpu>> ListGpus() = 0;
  virtual StatusOr<std::vector<Allocation>> AllocationsOverlapping(Window w) = 0;
  // Every allocation of one job, by GPU and start.
  virtual StatusOr<std::vector<Allocation>> AllocationsOfJob(const std::string& job_id) = 0;
  // Calls fn for each sample of the GPU in [w.start, w.end), in time order.
  virtual Status ScanSamples(const std::string& gpu_uuid, Window w,
                             const std::function<void(const Sample&)>& fn) = 0;
  // The last sample of the GPU before t, if any (it may stand for time after t).
  virtual StatusOr<std::optional<Sample>> SampleBefore(const std::string& gpu_uuid, TimeMs t) = 0;
  // Whether the GPU has any sample at t or later: a window's last sample stands for one
  // max gap, not one interval, when the stream goes on past the window (METERING.md).
  virtual StatusOr<bool> HasSampleAtOrAfter(const std::string& gpu_uuid, TimeMs t) = 0;
  virtual StatusOr<std::vector<Price>> ListPrices() = 0;
  virtual StatusOr<std::vector<EpochProgress>> GetProgress(const std::string& job_id) = 0;
  // Early stop requests: Put replaces the job's earlier one (NotFound for an unknown job).
  virtual Status PutStopRequest(const StopRequest& r) = 0;
  virtual StatusOr<std::optional<StopRequest>> GetStopRequest(const std::string& job_id) = 0;
  // Withdraws the job's stop request, so a re-run is not stopped by the old one. Returns
  // whether there was one to withdraw.
  virtual StatusOr<bool> DeleteStopRequest(const std::string& job_id) = 0;
  // The estimate a job was submitted with: Put replaces the job's earlier one (NotFound
  // for an unknown job). Retention never touches it.
  virtual Status PutEstimate(const JobEstimate& e) = 0;
  virtual StatusOr<std::optional<JobEstimate>> GetEstimate(const std::string& job_id) = 0;
  // A job's own memory per GPU (domain/types.h JobGpuMemory). Put merges each row into
  // the stored one: the larger peak, the wider span (NotFound for an unknown job or GPU;
  // the rows are stored all or none). Get: the job's rows by GPU.
  virtual Status PutJobGpuMemory(const std::vector<JobGpuMemory>& rows) = 0;
  virtual StatusOr<std::vector<JobGpuMemory>> GetJobGpuMemory(const std::string& job_id) = 0;
  // Retention: deletes every sample before `cutoff` and records the cutoff as
  // raw_retained_from_ms, in one transaction. Records no change: books built before
  // stay as built (books/retention.h builds them first). Returns the samples deleted.
  virtual StatusOr<int64_t> DropSamplesBefore(TimeMs cutoff) = 0;

  // Built books. Every Put* records the time span it changed; a month's books are
  // stale when a change newer than the one they were built at touches their window.
  virtual StatusOr<int64_t> LatestChangeOverlapping(Window w) = 0;
  // The spans of the changes after `after_id` that overlap `w` and can alter metered
  // slices (samples, allocations, GPUs, prices, settings; not job records alone). A
  // sample written after a gap longer than the pad also records the span its GPU's
  // previous sample may stand for: that sample stood for less while it was the last.
  virtual StatusOr<std::vector<Window>> SliceChangesSince(int64_t after_id, Window w) = 0;
  virtual StatusOr<std::optional<int64_t>> BooksBuiltAt(const std::string& key) = 0;
  virtual Status ReplaceUsage(const std::string& key, int64_t built_change,
                              const std::vector<UsageRow>& rows) = 0;
  virtual StatusOr<std::vector<UsageRow>> GetUsage(const std::string& key) = 0;

  // Workload labels seen on samples: Put widens each stored span to include the new one.
  virtual Status PutSightings(const std::vector<LabelSighting>& s) = 0;
  virtual StatusOr<std::vector<LabelSighting>> FindSightings(const std::string& label,
                                                             const std::string& value) = 0;

  // Jobs whose label `key` equals `value` (and, for key "hpc_job", the job whose id is
  // `value`): how a sample's workload label names its job.
  virtual StatusOr<std::vector<Job>> FindJobsByLabel(const std::string& key, const std::string& value) = 0;

  // API tokens. PutToken inserts or replaces by id.
  virtual Status PutToken(const TokenRecord& t) = 0;
  virtual StatusOr<std::optional<TokenRecord>> FindTokenByHash(const std::string& hash) = 0;
  virtual StatusOr<std::optional<TokenRecord>> FindTokenById(const std::string& id) = 0;
  virtual StatusOr<std::vector<TokenRecord>> ListTokens() = 0;  // by created_ms, then id
  // Marks the token revoked at `at_ms` (NotFound naming the id when there is none; a
  // token revoked before keeps its first revocation time).
  virtual Status RevokeToken(const std::string& id, TimeMs at_ms) = 0;
  // Records a use: last_used_ms becomes at_ms if that is later. Unknown ids are ignored.
  virtual Status TouchToken(const std::string& id, TimeMs at_ms) = 0;
  // Whether a project or a department of that name is in the books (token scopes name one).
  virtual StatusOr<bool> HasProject(const std::string& name) = 0;
  virtual StatusOr<bool> HasDepartment(const std::string& name) = 0;

  // The audit log, a hash chain (audit_chain.h). AppendAudit ignores e's seq, prev_hash
  // and hash and assigns them as the entry after the last, in one transaction that
  // excludes other appenders (other processes too).
  virtual Status AppendAudit(const AuditEntry& e) = 0;
  // Entries with seq > after_seq in seq order, at most `limit` of them (0: all).
  virtual StatusOr<std::vector<AuditEntry>> ListAudit(int64_t after_seq, size_t limit) = 0;
  StatusOr<std::vector<AuditEntry>> ListAudit() { return ListAudit(0, 0); }

  // Per-minute rollups of one GPU: Replace drops those in [w.start, w.end) first.
  virtual Status ReplaceMinutes(const std::string& gpu_uuid, Window w,
                                const std::vector<MinuteRollup>& rows) = 0;
  virtual StatusOr<std::vector<MinuteRollup>> GetMinutes(const std::string& gpu_uuid, Window w) = 0;

  // The salt of desensitised exports: the stored one, or `candidate` stored and returned
  // when there is none yet (the first caller's wins, across processes too).
  virtual StatusOr<std::string> GetOrCreateExportSalt(const std::string& candidate) = 0;

  // The notification outbox (ledger/outbox.h, docs/NOTIFICATIONS.md). PutNotice stores
  // the notice and its deliveries in one transaction (joining the caller's), assigning
  // each delivery's id; when a notice with the same cause_key is stored already it
  // stores nothing and returns false.
  virtual StatusOr<bool> PutNotice(const OutboxNotice& notice, const std::vector<OutboxDelivery>& deliveries) = 0;
  // Deliveries pending or sending with next_attempt_ms <= now, by next_attempt_ms then
  // id, at most `limit`.
  virtual StatusOr<std::vector<OutboxDelivery>> DueDeliveries(TimeMs now, size_t limit) = 0;
  // Writes a delivery's state, attempts, next_attempt_ms, sent_ms and last_error (by id;
  // NotFound naming the id when there is none).
  virtual Status UpdateDelivery(const OutboxDelivery& d) = 0;
  // The deliveries of one notice (empty cause_key: all), by id.
  virtual StatusOr<std::vector<OutboxDelivery>> ListDeliveries(const std::string& cause_key) = 0;

  // ---- Budgets (#13 item 2, docs/BUDGETS.md, ledger/budgets.h, migration 0019) ----
  // PutBudget inserts, or replaces, the one budget of (scope, name, month); ListBudgets:
  // projects then departments, by name, "every month" before the months in order;
  // DeleteBudget returns whether there was one. The gate mode: warn when never set.
  virtual Status PutBudget(const BudgetRecord& b) = 0;
  virtual StatusOr<std::vector<BudgetRecord>> ListBudgets() = 0;
  virtual StatusOr<bool> DeleteBudget(BudgetScope scope, const std::string& name,
                                      std::optional<YearMonth> month) = 0;
  virtual StatusOr<BudgetGateSetting> GetBudgetGate() = 0;
  // PutBudgetAlert stores an alert unless one with its cause key exists (then false,
  // nothing written); ListBudgetAlerts: a month's, by at_ms then cause key (migration 0021).
  virtual StatusOr<bool> PutBudgetAlert(const BudgetAlertRow& a) = 0;
  virtual StatusOr<std::vector<BudgetAlertRow>> ListBudgetAlerts(YearMonth month) = 0;
  virtual Status SetBudgetGate(const BudgetGateSetting& g) = 0;
  // --- Monthly close (finance; migration 0020; report/close.h) ---
  // PutMonthClose inserts or replaces the month's row (joining the caller's transaction).
  virtual Status PutMonthClose(const MonthClose& c) = 0;
  virtual StatusOr<std::optional<MonthClose>> GetMonthClose(const std::string& month) = 0;
  // Every month ever closed, by month; `with_body` false leaves body empty (listings).
  virtual StatusOr<std::vector<MonthClose>> ListMonthCloses(bool with_body) = 0;
  // --- Policies that act (#13; migration 0018; ledger/policy_rows.h) ---
  // PutDecision stores the decision and assigns its id; when one with the same cause_key
  // is stored already it stores nothing and returns false (NotFound for an unknown job).
  virtual StatusOr<bool> PutDecision(PolicyDecisionRow& d) = 0;
  virtual StatusOr<std::optional<PolicyDecisionRow>> GetDecision(const std::string& cause_key) = 0;
  // Decisions of one job (empty: all jobs) at or after from_ms, by at_ms then id, at most
  // `limit` (0: all).
  virtual StatusOr<std::vector<PolicyDecisionRow>> ListDecisions(const std::string& job_id, TimeMs from_ms,
                                                                size_t limit) = 0;
  // A job's pauses: PutPause opens one (assigning its id; FailedPrecondition when the job
  // has one open, NotFound for an unknown job), EndPause closes the open one (NotFound
  // when there is none), ListPauses gives them all by paused_ms.
  virtual Status PutPause(JobPause& p) = 0;
  virtual StatusOr<std::optional<JobPause>> OpenPause(const std::string& job_id) = 0;
  virtual Status EndPause(const std::string& job_id, TimeMs resumed_ms) = 0;
  virtual StatusOr<std::vector<JobPause>> ListPauses(const std::string& job_id) = 0;
  // Every job's pauses that overlap [w.start, w.end) (an open one reaches on), by job then
  // paused_ms: what a month's report reads of paused time.
  virtual StatusOr<std::vector<JobPause>> PausesOverlapping(Window w) = 0;
  // A pause is recorded before its launcher is asked (the intent) and settled after
  // (docs/POLICIES.md "What a decision does"): SettlePause sets what the launcher answered
  // (gpus_freed, resume_command) on pause p.id; DeletePause and DeleteDecision take back
  // an intent the launcher refused; SetDecisionData replaces a decision's data (its
  // outcome). Each is NotFound when there is no such row.
  virtual Status SettlePause(const JobPause& p) = 0;
  virtual Status DeletePause(int64_t pause_id) = 0;
  virtual Status SetDecisionData(const std::string& cause_key, const std::string& data_json) = 0;
  virtual Status DeleteDecision(const std::string& cause_key) = 0;
};

// Opens (creating if needed) an SQLite ledger at `path` in WAL mode and applies any
// pending migrations.
StatusOr<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path);
// Connects to PostgreSQL (a libpq URL, postgresql://user@host:port/db) and applies any
// pending migrations (one migrator at a time, under an advisory lock).
// The Ledger is a pool of `connections` (opened as needed, the first at once), thread-safe; each reconnects
// after PostgreSQL restarts, no sooner than `backoff` allows on `clock` (null: the system clock).
struct PostgresOptions {
  size_t connections = 4;
  const Clock* clock = nullptr;
  BackoffOptions backoff;
};
StatusOr<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url);
StatusOr<std::unique_ptr<Ledger>> OpenPostgresLedger(const std::string& url, const PostgresOptions& options);
// By the form of `db`: postgresql://... or postgres://... -> PostgreSQL;
// sqlite:///path or a plain file path -> SQLite.
StatusOr<std::unique_ptr<Ledger>> OpenLedger(const std::string& db);
// `db` with its password replaced by "***" (the userinfo of a postgresql:// URL, and any
// password= parameter): what messages and logs show, since errors reach the
// unauthenticated /healthz and /readyz.
std::string RedactLedgerUrl(std::string_view db);
// NotFound naming the path when `db` is an SQLite file that does not exist: commands that
// only read the books check it first, so a mistyped --db never creates an empty ledger.
Status LedgerExists(const std::string& db);

}  // namespace gpuledger
