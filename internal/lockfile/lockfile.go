// Package lockfile keeps a second obmin off a spool and a state file that one is already using: an
// exclusive lock on a file, held by the operating system for as long as the process lives (flock on
// Unix, LockFileEx on Windows), so a crash or kill -9 releases it and a stale file never blocks a start.
// The holder writes its pid, host and start time into the file, so the one refused can say who holds it.
//
// It imports no other package of obmin.
package lockfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ErrLocked is wrapped by the error Acquire returns when another process holds the lock.
var ErrLocked = errors.New("held by another process")

// HeldError is Acquire's error when another process holds the lock: Holder is what that process wrote
// into the file ("pid 1234 on host shop-pc since 2025-03-01T12:00:00+02:00 (obmin run)"), "" when unknown.
type HeldError struct {
	Path   string
	Holder string
}

func (e *HeldError) Error() string {
	if e.Holder == "" {
		return fmt.Sprintf("lock %s: %v", e.Path, ErrLocked)
	}
	return fmt.Sprintf("lock %s: %v: %s", e.Path, ErrLocked, e.Holder)
}

func (e *HeldError) Unwrap() error { return ErrLocked }

// Lock is a held lock.
type Lock struct {
	f    *os.File
	path string
}

// Acquire takes the lock of path (created 0600 when missing) without waiting; what says what the
// holder is doing ("obmin run"). Another process holding it gives a *HeldError.
func Acquire(path, what string) (*Lock, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if held {
		b, _ := io.ReadAll(io.LimitReader(f, 512))
		f.Close()
		return nil, &HeldError{Path: path, Holder: strings.TrimSpace(string(b))}
	}
	host, _ := os.Hostname()
	info := fmt.Sprintf("pid %d on host %s since %s (%s)\n", os.Getpid(), host, time.Now().Format(time.RFC3339), what)
	// The lock is on a range past the end of the file (see tryLock), so these bytes stay readable.
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt([]byte(info), 0)
		if err == nil {
			err = f.Sync()
		}
	}
	if err != nil {
		unlock(f)
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &Lock{f: f, path: path}, nil
}

// Release gives the lock up. The file stays: removing it would let a process that opened it just before
// lock a file nobody else can find any more.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := errors.Join(unlock(l.f), l.f.Close())
	l.f = nil
	if err != nil {
		return fmt.Errorf("unlock %s: %w", l.path, err)
	}
	return nil
}
