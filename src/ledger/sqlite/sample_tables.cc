#include "ledger/sqlite/sample_tables.h"

#include <algorithm>

#include "ledger/sample_blocks.h"
#include "tsdb/chunk.h"

namespace gpuledger::sqlite {

Status SampleTables::Put(const std::vector<std::pair<int64_t, Sample>>& rows) {
  // Per GPU, the hour of its latest sample here stays rows; earlier hours are sealed
  // into blocks, with any rows stored for them. Re-sealing stored samples is bounded
  // per call: once the budget is spent, the remaining GPUs' earlier hours stay rows
  // and their next write seals them (so the first write of each hour, naming every
  // GPU, does not hold the ledger for all of them at once). The budget grows with the
  // write, so a sender catching up on hours of samples cannot outrun the sealing.
  // Compacting finished days has a budget of its own, so it never holds up sealing.
  int64_t budget = kSealBudgetSamples + 2 * static_cast<int64_t>(rows.size());
  int64_t compact_budget = budget;
  std::vector<std::pair<int64_t, Sample>> head;
  head.reserve(rows.size());
  for (size_t b = 0; b < rows.size();) {
    size_t e = b + 1;
    while (e < rows.size() && rows[e].first == rows[b].first) ++e;
    const TimeMs horizon = BlockStart(rows[e - 1].second.t);
    size_t split = b;
    while (split < e && rows[split].second.t < horizon) ++split;
    std::vector<Sample> sealed;
    sealed.reserve(split - b);
    for (size_t i = b; i < split; ++i) sealed.push_back(rows[i].second);
    std::vector<TimeMs> finished_days;
    ASSIGN_OR_RETURN(bool done, Seal(rows[b].first, horizon, sealed, &budget, &finished_days));
    if (!done) split = b;  // deferred: all of this GPU's samples go in as rows
    // The days this write sealed into, and the GPU's latest finished day (which a
    // write past an earlier budget left as hours).
    ASSIGN_OR_RETURN(std::optional<TimeMs> latest, LatestFinishedDayInHours(rows[b].first, horizon));
    if (latest && std::find(finished_days.begin(), finished_days.end(), *latest) == finished_days.end()) {
      finished_days.push_back(*latest);
    }
    for (TimeMs day : finished_days) {
      if (compact_budget <= 0) break;
      RETURN_IF_ERROR(CompactDay(rows[b].first, day, &compact_budget));
    }
    head.insert(head.end(), rows.begin() + static_cast<std::ptrdiff_t>(split),
                rows.begin() + static_cast<std::ptrdiff_t>(e));
    b = e;
  }
  return UpsertRows(head);
}

Status SampleTables::Scan(int64_t gpu_id, Window w, const std::function<void(const Sample&)>& fn) {
  if (w.start >= w.end) return OkStatus();
  ASSIGN_OR_RETURN(const std::vector<Sample> head, Rows(gpu_id, w.start, w.end));
  size_t next = 0;  // head rows before a block's sample go out first
  auto emit = [&](Sample s) {
    for (; next < head.size() && head[next].t < s.t; ++next) fn(head[next]);
    if (next < head.size() && head[next].t == s.t) MergeReported(s, head[next++]);
    fn(s);
  };
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("SELECT start_ms, end_ms, chunk FROM sample_blocks WHERE gpu_id = ? "
                               "AND start_ms >= ? AND start_ms < ? AND end_ms > ? ORDER BY start_ms"));
  // No block holding w.start starts before its day (samples are in range).
  q.Bind(1, gpu_id).Bind(2, DayStart(std::max(w.start, kMinTimeMs))).Bind(3, w.end).Bind(4, w.start);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(std::vector<Sample> block, DecodeBlock(gpu_id, q.Int(0), q.Int(1), q.Blob(2)));
    for (const Sample& s : block) {
      if (s.t >= w.start && s.t < w.end) emit(s);
    }
  }
  for (; next < head.size(); ++next) fn(head[next]);
  return OkStatus();
}

