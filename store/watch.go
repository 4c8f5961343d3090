package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"obmin/drop"
)

// What the watcher of BAS's folder and the orders delivery last saw, kept in the state so that every
// process (the service, `obmin status`, `obmin once`) shows the same: the folders that wait to become drops,
// and the configured folders that are missing or unreadable.

// FolderProblem is a configured folder obmin cannot use: missing, unreadable, not writable.
type FolderProblem struct {
	Key   string    `json:"key"` // the configuration key, e.g. "bas.export_dir"
	Path  string    `json:"path"`
	Error string    `json:"error"`
	Since time.Time `json:"since"`
}

// WatchState is the latest of both.
type WatchState struct {
	Waiting  []drop.Waiting  `json:"waiting"`
	Problems []FolderProblem `json:"folder_problems"`
	At       time.Time       `json:"at"` // when the waiting list last changed
}

// SetWaiting replaces the list of waiting folders.
func (s *Store) SetWaiting(ctx context.Context, at time.Time, waiting []drop.Waiting) error {
	return s.tx(ctx, "set waiting drops", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM watch_waiting`); err != nil {
			return err
		}
		for _, w := range waiting {
			if _, err := tx.ExecContext(ctx, `INSERT INTO watch_waiting (folder, since, reason, files, give_up) VALUES (?, ?, ?, ?, ?)`,
				w.Folder, formatTime(w.Since), w.Reason, w.Files, formatTime(w.GiveUpAt)); err != nil {
				return fmt.Errorf("folder %q: %w", w.Folder, err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO watch_scans (source, at) VALUES ('bas', ?)
			ON CONFLICT (source) DO UPDATE SET at = excluded.at`, formatTime(s.stamp(at)))
		return err
	})
}

// SetFolderProblem records that the folder of key cannot be used (problem != nil), keeping when that began
// if it was already so, or that it can again (problem == nil).
func (s *Store) SetFolderProblem(ctx context.Context, key, path string, problem error, at time.Time) error {
	return s.tx(ctx, "set folder problem "+key, func(tx *sql.Tx) error {
		if problem == nil {
			_, err := tx.ExecContext(ctx, `DELETE FROM watch_problems WHERE key = ?`, key)
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO watch_problems (key, path, error, since) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET path = excluded.path, error = excluded.error`,
			key, path, problem.Error(), formatTime(s.stamp(at)))
		return err
	})
}

// WatchState reads what SetWaiting and SetFolderProblem recorded.
func (s *Store) WatchState(ctx context.Context) (WatchState, error) {
	var st WatchState
	var ts timeParser
	rows, err := s.db.QueryContext(ctx, `SELECT folder, since, reason, files, give_up FROM watch_waiting ORDER BY since, folder`)
	if err != nil {
		return st, fmt.Errorf("waiting drops: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var w drop.Waiting
		var since, giveUp string
		if err := rows.Scan(&w.Folder, &since, &w.Reason, &w.Files, &giveUp); err != nil {
			return st, fmt.Errorf("waiting drops: %w", err)
		}
		w.Since, w.GiveUpAt = ts.get(since), ts.get(giveUp)
		st.Waiting = append(st.Waiting, w)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("waiting drops: %w", err)
	}
	prows, err := s.db.QueryContext(ctx, `SELECT key, path, error, since FROM watch_problems ORDER BY key`)
	if err != nil {
		return st, fmt.Errorf("folder problems: %w", err)
	}
	defer prows.Close()
	for prows.Next() {
		var p FolderProblem
		var since string
		if err := prows.Scan(&p.Key, &p.Path, &p.Error, &since); err != nil {
			return st, fmt.Errorf("folder problems: %w", err)
		}
		p.Since = ts.get(since)
		st.Problems = append(st.Problems, p)
	}
	if err := prows.Err(); err != nil {
		return st, fmt.Errorf("folder problems: %w", err)
	}
	var at sql.NullString
	if err := s.db.QueryRowContext(ctx, `SELECT at FROM watch_scans WHERE source = 'bas'`).Scan(&at); err != nil && err != sql.ErrNoRows {
		return st, fmt.Errorf("waiting drops: %w", err)
	}
	st.At = ts.get(at.String)
	return st, ts.err
}
