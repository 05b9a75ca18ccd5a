#include "ingest/remote_write.h"

#include <gtest/gtest.h>
#include <snappy.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "ingest/dcgm.h"
#include "ingest/proto_writer.h"

namespace gpuledger {
namespace {

using Proto = ProtoWriter;
using Labels = RwLabels;

std::string SampleMsg(double v, int64_t t) { return RwSampleMessage(v, t); }
std::string SeriesV1(const Labels& labels, const RwPoints& samples) { return RwSeriesV1(labels, samples); }
std::string RequestV1(const std::vector<std::string>& series) { return RwRequestV1(series); }
std::string RequestV2(const std::vector<std::pair<Labels, RwPoints>>& series) { return RwRequestV2(series); }

const Labels kUtil = {
    {"Hostname", "n1"}, {"UUID", "GPU-1"}, {"__name__", "DCGM_FI_DEV_GPU_UTIL"}, {"gpu", "0"}};
const Labels kFb = {{"UUID", "GPU-1"}, {"__name__", "DCGM_FI_DEV_FB_USED"}, {"gpu", "0"}};

TEST(RemoteWriteV1, DecodesSeriesIntoGpuSamples) {
  const std::string body = RequestV1(
      {SeriesV1(kUtil, {{87, 1790812800000}, {90, 1790812810000}}), SeriesV1(kFb, {{7270, 1790812800000}})});
  auto batch = DecodeRemoteWriteV1(body);
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  EXPECT_EQ(batch->series.size(), 2u);
  ASSERT_EQ(batch->samples, 3);
  auto gpu = SamplesFromDcgm(batch->series);
  ASSERT_TRUE(gpu.ok()) << gpu.status().ToString();
  ASSERT_EQ(gpu->samples.size(), 2u);
  EXPECT_FLOAT_EQ(gpu->samples[0].sample.util_pct, 87);
  EXPECT_FLOAT_EQ(gpu->samples[0].sample.mem_mib, 7270);
  EXPECT_EQ(gpu->samples[1].sample.t, 1790812810000);
}

TEST(RemoteWriteV1, RejectsBadSeriesNamingThem) {
  struct Case {
    Labels labels;
    const char* message;
  } cases[] = {
      {{{"b", "1"}, {"a", "2"}, {"__name__", "x"}}, "label names not sorted and unique ('b' then 'a')"},
      {{{"__name__", "x"}, {"a", "1"}, {"a", "2"}}, "label names not sorted and unique ('a' then 'a')"},
      {{{"a", "1"}}, "no __name__ label"},
      {{{"", "1"}, {"__name__", "x"}}, "empty label name"},
  };
  for (const Case& c : cases) {
    auto r = DecodeRemoteWriteV1(RequestV1({SeriesV1(c.labels, {{1, 1790812800000}})}));
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
  auto empty = DecodeRemoteWriteV1(RequestV1({SeriesV1(kUtil, {})}));
  EXPECT_NE(empty.status().message().find("no samples"), std::string::npos);
  auto truncated = DecodeRemoteWriteV1(RequestV1({SeriesV1(kUtil, {{1, 1}})}).substr(0, 20));
  EXPECT_NE(truncated.status().message().find("protobuf at byte"), std::string::npos)
      << truncated.status().message();
}

TEST(RemoteWriteV1, ASeriesCacheChangesNothingButTheWork) {
  Labels pod = kUtil;
  pod.emplace_back("pod", "train-7");  // sorted: "pod" after "modelName"
  std::sort(pod.begin(), pod.end());
  const std::string req =
      RwRequestV1({SeriesV1(pod, {{87, 1790812800000}}), SeriesV1(kFb, {{7270, 1790812800000}})});
  SeriesCache cache;
  auto plain = SamplesFromDcgm(DecodeRemoteWriteV1(req)->series);
  ASSERT_TRUE(plain.ok());
  for (int round = 0; round < 2; ++round) {  // the first fills the cache, the second reads it
    auto batch = DecodeRemoteWriteV1(req, &cache);
    ASSERT_TRUE(batch.ok()) << batch.status().ToString();
    EXPECT_EQ(batch->series[0].dcgm != nullptr, round == 1);
    auto got = SamplesFromDcgm(batch->series);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got->samples.size(), plain->samples.size());
    EXPECT_FLOAT_EQ(got->samples[0].sample.util_pct, 87);
    EXPECT_FLOAT_EQ(got->samples[0].sample.mem_mib, 7270);
    EXPECT_EQ(got->gpus[0].ToGpu().index, plain->gpus[0].ToGpu().index);
    EXPECT_EQ(got->Workload(), plain->Workload());
  }
  EXPECT_EQ(cache.size(), 2u);
  // A bad series never enters the cache: it is refused every time.
  Labels unsorted = kFb;
  std::swap(unsorted[0], unsorted[1]);
  for (int round = 0; round < 2; ++round) {
    EXPECT_FALSE(DecodeRemoteWriteV1(RwRequestV1({SeriesV1(unsorted, {{1, 1790812800000}})}), &cache).ok());
  }
  EXPECT_EQ(cache.size(), 2u);
  // The same labels with a sample between them (not one contiguous run) are parsed, not cached.
  ProtoWriter split;
  split.Bytes(1, ProtoWriter().Bytes(1, "UUID").Bytes(2, "GPU-9").str());
  split.Bytes(2, RwSampleMessage(5, 1790812800000));
  split.Bytes(1, ProtoWriter().Bytes(1, "__name__").Bytes(2, "DCGM_FI_DEV_GPU_UTIL").str());
  auto odd = DecodeRemoteWriteV1(RwRequestV1({split.str()}), &cache);
  ASSERT_TRUE(odd.ok()) << odd.status().ToString();
  EXPECT_EQ(odd->series[0].dcgm, nullptr);
  EXPECT_EQ(cache.size(), 2u);
}

TEST(RemoteWriteV1, StaleMarkersAreDroppedAndCounted) {
  double stale;
  const uint64_t bits = 0x7ff0000000000002ULL;
  std::memcpy(&stale, &bits, sizeof stale);
  auto r = DecodeRemoteWriteV1(RequestV1({SeriesV1(kUtil, {{50, 1790812800000}, {stale, 1790812810000}})}));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->samples, 1);
  EXPECT_EQ(r->stale_markers, 1);
}

TEST(RemoteWriteV2, DecodesInternedSymbols) {
  auto r = DecodeRemoteWriteV2(RequestV2({{kUtil, {{87, 1790812800000}}}, {kFb, {{7270, 1790812800000}}}}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->series.size(), 2u);
  EXPECT_EQ(r->series[0].name, "DCGM_FI_DEV_GPU_UTIL");
  EXPECT_EQ(r->series[0].labels[1], (std::pair<std::string_view, std::string_view>{"UUID", "GPU-1"}));
  EXPECT_EQ(r->series[1].points[0].second, 7270);
}

TEST(RemoteWriteV2, RejectsBrokenSymbolTables) {
  // A 1.0 body sent as 2.0: field 1 is reserved there.
  auto v1 = DecodeRemoteWriteV2(RequestV1({SeriesV1(kUtil, {{1, 1790812800000}})}));
  EXPECT_NE(v1.status().message().find("reserved in io.prometheus.write.v2.Request"), std::string::npos);
  Proto no_empty_first;
  no_empty_first.Bytes(4, "x").Bytes(
      5, Proto().Bytes(1, std::string("\x00\x00", 2)).Bytes(2, SampleMsg(1, 1)).str());
  EXPECT_NE(
      DecodeRemoteWriteV2(no_empty_first.str()).status().message().find("must start with the empty string"),
      std::string::npos);
  Proto out_of_range;
  out_of_range.Bytes(4, "")
      .Bytes(4, "__name__")
      .Bytes(5, Proto().Bytes(1, "\x01\x07").Bytes(2, SampleMsg(1, 1)).str());
  EXPECT_NE(DecodeRemoteWriteV2(out_of_range.str())
                .status()
                .message()
                .find("label reference 7 is past the symbols"),
            std::string::npos);
  Proto odd;
  odd.Bytes(4, "").Bytes(4, "__name__").Bytes(5, Proto().Bytes(1, "\x01").Bytes(2, SampleMsg(1, 1)).str());
  EXPECT_NE(DecodeRemoteWriteV2(odd.str()).status().message().find("odd number (1)"), std::string::npos);
}

TEST(RemoteWriteV1, A2Point0BodyUnderThe1Point0TypeIsRefusedNotReadAsEmpty) {
  // Its symbols (4) and timeseries (5) are unknown to 1.0: skipping them acknowledged
  // nothing as success.
  auto r = DecodeRemoteWriteV1(RequestV2({{kUtil, {{87, 1790812800000}}}}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("field 4 is not in prometheus.WriteRequest: is this a 2.0"),
            std::string::npos)
      << r.status().message();
}

TEST(RemoteWriteV1, KnownFieldsOfTheWrongWireTypeAreRefusedByName) {
  struct Case {
    std::string body;
    const char* message;
  } cases[] = {
      {Proto().Varint(1, 7).str(), "WriteRequest.timeseries (field 1) has wire type 0 (varint), expected 2"},
      {Proto().Double(3, 1).str(), "WriteRequest.metadata (field 3) has wire type 1 (64-bit), expected 2"},
      {RequestV1({Proto().Varint(1, 3).str()}), "TimeSeries.labels (field 1) has wire type 0 (varint)"},
      {RequestV1({Proto().Double(2, 3).str()}), "TimeSeries.samples (field 2) has wire type 1 (64-bit)"},
      {RequestV1({Proto().Varint(4, 3).str()}), "TimeSeries.histograms (field 4) has wire type 0"},
      {RequestV1({Proto().Bytes(2, Proto().Varint(1, 5).str()).str()}),
       "Sample.value (field 1) has wire type 0 (varint), expected 1 (64-bit)"},
      {RequestV1({Proto().Bytes(2, Proto().Double(1, 5).Double(2, 5).str()).str()}),
       "Sample.timestamp (field 2) has wire type 1 (64-bit), expected 0 (varint)"},
      {RequestV1({Proto().Bytes(1, Proto().Varint(1, 5).str()).Bytes(2, SampleMsg(1, 1)).str()}),
       "Label.name (field 1) has wire type 0"},
  };
  for (const Case& c : cases) {
    auto r = DecodeRemoteWriteV1(c.body);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
  // Unknown fields stay skippable (a newer sender), and an empty request stays empty.
  auto newer =
      DecodeRemoteWriteV1(Proto().Bytes(1, SeriesV1(kUtil, {{1, 1790812800000}})).Varint(9, 1).str());
  ASSERT_TRUE(newer.ok()) << newer.status().ToString();
  EXPECT_EQ(newer->samples, 1);
  EXPECT_TRUE(DecodeRemoteWriteV1("").ok());
}

TEST(RemoteWriteV2, KnownFieldsOfTheWrongWireTypeAreRefusedByName) {
  struct Case {
    std::string body;
    const char* message;
  } cases[] = {
      {Proto().Varint(4, 1).str(), "Request.symbols (field 4) has wire type 0 (varint), expected 2"},
      {Proto().Bytes(4, "").Double(5, 1).str(), "Request.timeseries (field 5) has wire type 1 (64-bit)"},
      {Proto().Bytes(4, "").Bytes(5, Proto().Double(1, 1).str()).str(), "TimeSeries.labels_refs (field 1)"},
      {Proto().Bytes(4, "").Bytes(5, Proto().Varint(2, 1).str()).str(),
       "TimeSeries.samples (field 2) has wire type 0"},
      {Proto().Bytes(4, "").Bytes(5, Proto().Bytes(6, "x").str()).str(),
       "TimeSeries.created_timestamp (field 6) has wire type 2 (length-delimited), expected 0"},
  };
  for (const Case& c : cases) {
    auto r = DecodeRemoteWriteV2(c.body);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
  }
}

TEST(SnappyUncompress, LimitsAndCorruption) {
  const std::string body = RequestV1({SeriesV1(kUtil, {{87, 1790812800000}})});
  std::string compressed;
  snappy::Compress(body.data(), body.size(), &compressed);
  EXPECT_EQ(*SnappyUncompress(compressed), body);
  auto big = SnappyUncompress(compressed, 10);
  EXPECT_NE(big.status().message().find("over the limit 10 bytes"), std::string::npos)
      << big.status().message();
  EXPECT_FALSE(SnappyUncompress("\xff\xff\xff\xff\xff\xff garbage").ok());
  std::string corrupt = compressed;
  corrupt[corrupt.size() / 2] = static_cast<char>(corrupt[corrupt.size() / 2] ^ 0x5a);
  corrupt.resize(corrupt.size() - 3);
  EXPECT_FALSE(SnappyUncompress(corrupt).ok());
}

TEST(RemoteWriteRealData, ScrapeSentAsRemoteWriteMatchesTheTextPath) {
  std::ifstream in(std::string(GPULEDGER_SOURCE_DIR) +
                   "/../shared/realdata/artifacts/dcgm/lke_rtx4000ada_dcgm_metrics_with_pod_labels.prom");
  std::stringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) GTEST_SKIP() << "no ../shared/realdata (a fresh clone has none)";
  auto text = ParsePromText(ss.str());
  ASSERT_TRUE(text.ok());
  // What Prometheus would send after scraping it: labels sorted, __name__ added.
  std::vector<std::string> series;
  for (const PromSample& p : *text) {
    Labels labels = p.labels;
    labels.erase(std::remove_if(labels.begin(), labels.end(), [](const auto& l) { return l.second.empty(); }),
                 labels.end());
    labels.emplace_back("__name__", p.name);
    std::sort(labels.begin(), labels.end());
    series.push_back(SeriesV1(labels, {{p.value, 1790812800000}}));
  }
  std::string compressed;
  const std::string body = RequestV1(series);
  snappy::Compress(body.data(), body.size(), &compressed);
  auto batch = DecodeRemoteWriteV1(*SnappyUncompress(compressed));
  ASSERT_TRUE(batch.ok()) << batch.status().ToString();
  auto via_rw = SamplesFromDcgm(batch->series);
  auto via_text = SamplesFromDcgm(*text, 1790812800000);
  ASSERT_TRUE(via_rw.ok() && via_text.ok());
  ASSERT_EQ(via_rw->samples.size(), 1u);
  const Sample &a = via_rw->samples[0].sample, &b = via_text->samples[0].sample;
  EXPECT_EQ(a.t, b.t);
  EXPECT_FLOAT_EQ(a.util_pct, b.util_pct);
  EXPECT_FLOAT_EQ(a.power_w, b.power_w);
  EXPECT_EQ(a.energy_mj, b.energy_mj);
  EXPECT_EQ(via_rw->Workload(), via_text->Workload());
}

}  // namespace
}  // namespace gpuledger
