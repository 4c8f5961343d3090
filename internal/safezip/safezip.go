// Package safezip unpacks zip archives from outside without trusting them: names are confined to the
// destination, sizes and entry counts are bounded.
//
// Sizes are counted from the bytes actually inflated, never from the archive's headers (a zip bomb
// declares small sizes). Everything is unpacked into a staging folder inside dest first and moved into
// place only when the whole archive passed, so a refused archive leaves nothing behind.
//
// It imports internal/ctxio; nothing else of obmin.
package safezip

import (
	"archive/zip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"obmin/internal/ctxio"
)

// Limits bound what one archive may unpack to. A zero or negative field means the package default
// (DefaultLimits), never "unlimited".
type Limits struct {
	MaxFiles int   // entries that are files
	MaxTotal int64 // bytes unpacked in all
	MaxFile  int64 // bytes unpacked for one entry
}

// DefaultLimits are used for any Limits field left zero.
var DefaultLimits = Limits{MaxFiles: 10000, MaxTotal: 2 << 30, MaxFile: 1 << 30}

// ErrLimit is wrapped by every error that reports an exceeded limit.
var ErrLimit = errors.New("zip exceeds a limit")

// ErrUnsafe is wrapped by every error that reports an entry refused for its name or type.
var ErrUnsafe = errors.New("unsafe zip entry")

// WithDefaults is l with DefaultLimits in every field left zero or negative.
func (l Limits) WithDefaults() Limits {
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultLimits.MaxFiles
	}
	if l.MaxTotal <= 0 {
		l.MaxTotal = DefaultLimits.MaxTotal
	}
	if l.MaxFile <= 0 {
		l.MaxFile = DefaultLimits.MaxFile
	}
	return l
}

// Extract unpacks the plain files of zipPath into dest and returns their slash-separated paths relative to
// dest. Directories are created as needed; links and special files are refused; a name that would escape
// dest, or that is absolute, is an error; exceeding a limit is an error and leaves nothing half-written.
func Extract(ctx context.Context, zipPath, dest string, lim Limits) ([]string, error) {
	files, _, err := ExtractCounted(ctx, zipPath, dest, lim)
	return files, err
}

