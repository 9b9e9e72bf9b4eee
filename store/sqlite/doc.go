// Package sqlite is the embedded journal of the POS engine: a pos.Journal
// on a SQLite file, through the pure-Go modernc.org/sqlite driver (no cgo,
// nothing to install), in WAL mode with synchronous=FULL so a committed
// change survives a crash or a power cut. The schema is kept by embedded,
// versioned migrations, each applied in its own transaction.
//
// Writes go through one connection; reads through a few read-only ones
// beside it, which in WAL mode never wait for the writer. Concurrent Saves
// share a transaction and its fsync (group commit, committer), each
// change under a savepoint of its own, so a failing change fails alone and
// every change is answered only once its commit is durable. The hot
// statements of Save and Sale are prepared once per connection.
package sqlite
