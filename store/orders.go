package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The state behind BAS's orders file: when each receipt's document went into the file, the exchange runs
// of BAS obmin has seen, and the order numbers taken in each year (docs/bas-orders.md).

// MarkInFile records at as the moment the documents of these receipts were first in the orders file, for
// those not marked yet. The caller passes the time the write completed, so a run of BAS that started
// after at surely read them.
func (s *Store) MarkInFile(ctx context.Context, ids []string, at time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("mark in file: %w", err)
	}
	return s.tx(ctx, "mark in file", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE receipts SET in_file_at = ? WHERE in_file_at = '' AND state = 'pending'
			AND id IN (SELECT value FROM json_each(?))`, formatTime(at), string(list))
		return err
	})
}

// RecordBASRun records one exchange run of BAS seen in folder: it started after startedAfter (the last
// listing that still showed the folder as the run before had left it); seenAt is when obmin saw it.
func (s *Store) RecordBASRun(ctx context.Context, folder string, startedAfter, seenAt time.Time) error {
	return s.tx(ctx, "record BAS run", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO bas_runs (folder, started_after, seen_at) VALUES (?, ?, ?)`,
			folder, formatTime(startedAfter), formatTime(s.stamp(seenAt)))
		if err != nil {
			return err
		}
		// A month of runs every minute is plenty for counting; older ones only fill the file.
		_, err = tx.ExecContext(ctx, `DELETE FROM bas_runs WHERE id <= (SELECT max(id) FROM bas_runs) - 50000`)
		return err
	})
}

// BASRuns says how many runs of BAS started after since, and when the newest of all was seen (zero when
// none ever was).
func (s *Store) BASRuns(ctx context.Context, since time.Time) (n int, last time.Time, err error) {
	var lastText sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM bas_runs WHERE started_after >= ?), (SELECT max(seen_at) FROM bas_runs)`,
		formatTime(since)).Scan(&n, &lastText)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("BAS runs: %w", err)
	}
	if lastText.Valid {
		if last, err = parseTime(lastText.String); err != nil {
			return 0, time.Time{}, fmt.Errorf("BAS runs: %w", err)
		}
	}
	return n, last, nil
}

// ReleaseFromFile moves the pending receipts that have been in the orders file since before notAfter
// and across at least minRuns runs of BAS to delivered, at now, and returns how many moved. Their
// documents then leave the file.
func (s *Store) ReleaseFromFile(ctx context.Context, notAfter time.Time, minRuns int, now time.Time) (int, error) {
	var n int64
	err := s.tx(ctx, "release from the orders file", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE receipts SET state = 'delivered', confirmed_at = ?1
			WHERE state = 'pending' AND in_file_at <> '' AND in_file_at <= ?2
			AND (SELECT count(*) FROM bas_runs WHERE bas_runs.started_after >= receipts.in_file_at) >= ?3`,
			formatTime(s.stamp(now)), formatTime(notAfter), minRuns)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

// InFileAt returns when the receipt's current document went into the orders file (zero: not yet).
func (s *Store) InFileAt(ctx context.Context, id string) (time.Time, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT in_file_at FROM receipts WHERE id = ?`, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("receipt %s: %w", id, err)
	}
	return parseTime(v)
}

// AmendSale applies a return to its sale in one transaction: the sale, still pending, gets its new
// document (and goes back to "not yet in the file", so it stays there across BAS's next runs), and the
// return becomes amended with reason. Either both change or neither: ErrNotFound when the sale is
// no longer pending or the return no longer waiting.
func (s *Store) AmendSale(ctx context.Context, saleID string, saleDocument []byte, returnID, reason string) error {
	return s.tx(ctx, "amend sale "+saleID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE receipts SET document = ?, in_file_at = '' WHERE id = ? AND state = 'pending'`,
			textOrNull(saleDocument), saleID)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return fmt.Errorf("sale %s: %w", saleID, err)
		}
		res, err = tx.ExecContext(ctx, `UPDATE receipts SET state = 'amended', reason = ? WHERE id = ? AND state = 'return'`, reason, returnID)
		if err != nil {
			return err
		}
		if err := oneRow(res); err != nil {
			return fmt.Errorf("return %s: %w", returnID, err)
		}
		return nil
	})
}

// ReceiptsSoldSince calls fn for every receipt in one of states sold at or after since, newest first.
func (s *Store) ReceiptsSoldSince(ctx context.Context, since time.Time, fn func(ReceiptRecord) error, states ...ReceiptState) error {
	list, err := json.Marshal(states)
	if err != nil {
		return err
	}
	return s.eachReceipt(ctx, "receipts sold since", fn,
		`WHERE state IN (SELECT value FROM json_each(?)) AND sold_at >= ? ORDER BY sold_at DESC, id`, string(list), formatTime(since))
}

// EachNumber calls fn with the number and time of sale of every receipt that has a number.
func (s *Store) EachNumber(ctx context.Context, fn func(number string, sold time.Time) error) error {
	rows, err := s.db.QueryContext(ctx, `SELECT number, sold_at FROM receipts WHERE number <> ''`)
	if err != nil {
		return fmt.Errorf("receipt numbers: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var number, sold string
		if err := rows.Scan(&number, &sold); err != nil {
			return fmt.Errorf("receipt numbers: %w", err)
		}
		t, err := parseTime(sold)
		if err != nil {
			return err
		}
		if err := fn(number, t); err != nil {
			return err
		}
	}
	return rows.Err()
}

// TakeOrderNumbers reserves count order numbers of year and returns the first: the numbers after the
// larger of the last number taken and floor (what obmin found it had written before, should its state
// have been lost).
func (s *Store) TakeOrderNumbers(ctx context.Context, year, count, floor int) (first int, err error) {
	err = s.tx(ctx, "take order numbers", func(tx *sql.Tx) error {
		last := 0
		err := tx.QueryRowContext(ctx, `SELECT last FROM order_numbers WHERE year = ?`, year).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		first = max(last, floor) + 1
		_, err = tx.ExecContext(ctx, `INSERT INTO order_numbers (year, last) VALUES (?1, ?2)
			ON CONFLICT (year) DO UPDATE SET last = ?2`, year, first+count-1)
		return err
	})
	return first, err
}

// OrderNumbersTaken returns the last order number taken in year (0 when none).
func (s *Store) OrderNumbersTaken(ctx context.Context, year int) (int, error) {
	var last int
	err := s.db.QueryRowContext(ctx, `SELECT last FROM order_numbers WHERE year = ?`, year).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("order numbers of %d: %w", year, err)
	}
	return last, nil
}
