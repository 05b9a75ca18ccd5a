// Ultralytics results.csv -> per-epoch progress. Reads the header, never assumes the
// column set: YOLOv5 (20-char padded, metrics/mAP_0.5, 0-based epochs), 8.0.x (23-char
// padded, 0-based), 8.3.9+ (time column, 1-based), the THU YOLOv10 fork (*_om/*_oo
// losses), YOLO11 and YOLO12. Pure; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/types.h"

namespace gpuledger {

// Epochs come back 1-based whatever the file used. Errors read "line N: what".
StatusOr<std::vector<EpochProgress>> ParseResultsCsv(std::string_view text);

}  // namespace gpuledger