StatusOr<std::optional<Sample>> SampleTables::Before(int64_t gpu_id, TimeMs t) {
  std::optional<Sample> row;
  {
    ASSIGN_OR_RETURN(Stmt q,
                     db_.Prepare("SELECT t_ms, util, mem_mib, power_w, energy_mj, sm_active, gr_active FROM "
                                 "samples WHERE gpu_id = ? AND t_ms < ? ORDER BY t_ms DESC LIMIT 1"));
    q.Bind(1, gpu_id).Bind(2, t);
    ASSIGN_OR_RETURN(bool found, q.Step());
    if (found) row = ReadSample(q);
  }
  // The latest block sample before t: in the last block starting before t, or (when
  // that block starts with t or later samples) the one before it. A row past a
  // block's end makes reading it needless.
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT start_ms, end_ms, chunk FROM sample_blocks WHERE gpu_id = ? "
                                       "AND start_ms < ? ORDER BY start_ms DESC"));
  q.Bind(1, gpu_id).Bind(2, t);
  std::optional<Sample> sealed;
  for (;;) {
    ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) break;
    const TimeMs start = q.Int(0), end = q.Int(1);
    if (row && row->t >= end) break;
    ASSIGN_OR_RETURN(std::vector<Sample> block, DecodeBlock(gpu_id, start, end, q.Blob(2)));
    auto it =
        std::lower_bound(block.begin(), block.end(), t, [](const Sample& s, TimeMs v) { return s.t < v; });
    if (it != block.begin()) {
      sealed = *(it - 1);
      break;
    }
  }
  if (!sealed) return row;
  if (!row || row->t < sealed->t) return sealed;
  if (row->t > sealed->t) return row;
  MergeReported(*sealed, *row);
  return sealed;
}

StatusOr<bool> SampleTables::AnyAtOrAfter(int64_t gpu_id, TimeMs t) {
  {
    ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT 1 FROM samples WHERE gpu_id = ? AND t_ms >= ? LIMIT 1"));
    q.Bind(1, gpu_id).Bind(2, t);
    ASSIGN_OR_RETURN(bool found, q.Step());
    if (found) return true;
  }
  // Stored blocks are never empty: one that starts at t or later answers; one that holds
  // t is read.
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT start_ms, end_ms, chunk FROM sample_blocks WHERE gpu_id = ? "
                                       "AND end_ms > ? ORDER BY start_ms"));
  q.Bind(1, gpu_id).Bind(2, t);
  for (;;) {
    ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) return false;
    if (q.Int(0) >= t) return true;
    ASSIGN_OR_RETURN(std::vector<Sample> block, DecodeBlock(gpu_id, q.Int(0), q.Int(1), q.Blob(2)));
    if (!block.empty() && block.back().t >= t) return true;
  }
}

