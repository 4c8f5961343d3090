package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// GoodRecord is one good, stored under its Checkbox code (by default BAS's Артикул) and found by where it
// comes from: BAS's Ид for a good BAS exported, the feed's name and offer id for a good of a marketplace
// feed. It joins what BAS exported for the good, needed to write sales back with BAS's exact Ид and
// Артикул (`ОбменССайтом.НайтиСоздатьНоменклатуру`, docs/commerceml.md §1.5: BAS matches order lines by Ид and silently creates a new item
// otherwise), with the ledger of what Checkbox last received, which makes "push only what changed" work.
type GoodRecord struct {
	Code string
	// OldCode, when set on a record given to PutGoods, is the code the good had until now: its record is
	// moved to Code, and OldCode is kept as an alias so that sales made under it still find the good.
	// Never set on records the store returns.
	OldCode string

	// Source is "" for a good BAS exported, else the name of the marketplace feed it comes from;
	// SourceKey is that feed's offer id. A record with neither Source nor BASID is a feed good of an
	// obmin that did not record feeds' names yet.
	Source, SourceKey string

	// From BAS's catalogue.
	BASID, Article, Name                       string
	UnitCode, UnitName, UnitFullName, UnitIntl string
	Deleted                                    bool // BAS marked it deleted

	// The ledger: what Checkbox holds.
	CheckboxID  string // Checkbox good uuid, "" until created
	PushedHash  string // hash of the payload Checkbox last received; "" never pushed
	PushedPrice int64  // kopecks, as last pushed
	// PushedPayload is the JSON payload Checkbox last received: an offers-only drop (BAS's "prices and
	// stock only" export) changes the price of it and keeps barcodes and taxes the catalogue gave.
	PushedPayload []byte
	PushedStock   *int64 // thousandths, as last pushed via import; nil never
	StockHash     string

	UpdatedAt, PushedAt time.Time
}

const goodColumns = `code, bas_id, article, name, unit_code, unit_name, unit_full_name, unit_intl, deleted,
	checkbox_id, pushed_hash, pushed_price, pushed_payload, pushed_stock, stock_hash, updated_at, pushed_at, source, source_key`

