// The SQLite ledger: the embedded default. WAL mode, one connection, versioned
// migrations; every Put* validates, then writes in one IMMEDIATE transaction.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_map>

#include "common/strings.h"
#include "ledger/checks.h"
#include "ledger/labels_json.h"
#include "ledger/ledger.h"
#include "ledger/migrations.h"
#include "ledger/rows.h"
#include "ledger/sample_blocks.h"
#include "ledger/sqlite/access_tables.h"
#include "ledger/sqlite/books_tables.h"
#include "ledger/sqlite/budget_tables.h"
#include "ledger/sqlite/close_tables.h"
#include "ledger/sqlite/job_tables.h"
#include "ledger/sqlite/outbox_tables.h"
#include "ledger/sqlite/policy_tables.h"
#include "ledger/sqlite/sample_tables.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger {
namespace {

using sqlite::Db;
using sqlite::Stmt;
using sqlite::Transaction;

constexpr int kAuditChainMigration = 8;  // 0008_tokens_audit_chain.sql

class SqliteLedger final : public Ledger {
 public:
  explicit SqliteLedger(std::unique_ptr<Db> db) : db_(std::move(db)) {}

  Status Migrate() {
    // mmap and a 64 MiB page cache: reports read a month's usage and every job in one go.
    RETURN_IF_ERROR(
        db_->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                  "PRAGMA mmap_size=1073741824; PRAGMA cache_size=-65536;"));
    RETURN_IF_ERROR(db_->Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL)"));
    // Every version not yet recorded is applied, in order (not only those above the
    // highest): a migration merged with a lower number than one already applied still runs.
    std::set<int64_t> have;
    {
      ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT version FROM schema_migrations"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        have.insert(q.Int(0));
      }
    }
    for (const Migration& m : SqliteMigrations()) {
      if (have.count(m.version) > 0) continue;
      Transaction tx(*db_);
      RETURN_IF_ERROR(tx.Begin());
      RETURN_IF_ERROR(db_->Exec(m.sql).WithContext(std::string("migration ") + m.name));
      if (m.version == kAuditChainMigration) RETURN_IF_ERROR(access_.ChainLegacyAudit());
      ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT INTO schema_migrations VALUES (?, ?)"));
      RETURN_IF_ERROR(ins.Bind(1, m.version).Bind(2, std::string_view(m.name)).Run());
      RETURN_IF_ERROR(tx.Commit());
    }
    return OkStatus();
  }

  StatusOr<LedgerSettings> GetSettings() override {
    LedgerSettings s;
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT key, value FROM settings"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      const std::string k = q.Text(0), v = q.Text(1);
      RETURN_IF_ERROR(ApplySetting(s, k, v));
    }
    return s;
  }

  Status SetSettings(const LedgerSettings& s) override {
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("INSERT OR REPLACE INTO settings VALUES (?, ?)"));
    RETURN_IF_ERROR(q.Bind(1, std::string_view("currency")).Bind(2, std::string_view(s.currency)).Run());
    RETURN_IF_ERROR(q.Bind(1, std::string_view("timezone")).Bind(2, std::string_view(s.timezone)).Run());
    RETURN_IF_ERROR(q.Bind(1, std::string_view("default_interval_ms"))
                        .Bind(2, std::to_string(s.default_interval_ms))
                        .Run());
    RETURN_IF_ERROR(q.Bind(1, std::string_view("default_max_gap_ms"))
                        .Bind(2, std::to_string(s.default_max_gap_ms))
                        .Run());
    RETURN_IF_ERROR(RecordChange({kMinTimeMs, kMaxTimeMs}));
    return tx.Commit();
  }

  Status PutJobs(const std::vector<Job>& jobs) override {
    // Validation reads inside the write transaction (BEGIN IMMEDIATE holds the write lock),
    // so no other writer changes what they checked before this commits.
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    std::map<std::string, std::string> project_dept;
    {
      ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT name, department FROM projects"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        project_dept[q.Text(0)] = q.Text(1);
      }
    }
    if (Status s = CheckJobs(jobs, project_dept); !s.ok()) {
      tx.Release();  // refused before writing: an enclosing unit of work may go on
      return s;
    }
    ASSIGN_OR_RETURN(Stmt dept, db_->Prepare("INSERT OR IGNORE INTO departments VALUES (?)"));
    ASSIGN_OR_RETURN(Stmt proj, db_->Prepare("INSERT OR IGNORE INTO projects VALUES (?, ?)"));
    ASSIGN_OR_RETURN(Stmt user, db_->Prepare("INSERT OR IGNORE INTO users VALUES (?)"));
    ASSIGN_OR_RETURN(Stmt digest, db_->Prepare("INSERT OR IGNORE INTO image_digests VALUES (?, ?, ?, ?, ?)"));
    ASSIGN_OR_RETURN(
        Stmt ins,
        db_->Prepare("INSERT OR REPLACE INTO jobs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
    Window changed{kMaxTimeMs, kMinTimeMs};
    for (const Job& j : jobs) {
      RETURN_IF_ERROR(dept.Bind(1, std::string_view(j.department)).Run());
      RETURN_IF_ERROR(
          proj.Bind(1, std::string_view(j.project)).Bind(2, std::string_view(j.department)).Run());
      RETURN_IF_ERROR(user.Bind(1, std::string_view(j.user)).Run());
      if (!j.image_digest.empty()) {
        RETURN_IF_ERROR(digest.Bind(1, std::string_view(j.image_digest))
                            .Bind(2, std::string_view(j.image_repo))
                            .Bind(3, std::string_view(j.image_tag))
                            .Bind(4, std::string_view(j.id))
                            .Bind(5, j.submitted_ms ? j.submitted_ms : j.start_ms)
                            .Run());
      }
      ins.Bind(1, std::string_view(j.id))
          .Bind(2, std::string_view(j.user))
          .Bind(3, std::string_view(j.project))
          .Bind(4, std::string_view(j.department))
          .Bind(5, std::string_view(j.model_type))
          .Bind(6, std::string_view(j.image_repo))
          .Bind(7, std::string_view(j.image_tag))
          .Bind(8, std::string_view(j.image_digest))
          .Bind(9, std::string_view(j.framework))
          .Bind(10, j.gpu_share_ppm)
          .Bind(11, std::string_view(j.gpu_model))
          .Bind(12, j.duration_limit_ms)
          .Bind(13, std::string_view(j.dataset))
          .Bind(14, j.dataset_images)
          .Bind(15, j.epochs)
          .Bind(16, j.batch)
          .Bind(17, j.imgsz)
          .Bind(18, j.amp ? 1 : 0)
          .Bind(19, LabelsToJson(j.labels))
          .Bind(20, JobStatusName(j.status))
          .Bind(21, j.submitted_ms)
          .Bind(22, j.start_ms)
          .Bind(23, j.end_ms);
      RETURN_IF_ERROR(ins.Run());
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
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(std::vector<Gpu> stored, ListGpus());
    const Window changed = GpuChangeSpan(gpus, stored);
    ASSIGN_OR_RETURN(
        Stmt ins,
        db_->Prepare(
            "INSERT INTO gpus (uuid, node, idx, model, memory_mib, in_service_from, in_service_to, "
            "sample_interval_ms, max_gap_ms) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(uuid) DO UPDATE SET "
            "node=excluded.node, idx=excluded.idx, model=excluded.model, memory_mib=excluded.memory_mib, "
            "in_service_from=excluded.in_service_from, in_service_to=excluded.in_service_to, "
            "sample_interval_ms=excluded.sample_interval_ms, max_gap_ms=excluded.max_gap_ms"));
    for (const Gpu& g : gpus) {
      RETURN_IF_ERROR(ins.Bind(1, std::string_view(g.uuid))
                          .Bind(2, std::string_view(g.node))
                          .Bind(3, g.index)
                          .Bind(4, std::string_view(g.model))
                          .Bind(5, g.memory_mib)
                          .Bind(6, g.in_service_from)
                          .Bind(7, g.in_service_to)
                          .Bind(8, g.sample_interval_ms)
                          .Bind(9, g.max_gap_ms)
                          .Run());
    }
    if (changed.start < changed.end) RETURN_IF_ERROR(RecordChange(changed));
    return tx.Commit();
  }

  Status PutAllocations(const std::vector<Allocation>& allocs) override {
    if (allocs.empty()) return OkStatus();
    Transaction tx(*db_);  // checks read inside it: two writers cannot over-allocate a GPU
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(std::vector<Gpu> gpu_list, ListGpus());
    std::map<std::string, Gpu> gpus;
    for (Gpu& g : gpu_list) gpus[g.uuid] = std::move(g);
    std::set<std::string> job_ids;
    {
      ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id FROM jobs"));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        job_ids.insert(q.Text(0));
      }
    }
    std::set<std::string> named;
    for (const Allocation& a : allocs) named.insert(a.gpu_uuid);
    std::vector<Allocation> existing;
    ASSIGN_OR_RETURN(
        Stmt q, db_->Prepare("SELECT a.job_id, g.uuid, a.start_ms, a.end_ms, a.share_ppm FROM allocations a "
                             "JOIN gpus g ON g.id = a.gpu_id WHERE g.uuid = ?"));
    for (const std::string& uuid : named) {
      q.Reset();
      q.Bind(1, std::string_view(uuid));
      for (;;) {
        ASSIGN_OR_RETURN(bool row, q.Step());
        if (!row) break;
        existing.push_back({q.Text(0), q.Text(1), q.Int(2), q.Int(3), q.Int(4)});
      }
    }
    if (Status s = CheckAllocations(allocs, existing, gpus, job_ids); !s.ok()) {
      tx.Release();  // refused before writing: an enclosing unit of work may go on
      return s;
    }
    ASSIGN_OR_RETURN(
        Stmt ins,
        db_->Prepare(
            "INSERT OR REPLACE INTO allocations VALUES (?, (SELECT id FROM gpus WHERE uuid = ?), ?, ?, ?)"));
    for (const Allocation& a : allocs) {
      RETURN_IF_ERROR(ins.Bind(1, std::string_view(a.job_id))
                          .Bind(2, std::string_view(a.gpu_uuid))
                          .Bind(3, a.start_ms)
                          .Bind(4, a.end_ms)
                          .Bind(5, a.share_ppm)
                          .Run());
    }
    const Window changed = AllocationChangeSpan(allocs, existing);
    if (changed.start < changed.end) RETURN_IF_ERROR(RecordChange(changed));
    return tx.Commit();
  }

  Status PutSamples(const std::vector<GpuSample>& samples) override {
    if (samples.empty()) return OkStatus();
    // GPU ids never change once given: read them again only for a GPU not seen yet (it
    // may have been added since, by this ledger or another process).
    // A GPU's samples usually come together: its UUID is looked up once per run.
    auto same_gpu = [&](size_t i) { return i > 0 && samples[i].gpu_uuid == samples[i - 1].gpu_uuid; };
    for (size_t i = 0; i < samples.size(); ++i) {
      const GpuSample& s = samples[i];
      if (!same_gpu(i) && !gpu_ids_.count(s.gpu_uuid)) {
        gpu_ids_.clear();
        ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT uuid, id FROM gpus"));
        for (;;) {
          ASSIGN_OR_RETURN(bool row, q.Step());
          if (!row) break;
          gpu_ids_[q.Text(0)] = q.Int(1);
        }
        break;
      }
    }
    const std::unordered_map<std::string, int64_t>& ids = gpu_ids_;
    for (size_t i = 0; i < samples.size(); ++i) {
      const GpuSample& s = samples[i];
      if (!same_gpu(i) && !ids.count(s.gpu_uuid)) {
        return NotFound("sample names unknown GPU '" + s.gpu_uuid +
                        "'; import it with `gpuledger import gpus` first");
      }
      RETURN_IF_ERROR(CheckSample(s.gpu_uuid, s.sample));
    }
    ASSIGN_OR_RETURN(LedgerSettings settings, GetSettings());
    std::vector<std::pair<int64_t, Sample>> rows;
    rows.reserve(samples.size());
    {
      const std::string* last_uuid = nullptr;  // a GPU's samples come together: one lookup each
      int64_t last_id = 0;
      for (const GpuSample& g : samples) {
        if (last_uuid == nullptr || *last_uuid != g.gpu_uuid) {
          last_uuid = &g.gpu_uuid;
          last_id = ids.at(g.gpu_uuid);
        }
        rows.emplace_back(last_id, g.sample);
      }
    }
    SortAndMergeRepeats(rows);
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    const DurationMs pad = std::max<DurationMs>(settings.default_max_gap_ms, kHourMs);
    std::vector<SampleWriteFirst> firsts;
    TimeMs latest = kMinTimeMs;
    for (size_t i = 0; i < rows.size(); ++i) {
      latest = std::max(latest, rows[i].second.t);
      if (i > 0 && rows[i].first == rows[i - 1].first) continue;  // sorted by GPU, then time
      SampleWriteFirst f;
      f.first_t = rows[i].second.t;
      // The meter's predecessor is the last sample with a utilisation (it skips others),
      // looked for as far back as the meter looks (books/slices.cc).
      ASSIGN_OR_RETURN(std::optional<Sample> prev, samples_.Before(rows[i].first, f.first_t));
      for (int step = 0; step < 16 && prev && prev->util_pct < 0; ++step) {
        ASSIGN_OR_RETURN(prev, samples_.Before(rows[i].first, prev->t));
      }
      if (prev && prev->util_pct >= 0) {
        f.before = SampleWriteFirst::Before::kAt;
        f.before_t = prev->t;
      } else if (prev) {
        f.before = SampleWriteFirst::Before::kUnknown;
      }
      firsts.push_back(f);
    }
    const SampleWriteChanges changes = SampleChangeSpans(firsts, latest, pad);
    for (const Window& m : changes.markers) RETURN_IF_ERROR(RecordChange(m));
    RETURN_IF_ERROR(samples_.Put(rows));
    if (changes.span.length() > 0) RETURN_IF_ERROR(RecordChange(changes.span));
    return tx.Commit();
  }

  Status PutProgress(const std::string& job_id, const std::vector<EpochProgress>& epochs) override {
    {
      ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT 1 FROM jobs WHERE id = ?"));
      q.Bind(1, std::string_view(job_id));
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) return NotFound("progress names unknown job '" + job_id + "'; import the job first");
    }
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT OR REPLACE INTO progress VALUES (?,?,?,?,?,?,?,?,?)"));
    for (const EpochProgress& e : epochs) {
      ins.Bind(1, std::string_view(job_id)).Bind(2, e.epoch);
      const std::optional<double>* vals[] = {&e.time_s, &e.train_loss, &e.val_loss, &e.precision,
                                             &e.recall, &e.map50,      &e.map50_95};
      for (int i = 0; i < 7; ++i) {
        if (vals[i]->has_value())
          ins.Bind(3 + i, **vals[i]);
        else
          ins.BindNull(3 + i);
      }
      RETURN_IF_ERROR(ins.Run());
    }
    return tx.Commit();
  }

  Status PutPrices(const std::vector<Price>& prices) override {
    ASSIGN_OR_RETURN(LedgerSettings settings, GetSettings());
    RETURN_IF_ERROR(CheckPrices(prices, settings.currency));
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT OR REPLACE INTO prices VALUES (?,?,?,?,?)"));
    TimeMs first = kMaxTimeMs;
    for (const Price& p : prices) {
      RETURN_IF_ERROR(ins.Bind(1, std::string_view(p.gpu_model))
                          .Bind(2, p.effective_from)
                          .Bind(3, p.micros_per_gpu_hour)
                          .Bind(4, p.micros_per_kwh)
                          .Bind(5, std::string_view(p.currency))
                          .Run());
      first = std::min(first, p.effective_from);
    }
    if (!prices.empty()) RETURN_IF_ERROR(RecordChange({first, kMaxTimeMs}));
    return tx.Commit();
  }

  StatusOr<std::vector<Job>> ListJobs() override {
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT * FROM jobs"));
    return ReadJobs(q);
  }

  StatusOr<std::optional<Job>> GetJob(const std::string& id) override {
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT * FROM jobs WHERE id = ?"));
    q.Bind(1, std::string_view(id));
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return std::optional<Job>();
    ASSIGN_OR_RETURN(Job j, JobFromRow(q));
    return std::optional<Job>(std::move(j));
  }

  StatusOr<std::vector<std::pair<std::string, std::string>>> ListJobField(JobField field) override {
    ASSIGN_OR_RETURN(Stmt q,
                     db_->Prepare(std::string("SELECT id, ") + JobFieldColumns(field) + " FROM jobs"));
    std::vector<std::pair<std::string, std::string>> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(JobFieldFromRow(q, field));
    }
    return out;
  }

  StatusOr<std::vector<Gpu>> ListGpus() override {
    std::vector<Gpu> out;
    ASSIGN_OR_RETURN(
        Stmt q,
        db_->Prepare(
            "SELECT uuid, node, idx, model, memory_mib, in_service_from, in_service_to, sample_interval_ms, "
            "max_gap_ms FROM gpus ORDER BY node, idx, uuid"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Text(1), static_cast<int>(q.Int(2)), q.Text(3), q.Int(4), q.Int(5),
                     q.Int(6), q.Int(7), q.Int(8)});
    }
    return out;
  }

  StatusOr<std::vector<Allocation>> AllocationsOfJob(const std::string& job_id) override {
    std::vector<Allocation> out;
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT a.job_id, g.uuid, a.start_ms, a.end_ms, a.share_ppm FROM "
                                          "allocations a JOIN gpus g ON g.id = a.gpu_id WHERE a.job_id = ? "
                                          "ORDER BY g.uuid, a.start_ms"));
    q.Bind(1, std::string_view(job_id));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Text(1), q.Int(2), q.Int(3), q.Int(4)});
    }
    return out;
  }

  StatusOr<std::vector<Allocation>> AllocationsOverlapping(Window w) override {
    std::vector<Allocation> out;
    ASSIGN_OR_RETURN(
        Stmt q,
        db_->Prepare(
            "SELECT a.job_id, g.uuid, a.start_ms, a.end_ms, a.share_ppm FROM allocations a JOIN gpus g "
            "ON g.id = a.gpu_id WHERE a.start_ms < ? AND (a.end_ms = 0 OR a.end_ms > ?) "
            "ORDER BY g.uuid, a.start_ms, a.job_id"));
    q.Bind(1, w.end).Bind(2, w.start);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Text(1), q.Int(2), q.Int(3), q.Int(4)});
    }
    return out;
  }

  Status ScanSamples(const std::string& gpu_uuid, Window w,
                     const std::function<void(const Sample&)>& fn) override {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GpuId(gpu_uuid));
    if (!id) return OkStatus();
    return samples_.Scan(*id, w, fn);
  }

  StatusOr<std::optional<Sample>> SampleBefore(const std::string& gpu_uuid, TimeMs t) override {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GpuId(gpu_uuid));
    if (!id) return std::optional<Sample>();
    return samples_.Before(*id, t);
  }

  StatusOr<bool> HasSampleAtOrAfter(const std::string& gpu_uuid, TimeMs t) override {
    ASSIGN_OR_RETURN(std::optional<int64_t> id, GpuId(gpu_uuid));
    if (!id) return false;
    return samples_.AnyAtOrAfter(*id, t);
  }

  StatusOr<std::vector<Price>> ListPrices() override {
    std::vector<Price> out;
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT * FROM prices ORDER BY gpu_model, effective_from"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Int(1), q.Int(2), q.Int(3), q.Text(4)});
    }
    return out;
  }

  StatusOr<std::vector<EpochProgress>> GetProgress(const std::string& job_id) override {
    std::vector<EpochProgress> out;
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT * FROM progress WHERE job_id = ? ORDER BY epoch"));
    q.Bind(1, std::string_view(job_id));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back(EpochFromRow(q));
    }
    return out;
  }

  // Books (docs/METERING.md, "Slices"): books_tables.cc.
  StatusOr<int64_t> LatestChangeOverlapping(Window w) override { return books_.LatestChangeOverlapping(w); }
  StatusOr<std::vector<Window>> SliceChangesSince(int64_t after_id, Window w) override {
    return books_.SliceChangesSince(after_id, w);
  }
  StatusOr<std::optional<int64_t>> BooksBuiltAt(const std::string& key) override {
    return books_.BuiltAt(key);
  }
  Status ReplaceUsage(const std::string& key, int64_t built_change,
                      const std::vector<UsageRow>& rows) override {
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    RETURN_IF_ERROR(books_.ReplaceUsage(key, built_change, rows));
    return tx.Commit();
  }
  StatusOr<std::vector<UsageRow>> GetUsage(const std::string& key) override { return books_.Usage(key); }
  Status ReplaceMinutes(const std::string& gpu_uuid, Window w,
                        const std::vector<MinuteRollup>& rows) override {
    Transaction tx(*db_);
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
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(int64_t dropped, samples_.DropBefore(cutoff));
    ASSIGN_OR_RETURN(Stmt set,
                     db_->Prepare("INSERT OR REPLACE INTO settings VALUES ('raw_retained_from_ms', ?)"));
    RETURN_IF_ERROR(set.Bind(1, std::to_string(cutoff)).Run());
    RETURN_IF_ERROR(tx.Commit());
    return dropped;
  }

  Status PutSightings(const std::vector<LabelSighting>& sightings) override {
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    ASSIGN_OR_RETURN(
        Stmt q,
        db_->Prepare("INSERT INTO label_sightings VALUES (?,?,?,?,?) ON CONFLICT(gpu_uuid, label, value) DO "
                     "UPDATE SET first_ms = MIN(first_ms, excluded.first_ms), last_ms = MAX(last_ms, "
                     "excluded.last_ms)"));
    for (const LabelSighting& s : sightings) {
      RETURN_IF_ERROR(q.Bind(1, std::string_view(s.gpu_uuid))
                          .Bind(2, std::string_view(s.label))
                          .Bind(3, std::string_view(s.value))
                          .Bind(4, s.first_ms)
                          .Bind(5, s.last_ms)
                          .Run());
    }
    return tx.Commit();
  }

  StatusOr<std::vector<LabelSighting>> FindSightings(const std::string& label,
                                                     const std::string& value) override {
    std::vector<LabelSighting> out;
    ASSIGN_OR_RETURN(
        Stmt q,
        db_->Prepare("SELECT * FROM label_sightings WHERE label = ? AND value = ? ORDER BY gpu_uuid"));
    q.Bind(1, std::string_view(label)).Bind(2, std::string_view(value));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      out.push_back({q.Text(0), q.Text(1), q.Text(2), q.Int(3), q.Int(4)});
    }
    return out;
  }

  StatusOr<std::vector<Job>> FindJobsByLabel(const std::string& key, const std::string& value) override {
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT * FROM jobs WHERE json_extract(labels, '$.' || ?) = ? OR "
                                          "(? = 'hpc_job' AND id = ?) ORDER BY id"));
    q.Bind(1, std::string_view(key)).Bind(2, std::string_view(value)).Bind(3, std::string_view(key));
    q.Bind(4, std::string_view(value));
    return ReadJobs(q);
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
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT 1 FROM projects WHERE name = ?"));
    q.Bind(1, std::string_view(name));
    return q.Step();
  }

  StatusOr<bool> HasDepartment(const std::string& name) override {
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT 1 FROM departments WHERE name = ?"));
    q.Bind(1, std::string_view(name));
    return q.Step();
  }

  Status AppendAudit(const AuditEntry& entry) override { return access_.AppendAudit(entry); }

  StatusOr<std::string> GetOrCreateExportSalt(const std::string& candidate) override {
    ASSIGN_OR_RETURN(Stmt ins, db_->Prepare("INSERT OR IGNORE INTO export_salt VALUES (1, ?)"));
    RETURN_IF_ERROR(ins.Bind(1, std::string_view(candidate)).Run());
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT salt FROM export_salt WHERE id = 1"));
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Internal("export salt missing after insert");
    return q.Text(0);
  }

  Status InTransaction(const std::function<Status()>& work) override {
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    Status s = work();
    if (s.ok()) s = tx.Commit();
    if (!s.ok()) gpu_ids_.clear();  // it may name GPUs the rollback took back
    return s;
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
  StatusOr<std::optional<int64_t>> GpuId(const std::string& uuid) {
    ASSIGN_OR_RETURN(Stmt q, db_->Prepare("SELECT id FROM gpus WHERE uuid = ?"));
    q.Bind(1, std::string_view(uuid));
    ASSIGN_OR_RETURN(bool row, q.Step());
    return row ? std::optional<int64_t>(q.Int(0)) : std::optional<int64_t>();
  }

  // Every row of a `SELECT * FROM jobs ...` statement.
  static StatusOr<std::vector<Job>> ReadJobs(Stmt& q) {
    std::vector<Job> out;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(Job j, JobFromRow(q));
      out.push_back(std::move(j));
    }
    return out;
  }

  Status RecordChange(Window w, bool slices = true) { return books_.RecordChange(w, slices); }

  std::unique_ptr<Db> db_;
  sqlite::SampleTables samples_{*db_};                // raw samples: rows and sealed blocks
  sqlite::AccessTables access_{*db_};                 // API tokens and the audit chain
  sqlite::OutboxTables outbox_{*db_};                 // the notification outbox
  sqlite::BudgetTables budgets_{*db_};                // budgets and the budget gate
  sqlite::CloseTables closes_{*db_};                  // monthly closes
  sqlite::PolicyTables policy_{*db_};                 // decisions and pauses (#13)
  sqlite::JobTables jobs_{*db_};                      // stop requests, estimates, GPU memory
  sqlite::BooksTables books_{*db_};                   // the change log, built books' usage, minute rollups
  std::unordered_map<std::string, int64_t> gpu_ids_;  // uuid -> gpus.id, filled on demand
};

}  // namespace

StatusOr<std::unique_ptr<Ledger>> OpenSqliteLedger(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<sqlite::Db> db, sqlite::Db::Open(path));
  auto ledger = std::make_unique<SqliteLedger>(std::move(db));
  RETURN_IF_ERROR(ledger->Migrate());
  return std::unique_ptr<Ledger>(std::move(ledger));
}

}  // namespace gpuledger
