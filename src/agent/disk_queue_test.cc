#include "agent/disk_queue.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

namespace gpuledger {
namespace {

QueuedRequest Req(const std::string& body) { return {0, "/api/v1/write", "application/x-protobuf", body}; }

std::vector<std::string> Drain(DiskQueue& q) {
  std::vector<std::string> out;
  for (;;) {
    auto f = q.Front();
    EXPECT_TRUE(f.ok());
    if (!f.ok() || !f->has_value()) return out;
    out.push_back((*f)->body);
    EXPECT_TRUE(q.Ack((*f)->seq).ok());
  }
}

TEST(DiskQueue, FramesAreCheckedWithTheStandardCrc32) {
  EXPECT_EQ(Crc32("123456789"), 0xCBF43926u);  // the standard check value
}

TEST(DiskQueue, AMethodOtherThanPostSurvivesTheDiskAndOldFramesReadAsPost) {
  QueuedRequest patch{7, "/api/v1/jobs/run-1", "application/json", R"({"status":"failed"})", "PATCH"};
  QueuedRequest post{8, "/api/v1/jobs", "application/json", "{}"};
  const std::vector<QueuedRequest> back = DecodeSegment(EncodeFrame(patch) + EncodeFrame(post));
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].method, "PATCH");
  EXPECT_EQ(back[0].path, "/api/v1/jobs/run-1");
  EXPECT_EQ(back[0].body, R"({"status":"failed"})");
  EXPECT_EQ(back[1].method, "POST");
  EXPECT_EQ(back[1].path, "/api/v1/jobs");
  // A POST frame is byte for byte what it was before methods were stored.
  const std::string frame = EncodeFrame(post);
  EXPECT_NE(frame.find("/api/v1/jobs"), std::string::npos);
  EXPECT_EQ(frame.find("POST"), std::string::npos);
}

TEST(DiskQueue, DeliversInOrderAndForgetsWhatWasAcknowledged) {
  MemFileSystem fs;
  auto q = DiskQueue::Open(fs, "q", 8 << 20);
  ASSERT_TRUE(q.ok());
  for (const char* b : {"a", "b", "c"}) ASSERT_TRUE((*q)->Append(Req(b)).ok());
  EXPECT_EQ((*q)->pending(), 3);
  auto f = (*q)->Front();
  ASSERT_TRUE(f.ok() && f->has_value());
  EXPECT_EQ((*f)->body, "a");
  EXPECT_EQ((*f)->path, "/api/v1/write");
  EXPECT_EQ((*f)->content_type, "application/x-protobuf");
  ASSERT_TRUE((*q)->Ack((*f)->seq).ok());
  EXPECT_EQ(Drain(**q), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ((*q)->pending(), 0);
}

TEST(DiskQueue, ACrashKeepsWhatWasAppendedAndReplaysWhatWasNotAcknowledged) {
  MemFileSystem fs;
  {
    auto q = DiskQueue::Open(fs, "q", 8 << 20);
    for (const char* b : {"a", "b", "c"}) ASSERT_TRUE((*q)->Append(Req(b)).ok());
    auto f = (*q)->Front();
    ASSERT_TRUE((*q)->Ack((*f)->seq).ok());  // "a" acknowledged; "b" sent, no answer yet
    ASSERT_TRUE(fs.Append("q/00000000000000000001.seg", std::string("\x40\0\0\0torn", 8)).ok());  // unsynced
    fs.Crash(6);  // a torn frame at the end of the segment
  }
  auto q = DiskQueue::Open(fs, "q", 8 << 20);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  ASSERT_TRUE((*q)->Append(Req("d")).ok());  // goes to a new segment, not after the torn frame
  EXPECT_EQ(Drain(**q), (std::vector<std::string>{"b", "c", "d"}));
}

TEST(DiskQueue, PastItsBoundTheOldestDataIsDroppedAndCounted) {
  MemFileSystem fs;
  auto q = DiskQueue::Open(fs, "q", 2 * DiskQueue::kSegmentBytes);
  ASSERT_TRUE(q.ok());
  const std::string big(DiskQueue::kSegmentBytes / 4, 'x');
  for (int i = 0; i < 16; ++i) ASSERT_TRUE((*q)->Append(Req(std::to_string(i) + big)).ok());
  EXPECT_LE((*q)->bytes(), 2 * DiskQueue::kSegmentBytes + DiskQueue::kSegmentBytes / 2);
  EXPECT_GT((*q)->dropped(), 0);
  const std::vector<std::string> left = Drain(**q);
  ASSERT_FALSE(left.empty());
  EXPECT_EQ(left.back().substr(0, 2), "15");  // the newest kept
  EXPECT_EQ(static_cast<int64_t>(left.size()) + (*q)->dropped(), 16);
  EXPECT_EQ(DiskQueue::Open(fs, "q", 1000).status().code(), StatusCode::kInvalidArgument);
}

TEST(DiskQueue, SegmentDecodingDropsADamagedLastFrame) {
  std::string seg = EncodeFrame({1, "/p", "t", "one"}) + EncodeFrame({2, "/p", "t", "two"});
  seg[seg.size() - 1] ^= 1;  // the second frame's body
  auto recs = DecodeSegment(seg);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].body, "one");
  EXPECT_TRUE(DecodeSegment("").empty());
}

