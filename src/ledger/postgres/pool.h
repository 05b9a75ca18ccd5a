// The PostgreSQL Ledger the rest of gpuledger sees (OpenPostgresLedger): a small pool of
// connections, each with its own single-connection PostgresLedger, so that a read on one
// connection does not wait behind a long write (the ingest journal's flush) on another.
//
// Each call borrows an idle connection for its duration (waiting while all are busy;
// connections are opened as needed, up to PostgresOptions::connections). InTransaction
// pins one connection to the calling thread until its unit of work ends, so the calls
// the work makes join its transaction.
//
// PostgreSQL restarts, crashes and dropped connections: every connection reconnects
// before its next statement outside a transaction (pg.h), no sooner than the pool's shared
// Reachability backoff allows; meanwhile calls fail at once with Unavailable (503), none
// waits for the database to return.
//
// Retries. A call that failed because its connection broke is run once more, on a new
// connection, when it sent nothing that could have committed (pg::Conn::SafeToRetrySince):
// its reads, and a Put* (one transaction) that never reached COMMIT, which PostgreSQL
// rolled back with the connection. Not re-run here:
//  - a call whose COMMIT (or a write outside a transaction) was in flight when the
//    connection broke: its outcome is unknown. The caller gets Unavailable and re-sends
//    later; what is re-sent is idempotent (samples are upserted on (GPU, time) with
//    field-wise merging, allocations on (GPU, start, job), sightings widen a span, books
//    and minutes are replaced whole), so a batch that did commit is not counted twice.
//  - InTransaction's units: the work is the caller's code, which may have acted on what
//    it read; the caller answers 503 and its client retries.
// A callback (ScanSamples) is only called once the query has answered in full, so a
// retried scan never calls it twice for one sample.
//
// Thread-safe: mu_ guards which slots are leased or open, which thread has pinned which
// slot, and the retry count (GL_GUARDED_BY, checked by clang's -Wthread-safety); each
// slot's connection and ledger are used only by the one thread that leased it.
#pragma once

#include <memory>
#include <string>

#include "ledger/ledger.h"
#include "ledger/postgres/pg.h"

namespace gpuledger::pg {

// The pool (pool.cc); its first connection is opened and migrated at once.
StatusOr<std::unique_ptr<Ledger>> OpenPool(const std::string& url, const PostgresOptions& options);

// One connection's ledger (postgres_ledger.cc), `conn` borrowed; migrates first if asked.
// Not thread-safe.
StatusOr<std::unique_ptr<Ledger>> OpenConnectionLedger(Conn& conn, bool migrate);

}  // namespace gpuledger::pg
