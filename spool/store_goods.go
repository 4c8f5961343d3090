package spool

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// GoodRecord is one good, keyed by its Checkbox code (by default BAS's Артикул). It joins what BAS
// exported for the good, needed to write sales back with BAS's exact Ид and Артикул (bas-and-peers.md
// §0.4: BAS matches order lines by Ид and silently creates a new item otherwise), with the ledger of what
// Checkbox last received, which makes "push only what changed" work.
type GoodRecord struct {
	Code string

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

const storeGoodColumns = `code, bas_id, article, name, unit_code, unit_name, unit_full_name, unit_intl, deleted,
	checkbox_id, pushed_hash, pushed_price, pushed_payload, pushed_stock, stock_hash, updated_at, pushed_at`

// storePutGood is the upsert behind PutGoods. BAS's fields always take the record's values; a ledger
// field is replaced only when the record sets it, so a catalogue import that knows nothing of Checkbox
// cannot wipe what Checkbox holds. PushedPrice has no "unset" value of its own and goes with PushedHash.
const storePutGood = `INSERT INTO goods (` + storeGoodColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (code) DO UPDATE SET
		bas_id = excluded.bas_id, article = excluded.article, name = excluded.name,
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

func storeScanGood(r storeRowScanner) (GoodRecord, error) {
	var g GoodRecord
	var stock sql.NullInt64
	var updated, pushed, payload string
	err := r.Scan(&g.Code, &g.BASID, &g.Article, &g.Name, &g.UnitCode, &g.UnitName, &g.UnitFullName, &g.UnitIntl,
		&g.Deleted, &g.CheckboxID, &g.PushedHash, &g.PushedPrice, &payload, &stock, &g.StockHash, &updated, &pushed)
	if err != nil {
		return GoodRecord{}, err
	}
	if stock.Valid {
		g.PushedStock = &stock.Int64
	}
	if payload != "" {
		g.PushedPayload = []byte(payload)
	}
	var ts storeTimes
	g.UpdatedAt, g.PushedAt = ts.get(updated), ts.get(pushed)
	return g, ts.err
}

// Good returns the good with this code.
func (s *Store) Good(ctx context.Context, code string) (GoodRecord, bool, error) {
	return s.goodWhere(ctx, "good "+code, `code = ?`, code)
}

// GoodByBASID returns the good BAS knows by this Ид. Should several codes carry it (the Артикул changed
// in BAS, leaving the old code behind), the most recently updated wins.
func (s *Store) GoodByBASID(ctx context.Context, basID string) (GoodRecord, bool, error) {
	if basID == "" {
		return GoodRecord{}, false, nil
	}
	return s.goodWhere(ctx, "good by BAS id "+basID, `bas_id = ? ORDER BY updated_at DESC, code LIMIT 1`, basID)
}

func (s *Store) goodWhere(ctx context.Context, what, where string, arg any) (GoodRecord, bool, error) {
	g, err := storeScanGood(s.db.QueryRowContext(ctx, `SELECT `+storeGoodColumns+` FROM goods WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return GoodRecord{}, false, nil
	}
	if err != nil {
		return GoodRecord{}, false, fmt.Errorf("%s: %w", what, err)
	}
	return g, true, nil
}

// PutGoods inserts or updates recs in one transaction: all or none. BAS's fields (BASID to Deleted,
// UpdatedAt) are replaced. The ledger fields are replaced only when the record sets them: CheckboxID,
// PushedHash and StockHash when not "", PushedPrice and PushedPayload together with PushedHash, PushedStock when not nil,
// PushedAt when not zero; otherwise the stored values stay (ForgetPushed clears them). A zero UpdatedAt is
// set to now. A code given twice takes its last record.
func (s *Store) PutGoods(ctx context.Context, recs []GoodRecord) error {
	if len(recs) == 0 {
		return nil
	}
	for i, g := range recs {
		if g.Code == "" {
			return fmt.Errorf("put goods: record %d (BAS id %q) has no code", i, g.BASID)
		}
	}
	now := storeTime(s.now())
	return s.tx(ctx, fmt.Sprintf("put %d goods", len(recs)), func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, storePutGood)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, g := range recs {
			updated := now
			if !g.UpdatedAt.IsZero() {
				updated = storeTime(g.UpdatedAt)
			}
			var stock any
			if g.PushedStock != nil {
				stock = *g.PushedStock
			}
			if _, err := stmt.ExecContext(ctx, g.Code, g.BASID, g.Article, g.Name, g.UnitCode, g.UnitName, g.UnitFullName,
				g.UnitIntl, g.Deleted, g.CheckboxID, g.PushedHash, g.PushedPrice, string(g.PushedPayload), stock, g.StockHash, updated,
				storeTime(g.PushedAt)); err != nil {
				return fmt.Errorf("good %s: %w", g.Code, err)
			}
		}
		return nil
	})
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
	rows, err := s.db.QueryContext(ctx, `SELECT `+storeGoodColumns+` FROM goods ORDER BY code`)
	if err != nil {
		return fmt.Errorf("goods: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		g, err := storeScanGood(rows)
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
