// IngestJournal: what the server has acknowledged but not yet written to the ledger.
// Remote write and scrapes append each accepted batch here (one write(2), no fsync)
// and answer 2xx; a writer thread takes what is pending every second or so and stores
// it in the ledger in one transaction, then releases the journal segments it came
// from. A process crash (kill -9) loses nothing acknowledged: the bytes are in the
// kernel's page cache, and the next start replays every segment still on disk. A power
// failure can lose the last unsynced seconds, as SQLite's WAL with synchronous=NORMAL
// (the ledger's setting) can.
//
// Why: a ledger transaction per request rewrites every B-tree page the request touches
// (one per GPU); one transaction per second writes each page once.
//
// On disk (docs/formats/ingest-journal.md): <dir>/<seq>.seg files of frames
// [u32 length][u64 XXH3-64 of the payload][payload]; a torn or corrupt frame ends its
// segment (a failed append rolls to a new segment, so only a tail can be torn).
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/file_system.h"
#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

class IngestJournal {
 public:
  // Opens `dir` and reads every segment left by an earlier run into the pending set
  // (a crash replays them). `max_pending` bounds the samples held (in memory and on
  // disk) while the ledger does not keep up: past it Append is refused (Unavailable).
  static StatusOr<std::unique_ptr<IngestJournal>> Open(FileSystem& fs, std::string dir,
                                                       size_t max_pending = 4'000'000);

  // Appends `samples` durably against a process crash, then adds them to the pending set
  // (moved there). Nothing is added when it fails.
  Status Append(std::vector<GpuSample> samples);
  // The error Append would give now for `n` more samples over max_pending, or OK.
  Status CheckRoom(size_t n) const;

  // What is pending, merged: one sample per GPU and time (a later batch's fields replace
  // an earlier one's, a field a batch lacks (-1) keeps the earlier value, as the ledger's
  // upsert does), sorted by GPU then time. `through`: the last segment it came from.
  struct Taken {
    std::vector<GpuSample> samples;
    uint64_t through = 0;
    size_t appended = 0;  // samples as appended, before merging
  };
  Taken Take();
  // After the ledger committed `taken`: drops its segments from disk.
  Status Release(const Taken& taken);
  // After the ledger refused `taken`: it is pending again (ahead of newer batches), and
  // its segments stay on disk.
  void Restore(Taken taken);

  size_t pending() const;  // samples appended and not yet taken

 private:
  IngestJournal(FileSystem& fs, std::string dir, size_t max_pending)
      : fs_(fs), dir_(std::move(dir)), max_pending_(max_pending) {}
  std::string SegmentPath(uint64_t seq) const;
  FileSystem& fs_;
  std::string dir_;
  size_t max_pending_;
  mutable std::mutex mu_;
  std::vector<std::vector<GpuSample>> pending_;  // batches in append order
  size_t pending_count_ = 0;                     // samples in them
  std::vector<uint64_t> segments_;               // on disk, oldest first; the back one takes appends
  bool roll_ = true;                             // the next append starts a new segment
  uint64_t next_seq_ = 1;
};

// One frame's payload <-> samples (exposed for the fuzz target and tests).
std::string EncodeJournalFrame(const std::vector<GpuSample>& samples);
// Frames of one segment; stops at the first torn or corrupt one. `bytes_used` (if set)
// gets the length of the whole frames read.
std::vector<GpuSample> DecodeJournalSegment(std::string_view bytes, size_t* bytes_used = nullptr);

}  // namespace gpuledger
