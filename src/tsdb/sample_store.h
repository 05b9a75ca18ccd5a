// SampleStore: raw GPU samples in compressed chunks on a FileSystem, one append-only
// file per GPU and UTC day, each chunk framed with its length and CRC-32 (docs/formats/
// chunks.md). Appends are synced before they return, so an acknowledged append survives
// a crash; a torn last frame is ignored on read and counted. Retention drops whole days.
// Not thread-safe: one writer per store.
#pragma once

#include <string>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

struct StoreReadStats {
  int64_t chunks = 0;
  int64_t torn_frames = 0;  // an unfinished last frame (crash mid-append): ignored
};

class SampleStore {
 public:
  SampleStore(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)) {}

  // Stores samples of one GPU (any order; same-time duplicates: the later one wins).
  // Samples are split into one chunk per UTC day they fall in.
  Status Append(const std::string& gpu_uuid, std::vector<Sample> samples);
  // The GPU's samples in [w.start, w.end), in time order; for a time stored twice (two
  // appends), the later append wins.
  StatusOr<std::vector<Sample>> Read(const std::string& gpu_uuid, Window w, StoreReadStats* stats = nullptr);
  // Removes every day that ends at or before `cutoff` (90-day retention: now - 90 d).
  // Returns how many days were removed.
  StatusOr<int> DropBefore(TimeMs cutoff);
  // Bytes on disk (for the bytes-per-sample figure).
  StatusOr<int64_t> SizeBytes();
  // Rewrites each GPU file of every day that ends at or before `cutoff` as one chunk per
  // up to kMaxChunkSamples samples (appends leave a short chunk per flush), through a
  // synced temporary file renamed over the original; a day is marked done (".compacted")
  // and skipped after. A torn last frame is dropped (never acknowledged). Appends to a
  // day after its compaction are kept but not compacted again. Returns files rewritten.
  StatusOr<int> CompactBefore(TimeMs cutoff);

 private:
  std::string DayDir(int64_t day) const;
  // The framed chunks of samples (sorted, unique times), one chunk per kMaxChunkSamples.
  static StatusOr<std::string> EncodeFrames(const std::vector<Sample>& list);
  FileSystem& fs_;
  std::string dir_;
};

// CRC-32 (IEEE 802.3), as zlib computes it.
uint32_t Crc32(std::string_view data);

}  // namespace gpuledger
