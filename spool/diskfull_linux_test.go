package spool

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"obmin/internal/atomicfile"
)

// tinyDisk mounts a 256 KiB tmpfs for the test, or skips when it cannot (not root, no CAP_SYS_ADMIN).
func tinyDisk(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a tmpfs to fill up (%v): the failing-target tests in exchange cover the same path", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, 0) })
	return dir
}

// fill writes a ballast file until the disk is full and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "ballast")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return p
		}
	}
}

// On a full disk, taking a drop and writing a file fail with an error that says so, leave nothing half
// done behind (no partial drop in inbox/, no temporary file, the old content intact), and work again as
// soon as there is room: nothing needs a restart.
func TestFullDiskFailsCleanlyAndRecovers(t *testing.T) {
	disk := tinyDisk(t)
	s, err := OpenSpool(filepath.Join(disk, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	status := filepath.Join(s.Root, "status.txt")
	if err := os.WriteFile(status, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	src, d := sourceOf(t, "webdata", map[string]string{"import.xml": strings.Repeat("<a>книга</a>\n", 2000)}, time.Now().Add(-time.Minute))
	ballast := fill(t, disk)

	_, err = s.Ingest(context.Background(), src, d, "drop-1")
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "import.xml") {
		t.Fatalf("ingest on a full disk: %v; want ENOSPC naming the file", err)
	}
	if errors.Is(err, ErrBadDrop) {
		t.Error("a full disk is not the drop's fault: it must be retried, not rejected")
	}
	err = atomicfile.WriteFile(status, 0o644, func(w io.Writer) error {
		_, err := w.Write([]byte(strings.Repeat("новий стан\n", 40000)))
		return err
	})
	if !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "status.txt") {
		t.Fatalf("write on a full disk: %v; want ENOSPC naming the file", err)
	}
	if b, _ := os.ReadFile(status); string(b) != "old" {
		t.Errorf("a failed write changed the file: %q", b)
	}
	if temps, _ := filepath.Glob(filepath.Join(s.Root, ".*.tmp")); len(temps) != 0 {
		t.Errorf("temporary files left: %v", temps)
	}
	assertEmpty(t, s, "inbox", "tmp")

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Ingest(context.Background(), src, d, "drop-2"); err != nil {
		t.Fatalf("ingest after space was freed: %v", err)
	}
	if pending, _ := s.Pending(); len(pending) != 1 {
		t.Errorf("inbox after recovery: %v", pending)
	}
}
