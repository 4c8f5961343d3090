package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// Stage is one drop's scratch space: the goods its files describe, its offers, the codes it claims and
// what obmin plans to send, kept in a private temporary SQLite database instead of in memory, so that a
// catalogue of 300,000 goods is handled in the same memory as one of 300 (docs/performance.md). Nothing in
// it outlives the drop: SQLite deletes a temporary database when it is closed and never leaves one behind
// a killed process, and a drop begun again is read again from its files. So it is written without a
// journal and without fsync, in transactions of many rows.
//
// The data of each row is opaque to the Stage: the caller encodes it. A Stage is safe for concurrent use;
// it works on one connection, one call at a time.
type Stage struct {
	mu       sync.Mutex
	db       *sql.DB
	conn     *sql.Conn
	stmts    map[string]*sql.Stmt
	writes   int                    // since the last commit
	pending  map[string]*stageBatch // rows to insert, by statement: one statement inserts many
	lastPlan int64                  // the id of the last plan added
}

// stageBatch is rows waiting to be inserted by one multi-row INSERT: a statement per row costs more than
// the row itself.
type stageBatch struct {
	columns, rows int
	args          []any
}

// stageBatchRows is how many rows one INSERT carries.
const stageBatchRows = 100

// stageCommitEvery is how many writes share a transaction: commits are what a temporary database costs.
const stageCommitEvery = 5000

// stageChunk is how many rows a walk reads at once: the walk calls back after the rows are read, so the
// callback may use the Stage, and memory holds a chunk, not the table.
const stageChunk = 500

const stageSchema = `
CREATE TABLE goods (
	id      INTEGER PRIMARY KEY,
	key     TEXT NOT NULL UNIQUE,
	product TEXT NOT NULL DEFAULT '',
	source  TEXT NOT NULL DEFAULT '',
	line    INTEGER NOT NULL DEFAULT 0,
	code    TEXT NOT NULL DEFAULT '',
	grp     TEXT NOT NULL DEFAULT '',
	variant INTEGER NOT NULL DEFAULT 0,
	data    BLOB NOT NULL
);
CREATE INDEX goods_by_product ON goods (product) WHERE product <> '';
CREATE INDEX goods_by_code ON goods (code, key) WHERE source = '';
CREATE INDEX goods_by_feed ON goods (source, line, key) WHERE source <> '';
CREATE INDEX goods_by_feed_code ON goods (source, code) WHERE source <> '';
CREATE TABLE offers (id INTEGER PRIMARY KEY, key TEXT NOT NULL, data BLOB NOT NULL);
CREATE INDEX offers_by_key ON offers (key, id);
CREATE TABLE claims (code TEXT PRIMARY KEY, who TEXT NOT NULL, bas INTEGER NOT NULL);
CREATE TABLE plans (id INTEGER PRIMARY KEY, code TEXT NOT NULL, kind INTEGER NOT NULL, stock INTEGER, data BLOB NOT NULL);
CREATE INDEX plans_by_code ON plans (code);
CREATE INDEX plans_by_kind ON plans (kind, id);
`

// OpenStage creates an empty stage. Close it when the drop is done.
func OpenStage(ctx context.Context) (*Stage, error) {
	// An empty file name is SQLite's private temporary database; one connection is the whole of it.
	db, err := sql.Open("sqlite", "")
	if err != nil {
		return nil, fmt.Errorf("open stage: %w", err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open stage: %w", err)
	}
	s := &Stage{db: db, conn: conn, stmts: map[string]*sql.Stmt{}, pending: map[string]*stageBatch{}}
	// 8 MiB of page cache: the tables spill to the temporary file beyond it (the walks read in order).
	if _, err := conn.ExecContext(ctx, `PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -8192;`+stageSchema+`BEGIN`); err != nil {
		s.Close()
		return nil, fmt.Errorf("open stage: %w", err)
	}
	return s, nil
}

// Close drops the stage and everything in it.
func (s *Stage) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	var errs []error
	if s.conn != nil {
		errs = append(errs, s.conn.Close())
		s.conn = nil
	}
	errs = append(errs, s.db.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close stage: %w", err)
	}
	return nil
}