StatusOr<int64_t> SampleTables::DropBefore(TimeMs cutoff) {
  // Rows before the cutoff are sealed into their blocks first (through the hour that
  // holds it), so each sample is counted once.
  const TimeMs straddled = BlockStart(std::clamp(cutoff, kMinTimeMs, kMaxTimeMs));
  std::vector<int64_t> with_rows;
  {
    ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT DISTINCT gpu_id FROM samples WHERE t_ms < ?"));
    q.Bind(1, cutoff);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      with_rows.push_back(q.Int(0));
    }
  }
  for (int64_t gpu_id : with_rows)
    RETURN_IF_ERROR(Seal(gpu_id, straddled + kSampleBlockMs, {}, nullptr, nullptr).status());
  int64_t dropped = 0;
  // Whole blocks before the cutoff go; one holding it loses its samples before it.
  {
    ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT COALESCE(SUM(samples), 0) FROM sample_blocks WHERE "
                                         "start_ms < ? AND end_ms <= ?"));
    q.Bind(1, cutoff).Bind(2, cutoff);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) dropped += q.Int(0);
  }
  ASSIGN_OR_RETURN(Stmt del_blocks,
                   db_.Prepare("DELETE FROM sample_blocks WHERE start_ms < ? AND end_ms <= ?"));
  RETURN_IF_ERROR(del_blocks.Bind(1, cutoff).Bind(2, cutoff).Run());
  std::vector<std::pair<int64_t, Block>> cut;
  {
    ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT gpu_id, start_ms, end_ms, chunk FROM sample_blocks WHERE "
                                         "start_ms >= ? AND start_ms < ? AND end_ms > ?"));
    q.Bind(1, DayStart(std::clamp(cutoff, kMinTimeMs, kMaxTimeMs))).Bind(2, cutoff).Bind(3, cutoff);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      Block b{q.Int(1), q.Int(2), {}};
      ASSIGN_OR_RETURN(b.samples, DecodeBlock(q.Int(0), b.start, b.end, q.Blob(3)));
      cut.emplace_back(q.Int(0), std::move(b));
    }
  }
  for (auto& [gpu_id, block] : cut) {
    auto keep = std::lower_bound(block.samples.begin(), block.samples.end(), cutoff,
                                 [](const Sample& s, TimeMs v) { return s.t < v; });
    dropped += keep - block.samples.begin();
    block.samples.erase(block.samples.begin(), keep);
    RETURN_IF_ERROR(WriteBlock(gpu_id, block));
  }
  return dropped;
}

StatusOr<bool> SampleTables::Seal(int64_t gpu_id, TimeMs horizon, const std::vector<Sample>& later,
                                  int64_t* budget, std::vector<TimeMs>* finished_days) {
  if (budget != nullptr && *budget <= 0) return false;
  ASSIGN_OR_RETURN(const std::vector<Sample> stored,
                   Rows(gpu_id, kMinTimeMs, horizon));  // samples are in range
  auto spend = [budget](size_t n) {
    if (budget != nullptr) *budget -= static_cast<int64_t>(n);
  };
  spend(stored.size());
  if (stored.empty() && later.empty()) return true;
  const std::vector<Sample> merged = stored.empty() ? later : MergeSampleRuns(stored, later);
  for (size_t b = 0; b < merged.size();) {
    ASSIGN_OR_RETURN(std::optional<Block> block, ReadBlock(gpu_id, merged[b].t));
    if (!block) block = Block{BlockStart(merged[b].t), BlockStart(merged[b].t) + kSampleBlockMs, {}};
    size_t e = b + 1;
    while (e < merged.size() && merged[e].t < block->end) ++e;
    spend(block->samples.size());
    block->samples = MergeSampleRuns(block->samples, {merged.begin() + static_cast<std::ptrdiff_t>(b),
                                                      merged.begin() + static_cast<std::ptrdiff_t>(e)});
    RETURN_IF_ERROR(WriteBlock(gpu_id, *block));
    const TimeMs day = DayStart(block->start);
    if (finished_days != nullptr && day < DayStart(horizon) &&
        (finished_days->empty() || finished_days->back() != day)) {
      finished_days->push_back(day);
    }
    b = e;
  }
  if (!stored.empty()) {
    ASSIGN_OR_RETURN(Stmt del, db_.Prepare("DELETE FROM samples WHERE gpu_id = ? AND t_ms < ?"));
    RETURN_IF_ERROR(del.Bind(1, gpu_id).Bind(2, horizon).Run());
  }
  return true;
}

StatusOr<std::optional<TimeMs>> SampleTables::LatestFinishedDayInHours(int64_t gpu_id, TimeMs horizon) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT start_ms, end_ms FROM sample_blocks WHERE gpu_id = ? AND "
                                       "start_ms < ? ORDER BY start_ms DESC LIMIT 1"));
  q.Bind(1, gpu_id).Bind(2, DayStart(horizon));
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row || q.Int(1) - q.Int(0) >= kDayBlockMs) return std::optional<TimeMs>();
  return std::optional<TimeMs>(DayStart(q.Int(0)));
}

