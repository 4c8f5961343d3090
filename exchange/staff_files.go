package exchange

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"obmin/internal/atomicfile"
)

// staffFilePerm is the mode of the files describing held receipts and shifts: they name receipts and
// sums, so they are private to obmin's user and group like every file with receipts.
const staffFilePerm = 0o640

// syncStaffFiles makes the .txt files of dir exactly want (file name → text): each written atomically
// when new, changed or not private, the others removed.
func syncStaffFiles(dir string, want map[string]string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	for name, text := range want {
		path := filepath.Join(dir, name)
		if fi, err := os.Stat(path); err == nil && (runtime.GOOS == "windows" || fi.Mode().Perm() == staffFilePerm) {
			if old, err := os.ReadFile(path); err == nil && string(old) == text {
				continue
			}
		}
		if err := atomicfile.WriteFile(path, staffFilePerm, func(w io.Writer) error {
			_, err := io.WriteString(w, text)
			return err
		}); err != nil {
			return err
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, keep := want[e.Name()]; !keep && strings.HasSuffix(e.Name(), ".txt") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, os.ErrNotExist) {
				return err
			}
		}
	}
	return nil
}
