package store

import (
	"context"
	"database/sql"
	"fmt"
)

// noticesSchema is migration 2: what notifications have told about each open condition, so that a
// restart neither tells it again nor forgets to say it cleared (package notify keeps its records here).
const noticesSchema = `
CREATE TABLE notices (
	key        TEXT PRIMARY KEY,
	data       TEXT NOT NULL,
	updated_at TEXT NOT NULL
) WITHOUT ROWID;
`

// Notices returns every notice record by key. The records are notify's own (JSON); the store keeps them
// whole.
func (s *Store) Notices(ctx context.Context) (map[string][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key, data FROM notices`)
	if err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	defer rows.Close()
	out := map[string][]byte{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, fmt.Errorf("notices: %w", err)
		}
		out[k] = []byte(v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("notices: %w", err)
	}
	return out, nil
}

// PutNotice stores the notice record under key, replacing what was there.
func (s *Store) PutNotice(ctx context.Context, key string, data []byte) error {
	return s.tx(ctx, "put notice "+key, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notices (key, data, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
			key, string(data), formatTime(s.now()))
		return err
	})
}

// DeleteNotice removes the notice record under key; a missing one is no error.
func (s *Store) DeleteNotice(ctx context.Context, key string) error {
	return s.tx(ctx, "delete notice "+key, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM notices WHERE key = ?`, key)
		return err
	})
}
