#include "tsdb/chunk.h"

#include <climits>
#include <cmath>
#include <cstring>

namespace gpuledger {

namespace {

constexpr char kMagic[4] = {'G', 'L', 'C', '2'};

// A float column's mode byte: 0..kMaxDigits = decimal fixed point with that many digits
// after the point; kBitsMode = the float's IEEE-754 bit patterns.
constexpr int kMaxDigits = 9;
constexpr uint8_t kBitsMode = 0x80;
constexpr double kPow10[kMaxDigits + 1] = {1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

uint64_t Gcd(uint64_t a, uint64_t b) {
  while (b != 0) {
    const uint64_t r = a % b;
    a = b;
    b = r;
  }
  return a;
}

// A column of int64 values: first the greatest common divisor of its entries (fixed-point
// values of integer readings share a factor of 1000), then each entry divided by it as a
// (value << 1 | has_run) zigzag varint, where a set low bit means "a varint count of
// further repeats follows".
// Entries must stay within +-2^62 after division (the run flag takes a bit).
Status PutColumn(std::string& out, const std::vector<int64_t>& v) {
  uint64_t g = 0;
  for (int64_t x : v) {
    if (x == INT64_MIN) {
      g = 1;
      break;
    }
    g = Gcd(g, static_cast<uint64_t>(x < 0 ? -x : x));
  }
  if (g == 0) g = 1;
  PutVarint(out, g);
  const int64_t gi = static_cast<int64_t>(g);
  for (size_t i = 0; i < v.size();) {
    size_t j = i + 1;
    while (j < v.size() && v[j] == v[i]) ++j;
    const int64_t q = v[i] / gi;
    if (q > (int64_t{1} << 62) || q < -(int64_t{1} << 62)) {
      return InvalidArgument("a chunk column entry " + std::to_string(v[i]) + " exceeds +-2^62");
    }
    const uint64_t z = ZigZag(q);
    if (j - i > 1) {
      PutVarint(out, (z << 1) | 1);
      PutVarint(out, j - i - 1);
    } else {
      PutVarint(out, z << 1);
    }
    i = j;
  }
  return OkStatus();
}

class In {
 public:
  explicit In(std::string_view b) : b_(b) {}
  Status Varint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return InvalidArgument("chunk truncated at byte " + std::to_string(pos_));
      const uint8_t c = static_cast<uint8_t>(b_[pos_++]);
      out |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) {
        *v = out;
        return OkStatus();
      }
    }
    return InvalidArgument("chunk varint too long at byte " + std::to_string(pos_));
  }
  Status Column(size_t n, std::vector<int64_t>* v) {
    v->clear();
    uint64_t g = 0;
    RETURN_IF_ERROR(Varint(&g));
    if (g == 0) return InvalidArgument("chunk column has a zero scale");
    while (v->size() < n) {
      uint64_t x = 0;
      RETURN_IF_ERROR(Varint(&x));
      const int64_t value =
          static_cast<int64_t>(static_cast<uint64_t>(UnZigZag(x >> 1)) * g);  // wraps, never traps
      uint64_t repeats = 0;
      if (x & 1) RETURN_IF_ERROR(Varint(&repeats));
      if (repeats >= n - v->size())
        return InvalidArgument("chunk column run of " + std::to_string(repeats + 1) + " overflows its " +
                               std::to_string(n) + " samples");
      v->insert(v->end(), repeats + 1, value);
    }
    return OkStatus();
  }
  Status Byte(uint8_t* v) {
    if (pos_ >= b_.size()) return InvalidArgument("chunk truncated at byte " + std::to_string(pos_));
    *v = static_cast<uint8_t>(b_[pos_++]);
    return OkStatus();
  }
  bool done() const { return pos_ == b_.size(); }
  Status Magic() {
    if (b_.size() < 4 || b_.substr(0, 4) != std::string_view(kMagic, 4)) {
      return InvalidArgument("not a gpuledger chunk (bad magic)");
    }
    pos_ = 4;
    return OkStatus();
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
};

// Float columns. Decimal mode keeps round(v * 10^d) and decodes it as
// float(q / 10^d); a column takes the fewest digits at which every one of its values
// decodes to the same bits, and its bit patterns when no d up to kMaxDigits does.
constexpr double kMaxScaled = 9e15;  // llround stays exact below 2^53

float FromDecimal(int64_t q, int d) { return static_cast<float>(static_cast<double>(q) / kPow10[d]); }

bool SameBits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

bool DecimalHolds(float v, int d, int64_t* q) {
  const double scaled = static_cast<double>(v) * kPow10[d];
  if (!(std::fabs(scaled) <= kMaxScaled)) return false;
  *q = std::llround(scaled);
  return SameBits(FromDecimal(*q, d), v);
}

// Fills `out` with the column's entries (before differencing) and returns its mode.
uint8_t FloatColumn(const std::vector<float>& v, std::vector<int64_t>& out) {
  out.resize(v.size());
  int d = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    while (d <= kMaxDigits && !DecimalHolds(v[i], d, &out[i])) ++d;
    if (d > kMaxDigits) break;
  }
  bool decimal = d <= kMaxDigits;
  // A value that held at fewer digits may not hold at the column's final count.
  for (size_t i = 0; decimal && i < v.size(); ++i) decimal = DecimalHolds(v[i], d, &out[i]);
  if (decimal) return static_cast<uint8_t>(d);
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &v[i], sizeof bits);
    out[i] = bits;
  }
  return kBitsMode;
}

