// Locale-independent text helpers: trimming, splitting, number parsing and formatting.
// Nothing here reads the C or C++ locale, so output is the same under de_DE as under C.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuledger {

std::string_view Trim(std::string_view s);
std::vector<std::string_view> Split(std::string_view s, char sep);
std::string ToLower(std::string_view s);

// Finite numbers only; `what` names the field in the error.
StatusOr<double> ParseDouble(std::string_view s, std::string_view what);
StatusOr<int64_t> ParseInt(std::string_view s, std::string_view what);

// Fixed-point text with `decimals` digits after '.', never ','.
std::string FormatFixed(double v, int decimals);
// Thousands separated with ',' for tables: 1234567 -> "1,234,567".
std::string FormatGrouped(int64_t v);

}  // namespace gpuledger
