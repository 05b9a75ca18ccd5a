// The SQLite ledger's raw samples (docs/formats/ledger.md): each GPU's open hour as rows
// of `samples`, its sealed hours and finished UTC days as lossless chunks in
// `sample_blocks`. Every call runs inside the caller's transaction (reads need none)
// on the ledger's connection. Not thread-safe (one Db).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "domain/types.h"
#include "ledger/sqlite/sqlite_db.h"

namespace gpuledger::sqlite {

class SampleTables {
 public:
  explicit SampleTables(Db& db) : db_(db) {}

  // Writes (GPU id, sample) rows, sorted with one per GPU and time (checked already),
  // merged field by field into what is stored: per GPU, the hour of its latest sample
  // here stays rows, earlier hours are sealed (within a budget; the rest at the GPU's
  // next write), and finished days are compacted.
  Status Put(const std::vector<std::pair<int64_t, Sample>>& rows);
  // Each sample of the GPU in [w.start, w.end), in time order: blocks and rows merged
  // (a time in both reads as the block's sample with the row's reported fields over it).
  Status Scan(int64_t gpu_id, Window w, const std::function<void(const Sample&)>& fn);
  // The GPU's last sample before t, merged the same way.
  StatusOr<std::optional<Sample>> Before(int64_t gpu_id, TimeMs t);
  // Whether the GPU has any sample at t or later.
  StatusOr<bool> AnyAtOrAfter(int64_t gpu_id, TimeMs t);
  // Deletes every sample before `cutoff`; returns how many (each counted once).
  StatusOr<int64_t> DropBefore(TimeMs cutoff);

 private:
  // A stored block: its span [start, end) (an hour, or a finished day) and samples.
  struct Block {
    TimeMs start = 0, end = 0;
    std::vector<Sample> samples;
  };

  // Seals GPU `gpu_id`'s hours before `horizon`: its rows there and `later` (newer
  // writes, sorted, one per time) merged into the blocks holding them (a new hour block
  // where there is none), and those rows deleted. The days before the horizon's that it
  // wrote blocks of go to `finished_days` (null: not wanted). Stored samples read back
  // (rows, existing blocks) are taken from `*budget` (null: no limit); with none left it
  // does nothing and returns false.
  StatusOr<bool> Seal(int64_t gpu_id, TimeMs horizon, const std::vector<Sample>& later, int64_t* budget,
                      std::vector<TimeMs>* finished_days);
  // The day of the GPU's last block before the day of `horizon`, when that block is an
  // hour (its day not compacted yet).
  StatusOr<std::optional<TimeMs>> LatestFinishedDayInHours(int64_t gpu_id, TimeMs horizon);
  // Rewrites the GPU's blocks of a finished UTC day as one block spanning the day;
  // decoded samples are taken from `*budget`.
  Status CompactDay(int64_t gpu_id, TimeMs day, int64_t* budget);
  // The GPU's block holding time t, if any.
  StatusOr<std::optional<Block>> ReadBlock(int64_t gpu_id, TimeMs t);
  // Replaces the block; one with no samples is deleted.
  Status WriteBlock(int64_t gpu_id, const Block& b);
  StatusOr<std::vector<Sample>> DecodeBlock(int64_t gpu_id, TimeMs start, TimeMs end, std::string_view chunk);
  // Upserts rows field by field: what a row reports replaces, what it lacks (-1) stays.
  Status UpsertRows(const std::vector<std::pair<int64_t, Sample>>& rows);
  // The GPU's rows in [from, to), in time order.
  StatusOr<std::vector<Sample>> Rows(int64_t gpu_id, TimeMs from, TimeMs to);
  // A `SELECT t_ms, util, mem_mib, power_w, energy_mj, sm_active, gr_active` row.
  static Sample ReadSample(const Stmt& q);

  Db& db_;
};

}  // namespace gpuledger::sqlite
