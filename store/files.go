package store

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
)

// The state holds every receipt: it is private to obmin's account (0600). SQLite creates the -wal and
// -shm files beside it with the database file's own mode, so creating the database 0600 before SQLite
// opens it keeps all three private; files an older obmin left readable are made private on open.
func makePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		return f.Close()
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	if runtime.GOOS == "windows" {
		return nil // modes mean little there; the folder's ACL decides (docs/service.md)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
		fi, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if fi.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, 0o600); err != nil {
				return err
			}
		}
	}
	return nil
}
