package lockfile

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// With OBMIN_LOCKFILE_HOLD set, the test binary is a process that takes that lock, says so, and waits to
// be killed.
func TestMain(m *testing.M) {
	if p := os.Getenv("OBMIN_LOCKFILE_HOLD"); p != "" {
		if _, err := Acquire(p, "holder"); err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("locked")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestSecondAcquireRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "obmin.lock")
	l, err := Acquire(p, "obmin run")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Acquire(p, "obmin once")
	var held *HeldError
	if !errors.As(err, &held) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want a HeldError", err)
	}
	if want := fmt.Sprintf("pid %d on host", os.Getpid()); !strings.Contains(held.Holder, want) || !strings.Contains(held.Holder, "(obmin run)") {
		t.Errorf("holder %q, want it to name %q and what it does", held.Holder, want)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(p, "obmin once")
	if err != nil {
		t.Fatalf("after Release: %v", err)
	}
	l2.Release()
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
			t.Errorf("lock file mode %v, want 0600", fi.Mode().Perm())
		}
	}
}

// The operating system holds the lock for the process: kill -9 releases it.
func TestKilledHolderReleases(t *testing.T) {
	if runtime.GOOS != "linux" && runtime.GOOS != "darwin" && runtime.GOOS != "windows" {
		t.Skip("no lock on this system")
	}
	p := filepath.Join(t.TempDir(), "obmin.lock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "OBMIN_LOCKFILE_HOLD="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("holder said %q", line)
	}
	var held *HeldError
	if _, err := Acquire(p, "test"); !errors.As(err, &held) || !strings.Contains(held.Holder, fmt.Sprintf("pid %d ", cmd.Process.Pid)) {
		t.Fatalf("while the other process holds it: %v", err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix: no chance to clean up
		t.Fatal(err)
	}
	cmd.Wait()
	l, err := Acquire(p, "test")
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
}
