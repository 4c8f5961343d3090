package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// CheckFolders checks, on this machine, the folders the configuration names, and names the key of each
// problem: BAS's export folder must exist and list (obmin never creates it: a mistyped path would
// otherwise look like "no exports yet" for ever), the orders file's folder must exist and take a file,
// and obmin's own spool and state folders must take files; those two are created when missing only
// beside the configuration file, never elsewhere (an unmounted disk must not quietly become a new, empty
// folder). Folders on an SFTP server (bas.sftp) are checked by the watcher when it connects.
func (c *Config) CheckFolders() error {
	var errs []error
	if c.BAS.SFTP == nil {
		errs = append(errs, basFolder("bas.export_dir", c.BAS.ExportDir, false), basFolder("bas.orders_file", filepath.Dir(c.BAS.OrdersFile), true))
	}
	errs = append(errs, c.ownFolder("spool_dir", c.SpoolDir), c.ownFolder("state_file", filepath.Dir(c.StateFile)))
	if c.Log.File != "" {
		errs = append(errs, c.ownFolder("log.file", filepath.Dir(c.Log.File)))
	}
	return errors.Join(errs...)
}

// basFolder checks a folder of BAS's side: it exists, is a folder, lists, and (write) takes a file.
func basFolder(key, dir string, write bool) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: folder %s does not exist; obmin never creates BAS's folders: check the path (and that the share is mounted)", key, dir)
	case err != nil:
		return fmt.Errorf("%s: %w", key, err)
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is not a folder", key, dir)
	}
	if _, err := os.ReadDir(dir); err != nil {
		return fmt.Errorf("%s: folder %s cannot be read: %w", key, dir, err)
	}
	if write {
		if err := canWrite(dir); err != nil {
			return fmt.Errorf("%s: obmin cannot write in folder %s: %w", key, dir, err)
		}
	}
	return nil
}

// ownFolder checks one of obmin's own folders: it takes files; a missing one is fine only below the
// configuration file's folder, where obmin creates it.
func (c *Config) ownFolder(key, dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if c.inConfigDir(dir) {
			return nil
		}
		return fmt.Errorf("%s: folder %s does not exist; create it (obmin makes its own folders only beside its configuration file, %s)", key, dir, c.Dir)
	case err != nil:
		return fmt.Errorf("%s: %w", key, err)
	case !fi.IsDir():
		return fmt.Errorf("%s: %s is not a folder", key, dir)
	}
	if err := canWrite(dir); err != nil {
		return fmt.Errorf("%s: obmin cannot write in folder %s: %w", key, dir, err)
	}
	return nil
}

func (c *Config) inConfigDir(dir string) bool {
	rel, err := filepath.Rel(c.Dir, dir)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// canWrite creates and removes a hidden temporary file in dir (the watcher and BAS ignore dot-files).
func canWrite(dir string) error {
	f, err := os.CreateTemp(dir, ".obmin-check-*.tmp")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
