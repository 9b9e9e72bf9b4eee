// Package sqlite is the embedded journal of the POS engine: a pos.Journal
// on a SQLite file, through the pure-Go modernc.org/sqlite driver (no cgo,
// nothing to install), in WAL mode with synchronous=FULL so a committed
// change survives a crash or a power cut. The schema is kept by embedded,
// versioned migrations, each applied in its own transaction.
package sqlite
