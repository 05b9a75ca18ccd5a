// CsvReader: RFC 4180 records (quoted fields, doubled quotes, CRLF or LF) from
// untrusted bytes, with the line number of every record for "file:line: what" errors.
// Pure; thread-compatible.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace gpuledger {

inline constexpr size_t kMaxCsvFieldBytes = 64 * 1024;
inline constexpr size_t kMaxCsvFields = 256;

struct CsvRecord {
  int64_t line = 0;  // 1-based line on which the record starts
  std::vector<std::string> fields;
};

class CsvReader {
 public:
  explicit CsvReader(std::string_view text) : text_(text) {}
  // Next record into *out; false at the end. Blank lines are skipped.
  StatusOr<bool> Next(CsvRecord* out);

 private:
  std::string_view text_;
  size_t pos_ = 0;
  int64_t line_ = 1;
};

// A header row turned into column lookups. Names are trimmed (Ultralytics pads them).
class CsvHeader {
 public:
  // `known` lists the accepted names; an unknown or repeated one is an error (typos in
  // a billing import should not pass silently). Empty `known`: accept any.
  static StatusOr<CsvHeader> Create(const CsvRecord& header, const std::vector<std::string>& known,
                                    const std::vector<std::string>& required);
  // Column index or -1.
  int Find(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::map<std::string, int, std::less<>> index_;
};

// The trimmed field at `col` of `rec`, or "" when col is -1 or past the end.
std::string_view Field(const CsvRecord& rec, int col);

}  // namespace gpuledger
