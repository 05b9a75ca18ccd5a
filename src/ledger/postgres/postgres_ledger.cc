// The PostgreSQL ledger: production and HA. The same tables as the SQLite ledger
// (migrations/postgres/), the same validation (checks.h), the same contract suite.
// Every Put* validates, then writes in one transaction. One PostgresLedger works over one
// borrowed connection and is not thread-safe; the pool (pool.h) gives each of its
// connections one and is the Ledger the rest of gpuledger sees.
#include <algorithm>
#include <map>
#include <set>

#include "common/strings.h"
#include "ledger/checks.h"
#include "ledger/labels_json.h"
#include "ledger/ledger.h"
#include "ledger/migrations.h"
#include "ledger/postgres/access_tables.h"
#include "ledger/postgres/books_tables.h"
#include "ledger/postgres/budget_tables.h"
#include "ledger/postgres/close_tables.h"
#include "ledger/postgres/job_tables.h"
#include "ledger/postgres/outbox_tables.h"
#include "ledger/postgres/pg.h"
#include "ledger/postgres/policy_tables.h"
#include "ledger/postgres/pool.h"
#include "ledger/rows.h"
#include "ledger/sample_blocks.h"

namespace gpuledger {
namespace {

using pg::ArrayColumns;
using pg::Conn;
using pg::P;
using pg::Param;
using pg::Result;
using pg::Transaction;

// The migrator's advisory lock key (pg_advisory_xact_lock); books_tables.cc has the one
// that orders change ids.
constexpr int64_t kMigrationLock = 7152026;
constexpr int kAuditChainMigration = 8;  // 0008_tokens_audit_chain.sql

class PostgresLedger final : public Ledger {
 public:
  explicit PostgresLedger(Conn& c) : c_(&c) {}

