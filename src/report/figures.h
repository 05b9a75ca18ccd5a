// How a figure that may have no data behind it is written (UsageTotals' ratios, energy,
// peak memory): JSON null, "—" in tables, an empty CSV field — never 0 (docs/EXPORTS.md,
// "Common rules"). Pure functions; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/strings.h"

namespace gpuledger {

// Shown in a table where a figure has no data behind it.
inline constexpr const char* kNoFigure = "—";

// v scaled by k (a percentage to a fraction), or nothing.
inline std::optional<double> Scaled(std::optional<double> v, double k) {
  return v ? std::optional<double>(*v * k) : std::nullopt;
}

// JSON: the number, or null.
inline nlohmann::ordered_json FigureJson(std::optional<double> v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
}

// CSV: fixed decimals, or an empty field.
inline std::string FigureCsv(std::optional<double> v, int decimals) {
  return v ? FormatFixed(*v, decimals) : std::string();
}

// Table: fixed decimals with a unit suffix (" %"), or "—".
inline std::string FigureCell(std::optional<double> v, int decimals, const std::string& suffix = "") {
  return v ? FormatFixed(*v, decimals) + suffix : std::string(kNoFigure);
}

// Table: a ratio as a percentage, or "—".
inline std::string PctCell(std::optional<double> ratio) { return FigureCell(Scaled(ratio, 100.0), 1, " %"); }

}  // namespace gpuledger
