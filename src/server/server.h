// The gpuledger HTTP server: remote write ingestion, the jobs API and role-scoped
// reports over one Ledger (docs/api/openapi.yaml). Routes (routes.cc) are the one place
// where a Status becomes an HTTP status code. Handlers run on the HTTP front's workers
// (http_front.h: deadlines, connection caps, authentication before bodies); the Ledger is
// used under one mutex (/readyz pings a thread-safe Ledger, PostgreSQL's pool, beside
// it). Start/Stop from one thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "books/books.h"
#include "common/clock.h"
#include "common/logger.h"
#include "common/mutex.h"
#include "ingest/remote_write.h"
#include "ledger/ledger.h"
#include "policy/actions.h"
#include "policy/image_tag.h"
#include "policy/policy_config.h"
#include "server/access_log.h"
#include "server/attribution.h"
#include "server/auth.h"
#include "server/forwarded.h"
#include "server/journal.h"
#include "server/session.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace gpuledger {

struct DcgmBatch;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                  // 0: any free port (tests)
  size_t max_body_bytes = 8 << 20;  // as sent, in any transfer encoding
  // A remote-write body once snappy-decoded (its block header is checked before decoding).
  size_t max_decoded_body_bytes = kMaxRemoteWriteBytes;
  int read_timeout_s = 10;  // scrapes; the front's answers are written within this too
  // The HTTP front (http_front.h): whole-phase deadlines and connection caps.
  int head_timeout_ms = 10'000;
  int body_timeout_ms = 30'000;
  int idle_timeout_ms = 5'000;
  size_t max_connections = 1024;
  size_t max_connections_per_client = 64;
  int keep_alive_max_requests = 100;
  int http_workers = 8;
  // TLS served directly (http_front.h): PEM certificate chain and private key, both or
  // neither; empty: plain HTTP (behind a TLS-terminating proxy, docs/DEPLOY.md).
  std::string tls_cert_file;
  std::string tls_key_file;
  // --trusted-proxy: reverse proxies whose X-Forwarded-For names the client (forwarded.h).
  TrustedProxies trusted_proxies;
  // Register GPUs that remote write names but the ledger lacks (model from modelName).
  bool register_gpus = true;
  // Scrape mode, for sites without Prometheus: dcgm-exporter pages to fetch
  // ("http://host:port/metrics"), every scrape_interval_ms, stamped with the clock's now.
  std::vector<std::string> scrape_targets;
  DurationMs scrape_interval_ms = 10 * kSecondMs;
  // Raw samples older than this are dropped from the ledger once an hour; 0 keeps them.
  DurationMs raw_retention_ms = 90 * kDayMs;
  // Ingest journal (journal.h): accepted samples are acknowledged once appended here and
  // written to the ledger every journal_flush_interval_ms in one transaction. Empty: no
  // journal, every request commits its own ledger transaction before its 2xx.
  std::string journal_dir;
  DurationMs journal_flush_interval_ms = 5 * kSecondMs;
  // Cost reads (reports, job views) are as of the clock's now floored to this grain, and
  // a month in progress is metered at most once per grain and change (BooksCache): the
  // books do not move between two flushes, so neither need their reads. Reads do not
  // flush the journal: they see every sample acknowledged before the last flush. 0: as
  // of now exactly, metered on every read.
  DurationMs books_read_grain_ms = 5 * kSecondMs;
  // Past this many samples waiting for the ledger, writes are refused (503).
  size_t journal_max_pending_samples = 4'000'000;
  // A GPU held by a job (an allocation covering now, begun at least this long ago) with
  // no sample for this long is counted in /metrics (gpuledger_held_gpus_without_samples)
  // and listed on the job's view (held_without_samples): billed, but nothing says it is
  // used. 0: not checked.
  DurationMs held_without_samples_after_ms = 15 * kMinuteMs;
  // The access log (access_log.h): "" none, "-" standard error, else a file appended to.
  std::string access_log;
  // Failed authentications tolerated per client address before it is answered 429.
  AuthThrottle::Limits auth_throttle;
  // The organisation's policies and projects' overrides (--policy FILE; default: the
  // built-in image-tag template, enforced): POST /api/v1/jobs and /api/v1/submissions.
  PolicySet policy;
  // Notifications (--notify FILE, docs/NOTIFICATIONS.md): the outbox's sink and sender.
  // Empty: none (EnqueueNotice refuses).
  std::string notify_config;
  // The policies that act (#13, docs/POLICIES.md): the rules (--policy-file FILE: org
  // defaults and project overrides), changed through PUT /api/v1/policy/rules and
  // written back to policy_rules_file when it is set. A running job is evaluated at each
  // progress post, and at ingest flushes that bring its GPUs' samples at most once per
  // policy_evaluate_every_ms. Jobs of the cooperative launcher are paused by the server's
  // own controller (cooperative_controller.h); the others through job_controller (not
  // owned; pause/dispatcher.h, built from the --docker-socket, --k8s-*, --scontrol flags);
  // null: only cooperative jobs can be paused.
  PolicyRules policy_rules;
  std::string policy_rules_file;
  DurationMs policy_evaluate_every_ms = kMinuteMs;
  JobController* job_controller = nullptr;
  // Where the server and its background loops log (not owned; outlives the Server).
  // Null: nothing is logged. Events: docs/DEPLOY.md "Log lines".
  Logger* logger = nullptr;
};