// putGood is the upsert behind PutGoods. BAS's fields always take the record's values; a ledger
// field is replaced only when the record sets it, so a catalogue import that knows nothing of Checkbox
// cannot wipe what Checkbox holds. PushedPrice has no "unset" value of its own and goes with PushedHash.
const putGood = `INSERT INTO goods (` + goodColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (code) DO UPDATE SET
		bas_id = excluded.bas_id, article = excluded.article, name = excluded.name,
		source = excluded.source, source_key = excluded.source_key,
		unit_code = excluded.unit_code, unit_name = excluded.unit_name,
		unit_full_name = excluded.unit_full_name, unit_intl = excluded.unit_intl,
		deleted = excluded.deleted, updated_at = excluded.updated_at,
		checkbox_id  = CASE WHEN excluded.checkbox_id <> '' THEN excluded.checkbox_id ELSE goods.checkbox_id END,
		pushed_hash  = CASE WHEN excluded.pushed_hash <> '' THEN excluded.pushed_hash ELSE goods.pushed_hash END,
		pushed_price = CASE WHEN excluded.pushed_hash <> '' THEN excluded.pushed_price ELSE goods.pushed_price END,
		pushed_payload = CASE WHEN excluded.pushed_hash <> '' THEN excluded.pushed_payload ELSE goods.pushed_payload END,
		pushed_stock = coalesce(excluded.pushed_stock, goods.pushed_stock),
		stock_hash   = CASE WHEN excluded.stock_hash <> '' THEN excluded.stock_hash ELSE goods.stock_hash END,
		pushed_at    = CASE WHEN excluded.pushed_at <> '' THEN excluded.pushed_at ELSE goods.pushed_at END`

func scanGood(r rowScanner) (GoodRecord, error) {
	var g GoodRecord
	var stock sql.NullInt64
	var updated, pushed, payload string
	err := r.Scan(&g.Code, &g.BASID, &g.Article, &g.Name, &g.UnitCode, &g.UnitName, &g.UnitFullName, &g.UnitIntl,
		&g.Deleted, &g.CheckboxID, &g.PushedHash, &g.PushedPrice, &payload, &stock, &g.StockHash, &updated, &pushed,
		&g.Source, &g.SourceKey)
	if err != nil {
		return GoodRecord{}, err
	}
	if stock.Valid {
		g.PushedStock = &stock.Int64
	}
	if payload != "" {
		g.PushedPayload = []byte(payload)
	}
	var ts timeParser
	g.UpdatedAt, g.PushedAt = ts.get(updated), ts.get(pushed)
	return g, ts.err
}

// Good returns the good Checkbox knows by this code: the good with this code, or else the good that had
// it before its code changed (sales made under an old code still find their good).
func (s *Store) Good(ctx context.Context, code string) (GoodRecord, bool, error) {
	g, ok, err := s.GoodWithCode(ctx, code)
	if ok || err != nil {
		return g, ok, err
	}
	return s.goodWhere(ctx, "good "+code, `code = (SELECT current FROM good_aliases WHERE code = ?)`, code)
}

// GoodWithCode returns the good whose code is code now.
func (s *Store) GoodWithCode(ctx context.Context, code string) (GoodRecord, bool, error) {
	return s.goodWhere(ctx, "good "+code, `code = ?`, code)
}

// GoodBySource returns the good a marketplace feed (by name) knows by this offer id.
func (s *Store) GoodBySource(ctx context.Context, source, key string) (GoodRecord, bool, error) {
	if source == "" || key == "" {
		return GoodRecord{}, false, nil
	}
	return s.goodWhere(ctx, "good "+key+" of "+source, `source = ? AND source_key = ? ORDER BY updated_at DESC, code LIMIT 1`, source, key)
}

// HasVariants says whether the ledger knows a variant of the BAS good basID: a good whose Ид is
// basID#<characteristic>.
func (s *Store) HasVariants(ctx context.Context, basID string) (bool, error) {
	if basID == "" {
		return false, nil
	}
	// '#' + 1 is '$': the range is every Ид that starts with basID#, and it uses the index on bas_id.
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM goods WHERE bas_id > ? AND bas_id < ? LIMIT 1)`,
		basID+"#", basID+"$").Scan(&n)
	if err != nil {
		return false, fmt.Errorf("variants of %s: %w", basID, err)
	}
	return n > 0, nil
}

// GoodByBASID returns the good BAS knows by this Ид. Should several codes carry it (the Артикул changed
// in BAS, leaving the old code behind), the most recently updated wins.
func (s *Store) GoodByBASID(ctx context.Context, basID string) (GoodRecord, bool, error) {
	if basID == "" {
		return GoodRecord{}, false, nil
	}
	return s.goodWhere(ctx, "good by BAS id "+basID, `bas_id = ? ORDER BY updated_at DESC, code LIMIT 1`, basID)
}

