#include "ledger/postgres/books_tables.h"

#include <algorithm>

#include "ledger/rows.h"

namespace gpuledger::pg {
namespace {

// The advisory lock key (pg_advisory_xact_lock) that orders change ids.
constexpr int64_t kChangeOrderLock = 7152027;

}  // namespace

Status BooksTables::RecordChange(Window w, bool slices) {
  // A sequence alone does not order visibility (a transaction that drew N-1 may commit
  // after one that drew N), so writers take this transaction-scoped lock first and commit
  // one after another.
  RETURN_IF_ERROR(c_.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kChangeOrderLock) + ")").status());
  return c_
      .Exec("INSERT INTO changes (start_ms, end_ms, slices) VALUES ($1, $2, $3)",
            {P(w.start), P(w.end), P(int64_t{slices ? 1 : 0})})
      .status();
}

StatusOr<int64_t> BooksTables::LatestChangeOverlapping(Window w) {
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec("SELECT COALESCE(MAX(id), 0) FROM changes WHERE start_ms < $1 AND end_ms > $2",
                           {P(w.end), P(w.start)}));
  return r.Int(0, 0);
}

StatusOr<std::vector<Window>> BooksTables::SliceChangesSince(int64_t after_id, Window w) {
  std::vector<Window> spans;
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT start_ms, end_ms FROM changes WHERE id > $1 AND slices = 1 "
                                     "AND start_ms < $2 AND end_ms > $3 ORDER BY id",
                                     {P(after_id), P(w.end), P(w.start)}));
  spans.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) spans.push_back({r.Int(i, 0), r.Int(i, 1)});
  return spans;
}

StatusOr<std::optional<int64_t>> BooksTables::BuiltAt(const std::string& key) {
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT built_change FROM books WHERE key = $1", {P(key)}));
  if (r.rows() == 0) return std::optional<int64_t>();
  return std::optional<int64_t>(r.Int(0, 0));
}

Status BooksTables::ReplaceUsage(const std::string& key, int64_t built_change,
                                 const std::vector<UsageRow>& rows) {
  RETURN_IF_ERROR(c_.Exec("DELETE FROM usage WHERE book = $1", {P(key)}).status());
  for (size_t start = 0; start < rows.size(); start += 2000) {
    ArrayColumns cols(14);
    std::vector<std::string> jobs, gpus, models;  // text: sent as arrays of their own
    for (size_t i = start; i < std::min(rows.size(), start + 2000); ++i) {
      const UsageRow& r = rows[i];
      jobs.push_back(r.job_id);
      gpus.push_back(r.gpu_uuid);
      models.push_back(r.gpu_model);
      const Param vals[14] = {P(r.period_start), P(r.period_end),  P(r.gpu_ns),    P(r.covered_ns),
                              P(r.busy_ns),      P(r.dense_ns),    P(r.util_ns),   P(r.energy_mj),
                              P(r.peak_mem_mib), P(r.loading_ns),  P(r.steady_ns), P(r.tail_ns),
                              P(r.idle_ns),      P(r.energy_flags)};
      for (size_t c = 0; c < 14; ++c) cols.Add(c, vals[c]);
    }
    std::vector<Param> params = {P(key), TextArray(jobs), TextArray(gpus), TextArray(models)};
    for (Param& p : cols.Params()) params.push_back(std::move(p));
    RETURN_IF_ERROR(
        c_.Exec("INSERT INTO usage SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], "
                "$5::bigint[], "
                "$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], "
                "$12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[], $17::bigint[], "
                "$18::bigint[])",
                params)
            .status());
  }
  return c_
      .Exec("INSERT INTO books VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET built_change = $2",
            {P(key), P(built_change)})
      .status();
}

StatusOr<std::vector<UsageRow>> BooksTables::Usage(const std::string& key) {
  std::vector<UsageRow> out;
  ASSIGN_OR_RETURN(Result r, c_.Exec("SELECT * FROM usage WHERE book = $1", {P(key)}));
  out.reserve(static_cast<size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) out.push_back(UsageFromRow(Row{r, row}));
  return out;
}

Status BooksTables::ReplaceMinutes(const std::string& gpu_uuid, Window w,
                                   const std::vector<MinuteRollup>& rows) {
  RETURN_IF_ERROR(c_.Exec("DELETE FROM gpu_minutes WHERE gpu_id = (SELECT id FROM gpus WHERE uuid = $1) AND "
                          "minute_ms >= $2 AND minute_ms < $3",
                          {P(gpu_uuid), P(w.start), P(w.end)})
                      .status());
  for (size_t start = 0; start < rows.size(); start += 5000) {
    ArrayColumns cols(6);
    for (size_t i = start; i < std::min(rows.size(), start + 5000); ++i) {
      const MinuteRollup& m = rows[i];
      cols.Add(0, P(m.minute_ms));
      cols.Add(1, P(int64_t{m.samples}));
      cols.Add(2, P(m.util_mean_pct));
      cols.Add(3, P(m.util_max_pct));
      cols.Add(4, P(m.mem_max_mib));
      cols.Add(5, P(m.power_mean_w));
    }
    std::vector<Param> params = cols.Params();
    params.insert(params.begin(), P(gpu_uuid));
    RETURN_IF_ERROR(c_.Exec("INSERT INTO gpu_minutes SELECT (SELECT id FROM gpus WHERE uuid = $1), * FROM "
                            "unnest($2::bigint[], $3::bigint[], $4::float8[], $5::float8[], $6::float8[], "
                            "$7::float8[])",
                            params)
                        .status());
  }
  return OkStatus();
}

StatusOr<std::vector<MinuteRollup>> BooksTables::Minutes(const std::string& gpu_uuid, Window w) {
  std::vector<MinuteRollup> out;
  ASSIGN_OR_RETURN(Result r,
                   c_.Exec("SELECT minute_ms, samples, util_mean, util_max, mem_max_mib, power_mean_w FROM "
                           "gpu_minutes WHERE gpu_id = (SELECT id FROM gpus WHERE uuid = $1) AND "
                           "minute_ms >= $2 AND minute_ms < $3 ORDER BY minute_ms",
                           {P(gpu_uuid), P(w.start), P(w.end)}));
  out.reserve(static_cast<size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    out.push_back({r.Int(i, 0), static_cast<int>(r.Int(i, 1)), static_cast<float>(r.Double(i, 2)),
                   static_cast<float>(r.Double(i, 3)), static_cast<float>(r.Double(i, 4)),
                   static_cast<float>(r.Double(i, 5))});
  }
  return out;
}

}  // namespace gpuledger::pg