// False for an entry no encoder writes (a bit pattern past 32 bits, a non-finite value).
bool FloatEntry(int64_t q, uint8_t mode, float* f) {
  if (mode == kBitsMode) {
    if (q < 0 || q > int64_t{UINT32_MAX}) return false;
    const auto bits = static_cast<uint32_t>(q);
    std::memcpy(f, &bits, sizeof *f);
  } else {
    *f = FromDecimal(q, mode);
  }
  return std::isfinite(*f);
}

}  // namespace

StatusOr<std::string> EncodeChunk(const std::vector<Sample>& samples) {
  if (samples.empty() || samples.size() > kMaxChunkSamples) {
    return InvalidArgument("a chunk holds 1 to " + std::to_string(kMaxChunkSamples) + " samples, not " +
                           std::to_string(samples.size()));
  }
  const size_t n = samples.size();
  std::vector<int64_t> t(n), energy(n), util, mem, power, sm;
  std::vector<float> f[4];
  for (auto& c : f) c.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = samples[i];
    if (i > 0 && s.t <= samples[i - 1].t) {
      return InvalidArgument("chunk samples must be in increasing time order; " + FormatTime(s.t) +
                             " follows " + FormatTime(samples[i - 1].t));
    }
    if (!std::isfinite(s.util_pct) || !std::isfinite(s.mem_mib) || !std::isfinite(s.power_w) ||
        !std::isfinite(s.sm_active)) {
      return InvalidArgument("sample at " + FormatTime(s.t) + " has a non-finite value");
    }
    t[i] = s.t;
    energy[i] = s.energy_mj;
    f[0][i] = s.util_pct, f[1][i] = s.mem_mib, f[2][i] = s.power_w, f[3][i] = s.sm_active;
  }
  const uint8_t modes[4] = {FloatColumn(f[0], util), FloatColumn(f[1], mem), FloatColumn(f[2], power),
                            FloatColumn(f[3], sm)};
  // Differences, back to front: t and energy twice (delta of delta), the rest once.
  // Wrapping arithmetic: decoding wraps back, so any int64 round-trips.
  auto sub = [](int64_t a, int64_t b) {
    return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
  };
  auto delta = [&](std::vector<int64_t>& v) {
    for (size_t i = v.size(); i-- > 1;) v[i] = sub(v[i], v[i - 1]);
  };
  delta(t);
  delta(energy);
  for (size_t i = n; i-- > 2;) t[i] = sub(t[i], t[i - 1]), energy[i] = sub(energy[i], energy[i - 1]);
  delta(util);
  delta(mem);
  delta(power);
  delta(sm);
  std::string out(kMagic, 4);
  PutVarint(out, n);
  RETURN_IF_ERROR(PutColumn(out, t));
  const std::vector<int64_t>* floats[4] = {&util, &mem, &power, &sm};
  for (int c = 0; c < 4; ++c) {
    if (c == 3) RETURN_IF_ERROR(PutColumn(out, energy));  // column order: t util mem power energy sm
    out += static_cast<char>(modes[c]);
    RETURN_IF_ERROR(PutColumn(out, *floats[c]));
  }
  return out;
}

StatusOr<std::vector<Sample>> DecodeChunk(std::string_view bytes) {
  In in(bytes);
  RETURN_IF_ERROR(in.Magic());
  uint64_t n = 0;
  RETURN_IF_ERROR(in.Varint(&n));
  if (n == 0 || n > kMaxChunkSamples) {
    return InvalidArgument("chunk claims " + std::to_string(n) + " samples; the limit is " +
                           std::to_string(kMaxChunkSamples));
  }
  std::vector<int64_t> cols[6];  // t util mem power energy sm
  uint8_t modes[6] = {};
  for (int c = 0; c < 6; ++c) {
    if (c != 0 && c != 4) {
      RETURN_IF_ERROR(in.Byte(&modes[c]));
      if (modes[c] > kMaxDigits && modes[c] != kBitsMode)
        return InvalidArgument("chunk column mode " + std::to_string(modes[c]) + " is unknown");
    }
    RETURN_IF_ERROR(in.Column(static_cast<size_t>(n), &cols[c]));
  }
  if (!in.done()) return InvalidArgument("chunk has trailing bytes");
  auto& [t, util, mem, power, energy, sm] = cols;
  // Undo the differences, front to back (wrapping arithmetic: corrupt input cannot trap).
  auto sum_from = [](std::vector<int64_t>& v, size_t first) {
    for (size_t i = first; i < v.size(); ++i) {
      v[i] = static_cast<int64_t>(static_cast<uint64_t>(v[i]) + static_cast<uint64_t>(v[i - 1]));
    }
  };
  for (auto* c : {&t, &energy}) {
    sum_from(*c, 2);  // [v0, d1, dd2, ...] -> [v0, d1, d2, ...]
    sum_from(*c, 1);  // -> [v0, v1, v2, ...]
  }
  for (auto* c : {&util, &mem, &power, &sm}) sum_from(*c, 1);
  std::vector<Sample> out(static_cast<size_t>(n));
  for (size_t i = 0; i < out.size(); ++i) {
    Sample& s = out[i];
    s.t = t[i];
    s.energy_mj = energy[i];
    if (!FloatEntry(util[i], modes[1], &s.util_pct) || !FloatEntry(mem[i], modes[2], &s.mem_mib) ||
        !FloatEntry(power[i], modes[3], &s.power_w) || !FloatEntry(sm[i], modes[5], &s.sm_active)) {
      return InvalidArgument("chunk sample " + std::to_string(i) +
                             " holds a value no encoder writes (corrupt chunk)");
    }
    if (i > 0 && s.t <= out[i - 1].t)
      return InvalidArgument("chunk timestamps do not increase (corrupt chunk)");
  }
  return out;
}

}  // namespace gpuledger
