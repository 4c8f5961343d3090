package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// The goods ledger at the scale of a whole catalogue: lookups by many codes at once, the goods Checkbox
// has whose ids obmin has not learnt yet, and the goods whose Checkbox stock sales may have moved.

// GoodsWithCodes returns the goods whose code is one of codes, by code.
func (s *Store) GoodsWithCodes(ctx context.Context, codes []string) (map[string]GoodRecord, error) {
	out := make(map[string]GoodRecord, len(codes))
	for start := 0; start < len(codes); start += stageChunk {
		part := codes[start:min(start+stageChunk, len(codes))]
		args := make([]any, len(part))
		for i, c := range part {
			args[i] = c
		}
		rows, err := s.db.QueryContext(ctx, `SELECT `+goodColumns+` FROM goods WHERE code IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("goods by code: %w", err)
		}
		for rows.Next() {
			g, err := scanGood(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("goods by code: %w", err)
			}
			out[g.Code] = g
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("goods by code: %w", err)
		}
	}
	return out, nil
}

// GoodsByBASIDs returns the goods BAS knows by each of ids, by Ид; as GoodByBASID, the most recently
// updated wins where several codes carry one Ид.
func (s *Store) GoodsByBASIDs(ctx context.Context, ids []string) (map[string]GoodRecord, error) {
	out := make(map[string]GoodRecord, len(ids))
	for start := 0; start < len(ids); start += stageChunk {
		part := ids[start:min(start+stageChunk, len(ids))]
		args := make([]any, len(part))
		for i, c := range part {
			args[i] = c
		}
		// Ordered so that the record GoodByBASID would return comes last for each Ид.
		rows, err := s.db.QueryContext(ctx, `SELECT `+goodColumns+` FROM goods WHERE bas_id IN (`+placeholders(len(args))+`)
			ORDER BY bas_id, updated_at, code DESC`, args...)
		if err != nil {
			return nil, fmt.Errorf("goods by BAS id: %w", err)
		}
		for rows.Next() {
			g, err := scanGood(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("goods by BAS id: %w", err)
			}
			out[g.BASID] = g
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("goods by BAS id: %w", err)
		}
	}
	return out, nil
}

// GoodsWithoutID counts the goods Checkbox received (through its goods import, which answers no ids)
// whose Checkbox id the ledger does not know yet, and returns the codes of the first limit of them.
func (s *Store) GoodsWithoutID(ctx context.Context, limit int) (int, []string, error) {
	const where = `FROM goods WHERE checkbox_id = '' AND pushed_hash <> ''`
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) `+where).Scan(&n); err != nil {
		return 0, nil, fmt.Errorf("goods without a Checkbox id: %w", err)
	}
	if n == 0 || limit <= 0 {
		return n, nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT code `+where+` ORDER BY code LIMIT ?`, limit)
	if err != nil {
		return 0, nil, fmt.Errorf("goods without a Checkbox id: %w", err)
	}
	defer rows.Close()
	var codes []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return 0, nil, fmt.Errorf("goods without a Checkbox id: %w", err)
		}
		codes = append(codes, c)
	}
	if err := rows.Err(); err != nil {
		return 0, nil, fmt.Errorf("goods without a Checkbox id: %w", err)
	}
	return n, codes, nil
}

// SetCheckboxIDs records the Checkbox id of each good (code → id) in one transaction; codes the ledger
// does not hold are ignored.
func (s *Store) SetCheckboxIDs(ctx context.Context, ids map[string]string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.tx(ctx, fmt.Sprintf("set %d Checkbox ids", len(ids)), func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `UPDATE goods SET checkbox_id = ? WHERE code = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, code := range slices.Sorted(maps.Keys(ids)) { // in the table's order: fewer pages
			if _, err := stmt.ExecContext(ctx, ids[code], code); err != nil {
				return fmt.Errorf("good %s: %w", code, err)
			}
		}
		return nil
	})
}

// Marks of the stock sync (table marks).
const (
	markStockReceipts = "stock_receipts"   // the rowid of the last receipt MarkStockMoved looked at
	markStockChecked  = "stock_checked_at" // when every good's Checkbox stock was last compared
)

