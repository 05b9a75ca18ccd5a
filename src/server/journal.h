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
// On disk (docs/formats/ingest-journal.md): a segment log (wal/segment_log.h) of
// <dir>/<seq>.seg files, frames [u32 length][u64 XXH3-64 of the payload][payload], one
// per accepted batch: its samples, and the GPUs it names that the ledger did not hold
// (registered by the flush that stores the samples, so a refused append leaves no GPU). A failed append seals
// its segment, and so does a start, so only a segment's tail can be torn; a damaged frame is skipped,
// reported (the reporter given to Open) and counted (damage()), and replay goes on with the next good frame.
// Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/file_system.h"
#include "common/mutex.h"
#include "common/status.h"
#include "domain/types.h"
#include "wal/segment_log.h"

namespace gpuledger {

// XXH3-64 checksums; a payload holds at least its row count.
inline constexpr FrameFormat kJournalFrameFormat{FrameChecksum::kXxh3_64, 4, size_t{1} << 30};

class IngestJournal {
 public:
  // Opens `dir` and reads every segment left by an earlier run into the pending set
  // (a crash replays them). `max_pending` bounds the samples held (in memory and on
  // disk) while the ledger does not keep up: past it Append is refused (Unavailable).
  // `reporter` (optional, not owned, outliving the journal) hears of damaged frames.
  static StatusOr<std::unique_ptr<IngestJournal>> Open(FileSystem& fs, std::string dir,
                                                       size_t max_pending = 4'000'000,
                                                       CorruptionReporter* reporter = nullptr);

  // Appends `samples` and `gpus` (GPUs to register before the samples are stored) durably
  // against a process crash, in one frame, then adds them to the pending set (moved
  // there). Nothing is added when it fails.
  Status Append(std::vector<GpuSample> samples, std::vector<Gpu> gpus = {});
  // The error Append would give now for `n` more samples over max_pending, or OK.
  Status CheckRoom(size_t n) const;

  // What is pending, merged: one sample per GPU and time (a later batch's fields replace
  // an earlier one's, a field a batch lacks (-1) keeps the earlier value, as the ledger's
  // upsert does), sorted by GPU then time. `through`: the last segment it came from.
  struct Taken {
    std::vector<GpuSample> samples;
    std::vector<Gpu> gpus;  // to register first: one per UUID, the first journaled
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
  // What replay skipped: damaged regions and their bytes, torn tails.
  SegmentLogCounters damage() const;

 private:
  IngestJournal(FileSystem& fs, std::string dir, size_t max_pending, CorruptionReporter* reporter)
      : max_pending_(max_pending), log_(fs, std::move(dir), kJournalFrameFormat, reporter) {}
  size_t max_pending_;
  mutable Mutex mu_;
  SegmentLog log_ GL_GUARDED_BY(mu_);  // (its counters are its own); sealed until the first append
  std::vector<std::vector<GpuSample>> pending_ GL_GUARDED_BY(mu_);  // batches in append order
  size_t pending_count_ GL_GUARDED_BY(mu_) = 0;                     // samples in them
  // GPUs to register, one per UUID (the first journaled: frames carry a GPU again until
  // it is flushed, memory keeps it once).
  std::vector<Gpu> pending_gpus_ GL_GUARDED_BY(mu_);
  std::unordered_set<std::string> pending_gpu_ids_ GL_GUARDED_BY(mu_);
  void AddPendingGpus(std::vector<Gpu>& gpus) GL_REQUIRES(mu_);  // moved from
  // On disk, oldest first; the back one takes appends.
  std::vector<uint64_t> segments_ GL_GUARDED_BY(mu_);
  uint64_t next_seq_ GL_GUARDED_BY(mu_) = 1;
};

// One frame <-> samples and GPUs (exposed for the fuzz target and tests).
std::string EncodeJournalPayload(const std::vector<GpuSample>& samples, const std::vector<Gpu>& gpus = {});
std::string EncodeJournalFrame(const std::vector<GpuSample>& samples,
                               const std::vector<Gpu>& gpus = {});  // with its header
// Appends a payload's rows to `out` and its GPUs to `gpus` (if set), or nothing (an
// error saying why) when its parts do not fill it exactly.
Status DecodeJournalPayload(std::string_view payload, std::vector<GpuSample>& out,
                            std::vector<Gpu>* gpus = nullptr);
// The samples (and GPUs, if `gpus` is set) of one segment's good frames, skipping damage
// (wal/segment_log.h's rule, reported to `reporter` if set, naming `segment`).
// `bytes_used` (if set) gets the offset just past the last good frame.
std::vector<GpuSample> DecodeJournalSegment(std::string_view bytes, size_t* bytes_used = nullptr,
                                            CorruptionReporter* reporter = nullptr,
                                            std::string_view segment = "", std::vector<Gpu>* gpus = nullptr);

}  // namespace gpuledger
