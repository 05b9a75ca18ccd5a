// ProtoWriter: a minimal protobuf wire-format writer, and remote write request builders
// on top of it. For tests, benchmarks and load generation (gpuledger itself only decodes).
// Header-only; thread-compatible.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gpuledger {

class ProtoWriter {
 public:
  ProtoWriter& Varint(uint32_t field, uint64_t v) { return Key(field, 0).Raw(v); }
  ProtoWriter& Double(uint32_t field, double v) {
    Key(field, 1);
    uint64_t bits = 0;
    std::memcpy(&bits, &v, sizeof bits);
    for (int i = 0; i < 8; ++i) out_ += static_cast<char>((bits >> (8 * i)) & 0xff);
    return *this;
  }
  ProtoWriter& Bytes(uint32_t field, std::string_view b) {
    Key(field, 2).Raw(b.size());
    out_ += b;
    return *this;
  }
  // A bare varint (for packed repeated fields).
  ProtoWriter& Raw(uint64_t v) {
    while (v >= 0x80) {
      out_ += static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    out_ += static_cast<char>(v);
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  ProtoWriter& Key(uint32_t field, uint32_t wt) { return Raw((uint64_t{field} << 3) | wt); }
  std::string out_;
};

using RwLabels = std::vector<std::pair<std::string, std::string>>;
using RwPoints = std::vector<std::pair<double, int64_t>>;  // (value, timestamp ms)

inline std::string RwSampleMessage(double v, int64_t t) {
  return ProtoWriter().Double(1, v).Varint(2, static_cast<uint64_t>(t)).str();
}

// A prometheus.TimeSeries message (1.0).
inline std::string RwSeriesV1(const RwLabels& labels, const RwPoints& points) {
  ProtoWriter ts;
  for (const auto& [k, v] : labels) ts.Bytes(1, ProtoWriter().Bytes(1, k).Bytes(2, v).str());
  for (const auto& [v, t] : points) ts.Bytes(2, RwSampleMessage(v, t));
  return ts.str();
}

inline std::string RwRequestV1(const std::vector<std::string>& series) {
  ProtoWriter req;
  for (const auto& s : series) req.Bytes(1, s);
  return req.str();
}

// An io.prometheus.write.v2.Request with its symbol table.
inline std::string RwRequestV2(const std::vector<std::pair<RwLabels, RwPoints>>& series) {
  std::vector<std::string> symbols = {""};
  std::map<std::string, uint64_t> index = {{"", 0}};
  auto ref = [&](const std::string& s) {
    auto [it, fresh] = index.emplace(s, symbols.size());
    if (fresh) symbols.push_back(s);
    return it->second;
  };
  std::vector<std::string> ts_msgs;
  for (const auto& [labels, points] : series) {
    ProtoWriter packed;
    for (const auto& [k, v] : labels) packed.Raw(ref(k)).Raw(ref(v));
    ProtoWriter ts;
    ts.Bytes(1, packed.str());
    for (const auto& [v, t] : points) ts.Bytes(2, RwSampleMessage(v, t));
    ts_msgs.push_back(ts.str());
  }
  ProtoWriter req;
  for (const auto& s : symbols) req.Bytes(4, s);
  for (const auto& s : ts_msgs) req.Bytes(5, s);
  return req.str();
}

}  // namespace gpuledger
