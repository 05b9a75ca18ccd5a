#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>

#include "cli/cmd_insight.h"
#include "cli/commands.h"
#include "cli/pause_flags.h"
#include "server/job_update.h"

namespace gpuledger {

namespace {
// --from/--to/--grain: any date range instead of one month (docs/METERING.md, "Ranges").
void AddRangeOptions(CLI::App* c, std::string& from, std::string& to, std::string& grain) {
  c->add_option(
      "--from", from,
      "first day of a date range instead of --month: YYYY-MM-DD, or YYYY-MM for its first day, in the "
      "ledger's time zone");
  c->add_option("--to", to, "last day of the range, inclusive: YYYY-MM-DD, or YYYY-MM for its last day");
  c->add_option(
       "--grain", grain,
       "with --from/--to: range (one period, the default) | day | week (Monday to Sunday) | month; each "
       "period is priced on its own")
      ->check(CLI::IsMember({"range", "day", "week", "month"}));
}
}  // namespace

int RunCli(int argc, const char* const* argv, const Clock& clock, std::ostream& out, std::ostream& err) {
  CLI::App app{
      "gpuledger meters every GPU-second of a shared training cluster, attributes it to jobs,\n"
      "users, projects and departments, prices it, and reports the books monthly.",
      "gpuledger"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gpuledger 0.1.0");

  InitArgs init;
  auto* c_init =
      app.add_subcommand("init", "create a ledger and set its currency, time zone and sampling defaults");
  c_init->add_option("--db", init.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_init->add_option("--currency", init.currency, "ISO 4217 currency of the books")->capture_default_str();
  c_init->add_option("--timezone", init.timezone, "IANA zone whose calendar months the reports use")
      ->capture_default_str();
  c_init->add_option("--interval", init.interval, "default sample interval (what a last sample stands for)")
      ->capture_default_str();
  c_init->add_option("--max-gap", init.max_gap, "default longest span one sample may stand for")
      ->capture_default_str();

  ImportArgs imp;
  auto* c_imp = app.add_subcommand(
      "import", "backfill jobs, GPUs, allocations, samples, prices or training progress from a file");
  c_imp->add_option("kind", imp.kind, "jobs | gpus | allocations | samples | prices | progress | scrape")
      ->required()
      ->check(CLI::IsMember({"jobs", "gpus", "allocations", "samples", "prices", "progress", "scrape"}));
  c_imp
      ->add_option("file", imp.file,
                   "CSV file (formats: docs/formats/import.md); progress takes an Ultralytics results.csv, "
                   "scrape a saved dcgm-exporter /metrics page")
      ->required();
  c_imp->add_option("--db", imp.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")->required();
  c_imp->add_option("--job", imp.job, "the job a results.csv belongs to (progress only)");
  c_imp->add_option(
      "--at", imp.at,
      "scrape only: when a saved dcgm-exporter scrape was taken (its series have no timestamps)");
  c_imp->add_flag("--register-gpus", imp.register_gpus,
                  "scrape only: add the GPUs its labels describe that the ledger lacks");

  ReportArgs rep;
  auto* c_rep = app.add_subcommand("report", "monthly cost and usage report, grouped by one dimension");
  c_rep->add_option("--db", rep.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")->required();
  c_rep->add_option("--month", rep.month, "YYYY-MM, in the ledger's time zone (default: last month)");
  c_rep
      ->add_option("--by", rep.by,
                   "department | project | user | model | image | framework | gpu-model | job")
      ->capture_default_str();
  c_rep->add_option("--format", rep.format, "table | csv | json")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  c_rep->add_option("--as-of", rep.as_of,
                    "the books as of this instant (RFC 3339; default: now): open holds end there, a month in "
                    "progress is partial");
  c_rep->add_flag("--share-idle", rep.share_idle,
                  "spread unallocated cost over jobs in proportion to their cost, within each GPU model's "
                  "pool (a team that used only A10Gs carries no idle A100 cost)");
  c_rep->add_flag("--share-idle-across-models", rep.share_idle_across_models,
                  "with --share-idle: one pool for all GPU models");
  AddRangeOptions(c_rep, rep.from, rep.to, rep.grain);

  ReportArgs jobs;
  auto* c_jobs = app.add_subcommand("jobs", "the month's jobs with their metrics and cost");
  c_jobs->add_option("--db", jobs.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_jobs->add_option("--month", jobs.month, "YYYY-MM, in the ledger's time zone (default: last month)");
  c_jobs->add_option("--as-of", jobs.as_of,
                     "the books as of this instant (RFC 3339; default: now): open holds end there, a month "
                     "in progress is partial");
  c_jobs
      ->add_option(
          "--format", jobs.format,
          "table | csv | json (csv and json for machines: snake_case, fractions, numbers; docs/EXPORTS.md)")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();

  ExportArgs exp;
  auto* c_exp = app.add_subcommand(
      "export",
      "the month's (or a date range's) books for machines: CSV or JSON by one dimension, FinOps FOCUS 1.2 "
      "CSV, or an XLSX workbook");
  c_exp->add_option("--db", exp.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")->required();
  c_exp->add_option("--month", exp.month, "YYYY-MM, in the ledger's time zone (default: last month)");
  c_exp
      ->add_option(
          "--format", exp.format,
          "csv | json | focus (FOCUS 1.2: one row per job per GPU model) | xlsx (finance's workbook; "
          "needs --out; a range's has a By period sheet at --grain)")
      ->check(CLI::IsMember({"csv", "json", "focus", "xlsx"}))
      ->required();
  c_exp->add_option("--by", exp.by,
                    "csv and json: department (default) | project | user | model | image | framework | "
                    "gpu-model | job");
  c_exp->add_flag("--desensitised", exp.desensitised,
                  "no user or job names: each becomes a stable salted key (u-..., j-...) kept by the ledger");
  c_exp->add_flag(
      "--share-idle", exp.share_idle,
      "csv and json: share each GPU model's unallocated cost out to the lines by their GPU-hours, "
      "as report --share-idle");
  c_exp->add_option("--as-of", exp.as_of,
                    "the books as of this instant (RFC 3339; default: now): a month in progress is partial");
  c_exp->add_option("--out", exp.out, "write to this file (whole or not at all) instead of standard output");
  AddRangeOptions(c_exp, exp.from, exp.to, exp.grain);

  CloseArgs close_a;
  auto* c_close = app.add_subcommand(
      "close", "close a month (admin): freeze its books with a checksum; later data goes to an adjustment");
  auto* c_reopen = app.add_subcommand("reopen", "reopen a closed month (admin; audited, with a reason)");
  auto* c_months = app.add_subcommand("months", "the months with their state: open, closed or reopened");
  for (auto* cmd : {c_close, c_reopen, c_months}) {
    cmd->add_option("--db", close_a.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
        ->required();
  }
  c_close->add_option("--month", close_a.month, "YYYY-MM, in the ledger's time zone")->required();
  c_reopen->add_option("--month", close_a.month, "YYYY-MM, in the ledger's time zone")->required();
  c_reopen->add_option("--reason", close_a.reason, "why the month is reopened (kept in the audit log)")
      ->required();
  c_months->add_option("--format", close_a.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  SeriesArgs series;
  auto* c_series =
      app.add_subcommand("series", "one GPU's per-minute utilisation, memory and power over a month");
  c_series->add_option("--db", series.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_series->add_option("--gpu", series.gpu, "GPU uuid")->required();
  c_series->add_option("--month", series.month, "YYYY-MM, in the ledger's time zone (default: last month)");
  c_series->add_option("--as-of", series.as_of,
                       "the books as of this instant (RFC 3339; default: now): open holds end there, a month "
                       "in progress is partial");
  c_series->add_option("--format", series.format, "csv | json")
      ->check(CLI::IsMember({"csv", "json"}))
      ->capture_default_str();

  LeaderboardArgs lb;
  auto* c_lb = app.add_subcommand(
      "leaderboard", "cost-effectiveness of model configurations: cost per run, cost per mAP point");
  c_lb->add_option("--db", lb.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")->required();
  c_lb->add_option("--month", lb.month, "only runs that ended in this month (YYYY-MM)");
  c_lb->add_option("--as-of", lb.as_of, "only runs that ended by this instant (RFC 3339; default: now)");
  c_lb->add_option("--format", lb.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();

  ServerArgs srv;
  auto* c_srv = app.add_subcommand(
      "server", "serve remote write ingestion, the jobs API and role-scoped reports over HTTP");
  c_srv->add_option("--db", srv.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")->required();
  c_srv->add_option("--listen", srv.listen, "host:port to listen on")->capture_default_str();
  c_srv->add_option("--max-body", srv.max_body, "largest request body in bytes (compressed)")
      ->capture_default_str();
  c_srv->add_option("--scrape", srv.scrape,
                    "scrape mode: a dcgm-exporter page to fetch, http://host:port/metrics (repeatable)");
  c_srv->add_option("--scrape-interval", srv.scrape_interval, "scrape mode: how often")
      ->capture_default_str();
  c_srv
      ->add_option("--retention", srv.retention,
                   "drop raw samples older than this (rollups and monthly books stay); 0 keeps them")
      ->capture_default_str();
  c_srv->add_option("--journal", srv.journal,
                    "ingest journal directory: samples are acknowledged once appended there and "
                    "written to the ledger in one transaction per flush interval (default: "
                    "<file>.journal beside an SQLite ledger; none for PostgreSQL unless given; "
                    "'none': every request commits to the ledger before its answer)");
  c_srv->add_option("--head-timeout", srv.head_timeout, "deadline for a whole request head")
      ->capture_default_str();
  c_srv->add_option("--body-timeout", srv.body_timeout, "deadline for a whole request body")
      ->capture_default_str();
  c_srv->add_option("--max-connections", srv.max_connections, "open connections at most (then 503)")
      ->capture_default_str();
  c_srv
      ->add_option("--max-connections-per-client", srv.max_connections_per_client,
                   "open connections from one client address at most (then 503)")
      ->capture_default_str();
  c_srv->add_option("--tls-cert", srv.tls_cert,
                    "serve HTTPS only (TLS 1.2+): PEM certificate chain, leaf first (with --tls-key)");
  c_srv->add_option(
      "--policy", srv.policy,
      "policy file (JSON, docs/POLICIES.md) checked on POST /api/v1/jobs and /api/v1/submissions "
      "(default: the built-in image-tag template, enforced)");
  c_srv->add_option("--policy-file", srv.policy_file,
                    "the policies that act (JSON, docs/POLICIES.md): circuit breaker, idle GPUs, duration "
                    "limit; org defaults and project overrides, changed through PUT /api/v1/policy/rules and "
                    "written back here (default: the built-in rules, in memory)");
  AddPauseFlags(c_srv, &srv.pause);  // pause/dispatcher.h: --docker-socket, --k8s-*, --scontrol
  c_srv->add_option("--notify", srv.notify,
                    "notify config (JSON, docs/NOTIFICATIONS.md): channels and audiences of the outbox, "
                    "and the schedule of projects' monthly statements (default: no notifications)");
  c_srv->add_option("--tls-key", srv.tls_key, "PEM private key of --tls-cert, unencrypted (with --tls-cert)");
  c_srv
      ->add_option("--db-wait", srv.db_wait,
                   "at start, how long to wait for PostgreSQL to answer (tried again with backoff, "
                   "each failure logged; a signal ends the wait; meanwhile /readyz and every request answer 503 "
                   "\"starting\"); 0: fail at once")
      ->capture_default_str();
  c_srv->add_option("--trusted-proxy", srv.trusted_proxies,
                    "a reverse proxy (IP address or CIDR network; repeatable) whose X-Forwarded-For "
                    "names the client for the audit log, the access log and the failed-authentication "
                    "throttle (docs/DEPLOY.md)");
  c_srv->add_option(
      "--access-log", srv.access_log,
      "one line per request (docs/formats/access-log.md): - for stderr, or a file to append to");
  c_srv
      ->add_option("--journal-flush-interval", srv.journal_flush_interval,
                   "how often the journal is written to the ledger (sooner once it holds a million "
                   "samples; reads that depend on samples write it first)")
      ->capture_default_str();
  c_srv
      ->add_option("--held-without-samples-after", srv.held_without_samples_after,
                   "a GPU held by a job with no sample for this long is counted in /metrics "
                   "(gpuledger_held_gpus_without_samples) and listed on the job's view "
                   "(held_without_samples); 0: not checked")
      ->capture_default_str();

  AgentArgs agent;
  auto* c_agent = app.add_subcommand(
      "agent",
      "node agent: sample every GPU through NVML, attribute it to its job, follow training "
      "progress, and ship it all to the server (buffered on disk while the server is away)");
  c_agent->add_option("--server", agent.server, "the gpuledger server, http://host:port or https://host:port")
      ->required();
  c_agent->add_option("--ca-file", agent.ca_file,
                      "https: PEM certificate(s) to trust, e.g. a self-signed server's (default: "
                      "$GPULEDGER_CA_FILE, else the system's trust store)");
  c_agent->add_option("--token-file", agent.token_file,
                      "file holding an ingest token (default: $GPULEDGER_TOKEN)");
  c_agent->add_option("--interval", agent.interval, "how often to sample")->capture_default_str();
  c_agent->add_option("--push-interval", agent.push_interval, "how often to queue a request for the server")
      ->capture_default_str();
  c_agent->add_option("--buffer-dir", agent.buffer_dir, "the on-disk outbox")->capture_default_str();
  c_agent
      ->add_option("--buffer-max", agent.buffer_max,
                   "outbox bound (bytes, or with KiB/MiB/GiB); past it the oldest data is dropped")
      ->capture_default_str();
  c_agent->add_option("--node", agent.node, "node name for the Hostname label (default: the host name)");
  c_agent->add_option("--nvml", agent.nvml, "path of libnvidia-ml.so.1 (default: the loader's search path)");
  c_agent->add_option("--proc", agent.proc, "procfs root")->capture_default_str();
  c_agent->add_option("--gpustat-dir", agent.gpustat_dir, "Slurm prolog GPU->job mapping files")
      ->capture_default_str();
  c_agent->add_option("--dcgm-hpc-map", agent.dcgm_hpc_map, "dcgm-exporter's HPC job-mapping directory");
  c_agent
      ->add_option("--docker-socket", agent.docker_socket,
                   "Docker Engine API socket, for containers labelled gpuledger.job_id=...")
      ->capture_default_str();
  c_agent->add_option("--run-for", agent.run_for, "stop after this long (0: run until a signal)")
      ->capture_default_str();
  c_agent
      ->add_option("--drain-timeout", agent.drain_timeout,
                   "at stop, how long to keep shipping what is buffered (the rest stays on disk)")
      ->capture_default_str();

  TokenArgs tok;
  AuditArgs aud;
  auto* c_admin = app.add_subcommand("admin", "administration: API tokens and the audit log");
  c_admin->require_subcommand(1);
  auto* c_tok = c_admin->add_subcommand("token", "API tokens")->require_subcommand(1);
  auto* c_tok_create =
      c_tok->add_subcommand("create", "create an API token; it is printed once and stored hashed");
  c_tok_create->add_option("--db", tok.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_tok_create->add_option("--role", tok.role, "ingest | user | dept_admin | finance | admin")->required();
  c_tok_create->add_option("--project", tok.project, "the project a user token sees (must be in the books)");
  c_tok_create->add_option("--department", tok.department,
                           "the department a dept_admin token sees (must be in the books)");
  c_tok_create->add_option("--name", tok.name, "what the token is for");
  c_tok_create->add_option("--owner", tok.owner, "who answers for the token");
  c_tok_create->add_option(
      "--expires", tok.expires,
      "refused from then on: a duration from now (720h) or an RFC 3339 time (default: never)");
  auto* c_tok_list = c_tok->add_subcommand("list", "list API tokens (never their secrets)");
  c_tok_list->add_option("--db", tok.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_tok_list->add_option("--format", tok.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  auto* c_tok_revoke = c_tok->add_subcommand(
      "revoke", "revoke an API token (a running server may accept it for up to 1 minute more)");
  c_tok_revoke->add_option("--db", tok.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_tok_revoke->add_option("id", tok.id, "the token's id (tok_...), as `admin token list` shows it")
      ->required();
  auto* c_aud = c_admin->add_subcommand("audit", "the audit log")->require_subcommand(1);
  auto* c_aud_list = c_aud->add_subcommand("list", "list audit log entries, oldest first");
  c_aud_list->add_option("--db", aud.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_aud_list->add_option("--after", aud.after, "only entries after this seq")->capture_default_str();
  c_aud_list->add_option("--limit", aud.limit, "at most this many entries (0: all)")->capture_default_str();
  c_aud_list->add_option("--format", aud.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  auto* c_aud_verify = c_aud->add_subcommand(
      "verify", "check the audit log's hash chain; exits 1 naming the first broken entry");
  c_aud_verify->add_option("--db", aud.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();

  JobUpdateArgs job_end, job_set;
  auto* c_job = app.add_subcommand(
      "job", "one job: its efficiency report, or end or correct it (as PATCH /api/v1/jobs/{id} does)");
  c_job->require_subcommand(1);
  auto* c_job_end = c_job->add_subcommand(
      "end", "end a job: its status, its end, and the end of its allocations still open");
  auto* c_job_set = c_job->add_subcommand(
      "set", "correct a job's status, start, end or descriptive fields (a finished job's too)");
  for (auto [cmd, args] : {std::pair{c_job_end, &job_end}, std::pair{c_job_set, &job_set}}) {
    cmd->add_option("--db", args->db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
        ->required();
    cmd->add_option("--id", args->id, "the job's id")->required();
  }
  job_end.end_command = true;
  c_job_end->add_option("--status", job_end.status, "succeeded | failed | cancelled")
      ->default_str("succeeded");
  c_job_end->add_option("--at", job_end.end, "when it ended (RFC 3339; default: now)");
  c_job_set->add_option("--status", job_set.status, "pending | running | succeeded | failed | cancelled");
  c_job_set->add_option("--start", job_set.start, "its start (RFC 3339)");
  c_job_set->add_option("--end", job_set.end, "its end (RFC 3339; needs a finished status)");
  for (const char* f : kCorrectableJobFields) {
    std::string flag = std::string("--") + f;  // --model-type, as the other flags are spelled
    std::replace(flag.begin(), flag.end(), '_', '-');
    c_job_set->add_option(flag, job_set.fields[f], std::string("its ") + f);
  }

  JobReportArgs job_rep;
  auto* c_job_rep = c_job->add_subcommand(
      "report", "a job's efficiency report: utilisation and memory per GPU, phases, cost, epochs, advice");
  c_job_rep->add_option("--db", job_rep.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")
      ->required();
  c_job_rep->add_option("--id", job_rep.id, "the job's id")->required();
  c_job_rep->add_option("--lang", job_rep.lang, "en | zh")
      ->check(CLI::IsMember({"en", "zh"}))
      ->capture_default_str();
  c_job_rep->add_option("--format", job_rep.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  c_job_rep->add_option("--as-of", job_rep.as_of, "the books as of this instant (RFC 3339; default: now)");

  SubmitArgs sub;
  auto* c_sub = app.add_subcommand(
      "submit",
      "check a job's image tag, estimate its cost from similar finished runs, ask to continue, register it "
      "as pending with its estimate, and launch it (docker; slurm --run; kubernetes with --k8s-api-server or "
      "in a pod with a service account) or "
      "print what the launcher needs; a launch that fails registers nothing (docs/ESTIMATE.md "
      "\"Launchers\")");
  c_sub->add_option("--db", sub.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")->required();
  c_sub->add_option("--spec", sub.spec,
                    "job spec file, JSON or YAML (.json/.yaml/.yml, else by content): the jobs API's fields, "
                    "labels as a mapping (flags override it)");
  c_sub->add_option(
      "--policy", sub.policy,
      "policy file (JSON, docs/POLICIES.md; default: the built-in image-tag template, enforced)");
  for (const char* f : kSubmitFields) {
    std::string flag = std::string("--") + f;
    std::replace(flag.begin(), flag.end(), '_', '-');
    c_sub->add_option(flag, sub.fields[f],
                      std::string("the job's ") + f +
                          (std::string(f) == "gpu_request"      ? " (1xA10G)"
                           : std::string(f) == "gpu_model"      ? " (one GPU of it, when no --gpu-request)"
                           : std::string(f) == "duration_limit" ? " (48h)"
                           : std::string(f) == "amp"            ? " (true | false)"
                           : std::string(f) == "id"             ? " (default: sub-<UTC time>-<user>)"
                           : std::string(f) == "dataset_images" ? " (its size, in images)"
                                                                : ""));
  }
  c_sub->add_option(
      "--label", sub.labels,
      "a label key=value (repeatable); patience=N: its early stopping, which the estimate uses");
  c_sub->add_flag("--yes", sub.yes, "do not ask: continue");
  c_sub->add_flag("--dry-run", sub.dry_run, "check and estimate; register nothing");
  c_sub->add_option("--max-cost", sub.max_cost,
                    "refuse when the estimate is above this amount (ledger's currency)");
  c_sub
      ->add_option("--map-margin", sub.map_margin,
                   "best practice: runs within this many mAP@0.5 points of what this configuration reaches")
      ->capture_default_str();
  c_sub
      ->add_option("--launcher", sub.launcher,
                   "none: the GPULEDGER_* environment to export; docker: create and start the container "
                   "(--docker-socket); slurm: an sbatch script (run with --run); kubernetes: a batch/v1 Job "
                   "(created with --k8s-api-server, or in a pod with a service account). A launch that fails "
                   "registers nothing and leaves nothing")
      ->check(CLI::IsMember({"none", "docker", "slurm", "kubernetes"}))
      ->capture_default_str();
  c_sub->add_option("--server", sub.server,
                    "GPULEDGER_SERVER for the job's environment (http(s)://host:port)");
  c_sub->add_option("--command", sub.command,
                    "what the job runs (slurm: after srun; docker and kubernetes: sh -c)");
  c_sub
      ->add_option("--docker-socket", sub.docker_socket,
                   "docker: the Docker Engine API socket the container is created on")
      ->capture_default_str();
  c_sub->add_option("--device-id", sub.device_ids,
                    "docker: a GPU by index or UUID for the device request (repeatable; default: Count "
                    "from --gpu-request)");
  c_sub->add_flag("--run", sub.run, "slurm: submit the script with sbatch (else it is printed)");
  c_sub->add_option("--sbatch", sub.sbatch, "slurm --run: the sbatch program")->capture_default_str();
  c_sub
      ->add_option("--scancel", sub.scancel,
                   "slurm --run: scancel, to undo a submission that failed after sbatch")
      ->capture_default_str();
  c_sub->add_option(
      "--sbatch-arg", sub.sbatch_args,
      "slurm --run: an argument for sbatch before the script (repeatable: --sbatch-arg=--partition=gpu)");
  c_sub->add_option(
      "--k8s-api-server", sub.k8s_api_server,
      "kubernetes: create the Job through this API server (https://host:port; else it is printed)");
  c_sub->add_option("--k8s-token-file", sub.k8s_token_file,
                    "kubernetes: a file holding a bearer token that may create batch/v1 Jobs (default: the "
                    "pod's service-account token)");
  c_sub->add_option("--k8s-ca-file", sub.k8s_ca_file,
                    "kubernetes: PEM CA certificate(s) of the API server (default: the system's store)");
  c_sub->add_option("--launch-timeout", sub.launch_timeout_s, "seconds each launcher call may take")
      ->check(CLI::Range(1, 600))
      ->capture_default_str();
  c_sub->add_option("--namespace", sub.k8s_namespace, "kubernetes: the Job's namespace");
  c_sub
      ->add_option("--token-secret", sub.token_secret,
                   "kubernetes: Secret whose key 'token' is an ingest token")
      ->capture_default_str();
  c_sub->add_option("--lang", sub.lang, "zh | en (default: from LANG)")->check(CLI::IsMember({"zh", "en"}));
  c_sub->add_option("--format", sub.format, "text | json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();

  NotifyTestArgs notify_test;
  auto* c_notify =
      app.add_subcommand("notify", "notifications (docs/NOTIFICATIONS.md)")->require_subcommand(1);
  auto* c_notify_test =
      c_notify->add_subcommand("test", "send one test message through one channel of a notify config, now");
  c_notify_test->add_option("--config", notify_test.config, "the notify config (JSON)")->required();
  c_notify_test->add_option("--channel", notify_test.channel, "the channel's name in it")->required();
  c_notify_test->add_option("--user", notify_test.user, "the user for {user} in a mail channel's addresses");

  BudgetArgs budget;
  auto* c_budget =
      app.add_subcommand("budget", "monthly budgets per project and department (docs/BUDGETS.md)")
          ->require_subcommand(1);
  auto* c_budget_set = c_budget->add_subcommand("set", "set (or replace) a monthly budget");
  auto* c_budget_list =
      c_budget->add_subcommand("list", "budgets with month-to-date cost, share and projection");
  auto* c_budget_rm = c_budget->add_subcommand("rm", "remove a budget");
  auto* c_budget_gate = c_budget->add_subcommand("gate", "what a submission meets at 100 %: warn or refuse");
  for (CLI::App* c : {c_budget_set, c_budget_list, c_budget_rm, c_budget_gate}) {
    c->add_option("--db", budget.db, "ledger: a SQLite file, sqlite:///path or postgresql://...")->required();
  }
  for (CLI::App* c : {c_budget_set, c_budget_rm}) {
    c->add_option("--project", budget.project, "the project's budget");
    c->add_option("--department", budget.department, "the department's budget");
    c->add_option("--month", budget.month, "YYYY-MM, or every (the default): every month without its own");
  }
  c_budget_set->add_option("--amount", budget.amount, "in the ledger's currency, e.g. 10000.00")->required();
  c_budget_list->add_option("--month", budget.month, "YYYY-MM (default: the month in progress)");
  c_budget_list->add_option("--format", budget.format, "table | json")
      ->check(CLI::IsMember({"table", "json"}))
      ->capture_default_str();
  c_budget_gate->add_option("mode", budget.gate, "warn | refuse")
      ->required()
      ->check(CLI::IsMember({"warn", "refuse"}));

  DemoArgs demo;
  auto* c_demo = app.add_subcommand(
      "demo", "simulate a 32-GPU cluster's two months of YOLO training into a fresh ledger and report it");
  c_demo->add_option("--db", demo.db, "ledger file to create (replaced if it exists)")->capture_default_str();
  c_demo->add_option("--seed", demo.seed, "simulator seed")->capture_default_str();
  c_demo->add_option("--month", demo.month, "the month to report; the one before is simulated too")
      ->capture_default_str();
  c_demo->add_option("--interval", demo.interval, "simulated sample interval")->capture_default_str();
  c_demo->add_flag("--serve", demo.serve,
                   "then serve the dashboard on the demo ledger at 127.0.0.1 and print a token per role");
  c_demo->add_option("--port", demo.port, "the dashboard's port with --serve (0: any free one)")
      ->capture_default_str();
  auto* live_flag = c_demo->add_flag(
      "--live", demo.live,
      "with --serve: hold the simulated month's last hour back and stream it in through remote write as the "
      "server's clock reaches it");
  live_flag->needs("--serve");
  c_demo
      ->add_option("--speed", demo.speed,
                   "with --live: how many times the wall's pace the clock runs meanwhile")
      ->check(CLI::Range(1.0, 3600.0))
      ->needs(live_flag)
      ->capture_default_str();

  std::unique_ptr<InsightCommands> insight = AddInsightCommands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every other parse error is a usage error.
    return app.exit(e, out, err) == 0 ? 0 : 2;
  }
  Status st;
  if (*c_init)
    st = CmdInit(init, out);
  else if (*c_imp)
    st = CmdImport(imp, out);
  else if (*c_rep)
    st = CmdReport(rep, clock, out);
  else if (*c_jobs)
    st = CmdJobs(jobs, clock, out);
  else if (*c_exp)
    st = CmdExport(exp, clock, out);
  else if (*c_srv)
    st = CmdServer(srv, clock, out);
  else if (*c_close)
    st = CmdClose(close_a, clock, out);
  else if (*c_reopen)
    st = CmdReopen(close_a, clock, out);
  else if (*c_months)
    st = CmdMonths(close_a, clock, out);
  else if (*c_agent)
    st = CmdAgent(agent, clock, out);
  else if (*c_tok_create)
    st = CmdTokenCreate(tok, clock, out);
  else if (*c_tok_list)
    st = CmdTokenList(tok, clock, out);
  else if (*c_tok_revoke)
    st = CmdTokenRevoke(tok, clock, out);
  else if (*c_aud_list)
    st = CmdAuditList(aud, out);
  else if (*c_aud_verify)
    st = CmdAuditVerify(aud, out);
  else if (*c_series)
    st = CmdSeries(series, clock, out);
  else if (*c_lb)
    st = CmdLeaderboard(lb, clock, out);
  else if (*c_demo)
    st = CmdDemo(demo, out);
  else if (*c_sub)
    st = CmdSubmit(sub, clock, std::cin, out);
  else if (*c_job_end)
    st = CmdJobUpdate(job_end, clock, out);
  else if (*c_job_set)
    st = CmdJobUpdate(job_set, clock, out);
  else if (*c_job_rep)
    st = CmdJobReport(job_rep, clock, out);
  else if (*c_notify_test)
    st = CmdNotifyTest(notify_test, clock, out);
  else if (*c_budget_set)
    st = CmdBudgetSet(budget, clock, out);
  else if (*c_budget_list)
    st = CmdBudgetList(budget, clock, out);
  else if (*c_budget_rm)
    st = CmdBudgetRm(budget, clock, out);
  else if (*c_budget_gate)
    st = CmdBudgetGate(budget, clock, out);
  else if (std::optional<Status> r = insight->Run(clock, out))
    st = *r;
  if (!st.ok()) {
    err << "gpuledger: error: " << st.message() << "\n";
    return 1;
  }
  return 0;
}

}  // namespace gpuledger
