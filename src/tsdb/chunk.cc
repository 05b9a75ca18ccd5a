#include "tsdb/chunk.h"

#include <climits>
#include <cmath>

namespace gpuledger {

namespace {

constexpr char kMagic[4] = {'G', 'L', 'C', '1'};

// Fixed-point scales per column; -1 ("not reported") round-trips exactly.
constexpr double kUtilScale = 1e3, kMemScale = 1e3, kPowerScale = 1e3, kSmScale = 1e6;

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

// Readings beyond +-9e12 (after scaling) are not GPU metrics; EncodeChunk refuses them.
constexpr double kMaxScaled = 9e15;
int64_t Fixed(double v, double scale) { return std::llround(v * scale); }
bool Representable(double v, double scale) { return std::isfinite(v) && std::fabs(v * scale) <= kMaxScaled; }

}  // namespace

StatusOr<std::string> EncodeChunk(const std::vector<Sample>& samples) {
  if (samples.empty() || samples.size() > kMaxChunkSamples) {
    return InvalidArgument("a chunk holds 1 to " + std::to_string(kMaxChunkSamples) + " samples, not " +
                           std::to_string(samples.size()));
  }
  const size_t n = samples.size();
  std::vector<int64_t> t(n), util(n), mem(n), power(n), energy(n), sm(n);
  for (size_t i = 0; i < n; ++i) {
    const Sample& s = samples[i];
    if (i > 0 && s.t <= samples[i - 1].t) {
      return InvalidArgument("chunk samples must be in increasing time order; " + FormatTime(s.t) +
                             " follows " + FormatTime(samples[i - 1].t));
    }
    if (!Representable(s.util_pct, kUtilScale) || !Representable(s.mem_mib, kMemScale) ||
        !Representable(s.power_w, kPowerScale) || !Representable(s.sm_active, kSmScale)) {
      return InvalidArgument("sample at " + FormatTime(s.t) +
                             " has a value a chunk cannot hold (non-finite or beyond 9e12)");
    }
    t[i] = s.t;
    util[i] = Fixed(s.util_pct, kUtilScale);
    mem[i] = Fixed(s.mem_mib, kMemScale);
    power[i] = Fixed(s.power_w, kPowerScale);
    energy[i] = s.energy_mj;
    sm[i] = Fixed(s.sm_active, kSmScale);
  }
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
  for (const auto* col : {&t, &util, &mem, &power, &energy, &sm}) RETURN_IF_ERROR(PutColumn(out, *col));
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
  std::vector<int64_t> cols[6];
  for (auto& c : cols) RETURN_IF_ERROR(in.Column(static_cast<size_t>(n), &c));
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
    s.util_pct = static_cast<float>(static_cast<double>(util[i]) / kUtilScale);
    s.mem_mib = static_cast<float>(static_cast<double>(mem[i]) / kMemScale);
    s.power_w = static_cast<float>(static_cast<double>(power[i]) / kPowerScale);
    s.energy_mj = energy[i];
    s.sm_active = static_cast<float>(static_cast<double>(sm[i]) / kSmScale);
    if (i > 0 && s.t <= out[i - 1].t)
      return InvalidArgument("chunk timestamps do not increase (corrupt chunk)");
  }
  return out;
}

}  // namespace gpuledger