Status SampleTables::CompactDay(int64_t gpu_id, TimeMs day, int64_t* budget) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT start_ms, end_ms, chunk FROM sample_blocks WHERE gpu_id = ? "
                                       "AND start_ms >= ? AND start_ms < ? ORDER BY start_ms"));
  q.Bind(1, gpu_id).Bind(2, day).Bind(3, day + kDayBlockMs);
  Block whole{day, day + kDayBlockMs, {}};
  int blocks = 0;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    if (q.Int(0) == day && q.Int(1) == day + kDayBlockMs) return OkStatus();  // done before
    ASSIGN_OR_RETURN(std::vector<Sample> part, DecodeBlock(gpu_id, q.Int(0), q.Int(1), q.Blob(2)));
    whole.samples.insert(whole.samples.end(), part.begin(), part.end());  // disjoint, in order
    ++blocks;
  }
  q.Reset();
  // A day sampled faster than every ~21 ms is past a chunk's limit: it keeps its hours.
  if (blocks == 0 || whole.samples.size() > kMaxChunkSamples) return OkStatus();
  *budget -= static_cast<int64_t>(whole.samples.size());
  ASSIGN_OR_RETURN(Stmt del, db_.Prepare("DELETE FROM sample_blocks WHERE gpu_id = ? AND start_ms >= ? AND "
                                         "start_ms < ?"));
  RETURN_IF_ERROR(del.Bind(1, gpu_id).Bind(2, day).Bind(3, day + kDayBlockMs).Run());
  return WriteBlock(gpu_id, whole);
}

StatusOr<std::optional<SampleTables::Block>> SampleTables::ReadBlock(int64_t gpu_id, TimeMs t) {
  ASSIGN_OR_RETURN(Stmt q, db_.Prepare("SELECT start_ms, end_ms, chunk FROM sample_blocks WHERE gpu_id = ? "
                                       "AND start_ms >= ? AND start_ms <= ? AND end_ms > ?"));
  q.Bind(1, gpu_id).Bind(2, DayStart(t)).Bind(3, t).Bind(4, t);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<Block>();
  Block b{q.Int(0), q.Int(1), {}};
  ASSIGN_OR_RETURN(b.samples, DecodeBlock(gpu_id, b.start, b.end, q.Blob(2)));
  return std::optional<Block>(std::move(b));
}

Status SampleTables::WriteBlock(int64_t gpu_id, const Block& b) {
  if (b.samples.empty()) {
    ASSIGN_OR_RETURN(Stmt del, db_.Prepare("DELETE FROM sample_blocks WHERE gpu_id = ? AND start_ms = ?"));
    return del.Bind(1, gpu_id).Bind(2, b.start).Run();
  }
  ASSIGN_OR_RETURN(std::string chunk, EncodeChunk(b.samples));
  ASSIGN_OR_RETURN(Stmt ins, db_.Prepare("INSERT OR REPLACE INTO sample_blocks VALUES (?, ?, ?, ?, ?)"));
  return ins.Bind(1, gpu_id)
      .Bind(2, b.start)
      .Bind(3, b.end)
      .Bind(4, static_cast<int64_t>(b.samples.size()))
      .BindBlob(5, chunk)
      .Run();
}

StatusOr<std::vector<Sample>> SampleTables::DecodeBlock(int64_t gpu_id, TimeMs start, TimeMs end,
                                                        std::string_view chunk) {
  auto s = DecodeChunk(chunk);
  if (!s.ok()) {
    return Status(s.status().code(), "sample block of GPU id " + std::to_string(gpu_id) + " at " +
                                         FormatTime(start) + ": " + s.status().message());
  }
  if (s->front().t < start || s->back().t >= end) {
    return InvalidArgument("sample block of GPU id " + std::to_string(gpu_id) + " at " + FormatTime(start) +
                           " holds samples outside its span (corrupt ledger)");
  }
  return std::move(*s);
}

