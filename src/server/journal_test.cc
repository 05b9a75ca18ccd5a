#include "server/journal.h"

#include <gtest/gtest.h>

#include <cstring>

#include "common/bytes.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gpuledger {
namespace {

constexpr TimeMs kT0 = 1790812800000;  // 2026-10-01T00:00:00Z

GpuSample Util(const std::string& gpu, TimeMs t, float util) {
  Sample s;
  s.t = t;
  s.util_pct = util;
  return {gpu, s};
}

GpuSample Power(const std::string& gpu, TimeMs t, float watts) {
  Sample s;
  s.t = t;
  s.util_pct = -1;
  s.power_w = watts;
  return {gpu, s};
}

std::unique_ptr<IngestJournal> Open(FileSystem& fs, size_t max_pending = 1000) {
  auto j = IngestJournal::Open(fs, "/j", max_pending);
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  return j.ok() ? std::move(j).value() : nullptr;
}

TEST(IngestJournal, FramesRoundTripEveryField) {
  Sample s;
  s.t = kT0;
  s.util_pct = 37.5f;
  s.mem_mib = 8123;
  s.power_w = 231.25f;
  s.energy_mj = 123456789012;
  s.sm_active = 0.625f;
  s.gr_active = 0.875f;
  const std::vector<GpuSample> in = {
      {"GPU-a", s}, {"GPU-a", Util("GPU-a", kT0 + 10'000, 1).sample}, Power("GPU-bb", kT0, 70)};
  const std::string bytes = EncodeJournalFrame(in) + EncodeJournalFrame({Util("GPU-c", kT0, 5)});
  size_t used = 0;
  const std::vector<GpuSample> out = DecodeJournalSegment(bytes, &used);
  EXPECT_EQ(used, bytes.size());
  ASSERT_EQ(out.size(), 4u);
  EXPECT_EQ(out[0].gpu_uuid, "GPU-a");
  EXPECT_EQ(out[0].sample.t, kT0);
  EXPECT_EQ(out[0].sample.util_pct, 37.5f);
  EXPECT_EQ(out[0].sample.mem_mib, 8123);
  EXPECT_EQ(out[0].sample.power_w, 231.25f);
  EXPECT_EQ(out[0].sample.energy_mj, 123456789012);
  EXPECT_EQ(out[0].sample.sm_active, 0.625f);
  EXPECT_EQ(out[0].sample.gr_active, 0.875f);
  EXPECT_EQ(out[1].gpu_uuid, "GPU-a");  // written once, repeated by reference
  EXPECT_EQ(out[1].sample.t, kT0 + 10'000);
  EXPECT_EQ(out[2].gpu_uuid, "GPU-bb");
  EXPECT_EQ(out[2].sample.util_pct, -1);
  EXPECT_EQ(out[2].sample.power_w, 70);
  EXPECT_EQ(out[3].gpu_uuid, "GPU-c");
}

// A frame written before gr_active existed (row count without its top bit, 32-byte
// rows) still replays, with gr_active not reported.
TEST(IngestJournal, FramesWithoutGrActiveStillReplay) {
  std::string payload;
  PutLe(payload, 1, 4);
  payload += static_cast<char>(5);
  payload += "GPU-o";
  PutLe(payload, static_cast<uint64_t>(kT0), 8);
  for (float f : {42.0F, 100.0F, 70.0F}) {
    uint32_t bits = 0;
    std::memcpy(&bits, &f, 4);
    PutLe(payload, bits, 4);
  }
  PutLe(payload, 5000, 8);
  const float sm = 0.5F;
  uint32_t bits = 0;
  std::memcpy(&bits, &sm, 4);
  PutLe(payload, bits, 4);
  std::string frame;
  PutLe(frame, payload.size(), 4);
  PutLe(frame, XXH3_64bits(payload.data(), payload.size()), 8);
  frame += payload;
  size_t used = 0;
  const std::vector<GpuSample> out = DecodeJournalSegment(frame, &used);
  EXPECT_EQ(used, frame.size());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].gpu_uuid, "GPU-o");
  EXPECT_EQ(out[0].sample.util_pct, 42.0F);
  EXPECT_EQ(out[0].sample.energy_mj, 5000);
  EXPECT_EQ(out[0].sample.sm_active, 0.5F);
  EXPECT_EQ(out[0].sample.gr_active, -1.0F);
}

TEST(IngestJournal, ATornFrameEndsTheSegmentAndADamagedLastFrameIsDropped) {
  const std::string a = EncodeJournalFrame({Util("GPU-a", kT0, 1)});
  const std::string b = EncodeJournalFrame({Util("GPU-a", kT0 + 1, 2)});
  for (size_t cut = 1; cut < b.size(); ++cut) {
    size_t used = 0;
    EXPECT_EQ(DecodeJournalSegment(a + b.substr(0, cut), &used).size(), 1u) << cut;
    EXPECT_EQ(used, a.size());
  }
  std::string flipped = a + b;
  flipped[a.size() + 20] ^= 1;
  EXPECT_EQ(DecodeJournalSegment(flipped).size(), 1u);
}

class Recorder final : public CorruptionReporter {
 public:
  void Corruption(const SegmentDamage& d) override { corrupt.push_back(d); }
  void TornTail(const SegmentDamage& d) override { torn.push_back(d); }
  std::vector<SegmentDamage> corrupt, torn;
};

// A segment as the journal wrote it before the segment log (bytes built here by hand,
// not by the code under test), with its middle frame damaged: replay reports the damage
// with its segment, offset and size, and goes on to the frame after it.
TEST(IngestJournal, ReplaySkipsADamagedFrameReportsItAndKeepsTheFramesAfterIt) {
  auto frame = [](const std::string& uuid, TimeMs t, float util) {
    std::string payload;
    PutLe(payload, 1u | (1u << 31), 4);
    payload += static_cast<char>(uuid.size());
    payload += uuid;
    PutLe(payload, static_cast<uint64_t>(t), 8);
    for (float f : {util, -1.0F, -1.0F}) {
      uint32_t bits = 0;
      std::memcpy(&bits, &f, 4);
      PutLe(payload, bits, 4);
    }
    PutLe(payload, static_cast<uint64_t>(-1), 8);
    for (float f : {-1.0F, -1.0F}) {
      uint32_t bits = 0;
      std::memcpy(&bits, &f, 4);
      PutLe(payload, bits, 4);
    }
    std::string out;
    PutLe(out, payload.size(), 4);
    PutLe(out, XXH3_64bits(payload.data(), payload.size()), 8);
    return out + payload;
  };
  const std::string a = frame("GPU-a", kT0, 1), b = frame("GPU-b", kT0, 2), c = frame("GPU-c", kT0, 3);
  EXPECT_EQ(a, EncodeJournalFrame({Util("GPU-a", kT0, 1)})) << "the format is unchanged";
  std::string seg = a + b + c;
  seg[a.size() + 20] ^= 0x40;  // in b's payload
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("/j/00000000000000000007.seg", seg + c.substr(0, 9)).ok());  // and a torn tail
  Recorder rec;
  auto j = IngestJournal::Open(fs, "/j", 1000, &rec);
  ASSERT_TRUE(j.ok()) << j.status().ToString();
  IngestJournal::Taken t = (*j)->Take();
  ASSERT_EQ(t.samples.size(), 2u);
  EXPECT_EQ(t.samples[0].gpu_uuid, "GPU-a");
  EXPECT_EQ(t.samples[1].gpu_uuid, "GPU-c");
  ASSERT_EQ(rec.corrupt.size(), 1u);
  EXPECT_EQ(rec.corrupt[0].segment, "/j/00000000000000000007.seg");
  EXPECT_EQ(rec.corrupt[0].offset, a.size());
  EXPECT_EQ(rec.corrupt[0].bytes, b.size());
  ASSERT_EQ(rec.torn.size(), 1u) << "a torn tail is reported as such, not as corruption";
  EXPECT_EQ(rec.torn[0].bytes, 9u);
  EXPECT_EQ((*j)->damage().corrupt_regions, 1);
  EXPECT_EQ((*j)->damage().corrupt_bytes, static_cast<int64_t>(b.size()));
  EXPECT_EQ((*j)->damage().torn_tails, 1);
  // New appends go to a new segment, never behind the torn tail.
  ASSERT_TRUE((*j)->Append({Util("GPU-d", kT0, 4)}).ok());
  EXPECT_EQ(fs.List("/j")->size(), 2u);
}

TEST(IngestJournal, TakeMergesFieldsLaterBatchesWinAndSortsByGpuThenTime) {
  MemFileSystem fs;
  auto j = Open(fs);
  ASSERT_TRUE(
      j->Append({Util("GPU-b", kT0 + 10'000, 10), Util("GPU-b", kT0, 5), Util("GPU-a", kT0, 1)}).ok());
  ASSERT_TRUE(j->Append({Power("GPU-b", kT0, 300), Util("GPU-a", kT0, 2)}).ok());
  EXPECT_EQ(j->pending(), 5u);
  IngestJournal::Taken t = j->Take();
  EXPECT_EQ(t.appended, 5u);
  EXPECT_EQ(j->pending(), 0u);
  ASSERT_EQ(t.samples.size(), 3u);
  EXPECT_EQ(t.samples[0].gpu_uuid, "GPU-a");
  EXPECT_EQ(t.samples[0].sample.util_pct, 2);  // the later batch's value
  EXPECT_EQ(t.samples[1].gpu_uuid, "GPU-b");
  EXPECT_EQ(t.samples[1].sample.t, kT0);
  EXPECT_EQ(t.samples[1].sample.util_pct, 5);  // kept: the later batch lacked it
  EXPECT_EQ(t.samples[1].sample.power_w, 300);
  EXPECT_EQ(t.samples[2].sample.t, kT0 + 10'000);
}

TEST(IngestJournal, UnsyncedBatchesDoNotSurviveAPowerCut) {
  MemFileSystem fs;
  {
    auto j = Open(fs);
    ASSERT_TRUE(j->Append({Util("GPU-a", kT0, 1)}).ok());
    IngestJournal::Taken t = j->Take();
    ASSERT_TRUE(j->Append({Util("GPU-a", kT0 + 10'000, 2)}).ok());  // after the take: a newer segment
    ASSERT_TRUE(j->Release(t).ok());
    ASSERT_TRUE(j->Append({Util("GPU-a", kT0 + 20'000, 3)}).ok());
  }
  fs.Crash();  // nothing was synced: an append survives a process crash, not this
  {
    auto j = Open(fs);
    EXPECT_EQ(j->pending(), 0u) << "MemFileSystem::Crash drops unsynced bytes, as a power cut would";
  }
}

TEST(IngestJournal, AProcessRestartReplaysEveryUnreleasedBatchInOrder) {
  MemFileSystem fs;  // no Crash(): a killed process leaves its writes in the page cache
  {
    auto j = Open(fs);
    ASSERT_TRUE(j->Append({Util("GPU-a", kT0, 1)}).ok());
    IngestJournal::Taken t = j->Take();
    ASSERT_TRUE(j->Append({Util("GPU-a", kT0 + 10'000, 2)}).ok());
    ASSERT_TRUE(j->Release(t).ok());
    ASSERT_TRUE(j->Append({Util("GPU-a", kT0 + 10'000, 3)}).ok());
    IngestJournal::Taken lost = j->Take();  // taken, never committed
    ASSERT_TRUE(j->Append({Util("GPU-b", kT0, 4)}).ok());
  }
  auto j = Open(fs);
  EXPECT_EQ(j->pending(), 3u);
  IngestJournal::Taken t = j->Take();
  ASSERT_EQ(t.samples.size(), 2u);
  EXPECT_EQ(t.samples[0].sample.t, kT0 + 10'000);
  EXPECT_EQ(t.samples[0].sample.util_pct, 3);  // replayed in append order: the later value wins
  EXPECT_EQ(t.samples[1].gpu_uuid, "GPU-b");
  ASSERT_TRUE(j->Release(t).ok());
  auto names = fs.List("/j");
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty()) << "every segment released";
}

TEST(IngestJournal, ARefusedTakeIsPendingAgainAheadOfNewerBatches) {
  MemFileSystem fs;
  auto j = Open(fs);
  ASSERT_TRUE(j->Append({Util("GPU-a", kT0, 1)}).ok());
  IngestJournal::Taken t = j->Take();
  ASSERT_TRUE(j->Append({Util("GPU-a", kT0, 2)}).ok());
  j->Restore(std::move(t));
  IngestJournal::Taken again = j->Take();
  ASSERT_EQ(again.samples.size(), 1u);
  EXPECT_EQ(again.samples[0].sample.util_pct, 2);
}

TEST(IngestJournal, FullOrFailingAppendsStoreNothingAndSayWhy) {
  MemFileSystem fs;
  auto j = Open(fs, 2);
  ASSERT_TRUE(j->Append({Util("GPU-a", kT0, 1)}).ok());
  Status full = j->Append({Util("GPU-a", kT0 + 1, 1), Util("GPU-a", kT0 + 2, 1)});
  EXPECT_EQ(full.code(), StatusCode::kUnavailable);
  EXPECT_NE(full.message().find("limit 2"), std::string::npos) << full.message();
  EXPECT_EQ(j->pending(), 1u);
  fs.SetCapacity(0);
  EXPECT_FALSE(j->Append({Util("GPU-a", kT0 + 3, 1)}).ok());
  EXPECT_EQ(j->pending(), 1u);
  fs.SetCapacity(-1);
  Status long_uuid = j->Append({Util(std::string(300, 'x'), kT0, 1)});
  EXPECT_EQ(long_uuid.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(long_uuid.message().find("300 bytes long, over the limit 255 bytes"), std::string::npos)
      << long_uuid.message();
  EXPECT_EQ(j->pending(), 1u);
}

Gpu NewGpu(const std::string& uuid) {
  Gpu g;
  g.uuid = uuid;
  g.node = "node-7";
  g.index = 3;
  g.model = "A10G";
  g.memory_mib = 24576;
  g.in_service_from = kT0;
  g.in_service_to = kT0 + 1;
  g.sample_interval_ms = 10'000;
  g.max_gap_ms = 30'000;
  return g;
}

TEST(IngestJournal, NewGpusTravelInTheFrameOfTheirSamplesAndReplay) {
  const std::string frame = EncodeJournalFrame({Util("GPU-n", kT0, 7)}, {NewGpu("GPU-n")});
  std::vector<Gpu> gpus;
  size_t used = 0;
  const std::vector<GpuSample> rows = DecodeJournalSegment(frame, &used, nullptr, "", &gpus);
  EXPECT_EQ(used, frame.size());
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].gpu_uuid, "GPU-n");
  ASSERT_EQ(gpus.size(), 1u);
  EXPECT_EQ(gpus[0], NewGpu("GPU-n"));
  // Cut anywhere, the frame is damage, never a GPU without its samples or the reverse.
  const std::string payload = EncodeJournalPayload({Util("GPU-n", kT0, 7)}, {NewGpu("GPU-n")});
  for (size_t cut = 0; cut < payload.size(); ++cut) {
    std::vector<GpuSample> out;
    std::vector<Gpu> out_gpus;
    EXPECT_FALSE(DecodeJournalPayload(payload.substr(0, cut), out, &out_gpus).ok()) << cut;
    EXPECT_TRUE(out.empty() && out_gpus.empty()) << cut;
  }

  MemFileSystem fs;
  {
    auto j = Open(fs);
    ASSERT_TRUE(j->Append({Util("GPU-n", kT0, 7)}, {NewGpu("GPU-n")}).ok());
    ASSERT_TRUE(j->Append({Util("GPU-n", kT0 + 10'000, 8)}).ok());
  }  // a crash: nothing taken
  auto j = Open(fs);
  IngestJournal::Taken t = j->Take();
  ASSERT_EQ(t.gpus.size(), 1u);
  EXPECT_EQ(t.gpus[0], NewGpu("GPU-n"));
  EXPECT_EQ(t.samples.size(), 2u);
  // Carried again by a later frame (another copy): memory keeps the first journaled.
  Gpu later = NewGpu("GPU-n");
  later.node = "node-8";
  ASSERT_TRUE(j->Append({Util("GPU-n", kT0 + 20'000, 9)}, {later}).ok());
  j->Restore(std::move(t));  // the ledger refused: the GPU waits with its samples
  IngestJournal::Taken again = j->Take();
  ASSERT_EQ(again.gpus.size(), 1u);
  EXPECT_EQ(again.gpus[0], NewGpu("GPU-n")) << "the taken one was journaled first";
  EXPECT_EQ(again.samples.size(), 3u);
}

TEST(IngestJournal, ARefusedAppendKeepsNoGpu) {
  MemFileSystem fs;
  auto j = Open(fs);
  fs.SetCapacity(0);
  EXPECT_FALSE(j->Append({Util("GPU-n", kT0, 7)}, {NewGpu("GPU-n")}).ok());
  fs.SetCapacity(-1);
  Gpu long_node = NewGpu("GPU-m");
  long_node.node.assign(70'000, 'n');
  Status refused = j->Append({Util("GPU-m", kT0, 7)}, {long_node});
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("GPU node"), std::string::npos) << refused.message();
  EXPECT_TRUE(j->Take().gpus.empty());
  EXPECT_EQ(j->pending(), 0u);
}

}  // namespace
}  // namespace gpuledger
