#include "common/money.h"

#include <array>

#include "common/strings.h"

namespace gpuledger {

namespace {
struct CurrencyEntry {
  const char* code;
  int digits;
};
// ISO 4217 (amendment 179): the currencies a GPU cluster's books are kept in, plus the
// zero- and three-decimal ones so their rounding stays covered by tests.
constexpr std::array<CurrencyEntry, 34> kCurrencies = {{
    {"AED", 2}, {"AUD", 2}, {"BHD", 3}, {"BRL", 2}, {"CAD", 2}, {"CHF", 2}, {"CLP", 0},
    {"CNY", 2}, {"CZK", 2}, {"DKK", 2}, {"EUR", 2}, {"GBP", 2}, {"HKD", 2}, {"IDR", 2},
    {"ILS", 2}, {"INR", 2}, {"ISK", 0}, {"JOD", 3}, {"JPY", 0}, {"KRW", 0}, {"KWD", 3},
    {"MXN", 2}, {"MYR", 2}, {"NOK", 2}, {"NZD", 2}, {"PLN", 2}, {"RUB", 2}, {"SAR", 2},
    {"SEK", 2}, {"SGD", 2}, {"THB", 2}, {"TWD", 2}, {"USD", 2}, {"VND", 0},
}};
}  // namespace

int64_t Currency::micros_per_minor() const {
  int64_t m = kMicrosPerUnit;
  for (int i = 0; i < minor_digits; ++i) m /= 10;
  return m;
}

StatusOr<Currency> LookupCurrency(std::string_view code) {
  for (const auto& e : kCurrencies) {
    if (code == e.code) return Currency{e.code, e.digits};
  }
  return InvalidArgument("unknown currency '" + std::string(code) +
                         "': expected an ISO 4217 code such as CNY, USD, EUR, JPY");
}

StatusOr<int64_t> ParseMicros(std::string_view text, std::string_view what) {
  std::string_view s = Trim(text);
  auto bad = [&](std::string_view why) {
    return InvalidArgument(std::string(what) + " '" + std::string(text) + "' " + std::string(why));
  };
  if (s.empty()) return bad("is empty");
  bool neg = false;
  if (s[0] == '-' || s[0] == '+') {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool seen_dot = false, seen_digit = false;
  for (char c : s) {
    if (c == '.' && !seen_dot) {
      seen_dot = true;
    } else if (c >= '0' && c <= '9') {
      seen_digit = true;
      if (seen_dot) {
        if (++frac_digits > 6) return bad("has more than 6 decimals");
        frac = frac * 10 + (c - '0');
      } else {
        whole = whole * 10 + (c - '0');
        if (whole > 9'000'000'000'000) return bad("exceeds 9e12");
      }
    } else {
      return bad("is not a decimal number");
    }
  }
  if (!seen_digit) return bad("is not a decimal number");
  for (int i = frac_digits; i < 6; ++i) frac *= 10;
  int64_t v = whole * kMicrosPerUnit + frac;
  return neg ? -v : v;
}

std::string FormatMicros(int64_t micros, int min_digits) {
  const bool neg = micros < 0;
  const uint64_t a = neg ? uint64_t(0) - static_cast<uint64_t>(micros) : static_cast<uint64_t>(micros);
  std::string whole = std::to_string(a / kMicrosPerUnit);
  std::string frac = std::to_string(a % kMicrosPerUnit);
  frac.insert(frac.begin(), 6 - frac.size(), '0');
  while (static_cast<int>(frac.size()) > min_digits && frac.back() == '0') frac.pop_back();
  std::string out = (neg && a != 0 ? "-" : "") + whole;
  if (!frac.empty()) out += "." + frac;
  return out;
}

int64_t RoundMicros(int64_t micros, int64_t unit) {
  if (unit <= 1) return micros;
  const int64_t q = micros / unit, r = micros % unit;
  if (2 * (r < 0 ? -r : r) >= unit) return (q + (micros < 0 ? -1 : 1)) * unit;
  return q * unit;
}

}  // namespace gpuledger
