#include "ingest/results_csv.h"

#include <cmath>

#include "common/strings.h"
#include "ingest/csv.h"

namespace gpuledger {

namespace {
int FindAny(const CsvHeader& h, std::initializer_list<std::string_view> names) {
  for (auto n : names) {
    if (int c = h.Find(n); c >= 0) return c;
  }
  return -1;
}
bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
}  // namespace

StatusOr<std::vector<EpochProgress>> ParseResultsCsv(std::string_view text) {
  CsvReader reader(text);
  CsvRecord rec;
  ASSIGN_OR_RETURN(bool has, reader.Next(&rec));
  if (!has) return InvalidArgument("line 1: results.csv is empty");
  ASSIGN_OR_RETURN(CsvHeader h, CsvHeader::Create(rec, {}, {"epoch"}));
  const int c_epoch = h.Find("epoch");
  const int c_time = h.Find("time");
  const int c_p = FindAny(h, {"metrics/precision(B)", "metrics/precision"});
  const int c_r = FindAny(h, {"metrics/recall(B)", "metrics/recall"});
  const int c_m50 = FindAny(h, {"metrics/mAP50(B)", "metrics/mAP_0.5"});
  const int c_m5095 = FindAny(h, {"metrics/mAP50-95(B)", "metrics/mAP_0.5:0.95"});
  if (c_m50 < 0) {
    return InvalidArgument("line " + std::to_string(rec.line) +
                           ": no mAP@0.5 column (metrics/mAP50(B) or metrics/mAP_0.5)");
  }
  std::vector<int> train_loss, val_loss;
  for (size_t i = 0; i < h.names().size(); ++i) {
    const std::string& n = h.names()[i];
    if (StartsWith(n, "train/")) train_loss.push_back(static_cast<int>(i));
    if (StartsWith(n, "val/")) val_loss.push_back(static_cast<int>(i));
  }
  std::vector<EpochProgress> out;
  int first_epoch = -1;
  for (;;) {
    ASSIGN_OR_RETURN(has, reader.Next(&rec));
    if (!has) break;
    const std::string at = "line " + std::to_string(rec.line) + ": ";
    size_t fields = rec.fields.size();
    if (fields > 0 && Trim(rec.fields.back()).empty() && fields == h.size() + 1) --fields;
    if (fields != h.size()) {
      return InvalidArgument(at + "has " + std::to_string(fields) + " fields, the header has " +
                             std::to_string(h.size()));
    }
    auto num = [&](int col, std::string_view what) -> StatusOr<std::optional<double>> {
      if (col < 0) return std::optional<double>();
      std::string_view f = Field(rec, col);
      if (f.empty() || f == "nan" || f == "NaN") return std::optional<double>();
      auto v = ParseDouble(f, what);
      if (!v.ok()) return v.status().WithContext(at.substr(0, at.size() - 2));
      return std::optional<double>(*v);
    };
    EpochProgress e;
    ASSIGN_OR_RETURN(std::optional<double> ep, num(c_epoch, "epoch"));
    if (!ep || *ep < 0 || *ep > 100000 || std::floor(*ep) != *ep) {
      return InvalidArgument(at + "epoch '" + std::string(Field(rec, c_epoch)) +
                             "' is not a whole number in [0, 100000]");
    }
    if (first_epoch < 0) first_epoch = static_cast<int>(*ep);
    e.epoch = static_cast<int>(*ep) + (first_epoch == 0 ? 1 : 0);
    if (!out.empty() && e.epoch <= out.back().epoch) {
      return InvalidArgument(at + "epoch " + std::to_string(e.epoch) + " does not follow epoch " +
                             std::to_string(out.back().epoch));
    }
    ASSIGN_OR_RETURN(e.time_s, num(c_time, "time"));
    ASSIGN_OR_RETURN(e.precision, num(c_p, "precision"));
    ASSIGN_OR_RETURN(e.recall, num(c_r, "recall"));
    ASSIGN_OR_RETURN(e.map50, num(c_m50, "mAP50"));
    ASSIGN_OR_RETURN(e.map50_95, num(c_m5095, "mAP50-95"));
    for (auto* m : {&e.precision, &e.recall, &e.map50, &e.map50_95}) {
      if (m->has_value() && (**m < 0 || **m > 1)) {
        return InvalidArgument(at + "metric " + FormatFixed(**m, 5) + " is outside [0, 1]");
      }
    }
    for (auto [cols, dst] : {std::pair{&train_loss, &e.train_loss}, std::pair{&val_loss, &e.val_loss}}) {
      for (int c : *cols) {
        ASSIGN_OR_RETURN(std::optional<double> v, num(c, h.names()[static_cast<size_t>(c)]));
        if (v) *dst = dst->value_or(0) + *v;
      }
    }
    out.push_back(e);
  }
  return out;
}

}  // namespace gpuledger
