// Fuzz target: the server's ingest journal segments as read back at start (torn or
// damaged frames are skipped, never a crash or a misread).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/journal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t used = 0;
  const std::vector<gpuledger::GpuSample> rows = gpuledger::DecodeJournalSegment(in, &used);
  if (used > size) __builtin_trap();
  // What decodes re-encodes to one frame that decodes to the same samples.
  const std::vector<gpuledger::GpuSample> again =
      gpuledger::DecodeJournalSegment(gpuledger::EncodeJournalFrame(rows));
  if (again.size() != rows.size()) __builtin_trap();
  for (size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].gpu_uuid != again[i].gpu_uuid || !gpuledger::SameBits(rows[i].sample, again[i].sample))
      __builtin_trap();
  }
  return 0;
}