  Status Migrate() {
    // One migrator at a time across processes: a transaction-scoped advisory lock.
    RETURN_IF_ERROR(c_->ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL)"));
    for (const Migration& m : PostgresMigrations()) {
      Transaction tx(*c_);
      RETURN_IF_ERROR(tx.Begin());
      RETURN_IF_ERROR(
          c_->Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kMigrationLock) + ")").status());
      ASSIGN_OR_RETURN(Result have, c_->Exec("SELECT 1 FROM schema_migrations WHERE version = $1",
                                             {P(int64_t{m.version})}));
      if (have.rows() > 0) continue;
      RETURN_IF_ERROR(c_->ExecScript(m.sql).WithContext(std::string("migration ") + m.name));
      if (m.version == kAuditChainMigration) RETURN_IF_ERROR(access_.ChainLegacyAudit());
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO schema_migrations VALUES ($1, $2)", {P(int64_t{m.version}), P(m.name)})
              .status());
      RETURN_IF_ERROR(tx.Commit());
    }
    return OkStatus();
  }

  StatusOr<LedgerSettings> GetSettings() override {
    LedgerSettings s;
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT key, value FROM settings"));
    for (int i = 0; i < r.rows(); ++i) {
      const std::string k = r.Text(i, 0), v = r.Text(i, 1);
      RETURN_IF_ERROR(ApplySetting(s, k, v));
    }
    return s;
  }

  Status SetSettings(const LedgerSettings& s) override {
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    const std::pair<const char*, std::string> kv[] = {
        {"currency", s.currency},
        {"timezone", s.timezone},
        {"default_interval_ms", std::to_string(s.default_interval_ms)},
        {"default_max_gap_ms", std::to_string(s.default_max_gap_ms)}};
    for (const auto& [k, v] : kv) {
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO settings VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2",
                   {P(k), P(v)})
              .status());
    }
    RETURN_IF_ERROR(RecordChange({kMinTimeMs, kMaxTimeMs}));
    return tx.Commit();
  }

  Status PutJobs(const std::vector<Job>& jobs) override {
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    // A project's department is checked against the stored one with the projects table
    // locked against other writers until this commits.
    RETURN_IF_ERROR(c_->Exec("LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE").status());
    std::map<std::string, std::string> project_dept;
    ASSIGN_OR_RETURN(Result pr, c_->Exec("SELECT name, department FROM projects"));
    for (int i = 0; i < pr.rows(); ++i) project_dept[pr.Text(i, 0)] = pr.Text(i, 1);
    if (Status s = CheckJobs(jobs, project_dept); !s.ok()) {
      tx.Release();  // refused before writing: an enclosing unit of work may go on
      return s;
    }
    Window changed{kMaxTimeMs, kMinTimeMs};
    for (const Job& j : jobs) {
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO departments VALUES ($1) ON CONFLICT DO NOTHING", {P(j.department)}).status());
      RETURN_IF_ERROR(c_->Exec("INSERT INTO projects VALUES ($1, $2) ON CONFLICT DO NOTHING",
                               {P(j.project), P(j.department)})
                          .status());
      RETURN_IF_ERROR(c_->Exec("INSERT INTO users VALUES ($1) ON CONFLICT DO NOTHING", {P(j.user)}).status());
      if (!j.image_digest.empty()) {
        RETURN_IF_ERROR(
            c_->Exec("INSERT INTO image_digests VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                     {P(j.image_digest), P(j.image_repo), P(j.image_tag), P(j.id),
                      P(j.submitted_ms ? j.submitted_ms : j.start_ms)})
                .status());
      }
      RETURN_IF_ERROR(c_->Exec("INSERT INTO jobs VALUES "
                               "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,"
                               "$22,$23) ON CONFLICT (id) DO UPDATE SET user_name=$2, project=$3, "
                               "department=$4, model_type=$5, "
                               "image_repo=$6, image_tag=$7, image_digest=$8, framework=$9, "
                               "gpu_share_ppm=$10, gpu_model=$11, "
                               "duration_limit_ms=$12, dataset=$13, dataset_images=$14, epochs=$15, "
                               "batch=$16, imgsz=$17, amp=$18, "
                               "labels=$19, status=$20, submitted_ms=$21, start_ms=$22, end_ms=$23",
                               {P(j.id),
                                P(j.user),
                                P(j.project),
                                P(j.department),
                                P(j.model_type),
                                P(j.image_repo),
                                P(j.image_tag),
                                P(j.image_digest),
                                P(j.framework),
                                P(j.gpu_share_ppm),
                                P(j.gpu_model),
                                P(j.duration_limit_ms),
                                P(j.dataset),
                                P(j.dataset_images),
                                P(int64_t{j.epochs}),
                                P(int64_t{j.batch}),
                                P(int64_t{j.imgsz}),
                                P(int64_t{j.amp ? 1 : 0}),
                                P(LabelsToJson(j.labels)),
                                P(JobStatusName(j.status)),
                                P(j.submitted_ms),
                                P(j.start_ms),
                                P(j.end_ms)})
                          .status());
      if (j.start_ms != 0) {
        changed.start = std::min(changed.start, j.start_ms);
        changed.end = std::max(changed.end, j.end_ms == 0 ? kMaxTimeMs : j.end_ms);
      }
    }
    // Job records alone change no metered slice (only what months add: count-only jobs).
    if (changed.start < changed.end) RETURN_IF_ERROR(RecordChange(changed, /*slices=*/false));
    return tx.Commit();
  }

  Status PutGpus(const std::vector<Gpu>& gpus) override {
    for (const Gpu& g : gpus) RETURN_IF_ERROR(g.Validate());
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(std::vector<Gpu> stored, ListGpus());
    const Window changed = GpuChangeSpan(gpus, stored);
    for (const Gpu& g : gpus) {
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO gpus (uuid, node, idx, model, memory_mib, in_service_from, in_service_to, "
                   "sample_interval_ms, max_gap_ms) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (uuid) "
                   "DO UPDATE "
                   "SET node=$2, idx=$3, model=$4, memory_mib=$5, in_service_from=$6, in_service_to=$7, "
                   "sample_interval_ms=$8, max_gap_ms=$9",
                   {P(g.uuid), P(g.node), P(int64_t{g.index}), P(g.model), P(g.memory_mib),
                    P(g.in_service_from), P(g.in_service_to), P(g.sample_interval_ms), P(g.max_gap_ms)})
              .status());
    }
    if (changed.start < changed.end) RETURN_IF_ERROR(RecordChange(changed));
    return tx.Commit();
  }

  Status PutAllocations(const std::vector<Allocation>& allocs) override {
    if (allocs.empty()) return OkStatus();
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    // Two servers on one database must not over-allocate a GPU between them: the
    // allocations table is locked against other writers while this checks and writes.
    RETURN_IF_ERROR(c_->Exec("LOCK TABLE allocations IN SHARE ROW EXCLUSIVE MODE").status());
    ASSIGN_OR_RETURN(std::vector<Gpu> gpu_list, ListGpus());
    std::map<std::string, Gpu> gpus;
    for (Gpu& g : gpu_list) gpus[g.uuid] = std::move(g);
    std::set<std::string> job_ids;
    ASSIGN_OR_RETURN(Result jr, c_->Exec("SELECT id FROM jobs"));
    for (int i = 0; i < jr.rows(); ++i) job_ids.insert(jr.Text(i, 0));
    std::set<std::string> named;
    for (const Allocation& a : allocs) named.insert(a.gpu_uuid);
    std::vector<Allocation> existing;
    for (const std::string& uuid : named) {
      ASSIGN_OR_RETURN(
          Result r, c_->Exec("SELECT a.job_id, g.uuid, a.start_ms, a.end_ms, a.share_ppm FROM allocations a "
                             "JOIN gpus g ON g.id = a.gpu_id WHERE g.uuid = $1",
                             {P(uuid)}));
      for (int i = 0; i < r.rows(); ++i) existing.push_back(ReadAllocation(r, i));
    }
    if (Status s = CheckAllocations(allocs, existing, gpus, job_ids); !s.ok()) {
      tx.Release();  // refused before writing: an enclosing unit of work may go on
      return s;
    }
    for (const Allocation& a : allocs) {
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO allocations VALUES ($1, (SELECT id FROM gpus WHERE uuid = $2), $3, $4, $5) "
                   "ON CONFLICT (gpu_id, start_ms, job_id) DO UPDATE SET end_ms = $4, share_ppm = $5",
                   {P(a.job_id), P(a.gpu_uuid), P(a.start_ms), P(a.end_ms), P(a.share_ppm)})
              .status());
    }
    const Window changed = AllocationChangeSpan(allocs, existing);
    if (changed.start < changed.end) RETURN_IF_ERROR(RecordChange(changed));
    return tx.Commit();
  }

  Status PutSamples(const std::vector<GpuSample>& samples) override {
    if (samples.empty()) return OkStatus();
    std::map<std::string, int64_t> ids;
    ASSIGN_OR_RETURN(Result gr, c_->Exec("SELECT uuid, id FROM gpus"));
    for (int i = 0; i < gr.rows(); ++i) ids[gr.Text(i, 0)] = gr.Int(i, 1);
    for (const GpuSample& s : samples) {
      if (!ids.count(s.gpu_uuid)) {
        return NotFound("sample names unknown GPU '" + s.gpu_uuid +
                        "'; import it with `gpuledger import gpus` first");
      }
      RETURN_IF_ERROR(CheckSample(s.gpu_uuid, s.sample));
    }
    ASSIGN_OR_RETURN(LedgerSettings settings, GetSettings());
    // One row per (GPU, time) per statement (ON CONFLICT may not touch a row twice):
    // repeats within the batch merge here exactly as successive upserts would.
    std::vector<std::pair<int64_t, Sample>> rows;
    rows.reserve(samples.size());
    for (const GpuSample& g : samples) rows.emplace_back(ids[g.gpu_uuid], g.sample);
    SortAndMergeRepeats(rows);
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    Window changed{kMaxTimeMs, kMinTimeMs};
    // Thousands of rows per statement, as arrays (one round trip instead of one per row).
    constexpr size_t kRowsPerStatement = 5000;
    for (size_t start = 0; start < rows.size(); start += kRowsPerStatement) {
      ArrayColumns cols(8);
      const size_t end = std::min(rows.size(), start + kRowsPerStatement);
      for (size_t i = start; i < end; ++i) {
        const auto& [id, s] = rows[i];
        const Param vals[8] = {P(id),        P(s.t),         P(s.util_pct),  P(s.mem_mib),
                               P(s.power_w), P(s.energy_mj), P(s.sm_active), P(s.gr_active)};
        for (size_t c = 0; c < 8; ++c) cols.Add(c, vals[c]);
        changed.start = std::min(changed.start, s.t);
        changed.end = std::max(changed.end, s.t + 1);
      }
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO samples SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[], "
                   "$4::float8[], $5::float8[], $6::bigint[], $7::float8[], $8::float8[]) ON CONFLICT "
                   "(gpu_id, t_ms) DO "
                   "UPDATE "
                   "SET util = CASE WHEN excluded.util >= 0 THEN excluded.util ELSE samples.util END, "
                   "mem_mib = CASE WHEN excluded.mem_mib >= 0 THEN excluded.mem_mib ELSE samples.mem_mib "
                   "END, power_w = CASE WHEN excluded.power_w >= 0 THEN excluded.power_w ELSE "
                   "samples.power_w END, energy_mj = CASE WHEN excluded.energy_mj >= 0 THEN "
                   "excluded.energy_mj ELSE samples.energy_mj END, sm_active = CASE WHEN excluded.sm_active "
                   ">= 0 THEN excluded.sm_active ELSE samples.sm_active END, gr_active = CASE WHEN "
                   "excluded.gr_active >= 0 THEN excluded.gr_active ELSE samples.gr_active END",
                   cols.Params())
              .status());
    }
    // What the write changes for the meter (ledger/checks.h): from each GPU's last usable
    // sample before its first new one (the meter skips samples without a utilisation).
    const DurationMs pad = std::max<DurationMs>(settings.default_max_gap_ms, kHourMs);
    std::vector<SampleWriteFirst> firsts;
    {
      ArrayColumns cols_first(2);
      for (size_t i = 0; i < rows.size(); ++i) {
        if (i > 0 && rows[i].first == rows[i - 1].first) continue;  // sorted by GPU, then time
        cols_first.Add(0, P(rows[i].first));
        cols_first.Add(1, P(rows[i].second.t));
      }
      ASSIGN_OR_RETURN(Result prev,
                       c_->Exec("SELECT x.t0, (SELECT MAX(s.t_ms) FROM samples s WHERE s.gpu_id = x.id "
                                "AND s.t_ms < x.t0 AND s.util >= 0) "
                                "FROM unnest($1::bigint[], $2::bigint[]) AS x(id, t0)",
                                cols_first.Params()));
      for (int i = 0; i < prev.rows(); ++i) {
        SampleWriteFirst f;
        f.first_t = prev.Int(i, 0);
        if (!prev.IsNull(i, 1)) {
          f.before = SampleWriteFirst::Before::kAt;
          f.before_t = prev.Int(i, 1);
        }
        firsts.push_back(f);
      }
    }
    const SampleWriteChanges changes = SampleChangeSpans(firsts, changed.end - 1, pad);
    for (const Window& m : changes.markers) RETURN_IF_ERROR(RecordChange(m));
    if (changes.span.length() > 0) RETURN_IF_ERROR(RecordChange(changes.span));
    return tx.Commit();
  }

  Status PutProgress(const std::string& job_id, const std::vector<EpochProgress>& epochs) override {
    ASSIGN_OR_RETURN(Result known, c_->Exec("SELECT 1 FROM jobs WHERE id = $1", {P(job_id)}));
    if (known.rows() == 0)
      return NotFound("progress names unknown job '" + job_id + "'; import the job first");
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    for (const EpochProgress& e : epochs) {
      auto opt = [](const std::optional<double>& v) { return v ? P(*v) : Param(); };
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO progress VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) ON CONFLICT (job_id, epoch) "
                   "DO UPDATE SET time_s=$3, train_loss=$4, val_loss=$5, precision=$6, recall=$7, map50=$8, "
                   "map50_95=$9",
                   {P(job_id), P(int64_t{e.epoch}), opt(e.time_s), opt(e.train_loss), opt(e.val_loss),
                    opt(e.precision), opt(e.recall), opt(e.map50), opt(e.map50_95)})
              .status());
    }
    return tx.Commit();
  }

  Status PutPrices(const std::vector<Price>& prices) override {
    ASSIGN_OR_RETURN(LedgerSettings settings, GetSettings());
    RETURN_IF_ERROR(CheckPrices(prices, settings.currency));
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    TimeMs first = kMaxTimeMs;
    for (const Price& p : prices) {
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO prices VALUES ($1,$2,$3,$4,$5) ON CONFLICT (gpu_model, effective_from) DO "
                   "UPDATE SET micros_per_gpu_hour=$3, micros_per_kwh=$4, currency=$5",
                   {P(p.gpu_model), P(p.effective_from), P(p.micros_per_gpu_hour), P(p.micros_per_kwh),
                    P(p.currency)})
              .status());
      first = std::min(first, p.effective_from);
    }
    if (!prices.empty()) RETURN_IF_ERROR(RecordChange({first, kMaxTimeMs}));
    return tx.Commit();
  }

  StatusOr<std::vector<Job>> ListJobs() override {
    std::vector<Job> out;
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT * FROM jobs"));
    for (int row = 0; row < r.rows(); ++row) {
      ASSIGN_OR_RETURN(Job j, JobFromRow(pg::Row{r, row}));
      out.push_back(std::move(j));
    }
    return out;
  }

  StatusOr<std::optional<Job>> GetJob(const std::string& id) override {
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT * FROM jobs WHERE id = $1", {P(id)}));
    if (r.rows() == 0) return std::optional<Job>();
    ASSIGN_OR_RETURN(Job j, JobFromRow(pg::Row{r, 0}));
    return std::optional<Job>(std::move(j));
  }

  StatusOr<std::vector<std::pair<std::string, std::string>>> ListJobField(JobField field) override {
    ASSIGN_OR_RETURN(Result r, c_->Exec(std::string("SELECT id, ") + JobFieldColumns(field) + " FROM jobs"));
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(JobFieldFromRow(pg::Row{r, i}, field));
    return out;
  }

  StatusOr<std::vector<Gpu>> ListGpus() override {
    std::vector<Gpu> out;
    ASSIGN_OR_RETURN(Result r,
                     c_->Exec("SELECT uuid, node, idx, model, memory_mib, in_service_from, in_service_to, "
                              "sample_interval_ms, max_gap_ms FROM gpus ORDER BY node, idx, uuid"));
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.Text(i, 0), r.Text(i, 1), static_cast<int>(r.Int(i, 2)), r.Text(i, 3), r.Int(i, 4),
                     r.Int(i, 5), r.Int(i, 6), r.Int(i, 7), r.Int(i, 8)});
    }
    return out;
  }

  StatusOr<std::vector<Allocation>> AllocationsOfJob(const std::string& job_id) override {
    std::vector<Allocation> out;
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT a.job_id, g.uuid, a.start_ms, a.end_ms, a.share_ppm FROM "
                                        "allocations a JOIN gpus g ON g.id = a.gpu_id WHERE a.job_id = $1 "
                                        "ORDER BY g.uuid, a.start_ms",
                                        {P(job_id)}));
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadAllocation(r, i));
    return out;
  }

  StatusOr<std::vector<Allocation>> AllocationsOverlapping(Window w) override {
    std::vector<Allocation> out;
    ASSIGN_OR_RETURN(Result r,
                     c_->Exec("SELECT a.job_id, g.uuid, a.start_ms, a.end_ms, a.share_ppm FROM allocations a "
                              "JOIN gpus g ON g.id = a.gpu_id WHERE a.start_ms < $1 AND (a.end_ms = 0 OR "
                              "a.end_ms > $2) ORDER BY g.uuid, a.start_ms, a.job_id",
                              {P(w.end), P(w.start)}));
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) out.push_back(ReadAllocation(r, i));
    return out;
  }

  Status ScanSamples(const std::string& gpu_uuid, Window w,
                     const std::function<void(const Sample&)>& fn) override {
    ASSIGN_OR_RETURN(
        Result r,
        c_->Exec("SELECT t_ms, util, mem_mib, power_w, energy_mj, sm_active, gr_active FROM samples "
                 "WHERE "
                 "gpu_id = (SELECT id FROM gpus WHERE uuid = $1) AND t_ms >= $2 AND t_ms < $3 "
                 "ORDER BY t_ms",
                 {P(gpu_uuid), P(w.start), P(w.end)}));
    for (int i = 0; i < r.rows(); ++i) fn(ReadSample(r, i));
    return OkStatus();
  }

  StatusOr<std::optional<Sample>> SampleBefore(const std::string& gpu_uuid, TimeMs t) override {
    ASSIGN_OR_RETURN(
        Result r,
        c_->Exec("SELECT t_ms, util, mem_mib, power_w, energy_mj, sm_active, gr_active FROM samples "
                 "WHERE "
                 "gpu_id = (SELECT id FROM gpus WHERE uuid = $1) AND t_ms < $2 ORDER BY t_ms "
                 "DESC LIMIT 1",
                 {P(gpu_uuid), P(t)}));
    if (r.rows() == 0) return std::optional<Sample>();
    return std::optional<Sample>(ReadSample(r, 0));
  }

  Status Ping() override { return c_->Exec("SELECT 1").status(); }

  Status InTransaction(const std::function<Status()>& work) override {
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    Status s = work();
    if (s.ok()) s = tx.Commit();
    return s;
  }

  StatusOr<std::vector<Window>> SliceChangesSince(int64_t after_id, Window w) override {
    return books_.SliceChangesSince(after_id, w);
  }

  StatusOr<bool> HasSampleAtOrAfter(const std::string& gpu_uuid, TimeMs t) override {
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT 1 FROM samples WHERE gpu_id = (SELECT id FROM gpus WHERE "
                                        "uuid = $1) AND t_ms >= $2 LIMIT 1",
                                        {P(gpu_uuid), P(t)}));
    return r.rows() > 0;
  }

  StatusOr<std::vector<Price>> ListPrices() override {
    std::vector<Price> out;
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT * FROM prices ORDER BY gpu_model, effective_from"));
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
      out.push_back({r.Text(i, 0), r.Int(i, 1), r.Int(i, 2), r.Int(i, 3), r.Text(i, 4)});
    }
    return out;
  }

  StatusOr<std::vector<EpochProgress>> GetProgress(const std::string& job_id) override {
    std::vector<EpochProgress> out;
    ASSIGN_OR_RETURN(Result r,
                     c_->Exec("SELECT * FROM progress WHERE job_id = $1 ORDER BY epoch", {P(job_id)}));
    out.reserve(static_cast<size_t>(r.rows()));
    for (int row = 0; row < r.rows(); ++row) out.push_back(EpochFromRow(pg::Row{r, row}));
    return out;
  }

  // Books (docs/METERING.md, "Slices"): books_tables.cc.
  StatusOr<int64_t> LatestChangeOverlapping(Window w) override { return books_.LatestChangeOverlapping(w); }
  StatusOr<std::optional<int64_t>> BooksBuiltAt(const std::string& key) override {
    return books_.BuiltAt(key);
  }
  Status ReplaceUsage(const std::string& key, int64_t built_change,
                      const std::vector<UsageRow>& rows) override {
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    RETURN_IF_ERROR(books_.ReplaceUsage(key, built_change, rows));
    return tx.Commit();
  }
  StatusOr<std::vector<UsageRow>> GetUsage(const std::string& key) override { return books_.Usage(key); }
  Status ReplaceMinutes(const std::string& gpu_uuid, Window w,
                        const std::vector<MinuteRollup>& rows) override {
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    RETURN_IF_ERROR(books_.ReplaceMinutes(gpu_uuid, w, rows));
    return tx.Commit();
  }
  StatusOr<std::vector<MinuteRollup>> GetMinutes(const std::string& gpu_uuid, Window w) override {
    return books_.Minutes(gpu_uuid, w);
  }

  Status PutStopRequest(const StopRequest& r) override { return jobs_.PutStopRequest(r); }
  StatusOr<std::optional<StopRequest>> GetStopRequest(const std::string& job_id) override {
    return jobs_.GetStopRequest(job_id);
  }
  StatusOr<bool> DeleteStopRequest(const std::string& job_id) override {
    return jobs_.DeleteStopRequest(job_id);
  }
  Status PutEstimate(const JobEstimate& e) override { return jobs_.PutEstimate(e); }
  StatusOr<std::optional<JobEstimate>> GetEstimate(const std::string& job_id) override {
    return jobs_.GetEstimate(job_id);
  }
  Status PutJobGpuMemory(const std::vector<JobGpuMemory>& rows) override {
    return jobs_.PutJobGpuMemory(rows);
  }
  StatusOr<std::vector<JobGpuMemory>> GetJobGpuMemory(const std::string& job_id) override {
    return jobs_.GetJobGpuMemory(job_id);
  }

  StatusOr<int64_t> DropSamplesBefore(TimeMs cutoff) override {
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Result r, c_->Exec("DELETE FROM samples WHERE t_ms < $1", {P(cutoff)}));
    RETURN_IF_ERROR(c_->Exec("INSERT INTO settings VALUES ('raw_retained_from_ms', $1) ON CONFLICT (key) DO "
                             "UPDATE SET value = $1",
                             {P(std::to_string(cutoff))})
                        .status());
    RETURN_IF_ERROR(tx.Commit());
    return r.affected();
  }

  Status PutSightings(const std::vector<LabelSighting>& sightings) override {
    Transaction tx(*c_);
    RETURN_IF_ERROR(tx.Begin());
    for (const LabelSighting& s : sightings) {
      RETURN_IF_ERROR(
          c_->Exec("INSERT INTO label_sightings VALUES ($1,$2,$3,$4,$5) ON CONFLICT (gpu_uuid, label, value) "
                   "DO UPDATE SET first_ms = LEAST(label_sightings.first_ms, excluded.first_ms), "
                   "last_ms = GREATEST(label_sightings.last_ms, excluded.last_ms)",
                   {P(s.gpu_uuid), P(s.label), P(s.value), P(s.first_ms), P(s.last_ms)})
              .status());
    }
    return tx.Commit();
  }

  StatusOr<std::vector<LabelSighting>> FindSightings(const std::string& label,
                                                     const std::string& value) override {
    std::vector<LabelSighting> out;
    ASSIGN_OR_RETURN(
        Result r, c_->Exec("SELECT * FROM label_sightings WHERE label = $1 AND value = $2 ORDER BY gpu_uuid",
                           {P(label), P(value)}));
    out.reserve(static_cast<size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
      out.push_back({r.Text(i, 0), r.Text(i, 1), r.Text(i, 2), r.Int(i, 3), r.Int(i, 4)});
    return out;
  }

  StatusOr<std::vector<Job>> FindJobsByLabel(const std::string& key, const std::string& value) override {
    std::vector<Job> out;
    ASSIGN_OR_RETURN(
        Result r,
        c_->Exec("SELECT * FROM jobs WHERE labels::jsonb ->> $1 = $2 OR ($1 = 'hpc_job' AND id = $2) "
                 "ORDER BY id",
                 {P(key), P(value)}));
    for (int row = 0; row < r.rows(); ++row) {
      ASSIGN_OR_RETURN(Job j, JobFromRow(pg::Row{r, row}));
      out.push_back(std::move(j));
    }
    return out;
  }

  Status PutToken(const TokenRecord& t) override { return access_.PutToken(t); }
  StatusOr<std::optional<TokenRecord>> FindTokenByHash(const std::string& hash) override {
    return access_.FindTokenByHash(hash);
  }
  StatusOr<std::optional<TokenRecord>> FindTokenById(const std::string& id) override {
    return access_.FindTokenById(id);
  }
  StatusOr<std::vector<TokenRecord>> ListTokens() override { return access_.ListTokens(); }
  Status RevokeToken(const std::string& id, TimeMs at_ms) override { return access_.RevokeToken(id, at_ms); }
  Status TouchToken(const std::string& id, TimeMs at_ms) override { return access_.TouchToken(id, at_ms); }

  StatusOr<bool> HasProject(const std::string& name) override {
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT 1 FROM projects WHERE name = $1", {P(name)}));
    return r.rows() > 0;
  }

  StatusOr<bool> HasDepartment(const std::string& name) override {
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT 1 FROM departments WHERE name = $1", {P(name)}));
    return r.rows() > 0;
  }

  Status AppendAudit(const AuditEntry& entry) override { return access_.AppendAudit(entry); }

  StatusOr<std::string> GetOrCreateExportSalt(const std::string& candidate) override {
    RETURN_IF_ERROR(
        c_->Exec("INSERT INTO export_salt VALUES (1, $1) ON CONFLICT (id) DO NOTHING", {P(candidate)})
            .status());
    ASSIGN_OR_RETURN(Result r, c_->Exec("SELECT salt FROM export_salt WHERE id = 1"));
    if (r.rows() == 0) return Internal("export salt missing after insert");
    return r.Text(0, 0);
  }

  StatusOr<std::vector<AuditEntry>> ListAudit(int64_t after_seq, size_t limit) override {
    return access_.ListAudit(after_seq, limit);
  }

  StatusOr<bool> PutNotice(const OutboxNotice& n, const std::vector<OutboxDelivery>& d) override {
    return outbox_.PutNotice(n, d);
  }
  StatusOr<std::vector<OutboxDelivery>> DueDeliveries(TimeMs now, size_t limit) override {
    return outbox_.DueDeliveries(now, limit);
  }
  Status UpdateDelivery(const OutboxDelivery& d) override { return outbox_.UpdateDelivery(d); }
  StatusOr<std::vector<OutboxDelivery>> ListDeliveries(const std::string& cause_key) override {
    return outbox_.ListDeliveries(cause_key);
  }
  Status PutMonthClose(const MonthClose& c) override { return closes_.PutMonthClose(c); }
  StatusOr<std::optional<MonthClose>> GetMonthClose(const std::string& month) override {
    return closes_.GetMonthClose(month);
  }
  StatusOr<std::vector<MonthClose>> ListMonthCloses(bool with_body) override {
    return closes_.ListMonthCloses(with_body);
  }

  // Budgets (ledger/budgets.h): budget_tables.cc.
  Status PutBudget(const BudgetRecord& b) override { return budgets_.PutBudget(b); }
  StatusOr<std::vector<BudgetRecord>> ListBudgets() override { return budgets_.ListBudgets(); }
  StatusOr<bool> DeleteBudget(BudgetScope scope, const std::string& name,
                              std::optional<YearMonth> month) override {
    return budgets_.DeleteBudget(scope, name, month);
  }
  StatusOr<BudgetGateSetting> GetBudgetGate() override { return budgets_.GetBudgetGate(); }
  Status SetBudgetGate(const BudgetGateSetting& g) override { return budgets_.SetBudgetGate(g); }
  StatusOr<bool> PutBudgetAlert(const BudgetAlertRow& a) override { return budgets_.PutBudgetAlert(a); }
  StatusOr<std::vector<BudgetAlertRow>> ListBudgetAlerts(YearMonth month) override {
    return budgets_.ListBudgetAlerts(month);
  }

  // Policies that act (#13): policy_tables.h.
  StatusOr<bool> PutDecision(PolicyDecisionRow& d) override { return policy_.PutDecision(d); }
  StatusOr<std::optional<PolicyDecisionRow>> GetDecision(const std::string& cause_key) override {
    return policy_.GetDecision(cause_key);
  }
  StatusOr<std::vector<PolicyDecisionRow>> ListDecisions(const std::string& job_id, TimeMs from_ms,
                                                         size_t limit) override {
    return policy_.ListDecisions(job_id, from_ms, limit);
  }
  Status PutPause(JobPause& p) override { return policy_.PutPause(p); }
  StatusOr<std::optional<JobPause>> OpenPause(const std::string& job_id) override {
    return policy_.OpenPause(job_id);
  }
  Status EndPause(const std::string& job_id, TimeMs resumed_ms) override {
    return policy_.EndPause(job_id, resumed_ms);
  }
  StatusOr<std::vector<JobPause>> ListPauses(const std::string& job_id) override {
    return policy_.ListPauses(job_id);
  }
  StatusOr<std::vector<JobPause>> PausesOverlapping(Window w) override { return policy_.PausesOverlapping(w); }
  Status SettlePause(const JobPause& p) override { return policy_.SettlePause(p); }
  Status DeletePause(int64_t pause_id) override { return policy_.DeletePause(pause_id); }
  Status SetDecisionData(const std::string& cause_key, const std::string& data_json) override {
    return policy_.SetDecisionData(cause_key, data_json);
  }
  Status DeleteDecision(const std::string& cause_key) override { return policy_.DeleteDecision(cause_key); }

 private:
  static Allocation ReadAllocation(const Result& r, int i) {
    return {r.Text(i, 0), r.Text(i, 1), r.Int(i, 2), r.Int(i, 3), r.Int(i, 4)};
  }
  static Sample ReadSample(const Result& r, int i) {
    Sample s;
    s.t = r.Int(i, 0);
    s.util_pct = static_cast<float>(r.Double(i, 1));
    s.mem_mib = static_cast<float>(r.Double(i, 2));
    s.power_w = static_cast<float>(r.Double(i, 3));
    s.energy_mj = r.Int(i, 4);
    s.sm_active = static_cast<float>(r.Double(i, 5));
    s.gr_active = static_cast<float>(r.Double(i, 6));
    return s;
  }
  Status RecordChange(Window w, bool slices = true) { return books_.RecordChange(w, slices); }

  Conn* c_;                        // borrowed: the pool's (pool.h), which outlives this
  pg::AccessTables access_{*c_};   // API tokens and the audit chain
  pg::OutboxTables outbox_{*c_};   // the notification outbox
  pg::BudgetTables budgets_{*c_};  // budgets and the budget gate
  pg::CloseTables closes_{*c_};    // monthly closes
  pg::PolicyTables policy_{*c_};   // decisions and pauses (#13)
  pg::JobTables jobs_{*c_};        // stop requests, estimates, GPU memory
  pg::BooksTables books_{*c_};     // the change log, built books' usage, minute rollups
};

}  // namespace

StatusOr<std::unique_ptr<Ledger>> pg::OpenConnectionLedger(Conn& conn, bool migrate) {
  auto ledger = std::make_unique<PostgresLedger>(conn);
  if (migrate) RETURN_IF_ERROR(ledger->Migrate());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace gpuledger