// ExtractCounted is Extract that also returns how many bytes the archive unpacked to.
func ExtractCounted(ctx context.Context, zipPath, dest string, lim Limits) ([]string, int64, error) {
	lim = lim.WithDefaults()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		return nil, 0, fmt.Errorf("safezip: open %s: %w", zipPath, err)
	}
	defer zr.Close()

	// Check every name and type, and the entry count, before writing anything.
	type entry struct {
		f   *zip.File
		rel string
		dir bool
	}
	var entries []entry
	seen := map[string]string{} // case-folded path → name as in the archive (Windows folds case)
	files := 0
	for _, f := range zr.File {
		rel, err := CleanName(f.Name)
		if err != nil {
			return nil, 0, fmt.Errorf("safezip: %s: entry %q: %w", zipPath, f.Name, err)
		}
		mode := f.Mode()
		isDir := mode.IsDir() || strings.HasSuffix(strings.ReplaceAll(f.Name, `\`, "/"), "/")
		if !isDir && !mode.IsRegular() {
			return nil, 0, fmt.Errorf("safezip: %s: entry %q is a %s, only plain files and folders are accepted: %w",
				zipPath, f.Name, kind(mode), ErrUnsafe)
		}
		if rel == "" {
			if isDir {
				continue // "./" or "/"-only directory entries name dest itself
			}
			return nil, 0, fmt.Errorf("safezip: %s: entry %q has an empty name: %w", zipPath, f.Name, ErrUnsafe)
		}
		key := strings.ToLower(rel)
		if prev, dup := seen[key]; dup && !isDir {
			return nil, 0, fmt.Errorf("safezip: %s: entry %q duplicates %q: %w", zipPath, f.Name, prev, ErrUnsafe)
		}
		seen[key] = f.Name
		if !isDir {
			files++
			if files > lim.MaxFiles {
				return nil, 0, fmt.Errorf("safezip: %s: more than %d files: %w", zipPath, lim.MaxFiles, ErrLimit)
			}
		}
		entries = append(entries, entry{f: f, rel: rel, dir: isDir})
	}

	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, 0, fmt.Errorf("safezip: %w", err)
	}
	stage, err := os.MkdirTemp(dest, ".unzip-")
	if err != nil {
		return nil, 0, fmt.Errorf("safezip: staging folder: %w", err)
	}
	defer os.RemoveAll(stage)

	var total int64
	var out []string
	for _, e := range entries {
		if err := ctx.Err(); err != nil {
			return nil, 0, fmt.Errorf("safezip: %s: %w", zipPath, err)
		}
		target := filepath.Join(stage, filepath.FromSlash(e.rel))
		if e.dir {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return nil, 0, fmt.Errorf("safezip: %s: entry %q: %w", zipPath, e.f.Name, err)
			}
			continue
		}
		n, err := extractOne(ctx, e.f, target, lim.MaxFile, lim.MaxTotal-total)
		total += n
		if err != nil {
			return nil, 0, fmt.Errorf("safezip: %s: entry %q: %w", zipPath, e.f.Name, err)
		}
		out = append(out, e.rel)
	}

	// Everything passed: move the files into place.
	for _, rel := range out {
		from := filepath.Join(stage, filepath.FromSlash(rel))
		to := filepath.Join(dest, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return nil, 0, fmt.Errorf("safezip: %s: %w", zipPath, err)
		}
		if err := os.Rename(from, to); err != nil {
			return nil, 0, fmt.Errorf("safezip: %s: place %s: %w", zipPath, rel, err)
		}
	}
	return out, total, nil
}

// extractOne inflates f into target, counting the bytes actually produced; it fails past maxFile bytes
// for the entry or past left bytes for the archive.
func extractOne(ctx context.Context, f *zip.File, target string, maxFile, left int64) (int64, error) {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return 0, err
	}
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	w, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	limit := min(maxFile, left)
	n, err := io.Copy(w, io.LimitReader(ctxio.Reader(ctx, rc), limit+1))
	if err == nil && n > limit {
		if n > maxFile {
			err = fmt.Errorf("unpacks to more than %d bytes: %w", maxFile, ErrLimit)
		} else {
			err = fmt.Errorf("archive unpacks to more than its limit of bytes in all: %w", ErrLimit)
		}
	}
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// CleanName turns a name from outside (a zip entry, a file name sent by 1C) into a safe slash-separated
// relative path: backslashes count as separators, "." and empty elements are dropped; absolute paths,
// drive letters or any colon, "..", and control characters are refused. An empty result means the name
// names the root itself.
func CleanName(name string) (string, error) {
	s := strings.ReplaceAll(name, `\`, "/")
	if strings.HasPrefix(s, "/") {
		return "", fmt.Errorf("absolute path: %w", ErrUnsafe)
	}
	if strings.Contains(s, ":") {
		return "", fmt.Errorf("drive letter or colon in the name: %w", ErrUnsafe)
	}
	var parts []string
	for _, p := range strings.Split(s, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("'..' in the name: %w", ErrUnsafe)
		}
		for _, r := range p {
			if r < 0x20 || r == 0x7f || strings.ContainsRune(`<>"|?*`, r) {
				return "", fmt.Errorf("character %q not allowed in a file name: %w", r, ErrUnsafe)
			}
		}
		if strings.TrimRight(p, ". ") != p {
			// Windows drops trailing dots and spaces: "a." and "a" would be the same file.
			return "", fmt.Errorf("element %q ends with a dot or space: %w", p, ErrUnsafe)
		}
		if ReservedWindowsName(p) {
			return "", fmt.Errorf("%q is a name Windows reserves for a device: %w", p, ErrUnsafe)
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "/"), nil
}

// ReservedWindowsName reports whether Windows takes a file name for a device, whatever its extension:
// CON, PRN, AUX, NUL, COM0–COM9, LPT0–LPT9 (also with the superscript digits ¹²³), CONIN$ and CONOUT$,
// ignoring case and spaces before the dot ("nul.xml", "Com1 .txt"). Writing to such a name on Windows
// writes to the device, not to a file.
func ReservedWindowsName(name string) bool {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$":
		return true
	}
	for _, dev := range []string{"COM", "LPT"} {
		if rest, ok := strings.CutPrefix(stem, dev); ok {
			switch rest {
			case "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³":
				return true
			}
		}
	}
	return false
}

func kind(m os.FileMode) string {
	switch {
	case m&os.ModeSymlink != 0:
		return "symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeDevice != 0:
		return "device"
	case m&os.ModeSocket != 0:
		return "socket"
	default:
		return "special file"
	}
}
