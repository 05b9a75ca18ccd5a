#include "ingest/csv.h"

#include <algorithm>

#include "common/strings.h"

namespace gpuledger {

StatusOr<bool> CsvReader::Next(CsvRecord* out) {
  for (;;) {
    if (pos_ >= text_.size()) return false;
    out->fields.clear();
    out->line = line_;
    std::string field;
    bool quoted = false, was_quoted = false, any = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (quoted) {
        if (c == '"') {
          if (pos_ < text_.size() && text_[pos_] == '"') {
            field += '"';
            ++pos_;
          } else {
            quoted = false;
          }
        } else {
          if (c == '\n') ++line_;
          field += c;
        }
      } else if (c == '"' && Trim(field).empty() && !was_quoted) {
        quoted = was_quoted = true;
        field.clear();
      } else if (c == ',') {
        out->fields.push_back(std::move(field));
        field.clear();
        was_quoted = false;
        any = true;
      } else if (c == '\n' || c == '\r') {
        if (c == '\r' && pos_ < text_.size() && text_[pos_] == '\n') ++pos_;
        ++line_;
        break;
      } else {
        field += c;
        any = any || c != ' ';
      }
      if (field.size() > kMaxCsvFieldBytes) {
        return InvalidArgument("line " + std::to_string(out->line) + ": field longer than " +
                               std::to_string(kMaxCsvFieldBytes) + " bytes");
      }
      if (out->fields.size() > kMaxCsvFields) {
        return InvalidArgument("line " + std::to_string(out->line) + ": more than " +
                               std::to_string(kMaxCsvFields) + " fields");
      }
    }
    if (quoted) return InvalidArgument("line " + std::to_string(out->line) + ": unterminated quoted field");
    if (!any && !was_quoted && Trim(field).empty() && out->fields.empty()) continue;  // blank line
    out->fields.push_back(std::move(field));
    return true;
  }
}

StatusOr<CsvHeader> CsvHeader::Create(const CsvRecord& header, const std::vector<std::string>& known,
                                      const std::vector<std::string>& required) {
  CsvHeader h;
  for (size_t i = 0; i < header.fields.size(); ++i) {
    std::string name(Trim(header.fields[i]));
    if (name.empty() && i + 1 == header.fields.size()) break;  // trailing comma
    if (!known.empty() && std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + k;
      return InvalidArgument("line " + std::to_string(header.line) + ": unknown column '" + name +
                             "'; expected some of: " + list);
    }
    if (!h.index_.emplace(name, static_cast<int>(i)).second) {
      return InvalidArgument("line " + std::to_string(header.line) + ": column '" + name + "' appears twice");
    }
    h.names_.push_back(name);
  }
  for (const auto& r : required) {
    if (h.Find(r) < 0) {
      return InvalidArgument("line " + std::to_string(header.line) + ": required column '" + r +
                             "' is missing");
    }
  }
  return h;
}

int CsvHeader::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? -1 : it->second;
}

std::string_view Field(const CsvRecord& rec, int col) {
  if (col < 0 || static_cast<size_t>(col) >= rec.fields.size()) return {};
  return Trim(rec.fields[static_cast<size_t>(col)]);
}

}  // namespace gpuledger