// stmt is the prepared statement for query; callers hold mu.
func (s *Stage) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.conn.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	s.stmts[query] = st
	return st, nil
}

// exec runs a write; callers hold mu.
func (s *Stage) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	st, err := s.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	if s.writes++; s.writes >= stageCommitEvery {
		s.writes = 0
		if _, err := s.conn.ExecContext(ctx, `COMMIT; BEGIN`); err != nil {
			return nil, fmt.Errorf("stage: commit: %w", err)
		}
	}
	return res, nil
}

// insert queues a row for insert, a statement such as "INSERT INTO t (a, b) VALUES"; callers hold mu.
func (s *Stage) insert(ctx context.Context, insert string, args ...any) error {
	b := s.pending[insert]
	if b == nil {
		b = &stageBatch{columns: len(args)}
		s.pending[insert] = b
	}
	b.args = append(b.args, args...)
	if b.rows++; b.rows >= stageBatchRows {
		return s.flushOne(ctx, insert, b)
	}
	return nil
}

func (s *Stage) flushOne(ctx context.Context, insert string, b *stageBatch) error {
	if b.rows == 0 {
		return nil
	}
	row := "(" + placeholders(b.columns) + ")"
	q := insert + " " + strings.TrimSuffix(strings.Repeat(row+", ", b.rows), ", ")
	_, err := s.exec(ctx, q, b.args...)
	b.rows, b.args = 0, b.args[:0]
	return err
}

// flush inserts the queued rows; every read and update does it first. Callers hold mu.
func (s *Stage) flush(ctx context.Context) error {
	for insert, b := range s.pending {
		if err := s.flushOne(ctx, insert, b); err != nil {
			return err
		}
	}
	return nil
}

// query reads rows with scan, one call per row; callers hold mu. The rows are read to the end before it
// returns.
func (s *Stage) query(ctx context.Context, scan func(*sql.Rows) error, query string, args ...any) error {
	if err := s.flush(ctx); err != nil {
		return err
	}
	st, err := s.stmt(ctx, query)
	if err != nil {
		return err
	}
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return fmt.Errorf("stage: %w", err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	return nil
}

// StagedGood is one good of a drop as the caller staged it: keyed by BAS's Ид (or a feed's own key),
// with the fields the Stage sorts and groups by, and the caller's encoding of the rest.
type StagedGood struct {
	Key     string
	Product string // a BAS variant's product Ид
	// Code orders BAS goods (the ledger is keyed by code: its pages are then written in order); a feed
	// row's code.
	Code string
	// A marketplace feed's row: its feed's name, its line and group_id; Variant marks one of several
	// offers of a model sharing a code.
	Source, Group string
	Line          int
	Variant       bool
	Data          []byte
}

const stageGoodColumns = `key, product, source, line, code, grp, variant, data`

func scanStagedGood(r rowScanner) (StagedGood, error) {
	var g StagedGood
	err := r.Scan(&g.Key, &g.Product, &g.Source, &g.Line, &g.Code, &g.Group, &g.Variant, &g.Data)
	return g, err
}

// PutGood stages g. With replace, a good staged before under the same key is replaced (a later catalogue
// file describes the good again); without, the first stays and added is false.
func (s *Stage) PutGood(ctx context.Context, g StagedGood, replace bool) (added bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if replace {
		// Nothing to answer: queued.
		return true, s.insert(ctx, `INSERT OR REPLACE INTO goods (`+stageGoodColumns+`) VALUES`,
			g.Key, g.Product, g.Source, g.Line, g.Code, g.Group, g.Variant, g.Data)
	}
	if err := s.flush(ctx); err != nil {
		return false, err
	}
	res, err := s.exec(ctx, `INSERT OR IGNORE INTO goods (`+stageGoodColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		g.Key, g.Product, g.Source, g.Line, g.Code, g.Group, g.Variant, g.Data)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// UpdateGood rewrites the code, group, variant mark and data of the staged good with g.Key.
func (s *Stage) UpdateGood(ctx context.Context, g StagedGood) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flush(ctx); err != nil {
		return err
	}
	_, err := s.exec(ctx, `UPDATE goods SET code = ?, grp = ?, variant = ?, data = ? WHERE key = ?`, g.Code, g.Group, g.Variant, g.Data, g.Key)
	return err
}

// Good returns the staged good with this key.
func (s *Stage) Good(ctx context.Context, key string) (StagedGood, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var g StagedGood
	found := false
	err := s.query(ctx, func(r *sql.Rows) (err error) {
		g, err = scanStagedGood(r)
		found = true
		return err
	}, `SELECT `+stageGoodColumns+` FROM goods WHERE key = ?`, key)
	return g, found, err
}

// Products counts, for every staged product Ид, the staged goods that are its variants.
func (s *Stage) Products(ctx context.Context) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	err := s.query(ctx, func(r *sql.Rows) error {
		var p string
		var n int
		err := r.Scan(&p, &n)
		out[p] = n
		return err
	}, `SELECT product, count(*) FROM goods WHERE product <> '' AND product IN (SELECT key FROM goods) GROUP BY product`)
	return out, err
}

