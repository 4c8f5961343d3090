package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// jobHistoryCap is how many job runs the history keeps; older ones are dropped as new ones come.
const jobHistoryCap = 1000

// JobRun is one run of a scheduled job, for the status view and for catching up missed cron runs.
type JobRun struct {
	Name       string
	Start, End time.Time
	Err        string // "" when the run succeeded
	Summary    string
}

// Cursor returns the time up to which receipts of a cash register were pulled.
func (s *Store) Cursor(ctx context.Context, registerID string) (time.Time, bool, error) {
	var until string
	err := s.db.QueryRowContext(ctx, `SELECT until FROM cursors WHERE register_id = ?`, registerID).Scan(&until)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("cursor of %s: %w", registerID, err)
	}
	t, err := parseTime(until)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("cursor of %s: %w", registerID, err)
	}
	return t, true, nil
}

// SetCursor records that receipts of a cash register were pulled up to t. It may move the cursor back:
// re-reading a window is harmless, as AddReceipt lets each receipt in once.
func (s *Store) SetCursor(ctx context.Context, registerID string, t time.Time) error {
	if t.IsZero() {
		return fmt.Errorf("set cursor of %s: zero time", registerID)
	}
	return s.tx(ctx, "set cursor of "+registerID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO cursors (register_id, until) VALUES (?, ?)
			ON CONFLICT (register_id) DO UPDATE SET until = excluded.until`, registerID, formatTime(t))
		return err
	})
}

// RecordJob stores a job run: it becomes the job's last run unless one that started later is already
// recorded, and it is appended to the history, which keeps the newest 1000 runs.
func (s *Store) RecordJob(ctx context.Context, r JobRun) error {
	if r.Name == "" {
		return errors.New("record job: empty name")
	}
	start, end := formatTime(r.Start), formatTime(r.End)
	return s.tx(ctx, "record job "+r.Name, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO job_last (name, start_at, end_at, error, summary) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET start_at = excluded.start_at, end_at = excluded.end_at,
				error = excluded.error, summary = excluded.summary
			WHERE excluded.start_at >= job_last.start_at`,
			r.Name, start, end, r.Err, r.Summary); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO job_history (name, start_at, end_at, error, summary) VALUES (?, ?, ?, ?, ?)`,
			r.Name, start, end, r.Err, r.Summary); err != nil {
			return err
		}
		// Ids only grow (the newest row is never deleted), so the cut is the id cap rows below the newest.
		_, err := tx.ExecContext(ctx, `DELETE FROM job_history
			WHERE id <= (SELECT id FROM job_history ORDER BY id DESC LIMIT 1 OFFSET ?)`, s.jobCap)
		return err
	})
}

func scanJob(r rowScanner) (JobRun, error) {
	var j JobRun
	var start, end string
	if err := r.Scan(&j.Name, &start, &end, &j.Err, &j.Summary); err != nil {
		return JobRun{}, err
	}
	var ts timeParser
	j.Start, j.End = ts.get(start), ts.get(end)
	return j, ts.err
}

// LastJob returns the last run of the named job.
func (s *Store) LastJob(ctx context.Context, name string) (JobRun, bool, error) {
	j, err := scanJob(s.db.QueryRowContext(ctx,
		`SELECT name, start_at, end_at, error, summary FROM job_last WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return JobRun{}, false, nil
	}
	if err != nil {
		return JobRun{}, false, fmt.Errorf("last run of %s: %w", name, err)
	}
	return j, true, nil
}

// JobHistory returns up to limit job runs of every job, the most recently recorded first; limit <= 0
// returns the whole history.
func (s *Store) JobHistory(ctx context.Context, limit int) ([]JobRun, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx,
		`SELECT name, start_at, end_at, error, summary FROM job_history ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("job history: %w", err)
	}
	defer rows.Close()
	var out []JobRun
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("job history: %w", err)
		}
		out = append(out, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("job history: %w", err)
	}
	return out, nil
}
