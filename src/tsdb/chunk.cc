#include "tsdb/chunk.h"

#include <algorithm>
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

// A column's form byte.
constexpr uint8_t kRunForm = 0;     // varints with run lengths
constexpr uint8_t kPackedForm = 1;  // fixed-width offsets from the column's minimum
// A float column's order byte.
constexpr uint8_t kDeltas = 0;  // the first value, then differences
constexpr uint8_t kValues = 1;  // the values themselves

uint64_t ZigZag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Wrapping arithmetic: decoding wraps back, so any int64 round-trips, and corrupt input
// cannot trap.
int64_t WrapSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
int64_t WrapAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}

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

// The greatest common divisor of the entries (readings scaled by 10^d often share one);
// 1 when they have none or one is INT64_MIN.
uint64_t ColumnGcd(const std::vector<int64_t>& v) {
  uint64_t g = 0;
  for (int64_t x : v) {
    if (x == INT64_MIN) return 1;
    g = Gcd(g, static_cast<uint64_t>(x < 0 ? -x : x));
  }
  return g == 0 ? 1 : g;
}

// Run form: each entry / gcd as a (zigzag << 1 | has_run) varint, a set low bit meaning
// "a varint count of further repeats follows". False when an entry / gcd is outside
// [-2^62, 2^62) (the run flag takes a bit: zigzag of 2^62 is 2^63, which the shift would
// lose); the packed form holds any entry.
bool PutRuns(std::string& out, const std::vector<int64_t>& v, uint64_t g) {
  const auto gi = static_cast<int64_t>(g);
  for (size_t i = 0; i < v.size();) {
    size_t j = i + 1;
    while (j < v.size() && v[j] == v[i]) ++j;
    const int64_t q = v[i] / gi;
    if (q >= (int64_t{1} << 62) || q < -(int64_t{1} << 62)) return false;
    const uint64_t z = ZigZag(q);
    if (j - i > 1) {
      PutVarint(out, (z << 1) | 1);
      PutVarint(out, j - i - 1);
    } else {
      PutVarint(out, z << 1);
    }
    i = j;
  }
  return true;
}

// Packed form: the minimum entry / gcd (zigzag varint), a bit width, then each
// (entry / gcd - minimum) in that many bits, least significant bit first.
void PutPacked(std::string& out, const std::vector<int64_t>& v, uint64_t g) {
  const auto gi = static_cast<int64_t>(g);
  int64_t lo = INT64_MAX, hi = INT64_MIN;
  for (int64_t x : v) lo = std::min(lo, x / gi), hi = std::max(hi, x / gi);
  const auto span = static_cast<uint64_t>(WrapSub(hi, lo));
  int width = 0;
  while (width < 64 && (span >> width) != 0) ++width;
  PutVarint(out, ZigZag(lo));
  out += static_cast<char>(width);
  uint64_t acc = 0;  // bits not yet written, low first
  int have = 0;
  for (int64_t x : v) {
    const auto off = static_cast<uint64_t>(WrapSub(x / gi, lo));
    acc |= off << have;
    const int room = 64 - have;
    if (width >= room) {  // acc is full: write it, keep what did not fit
      for (int b = 0; b < 8; ++b) out += static_cast<char>(acc >> (8 * b));
      acc = room < 64 ? off >> room : 0;
      have = width - room;
    } else {
      have += width;
    }
  }
  for (; have > 0; have -= 8, acc >>= 8) out += static_cast<char>(acc);
}

// A column of int64 entries: form, gcd, then the entries in the shorter form.
void PutColumn(std::string& out, const std::vector<int64_t>& v) {
  const uint64_t g = ColumnGcd(v);
  std::string runs, packed;
  const bool runs_ok = PutRuns(runs, v, g);
  PutPacked(packed, v, g);
  const bool use_runs = runs_ok && runs.size() <= packed.size();
  out += static_cast<char>(use_runs ? kRunForm : kPackedForm);
  PutVarint(out, g);
  out += use_runs ? runs : packed;
}