// The journal is flushed early once it holds this many samples (memory stays bounded
// whatever the interval). Kept apart from journal_max_pending_samples: that is where
// writes are refused, this is when the writer is woken (a small bound, as in tests, need
// not mean a flush per request).
inline constexpr size_t kJournalFlushAtSamples = 1 << 20;

struct ServerCounters {
  std::atomic<int64_t> write_requests{0}, write_rejected{0}, samples_written{0}, report_requests{0},
      denied{0}, gpus_registered{0}, scrapes{0}, scrape_errors{0}, label_allocations{0}, label_conflicts{0},
      retention_samples_dropped{0}, retention_errors{0}, epochs_received{0}, sighting_errors{0},
      journal_flushes{0}, journal_flush_errors{0}, journal_replayed{0}, auth_failures{0}, auth_throttled{0},
      audit_errors{0}, access_log_errors{0}, token_touch_errors{0};
};

// The latest failure of each background task (journal flush, sightings, retention), for
// /healthz: the Status is kept, not only counted. Thread-safe: mu_ guards last_.
class BackgroundErrors {
 public:
  struct Entry {
    Status status;         // the latest failure
    TimeMs at_ms = 0;      // when
    int64_t count = 0;     // failures since start
    bool failing = false;  // the latest run failed (a success clears it, keeps the rest)
  };
  void Record(const std::string& task, const Status& s, TimeMs now);
  std::vector<std::pair<std::string, Entry>> Get() const;

 private:
  mutable Mutex mu_;
  std::map<std::string, Entry> last_ GL_GUARDED_BY(mu_);
};

class HttpFront;
struct HttpFrontOptions;
// The HTTP front's options from the server's: the same address, caps, deadlines and TLS
// for the server and for what answers while it starts (server/starting_front.h).
HttpFrontOptions FrontOptionsOf(const ServerOptions& o);

class NotifyService;
class CooperativeController;
struct JobInputs;
struct Decision;
struct PauseOutcome;
class NoticeSink;
struct Notice;

