// Fuzz target: the segment log's reader (wal/segment_log.h), both checksums. Whatever
// the bytes, every byte is accounted for exactly once: in a good frame, in a damaged
// stretch, or in the torn tail; damage is reported in order, never overlapping; and
// every good frame's payload, framed again, reads back alone and whole.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wal/segment_log.h"

namespace {

class Check final : public gpuledger::CorruptionReporter {
 public:
  void Corruption(const gpuledger::SegmentDamage& d) override { Add(d); }
  void TornTail(const gpuledger::SegmentDamage& d) override { Add(d); }
  uint64_t end = 0;

 private:
  void Add(const gpuledger::SegmentDamage& d) {
    if (d.offset < end || d.bytes == 0) __builtin_trap();
    end = d.offset + d.bytes;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const gpuledger::FrameChecksum c :
       {gpuledger::FrameChecksum::kCrc32, gpuledger::FrameChecksum::kXxh3_64}) {
    const gpuledger::FrameFormat f{c, 1, 1 << 20};
    std::vector<std::string> payloads;
    Check check;
    const gpuledger::SegmentReadStats st =
        gpuledger::ReadSegmentFrames(f, in, "fuzz", &check, [&](std::string_view p, uint64_t) {
          payloads.emplace_back(p);
          return gpuledger::OkStatus();
        });
    uint64_t good = 0;
    for (const std::string& p : payloads) good += f.header_bytes() + p.size();
    if (good + st.corrupt_bytes + st.torn_bytes != size || st.frames != payloads.size()) __builtin_trap();
    if (st.end_of_good > size || check.end > size) __builtin_trap();
    for (const std::string& p : payloads) {
      size_t n = 0;
      gpuledger::ReadSegmentFrames(f, gpuledger::EncodeSegmentFrame(f, p), "again", nullptr,
                                   [&](std::string_view q, uint64_t) {
                                     if (q != p) __builtin_trap();
                                     ++n;
                                     return gpuledger::OkStatus();
                                   });
      if (n != 1) __builtin_trap();
    }
  }
  return 0;
}
