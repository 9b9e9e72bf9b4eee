package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/centrapos/centrapos/pos"
	"github.com/centrapos/centrapos/store/internal/query"
	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Journal is a pos.Journal in a SQLite database.
type Journal struct {
	db    *sql.DB // the one writer, also for reads inside a write
	rdb   *sql.DB // readers
	stmts *statements
	saves *committer // Save's group commit, on db
}

var (
	_ pos.Journal   = (*Journal)(nil)
	_ pos.Terminals = (*Journal)(nil)
)

// Open opens (creating it if needed) the journal at path and brings its
// schema up to date.
func Open(ctx context.Context, path string) (*Journal, error) {
	if path == "" {
		return nil, errors.New("sqlite: a journal path is required")
	}
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	// the path is escaped: a '#' or '?' in it would end the URI's path
	dsn := func() string { return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode() }
	db, err := sql.Open("sqlite", dsn())
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises writes anyway
	j := &Journal{db: db}
	if err := j.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// readers beside the writer: in WAL mode a read sees every committed
	// write and never waits for the writer, so polls and the till's reads
	// do not queue behind an fsync
	q.Add("_pragma", "query_only(1)")
	rdb, err := sql.Open("sqlite", dsn())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	rdb.SetMaxOpenConns(readers)
	rdb.SetMaxIdleConns(readers)
	j.rdb = rdb
	if j.stmts, err = prepare(ctx, db, rdb); err != nil {
		rdb.Close()
		db.Close()
		return nil, err
	}
	j.saves = newCommitter(db, j.stmts)
	return j, nil
}

// readers is how many connections read at once.
const readers = 4

// Close answers the Saves under way, then closes the database.
func (j *Journal) Close() error {
	j.saves.close()
	return errors.Join(j.stmts.close(), j.rdb.Close(), j.db.Close())
}

// migrate applies, in order and each in a transaction, the migrations not
// yet recorded in schema_migrations.
func (j *Journal) migrate(ctx context.Context) error {
	if _, err := j.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("sqlite: migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("sqlite: migration %s: name must start with its version number", base)
		}
		if err := j.apply(ctx, v, name); err != nil {
			return err
		}
	}
	return nil
}

func (j *Journal) apply(ctx context.Context, version int, name string) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return fmt.Errorf("sqlite: migration %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, version, time.Now().UnixMilli()); err != nil {
		return err
	}
	return tx.Commit()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// msOrNull is t in unix milliseconds, NULL for the zero time.
