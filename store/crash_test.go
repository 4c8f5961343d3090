package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// fill writes one of everything, for the persistence tests.
func fill(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	steps := []error{
		s.PutDrop(ctx, DropRecord{ID: "d1", Fingerprint: "fp", State: DropStateDone}),
		s.PutGoods(ctx, []GoodRecord{{Code: "g1", BASID: "b1", CheckboxID: "cb1", PushedHash: "h"}}),
		func() error {
			_, err := s.AddReceipt(ctx, ReceiptRecord{ID: "r1", Number: "N1", State: ReceiptStatePending})
			return err
		}(),
		s.SetCursor(ctx, "reg", testT0),
		s.RecordJob(ctx, JobRun{Name: "receipts", Start: testT0, End: testT0}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("fill step %d: %v", i, err)
		}
	}
}

// checkFilled checks what fill wrote.
func checkFilled(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if d, ok, err := s.DropByFingerprint(ctx, "fp"); !ok || err != nil || d.State != DropStateDone {
		t.Errorf("drop: %+v, %v, %v", d, ok, err)
	}
	if g, ok, err := s.GoodByBASID(ctx, "b1"); !ok || err != nil || g.CheckboxID != "cb1" {
		t.Errorf("good: %+v, %v, %v", g, ok, err)
	}
	if r, ok, err := s.Receipt(ctx, "r1"); !ok || err != nil || r.Number != "N1" {
		t.Errorf("receipt: %+v, %v, %v", r, ok, err)
	}
	if c, ok, err := s.Cursor(ctx, "reg"); !ok || err != nil || !c.Equal(testT0) {
		t.Errorf("cursor: %v, %v, %v", c, ok, err)
	}
	if j, ok, err := s.LastJob(ctx, "receipts"); !ok || err != nil || !j.Start.Equal(testT0) {
		t.Errorf("job: %+v, %v, %v", j, ok, err)
	}
}

func TestStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "obmin.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	checkFilled(t, mustOpenStore(t, path))
}

func TestStoreCrashInProcess(t *testing.T) {
	// The first store is never closed before the second reads: what it committed is in the WAL, and the
	// second sees it (closed only at the end, to release the file for TempDir's cleanup).
	path := filepath.Join(t.TempDir(), "obmin.db")
	fill(t, mustOpenStore(t, path))
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL beside the open database: %v", err)
	}
	checkFilled(t, mustOpenStore(t, path))
}

// TestStoreSurvivesKill kills a process that is writing receipts as fast as it can, then checks that
// every receipt it reported committed is there and that the file is sound.
func TestStoreSurvivesKill(t *testing.T) {
	if path := os.Getenv("OBMIN_STORE_KILL_CHILD"); path != "" {
		killChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	path := filepath.Join(t.TempDir(), "obmin.db")
	last := runAndKill(t, path, 30)

	s := mustOpenStore(t, path)
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	for i := 0; i <= last; i++ {
		if _, ok, err := s.Receipt(context.Background(), fmt.Sprintf("r%06d", i)); !ok || err != nil {
			t.Fatalf("receipt %d of %d reported committed is missing (%v)", i, last, err)
		}
	}
	counts, _ := s.ReceiptCounts(context.Background())
	// At most the one in flight when the kill came may be there unreported.
	if n := counts[ReceiptStatePending]; n < last+1 || n > last+2 {
		t.Errorf("%d receipts stored, %d reported", n, last+1)
	}
}

func killChild(path string) {
	ctx := context.Background()
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Minute) // never outlive a parent that failed to kill us
	for i := 0; time.Now().Before(deadline); i++ {
		id := fmt.Sprintf("r%06d", i)
		if _, err := s.AddReceipt(ctx, ReceiptRecord{ID: id, Number: id, State: ReceiptStatePending, Raw: []byte(`{}`)}); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("ok", i)
	}
	os.Exit(3)
}

// runAndKill starts the test binary as a writer on path, kills it (SIGKILL on Unix, TerminateProcess
// on Windows) once it has reported after commits, and returns the last receipt index it reported.
func runAndKill(t *testing.T, path string, after int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreSurvivesKill$")
	cmd.Env = append(os.Environ(), "OBMIN_STORE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last, seen := -1, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		var i int
		if _, err := fmt.Sscanf(line, "ok %d", &i); err != nil {
			t.Errorf("writer: %s", line)
			continue
		}
		last = i
		if seen++; seen == after {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Lines already in the pipe when the kill came were committed too; the scanner read them all.
	if err := cmd.Wait(); err == nil {
		t.Fatal("the writer exited on its own instead of being killed")
	}
	if seen < after {
		t.Fatalf("the writer reported only %d commits", seen)
	}
	return last
}