class In {
 public:
  explicit In(std::string_view b) : b_(b) {}
  Status Varint(uint64_t* v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) return Truncated();
      const auto c = static_cast<uint8_t>(b_[pos_++]);
      out |= static_cast<uint64_t>(c & 0x7f) << shift;
      if ((c & 0x80) == 0) {
        *v = out;
        return OkStatus();
      }
    }
    return InvalidArgument("chunk varint too long at byte " + std::to_string(pos_));
  }
  Status Byte(uint8_t* v) {
    if (pos_ >= b_.size()) return Truncated();
    *v = static_cast<uint8_t>(b_[pos_++]);
    return OkStatus();
  }
  Status Column(size_t n, std::vector<int64_t>* v) {
    v->clear();
    uint8_t form = 0;
    RETURN_IF_ERROR(Byte(&form));
    uint64_t g = 0;
    RETURN_IF_ERROR(Varint(&g));
    if (g == 0) return InvalidArgument("chunk column has a zero scale");
    if (form == kPackedForm) return Packed(n, g, v);
    if (form != kRunForm) return InvalidArgument("chunk column form " + std::to_string(form) + " is unknown");
    while (v->size() < n) {
      uint64_t x = 0;
      RETURN_IF_ERROR(Varint(&x));
      const auto value = static_cast<int64_t>(static_cast<uint64_t>(UnZigZag(x >> 1)) * g);
      uint64_t repeats = 0;
      if (x & 1) RETURN_IF_ERROR(Varint(&repeats));
      if (repeats >= n - v->size())
        return InvalidArgument("chunk column run of " + std::to_string(repeats + 1) + " overflows its " +
                               std::to_string(n) + " samples");
      v->insert(v->end(), repeats + 1, value);
    }
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
  Status Truncated() const { return InvalidArgument("chunk truncated at byte " + std::to_string(pos_)); }
  Status Packed(size_t n, uint64_t g, std::vector<int64_t>* v) {
    uint64_t z = 0;
    RETURN_IF_ERROR(Varint(&z));
    uint8_t width = 0;
    RETURN_IF_ERROR(Byte(&width));
    if (width > 64)
      return InvalidArgument("chunk column width " + std::to_string(width) + " exceeds 64 bits");
    const size_t bytes = (n * width + 7) / 8;
    if (b_.size() - pos_ < bytes) return Truncated();
    const int64_t lo = UnZigZag(z);
    v->reserve(n);
    const auto* p = reinterpret_cast<const uint8_t*>(b_.data() + pos_);
    const uint64_t mask = width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1;
    size_t bit = 0;
    for (size_t i = 0; i < n; ++i, bit += width) {
      uint64_t off = 0;  // gather the width bits starting at `bit`
      for (int got = 0; got < width;) {
        const size_t byte = (bit + static_cast<size_t>(got)) / 8;
        const int shift = static_cast<int>((bit + static_cast<size_t>(got)) % 8);
        const int take = std::min(8 - shift, width - got);
        off |= static_cast<uint64_t>((p[byte] >> shift) & ((1u << take) - 1)) << got;
        got += take;
      }
      v->push_back(
          static_cast<int64_t>(static_cast<uint64_t>(WrapAdd(lo, static_cast<int64_t>(off & mask))) * g));
    }
    pos_ += bytes;
    return OkStatus();
  }

  std::string_view b_;
  size_t pos_ = 0;
};

// Float columns. Decimal mode keeps round(v * 10^d) and decodes it as
// float(q / 10^d); a column takes the fewest digits at which every one of its values
// decodes to the same bits, and its bit patterns when no d up to kMaxDigits does.
constexpr double kMaxScaled = 9e15;  // llround stays exact below 2^53

float FromDecimal(int64_t q, int d) { return static_cast<float>(static_cast<double>(q) / kPow10[d]); }

