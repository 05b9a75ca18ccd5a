// Int128: exact intermediate products for money and GPU-time (price x GPU-nanoseconds
// reaches 1e27). GCC and Clang's built-in type, named once here so -Wpedantic stays on.
#pragma once

namespace gpuledger {

__extension__ typedef __int128 Int128;  // NOLINT(modernize-use-using): __extension__ needs typedef

}  // namespace gpuledger
