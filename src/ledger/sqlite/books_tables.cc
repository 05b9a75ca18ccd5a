#include "ledger/sqlite/books_tables.h"

#include "ledger/rows.h"

namespace gpuledger::sqlite {

Status BooksTables::RecordChange(Window w, bool slices) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("INSERT INTO changes (start_ms, end_ms, slices) VALUES (?, ?, ?)"));
  return q.Bind(1, w.start).Bind(2, w.end).Bind(3, slices ? 1 : 0).Run();
}

StatusOr<int64_t> BooksTables::LatestChangeOverlapping(Window w) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("SELECT COALESCE(MAX(id), 0) FROM changes WHERE start_ms < ? AND end_ms > ?"));
  q.Bind(1, w.end).Bind(2, w.start);
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.Int(0) : 0;
}

StatusOr<std::vector<Window>> BooksTables::SliceChangesSince(int64_t after_id, Window w) {
  std::vector<Window> spans;
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT start_ms, end_ms FROM changes WHERE id > ? AND slices = 1 "
                                       "AND start_ms < ? AND end_ms > ? ORDER BY id"));
  q.Bind(1, after_id).Bind(2, w.end).Bind(3, w.start);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    spans.push_back({q.Int(0), q.Int(1)});
  }
  return spans;
}

StatusOr<std::optional<int64_t>> BooksTables::BuiltAt(const std::string& key) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT built_change FROM books WHERE key = ?"));
  q.Bind(1, std::string_view(key));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<int64_t>();
  return std::optional<int64_t>(q.Int(0));
}

Status BooksTables::ReplaceUsage(const std::string& key, int64_t built_change,
                                 const std::vector<UsageRow>& rows) {
  ASSIGN_OR_RETURN(Stmt del, db_.Prepare("DELETE FROM usage WHERE book = ?"));
  RETURN_IF_ERROR(del.Bind(1, std::string_view(key)).Run());
  ASSIGN_OR_RETURN(Stmt ins, db_.Prepare("INSERT INTO usage VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  for (const UsageRow& r : rows) {
    ins.Bind(1, std::string_view(key))
        .Bind(2, std::string_view(r.job_id))
        .Bind(3, std::string_view(r.gpu_uuid))
        .Bind(4, std::string_view(r.gpu_model))
        .Bind(5, r.period_start)
        .Bind(6, r.period_end)
        .Bind(7, r.gpu_ns)
        .Bind(8, r.covered_ns)
        .Bind(9, r.busy_ns)
        .Bind(10, r.dense_ns)
        .Bind(11, r.util_ns)
        .Bind(12, r.energy_mj)
        .Bind(13, r.peak_mem_mib)
        .Bind(14, r.loading_ns)
        .Bind(15, r.steady_ns)
        .Bind(16, r.tail_ns)
        .Bind(17, r.idle_ns)
        .Bind(18, r.energy_flags);
    RETURN_IF_ERROR(ins.Run());
  }
  ASSIGN_OR_RETURN(Stmt mark, db_.Prepare("INSERT OR REPLACE INTO books VALUES (?, ?)"));
  return mark.Bind(1, std::string_view(key)).Bind(2, built_change).Run();
}

StatusOr<std::vector<UsageRow>> BooksTables::Usage(const std::string& key) {
  std::vector<UsageRow> out;
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT * FROM usage WHERE book = ?"));
  q.Bind(1, std::string_view(key));
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(UsageFromRow(q));
  }
  return out;
}

Status BooksTables::ReplaceMinutes(const std::string& gpu_uuid, Window w,
                                   const std::vector<MinuteRollup>& rows) {
  ASSIGN_OR_RETURN(Stmt del,
                   db_.Prepare("DELETE FROM gpu_minutes WHERE gpu_id = (SELECT id FROM gpus WHERE uuid = ?) "
                               "AND minute_ms >= ? AND minute_ms < ?"));
  RETURN_IF_ERROR(del.Bind(1, std::string_view(gpu_uuid)).Bind(2, w.start).Bind(3, w.end).Run());
  ASSIGN_OR_RETURN(Stmt ins,
                   db_.Prepare("INSERT INTO gpu_minutes VALUES ((SELECT id FROM gpus WHERE uuid = ?), "
                               "?, ?, ?, ?, ?, ?)"));
  for (const MinuteRollup& m : rows) {
    RETURN_IF_ERROR(ins.Bind(1, std::string_view(gpu_uuid))
                        .Bind(2, m.minute_ms)
                        .Bind(3, m.samples)
                        .Bind(4, static_cast<double>(m.util_mean_pct))
                        .Bind(5, static_cast<double>(m.util_max_pct))
                        .Bind(6, static_cast<double>(m.mem_max_mib))
                        .Bind(7, static_cast<double>(m.power_mean_w))
                        .Run());
  }
  return OkStatus();
}

StatusOr<std::vector<MinuteRollup>> BooksTables::Minutes(const std::string& gpu_uuid, Window w) {
  std::vector<MinuteRollup> out;
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("SELECT minute_ms, samples, util_mean, util_max, mem_max_mib, power_mean_w "
                               "FROM gpu_minutes WHERE gpu_id = (SELECT id FROM gpus WHERE uuid = ?) "
                               "AND minute_ms >= ? AND minute_ms < ? ORDER BY minute_ms"));
  q.Bind(1, std::string_view(gpu_uuid)).Bind(2, w.start).Bind(3, w.end);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.Int(0), static_cast<int>(q.Int(1)), static_cast<float>(q.Double(2)),
                   static_cast<float>(q.Double(3)), static_cast<float>(q.Double(4)),
                   static_cast<float>(q.Double(5))});
  }
  return out;
}

}  // namespace gpuledger::sqlite