// AddOffer stages an offer for the good keyed key; a good's offers are read back in the order added.
func (s *Stage) AddOffer(ctx context.Context, key string, data []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insert(ctx, `INSERT INTO offers (key, data) VALUES`, key, data)
}

// OrphanOffers calls fn, once per key and in the order staged, with the first staged offer of every key
// no staged good has. fn may stage goods.
func (s *Stage) OrphanOffers(ctx context.Context, fn func(key string, first []byte) error) error {
	const q = `SELECT id, key, data FROM offers o WHERE id > ?
		AND NOT EXISTS (SELECT 1 FROM goods g WHERE g.key = o.key)
		AND NOT EXISTS (SELECT 1 FROM offers p WHERE p.key = o.key AND p.id < o.id)
		ORDER BY id LIMIT ` + "500"
	type offer struct {
		id   int64
		key  string
		data []byte
	}
	var last int64
	for {
		var chunk []offer
		s.mu.Lock()
		err := s.query(ctx, func(r *sql.Rows) error {
			var o offer
			err := r.Scan(&o.id, &o.key, &o.data)
			chunk = append(chunk, o)
			return err
		}, q, last)
		s.mu.Unlock()
		if err != nil || len(chunk) == 0 {
			return err
		}
		for _, o := range chunk {
			if err := fn(o.key, o.data); err != nil {
				return err
			}
		}
		last = chunk[len(chunk)-1].id
	}
}

// EachGood calls fn with every staged BAS good (Source "") by Code then key, or, with feeds, every feed
// row by feed and line, a chunk at a time, and by key the data of their offers in the order staged. fn may use
// the Stage.
func (s *Stage) EachGood(ctx context.Context, feeds bool, fn func(goods []StagedGood, offers map[string][][]byte) error) error {
	q := `SELECT ` + stageGoodColumns + ` FROM goods WHERE source = '' AND (code, key) > (?, ?) ORDER BY code, key LIMIT ` + fmt.Sprint(stageChunk)
	after := func(g StagedGood) []any { return []any{g.Code, g.Key} }
	if feeds {
		q = `SELECT ` + stageGoodColumns + ` FROM goods WHERE source <> '' AND (source, line, key) > (?, ?, ?) ORDER BY source, line, key LIMIT ` + fmt.Sprint(stageChunk)
		after = func(g StagedGood) []any { return []any{g.Source, g.Line, g.Key} }
	}
	var last StagedGood
	for {
		chunk, offers, err := s.goodsChunk(ctx, q, after(last))
		if err != nil || len(chunk) == 0 {
			return err
		}
		if err := fn(chunk, offers); err != nil {
			return err
		}
		last = chunk[len(chunk)-1]
	}
}

