package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// DropState is a drop's state, kept in DropRecord.State; the strings are what the state store holds.
type DropState string

// Drop states.
const (
	DropStateInbox      DropState = "inbox"      // taken out of BAS's folder, not started
	DropStateProcessing DropState = "processing" // claimed; being applied (or waiting to retry)
	DropStateDone       DropState = "done"       // every effect recorded
	DropStateFailed     DropState = "failed"     // quarantined; Error says why
	DropStateDuplicate  DropState = "duplicate"  // same content as an earlier drop; not applied again
)

// DropRecord is one BAS export taken into the spool. Drops are deduplicated by Fingerprint, a hash of
// their content: BAS reuses file names, so a path says nothing (docs/reliability.md §4).
type DropRecord struct {
	ID, Fingerprint, Source string
	State                   DropState
	Error                   string
	Files                   int
	CreatedAt, UpdatedAt    time.Time
}

func validDropState(state DropState) bool {
	switch state {
	case DropStateInbox, DropStateProcessing, DropStateDone, DropStateFailed, DropStateDuplicate:
		return true
	}
	return false
}

const dropColumns = `id, fingerprint, source, state, error, files, created_at, updated_at`

func scanDrop(r rowScanner) (DropRecord, error) {
	var d DropRecord
	var created, updated string
	if err := r.Scan(&d.ID, &d.Fingerprint, &d.Source, &d.State, &d.Error, &d.Files, &created, &updated); err != nil {
		return DropRecord{}, err
	}
	var ts timeParser
	d.CreatedAt, d.UpdatedAt = ts.get(created), ts.get(updated)
	return d, ts.err
}

// DropByFingerprint returns the drop that first brought this content: the oldest one not itself marked
// duplicate (or, failing that, the oldest one).
func (s *Store) DropByFingerprint(ctx context.Context, fp string) (DropRecord, bool, error) {
	row := s.db.QueryRowContext(ctx, `SELECT `+dropColumns+` FROM drops WHERE fingerprint = ?
		ORDER BY state = 'duplicate', created_at, id LIMIT 1`, fp)
	d, err := scanDrop(row)
	if errors.Is(err, sql.ErrNoRows) {
		return DropRecord{}, false, nil
	}
	if err != nil {
		return DropRecord{}, false, fmt.Errorf("drop by fingerprint %s: %w", fp, err)
	}
	return d, true, nil
}

// PutDrop inserts d, or replaces the drop with the same ID. An update keeps the original CreatedAt. Zero
// CreatedAt and UpdatedAt are set to now.
func (s *Store) PutDrop(ctx context.Context, d DropRecord) error {
	if d.ID == "" || d.Fingerprint == "" {
		return fmt.Errorf("put drop %q: ID and Fingerprint are required", d.ID)
	}
	if !validDropState(d.State) {
		return fmt.Errorf("put drop %s: unknown state %q", d.ID, d.State)
	}
	return s.tx(ctx, "put drop "+d.ID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO drops (`+dropColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET fingerprint = excluded.fingerprint, source = excluded.source,
				state = excluded.state, error = excluded.error, files = excluded.files, updated_at = excluded.updated_at`,
			d.ID, d.Fingerprint, d.Source, d.State, d.Error, d.Files, formatTime(s.stamp(d.CreatedAt)), formatTime(s.stamp(d.UpdatedAt)))
		return err
	})
}

// SetDropState moves a drop to state, with errText as its Error ("" clears it), and stamps UpdatedAt.
// An unknown id is ErrNotFound.
func (s *Store) SetDropState(ctx context.Context, id string, state DropState, errText string) error {
	if !validDropState(state) {
		return fmt.Errorf("set drop %s state: unknown state %q", id, state)
	}
	return s.tx(ctx, "set drop "+id+" state", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE drops SET state = ?, error = ?, updated_at = ? WHERE id = ?`,
			state, errText, formatTime(s.now()), id)
		if err != nil {
			return err
		}
		return oneRow(res)
	})
}

// RecentDrops returns up to limit drops, newest first; limit <= 0 returns all.
func (s *Store) RecentDrops(ctx context.Context, limit int) ([]DropRecord, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+dropColumns+` FROM drops
		ORDER BY created_at DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("recent drops: %w", err)
	}
	defer rows.Close()
	var out []DropRecord
	for rows.Next() {
		d, err := scanDrop(rows)
		if err != nil {
			return nil, fmt.Errorf("recent drops: %w", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("recent drops: %w", err)
	}
	return out, nil
}

// oneRow turns "no row changed" into ErrNotFound.
func oneRow(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
