package watch

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"obmin/drop"
	"obmin/folder"
	"obmin/internal/testenv"
)

// A drop that cannot be taken for the same cause every scan (a full disk: each attempt's message names
// its own temporary folder) is warned about once, again after an hour if it goes on, and its recovery
// is said once.
func TestRepeatedIngestFailureLoggedOnce(t *testing.T) {
	clock := testenv.NewClock(time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC))
	root := t.TempDir()
	testenv.WriteFile(t, root, "webdata/import.xml", []byte("<КоммерческаяИнформация/>"), clock.Now().Add(-time.Hour))
	l, hook := logtest.NewNullLogger()
	l.SetLevel(logrus.DebugLevel)
	w, err := New(Config{Source: folder.LocalDir(root), Interval: 2 * time.Millisecond, MinAge: time.Millisecond, Clock: clock.Now, Logger: logrus.NewEntry(l)})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	ctx, cancel := context.WithCancel(context.Background())
	offered := make(chan struct{}, 16)
	done := make(chan error, 1)
	go func() {
		done <- w.Run(ctx, func(context.Context, drop.Drop) error {
			calls++
			defer func() { offered <- struct{}{} }()
			switch {
			case calls == 10:
				clock.Add(2 * time.Hour) // still failing an hour later: said again
			case calls > 15:
				return nil
			}
			return fmt.Errorf("ingest 20250301-1000-%d: write /spool/tmp/20250301-1000-%d/import.xml: %w", calls, calls, syscall.ENOSPC)
		})
	}()
	for i := range 16 {
		select {
		case <-offered:
		case <-time.After(10 * time.Second):
			t.Fatalf("attempt %d never came", i+1)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	count := func(level logrus.Level, msg string) int {
		n := 0
		for _, e := range hook.AllEntries() {
			if e.Level == level && e.Message == msg {
				n++
			}
		}
		return n
	}
	if n := count(logrus.WarnLevel, "drop not taken; will try again"); n != 2 {
		t.Errorf("%d warnings for 15 failures with one cause over two hours, want 2", n)
	}
	if n := count(logrus.InfoLevel, "drop taken after earlier failures"); n != 1 {
		t.Errorf("recovery said %d times, want once", n)
	}
}
