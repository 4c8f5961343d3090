package watch

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/testenv"
	"obmin/spool"
)

// openFailSource is a real folder (LocalDir) whose Open fails for chosen paths, as a share answers for a
// file obmin's account may not read (running as root, chmod denies nothing), and which can list files
// that are not there, as a share lists a name it then cannot open.
type openFailSource struct {
	folder.Source
	mu    sync.Mutex
	fail  map[string]error // by path: what Open returns
	ghost map[string]int   // by path: listed this many more times though absent
	opens map[string]int   // by path: Open calls
	root  string
}

func newOpenFailSource(root string) *openFailSource {
	return &openFailSource{Source: folder.LocalDir(root), root: root, fail: map[string]error{}, ghost: map[string]int{}, opens: map[string]int{}}
}

func (s *openFailSource) set(p string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.fail, p)
		return
	}
	s.fail[p] = err
}

func (s *openFailSource) opened(p string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.opens[p]
}

func (s *openFailSource) List(ctx context.Context) ([]drop.File, error) {
	files, err := s.Source.List(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for p, n := range s.ghost {
		if n == 0 {
			continue
		}
		s.ghost[p] = n - 1
		files = append(files, drop.File{Path: p, Size: 100, ModTime: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func (s *openFailSource) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	s.mu.Lock()
	s.opens[p]++
	err := s.fail[p]
	s.mu.Unlock()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: filepath.Join(s.root, p), Err: err}
	}
	return s.Source.Open(ctx, p)
}

// failedEntries lists failed/ of a spool.
func failedEntries(t *testing.T, s *spool.Spool) []string {
	t.Helper()
	return testenv.DirNames(t, s.Dir("failed"))
}

// TestWatcherUnopenableFiles: a file the source lists but will not open neither blocks its export for ever
// nor is retried for ever: it is decided case by case (Watcher.judge).
func TestWatcherUnopenableFiles(t *testing.T) {
	start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		setup func(src *openFailSource)
		scans int // one a minute
		// what the scans end with
		drops    int      // drops returned, in all
		failed   []string // in the failed/ note
		warnings int      // Warn and Error log entries
		// after the scans, the cause is removed (heal) and one more scan returns the whole drop
		heal func(src *openFailSource)
	}{
		{
			name:   "permission denied: failed/ after a few scans",
			setup:  func(src *openFailSource) { src.set("w/import.xml", syscall.EACCES) },
			scans:  5,
			failed: []string{`Пакет "w"`, "w/import.xml: немає дозволу на читання", "permission denied", "Щойно файли відкриються"},
			// one "cannot open" warning, one "described in failed/"
			warnings: 2,
			heal:     func(src *openFailSource) { src.set("w/import.xml", nil) },
		},
		{
			name:     "listed, never there (a name this system cannot open)",
			setup:    func(src *openFailSource) { src.ghost["w/import .xml"] = 1000 },
			scans:    5,
			failed:   []string{"w/import .xml: файл є в переліку теки, але за цим ім'ям не відкривається", "no such file"},
			warnings: 1,
		},
		{
			name:  "vanished between list and open: forgotten silently",
			setup: func(src *openFailSource) { src.ghost["w/rests.xml"] = 1 },
			scans: 5, drops: 1,
		},
		{
			name:     "held open by another program: waited for, however long",
			setup:    func(src *openFailSource) { src.set("w/offers.xml", syscall.Errno(32)) },
			scans:    30,
			warnings: 1,
			heal:     func(src *openFailSource) { src.set("w/offers.xml", nil) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			sp, err := spool.OpenSpool(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			clock := testenv.NewClock(start)
			for _, n := range []string{"import.xml", "offers.xml"} {
				testenv.WriteFile(t, root, "w/"+n, []byte(watchCML("")), start.Add(-time.Minute))
			}
			src := newOpenFailSource(root)
			tt.setup(src)
			log, hook := logtest.NewNullLogger()
			w, err := New(Config{Source: src, Clock: clock.Now, Spool: sp, Logger: logrus.NewEntry(log)})
			if err != nil {
				t.Fatal(err)
			}
			drops, scans := 0, tt.scans
			for i := range tt.scans {
				d, err := w.Scan(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if got := failedEntries(t, sp); i == 0 && len(got) != 0 {
					t.Fatalf("failed/ after one scan: %q", got)
				}
				drops += len(d)
				clock.Add(time.Minute)
			}
			if drops != tt.drops {
				t.Errorf("%d drops, want %d", drops, tt.drops)
			}
			warnings := 0
			for _, e := range hook.AllEntries() {
				if e.Level <= logrus.WarnLevel {
					warnings++
				}
			}
			if warnings != tt.warnings {
				t.Errorf("%d warnings and errors logged, want %d: %v", warnings, tt.warnings, hook.AllEntries())
			}
			got := failedEntries(t, sp)
			if len(tt.failed) == 0 {
				if len(got) != 0 {
					t.Fatalf("failed/ holds %q", got)
				}
			} else {
				if len(got) != 2 || !strings.HasSuffix(got[0], ".error.txt") && !strings.HasSuffix(got[1], ".error.txt") {
					t.Fatalf("failed/ holds %q, want one drop and its note", got)
				}
				note, err := os.ReadFile(filepath.Join(sp.Dir("failed"), got[0]+".error.txt"))
				if err != nil {
					t.Fatal(err)
				}
				for _, want := range tt.failed {
					if !strings.Contains(string(note), want) {
						t.Errorf("note does not say %q:\n%s", want, note)
					}
				}
				// A restart (a new Watcher, the same files) does not record the drop again.
				w2, err := New(Config{Source: src, Clock: clock.Now, Spool: sp})
				if err != nil {
					t.Fatal(err)
				}
				for range 3 {
					scans++
					if d, err := w2.Scan(context.Background()); err != nil || len(d) != 0 {
						t.Fatalf("after a restart: %v, %v", d, err)
					}
					clock.Add(time.Minute)
				}
				if again := failedEntries(t, sp); len(again) != 2 {
					t.Errorf("after a restart failed/ holds %q", again)
				}
			}
			// A file that opens is read once per Watcher, whatever the number of scans; one that does not
			// is tried at most once a scan.
			for _, p := range []string{"w/import.xml", "w/offers.xml"} {
				n, limit := src.opened(p), 2
				if _, failing := src.fail[p]; failing {
					limit = scans
				}
				if n > limit {
					t.Errorf("%s opened %d times in %d scans", p, n, scans)
				}
			}
			if tt.heal == nil {
				return
			}
			tt.heal(src)
			d, err := w.Scan(context.Background())
			if err != nil || len(d) != 1 || len(d[0].Files) != 2 {
				t.Fatalf("once the files open: %v, %v", d, err)
			}
		})
	}
}

// TestWatcherBadNamesAreNotOpened: a listed name with path tricks or one the spool refuses is never
// opened; the drop is returned, and Ingest rejects it (ErrBadDrop) into failed/ through Reject.
func TestWatcherBadNamesAreNotOpened(t *testing.T) {
	for _, bad := range []string{`w/..\evil.xml`, "w/con.xml", "w/a:b.xml", "w/ціна (1).xml"} {
		t.Run(bad, func(t *testing.T) {
			root := t.TempDir()
			start := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
			testenv.WriteFile(t, root, "w/import.xml", []byte(watchCML("")), start.Add(-time.Minute))
			src := newOpenFailSource(root)
			src.ghost[bad] = 1000
			clock := testenv.NewClock(start)
			w, err := New(Config{Source: src, Clock: clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			var drops []drop.Drop
			for range 2 {
				d, err := w.Scan(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				drops = append(drops, d...)
				clock.Add(time.Minute)
			}
			if len(drops) != 1 || len(drops[0].Files) != 2 {
				t.Fatalf("drops %v, want the folder's two files", drops)
			}
			if n := src.opened(bad); n != 0 {
				t.Errorf("%q opened %d times", bad, n)
			}
			sp, err := spool.OpenSpool(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := sp.Ingest(context.Background(), src, drops[0], "d1"); !errors.Is(err, spool.ErrBadDrop) || !strings.Contains(err.Error(), "evil.xml") && !strings.Contains(err.Error(), bad[2:]) {
				t.Errorf("Ingest: %v, want spool.ErrBadDrop naming the file", err)
			}
		})
	}
}
