package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The state of BAS's retail sales reports («Отчет о розничных продажах»): one row per Checkbox shift of
// a register whose receipts obmin has seen, the link of each receipt to its shift, and how far the
// receipts were scanned for new shifts (docs/bas-odata.md §4).
const reportsSchema = `
CREATE TABLE retail_reports (
	shift_id      TEXT PRIMARY KEY,
	register_id   TEXT NOT NULL,
	fiscal_number TEXT NOT NULL DEFAULT '',
	serial        INTEGER NOT NULL DEFAULT 0,
	opened_at     TEXT NOT NULL DEFAULT '',
	closed_at     TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL,
	reason        TEXT NOT NULL DEFAULT '',
	ref_key       TEXT NOT NULL DEFAULT '',
	number        TEXT NOT NULL DEFAULT '',
	bas_total     INTEGER NOT NULL DEFAULT 0,
	receipts      INTEGER NOT NULL DEFAULT 0,
	receipts_hash TEXT NOT NULL DEFAULT '',
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_try      TEXT NOT NULL DEFAULT '',
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL,
	sent_at       TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX retail_reports_by_state ON retail_reports (state, closed_at);

CREATE TABLE retail_receipts (
	receipt_id TEXT PRIMARY KEY,
	shift_id   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX retail_receipts_by_shift ON retail_receipts (shift_id, receipt_id);

CREATE TABLE retail_scan (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	seen_until TEXT NOT NULL
);

CREATE INDEX receipts_by_first_seen ON receipts (first_seen);
`

// Report states kept in ReportRecord.State.
const (
	ReportStateOpen    = "open"    // the shift is not closed yet: its receipts are not final
	ReportStatePending = "pending" // closed, or its receipts changed: the report is to be made or rewritten
	ReportStateHeld    = "held"    // cannot go out until BAS or the configuration catches up; Reason says why
	ReportStateSent    = "sent"    // in BAS, equal to the receipts, not posted (bas.odata.post: false)
	ReportStatePosted  = "posted"  // in BAS, equal to the receipts, posted
	ReportStateEmpty   = "empty"   // closed without sales or returns: no report is needed
	ReportStateError   = "error"   // BAS refused it; Reason holds BAS's message; tried again at NextTry
)

func validReportState(state string) bool {
	switch state {
	case ReportStateOpen, ReportStatePending, ReportStateHeld, ReportStateSent, ReportStatePosted, ReportStateEmpty, ReportStateError:
		return true
	}
	return false
}

// ReportRecord is one Checkbox shift and what obmin did about its retail sales report in BAS.
type ReportRecord struct {
	ShiftID, RegisterID string
	FiscalNumber        string // the register's
	Serial              int64  // the shift's number on its register
	OpenedAt, ClosedAt  time.Time
	State, Reason       string
	Ref, Number         string // the report in BAS: Ref_Key and Номер
	Total               int64  // kopecks: the report's total as BAS computed it (СуммаДокумента)
	Receipts            int    // receipts of the shift the report was built from
	Hash                string // ReceiptsHash of those receipts
	Attempts            int    // BAS's refusals in a row
	NextTry             time.Time
	CreatedAt           time.Time
	UpdatedAt           time.Time
	SentAt              time.Time // when BAS last took the report
}

const reportColumns = `shift_id, register_id, fiscal_number, serial, opened_at, closed_at, state, reason, ref_key,
	number, bas_total, receipts, receipts_hash, attempts, next_try, created_at, updated_at, sent_at`

func scanReport(r rowScanner) (ReportRecord, error) {
	var rec ReportRecord
	var opened, closed, next, created, updated, sent string
	err := r.Scan(&rec.ShiftID, &rec.RegisterID, &rec.FiscalNumber, &rec.Serial, &opened, &closed, &rec.State, &rec.Reason,
		&rec.Ref, &rec.Number, &rec.Total, &rec.Receipts, &rec.Hash, &rec.Attempts, &next, &created, &updated, &sent)
	if err != nil {
		return ReportRecord{}, err
	}
	var ts timeParser
	rec.OpenedAt, rec.ClosedAt, rec.NextTry = ts.get(opened), ts.get(closed), ts.get(next)
	rec.CreatedAt, rec.UpdatedAt, rec.SentAt = ts.get(created), ts.get(updated), ts.get(sent)
	return rec, ts.err
}

// ReceiptShift links a receipt to its Checkbox shift and register.
type ReceiptShift struct {
	ReceiptID, ShiftID, RegisterID, FiscalNumber string
}

