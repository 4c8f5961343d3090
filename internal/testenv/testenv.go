// Package testenv holds what tests share: the files they may read from outside the repository (Shared),
// the folders they lay out (WriteFile) and a clock they move by hand (Clock). Only tests import it; it
// imports only the standard library.
package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository root: the nearest folder above the working directory holding go.mod.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Shared returns the path of rel inside the project's shared reference folder (../shared beside the
// repository, or $OBMIN_SHARED), and skips the test with a message when it is absent: a fresh clone
// of the repository has no such folder.
func Shared(tb testing.TB, rel string) string {
	tb.Helper()
	base := os.Getenv("OBMIN_SHARED")
	if base == "" {
		base = filepath.Join(Root(tb), "..", "shared")
	}
	p := filepath.Join(base, rel)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("reference files not available (%s): %v; this test needs the shared folder beside the repository", p, err)
	}
	return p
}
