package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"obmin/internal/golden"
)

// mustOpenStore opens a store at path and closes it when the test ends.
func mustOpenStore(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// openTest opens a fresh store in a temporary folder with a fixed clock.
func openTest(tb testing.TB) *Store {
	tb.Helper()
	s := mustOpenStore(tb, filepath.Join(tb.TempDir(), "state", "obmin.db"))
	s.now = func() time.Time { return testT0 }
	return s
}

var testT0 = time.Date(2025, 3, 1, 18, 3, 55, 123456789, time.UTC)

func ptr[T any](v T) *T { return &v }

func TestStoreDSN(t *testing.T) {
	tests := []struct {
		path    string
		wantErr string
	}{
		{path: "/var/lib/obmin/state.db"},
		{path: `C:\ProgramData\obmin\state.db`},
		{path: "/tmp/with space/#50%/state.db"},
		{path: "", wantErr: "empty path"},
		{path: "/tmp/a?b/state.db", wantErr: "must not contain '?'"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dsn, err := dataSourceName(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("dataSourceName(%q) error = %v, want %q", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("dataSourceName(%q): %v", tt.path, err)
			}
			name, query, _ := strings.Cut(dsn, "?")
			if name != tt.path {
				t.Errorf("file name = %q, want %q", name, tt.path)
			}
			for _, want := range []string{"busy_timeout%2810000%29", "journal_mode%28WAL%29", "synchronous%28FULL%29", "foreign_keys%281%29", "_txlock=immediate"} {
				if !strings.Contains(query, want) {
					t.Errorf("settings %q lack %q", query, want)
				}
			}
		})
	}
}

func TestStoreNetworkVolume(t *testing.T) {
	tests := []struct {
		vol  string
		want bool
	}{
		{"", false},
		{"C:", false},
		{`\\server\share`, true},
		{"//server/share", true},
		{`\\?\C:`, false},
		{`\\.\C:`, false},
		{`\\?\UNC\server\share`, true},
	}
	for _, tt := range tests {
		if got := networkVolume(tt.vol); got != tt.want {
			t.Errorf("networkVolume(%q) = %v, want %v", tt.vol, got, tt.want)
		}
	}
}

func TestStorePragmas(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	// Pragmas are per connection: hold several connections at once and check each of them.
	var conns []interface{ Close() error }
	for i := 0; i < 3; i++ {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		for _, p := range []struct {
			name, want string
		}{{"journal_mode", "wal"}, {"synchronous", "2"}, {"busy_timeout", "10000"}, {"foreign_keys", "1"}} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, p.name, err)
			}
			if got != p.want {
				t.Errorf("conn %d: PRAGMA %s = %s, want %s", i, p.name, got, p.want)
			}
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestStoreSchema compares the migrated schema with testdata/schema.golden (rewrite with -update),
// so a change to the schema is always a deliberate, reviewed one.
func TestStoreSchema(t *testing.T) {
	s := openTest(t)
	got := schemaDump(t, s)
	golden.Assert(t, filepath.Join("testdata", "schema.golden"), []byte(got))
}

func schemaDump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "-- user_version %d\n", version)
	rows, err := s.db.Query(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sql string
		if err := rows.Scan(&sql); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s;\n\n", strings.TrimSpace(sql))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestStoreMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "deep", "er", "obmin.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first := schemaDump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening applies nothing and changes nothing.
	for i := 0; i < 2; i++ {
		s, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if again := schemaDump(t, s); again != first {
			t.Fatalf("reopen %d changed the schema:\n%s\nwant\n%s", i, again, first)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A file from a newer obmin is refused, not half-understood.
	s = mustOpenStore(t, path)
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(migrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := Open(ctx, path); err == nil {
		s2.Close()
		t.Fatal("Open accepted a schema newer than it knows")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("error = %v, want one about a newer schema", err)
	}
}

func TestStoreConcurrentOpen(t *testing.T) {
	// Two agents (or an agent and the CLI) opening a fresh file at once migrate it once.
	path := filepath.Join(t.TempDir(), "obmin.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), path)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
}
