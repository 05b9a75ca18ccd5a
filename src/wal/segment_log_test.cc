#include "wal/segment_log.h"

#include <gtest/gtest.h>

#include "common/bytes.h"
#include "common/logger.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace gpuledger {
namespace {

constexpr FrameFormat kCrc{FrameChecksum::kCrc32, 1, 1 << 20};
constexpr FrameFormat kXxh{FrameChecksum::kXxh3_64, 1, 1 << 20};

class Recorder final : public CorruptionReporter {
 public:
  void Corruption(const SegmentDamage& d) override { corrupt.push_back(d); }
  void TornTail(const SegmentDamage& d) override { torn.push_back(d); }
  std::vector<SegmentDamage> corrupt, torn;
};

struct Read {
  std::vector<std::string> payloads;
  SegmentReadStats stats;
  Recorder reporter;
};

Read ReadAll(const FrameFormat& f, std::string_view bytes) {
  Read r;
  r.stats = ReadSegmentFrames(f, bytes, "seg", &r.reporter, [&](std::string_view p, uint64_t) {
    r.payloads.emplace_back(p);
    return OkStatus();
  });
  return r;
}

std::vector<std::string> V(std::initializer_list<const char*> l) { return {l.begin(), l.end()}; }

// Frames as gpuledger wrote them before the segment log existed, built by hand: the
// outbox's [u32 length][u32 CRC-32][payload] and the journal's [u32 length][u64 XXH3-64].
TEST(SegmentLog, ReadsFramesTheOldOutboxAndJournalCodeWrote) {
  std::string crc_frame;
  PutLe(crc_frame, 5, 4);
  PutLe(crc_frame, 0x3610A686u, 4);  // CRC-32 of "hello"
  crc_frame += "hello";
  EXPECT_EQ(crc_frame, EncodeSegmentFrame(kCrc, "hello"));
  EXPECT_EQ(ReadAll(kCrc, crc_frame).payloads, V({"hello"}));

  std::string xxh_frame;
  PutLe(xxh_frame, 5, 4);
  PutLe(xxh_frame, XXH3_64bits("hello", 5), 8);
  xxh_frame += "hello";
  EXPECT_EQ(xxh_frame, EncodeSegmentFrame(kXxh, "hello"));
  EXPECT_EQ(ReadAll(kXxh, xxh_frame + xxh_frame).payloads, V({"hello", "hello"}));
}

TEST(SegmentLog, AFlippedPayloadByteIsSkippedReportedAndReplayGoesOn) {
  for (const FrameFormat& f : {kCrc, kXxh}) {
    const std::string a = EncodeSegmentFrame(f, "alpha"), b = EncodeSegmentFrame(f, "bravo"),
                      c = EncodeSegmentFrame(f, "charlie");
    std::string seg = a + b + c;
    seg[a.size() + f.header_bytes() + 2] ^= 0x10;  // inside b's payload
    Read r = ReadAll(f, seg);
    EXPECT_EQ(r.payloads, V({"alpha", "charlie"}));
    ASSERT_EQ(r.reporter.corrupt.size(), 1u);
    EXPECT_EQ(r.reporter.corrupt[0].segment, "seg");
    EXPECT_EQ(r.reporter.corrupt[0].offset, a.size());
    EXPECT_EQ(r.reporter.corrupt[0].bytes, b.size());
    EXPECT_EQ(r.reporter.corrupt[0].reason, "checksum mismatch");
    EXPECT_TRUE(r.reporter.torn.empty());
    EXPECT_EQ(r.stats.corrupt_bytes, b.size());
    EXPECT_EQ(r.stats.end_of_good, seg.size());
  }
}

TEST(SegmentLog, ADamagedLengthIsPassedByScanningForTheNextGoodFrame) {
  const std::string a = EncodeSegmentFrame(kCrc, "alpha"), b = EncodeSegmentFrame(kCrc, "bravo"),
                    c = EncodeSegmentFrame(kCrc, "charlie");
  std::string seg = a + b + c;
  seg[a.size() + 1] = '\x7f';  // b's length now runs far past the end
  Read r = ReadAll(kCrc, seg);
  EXPECT_EQ(r.payloads, V({"alpha", "charlie"}));
  ASSERT_EQ(r.reporter.corrupt.size(), 1u);
  EXPECT_EQ(r.reporter.corrupt[0].offset, a.size());
  EXPECT_EQ(r.reporter.corrupt[0].bytes, b.size());
  EXPECT_NE(r.reporter.corrupt[0].reason.find("runs past the segment's end"), std::string::npos);
}

TEST(SegmentLog, GarbageBetweenFramesIsSkippedWithItsExactSize) {
  const std::string a = EncodeSegmentFrame(kXxh, "alpha"), c = EncodeSegmentFrame(kXxh, "charlie");
  const std::string junk(37, '\xee');
  Read r = ReadAll(kXxh, a + junk + c);
  EXPECT_EQ(r.payloads, V({"alpha", "charlie"}));
  ASSERT_EQ(r.reporter.corrupt.size(), 1u);
  EXPECT_EQ(r.reporter.corrupt[0].offset, a.size());
  EXPECT_EQ(r.reporter.corrupt[0].bytes, junk.size());
}

TEST(SegmentLog, ATornTailIsTheNormalCrashCaseNotCorruption) {
  const std::string a = EncodeSegmentFrame(kCrc, "alpha"), b = EncodeSegmentFrame(kCrc, "bravo");
  for (size_t cut = 1; cut < b.size(); ++cut) {
    Read r = ReadAll(kCrc, a + b.substr(0, cut));
    EXPECT_EQ(r.payloads, V({"alpha"})) << cut;
    EXPECT_TRUE(r.reporter.corrupt.empty()) << cut;
    ASSERT_EQ(r.reporter.torn.size(), 1u) << cut;
    EXPECT_EQ(r.reporter.torn[0].offset, a.size());
    EXPECT_EQ(r.reporter.torn[0].bytes, cut);
    EXPECT_EQ(r.stats.end_of_good, a.size());
  }
  // Zeros where a crash left the file longer than what was written.
  Read zeros = ReadAll(kCrc, a + std::string(100, '\0'));
  EXPECT_TRUE(zeros.reporter.corrupt.empty());
  EXPECT_EQ(zeros.stats.torn_bytes, 100u);
}

TEST(SegmentLog, AWholeLastFrameThatFailsItsChecksumIsCorruptionNotATornTail) {
  const std::string a = EncodeSegmentFrame(kCrc, "alpha");
  std::string b = EncodeSegmentFrame(kCrc, "bravo");
  b.back() ^= 1;
  Read r = ReadAll(kCrc, a + b);
  EXPECT_EQ(r.payloads, V({"alpha"}));
  ASSERT_EQ(r.reporter.corrupt.size(), 1u);
  EXPECT_EQ(r.reporter.corrupt[0].bytes, b.size());
  EXPECT_TRUE(r.reporter.torn.empty());
}

TEST(SegmentLog, APayloadItsUserRefusesIsDamageWithTheUsersReason) {
  const std::string seg =
      EncodeSegmentFrame(kCrc, "good") + EncodeSegmentFrame(kCrc, "evil") + EncodeSegmentFrame(kCrc, "fine");
  std::vector<std::string> kept;
  Recorder rec;
  ReadSegmentFrames(kCrc, seg, "s", &rec, [&](std::string_view p, uint64_t) -> Status {
    if (p == "evil") return InvalidArgument("rows do not fill the payload");
    kept.emplace_back(p);
    return OkStatus();
  });
  EXPECT_EQ(kept, V({"good", "fine"}));
  ASSERT_EQ(rec.corrupt.size(), 1u);
  EXPECT_EQ(rec.corrupt[0].reason, "rows do not fill the payload");
}

TEST(SegmentLog, EveryByteIsAGoodFrameCorruptOrTornWhateverIsFlipped) {
  const std::string seg =
      EncodeSegmentFrame(kXxh, "one") + EncodeSegmentFrame(kXxh, "two") + EncodeSegmentFrame(kXxh, "three");
  for (size_t i = 0; i < seg.size(); ++i) {
    std::string bad = seg;
    bad[i] ^= 0x5a;
    Read r = ReadAll(kXxh, bad);
    uint64_t good = 0;
    for (const std::string& p : r.payloads) good += kXxh.header_bytes() + p.size();
    EXPECT_EQ(good + r.stats.corrupt_bytes + r.stats.torn_bytes, seg.size()) << i;
    EXPECT_EQ(r.payloads.size(), 2u) << i;  // exactly the damaged frame is lost
  }
}

TEST(SegmentLog, AFailedAppendSealsTheSegmentAndDamageIsReportedOncePerPlace) {
  MemFileSystem fs;
  Recorder rec;
  SegmentLog log(fs, "/l", kCrc, &rec);
  EXPECT_FALSE(log.writable());
  EXPECT_EQ(log.Append("x", false).code(), StatusCode::kFailedPrecondition);
  log.Roll(1);
  ASSERT_TRUE(log.Append("first", true).ok());
  fs.SetCapacity(0);
  EXPECT_EQ(log.Append("second", true).code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(log.writable()) << "never append behind a failed write";
  fs.SetCapacity(-1);
  ASSERT_TRUE(fs.Append(log.Path(1), "garbage!" + EncodeSegmentFrame(kCrc, "third")).ok());
  for (int i = 0; i < 3; ++i) {
    std::vector<std::string> got;
    auto st = log.Read(1, [&](std::string_view p, uint64_t) {
      got.emplace_back(p);
      return OkStatus();
    });
    ASSERT_TRUE(st.ok());
    EXPECT_EQ(got, V({"first", "third"}));
  }
  EXPECT_EQ(rec.corrupt.size(), 1u) << "read three times, reported once";
  EXPECT_EQ(log.counters().corrupt_regions, 1);
  EXPECT_EQ(log.counters().corrupt_bytes, 8);
  auto ids = log.List();
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, std::vector<uint64_t>{1});
  ASSERT_TRUE(log.Remove(1).ok());
  EXPECT_TRUE(log.List()->empty());
}

TEST(SegmentLog, TheLoggingReporterNamesSegmentOffsetAndBytes) {
  CapturingLogger logger;
  LoggingCorruptionReporter rep(logger, "journal");
  rep.Corruption({"/j/00000000000000000003.seg", 4096, 120, "checksum mismatch"});
  rep.TornTail({"/j/00000000000000000004.seg", 10, 7, "frame header cut short"});
  auto bad = logger.Events("segment_corrupt");
  ASSERT_EQ(bad.size(), 1u);
  EXPECT_EQ(bad[0].level, LogLevel::kWarning);
  EXPECT_EQ(bad[0].Field("log"), "journal");
  EXPECT_EQ(bad[0].Field("segment"), "/j/00000000000000000003.seg");
  EXPECT_EQ(bad[0].Field("offset"), "4096");
  EXPECT_EQ(bad[0].Field("bytes"), "120");
  EXPECT_EQ(logger.Count("segment_torn_tail"), 1u);
  EXPECT_NE(
      logger.Text().find("WARN segment_corrupt log=journal segment=/j/00000000000000000003.seg offset=4096 "
                         "bytes=120 reason=\"checksum mismatch\""),
      std::string::npos)
      << logger.Text();
}

}  // namespace
}  // namespace gpuledger