class Server {
 public:
  // `fs` holds the journal (options.journal_dir); null: the real file system.
  Server(std::unique_ptr<Ledger> ledger, const Clock& clock, ServerOptions options, FileSystem* fs = nullptr);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Replays the ingest journal into the ledger, applies retention, binds and serves on a background thread;
  // returns once it listens.
  Status Start();
  // Stops accepting, finishes requests in flight, writes the journal to the ledger,
  // joins the threads.
  void Stop();
  // Drops raw samples past options.raw_retention_ms (books/retention.h). Takes the ledger lock.
  Status Retain();
  // Writes label sightings not yet in the ledger (attribution.h). Takes the ledger lock.
  Status FlushSightings();
  // Writes what the ingest journal holds to the ledger in one transaction (the writer
  // thread does this every journal_flush_interval_ms; series reads and job
  // registrations do it first, so they see every acknowledged sample; cost reads do not,
  // see books_read_grain_ms). Takes the ledger lock.
  Status FlushJournal();
  // GPUs held now, for at least options.held_without_samples_after_ms, whose last sample
  // (stored, or acknowledged and still in the journal) is older than that. Takes the
  // ledger lock.
  StatusOr<std::vector<std::string>> HeldGpusWithoutSamples();
  int port() const { return port_; }
  const ServerCounters& counters() const { return counters_; }
  const BackgroundErrors& background_errors() const { return background_errors_; }
  // /healthz's and /readyz's body: each dependency (database, journal) and whether it is
  // down. With `ready` (/readyz) the database is asked (PostgreSQL: a ping on a free
  // connection, never behind the journal's flush) and *ready gets whether the server can
  // serve now: the ledger answers and the journal (if any) has room. Without (/healthz,
  // liveness) nothing waits for the database: it says what the ledger saw at its last use.
  std::string HealthJson(bool* ready);
  // Notifications (notify/notify_service.h). notice_sink() is for callers that already
  // hold the ledger lock (the policy engine at a flush); null without --notify.
  // EnqueueNotice takes the lock itself; FailedPrecondition without --notify.
  NoticeSink* notice_sink();
  Status EnqueueNotice(const Notice& n);
  // Monthly statements on the notify config's schedule (statements.cc): once the
  // schedule's day and hour of this month have passed in the ledger's time zone, each
  // project's statement of last month is built and handed to the outbox, once per
  // project and month (the outbox keeps its cause key; a restart sends none again). The
  // maintenance loop calls it every round. OK and nothing done without --notify or a
  // "statements" schedule. Takes the ledger lock.
  Status SendStatementsIfDue() GL_EXCLUDES(ledger_mu_);
  // Open HTTP connections (the front's; 0 before Start).
  size_t open_connections() const;

