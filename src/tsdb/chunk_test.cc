#include "tsdb/chunk.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>

#include "common/tz.h"
#include "sim/simulator.h"

namespace gpuledger {
namespace {

std::vector<Sample> SimDay(DurationMs interval) {
  SimOptions o;
  o.seed = 3;
  o.sample_interval_ms = interval;
  o.a10g_nodes = 1;
  o.a100_nodes = 0;
  o.gpus_per_node = 1;
  auto c = SimulateCluster(o, TimeZone::Utc());
  std::vector<Sample> all = SimulateSamples(*c, 0);
  all.resize(static_cast<size_t>(kDayMs / interval));
  return all;
}

uint32_t Bits(float f) {
  uint32_t u = 0;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

void ExpectSame(const std::vector<Sample>& out, const std::vector<Sample>& in) {
  ASSERT_EQ(out.size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].t, in[i].t);
    EXPECT_EQ(out[i].energy_mj, in[i].energy_mj);
    EXPECT_EQ(Bits(out[i].util_pct), Bits(in[i].util_pct)) << i;
    EXPECT_EQ(Bits(out[i].mem_mib), Bits(in[i].mem_mib)) << i;
    EXPECT_EQ(Bits(out[i].power_w), Bits(in[i].power_w)) << i;
    EXPECT_EQ(Bits(out[i].sm_active), Bits(in[i].sm_active)) << i;
    EXPECT_EQ(Bits(out[i].gr_active), Bits(in[i].gr_active)) << i;
  }
}

TEST(Chunk, RoundTripsASimulatedDayBitForBit) {
  const std::vector<Sample> in = SimDay(10 * kSecondMs);
  auto bytes = EncodeChunk(in);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto out = DecodeChunk(*bytes);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ExpectSame(*out, in);
  // Regular timestamps and slowly moving values compress well: well under 8 bytes for a
  // sample of five metrics (a size property of the format, not a speed).
  EXPECT_LT(static_cast<double>(bytes->size()) / static_cast<double>(in.size()), 8.0);
}

// Integer readings cost what integers cost; a column with a value no decimal of up to 9
// digits gives back exactly falls back to bit patterns, and still round-trips.
TEST(Chunk, FloatColumnsAreExactInEitherMode) {
  std::vector<Sample> s(200);
  for (size_t i = 0; i < s.size(); ++i) {
    s[i].t = 1000 * static_cast<TimeMs>(i + 1);
    s[i].util_pct = static_cast<float>(i % 100);
    s[i].mem_mib = 7270;
    s[i].power_w = 231.25F + static_cast<float>(i);
    s[i].energy_mj = static_cast<int64_t>(i) * 1000;
    s[i].sm_active = -1;
  }
  auto decimal = EncodeChunk(s);
  ASSERT_TRUE(decimal.ok()) << decimal.status().ToString();
  ExpectSame(*DecodeChunk(*decimal), s);
  s[7].power_w = 1.0F / 3.0F;  // no short decimal
  s[8].mem_mib = -0.0F;        // a decimal gives +0 back: bits it is
  s[9].sm_active = 1e-30F;
  s[10].gr_active = 0.873F;
  auto bits = EncodeChunk(s);
  ASSERT_TRUE(bits.ok()) << bits.status().ToString();
  ExpectSame(*DecodeChunk(*bits), s);
  EXPECT_LT(decimal->size(), bits->size());
  EXPECT_LT(decimal->size(), s.size() * 4);  // about 2 bytes per util step, the rest runs
}

TEST(Chunk, RejectsDisorderAndCorruption) {
  std::vector<Sample> s(3);
  s[0].t = 1000, s[1].t = 3000, s[2].t = 2000;
  EXPECT_FALSE(EncodeChunk(s).ok());
  EXPECT_FALSE(EncodeChunk({}).ok());
  s[2].t = 4000;
  auto bytes = EncodeChunk(s);
  ASSERT_TRUE(bytes.ok());
  EXPECT_FALSE(DecodeChunk(bytes->substr(0, bytes->size() - 1)).ok());
  EXPECT_FALSE(DecodeChunk(*bytes + "x").ok());
  EXPECT_FALSE(DecodeChunk("GLC0" + bytes->substr(4)).ok());
  EXPECT_FALSE(DecodeChunk("").ok());
}

// Found by fuzz_chunk when entries were varints with a run flag: an entry past +-2^62
// lost its top bit and came back as another number. Such a column is now packed at full
// width, so every int64 comes back; only non-finite readings are refused.
TEST(Chunk, RegressionEntriesBeyond2To62RoundTrip) {
  std::vector<Sample> s(3);
  s[0].t = 1000;
  s[1].t = 2000;
  s[2].t = 3000;
  s[0].energy_mj = 6'000'000'000'000'000'000;
  s[1].energy_mj = INT64_MIN;
  s[2].energy_mj = INT64_MAX;
  auto bytes = EncodeChunk(s);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ExpectSame(*DecodeChunk(*bytes), s);
  s[1].util_pct = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(EncodeChunk(s).ok());
}

// Found by a 10-minute fuzz_chunk campaign (2026-12-07): an entry of exactly 2^62 (here
// the counter's first value) passed the run form's bound, and its zigzag (2^63) lost its
// top bit to the run flag: the counter came back 2^62 lower, silently. The bound is
// now [-2^62, 2^62); both edges and their neighbours round-trip, alone and as deltas.
TEST(Chunk, RegressionAnEntryOfExactly2To62RoundTrips) {
  constexpr int64_t k62 = int64_t{1} << 62;
  for (const int64_t first : {k62, k62 - 1, -k62, -k62 - 1, k62 + 1}) {
    std::vector<Sample> s(3);
    for (int i = 0; i < 3; ++i) s[static_cast<size_t>(i)].t = 1000 * (i + 1);
    // [first, 1, 0] as delta of delta: a gcd of 1, so the entry itself is first.
    s[0].energy_mj = first;
    s[1].energy_mj = first + 1;
    s[2].energy_mj = first + 2;
    auto bytes = EncodeChunk(s);
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    auto back = DecodeChunk(*bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    ExpectSame(*back, s);
  }
}

// Noise around a level (a busy GPU's power to the milliwatt, activity ratios to 6
// decimals) is stored as fixed-width offsets, tighter than varint deltas.
TEST(Chunk, NoisyColumnsArePackedToTheirBitWidth) {
  std::vector<Sample> s(360);
  uint64_t h = 1;
  for (size_t i = 0; i < s.size(); ++i) {
    h = h * 6364136223846793005ULL + 1442695040888963407ULL;
    s[i].t = 10'000 * static_cast<TimeMs>(i);
    s[i].util_pct = 99;
    s[i].mem_mib = 18000;
    s[i].power_w = static_cast<float>(250.0 + static_cast<double>((h >> 20) % 100000) / 1000.0);  // as parsed
    s[i].energy_mj = 0;
    s[i].gr_active = -1;
  }
  auto bytes = EncodeChunk(s);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  ExpectSame(*DecodeChunk(*bytes), s);
  // Varint deltas would take 3 bytes a sample; 17 bits packed is 2.125.
  EXPECT_LT(bytes->size(), s.size() * 22 / 10 + 40);
}

}  // namespace
}  // namespace gpuledger
