package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"obmin/internal/testenv"
)

func TestWriteFileAtomic(t *testing.T) {
	errWrite := errors.New("disk on fire")
	tests := []struct {
		name    string
		old     *string // content before, nil: no file
		write   func(w io.Writer) error
		want    string // content after
		wantErr string
	}{
		{
			name:  "new file",
			write: func(w io.Writer) error { _, err := io.WriteString(w, "новий"); return err },
			want:  "новий",
		},
		{
			name:  "replaces",
			old:   atomicPtr("old"),
			write: func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err },
			want:  "new",
		},
		{
			name: "write error keeps the old file",
			old:  atomicPtr("old"),
			write: func(w io.Writer) error {
				io.WriteString(w, strings.Repeat("half-written ", 10000))
				return errWrite
			},
			want:    "old",
			wantErr: "disk on fire",
		},
		{
			name:    "write error and no old file",
			write:   func(w io.Writer) error { return errWrite },
			wantErr: "disk on fire",
		},
		{
			name:  "empty content",
			old:   atomicPtr("old"),
			write: func(w io.Writer) error { return nil },
			want:  "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "orders.xml")
			if tt.old != nil {
				if err := os.WriteFile(p, []byte(*tt.old), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := WriteFile(p, 0o644, tt.write)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if !errors.Is(err, errWrite) {
					t.Errorf("error does not wrap the writer's: %v", err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			got, rerr := os.ReadFile(p)
			switch {
			case tt.old == nil && tt.wantErr != "":
				if !errors.Is(rerr, os.ErrNotExist) {
					t.Errorf("file exists after a failed first write: %v", rerr)
				}
			case rerr != nil:
				t.Fatal(rerr)
			case string(got) != tt.want:
				t.Errorf("content = %q, want %q", got, tt.want)
			}
			names := testenv.DirNames(t, dir)
			for _, n := range names {
				if n != "orders.xml" {
					t.Errorf("left behind %q", n)
				}
			}
		})
	}
}

func atomicPtr(s string) *string { return &s }

func TestWriteFileAtomicPanicLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "status.txt")
	func() {
		defer func() { recover() }()
		WriteFile(p, 0o644, func(w io.Writer) error { panic("boom") })
	}()
	if names := testenv.DirNames(t, dir); len(names) != 0 {
		t.Errorf("left behind %q", names)
	}
}

func TestWriteFileAtomicRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "target")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	err := WriteFile(p, 0o644, func(w io.Writer) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("err = %v", err)
	}
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		t.Errorf("directory touched: %v %v", fi, err)
	}
}

func TestWriteFileAtomicPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows has no Unix permission bits")
	}
	for _, perm := range []os.FileMode{0o600, 0o644, 0o640, 0o755} {
		t.Run(perm.String(), func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			// The old file's mode must not carry over.
			if err := os.WriteFile(p, nil, 0o666); err != nil {
				t.Fatal(err)
			}
			if err := WriteFile(p, perm, func(w io.Writer) error { return nil }); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(p)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != perm {
				t.Errorf("mode = %v, want %v", got, perm)
			}
		})
	}
}

func TestRenameRetryLoop(t *testing.T) {
	flake := &os.LinkError{Op: "rename", Old: "a", New: "b", Err: renameErrSharingViolation}
	denied := &os.LinkError{Op: "rename", Old: "a", New: "b", Err: renameErrAccessDenied}
	other := &os.LinkError{Op: "rename", Old: "a", New: "b", Err: syscall.Errno(2)}
	tests := []struct {
		name      string
		errs      []error // returned by successive calls; nil after the list ends
		wantCalls int
		wantErr   error
	}{
		{name: "first try", wantCalls: 1},
		{name: "sharing violation twice", errs: []error{flake, flake}, wantCalls: 3},
		{name: "access denied once", errs: []error{denied}, wantCalls: 2},
		{name: "other errors are final", errs: []error{other}, wantCalls: 1, wantErr: other},
		{name: "gives up after the budget", errs: repeatErr(flake, 1000), wantErr: flake},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			rename := func(from, to string) error {
				calls++
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			}
			var slept time.Duration
			sleep := func(d time.Duration) {
				if d < 0 {
					t.Fatalf("negative sleep %s", d)
				}
				slept += d
			}
			err := renameRetryLoop(rename, renameRetryWindowsFlake, sleep, renameRetryBudget, "a", "b")
			if err != tt.wantErr {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantCalls != 0 && calls != tt.wantCalls {
				t.Errorf("calls = %d, want %d", calls, tt.wantCalls)
			}
			if slept > renameRetryBudget {
				t.Errorf("slept %s, more than the budget %s", slept, renameRetryBudget)
			}
			if tt.wantErr == flake && slept != renameRetryBudget {
				t.Errorf("gave up after %s, want the whole budget %s", slept, renameRetryBudget)
			}
		})
	}
}

func repeatErr(err error, n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

func TestRenameRetry(t *testing.T) {
	dir := t.TempDir()
	from, to := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	if err := os.WriteFile(from, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Rename(from, to); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(to); err != nil || string(b) != "x" {
		t.Fatalf("after rename: %q %v", b, err)
	}
	if err := Rename(from, to); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("renaming a missing file: %v", err)
	}
}

func TestSyncDir(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Errorf("SyncDir: %v", err)
	}
	if runtime.GOOS != "windows" {
		if err := SyncDir(filepath.Join(t.TempDir(), "missing")); err == nil {
			t.Error("SyncDir of a missing folder: no error")
		}
	}
}
