// Int128: exact intermediate products for money and GPU-time (price x GPU-nanoseconds
// reaches 1e27). GCC and Clang's built-in type, named once here so -Wpedantic stays on.
#pragma once

#include <string>

namespace gpuledger {

__extension__ typedef __int128 Int128;            // NOLINT(modernize-use-using): __extension__ needs typedef
__extension__ typedef unsigned __int128 UInt128;  // NOLINT(modernize-use-using)

inline std::string Int128ToString(Int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  UInt128 a = neg ? static_cast<UInt128>(-(v + 1)) + 1 : static_cast<UInt128>(v);
  std::string s;
  while (a > 0) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(a % 10)));
    a /= 10;
  }
  return neg ? "-" + s : s;
}

}  // namespace gpuledger
