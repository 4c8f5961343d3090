package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// The orders file's documents read a page at a time, so that the file is written in bounded memory
// whatever the number of orders in it, and no read of the state stays open while the file is uploaded.

// fileOrdersWhere selects the orders of the file: pending receipts with a document and a number.
const fileOrdersWhere = `state = 'pending' AND number <> '' AND length(document) > 0`

// FileOrderKey is where a page of the orders file's documents ends: the next page starts after it.
// The zero value starts from the first.
type FileOrderKey struct {
	sold string
	id   string
}

// FileOrders calls fn for up to limit orders of the file after key, in the file's order (time of sale,
// then id), and returns the key of the last one and how many there were.
func (s *Store) FileOrders(ctx context.Context, after FileOrderKey, limit int, fn func(ReceiptRecord) error) (FileOrderKey, int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+receiptColumns+`, sold_at FROM receipts
		WHERE `+fileOrdersWhere+` AND (sold_at > ? OR (sold_at = ? AND id > ?)) ORDER BY sold_at, id LIMIT ?`,
		after.sold, after.sold, after.id, limit)
	if err != nil {
		return after, 0, fmt.Errorf("orders of the file: %w", err)
	}
	var page []ReceiptRecord
	key := after
	for rows.Next() {
		rec, sold, err := scanFileOrder(rows)
		if err != nil {
			rows.Close()
			return after, 0, fmt.Errorf("orders of the file: %w", err)
		}
		page = append(page, rec)
		key = FileOrderKey{sold: sold, id: rec.ID}
	}
	err = errors.Join(rows.Err(), rows.Close())
	if err != nil {
		return after, 0, fmt.Errorf("orders of the file: %w", err)
	}
	// The rows are closed before fn runs: fn may write for as long as a slow folder takes.
	for _, rec := range page {
		if err := fn(rec); err != nil {
			return after, 0, err
		}
	}
	return key, len(page), nil
}

// LastFileOrder returns the newest order of the file, if there is one.
func (s *Store) LastFileOrder(ctx context.Context) (ReceiptRecord, bool, error) {
	rec, _, err := scanFileOrder(s.db.QueryRowContext(ctx, `SELECT `+receiptColumns+`, sold_at FROM receipts
		WHERE `+fileOrdersWhere+` ORDER BY sold_at DESC, id DESC LIMIT 1`))
	if errors.Is(err, sql.ErrNoRows) {
		return ReceiptRecord{}, false, nil
	}
	if err != nil {
		return ReceiptRecord{}, false, fmt.Errorf("newest order of the file: %w", err)
	}
	return rec, true, nil
}

// scanFileOrder scans a receipt followed by its stored sold_at, the page key.
func scanFileOrder(r rowScanner) (ReceiptRecord, string, error) {
	var sold string
	rec, err := scanReceipt(scanTail{r, &sold})
	return rec, sold, err
}

// scanTail scans one more column after those scanReceipt asks for.
type scanTail struct {
	r    rowScanner
	tail any
}

func (s scanTail) Scan(dest ...any) error { return s.r.Scan(append(dest, s.tail)...) }

// ReceiptNumber is a BAS Номер given to a receipt.
type ReceiptNumber struct{ ID, Number string }

// SetReceiptNumbers gives the receipts their numbers, all in one transaction. An unknown ID is
// ErrNotFound; a Number another receipt has is ErrDuplicateNumber, and then none is given.
func (s *Store) SetReceiptNumbers(ctx context.Context, numbers []ReceiptNumber) error {
	if len(numbers) == 0 {
		return nil
	}
	return s.tx(ctx, "number receipts", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE receipts SET number = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, n := range numbers {
			res, err := st.ExecContext(ctx, n.Number, n.ID)
			if isUnique(err) {
				return fmt.Errorf("receipt %s: number %q: %w", n.ID, n.Number, ErrDuplicateNumber)
			}
			if err != nil {
				return fmt.Errorf("receipt %s: %w", n.ID, err)
			}
			if err := oneRow(res); err != nil {
				return fmt.Errorf("receipt %s: %w", n.ID, err)
			}
		}
		return nil
	})
}
