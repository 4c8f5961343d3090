package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Figures for monitoring (obmin's /metrics) that the status snapshot does not carry.

// OldestPending returns when obmin first saw the oldest receipt still waiting for BAS's confirmation
// (FirstSeen of the pending receipt seen first); ok is false when none is pending. FirstSeen rather than
// the time of sale: a receipt pulled late (the first pull reaches days back) has not been waiting for BAS
// that long.
func (s *Store) OldestPending(ctx context.Context) (first time.Time, ok bool, err error) {
	// Times are stored as fixed-width UTC text (timeLayout), so the text minimum is the earliest.
	var v sql.NullString
	err = s.db.QueryRowContext(ctx, `SELECT min(first_seen) FROM receipts WHERE state = ?`, ReceiptStatePending).Scan(&v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("oldest pending receipt: %w", err)
	}
	if !v.Valid || v.String == "" {
		return time.Time{}, false, nil
	}
	if first, err = parseTime(v.String); err != nil {
		return time.Time{}, false, fmt.Errorf("oldest pending receipt: %w", err)
	}
	return first, true, nil
}

// LastSuccesses returns, for every job with a successful run in the job history, when the newest such run
// ended. The history keeps the newest 1000 runs of all jobs together, so a job that has failed for longer
// than that has no entry.
func (s *Store) LastSuccesses(ctx context.Context) (map[string]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT name, max(end_at) FROM job_history WHERE error = '' GROUP BY name`)
	if err != nil {
		return nil, fmt.Errorf("last successful job runs: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var name, end string
		if err := rows.Scan(&name, &end); err != nil {
			return nil, fmt.Errorf("last successful job runs: %w", err)
		}
		t, err := parseTime(end)
		if err != nil {
			return nil, fmt.Errorf("last successful run of %s: %w", name, err)
		}
		if !t.IsZero() {
			out[name] = t
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("last successful job runs: %w", err)
	}
	return out, nil
}
