package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"obmin/internal/app"
	"obmin/internal/lockfile"
)

// syncBuffer is a bytes.Buffer a running command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// A second obmin on the same spool and state stops at once with an error naming the first one's pid;
// status, which only reads, works beside it; once the first has stopped, the next one starts.
func TestSecondObminRefused(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "obmin.yaml")
	cfg := "checkbox:\n  emulator: true\nbas:\n  poll_interval: 100ms\n  min_age: 100ms\nschedule:\n  pull_receipts: \"@every 1h\"\n"
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "var", "bas", "export"), 0o755); err != nil { // BAS's folders must exist
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var errOut syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"run", "-config", cfgPath}, func(string) string { return "" }, &bytes.Buffer{}, &errOut)
	}()
	// run takes the spool's lock, then the state file's: wait for both, or a second obmin started in
	// between meets the state's lock free and the wrong refusal.
	locks := []string{filepath.Join(dir, "var", "spool", "obmin.lock"), filepath.Join(dir, "var", "state.db.lock")}
	for deadline := time.Now().Add(20 * time.Second); ; {
		held := 0
		for _, lock := range locks {
			if b, _ := os.ReadFile(lock); strings.Contains(string(b), "(obmin run)") {
				held++
			}
		}
		if held == len(locks) && strings.Contains(errOut.String(), "obmin started") { // and the state open
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("run did not take the lock:\n%s", errOut.String())
		}
		select {
		case err := <-done:
			t.Fatalf("run ended: %v\n%s", err, errOut.String())
		case <-time.After(20 * time.Millisecond):
		}
	}

	for _, cmd := range []string{"once", "run"} {
		_, _, err := runCmd(t, nil, cmd, "-config", cfgPath)
		if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "another obmin is already running") ||
			!strings.Contains(err.Error(), fmt.Sprintf("pid %d ", os.Getpid())) || !strings.Contains(err.Error(), "(obmin run)") {
			t.Errorf("second %s: exit %d, %v; want exit 1 naming the running obmin", cmd, exitCode(err), err)
		}
	}
	// status only reads: it leaves the running obmin's copy in progress in tmp/ alone.
	copying := filepath.Join(dir, "var", "spool", "tmp", "20250301-120000-abcdef01-1")
	if err := os.MkdirAll(copying, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, _, err := runCmd(t, nil, "status", "-config", cfgPath); err != nil || !strings.Contains(out, "ЕМУЛЯТОР") {
		t.Errorf("status beside a running obmin: %v\n%s", err, out)
	}
	if _, err := os.Stat(copying); err != nil {
		t.Errorf("status removed the running obmin's copy in progress: %v", err)
	}
	// The state file has its own lock: a second config with another spool but the same state is refused too.
	other := filepath.Join(dir, "other.yaml")
	if err := os.WriteFile(other, []byte(cfg+"spool_dir: other-spool\nstate_file: var/state.db\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := runCmd(t, nil, "once", "-config", other); err == nil || !strings.Contains(err.Error(), "state_file") {
		t.Errorf("another spool on the same state: %v", err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	if _, _, err := runCmd(t, nil, "once", "-config", cfgPath); err != nil {
		t.Fatalf("once after run stopped: %v", err)
	}
}

// Two demos in one folder: the second refuses rather than clearing the first one's files.
func TestSecondDemoRefused(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := lockfile.Acquire(filepath.Join(dir, app.DemoLock), "obmin demo")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if _, _, err := runCmd(t, nil, "demo", "-dir", dir); err == nil || !strings.Contains(err.Error(), "another obmin demo is running") {
		t.Fatalf("second demo: %v", err)
	}
}