// LinkReceipts records which shift each receipt belongs to, in one transaction, and returns how many
// links are new. A shift seen for the first time gets a report record in state open. A new receipt of
// a shift whose report is settled (sent, posted, empty, held, error) puts it back to pending: a late
// offline receipt changes the report. A link already known changes nothing.
func (s *Store) LinkReceipts(ctx context.Context, links []ReceiptShift) (int, error) {
	if len(links) == 0 {
		return 0, nil
	}
	now := formatTime(s.now())
	added := 0
	err := s.tx(ctx, "link receipts to shifts", func(tx *sql.Tx) error {
		added = 0
		for _, l := range links {
			if l.ReceiptID == "" || l.ShiftID == "" {
				return fmt.Errorf("receipt %q of shift %q: both ids are required", l.ReceiptID, l.ShiftID)
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO retail_receipts (receipt_id, shift_id) VALUES (?, ?)
				ON CONFLICT (receipt_id) DO NOTHING`, l.ReceiptID, strings.ToLower(l.ShiftID))
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				continue
			}
			added++
			if _, err := tx.ExecContext(ctx, `INSERT INTO retail_reports (shift_id, register_id, fiscal_number, state, created_at, updated_at)
				VALUES (?1, ?2, ?3, 'open', ?4, ?4)
				ON CONFLICT (shift_id) DO UPDATE SET
					state = CASE WHEN state IN ('sent', 'posted', 'empty', 'held', 'error') THEN 'pending' ELSE state END,
					next_try = '',
					fiscal_number = CASE WHEN fiscal_number = '' THEN excluded.fiscal_number ELSE fiscal_number END,
					updated_at = ?4`,
				strings.ToLower(l.ShiftID), l.RegisterID, l.FiscalNumber, now); err != nil {
				return err
			}
		}
		return nil
	})
	return added, err
}

// ReceiptsFirstSeenSince calls fn for every receipt obmin first saw at or after since, oldest first.
func (s *Store) ReceiptsFirstSeenSince(ctx context.Context, since time.Time, fn func(ReceiptRecord) error) error {
	return s.eachReceipt(ctx, "receipts first seen since", fn, `WHERE first_seen >= ? ORDER BY first_seen, id`, formatTime(since))
}

// ShiftReceipts calls fn for every receipt linked to the shift, ordered by time of sale.
func (s *Store) ShiftReceipts(ctx context.Context, shiftID string, fn func(ReceiptRecord) error) error {
	return s.eachReceipt(ctx, "receipts of shift "+shiftID, fn,
		`WHERE id IN (SELECT receipt_id FROM retail_receipts WHERE shift_id = ?) ORDER BY sold_at, id`, strings.ToLower(shiftID))
}

// ReceiptsHash identifies the set of receipts linked to a shift, with each receipt's Checkbox status:
// a report built from the same hash holds the same receipts. It also returns how many there are.
func (s *Store) ReceiptsHash(ctx context.Context, shiftID string) (string, int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT r.id, r.status FROM retail_receipts x JOIN receipts r ON r.id = x.receipt_id
		WHERE x.shift_id = ? ORDER BY r.id`, strings.ToLower(shiftID))
	if err != nil {
		return "", 0, fmt.Errorf("receipts of shift %s: %w", shiftID, err)
	}
	defer rows.Close()
	h := sha256.New()
	n := 0
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			return "", 0, fmt.Errorf("receipts of shift %s: %w", shiftID, err)
		}
		fmt.Fprintf(h, "%s\x00%s\n", id, status)
		n++
	}
	if err := rows.Err(); err != nil {
		return "", 0, fmt.Errorf("receipts of shift %s: %w", shiftID, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// RetailScanned returns how far the receipts were scanned for shifts; ok is false before the first scan.
func (s *Store) RetailScanned(ctx context.Context) (until time.Time, ok bool, err error) {
	var v string
	err = s.db.QueryRowContext(ctx, `SELECT seen_until FROM retail_scan WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("retail scan: %w", err)
	}
	until, err = parseTime(v)
	return until, err == nil, err
}

// SetRetailScanned records how far the receipts were scanned for shifts.
func (s *Store) SetRetailScanned(ctx context.Context, until time.Time) error {
	return s.tx(ctx, "set retail scan", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO retail_scan (id, seen_until) VALUES (1, ?)
			ON CONFLICT (id) DO UPDATE SET seen_until = excluded.seen_until`, formatTime(until))
		return err
	})
}

// Report returns the report record of a shift.
func (s *Store) Report(ctx context.Context, shiftID string) (ReportRecord, bool, error) {
	rec, err := scanReport(s.db.QueryRowContext(ctx, `SELECT `+reportColumns+` FROM retail_reports WHERE shift_id = ?`,
		strings.ToLower(shiftID)))
	if errors.Is(err, sql.ErrNoRows) {
		return ReportRecord{}, false, nil
	}
	if err != nil {
		return ReportRecord{}, false, fmt.Errorf("report of shift %s: %w", shiftID, err)
	}
	return rec, true, nil
}

// UpdateReport writes every field of an existing report record but its key, register and creation
// time; UpdatedAt becomes now. A record changed in between is not overwritten blindly: when onlyIf is
// not empty, the update applies only while the stored state is onlyIf (a late receipt that put the
// shift back to pending wins over a report built before it) and reports false otherwise.
func (s *Store) UpdateReport(ctx context.Context, r ReportRecord, onlyIf string) (bool, error) {
	if !validReportState(r.State) {
		return false, fmt.Errorf("update report of shift %s: unknown state %q", r.ShiftID, r.State)
	}
	var applied bool
	err := s.tx(ctx, "update report of shift "+r.ShiftID, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE retail_reports SET fiscal_number = ?, serial = ?, opened_at = ?, closed_at = ?,
			state = ?, reason = ?, ref_key = ?, number = ?, bas_total = ?, receipts = ?, receipts_hash = ?, attempts = ?,
			next_try = ?, updated_at = ?, sent_at = ?
			WHERE shift_id = ? AND (? = '' OR state = ?)`,
			r.FiscalNumber, r.Serial, formatTime(r.OpenedAt), formatTime(r.ClosedAt), r.State, r.Reason, r.Ref, r.Number, r.Total,
			r.Receipts, r.Hash, r.Attempts, formatTime(r.NextTry), formatTime(s.now()), formatTime(r.SentAt),
			strings.ToLower(r.ShiftID), onlyIf, onlyIf)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		applied = n == 1
		if err == nil && !applied && onlyIf == "" {
			return ErrNotFound
		}
		return err
	})
	return applied, err
}

// ReportsInState calls fn for every report record in one of states, the shifts closed first first. fn
// may call other Store methods.
func (s *Store) ReportsInState(ctx context.Context, fn func(ReportRecord) error, states ...string) error {
	if len(states) == 0 {
		return nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?,", len(states)), ",")
	args := make([]any, len(states))
	for i, st := range states {
		args[i] = st
	}
	return s.eachReport(ctx, fn, `WHERE state IN (`+marks+`) ORDER BY closed_at, shift_id`, args...)
}

// ReportsClosedSince calls fn for every report record of a shift closed at or after since, newest first.
func (s *Store) ReportsClosedSince(ctx context.Context, since time.Time, fn func(ReportRecord) error) error {
	return s.eachReport(ctx, fn, `WHERE closed_at >= ? ORDER BY closed_at DESC, shift_id`, formatTime(since))
}

func (s *Store) eachReport(ctx context.Context, fn func(ReportRecord) error, where string, args ...any) error {
	rows, err := s.db.QueryContext(ctx, `SELECT `+reportColumns+` FROM retail_reports `+where, args...)
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	// Read all first: fn may write, and a write must not wait on this read's snapshot.
	var recs []ReportRecord
	for rows.Next() {
		rec, err := scanReport(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("reports: %w", err)
		}
		recs = append(recs, rec)
	}
	err = errors.Join(rows.Err(), rows.Close())
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	for _, r := range recs {
		if err := fn(r); err != nil {
			return err
		}
	}
	return nil
}

// ReportCounts returns how many report records are in each state; states without any are absent.
func (s *Store) ReportCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT state, count(*) FROM retail_reports GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("report counts: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, fmt.Errorf("report counts: %w", err)
		}
		out[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("report counts: %w", err)
	}
	return out, nil
}

// ShiftsOfReceiptsSold returns the shift of every linked receipt sold in [from, to), by receipt id:
// reconciliation's view of which report carries each receipt of a day.
func (s *Store) ShiftsOfReceiptsSold(ctx context.Context, from, to time.Time) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT x.receipt_id, x.shift_id FROM retail_receipts x JOIN receipts r ON r.id = x.receipt_id
		WHERE r.sold_at >= ? AND r.sold_at < ?`, formatTime(from), formatTime(to))
	if err != nil {
		return nil, fmt.Errorf("shifts of receipts sold: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var receipt, shift string
		if err := rows.Scan(&receipt, &shift); err != nil {
			return nil, fmt.Errorf("shifts of receipts sold: %w", err)
		}
		out[receipt] = shift
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("shifts of receipts sold: %w", err)
	}
	return out, nil
}
