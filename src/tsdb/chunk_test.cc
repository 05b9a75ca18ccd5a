#include "tsdb/chunk.h"

#include <gtest/gtest.h>

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

TEST(Chunk, RoundTripsASimulatedDayWithinItsPrecision) {
  const std::vector<Sample> in = SimDay(10 * kSecondMs);
  auto bytes = EncodeChunk(in);
  ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
  auto out = DecodeChunk(*bytes);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_EQ(out->size(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ((*out)[i].t, in[i].t);
    EXPECT_EQ((*out)[i].energy_mj, in[i].energy_mj);
    EXPECT_NEAR((*out)[i].util_pct, in[i].util_pct, 1e-3);
    EXPECT_NEAR((*out)[i].mem_mib, in[i].mem_mib, 1e-3);
    EXPECT_NEAR((*out)[i].power_w, in[i].power_w, 2e-3);
    EXPECT_FLOAT_EQ((*out)[i].sm_active, in[i].sm_active);  // -1: not reported
  }
  // Regular timestamps and slowly moving values compress well: well under 8 bytes for a
  // sample of five metrics (a size property of the format, not a speed).
  EXPECT_LT(static_cast<double>(bytes->size()) / static_cast<double>(in.size()), 8.0);
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

// Found by fuzz_chunk: an entry past +-2^62 lost its top bit to the run flag and came
// back as another number. Such values are refused instead.
TEST(Chunk, RegressionEntriesBeyond2To62AreRefusedNotCorrupted) {
  std::vector<Sample> s(2);
  s[0].t = 1000;
  s[1].t = 2000;
  s[0].energy_mj = 6'000'000'000'000'000'000;
  auto bytes = EncodeChunk(s);
  ASSERT_FALSE(bytes.ok());
  EXPECT_NE(bytes.status().message().find("exceeds +-2^62"), std::string::npos) << bytes.status().message();
  s[0].energy_mj = 4'000'000'000'000'000'000;  // just inside: exact
  auto ok = EncodeChunk(s);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(DecodeChunk(*ok)->at(0).energy_mj, 4'000'000'000'000'000'000);
  s[1].util_pct = std::numeric_limits<float>::infinity();
  EXPECT_FALSE(EncodeChunk(s).ok());
}

}  // namespace
}  // namespace gpuledger
