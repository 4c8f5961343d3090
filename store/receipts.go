package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ReceiptState is a receipt's state, kept in ReceiptRecord.State; the strings are what the state store
// holds. The one definition: exchange names them too (exchange.StatePending …), as these.
type ReceiptState string

// Receipt states.
const (
	ReceiptStatePending   ReceiptState = "pending"   // in the orders file; BAS has not confirmed it yet
	ReceiptStateConfirmed ReceiptState = "confirmed" // BAS's orders export shows its Номер, or BAS acknowledged it over HTTP
	ReceiptStateDelivered ReceiptState = "delivered" // was in the orders file across enough of BAS's runs and long enough; left it
	ReceiptStateHeld      ReceiptState = "held"      // a line's good BAS never exported: not sent, Reason says which; staff must act
	ReceiptStateSkipped   ReceiptState = "skipped"   // not a sale: service receipts, unfinished (non-DONE) receipts
	ReceiptStateReturn    ReceiptState = "return"    // a return not settled yet (orders.go)
	ReceiptStateAmended   ReceiptState = "amended"   // a return applied to its sale's order in the file
	ReceiptStateListed    ReceiptState = "listed"    // a return listed for staff to enter in BAS
	ReceiptStateRetail    ReceiptState = "retail"    // reaches BAS only in its shift's retail sales report (reports.go)
)

// ReceiptRecord is one Checkbox receipt obmin has seen, keyed by the Checkbox receipt id.
type ReceiptRecord struct {
	ID, RegisterID, Type, Status string
	Number                       string    // the BAS Номер obmin gives it; unique among receipts
	When                         time.Time // time of sale (fiscal date)
	TotalSum                     int64     // kopecks (docs/checkbox-rest.md §2.2: money is integer kopecks)
	State                        ReceiptState
	Reason                       string
	Raw                          []byte // the receipt JSON as received
	Document                     []byte // the CommerceML document (JSON) derived from it; nil for held/skipped
	FirstSeen, ConfirmedAt       time.Time
}

func validReceiptState(state ReceiptState) bool {
	switch state {
	case ReceiptStatePending, ReceiptStateConfirmed, ReceiptStateDelivered, ReceiptStateHeld, ReceiptStateSkipped,
		ReceiptStateReturn, ReceiptStateAmended, ReceiptStateListed, ReceiptStateRetail:
		return true
	}
	return false
}

const receiptColumns = `id, register_id, type, status, number, sold_at, total_sum, state, reason, raw, document,
	first_seen, confirmed_at`

func scanReceipt(r rowScanner) (ReceiptRecord, error) {
	var rec ReceiptRecord
	var sold, first, confirmed string
	err := r.Scan(&rec.ID, &rec.RegisterID, &rec.Type, &rec.Status, &rec.Number, &sold, &rec.TotalSum, &rec.State,
		&rec.Reason, &rec.Raw, &rec.Document, &first, &confirmed)
	if err != nil {
		return ReceiptRecord{}, err
	}
	var ts timeParser
	rec.When, rec.FirstSeen, rec.ConfirmedAt = ts.get(sold), ts.get(first), ts.get(confirmed)
	return rec, ts.err
}

// AddReceipt inserts r if its ID is new and returns true. A known ID is left untouched and returns false:
// this is the exactly-once gate for receipts, whether they come from overlapping pulls or repeated
// webhooks. A new ID with a Number another receipt has is an error wrapping ErrDuplicateNumber. A zero
// FirstSeen is set to now.
func (s *Store) AddReceipt(ctx context.Context, r ReceiptRecord) (added bool, err error) {
	if r.ID == "" {
		return false, errors.New("add receipt: empty ID")
	}
	if !validReceiptState(r.State) {
		return false, fmt.Errorf("add receipt %s: unknown state %q", r.ID, r.State)
	}
	// The conflict target is the id only: a clash on the number index still fails the insert.
	return s.receiptRow(ctx, "add receipt "+r.ID, r.Number, `INSERT INTO receipts (`+receiptColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		r.ID, r.RegisterID, r.Type, r.Status, r.Number, formatTime(r.When), r.TotalSum, r.State, r.Reason,
		textOrNull(r.Raw), textOrNull(r.Document), formatTime(s.stamp(r.FirstSeen)), formatTime(r.ConfirmedAt))
}

// receiptRow runs one statement on one receipt in a write transaction and says whether it changed a
// row; a clash on the number index is ErrDuplicateNumber.
func (s *Store) receiptRow(ctx context.Context, what, number, query string, args ...any) (bool, error) {
	var changed bool
	err := s.tx(ctx, what, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if isUnique(err) {
			return fmt.Errorf("number %q: %w", number, ErrDuplicateNumber)
		}
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		changed = n == 1
		return err
	})
	return changed, err
}

