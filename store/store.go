package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Store is obmin's durable state: drops taken, the goods ledger, receipts seen, pull cursors and job runs.
// It is one SQLite file in WAL mode, safe for concurrent use by several goroutines. Every method is its own
// transaction, committed with synchronous=FULL, so what a method reported as done survives a kill -9 or a
// power cut.
//
// The file must live on a local disk: WAL needs shared memory, which network filesystems do not provide
// (docs/reliability.md §9). Keep it away from the BAS share.
type Store struct {
	db *sql.DB
	// writer holds the one write slot of this process. SQLite allows one writer at a time; queueing here
	// hands the slot over at once, where waiting in SQLite's busy handler polls with sleeps of up to
	// 100 ms. busy_timeout still covers writers in other processes (the CLI beside the agent).
	writer chan struct{}
	now    func() time.Time // default time stamps; tests replace it
	jobCap int              // job runs the history keeps

	stmtMu sync.Mutex
	stmts  map[string]*sql.Stmt // the look-ups a drop makes once per good, prepared once
}

// ErrNotFound is returned by methods that change an existing record (SetDropState, UpdateReceipt)
// when there is no record with that key.
var ErrNotFound = errors.New("no such record")

// ErrDuplicateNumber is returned when a receipt would take a BAS Номер another receipt already has. BAS
// keys orders on Номер (docs/bas-orders.md, «How BAS loads the file»), so a reused number would overwrite another sale there.
var ErrDuplicateNumber = errors.New("receipt number already used by another receipt")

// timeLayout is RFC 3339 with a fixed nine-digit fraction. time.RFC3339Nano drops trailing zeros,
// which breaks text ordering ("…:05Z" sorts after "…:05.5Z"); a fixed width keeps ORDER BY and range
// queries on the text columns in time order. Values are always UTC, so the zone is always "Z".
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// migrations are applied in order, forward only; PRAGMA user_version holds how many have been
// applied. Never edit a released entry: append a new one.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE drops (
	id          TEXT PRIMARY KEY,
	fingerprint TEXT NOT NULL,
	source      TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL,
	error       TEXT NOT NULL DEFAULT '',
	files       INTEGER NOT NULL DEFAULT 0,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE INDEX drops_by_fingerprint ON drops (fingerprint);
CREATE INDEX drops_by_created ON drops (created_at, id);

