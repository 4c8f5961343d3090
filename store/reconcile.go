package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// reconcileSchema is the migration behind reconciliation (package reconcile):
//   - bas_orders: every order BAS's own orders export showed (its Номер, BAS's document Ид, the Checkbox
//     fiscal code its comment names, its time and sum), kept so that a later reconciliation can compare
//     BAS's view of a day with Checkbox's; the newest export of a document wins.
//   - reconcile_seen: the codes of Checkbox's goods list during one reconciliation, so that the goods
//     Checkbox lacks are found in SQL, without holding the list in memory.
const reconcileSchema = `
CREATE TABLE bas_orders (
	number   TEXT NOT NULL,
	bas_id   TEXT NOT NULL DEFAULT '',
	fiscal   TEXT NOT NULL DEFAULT '',
	sold_at  TEXT NOT NULL DEFAULT '',
	total    INTEGER,
	drop_id  TEXT NOT NULL DEFAULT '',
	seen_at  TEXT NOT NULL,
	PRIMARY KEY (number, bas_id)
) WITHOUT ROWID;
CREATE INDEX bas_orders_by_sold ON bas_orders (sold_at);

CREATE TABLE reconcile_seen (
	code TEXT PRIMARY KEY
) WITHOUT ROWID;
`

// BASOrder is one order as BAS's own orders export showed it.
type BASOrder struct {
	Number string // Номер
	BASID  string // BAS's document Ид
	Fiscal string // the Checkbox fiscal code the order names (its comment or requisite), "" if none
	When   time.Time
	Total  *int64 // kopecks; nil when the export gave no sum (a document without lines)
	DropID string
	SeenAt time.Time
}

// PutBASOrders records orders BAS exported; an order seen before (the same Номер and Ид) is replaced.
func (s *Store) PutBASOrders(ctx context.Context, orders []BASOrder) error {
	if len(orders) == 0 {
		return nil
	}
	return s.tx(ctx, fmt.Sprintf("record %d BAS orders", len(orders)), func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO bas_orders (number, bas_id, fiscal, sold_at, total, drop_id, seen_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (number, bas_id) DO UPDATE SET fiscal = excluded.fiscal, sold_at = excluded.sold_at,
				total = excluded.total, drop_id = excluded.drop_id, seen_at = excluded.seen_at`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, o := range orders {
			var total any
			if o.Total != nil {
				total = *o.Total
			}
			if _, err := stmt.ExecContext(ctx, o.Number, o.BASID, o.Fiscal, formatTime(o.When), total, o.DropID, formatTime(s.stamp(o.SeenAt))); err != nil {
				return fmt.Errorf("order %s: %w", o.Number, err)
			}
		}
		return nil
	})
}

// BASOrdersSold calls fn for every order BAS exported that was sold in [from, to), by time then number.
func (s *Store) BASOrdersSold(ctx context.Context, from, to time.Time, fn func(BASOrder) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT number, bas_id, fiscal, sold_at, total, drop_id, seen_at FROM bas_orders
		WHERE sold_at >= ? AND sold_at < ? ORDER BY sold_at, number, bas_id`, formatTime(from), formatTime(to))
	if err != nil {
		return fmt.Errorf("BAS orders: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var o BASOrder
		var sold, seen string
		var total sql.NullInt64
		if err := rows.Scan(&o.Number, &o.BASID, &o.Fiscal, &sold, &total, &o.DropID, &seen); err != nil {
			return fmt.Errorf("BAS orders: %w", err)
		}
		var ts timeParser
		o.When, o.SeenAt = ts.get(sold), ts.get(seen)
		if ts.err != nil {
			return fmt.Errorf("BAS orders: %w", ts.err)
		}
		if total.Valid {
			o.Total = &total.Int64
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReceiptByNumber returns the receipt that has this BAS Номер.
func (s *Store) ReceiptByNumber(ctx context.Context, number string) (ReceiptRecord, bool, error) {
	if number == "" {
		return ReceiptRecord{}, false, nil
	}
	var found ReceiptRecord
	ok := false
	err := s.eachReceipt(ctx, "receipt by number", func(r ReceiptRecord) error {
		found, ok = r, true
		return nil
	}, `WHERE number = ?`, number)
	return found, ok, err
}

// ForgetSeenGoods empties the list of goods codes one reconciliation saw in Checkbox.
func (s *Store) ForgetSeenGoods(ctx context.Context) error {
	return s.tx(ctx, "forget seen goods", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM reconcile_seen`)
		return err
	})
}

// SeeGoods adds codes to the list of goods a reconciliation saw in Checkbox.
func (s *Store) SeeGoods(ctx context.Context, codes []string) error {
	if len(codes) == 0 {
		return nil
	}
	return s.tx(ctx, "see goods", func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO reconcile_seen (code) VALUES (?) ON CONFLICT DO NOTHING`)
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

// PushedGoodsNotSeen calls fn, in code order, for every good the ledger says Checkbox holds (received and
// not marked deleted in BAS) whose code the reconciliation did not see in Checkbox (SeeGoods).
func (s *Store) PushedGoodsNotSeen(ctx context.Context, fn func(GoodRecord) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+goodColumns+` FROM goods
		WHERE pushed_hash <> '' AND checkbox_id <> '' AND deleted = 0
		AND code NOT IN (SELECT code FROM reconcile_seen) ORDER BY code`)
	if err != nil {
		return fmt.Errorf("goods not in Checkbox: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanGood(rows)
		if err != nil {
			return fmt.Errorf("goods not in Checkbox: %w", err)
		}
		if err := fn(g); err != nil {
			return err
		}
	}
	return rows.Err()
}

// NetSoldSinceStock returns, for each good with stock sent to Checkbox, the quantity (thousandths) the
// finished receipts obmin holds took from Checkbox's stock since then: sales less returns that reached
// Checkbox (their created_at: an offline receipt's is when it arrived) after the good's stock was last set
// (its record's time: the stock step and the goods import stamp it when they send a stock). Goods with
// nothing sold are absent.
func (s *Store) NetSoldSinceStock(ctx context.Context) (map[string]int64, error) {
	rows, err := s.db.QueryContext(ctx, `
		SELECT g.code, sum(CASE WHEN r.type = 'RETURN' THEN -1 ELSE 1 END * json_extract(l.value, '$.quantity'))
		FROM receipts r, json_each(r.raw, '$.goods') l
		JOIN goods g ON g.code = json_extract(l.value, '$.good.code')
		WHERE r.status = 'DONE' AND r.type IN ('SELL', 'RETURN') AND r.raw IS NOT NULL
			AND g.pushed_stock IS NOT NULL
			AND julianday(json_extract(r.raw, '$.created_at')) > julianday(g.updated_at)
		GROUP BY g.code`)
	if err != nil {
		return nil, fmt.Errorf("sold since stock: %w", err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var code string
		var q sql.NullInt64
		if err := rows.Scan(&code, &q); err != nil {
			return nil, fmt.Errorf("sold since stock: %w", err)
		}
		if q.Valid && q.Int64 != 0 {
			out[code] = q.Int64
		}
	}
	return out, rows.Err()
}
