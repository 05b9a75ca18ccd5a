// RawFlusher: moves remote-written samples from the ledger into the compressed chunk
// store (src/tsdb). Remote write commits each request to the ledger (that commit is what
// a 2xx promises); the flusher remembers which GPU times a request touched and, every
// flush, reads those samples back from the ledger, merged field by field (Prometheus
// splits one GPU's metrics across requests), and appends them as one chunk per GPU and
// day.
//
// Crash safety: <dir>/pending holds a low-water mark, the earliest sample time that may
// be in the ledger but not yet in the chunks ("none" when everything is flushed). Note
// syncs a lower mark before the ledger commit whenever a request reaches further back
// than the current one (for a live stream: the first request after each flush); a flush
// writes the new mark once its chunks are synced. After a crash, Recover re-flushes every
// GPU from the mark on. Re-appending is harmless: a chunk read keeps one sample per time.
//
// Thread-compatible. In the server, Note/TakeDirty/Restore/MarkFlushed run under the
// ledger lock and Write under the store lock (server.cc).
#pragma once

#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/file_system.h"
#include "ledger/ledger.h"
#include "tsdb/sample_store.h"

namespace gpuledger {

class RawFlusher {
 public:
  // GPU uuid -> sample times to flush (in arrival order; repeats allowed).
  using Dirty = std::unordered_map<std::string, std::vector<TimeMs>>;
  using PerGpu = std::map<std::string, std::vector<Sample>>;

  RawFlusher(FileSystem& fs, std::string dir) : fs_(fs), dir_(std::move(dir)), store_(fs, dir_) {}

  SampleStore& store() { return store_; }
  // Before the ledger commits `samples`: remembers them, lowering the durable mark first
  // when they reach back past it.
  Status Note(const std::vector<GpuSample>& samples);
  // Hands over what was noted since the last flush.
  Dirty TakeDirty();
  // Reads the dirty samples back from the ledger (merged).
  static StatusOr<PerGpu> ReadBack(Ledger& ledger, const Dirty& dirty);
  // Appends the samples (each file synced).
  Status Write(const PerGpu& samples);
  // After a successful Write: the mark moves up to what is still noted ("none" if nothing).
  Status MarkFlushed();
  // After a failed Write: `dirty` is noted again (the mark still covers it).
  void Restore(const Dirty& dirty);
  // Before anything else, after a start: re-flushes every GPU's samples from the mark on
  // (everything when there is no mark file yet), then marks "none". Returns the samples
  // written.
  StatusOr<int64_t> Recover(Ledger& ledger);
  // Sample times noted since the last flush (a time noted twice counts twice).
  size_t pending() const;

 private:
  StatusOr<TimeMs> ReadMark();  // kMaxTimeMs: none; kMinTimeMs: no file
  Status WriteMark(TimeMs t);
  FileSystem& fs_;
  std::string dir_;
  SampleStore store_;
  Dirty dirty_;
  TimeMs mark_ = kMaxTimeMs;  // the durable mark: <= every time noted and not yet flushed
  size_t mark_bytes_ = 0;
};

}  // namespace gpuledger
