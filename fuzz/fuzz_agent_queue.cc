// Fuzz target: the agent's outbox segments as read back from disk (torn or damaged
// frames are skipped, never a crash or a misread).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "agent/disk_queue.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  for (const gpuledger::QueuedRequest& r : gpuledger::DecodeSegment(in)) {
    // What decodes re-encodes to the same frame.
    if (gpuledger::DecodeSegment(gpuledger::EncodeFrame(r)).size() != 1) __builtin_trap();
  }
  return 0;
}
