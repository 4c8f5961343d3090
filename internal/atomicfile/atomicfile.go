// Package atomicfile writes files so that a reader, or a restart after kill -9, sees either the old
// content or the new, never a part: a temporary file in the same folder, fsync, rename, fsync of the folder,
// with the rename retried while Windows scanners briefly hold the file.
//
// It imports only the standard library.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// WriteFile writes path via a temporary file in the same directory (named ".<base>.<random>.tmp", so
// scanners that skip dot-files and *.tmp never see it): write, fsync, close, rename over path, then fsync the
// directory (POSIX only). On any error the temporary file is removed and path keeps its old content. An error
// from the final directory fsync is returned, but by then path already holds the new content.
//
// Modelled on tailscale's atomicfile and google/renameio, plus the directory fsync and Windows rename retry
// neither of them does (docs/reliability.md §6).
func WriteFile(path string, perm os.FileMode, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	// A directory or device at path must not be replaced by a file (tailscale atomicfile does the same).
	if fi, err := os.Lstat(path); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("write %s: not a regular file (%s)", path, fi.Mode().Type())
	}
	f, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	renamed := false
	defer func() {
		// Runs on errors and on a panic in write: the temporary file never outlives the call.
		if !renamed {
			f.Close()
			os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// CreateTemp makes the file 0600; chmod is meaningless on Windows (it only toggles read-only).
	if runtime.GOOS != "windows" {
		if err := f.Chmod(perm); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
	}
	// Without this sync a crash after the rename can leave a zero-length file (renameio README).
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: sync: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", path, err)
	}
	if err := Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	renamed = true
	if err := SyncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// RemoveTemps removes the temporary files WriteFile leaves in dir when the process is killed between
// creating and renaming one: ".<base>.<random>.tmp", for base "" any name. <random> is os.CreateTemp's,
// decimal digits, so ".orders.xml.bak.7.tmp" (a temporary file of orders.xml.bak) is not taken for one of
// orders.xml. Only one obmin writes to a folder, so at its start (or before it writes base again) every
// such file is a leftover. A missing dir is not an error.
func RemoveTemps(dir, base string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	prefix := "."
	if base != "" {
		prefix = "." + base + "."
	}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, prefix) || !strings.HasSuffix(n, ".tmp") || len(n) <= len(prefix)+len(".tmp") {
			continue
		}
		random := strings.TrimSuffix(n[len(prefix):], ".tmp")
		if base == "" {
			i := strings.LastIndexByte(random, '.')
			if i < 1 { // ".<name>.<random>.tmp" needs a name
				continue
			}
			random = random[i+1:]
		}
		if !tempRandom(random) {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove temporary file: %w", err)
		}
	}
	return nil
}

// tempRandom says whether s is what os.CreateTemp puts for its "*": a decimal number.
func tempRandom(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// renameRetryBudget is how long Rename keeps trying on Windows; cmd/go's robustio uses the same 2 s.
const renameRetryBudget = 2 * time.Second

// Rename is os.Rename that on Windows retries for up to about 2 s on ERROR_ACCESS_DENIED and
// ERROR_SHARING_VIOLATION: another process (BAS, an antivirus scanner, the search indexer) briefly holds the
// file. Like Go's cmd/go/internal/robustio (docs/reliability.md §6). On other systems it
// tries once.
func Rename(from, to string) error {
	if runtime.GOOS != "windows" {
		return os.Rename(from, to)
	}
	return renameRetryLoop(os.Rename, renameRetryWindowsFlake, time.Sleep, renameRetryBudget, from, to)
}

// renameRetryLoop calls rename until it succeeds, fails with an error retryable does not accept, or budget
// is spent. Sleeps grow from 1 ms, doubling with jitter, so a short lock costs milliseconds.
func renameRetryLoop(rename func(from, to string) error, retryable func(error) bool, sleep func(time.Duration),
	budget time.Duration, from, to string) error {
	var slept time.Duration
	wait := time.Millisecond
	for {
		err := rename(from, to)
		if err == nil || !retryable(err) || slept >= budget {
			return err
		}
		d := wait/2 + rand.N(wait/2+1)
		if d > budget-slept {
			d = budget - slept
		}
		sleep(d)
		slept += d
		wait *= 2
	}
}

// Windows error numbers (winerror.h); syscall.Errno exists on every GOOS, so no build tags are needed.
const (
	renameErrAccessDenied     = syscall.Errno(5)
	renameErrSharingViolation = syscall.Errno(32)
)

func renameRetryWindowsFlake(err error) bool {
	var errno syscall.Errno
	return errors.As(err, &errno) && (errno == renameErrAccessDenied || errno == renameErrSharingViolation)
}

// SyncDir fsyncs a directory so that a rename or a new entry in it survives a power cut (POSIX). Windows has
// no directory fsync (NTFS journals metadata itself), so there it does nothing. File systems that cannot sync
// a directory (some network mounts answer EINVAL) are not an error: there is nothing more to do.
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir: %w", err)
	}
	err = d.Sync()
	cerr := d.Close()
	if err != nil && !syncDirUnsupported(err) {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	if cerr != nil {
		return fmt.Errorf("sync dir %s: %w", dir, cerr)
	}
	return nil
}

func syncDirUnsupported(err error) bool {
	// syscall.Errno matches errors.ErrUnsupported for ENOTSUP and EOPNOTSUPP.
	return errors.Is(err, syscall.EINVAL) || errors.Is(err, errors.ErrUnsupported)
}