uint32_t Bits(float f) {
  uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

bool DecimalHolds(float v, int d, int64_t* q) {
  const double scaled = static_cast<double>(v) * kPow10[d];
  if (!(std::fabs(scaled) <= kMaxScaled)) return false;
  *q = std::llround(scaled);
  return Bits(FromDecimal(*q, d)) == Bits(v);  // bit for bit: -0 is not +0
}

// Fills `out` with the column's entries (before differencing) and returns its mode.
uint8_t FloatEntries(const std::vector<float>& v, std::vector<int64_t>& out) {
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
  for (size_t i = 0; i < v.size(); ++i) out[i] = Bits(v[i]);
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

// [v0, v1, v2, ...] -> [v0, v1 - v0, v2 - v1, ...], in place.
void Delta(std::vector<int64_t>& v) {
  for (size_t i = v.size(); i-- > 1;) v[i] = WrapSub(v[i], v[i - 1]);
}
// The inverse, from index `first` on.
void Sum(std::vector<int64_t>& v, size_t first) {
  for (size_t i = first; i < v.size(); ++i) v[i] = WrapAdd(v[i], v[i - 1]);
}

// A float column: mode, order, then its entries as values or deltas, whichever is
// shorter (noise around a level packs tighter as values; a trend as deltas).
void PutFloatColumn(std::string& out, const std::vector<float>& v) {
  std::vector<int64_t> values;
  const uint8_t mode = FloatEntries(v, values);
  std::vector<int64_t> deltas = values;
  Delta(deltas);
  std::string as_values, as_deltas;
  PutColumn(as_values, values);
  PutColumn(as_deltas, deltas);
  const bool use_values = as_values.size() < as_deltas.size();
  out += static_cast<char>(mode);
  out += static_cast<char>(use_values ? kValues : kDeltas);
  out += use_values ? as_values : as_deltas;
}

// The float fields of a Sample, in chunk column order.
constexpr float Sample::*kFloatFields[] = {&Sample::util_pct, &Sample::mem_mib, &Sample::power_w,
                                           &Sample::sm_active, &Sample::gr_active};

}  // namespace

StatusOr<std::string> EncodeChunk(const std::vector<Sample>& samples) {
  if (samples.empty() || samples.size() > kMaxChunkSamples) {
    return InvalidArgument("a chunk holds 1 to " + std::to_string(kMaxChunkSamples) + " samples, not " +
                           std::to_string(samples.size()));
  }
  const size_t n = samples.size();
  std::vector<int64_t> t(n), energy(n);
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = samples[i];
    if (i > 0 && s.t <= samples[i - 1].t) {
      return InvalidArgument("chunk samples must be in increasing time order; " + FormatTime(s.t) +
                             " follows " + FormatTime(samples[i - 1].t));
    }
    for (auto field : kFloatFields) {
      if (!std::isfinite(s.*field))
        return InvalidArgument("sample at " + FormatTime(s.t) + " has a non-finite value");
    }
    t[i] = s.t;
    energy[i] = s.energy_mj;
  }
  // Time and the energy counter as delta of delta: [v0, d1, dd2, dd3, ...].
  for (auto* c : {&t, &energy}) {
    Delta(*c);
    for (size_t i = n; i-- > 2;) (*c)[i] = WrapSub((*c)[i], (*c)[i - 1]);
  }
  std::string out(kMagic, 4);
  PutVarint(out, n);
  PutColumn(out, t);
  PutColumn(out, energy);
  std::vector<float> column(n);
  for (auto field : kFloatFields) {
    for (size_t i = 0; i < n; ++i) column[i] = samples[i].*field;
    PutFloatColumn(out, column);
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
  const auto count = static_cast<size_t>(n);
  std::vector<int64_t> t, energy;
  RETURN_IF_ERROR(in.Column(count, &t));
  RETURN_IF_ERROR(in.Column(count, &energy));
  for (auto* c : {&t, &energy}) {
    Sum(*c, 2);  // [v0, d1, dd2, ...] -> [v0, d1, d2, ...]
    Sum(*c, 1);  // -> [v0, v1, v2, ...]
  }
  std::vector<Sample> out(count);
  for (size_t i = 0; i < count; ++i) {
    out[i].t = t[i];
    out[i].energy_mj = energy[i];
    if (i > 0 && out[i].t <= out[i - 1].t)
      return InvalidArgument("chunk timestamps do not increase (corrupt chunk)");
  }
  std::vector<int64_t> entries;
  for (auto field : kFloatFields) {
    uint8_t mode = 0, order = 0;
    RETURN_IF_ERROR(in.Byte(&mode));
    if (mode > kMaxDigits && mode != kBitsMode)
      return InvalidArgument("chunk column mode " + std::to_string(mode) + " is unknown");
    RETURN_IF_ERROR(in.Byte(&order));
    if (order != kDeltas && order != kValues)
      return InvalidArgument("chunk column order " + std::to_string(order) + " is unknown");
    RETURN_IF_ERROR(in.Column(count, &entries));
    if (order == kDeltas) Sum(entries, 1);
    for (size_t i = 0; i < count; ++i) {
      if (!FloatEntry(entries[i], mode, &(out[i].*field))) {
        return InvalidArgument("chunk sample " + std::to_string(i) +
                               " holds a value no encoder writes (corrupt chunk)");
      }
    }
  }
  if (!in.done()) return InvalidArgument("chunk has trailing bytes");
  return out;
}

}  // namespace gpuledger