class Recorder final : public CorruptionReporter {
 public:
  void Corruption(const SegmentDamage& d) override { corrupt.push_back(d); }
  std::vector<SegmentDamage> corrupt;
};

// Frames as the outbox wrote them before the segment log, built by hand: [u32 length]
// [u32 CRC-32][u64 seq][u16 path length][path][u16 type length][type][body].
std::string OldFrame(uint64_t seq, const std::string& body) {
  std::string payload;
  PutLe(payload, seq, 8);
  PutLe(payload, 13, 2);
  payload += "/api/v1/write";
  PutLe(payload, 1, 2);
  payload += "t";
  payload += body;
  std::string frame;
  PutLe(frame, payload.size(), 4);
  PutLe(frame, Crc32(payload), 4);
  return frame + payload;
}

TEST(DiskQueue, ADamagedFrameIsSkippedReportedOnceAndTheRequestsAfterItAreStillSent) {
  EXPECT_EQ(OldFrame(1, "a"), EncodeFrame({1, "/api/v1/write", "t", "a"})) << "the format is unchanged";
  const std::string a = OldFrame(1, "a"), b = OldFrame(2, "b"), c = OldFrame(3, "c");
  std::string seg = a + b + c;
  seg[a.size() + 9] ^= 0x01;  // in b's seq
  MemFileSystem fs;
  ASSERT_TRUE(fs.Append("q/00000000000000000001.seg", seg).ok());
  ASSERT_TRUE(fs.Sync("q/00000000000000000001.seg").ok());
  Recorder rec;
  auto q = DiskQueue::Open(fs, "q", 8 << 20, &rec);
  ASSERT_TRUE(q.ok()) << q.status().ToString();
  EXPECT_EQ(Drain(**q), (std::vector<std::string>{"a", "c"}));
  ASSERT_EQ(rec.corrupt.size(), 1u) << "read at Open and by Front, reported once";
  EXPECT_EQ(rec.corrupt[0].segment, "q/00000000000000000001.seg");
  EXPECT_EQ(rec.corrupt[0].offset, a.size());
  EXPECT_EQ(rec.corrupt[0].bytes, b.size());
  EXPECT_EQ((*q)->damage().corrupt_regions, 1);
  EXPECT_EQ((*q)->damage().corrupt_bytes, static_cast<int64_t>(b.size()));
}

TEST(DiskQueue, AFailedAppendIsNeverFollowedByAppendsBehindIt) {
  MemFileSystem fs;
  auto q = DiskQueue::Open(fs, "q", 8 << 20);
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE((*q)->Append(Req("a")).ok());
  fs.SetCapacity(0);  // the disk is full
  EXPECT_EQ((*q)->Append(Req("lost")).status().code(), StatusCode::kResourceExhausted);
  fs.SetCapacity(-1);
  ASSERT_TRUE((*q)->Append(Req("b")).ok());
  EXPECT_EQ(fs.List("q")->size(), 2u) << "b went to a new segment";
  EXPECT_EQ(Drain(**q), (std::vector<std::string>{"a", "b"}));
  // A failure in a fresh segment leaves no segment behind that could block the queue.
  auto again = DiskQueue::Open(fs, "q", 8 << 20);
  ASSERT_TRUE(again.ok());
  fs.SetCapacity(0);
  EXPECT_FALSE((*again)->Append(Req("lost")).ok());
  fs.SetCapacity(-1);
  ASSERT_TRUE((*again)->Append(Req("c")).ok());
  EXPECT_EQ(Drain(**again), (std::vector<std::string>{"c"}));
}

}  // namespace
}  // namespace gpuledger