Status SampleTables::UpsertRows(const std::vector<std::pair<int64_t, Sample>>& rows) {
  constexpr size_t kRowsPerInsert = 64;
  auto upsert = [](size_t n) {
    std::string sql = "INSERT INTO samples VALUES (?,?,?,?,?,?,?,?)";
    for (size_t i = 1; i < n; ++i) sql += ",(?,?,?,?,?,?,?,?)";
    return sql +
           " ON CONFLICT(gpu_id, t_ms) DO UPDATE SET util = CASE WHEN excluded.util >= 0 THEN "
           "excluded.util "
           "ELSE samples.util END, mem_mib = CASE WHEN excluded.mem_mib >= 0 THEN excluded.mem_mib ELSE "
           "samples.mem_mib END, power_w = CASE WHEN excluded.power_w >= 0 THEN excluded.power_w ELSE "
           "samples.power_w END, energy_mj = CASE WHEN excluded.energy_mj >= 0 THEN excluded.energy_mj "
           "ELSE samples.energy_mj END, sm_active = CASE WHEN excluded.sm_active >= 0 THEN "
           "excluded.sm_active ELSE samples.sm_active END, gr_active = CASE WHEN excluded.gr_active >= 0 "
           "THEN excluded.gr_active ELSE samples.gr_active END";
  };
  static const std::string kOne = upsert(1), kMany = upsert(kRowsPerInsert);
  ASSIGN_OR_RETURN(Stmt many, db_.Prepare(kMany));  // reused: Run resets it
  ASSIGN_OR_RETURN(Stmt one, db_.Prepare(kOne));
  for (size_t at = 0; at < rows.size();) {
    const size_t n = rows.size() - at >= kRowsPerInsert ? kRowsPerInsert : 1;
    Stmt& ins = n == 1 ? one : many;
    for (size_t r = 0; r < n; ++r, ++at) {
      const auto& [gpu_id, s] = rows[at];
      const int p = static_cast<int>(r * 8);
      ins.Bind(p + 1, gpu_id)
          .Bind(p + 2, s.t)
          .Bind(p + 3, static_cast<double>(s.util_pct))
          .Bind(p + 4, static_cast<double>(s.mem_mib))
          .Bind(p + 5, static_cast<double>(s.power_w))
          .Bind(p + 6, s.energy_mj)
          .Bind(p + 7, static_cast<double>(s.sm_active))
          .Bind(p + 8, static_cast<double>(s.gr_active));
    }
    RETURN_IF_ERROR(ins.Run());
  }
  return OkStatus();
}

StatusOr<std::vector<Sample>> SampleTables::Rows(int64_t gpu_id, TimeMs from, TimeMs to) {
  ASSIGN_OR_RETURN(Stmt q,
                   db_.Prepare("SELECT t_ms, util, mem_mib, power_w, energy_mj, sm_active, gr_active FROM "
                               "samples WHERE gpu_id = ? AND t_ms >= ? AND t_ms < ? ORDER BY t_ms"));
  q.Bind(1, gpu_id).Bind(2, from).Bind(3, to);
  std::vector<Sample> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadSample(q));
  }
  return out;
}

Sample SampleTables::ReadSample(const Stmt& q) {
  Sample s;
  s.t = q.Int(0);
  s.util_pct = static_cast<float>(q.Double(1));
  s.mem_mib = static_cast<float>(q.Double(2));
  s.power_w = static_cast<float>(q.Double(3));
  s.energy_mj = q.Int(4);
  s.sm_active = static_cast<float>(q.Double(5));
  s.gr_active = static_cast<float>(q.Double(6));
  return s;
}

}  // namespace gpuledger::sqlite
