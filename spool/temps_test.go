package spool

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"obmin/internal/atomicfile"
)

// A kill between atomicfile.WriteFile's temporary file and its rename leaves ".<name>.<random>.tmp" behind.
// OpenSpool sweeps them from every folder obmin writes in (the torture harness checks none survive), and
// atomicfile.RemoveTemps does it for a folder outside the spool, such as BAS's orders folder.
func TestLeftoverTempFilesAreRemoved(t *testing.T) {
	root := filepath.Join(t.TempDir(), "spool")
	s, err := OpenSpool(root)
	if err != nil {
		t.Fatal(err)
	}
	drop := filepath.Join(s.Dir("processing"), "drop-1")
	held := filepath.Join(root, "held")
	for _, dir := range []string{drop, held} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	keep := []string{filepath.Join(drop, "import.xml"), filepath.Join(held, "CB-1.txt"), filepath.Join(held, ".tmp")}
	leftovers := []string{
		filepath.Join(drop, ".obmin-report.txt.123456.tmp"),
		filepath.Join(held, ".CB-1.txt.42.tmp"),
		filepath.Join(root, ".status.txt.7.tmp"),
		filepath.Join(s.Dir("failed"), ".d.error.txt.9.tmp"),
	}
	for _, p := range append(slices.Clone(keep), leftovers...) {
		if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := OpenSpool(root); err != nil {
		t.Fatal(err)
	}
	for _, p := range leftovers {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived a restart: %v", p, err)
		}
	}
	for _, p := range keep {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s must be kept: %v", p, err)
		}
	}

	bas := t.TempDir()
	for _, n := range []string{".orders.xml.1.tmp", ".orders.xml.2.tmp", "orders.xml", ".returns.xml.3.tmp", ".orders.xml.tmp"} {
		if err := os.WriteFile(filepath.Join(bas, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := atomicfile.RemoveTemps(bas, "orders.xml"); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(bas)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if want := []string{".orders.xml.tmp", ".returns.xml.3.tmp", "orders.xml"}; !slices.Equal(got, want) {
		t.Errorf("after atomicfile.RemoveTemps(orders.xml): %q, want %q", got, want)
	}
	if err := atomicfile.RemoveTemps(filepath.Join(bas, "missing"), ""); err != nil {
		t.Errorf("a missing folder: %v", err)
	}
}