// MarkStockMoved looks at the receipts recorded since it last did (sales and returns, pulled or pushed
// by the webhook) and marks the goods on them as moved: Checkbox's count of each has changed since obmin
// set it. codesOf lists a receipt's goods codes from its raw JSON; a code that was renamed marks the good
// under its current code. It returns how many receipts it looked at.
func (s *Store) MarkStockMoved(ctx context.Context, codesOf func(raw []byte) ([]string, error)) (int, error) {
	seen := 0
	for {
		var after int64
		if v, ok, err := s.mark(ctx, markStockReceipts); err != nil {
			return seen, err
		} else if ok {
			if after, err = strconv.ParseInt(v, 10, 64); err != nil {
				return seen, fmt.Errorf("mark %s %q: %w", markStockReceipts, v, err)
			}
		}
		type receipt struct {
			row int64
			raw []byte
		}
		var chunk []receipt
		rows, err := s.db.QueryContext(ctx, `SELECT rowid, coalesce(raw, '') FROM receipts WHERE rowid > ? ORDER BY rowid LIMIT 500`, after)
		if err != nil {
			return seen, fmt.Errorf("receipts for stock: %w", err)
		}
		for rows.Next() {
			var r receipt
			if err := rows.Scan(&r.row, &r.raw); err != nil {
				rows.Close()
				return seen, fmt.Errorf("receipts for stock: %w", err)
			}
			chunk = append(chunk, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return seen, fmt.Errorf("receipts for stock: %w", err)
		}
		if len(chunk) == 0 {
			return seen, nil
		}
		var codes []string
		for _, r := range chunk {
			c, err := codesOf(r.raw)
			if err != nil {
				return seen, err
			}
			codes = append(codes, c...)
		}
		err = s.tx(ctx, "mark moved stock", func(tx *sql.Tx) error {
			for _, c := range codes {
				if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO stock_moved (code)
					VALUES (coalesce((SELECT current FROM good_aliases WHERE code = ?1), ?1))`, c); err != nil {
					return err
				}
			}
			return setMark(ctx, tx, markStockReceipts, strconv.FormatInt(chunk[len(chunk)-1].row, 10))
		})
		if err != nil {
			return seen, err
		}
		seen += len(chunk)
	}
}

// StockMoved returns which of codes are marked as moved.
func (s *Store) StockMoved(ctx context.Context, codes []string) (map[string]bool, error) {
	out := map[string]bool{}
	for start := 0; start < len(codes); start += stageChunk {
		part := codes[start:min(start+stageChunk, len(codes))]
		args := make([]any, len(part))
		for i, c := range part {
			args[i] = c
		}
		rows, err := s.db.QueryContext(ctx, `SELECT code FROM stock_moved WHERE code IN (`+placeholders(len(args))+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("moved stock: %w", err)
		}
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				rows.Close()
				return nil, fmt.Errorf("moved stock: %w", err)
			}
			out[c] = true
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("moved stock: %w", err)
		}
	}
	return out, nil
}

// ClearStockMoved unmarks codes: their Checkbox stock was compared with BAS's, or set.
func (s *Store) ClearStockMoved(ctx context.Context, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	return s.tx(ctx, "clear moved stock", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `DELETE FROM stock_moved WHERE code = ?`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, c := range codes {
			if _, err := stmt.ExecContext(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
}

// StockCheckedAt is when every good's Checkbox stock was last compared with BAS's; zero if never.
func (s *Store) StockCheckedAt(ctx context.Context) (time.Time, error) {
	v, ok, err := s.mark(ctx, markStockChecked)
	if err != nil || !ok {
		return time.Time{}, err
	}
	return parseTime(v)
}

// SetStockCheckedAt records when every good's Checkbox stock was compared with BAS's.
func (s *Store) SetStockCheckedAt(ctx context.Context, t time.Time) error {
	return s.tx(ctx, "record the stock check", func(tx *sql.Tx) error {
		return setMark(ctx, tx, markStockChecked, formatTime(t))
	})
}

func (s *Store) mark(ctx context.Context, name string) (string, bool, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM marks WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("mark %s: %w", name, err)
	}
	return v, true, nil
}

func setMark(ctx context.Context, tx *sql.Tx, name, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO marks (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, name, value)
	return err
}
