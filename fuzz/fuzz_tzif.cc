// Fuzz target: TZif time zone data (read from the system, but a corrupt or hostile file
// must give a Status, never a crash).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/tz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto tz =
      gpuledger::TimeZone::FromTzif("fuzz", std::string_view(reinterpret_cast<const char*>(data), size));
  if (tz.ok()) {
    (void)tz->MonthWindow({2026, 3});
    (void)tz->MonthOf(1790812800000);
  }
  return 0;
}
