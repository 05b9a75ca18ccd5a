// Thin RAII wrappers over sqlite3 and sqlite3_stmt: the only place outside
// sqlite_ledger.cc that touches the SQLite C API. Not thread-safe.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"

namespace gpuledger::sqlite {

class Stmt {
 public:
  Stmt(sqlite3* db, sqlite3_stmt* s) : db_(db), s_(s, &sqlite3_finalize) {}
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_.get(), i, v);
    return *this;
  }
  Stmt& Bind(int i, int v) {
    sqlite3_bind_int64(s_.get(), i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_.get(), i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_.get(), i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_.get(), i);
    return *this;
  }
  // Returns true while a row is available; a Status on error.
  StatusOr<bool> Step();
  Status Run();  // Step to completion, then reset for reuse.
  void Reset() {
    sqlite3_reset(s_.get());
    sqlite3_clear_bindings(s_.get());
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_.get(), col); }
  double Double(int col) const { return sqlite3_column_double(s_.get(), col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_.get(), col) == SQLITE_NULL; }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_.get(), col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(s_.get(), col)))
             : std::string();
  }

 private:
  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> s_;
};

class Db {
 public:
  static StatusOr<std::unique_ptr<Db>> Open(const std::string& path);
  explicit Db(sqlite3* db) : db_(db, &sqlite3_close) {}  // takes ownership; use Open
  Status Exec(std::string_view sql);
  StatusOr<Stmt> Prepare(std::string_view sql);
  sqlite3* raw() const { return db_.get(); }
  std::string Error() const { return sqlite3_errmsg(db_.get()); }

 private:
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_;
};

// Commits on Commit(), rolls back otherwise.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction() {
    if (open_) (void)db_.Exec("ROLLBACK");
  }
  Status Begin() {
    RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
    open_ = true;
    return OkStatus();
  }
  Status Commit() {
    open_ = false;
    return db_.Exec("COMMIT");
  }

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace gpuledger::sqlite
