// Money: exact amounts as int64 micro-units (1e-6) of an ISO 4217 currency.
// Prices keep micro precision; book amounts are rounded to the currency's minor unit
// by the cost engine. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger {

inline constexpr int64_t kMicrosPerUnit = 1'000'000;

struct Currency {
  std::string code;      // "CNY"
  int minor_digits = 2;  // ISO 4217 exponent: CNY 2, JPY 0, KWD 3

  // Micro-units in one minor unit: CNY 10,000 (one fen), JPY 1,000,000.
  int64_t micros_per_minor() const;
  bool operator==(const Currency&) const = default;
};

// Looks the code up in ISO 4217's active list (the common subset gpuledger ships).
StatusOr<Currency> LookupCurrency(std::string_view code);

// "3.5", "29.05", "-0.125" -> micro-units, exactly (no floating point). At most six
// decimals; |value| below 9e12 major units.
StatusOr<int64_t> ParseMicros(std::string_view text, std::string_view what);

// Exact decimal text in major units with at least `min_digits` decimals and more only
// when the amount has them: (29050000, 2) -> "29.05"; (3500000, 2) -> "3.50".
std::string FormatMicros(int64_t micros, int min_digits);

// Rounds to a multiple of `unit` micros, half away from zero.
int64_t RoundMicros(int64_t micros, int64_t unit);

}  // namespace gpuledger
