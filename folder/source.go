package folder

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"obmin/drop"
)

// Source is a folder BAS drops into: a local or shared folder (LocalDir), or an SFTP folder (package sftpdir).
// obmin only reads a Source: BAS empties its export folder before each export (docs/commerceml.md §1.5), so
// anything written there would be lost or, worse, taken for part of an export.
type Source interface {
	// String names the source for logs; it carries no secrets.
	String() string
	// List returns the regular *.xml and *.zip files (case-insensitive) below the root, recursively, sorted
	// by path. A *.zip is what 1C writes instead of the XML files when its exchange zips (docs/commerceml.md §6.3).
	// Dot-files, dot-folders and *.tmp files are skipped: they are other programs' temporary files.
	List(ctx context.Context) ([]drop.File, error)
	// Open opens a file by a path List returned.
	Open(ctx context.Context, path string) (io.ReadCloser, error)
}

// LocalDir is the Source of a local or shared (SMB, mounted) folder. It never writes, and refuses paths
// that would leave root (through "..", an absolute path or a symbolic link).
func LocalDir(root string) Source {
	return localDir{root: root}
}

type localDir struct{ root string }

func (d localDir) String() string { return d.root }

// LocalRoot is the folder on this machine: the watcher asks for it to follow file-system events.
func (d localDir) LocalRoot() string { return d.root }

func (d localDir) List(ctx context.Context) ([]drop.File, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// os.Root keeps the walk inside the folder even if a symbolic link points elsewhere.
	r, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.root, err)
	}
	defer r.Close()
	var files []drop.File
	err = fs.WalkDir(r.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			// BAS empties its folder while we walk it: an entry that vanished is not an error.
			if p != "." && errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		name := e.Name()
		if e.IsDir() {
			if strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !drop.Wanted(name) {
			return nil
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		files = append(files, drop.File{Path: p, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.root, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

func (d localDir) Open(ctx context.Context, p string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := drop.CheckPath(p); err != nil {
		return nil, fmt.Errorf("open %q in %s: %w", p, d.root, err)
	}
	r, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, fmt.Errorf("open %q in %s: %w", p, d.root, err)
	}
	defer r.Close() // files opened through r stay open
	f, err := r.Open(filepath.FromSlash(p))
	if err != nil {
		return nil, fmt.Errorf("open %q in %s: %w", p, d.root, err)
	}
	return f, nil
}