// goodsChunk reads one chunk of goods, and their offers.
func (s *Stage) goodsChunk(ctx context.Context, q string, args []any) ([]StagedGood, map[string][][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var chunk []StagedGood
	err := s.query(ctx, func(r *sql.Rows) error {
		g, err := scanStagedGood(r)
		chunk = append(chunk, g)
		return err
	}, q, args...)
	if err != nil || len(chunk) == 0 {
		return nil, nil, err
	}
	offers := map[string][][]byte{}
	keys := make([]any, len(chunk))
	for i, g := range chunk {
		keys[i] = g.Key
	}
	err = s.query(ctx, func(r *sql.Rows) error {
		var k string
		var d []byte
		if err := r.Scan(&k, &d); err != nil {
			return err
		}
		offers[k] = append(offers[k], d)
		return nil
	}, `SELECT key, data FROM offers WHERE key IN (`+placeholders(len(keys))+`) ORDER BY id`, keys...)
	return chunk, offers, err
}

// placeholders is "?, ?, …" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// SharedFeedCodes lists the codes several rows of the feed source share, in the order of their first
// rows.
func (s *Stage) SharedFeedCodes(ctx context.Context, source string) ([]string, error) {
	return s.sharedFeed(ctx, `SELECT code FROM goods WHERE source = ? AND code <> '' GROUP BY code HAVING count(*) > 1 ORDER BY min(line)`, source)
}

// SharedFeedGroups lists the group_ids several rows of the feed source that are no variants share.
func (s *Stage) SharedFeedGroups(ctx context.Context, source string) ([]string, error) {
	return s.sharedFeed(ctx, `SELECT grp FROM goods WHERE source = ? AND grp <> '' AND NOT variant GROUP BY grp HAVING count(*) > 1 ORDER BY min(line)`, source)
}

func (s *Stage) sharedFeed(ctx context.Context, q, source string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	err := s.query(ctx, func(r *sql.Rows) error {
		var v string
		err := r.Scan(&v)
		out = append(out, v)
		return err
	}, q, source)
	return out, err
}

// FeedRows returns the rows of the feed source with this code (or, with group, this group_id and no
// variant mark), by line.
func (s *Stage) FeedRows(ctx context.Context, source, value string, group bool) ([]StagedGood, error) {
	where := `code = ?`
	if group {
		where = `grp = ? AND NOT variant`
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []StagedGood
	err := s.query(ctx, func(r *sql.Rows) error {
		g, err := scanStagedGood(r)
		out = append(out, g)
		return err
	}, `SELECT `+stageGoodColumns+` FROM goods WHERE source = ? AND `+where+` ORDER BY line, key`, source, value)
	return out, err
}

// Claim gives code to who unless another claimed it first: then it returns that one's who and bas.
func (s *Stage) Claim(ctx context.Context, code, who string, bas bool) (ok bool, holder string, holderBAS bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flush(ctx); err != nil {
		return false, "", false, err
	}
	res, err := s.exec(ctx, `INSERT OR IGNORE INTO claims (code, who, bas) VALUES (?, ?, ?)`, code, who, bas)
	if err != nil {
		return false, "", false, err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return n > 0, "", false, err
	}
	err = s.query(ctx, func(r *sql.Rows) error { return r.Scan(&holder, &holderBAS) }, `SELECT who, bas FROM claims WHERE code = ?`, code)
	return false, holder, holderBAS, err
}

// Claimed records that who has code, where the caller knows no other good claimed it (BAS's goods are
// planned in code order: a good contests only the code of the one before it). Claim still finds it.
func (s *Stage) Claimed(ctx context.Context, code, who string, bas bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.insert(ctx, `INSERT OR IGNORE INTO claims (code, who, bas) VALUES`, code, who, bas)
}

// StagedPlan is one row of what a drop plans: the good's code, a kind the caller defines, the stock to
// set (nil: none), the caller's data.
type StagedPlan struct {
	ID    int64
	Code  string
	Kind  int
	Stock *int64
	Data  []byte
}

func scanStagedPlan(r rowScanner) (StagedPlan, error) {
	var p StagedPlan
	var stock sql.NullInt64
	err := r.Scan(&p.ID, &p.Code, &p.Kind, &stock, &p.Data)
	if stock.Valid {
		p.Stock = &stock.Int64
	}
	return p, err
}

func nullable(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// AddPlan stages a plan and returns its id; plans are walked in the order added.
func (s *Stage) AddPlan(ctx context.Context, p StagedPlan) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastPlan++
	return s.lastPlan, s.insert(ctx, `INSERT INTO plans (id, code, kind, stock, data) VALUES`, s.lastPlan, p.Code, p.Kind, nullable(p.Stock), p.Data)
}

// SetKind sets the kind of the plans with these ids.
func (s *Stage) SetKind(ctx context.Context, kind int, ids ...int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.flush(ctx); err != nil {
		return err
	}
	for _, id := range ids {
		if _, err := s.exec(ctx, `UPDATE plans SET kind = ? WHERE id = ?`, kind, id); err != nil {
			return err
		}
	}
	return nil
}

// EachPlan calls fn for every plan of the given kinds (every plan when none are given), in the order
// added; withStock keeps only those with a stock. fn may use the Stage, changing the plan it is given
// included.
func (s *Stage) EachPlan(ctx context.Context, withStock bool, fn func(StagedPlan) error, kinds ...int) error {
	where := `id > ?`
	args := []any{int64(0)}
	switch len(kinds) {
	case 0:
	case 1:
		where += ` AND kind = ?` // the index on (kind, id) gives them in order
		args = append(args, kinds[0])
	default:
		// Walked in id order, kinds tested row by row: the index on kind would make SQLite sort every
		// remaining plan for each chunk.
		where += ` AND +kind IN (` + placeholders(len(kinds)) + `)`
		for _, k := range kinds {
			args = append(args, k)
		}
	}
	if withStock {
		where += ` AND stock IS NOT NULL`
	}
	q := `SELECT id, code, kind, stock, data FROM plans WHERE ` + where + ` ORDER BY id LIMIT ` + fmt.Sprint(stageChunk)
	for {
		var chunk []StagedPlan
		s.mu.Lock()
		err := s.query(ctx, func(r *sql.Rows) error {
			p, err := scanStagedPlan(r)
			chunk = append(chunk, p)
			return err
		}, q, args...)
		s.mu.Unlock()
		if err != nil || len(chunk) == 0 {
			return err
		}
		for _, p := range chunk {
			if err := fn(p); err != nil {
				return err
			}
		}
		args[0] = chunk[len(chunk)-1].ID
	}
}

// CountPlans counts the plans of the given kinds; withStock, only those with a stock.
func (s *Stage) CountPlans(ctx context.Context, withStock bool, kinds ...int) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	q := `SELECT count(*) FROM plans WHERE kind IN (` + placeholders(len(kinds)) + `)`
	if withStock {
		q += ` AND stock IS NOT NULL`
	}
	n := 0
	err := s.query(ctx, func(r *sql.Rows) error { return r.Scan(&n) }, q, args...)
	return n, err
}

// PlansWithCodes returns the last plan of each of codes that has one.
func (s *Stage) PlansWithCodes(ctx context.Context, codes []string) (map[string]StagedPlan, error) {
	out := make(map[string]StagedPlan, len(codes))
	for start := 0; start < len(codes); start += stageChunk {
		part := codes[start:min(start+stageChunk, len(codes))]
		args := make([]any, len(part))
		for i, c := range part {
			args[i] = c
		}
		s.mu.Lock()
		err := s.query(ctx, func(r *sql.Rows) error {
			p, err := scanStagedPlan(r)
			out[p.Code] = p
			return err
		}, `SELECT id, code, kind, stock, data FROM plans WHERE code IN (`+placeholders(len(args))+`) ORDER BY id`, args...)
		s.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
