// Test helper: RFC 4180 CSV read strictly (a malformed file fails the test), columns by
// name, and money read back from its exact decimal text.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "common/money.h"

namespace gpuledger::testing {

using Table = std::vector<std::vector<std::string>>;

// RFC 4180, strictly: quoted fields may hold commas, quotes and line breaks; every record
// ends with "\n". Fails the test on anything else.
inline Table ParseCsv(const std::string& text) {
  Table rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, in_quotes = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        in_quotes = false;
      } else {
        field += c;
      }
      continue;
    }
    if (c == '"') {
      EXPECT_TRUE(field.empty() && !quoted) << "stray quote at byte " << i;
      in_quotes = quoted = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      quoted = false;
    } else if (c == '\n') {
      row.push_back(std::move(field));
      field.clear();
      quoted = false;
      rows.push_back(std::move(row));
      row.clear();
    } else {
      EXPECT_FALSE(quoted) << "text after a closing quote at byte " << i;
      field += c;
    }
  }
  EXPECT_FALSE(in_quotes) << "unterminated quote";
  EXPECT_TRUE(row.empty() && field.empty()) << "last record has no line end";
  return rows;
}

// Header -> column index; every record as wide as the header.
inline std::map<std::string, size_t> Columns(const Table& t) {
  std::map<std::string, size_t> idx;
  EXPECT_FALSE(t.empty());
  if (t.empty()) return idx;
  for (size_t i = 0; i < t[0].size(); ++i) idx[t[0][i]] = i;
  EXPECT_EQ(idx.size(), t[0].size()) << "a column name repeats";
  for (size_t r = 1; r < t.size(); ++r) EXPECT_EQ(t[r].size(), t[0].size()) << "record " << r;
  return idx;
}

inline int64_t Micros(const std::string& s) {
  auto m = ParseMicros(s, "amount");
  EXPECT_TRUE(m.ok()) << s;
  return m.ok() ? *m : 0;
}

}  // namespace gpuledger::testing
