package testenv

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// WriteFile writes root/rel (slash-separated) with content and, unless mod is zero, that modification
// time, creating the folders on the way: how tests lay out BAS's folder.
func WriteFile(tb testing.TB, root, rel string, content []byte, mod time.Time) {
	tb.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(p, content, 0o644); err != nil {
		tb.Fatal(err)
	}
	if mod.IsZero() {
		return
	}
	if err := os.Chtimes(p, mod, mod); err != nil {
		tb.Fatal(err)
	}
}

// DirNames lists the names in dir, sorted.
func DirNames(tb testing.TB, dir string) []string {
	tb.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		tb.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}