func msOrNull(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func saleColumns(s *pos.Sale) (prID, shortCode any, final int, data []byte, err error) {
	if s.PaymentRequest != nil {
		prID, shortCode = s.PaymentRequest.ID, s.PaymentRequest.ShortCode
	}
	if s.Status.Final() {
		final = 1
	}
	data, err = json.Marshal(s)
	return
}

// Save writes one step of the protocol, all or nothing, and returns once
// it is durable. Concurrent Saves share a transaction and its commit
// (committer); each change keeps its own outcome.
func (j *Journal) Save(ctx context.Context, c *pos.Change) error { return j.saves.save(ctx, c) }

// inTx runs fn in a transaction, committed when fn succeeds.
func (j *Journal) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// uniqueViolation names the index a UNIQUE failure broke, or "".
func uniqueViolation(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	i := strings.Index(msg, "UNIQUE constraint failed: ")
	if i < 0 {
		return ""
	}
	return msg[i+len("UNIQUE constraint failed: "):]
}

func (w *txWriter) InsertSale(ctx context.Context, s *pos.Sale) error {
	prID, code, final, data, err := saleColumns(s)
	if err != nil {
		return err
	}
	_, err = w.stmt(ctx, w.s.insertSale).ExecContext(ctx, s.ID, s.TerminalID, s.ExternalRef, prID, code, s.Status, final, ms(s.CreatedAt), s.Version, data)
	switch v := uniqueViolation(err); {
	case strings.Contains(v, "external_ref"):
		return pos.ErrOpenExternalRef
	case v != "":
		return pos.ErrDuplicate
	case err != nil:
		return fmt.Errorf("sqlite: create sale %s: %w", s.ID, err)
	}
	return nil
}

func (w *txWriter) UpdateSale(ctx context.Context, s *pos.Sale) error {
	prID, code, final, data, err := saleColumns(s)
	if err != nil {
		return err
	}
	res, err := w.stmt(ctx, w.s.updateSale).ExecContext(ctx, prID, code, s.Status, final, s.Version, data, s.ID)
	if err != nil {
		return fmt.Errorf("sqlite: save sale %s: %w", s.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return pos.ErrNotFound
	}
	return nil
}

func (w *txWriter) Event(ctx context.Context, s *pos.Sale, note string) error {
	_, err := w.stmt(ctx, w.s.event).ExecContext(ctx, s.ID, ms(s.UpdatedAt), s.Status, note)
	if err != nil {
		return fmt.Errorf("sqlite: sale %s event: %w", s.ID, err)
	}
	return nil
}

func (w *txWriter) SaveOp(ctx context.Context, op *pos.Op) error {
	data, err := json.Marshal(op)
	if err != nil {
		return err
	}
	_, err = w.stmt(ctx, w.s.saveOp).ExecContext(ctx, op.ID, op.SaleID, op.PaymentRequestID, op.Kind, op.State, op.TerminalID, ms(op.CreatedAt), msOrNull(op.CompletedAt), data)
	if err != nil {
		return fmt.Errorf("sqlite: save op %s: %w", op.ID, err)
	}
	return nil
}

func (w *txWriter) InsertKey(ctx context.Context, k *pos.KeyedRequest) error {
	_, err := w.stmt(ctx, w.s.insertKey).ExecContext(ctx, k.TerminalID, k.Key, k.RequestHash, nullable(k.SaleID), nullable(k.OpID), ms(k.CreatedAt))
	if uniqueViolation(err) != "" {
		return pos.ErrKeyUsed
	}
	if err != nil {
		return fmt.Errorf("sqlite: record key: %w", err)
	}
	return nil
}

// nullable is NULL for "".
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanJSON decodes the "data" column of every row into a new T.
func scanJSON[T any](rows *sql.Rows, err error) ([]*T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*T
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			return nil, err
		}
		v := new(T)
		if err := json.Unmarshal(data, v); err != nil {
			return nil, fmt.Errorf("sqlite: decode %T: %w", v, err)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func scanSales(rows *sql.Rows, err error) ([]*pos.Sale, error) { return scanJSON[pos.Sale](rows, err) }

func scanOps(rows *sql.Rows, err error) ([]*pos.Op, error) { return scanJSON[pos.Op](rows, err) }

// Sale returns one sale.
func (j *Journal) Sale(ctx context.Context, id string) (*pos.Sale, error) {
	return query.First(scanSales(j.stmts.sale.QueryContext(ctx, id)))
}

// FindSale returns the newest sale matching q.
func (j *Journal) FindSale(ctx context.Context, q pos.SaleQuery) (*pos.Sale, error) {
	col, v, err := query.SaleColumn(q)
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return query.First(scanSales(j.rdb.QueryContext(ctx, `SELECT data FROM sales WHERE `+col+` = ? ORDER BY created_at DESC, rowid DESC LIMIT 1`, v)))
}

// Sales lists sales, newest first.
func (j *Journal) Sales(ctx context.Context, f pos.SaleFilter) ([]*pos.Sale, error) {
	w, orderLimit := query.Sales(query.SQLite, f)
	return scanSales(j.rdb.QueryContext(ctx, `SELECT data FROM sales`+w.String()+orderLimit, w.Args...))
}

// History returns a sale's state changes, oldest first.
func (j *Journal) History(ctx context.Context, saleID string) ([]pos.Event, error) {
	rows, err := j.rdb.QueryContext(ctx, `SELECT at, status, note FROM sale_events WHERE sale_id = ? ORDER BY seq`, saleID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []pos.Event
	for rows.Next() {
		var at int64
		var e pos.Event
		if err := rows.Scan(&at, &e.Status, &e.Note); err != nil {
			return nil, err
		}
		e.At = time.UnixMilli(at).UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// Op returns one op.
func (j *Journal) Op(ctx context.Context, id string) (*pos.Op, error) {
	return query.First(scanOps(j.rdb.QueryContext(ctx, `SELECT data FROM ops WHERE id = ?`, id)))
}

// Ops lists ops, oldest first.
func (j *Journal) Ops(ctx context.Context, f pos.OpFilter) ([]*pos.Op, error) {
	w := query.Ops(query.SQLite, f)
	return scanOps(j.rdb.QueryContext(ctx, `SELECT data FROM ops`+w.String()+` ORDER BY created_at, rowid`, w.Args...))
}

// KnownRequest reports whether a sale or a create holds request id.
func (j *Journal) KnownRequest(ctx context.Context, id string) (bool, error) {
	var n int
	err := j.rdb.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sales WHERE pr_id = ?) + (SELECT count(*) FROM ops WHERE pr_id = ? AND kind = 'create')`, id, id).Scan(&n)
	return n > 0, err
}
