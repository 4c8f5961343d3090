package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Reads for the conditions a person is told about (package notify, through exchange).

// Drop returns the drop with this id.
func (s *Store) Drop(ctx context.Context, id string) (DropRecord, bool, error) {
	d, err := scanDrop(s.db.QueryRowContext(ctx, `SELECT `+dropColumns+` FROM drops WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return DropRecord{}, false, nil
	}
	if err != nil {
		return DropRecord{}, false, fmt.Errorf("drop %s: %w", id, err)
	}
	return d, true, nil
}

// HeldReceipts returns how many receipts are held and when obmin first saw the oldest of them (zero
// when none is held).
func (s *Store) HeldReceipts(ctx context.Context) (n int, oldest time.Time, err error) {
	var first sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT count(*), min(first_seen) FROM receipts WHERE state = ?`, ReceiptStateHeld).Scan(&n, &first)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("held receipts: %w", err)
	}
	if first.Valid {
		if oldest, err = parseTime(first.String); err != nil {
			return 0, time.Time{}, fmt.Errorf("held receipts: %w", err)
		}
	}
	return n, oldest, nil
}
