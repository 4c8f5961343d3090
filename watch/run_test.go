package watch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/testenv"
)

// watchRun runs w.Run until the test ends and sends every drop it offers to the returned channel. fn's
// answer for each call comes from answer (nil: success).
func watchRun(t *testing.T, w *Watcher, answer func(drop.Drop) error) <-chan drop.Drop {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan drop.Drop, 16)
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(ctx context.Context, d drop.Drop) error {
			got <- d
			if answer != nil {
				return answer(d)
			}
			return nil
		})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return after cancel")
		}
	})
	return got
}

// watchNext waits for the next drop, failing the test after a deadline.
func watchNext(t *testing.T, drops <-chan drop.Drop, what string) drop.Drop {
	t.Helper()
	select {
	case d := <-drops:
		return d
	case <-time.After(10 * time.Second):
		t.Fatalf("no drop within 10s: %s", what)
		return drop.Drop{}
	}
}

// watchNone checks that no drop arrives within a short while.
func watchNone(t *testing.T, drops <-chan drop.Drop, within time.Duration) {
	t.Helper()
	select {
	case d := <-drops:
		t.Errorf("unexpected drop %+v", d)
	case <-time.After(within):
	}
}

func watchOld() time.Time { return time.Now().Add(-time.Hour) }

func TestWatcherRunPolls(t *testing.T) {
	tests := []struct {
		name   string
		notify bool
		source func(root string) folder.Source
		setup  func(w *Watcher)
		logged string // logged once, at start
	}{
		{name: "polling only", source: folder.LocalDir},
		{
			name: "file events unavailable", notify: true, source: folder.LocalDir,
			setup: func(w *Watcher) {
				w.newNotify = func() (*fsnotify.Watcher, error) { return nil, errors.New("too many open files") }
			},
			logged: "file events are not available here",
		},
		{
			name: "not a local folder", notify: true,
			source: func(root string) folder.Source { return &watchSource{Source: folder.LocalDir(root)} },
			logged: "file events are not available for this source",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			logger, hook := logtest.NewNullLogger()
			logger.SetLevel(logrus.InfoLevel)
			w, err := New(Config{
				Source: tt.source(root), Interval: 10 * time.Millisecond, MinAge: 10 * time.Millisecond,
				Notify: tt.notify, Logger: logrus.NewEntry(logger),
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.setup != nil {
				tt.setup(w)
			}
			testenv.WriteFile(t, root, "w/import.xml", []byte(watchCML("")), watchOld())
			drops := watchRun(t, w, nil)
			if d := watchNext(t, drops, "first drop"); d.Dir != "w" {
				t.Errorf("drop %+v", d)
			}
			// A second export after start is found by polling too.
			testenv.WriteFile(t, root, "v/offers.xml", []byte(watchCML("")), watchOld())
			if d := watchNext(t, drops, "drop written while running"); d.Dir != "v" {
				t.Errorf("drop %+v", d)
			}
			var found int
			for _, e := range hook.AllEntries() {
				if tt.logged != "" && strings.Contains(e.Message, tt.logged) {
					found++
				}
			}
			if tt.logged != "" && found != 1 {
				t.Errorf("%q logged %d times, want once; log: %v", tt.logged, found, hook.AllEntries())
			}
		})
	}
}

func TestWatcherRunRetriesAfterError(t *testing.T) {
	root := t.TempDir()
	w, err := New(Config{Source: folder.LocalDir(root), Interval: 10 * time.Millisecond, MinAge: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, root, "w/import.xml", []byte(watchCML("")), watchOld())
	var mu sync.Mutex
	calls := 0
	drops := watchRun(t, w, func(drop.Drop) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 1 {
			return errors.New("spool disk full")
		}
		return nil
	})
	first := watchNext(t, drops, "first offer")
	second := watchNext(t, drops, "offer after the error")
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second offer %+v differs from the first %+v", second, first)
	}
	// Taken now: not offered a third time (a few dozen scans at 10ms).
	watchNone(t, drops, 300*time.Millisecond)
}

func TestWatcherRunNotify(t *testing.T) {
	watchNeedEvents(t)
	root := t.TempDir()
	// Polling alone would take an hour: only file events can bring the second drop in time.
	w, err := New(Config{Source: folder.LocalDir(root), Interval: time.Hour, MinAge: 50 * time.Millisecond, Notify: true})
	if err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, root, "a/import.xml", []byte(watchCML("")), watchOld())
	drops := watchRun(t, w, nil)
	// The export that was there at start comes by the follow-up scan of a settling drop; once it has,
	// the folder is being watched.
	if d := watchNext(t, drops, "drop present at start"); d.Dir != "a" {
		t.Fatalf("drop %+v", d)
	}
	// BAS creates its export folder and writes into it.
	testenv.WriteFile(t, root, "webdata - 5c1e/import.xml", []byte(watchCML("<Каталог/>")), time.Now())
	testenv.WriteFile(t, root, "webdata - 5c1e/offers.xml", []byte(watchCML("")), time.Now())
	if d := watchNext(t, drops, "drop written while running"); d.Dir != "webdata - 5c1e" || len(d.Files) != 2 {
		t.Errorf("drop %+v", d)
	}
	// A new export in the same folder: BAS empties it and writes again.
	for _, name := range []string{"import.xml", "offers.xml"} {
		if err := os.Remove(filepath.Join(root, "webdata - 5c1e", name)); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WriteFile(t, root, "webdata - 5c1e/import.xml", []byte(watchCML("<Каталог><Ид>2</Ид></Каталог>")), time.Now())
	if d := watchNext(t, drops, "next export in the same folder"); len(d.Files) != 1 {
		t.Errorf("drop %+v", d)
	}
}

// watchNeedEvents skips a test on a machine without file events (inotify limits reached, say).
func watchNeedEvents(t *testing.T) {
	t.Helper()
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		t.Skipf("file events not available on this machine: %v", err)
	}
	fw.Close()
}

func TestWatcherRunOverflowRescans(t *testing.T) {
	watchNeedEvents(t)
	root := t.TempDir()
	errs := make(chan error)
	w, err := New(Config{Source: folder.LocalDir(root), Interval: time.Hour, MinAge: 50 * time.Millisecond, Notify: true})
	if err != nil {
		t.Fatal(err)
	}
	// A real watch whose events never arrive, and whose errors the test sends: only the overflow
	// error can make Run scan before the hour is up.
	w.newNotify = func() (*fsnotify.Watcher, error) {
		fw, err := fsnotify.NewWatcher()
		if err != nil {
			return nil, err
		}
		fw.Events = make(chan fsnotify.Event)
		fw.Errors = errs
		return fw, nil
	}
	testenv.WriteFile(t, root, "a/import.xml", []byte(watchCML("")), watchOld())
	drops := watchRun(t, w, nil)
	if d := watchNext(t, drops, "drop present at start"); d.Dir != "a" {
		t.Fatalf("drop %+v", d)
	}
	testenv.WriteFile(t, root, "b/import.xml", []byte(watchCML("")), watchOld())
	watchNone(t, drops, 300*time.Millisecond)
	select {
	case errs <- fmt.Errorf("read events: %w", fsnotify.ErrEventOverflow):
	case <-time.After(10 * time.Second):
		t.Fatal("Run does not read file-event errors")
	}
	if d := watchNext(t, drops, "drop after the overflow"); d.Dir != "b" {
		t.Errorf("drop %+v", d)
	}
}

func TestWatcherRunNilFunc(t *testing.T) {
	w, err := New(Config{Source: folder.LocalDir(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Run(context.Background(), nil); err == nil {
		t.Error("nil fn: no error")
	}
}