func (s *Store) goodWhere(ctx context.Context, what, where string, args ...any) (GoodRecord, bool, error) {
	stmt, err := s.prepared(ctx, `SELECT `+goodColumns+` FROM goods WHERE `+where)
	if err != nil {
		return GoodRecord{}, false, fmt.Errorf("%s: %w", what, err)
	}
	g, err := scanGood(stmt.QueryRowContext(ctx, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return GoodRecord{}, false, nil
	}
	if err != nil {
		return GoodRecord{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return g, true, nil
}

// PutGoods inserts or updates recs in one transaction: all or none. BAS's fields (BASID to Deleted,
// Source, SourceKey, UpdatedAt) are replaced. The ledger fields are replaced only when the record sets
// them: CheckboxID, PushedHash and StockHash when not "", PushedPrice and PushedPayload together with
// PushedHash, PushedStock when not nil, PushedAt when not zero; otherwise the stored values stay
// (ForgetPushed clears them). A zero UpdatedAt is set to now. A code given twice takes its last record.
//
// A record with OldCode set renames the good first: the record stored under OldCode moves to Code with
// everything the ledger knows (Checkbox's id above all: the good is changed in place, never made twice),
// and OldCode becomes an alias of Code. Code must not be another good's.
func (s *Store) PutGoods(ctx context.Context, recs []GoodRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for i, g := range recs {
		if g.Code == "" {
			return fmt.Errorf("put goods: record %d (BAS id %q) has no code", i, g.BASID)
		}
	}
	now := formatTime(s.now())
	return s.tx(ctx, fmt.Sprintf("put %d goods", len(recs)), func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, putGood)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, g := range recs {
			if g.OldCode != "" && g.OldCode != g.Code {
				if err := renameGood(ctx, tx, g.OldCode, g.Code, now); err != nil {
					return err
				}
			}
			updated := now
			if !g.UpdatedAt.IsZero() {
				updated = formatTime(g.UpdatedAt)
			}
			var stock any
			if g.PushedStock != nil {
				stock = *g.PushedStock
			}
			if _, err := stmt.ExecContext(ctx, g.Code, g.BASID, g.Article, g.Name, g.UnitCode, g.UnitName, g.UnitFullName,
				g.UnitIntl, g.Deleted, g.CheckboxID, g.PushedHash, g.PushedPrice, string(g.PushedPayload), stock, g.StockHash, updated,
				formatTime(g.PushedAt), g.Source, g.SourceKey); err != nil {
				return fmt.Errorf("good %s: %w", g.Code, err)
			}
		}
		return nil
	})
}

// renameGood moves the record of code from to code to, keeping from as an alias of to; aliases of
// from follow (one hop finds the good from any of its old codes), and to stops being an alias.
func renameGood(ctx context.Context, tx *sql.Tx, from, to, now string) error {
	res, err := tx.ExecContext(ctx, `UPDATE goods SET code = ? WHERE code = ?`, to, from)
	if err != nil {
		return fmt.Errorf("rename good %s to %s: %w", from, to, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return err // nothing under the old code: a plain insert follows
	}
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE good_aliases SET current = ? WHERE current = ?`, []any{to, from}},
		{`INSERT INTO good_aliases (code, current, retired_at) VALUES (?, ?, ?)
			ON CONFLICT (code) DO UPDATE SET current = excluded.current, retired_at = excluded.retired_at`, []any{from, to, now}},
		{`DELETE FROM good_aliases WHERE code = ?`, []any{to}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return fmt.Errorf("rename good %s to %s: %w", from, to, err)
		}
	}
	return nil
}

// ForgetPushed clears what the ledger says Checkbox received (PushedHash, PushedPrice, PushedStock,
// StockHash, PushedAt) for the given codes, or for every good when none are given, so the next sync sends
// them again. CheckboxID is kept: the goods still exist in Checkbox and are updated, not created twice.
func (s *Store) ForgetPushed(ctx context.Context, codes ...string) error {
	const forget = `UPDATE goods SET pushed_hash = '', pushed_price = 0, pushed_payload = '', pushed_stock = NULL, stock_hash = '', pushed_at = ''`
	return s.tx(ctx, "forget pushed goods", func(tx *sql.Tx) error {
		if len(codes) == 0 {
			_, err := tx.ExecContext(ctx, forget)
			return err
		}
		stmt, err := tx.PrepareContext(ctx, forget+` WHERE code = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range codes {
			if _, err := stmt.ExecContext(ctx, c); err != nil {
				return fmt.Errorf("good %s: %w", c, err)
			}
		}
		return nil
	})
}

// ForEachGood calls fn for every good in code order, reading them as one consistent snapshot. fn may call
// other Store methods. An error from fn stops the walk and is returned as it is.
func (s *Store) ForEachGood(ctx context.Context, fn func(GoodRecord) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+goodColumns+` FROM goods ORDER BY code`)
	if err != nil {
		return fmt.Errorf("goods: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGood(rows)
		if err != nil {
			return fmt.Errorf("goods: %w", err)
		}
		if err := fn(g); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("goods: %w", err)
	}
	return nil
}

// CountGoods returns how many goods the ledger holds and how many of them Checkbox has received.
func (s *Store) CountGoods(ctx context.Context) (total, pushed int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN pushed_hash <> '' THEN 1 END) FROM goods`).
		Scan(&total, &pushed)
	if err != nil {
		return 0, 0, fmt.Errorf("count goods: %w", err)
	}
	return total, pushed, nil
}
