// Thin RAII wrappers over sqlite3 and sqlite3_stmt: the only place outside
// sqlite_ledger.cc that touches the SQLite C API. Db keeps prepared statements for reuse
// (parsing SQL cost more than running it on the ingest path): a Stmt hands its statement
// back, reset, when it goes away. Not thread-safe.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"

namespace gpuledger::sqlite {

class Db;

class Stmt {
 public:
  // `pool`: the Db to hand the statement back to (null: finalised when done).
  Stmt(sqlite3* db, sqlite3_stmt* s, Db* pool) : db_(db), s_(s), pool_(pool) {}
  ~Stmt();
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), pool_(o.pool_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&&) = delete;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt& Bind(int i, int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, int v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, double v) {
    sqlite3_bind_double(s_, i, v);
    return *this;
  }
  Stmt& Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindBlob(int i, std::string_view v) {
    sqlite3_bind_blob(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& BindNull(int i) {
    sqlite3_bind_null(s_, i);
    return *this;
  }
  // Returns true while a row is available; a Status on error.
  StatusOr<bool> Step();
  Status Run();  // Step to completion, then reset for reuse.
  void Reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
  }
  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Double(int col) const { return sqlite3_column_double(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  // Valid until the next Step or Reset.
  std::string_view Blob(int col) const {
    const void* b = sqlite3_column_blob(s_, col);
    return b ? std::string_view(static_cast<const char*>(b),
                                static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string_view();
  }
  std::string Text(int col) const {
    const unsigned char* t = sqlite3_column_text(s_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(s_, col)))
             : std::string();
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_;
  Db* pool_;
};

class Db {
 public:
  static StatusOr<std::unique_ptr<Db>> Open(const std::string& path);
  explicit Db(sqlite3* db) : db_(db, &sqlite3_close) {}  // takes ownership; use Open
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  // Runs one or more statements (no results); parsed each time: for DDL and migrations.
  Status Exec(std::string_view sql);
  // One statement, reused from earlier calls with the same text when one is idle.
  StatusOr<Stmt> Prepare(std::string_view sql);
  sqlite3* raw() const { return db_.get(); }
  std::string Error() const { return sqlite3_errmsg(db_.get()); }

 private:
  friend class Stmt;
  friend class Transaction;
  int tx_depth_ = 0;        // open Transactions on this connection (the outermost one is real)
  bool tx_doomed_ = false;  // an inner one ended without Commit: the outermost must roll back
  void GiveBack(sqlite3_stmt* s);
  std::unique_ptr<sqlite3, int (*)(sqlite3*)> db_;
  std::unordered_map<std::string, std::vector<sqlite3_stmt*>> idle_;  // by SQL text
};

// Commits on Commit(), rolls back otherwise. Transactions nest: an inner one joins the
// outermost (its Begin and Commit do nothing), so a unit of work made of several writes
// commits or rolls back as one. An inner one that ends without Commit dooms the whole:
// the outermost's Commit then rolls back and fails, even if the failure was swallowed.
class Transaction {
 public:
  explicit Transaction(Db& db) : db_(db) {}
  ~Transaction() {
    if (!open_) return;
    if (--db_.tx_depth_ == 0) {
      (void)db_.Exec("ROLLBACK");
      db_.tx_doomed_ = false;
    } else {
      db_.tx_doomed_ = true;
    }
  }
  Status Begin() {
    if (db_.tx_depth_ == 0) {
      ASSIGN_OR_RETURN(Stmt begin, db_.Prepare("BEGIN IMMEDIATE"));
      RETURN_IF_ERROR(begin.Run());
      db_.tx_doomed_ = false;
    }
    ++db_.tx_depth_;
    open_ = true;
    return OkStatus();
  }
  // Ends a transaction that wrote nothing (a check refused the write): an inner one
  // leaves the outermost as it was, the outermost rolls back.
  void Release() {
    if (!open_) return;
    open_ = false;
    if (--db_.tx_depth_ == 0) (void)db_.Exec("ROLLBACK");
  }
  Status Commit() {
    if (!open_) return Internal("Commit of a transaction that is not open");
    open_ = false;
    if (--db_.tx_depth_ > 0) return OkStatus();
    if (db_.tx_doomed_) {
      db_.tx_doomed_ = false;
      (void)db_.Exec("ROLLBACK");
      return Internal("a write inside this transaction failed: all of it was rolled back");
    }
    ASSIGN_OR_RETURN(Stmt commit, db_.Prepare("COMMIT"));
    return commit.Run();
  }

 private:
  Db& db_;
  bool open_ = false;
};

}  // namespace gpuledger::sqlite