// Receipt returns the receipt with this Checkbox id.
func (s *Store) Receipt(ctx context.Context, id string) (ReceiptRecord, bool, error) {
	rec, err := scanReceipt(s.db.QueryRowContext(ctx, `SELECT `+receiptColumns+` FROM receipts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ReceiptRecord{}, false, nil
	}
	if err != nil {
		return ReceiptRecord{}, false, fmt.Errorf("receipt %s: %w", id, err)
	}
	return rec, true, nil
}

// UpdateReceipt sets State, Reason, Document and Number of the receipt with r.ID; the other fields are
// what was received and do not change. A receipt that becomes confirmed without a ConfirmedAt gets
// r.ConfirmedAt, or now. An unknown ID is ErrNotFound; a Number another receipt has is
// ErrDuplicateNumber.
func (s *Store) UpdateReceipt(ctx context.Context, r ReceiptRecord) error {
	if !validReceiptState(r.State) {
		return fmt.Errorf("update receipt %s: unknown state %q", r.ID, r.State)
	}
	return s.tx(ctx, "update receipt "+r.ID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE receipts SET state = ?1, reason = ?2, document = ?3, number = ?4,
			confirmed_at = CASE WHEN ?1 = 'confirmed' AND confirmed_at = '' THEN ?5 ELSE confirmed_at END
			WHERE id = ?6`,
			r.State, r.Reason, textOrNull(r.Document), r.Number, formatTime(s.stamp(r.ConfirmedAt)), r.ID)
		if isUnique(err) {
			return fmt.Errorf("number %q: %w", r.Number, ErrDuplicateNumber)
		}
		if err != nil {
			return err
		}
		return oneRow(res)
	})
}

// AdvanceReceipt replaces what is known of a receipt obmin skipped as unfinished (its Checkbox status was
// fromStatus, not DONE) by r: the new status, number, time, sum, raw JSON, state, reason and document.
// It changes nothing and returns false when the stored receipt is not that one any more: its status
// moved on meanwhile, or it is a finished receipt, which never goes back (BAS may hold it). FirstSeen
// and ConfirmedAt stay.
func (s *Store) AdvanceReceipt(ctx context.Context, r ReceiptRecord, fromStatus string) (bool, error) {
	if !validReceiptState(r.State) {
		return false, fmt.Errorf("advance receipt %s: unknown state %q", r.ID, r.State)
	}
	return s.receiptRow(ctx, "advance receipt "+r.ID, r.Number, `UPDATE receipts SET status = ?, number = ?, sold_at = ?,
		total_sum = ?, state = ?, reason = ?, raw = ?, document = ?
		WHERE id = ? AND status = ? AND status <> 'DONE' AND state = 'skipped'`,
		r.Status, r.Number, formatTime(r.When), r.TotalSum, r.State, r.Reason, textOrNull(r.Raw), textOrNull(r.Document),
		r.ID, fromStatus)
}

// SetReceiptStatus records that Checkbox now gives a receipt status to instead of from, and nothing else:
// for a finished receipt whose status changed after it reached BAS. False when the stored status is not
// from.
func (s *Store) SetReceiptStatus(ctx context.Context, id, from, to string) (bool, error) {
	return s.receiptRow(ctx, "set receipt status "+id, "", `UPDATE receipts SET status = ? WHERE id = ? AND status = ?`, to, id, from)
}

// ReceiptsInState calls fn for every receipt in state, ordered by When then ID. fn may call other Store
// methods (UpdateReceipt included); the walk reads the snapshot taken when it began. An error from fn
// stops the walk and is returned as it is.
func (s *Store) ReceiptsInState(ctx context.Context, state ReceiptState, fn func(ReceiptRecord) error) error {
	return s.eachReceipt(ctx, "receipts "+string(state), fn, `WHERE state = ? ORDER BY sold_at, id`, state)
}

// ConfirmedSince calls fn for every confirmed receipt with ConfirmedAt >= since (the re-send window, in
// which confirmed receipts stay in the orders file), ordered by When then ID.
func (s *Store) ConfirmedSince(ctx context.Context, since time.Time, fn func(ReceiptRecord) error) error {
	return s.eachReceipt(ctx, "receipts confirmed since", fn,
		`WHERE state = 'confirmed' AND confirmed_at >= ? ORDER BY sold_at, id`, formatTime(since))
}

func (s *Store) eachReceipt(ctx context.Context, what string, fn func(ReceiptRecord) error, where string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+receiptColumns+` FROM receipts `+where, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	for rows.Next() {
		rec, err := scanReceipt(rows)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// ConfirmNumbers marks the pending and delivered receipts whose Number is in numbers as confirmed at now
// and returns how many changed. Numbers of receipts in another state, or unknown, are ignored.
func (s *Store) ConfirmNumbers(ctx context.Context, numbers []string, now time.Time) (int, error) {
	if len(numbers) == 0 {
		return 0, nil
	}
	// One JSON array parameter instead of an IN list: BAS's export may hold more numbers than SQLite
	// allows bound parameters.
	list, err := json.Marshal(numbers)
	if err != nil {
		return 0, fmt.Errorf("confirm numbers: %w", err)
	}
	var n int64
	err = s.tx(ctx, "confirm numbers", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE receipts SET state = 'confirmed', confirmed_at = ?
			WHERE state IN ('pending', 'delivered') AND number <> '' AND number IN (SELECT value FROM json_each(?))`,
			formatTime(s.stamp(now)), string(list))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// ReceiptCounts returns how many receipts are in each state; states without receipts are absent.
func (s *Store) ReceiptCounts(ctx context.Context) (map[ReceiptState]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, count(*) FROM receipts GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("receipt counts: %w", err)
	}
	defer rows.Close()
	out := map[ReceiptState]int{}
	for rows.Next() {
		var state ReceiptState
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("receipt counts: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("receipt counts: %w", err)
	}
	return out, nil
}
