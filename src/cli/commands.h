// Subcommand bodies, one per file, called by cli.cc once CLI11 has parsed the options.
// Each returns a Status; cli.cc prints it. Not thread-safe.
#pragma once

#include <map>
#include <optional>
#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "ledger/ledger.h"
#include "pause/dispatcher.h"

namespace gpuledger {

// gpuledger notify test (cmd_notify.cc): one test message through one channel of a
// notify config, sent at once; an error says what the service or relay answered.
struct NotifyTestArgs {
  std::string config;
  std::string channel;
  std::string user;  // fills {user} in a mail channel's addresses
};
Status CmdNotifyTest(const NotifyTestArgs& a, const Clock& clock, std::ostream& out);

// gpuledger budget set|list|rm|gate (cmd_budget.cc, docs/BUDGETS.md).
struct BudgetArgs {
  std::string db;
  std::string project;     // one of project and department names the scope
  std::string department;
  std::string month;       // YYYY-MM, or "every" / empty: every month (list: the month shown)
  std::string amount;      // set: in major units of the ledger's currency ("10000.00")
  std::string gate;        // gate: warn | refuse
  std::string format = "table";  // list: table | json
};
Status CmdBudgetSet(const BudgetArgs& a, const Clock& clock, std::ostream& out);
Status CmdBudgetList(const BudgetArgs& a, const Clock& clock, std::ostream& out);
Status CmdBudgetRm(const BudgetArgs& a, const Clock& clock, std::ostream& out);
Status CmdBudgetGate(const BudgetArgs& a, const Clock& clock, std::ostream& out);

struct InitArgs {
  std::string db;
  std::string currency = "CNY";
  std::string timezone = "Asia/Shanghai";
  std::string interval = "10s";
  std::string max_gap = "30s";
};
Status CmdInit(const InitArgs& a, std::ostream& out);

struct ImportArgs {
  std::string kind;  // jobs | gpus | allocations | samples | prices | progress
  std::string db;
  std::string file;
  std::string job;             // for progress
  std::string at;              // for scrape: the time of a saved scrape without timestamps
  bool register_gpus = false;  // for scrape: add the GPUs the labels describe
};
Status CmdImport(const ImportArgs& a, std::ostream& out);

struct ReportArgs {
  std::string db;
  std::string month;
  std::string by = "department";
  std::string format = "table";
  bool share_idle = false;
  bool share_idle_across_models = false;  // one pool for all GPU models instead of one per model
  std::string as_of;                      // RFC 3339; "" = the clock's now
  // A date range instead of the month (report/periods.h): YYYY-MM-DD or YYYY-MM, `to`
  // inclusive, cut by grain (range | day | week | month).
  std::string from, to;
  std::string grain;
};
// An empty month means the one before `clock`'s now, in the ledger's time zone.
Status CmdReport(const ReportArgs& a, const Clock& clock, std::ostream& out);
Status CmdJobs(const ReportArgs& a, const Clock& clock, std::ostream& out);

struct ExportArgs {
  std::string db;
  std::string month;   // "" = last month
  std::string format;  // csv | json | focus | xlsx
  std::string by;      // "" = department (csv, json); focus is always by job
  bool desensitised = false;
  bool share_idle = false;  // csv and json: idle capacity shared out to the lines
  std::string as_of;  // RFC 3339; "" = the clock's now
  std::string out;    // "" = standard output
  std::string from, to, grain;  // a date range instead of the month, as ReportArgs
};
// The month's books for machines (docs/EXPORTS.md); --desensitised names no user or job.
Status CmdExport(const ExportArgs& a, const Clock& clock, std::ostream& out);

struct SeriesArgs {
  std::string db;
  std::string gpu;
  std::string month;  // "" = last month
  std::string format = "csv";
  std::string as_of;  // RFC 3339; "" = the clock's now
};
// One GPU's per-minute rollups over a month (the month's books are built first).
Status CmdSeries(const SeriesArgs& a, const Clock& clock, std::ostream& out);

struct LeaderboardArgs {
  std::string db;
  std::string month;  // "" = all months
  std::string format = "table";
  std::string as_of;  // RFC 3339; "" = the clock's now
};
Status CmdLeaderboard(const LeaderboardArgs& a, const Clock& clock, std::ostream& out);

struct ServerArgs {
  std::string db;
  std::string listen = "127.0.0.1:8080";
  std::string max_body = "8388608";
  std::vector<std::string> scrape;  // dcgm-exporter URLs (scrape mode)
  std::string scrape_interval = "10s";
  std::string retention = "2160h";  // 90 days; "0" keeps raw samples forever
  std::string journal;              // empty: <file>.journal beside an SQLite ledger; "none": off
  std::string journal_flush_interval = "5s";
  std::string head_timeout = "10s";  // the whole request head
  std::string body_timeout = "30s";  // the whole body
  std::string max_connections = "1024";
  std::string max_connections_per_client = "64";
  std::string held_without_samples_after = "15m";  // "0": not checked
  std::string access_log;  // "" none, "-" standard error, else a file (docs/formats/access-log.md)
  std::string tls_cert;    // PEM certificate chain; with tls_key the server speaks only TLS
  std::string tls_key;     // PEM private key (unencrypted)
  std::vector<std::string> trusted_proxies;  // --trusted-proxy ADDR[/PREFIX], repeatable
  std::string db_wait = "10m";  // how long a start waits for PostgreSQL to answer ("0": not at all)
  std::string policy;      // policy file (docs/POLICIES.md); "" = the built-in default
  std::string notify;       // notify config (docs/NOTIFICATIONS.md); "" = no notifications
  std::string policy_file;  // the acting rules (#13): --policy-file
  PauseConfig pause;        // the pause adapters (--docker-socket, --k8s-*, --scontrol)
};
// Serves until SIGINT or SIGTERM, then finishes requests in flight and exits.
Status CmdServer(const ServerArgs& a, const Clock& clock, std::ostream& out);

struct AgentArgs {
  std::string server;      // http://host:port
  std::string token_file;  // holds an ingest token; else $GPULEDGER_TOKEN
  std::string ca_file;     // https: PEM certificate(s) to trust; else $GPULEDGER_CA_FILE, else the system's
  std::string interval = "1s";
  std::string push_interval = "10s";
  std::string buffer_dir = "/var/lib/gpuledger/agent";
  std::string buffer_max = "256MiB";
  std::string node;  // default: the host name
  std::string nvml;  // default: libnvidia-ml.so.1 from the loader's path
  std::string proc = "/proc";
  std::string gpustat_dir = "/run/gpustat";
  std::string dcgm_hpc_map;
  std::string docker_socket = "/var/run/docker.sock";
  std::string run_for = "0";  // 0: until SIGINT/SIGTERM
  std::string drain_timeout = "30s";
};
// Samples until a signal (or --run-for), then ships what is left for up to --drain-timeout.
Status CmdAgent(const AgentArgs& a, const Clock& clock, std::ostream& out);

struct TokenArgs {
  std::string db;
  std::string role;
  std::string project;
  std::string department;
  std::string name;
  std::string owner;
  std::string expires;           // "" never; a duration from now ("720h") or an RFC 3339 time
  std::string id;                // revoke
  std::string format = "table";  // list: table | json
};
// Token changes through the CLI are audited as role "cli" with the OS user's name. A
// server that has the token cached keeps accepting it for up to TokenCache::kTtlMs (one
// minute) after `revoke`; DELETE /api/v1/tokens/{id} takes effect on that server at once.
Status CmdTokenCreate(const TokenArgs& a, const Clock& clock, std::ostream& out);
Status CmdTokenList(const TokenArgs& a, const Clock& clock, std::ostream& out);
Status CmdTokenRevoke(const TokenArgs& a, const Clock& clock, std::ostream& out);

struct AuditArgs {
  std::string db;
  int64_t after = 0;
  int64_t limit = 0;             // 0: all
  std::string format = "table";  // table | json
};
// Walks the hash chain; on the first broken entry prints it and fails (exit 1).
Status CmdAuditVerify(const AuditArgs& a, std::ostream& out);
Status CmdAuditList(const AuditArgs& a, std::ostream& out);

struct JobUpdateArgs {
  std::string db;
  std::string id;
  bool end_command = false;  // `job end`: status defaults to succeeded, --at is the end
  std::string status;        // "" = unchanged (job end: succeeded)
  std::string start;         // RFC 3339; "" = unchanged
  std::string end;           // RFC 3339; "" = unchanged (job end: the clock's now)
  // Correctable fields (server/job_update.h kCorrectableJobFields); "" = unchanged.
  std::map<std::string, std::string> fields;
};
// `job end` and `job set`: ends or corrects one job and ends its open allocations with it,
// in one transaction.
Status CmdJobUpdate(const JobUpdateArgs& a, const Clock& clock, std::ostream& out);

struct DemoArgs {
  std::string db = "gpuledger-demo.db";
  uint64_t seed = 42;
  std::string month = "2026-10";
  std::string interval = "1m";
  // Then serve the dashboard on the demo ledger (docs/DASHBOARD.md) at 127.0.0.1:port
  // until a signal, printing its URL and a token per role.
  bool serve = false;
  int port = 8080;  // 0: any free port
  // With serve: the last hour's samples streamed in through remote write as the server's
  // clock, `speed` times the wall's pace, reaches them (src/cli/demo_live.h).
  bool live = false;
  double speed = 10;
};
Status CmdDemo(const DemoArgs& a, std::ostream& out);

struct SubmitArgs {
  std::string db;
  std::string spec;    // a job spec file (JSON, the jobs API's fields); flags override it
  std::string policy;  // policy file (docs/POLICIES.md); "" = the built-in default (enforce)
  // Job fields by the jobs API's names (id, user, project, ..., amp); "" = not given.
  std::map<std::string, std::string> fields;
  std::vector<std::string> labels;  // key=value
  bool yes = false;
  bool dry_run = false;
  std::string max_cost;            // "" = none
  std::string launcher = "none";   // none | docker | slurm | kubernetes
  std::string server;              // GPULEDGER_SERVER for the job's environment
  std::string command;             // what the job runs
  std::string k8s_namespace;
  std::string token_secret = "gpuledger-ingest";
  // Launching (submit/launcher.h): docker always launches; slurm with --run; kubernetes
  // when an API server is given.
  std::string docker_socket = "/var/run/docker.sock";
  std::vector<std::string> device_ids;  // docker: GPUs by index or UUID (else Count)
  bool run = false;                     // slurm: run sbatch
  std::string sbatch = "sbatch";
  std::string scancel = "scancel";
  std::vector<std::string> sbatch_args;
  std::string k8s_api_server;  // "" = print the manifest
  std::string k8s_token_file;  // "" = the pod's service-account token
  std::string k8s_ca_file;
  int launch_timeout_s = 60;
  std::string lang;                // zh | en; "" = from LANG
  std::string format = "text";     // text | json
  double map_margin = 1.0;         // mAP@0.5 points
};
// The job fields `submit` takes as flags (--model-type for model_type).
inline constexpr const char* kSubmitFields[] = {"id", "user", "project", "department", "model_type", "image",
                                                "framework", "gpu_request", "gpu_model", "duration_limit", "dataset",
                                                "dataset_images", "epochs", "batch", "imgsz", "amp"};
// Checks the tag, prints the estimate, asks `in` to continue (unless --yes or --dry-run),
// registers the job as pending with its estimate, and prints what the launcher needs.
Status CmdSubmit(const SubmitArgs& a, const Clock& clock, std::istream& in, std::ostream& out);

// An audit log entry for a command that changed the ledger directly (role "cli", from
// "cli user=$USER"; cmd_admin.cc).
Status AuditCli(Ledger& ledger, TimeMs now, const std::string& action, const std::string& detail);
// Who ran the command ("cli user=NAME"), for the audit log.
std::string CliRemote();

// gpuledger close | reopen | months (cmd_close.cc; report/close.h, docs/CLOSE.md).
struct CloseArgs {
  std::string db;
  std::string month;   // YYYY-MM (close, reopen)
  std::string reason;  // reopen
  std::string format = "table";  // months: table | json
};
Status CmdClose(const CloseArgs& a, const Clock& clock, std::ostream& out);
Status CmdReopen(const CloseArgs& a, const Clock& clock, std::ostream& out);
Status CmdMonths(const CloseArgs& a, const Clock& clock, std::ostream& out);

// gpuledger job report (cmd_job_report.cc; report/job_report.h, docs/JOB_REPORT.md).
struct JobReportArgs {
  std::string db;
  std::string id;
  std::string lang = "en";        // en | zh
  std::string format = "table";   // table | json
  std::string as_of;              // RFC 3339; "" = now
};
Status CmdJobReport(const JobReportArgs& a, const Clock& clock, std::ostream& out);

}  // namespace gpuledger