 private:
  void Routes();
  // Token and audit-log administration (admin_routes.cc).
  void AdminRoutes();
  // POST /api/v1/submissions and GET /api/v1/policy (submission_routes.cc).
  void SubmissionRoutes();
  // POST /api/v1/memory: jobs' own GPU memory from the agent (memory_routes.cc).
  void MemoryRoutes();
  // The dashboard (docs/DASHBOARD.md): its pages at / and its sessions (web_routes.cc);
  // GET /api/v1/jobs and /api/v1/leaderboard (list_routes.cc).
  void WebRoutes();
  void ListRoutes();
  // GET /api/v1/compare and /api/v1/trends (insight_routes.cc, docs/INSIGHT.md).
  void InsightRoutes();
  // Budgets (budget_routes.cc, docs/BUDGETS.md): GET/PUT/DELETE /api/v1/budgets, PUT
  // /api/v1/budgets/gate, and the watch: after each ingest flush that wrote samples, every
  // budget in force this month against the month-to-date books, with the notices due
  // (budget.80, budget.100, budget.projected) each recorded once (budget_alerts), audited
  // and, with --notify, handed to notice_sink(). A failure is
  // logged and kept for /healthz ("budget_watch"), never the flush's.
  void BudgetRoutes();
  void WatchBudgetsLocked() GL_REQUIRES(ledger_mu_);
  void DenyLocked(const httplib::Request& req, httplib::Response& res, const Principal& p, const Status& why)
      GL_REQUIRES(ledger_mu_);
  // GET /api/v1/months, POST /api/v1/months/{M}/close and /reopen, and
  // GET /api/v1/jobs/{id}/report (month_routes.cc).
  void MonthRoutes();
  // The policies that act (#13): routes (policy_routes.cc) and evaluation (policy_engine.cc).
  void PolicyRoutes();
  void DigestRoutes();  // digest.cc
  // The low-efficiency digest of `period` (policy/digest.h): each user it names, told once
  // (audited, through the notice sink) unless dry_run or the rule's dry_run.
  StatusOr<std::vector<DigestEntry>> DigestLocked(Window period, bool dry_run) GL_REQUIRES(ledger_mu_);
  // From the maintenance loop: the digest of the period that ended last, once.
  void RunDigestIfDue() GL_EXCLUDES(ledger_mu_);
  // Evaluates the rules for these jobs (those not running are skipped; `throttled`: those
  // evaluated within policy_evaluate_every_ms too) and applies each decision. Failures
  // are logged and kept for /healthz, never answered: ingest does not fail for them.
  void EvaluatePoliciesLocked(const std::vector<std::string>& job_ids, bool throttled)
      GL_REQUIRES(ledger_mu_);
  // The running jobs holding now the GPUs these samples are of, throttled.
  void EvaluatePoliciesForSamplesLocked(const std::vector<GpuSample>& samples) GL_REQUIRES(ledger_mu_);
  // Pending jobs holding the samples' GPUs become running at their first sample
  // (job_update.h StartPendingJobsAtFirstSample).
  void StartPendingJobsLocked(const std::vector<GpuSample>& samples) GL_REQUIRES(ledger_mu_);
  // At a progress post: a pending job is running (StartPendingJob), and a paused one
  // whose run is back after a resume runs again (RunPausedJobAgain).
  Status StartJobAtProgressLocked(const std::string& job_id) GL_REQUIRES(ledger_mu_);
  StatusOr<JobInputs> PolicyInputsLocked(const Job& job, const RulesConfig& rules, TimeMs now)
      GL_REQUIRES(ledger_mu_);
  // Records the decision once per cause, acts on it, audits and notifies: one unit of work.
  Status ApplyDecisionLocked(const Job& job, const Decision& d, const std::string& by)
      GL_REQUIRES(ledger_mu_);
  // Who pauses and resumes a target: the server's cooperative controller for the
  // cooperative launcher, job_controller (the adapters) for the others; FailedPrecondition
  // naming the launcher when there is none.
  StatusOr<JobController*> ControllerFor(const PauseTarget& target) GL_REQUIRES(ledger_mu_);
  // A pause recorded (its intent: the pause row and the decision) whose launcher is asked
  // after that commit, outside the ledger lock, and whose outcome is recorded in a second
  // transaction (SettlePauseLocked). docs/POLICIES.md "What a decision does".
  struct PendingPause {
    Job job;
    PauseTarget target;
    JobController* controller = nullptr;  // an adapter: never the cooperative controller
    JobPause pause;                       // as opened (id assigned)
    std::string cause_key;                // of the decision that asked for it
    bool manual = false;                  // POST /api/v1/jobs/{id}/pause: a refusal leaves nothing behind
    bool recovered = false;               // left over by the last run (RequeueLeftOverPausesLocked)
    Decision decision;                    // a rule's (manual: reason and by only)
  };
  // Opens the job's pause record: a cooperative job is paused at once (a stop request of
  // kind pause, in this transaction; *outcome filled); a job of another launcher gets an
  // intent record and *pending, for its launcher to be asked after the commit. Returns
  // the mode.
  StatusOr<std::string> PauseJobLocked(const Job& job, const std::string& reason, const std::string& by,
                                       const std::string& cause_key, PauseOutcome* outcome,
                                       std::optional<PendingPause>* pending) GL_REQUIRES(ledger_mu_);
  // Records what the launcher answered, in one transaction with `also` (the API's audit
  // entry): a pause done settles its record (and a freed GPU's holds end at the pause,
  // so its time goes to unallocated capacity); a refusal deletes the pause record, and the
  // decision too when manual or Unavailable (decided afresh), or records "not paused".
  Status SettlePauseLocked(const PendingPause& p, const StatusOr<PauseOutcome>& answer,
                           const std::function<Status()>& also) GL_REQUIRES(ledger_mu_);
  // Asks the launchers of the pauses decided under the lock since the last call, each
  // without the lock, and settles each (called after FlushJournal, Store and a progress
  // post release the lock).
  void RunPendingPauses() GL_EXCLUDES(ledger_mu_);
  // At Start: the pause intents an earlier run recorded and never settled (it stopped
  // between the intent's commit and its answer's: the decision reads "pausing", its pause
  // record is open) are queued again, so their launcher is asked (a pause of a job it
  // paused already counts as done) at the next RunPendingPauses: a request or flush that
  // runs it, or the maintenance loop's next round. A failure is logged and kept for /healthz.
  void RequeueLeftOverPausesLocked() GL_REQUIRES(ledger_mu_);
  // Ends the job's holds open at `at_ms` there (a pause that freed its GPUs); reopens them
  // at a resume (GPUs no other job holds by then). Return how many.
  StatusOr<int> ReleaseHoldsLocked(const std::string& job_id, TimeMs at_ms) GL_REQUIRES(ledger_mu_);
  StatusOr<int> ReopenHoldsLocked(const JobPause& pause, TimeMs at_ms) GL_REQUIRES(ledger_mu_);
  // A rules change (PUT /api/v1/policy/rules[/projects/{p}]): audited in its own
  // transaction, then written to --policy-file; OK when the caller may put it in force.
  Status CommitRulesLocked(const httplib::Request& req, const Principal& p, const PolicyRules& next,
                           const std::string& action, const std::string& detail) GL_REQUIRES(ledger_mu_);
  // The job view's policy part: its decisions and paused intervals.
  StatusOr<std::string> JobPolicyJsonLocked(const std::string& job_id) GL_REQUIRES(ledger_mu_);
  // The access log's hook on the HTTP front (server_auth.cc).
  void InstallAccessLog();
  // The one authentication step (server_auth.cc): the request's bearer token, checked
  // against the token cache or the ledger, its expiry and the address's failures. A
  // refusal is counted, audited and held against the address; an address the throttle
  // holds back is ResourceExhausted with *retry_after_ms set (not audited).
  StatusOr<Principal> CheckToken(const httplib::Request& req, DurationMs* retry_after_ms);
  // CheckToken for a handler: nullopt with the reply made (401, or 429 with Retry-After).
  std::optional<Principal> Authenticate(const httplib::Request& req, httplib::Response& res);
  // Called by the front with a request head, before its body is read: every route but
  // /healthz, /readyz and /metrics needs a known token, and the ingest routes an ingest or admin
  // one; a refusal is answered from `verdict`'s status and headers.
  Status Admit(const httplib::Request& req, httplib::Response& verdict);
  // A 403 for an authenticated caller: replied, counted and audited.
  void Deny(const httplib::Request& req, httplib::Response& res, const Principal& p, const Status& why);
  // Appends to the audit log who (p; null: unauthenticated), what (action, detail), when
  // (the clock) and from where (the request's address), under a held ledger lock.
  Status AuditLocked(const httplib::Request& req, const Principal* p, int status, const std::string& action,
                     const std::string& detail) GL_REQUIRES(ledger_mu_);
  void ScrapeLoop();
  void MaintenanceLoop();
  // Waits up to `ms` for Stop; true when stopping.
  bool WaitForStop(DurationMs ms);
  // Checks the batch (its GPUs and samples) and makes it durable: the samples and the
  // GPUs new to the ledger (when the server registers GPUs) appended to the journal in
  // one frame (without the ledger lock), or, with no journal, committed to the ledger in
  // one transaction. A refusal stores nothing.
  Status Store(DcgmBatch batch);
  // The batch's GPUs the ledger lacks, checked, nothing stored (takes the ledger lock
  // only then); refused when the server does not register GPUs.
  StatusOr<std::vector<Gpu>> NewGpus(const DcgmBatch& batch);
  // Stores those of `gpus` the ledger still lacks (inside the caller's transaction):
  // how many.
  StatusOr<int64_t> RegisterGpusLocked(const std::vector<Gpu>& gpus) GL_REQUIRES(ledger_mu_);
  void NoteKnownGpus(const std::vector<Gpu>& gpus);      // in the ledger
  void NoteJournaledGpus(const std::vector<Gpu>& gpus);  // in the journal, on their way
  // Moves the sightings requests queued into sightings_, under a held ledger lock.
  void DrainSightings() GL_REQUIRES(ledger_mu_);
  // FlushJournal under a held ledger lock.
  Status FlushJournalLocked() GL_REQUIRES(ledger_mu_);
  // Writes the label sightings that are due and lets them claim GPUs for their jobs
  // (attribution.h), under a held ledger lock.
  Status Attribute() GL_REQUIRES(ledger_mu_);
  void WriterLoop();
  // The as-of of a cost read of `month` (books_read_grain_ms): now floored to the grain,
  // or now while the floor is still at the month's start (a month that has begun).
  TimeMs BooksAsOf(const BooksContext& ctx, std::optional<YearMonth> month) const;
  Mutex ledger_mu_ GL_ACQUIRED_BEFORE(ingest_mu_);
  std::unique_ptr<Ledger> ledger_ GL_PT_GUARDED_BY(ledger_mu_);
  JobLabelCache label_jobs_ GL_GUARDED_BY(ledger_mu_);
  std::set<std::string> not_pending_jobs_ GL_GUARDED_BY(ledger_mu_);  // StartPendingJobsLocked
  SightingBuffer sightings_ GL_GUARDED_BY(ledger_mu_);
  // ledger_ itself, unguarded, for what needs no lock: Health() (thread-safe on every
  // Ledger) and, when ledger_->thread_safe() (PostgreSQL's pool), Ping() (/readyz never
  // waits behind the journal's flush). Set once in the constructor.
  Ledger* const ledger_unlocked_;
  TokenCache tokens_;                      // thread-safe: authentication without the ledger lock
  SessionStore sessions_;                  // thread-safe: the dashboard's, in memory only
  std::unique_ptr<AccessLog> access_log_;  // null: none; thread-safe
  BooksCache books_;                       // thread-safe: partial months' books between flushes
  SeriesCache series_;  // remote-write label sets seen before (thread-safe; decoding is outside the lock)
  Mutex ingest_mu_;     // held briefly
  std::unordered_set<std::string> known_gpus_ GL_GUARDED_BY(ingest_mu_);  // GPUs in the ledger
  // GPUs journaled with their samples and not yet in the ledger (as first journaled):
  // every frame naming one carries it again until a flush has registered it.
  std::unordered_map<std::string, Gpu> journaled_gpus_ GL_GUARDED_BY(ingest_mu_);
  // From journaled requests, for the next flush.
  std::vector<LabelSighting> incoming_sightings_ GL_GUARDED_BY(ingest_mu_);
  // The latest sample accepted of each GPU (HeldGpusWithoutSamples).
  std::unordered_map<std::string, TimeMs> last_sample_ms_ GL_GUARDED_BY(ingest_mu_);
  std::unique_ptr<FileSystem> own_fs_;
  FileSystem* fs_ = nullptr;                 // the journal's
  std::unique_ptr<IngestJournal> journal_;   // thread-safe; written to the ledger under ledger_mu_
  DurationMs interval_ms_ = 10 * kSecondMs;  // the ledger's default sample interval, read at Start
  const Clock& clock_;
  ServerOptions options_;
  std::unique_ptr<HttpFront> http_;
  std::unique_ptr<NotifyService> notify_;               // null without options_.notify_config
  PolicyRules policy_rules_ GL_GUARDED_BY(ledger_mu_);  // from options_; PUT /api/v1/policy/rules
  std::unordered_map<std::string, TimeMs> policy_evaluated_ms_ GL_GUARDED_BY(ledger_mu_);
  std::vector<PendingPause> pending_pauses_ GL_GUARDED_BY(ledger_mu_);  // RunPendingPauses
  // Jobs whose launcher is being asked to pause (intent committed, answer not yet
  // settled): a resume waits for the answer (a resume before it would be undone by it).
  std::set<std::string> pauses_asked_ GL_GUARDED_BY(ledger_mu_);
  TimeMs digest_done_for_ GL_GUARDED_BY(ledger_mu_) = kMinTimeMs;  // the period start last digested
  std::optional<YearMonth> statements_done_for_ GL_GUARDED_BY(ledger_mu_);  // SendStatementsIfDue
  std::unique_ptr<CooperativeController> cooperative_;             // on *ledger_, under ledger_mu_
  AuthThrottle throttle_;  // thread-safe; after options_, which it is made from
  std::thread scraper_;
  std::thread maintenance_;
  std::thread writer_;  // the journal's
  Mutex stop_mu_;
  CondVar stop_cv_;  // also wakes the writer early (flush_soon_)
  bool stopping_ GL_GUARDED_BY(stop_mu_) = false;
  bool flush_soon_ GL_GUARDED_BY(stop_mu_) = false;
  int port_ = 0;
  ServerCounters counters_;
  BackgroundErrors background_errors_;
  // Logging (logger.h): each background operation's failures once per cause.
  NullLogger null_logger_;
  Logger& log_ = options_.logger ? *options_.logger : null_logger_;
  FailureLog flush_log_{log_, "journal_flush"};
  FailureLog sightings_log_{log_, "sightings_flush"};
  FailureLog retention_log_{log_, "retention"};
  FailureLog audit_log_{log_, "audit_write"};
  FailureLog access_log_log_{log_, "access_log_write"};
  FailureLog token_touch_log_{log_, "token_touch"};
  FailureLog budget_watch_log_{log_, "budget_watch"};
  FailureLog statements_log_{log_, "statements"};
  FailureLog policy_log_{log_, "policy_evaluate"};
  std::vector<std::unique_ptr<FailureLog>> scrape_logs_;  // one per scrape target (Start)
  LoggingCorruptionReporter journal_reporter_{log_, "journal"};
};

}  // namespace gpuledger