CREATE TABLE goods (
	code           TEXT PRIMARY KEY,
	bas_id         TEXT NOT NULL DEFAULT '',
	article        TEXT NOT NULL DEFAULT '',
	name           TEXT NOT NULL DEFAULT '',
	unit_code      TEXT NOT NULL DEFAULT '',
	unit_name      TEXT NOT NULL DEFAULT '',
	unit_full_name TEXT NOT NULL DEFAULT '',
	unit_intl      TEXT NOT NULL DEFAULT '',
	deleted        INTEGER NOT NULL DEFAULT 0,
	checkbox_id    TEXT NOT NULL DEFAULT '',
	pushed_hash    TEXT NOT NULL DEFAULT '',
	pushed_price   INTEGER NOT NULL DEFAULT 0,
	pushed_payload TEXT NOT NULL DEFAULT '',
	pushed_stock   INTEGER,
	stock_hash     TEXT NOT NULL DEFAULT '',
	updated_at     TEXT NOT NULL DEFAULT '',
	pushed_at      TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX goods_by_bas_id ON goods (bas_id, updated_at);

CREATE TABLE receipts (
	id           TEXT PRIMARY KEY,
	register_id  TEXT NOT NULL DEFAULT '',
	type         TEXT NOT NULL DEFAULT '',
	status       TEXT NOT NULL DEFAULT '',
	number       TEXT NOT NULL DEFAULT '',
	sold_at      TEXT NOT NULL DEFAULT '',
	total_sum    INTEGER NOT NULL DEFAULT 0,
	state        TEXT NOT NULL,
	reason       TEXT NOT NULL DEFAULT '',
	raw          TEXT,
	document     TEXT,
	first_seen   TEXT NOT NULL,
	confirmed_at TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX receipts_by_number ON receipts (number) WHERE number <> '';
CREATE INDEX receipts_by_state ON receipts (state, sold_at, id);
CREATE INDEX receipts_by_confirmed ON receipts (state, confirmed_at);

CREATE TABLE cursors (
	register_id TEXT PRIMARY KEY,
	until       TEXT NOT NULL
);

CREATE TABLE job_last (
	name     TEXT PRIMARY KEY,
	start_at TEXT NOT NULL,
	end_at   TEXT NOT NULL,
	error    TEXT NOT NULL DEFAULT '',
	summary  TEXT NOT NULL DEFAULT ''
);

CREATE TABLE job_history (
	id       INTEGER PRIMARY KEY,
	name     TEXT NOT NULL,
	start_at TEXT NOT NULL,
	end_at   TEXT NOT NULL,
	error    TEXT NOT NULL DEFAULT '',
	summary  TEXT NOT NULL DEFAULT ''
);
`,
	// 2: the orders file's lifetime and numbers (orders.go): when a receipt's document went into
	// the file, BAS's observed exchange runs, the order numbers taken per year.
	`
ALTER TABLE receipts ADD COLUMN in_file_at TEXT NOT NULL DEFAULT '';
CREATE INDEX receipts_by_in_file ON receipts (state, in_file_at);

CREATE TABLE bas_runs (
	id            INTEGER PRIMARY KEY,
	folder        TEXT NOT NULL,
	started_after TEXT NOT NULL,
	seen_at       TEXT NOT NULL
);
CREATE INDEX bas_runs_by_start ON bas_runs (started_after);

CREATE TABLE order_numbers (
	year INTEGER PRIMARY KEY,
	last INTEGER NOT NULL
);
`,
	// 3: where each good comes from (BAS, or a marketplace feed by name, with the feed's own key for it);
	// codes goods had before (a good's code changes in place, and sales under the old code still map);
	// what the export folders look like to the watcher (waiting drops, unreadable folders).
	`
ALTER TABLE goods ADD COLUMN source TEXT NOT NULL DEFAULT '';
ALTER TABLE goods ADD COLUMN source_key TEXT NOT NULL DEFAULT '';
CREATE INDEX goods_by_source ON goods (source, source_key);

CREATE TABLE good_aliases (
	code       TEXT PRIMARY KEY,
	current    TEXT NOT NULL,
	retired_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX good_aliases_by_current ON good_aliases (current);

CREATE TABLE watch_waiting (
	folder  TEXT PRIMARY KEY,
	since   TEXT NOT NULL,
	reason  TEXT NOT NULL,
	files   INTEGER NOT NULL DEFAULT 0,
	give_up TEXT NOT NULL DEFAULT ''
);

CREATE TABLE watch_problems (
	key      TEXT PRIMARY KEY,
	path     TEXT NOT NULL,
	error    TEXT NOT NULL,
	since    TEXT NOT NULL
);

CREATE TABLE watch_scans (
	source  TEXT PRIMARY KEY,
	at      TEXT NOT NULL
);
`,
	// 4: notifications' record of what they told (notices.go).
	noticesSchema,
	// 5: reconciliation: the orders BAS's own export showed, the goods Checkbox listed (reconcile.go).
	reconcileSchema,
	// 6: BAS's retail sales reports, one per Checkbox shift (reports.go).
	reportsSchema,
	// 7: goods whose Checkbox stock sales may have moved since obmin last set it, found in the receipts
	// (stock.go); how far the receipts were looked at, and when every good's stock was last compared.
	`
CREATE TABLE stock_moved (
	code TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE marks (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
}

// Open opens (creating it and its folder when missing) the state database at path and brings its
// schema up to date. A database written by a newer obmin is refused rather than guessed at.
func Open(ctx context.Context, path string) (*Store, error) {
	dsn, err := dataSourceName(path)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	if network, kind := onNetwork(filepath.Dir(path)); network {
		return nil, fmt.Errorf("open state %s: the state file must be on a local disk, not a network share (%s): SQLite's locks do not hold there", path, kind)
	}
	if err := makePrivate(path); err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	// The pool lets readers run beside the one writer WAL allows; ForEachGood and friends may call other
	// methods from their callbacks, which a single-connection pool would deadlock on.
	db.SetMaxIdleConns(4)
	s := &Store{db: db, writer: make(chan struct{}, 1), now: time.Now, jobCap: jobHistoryCap, stmts: map[string]*sql.Stmt{}}
	if err := s.migrateRetrying(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open state %s: %w", path, err)
	}
	return s, nil
}

// migrateRetrying is migrate, tried again while SQLite answers SQLITE_BUSY. Turning a brand-new file into
// WAL mode (https://www.sqlite.org/pragma.html#pragma_journal_mode) can refuse a second opener at once,
// without waiting out busy_timeout; four openers of a fresh file failed about one time in a hundred.
// The wait is bounded like busy_timeout's.
func (s *Store) migrateRetrying(ctx context.Context) error {
	const bound = 10 * time.Second
	deadline := time.Now().Add(bound)
	pause := 5 * time.Millisecond
	for {
		err := s.migrate(ctx)
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		pause = min(2*pause, 200*time.Millisecond)
	}
}

// isBusy reports SQLITE_BUSY, with any extended code.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// dataSourceName builds the modernc.org/sqlite data source name. The path is passed as a plain file name, not
// a "file:" URI, so Windows paths and characters such as '%' or '#' need no escaping; the query part
// carries the settings, which the driver applies to every new pooled connection (pragmas are per
// connection, docs/reliability.md §9):
//   - busy_timeout: wait for the write lock instead of failing with SQLITE_BUSY;
//   - journal_mode WAL: readers never block the writer, and a crash leaves the committed state intact;
//   - synchronous FULL: a commit is on disk when it returns, even after a power cut;
//   - foreign_keys: enforce references should a later schema add any;
//   - _txlock=immediate: every transaction takes the write lock at BEGIN, so two writers queue on the busy
//     timeout instead of one failing when it upgrades a read lock.
func dataSourceName(path string) (string, error) {
	if path == "" {
		return "", errors.New("open state: empty path")
	}
	if strings.ContainsRune(path, '?') {
		// The driver splits the name from its settings at the first '?'.
		return "", fmt.Errorf("open state %s: the path must not contain '?'", path)
	}
	if networkVolume(filepath.VolumeName(path)) {
		return "", fmt.Errorf("open state %s: the state file must be on a local disk, not a network share", path)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode(), nil
}

// networkVolume reports whether a volume name (filepath.VolumeName) is a Windows UNC share such as
// \\server\share. Local device paths (\\?\C:, \\.\C:) are fine. Mapped drive letters cannot be told apart
// here; the documentation of Store says to keep the file local.
func networkVolume(vol string) bool {
	v := strings.ReplaceAll(vol, "/", `\`)
	if !strings.HasPrefix(v, `\\`) {
		return false
	}
	if rest, ok := strings.CutPrefix(v, `\\?\`); ok {
		return strings.HasPrefix(strings.ToUpper(rest), `UNC\`)
	}
	return !strings.HasPrefix(v, `\\.\`)
}

// migrate applies the pending migrations in one transaction. The version is read inside the transaction
// (which holds the write lock from BEGIN), so two processes opening a fresh file at once migrate it once.
func (s *Store) migrate(ctx context.Context) error {
	return s.tx(ctx, "migrate", func(tx *sql.Tx) error {
		var version int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if version > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this obmin knows (%d): use a newer obmin", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
				return fmt.Errorf("schema version %d: %w", i+1, err)
			}
		}
		if version == len(migrations) {
			return nil
		}
		// PRAGMA takes no bound parameters; the value is an int we control.
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
			return fmt.Errorf("set schema version: %w", err)
		}
		return nil
	})
}

// prepared is query prepared once for the pool: parsing it costs more than running it.
func (s *Store) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.stmts[query] = st
	return st, nil
}

// Close closes the database. The last connection to close checkpoints the WAL into the main file.
func (s *Store) Close() error {
	s.stmtMu.Lock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = map[string]*sql.Stmt{}
	s.stmtMu.Unlock()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close state: %w", err)
	}
	return nil
}

// tx runs fn in a write transaction and commits it; any error rolls it back. what names the operation
// in the returned error.
func (s *Store) tx(ctx context.Context, what string, fn func(*sql.Tx) error) error {
	select {
	case s.writer <- struct{}{}:
		defer func() { <-s.writer }()
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("%s: %w", what, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, err)
	}
	return nil
}

// stamp returns t, or the current time when t is zero.
func (s *Store) stamp(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}

// formatTime formats t for a text column; the zero time is stored as "" (unset).
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

// parseTime reads a text column written by formatTime.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("stored time %q: %w", s, err)
	}
	return t.UTC(), nil
}

// timeParser parses the stored times of one row, keeping the first error so a scan reads straight.
type timeParser struct{ err error }

func (p *timeParser) get(s string) time.Time {
	t, err := parseTime(s)
	if err != nil && p.err == nil {
		p.err = err
	}
	return t
}

// textOrNull turns a JSON payload into a TEXT value; nil stays NULL.
func textOrNull(b []byte) any {
	if b == nil {
		return nil
	}
	return string(b)
}

// isUnique reports whether err is a UNIQUE constraint violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

// rowScanner is what *sql.Row and *sql.Rows have in common.
type rowScanner interface {
	Scan(dest ...any) error
}
