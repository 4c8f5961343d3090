package folder

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLocalTargetRemovesStaleTemps: a write of orders.xml killed between its temporary file and the
// rename leaves ".orders.xml.<random>.tmp" in BAS's folder. The next WriteFile of orders.xml removes it;
// temporary files of other names (another writer's, or returns.xml's) are left alone.
func TestLocalTargetRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	// The name atomicfile.WriteFile gives its temporary file, as a process killed mid-write leaves it.
	crashed, err := os.CreateTemp(dir, ".orders.xml.*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	crashed.WriteString("<КоммерческаяИнформация><Документ>")
	crashed.Close()
	others := []string{".returns.xml.123.tmp", ".orders.xml.tmp", ".orders.xml.bak.7.tmp", "orders.xml.5.tmp"}
	for _, n := range others {
		if err := os.WriteFile(filepath.Join(dir, n), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	tg := LocalTarget(dir)
	if err := tg.WriteFile(context.Background(), "orders.xml", []byte("<new/>")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(crashed.Name()); !os.IsNotExist(err) {
		t.Errorf("the crashed write's temporary file survived: %v", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	want := append(slices.Clone(others), "orders.xml")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("folder holds %q, want %q", got, want)
	}
	if b, err := tg.ReadFile(context.Background(), "orders.xml"); err != nil || string(b) != "<new/>" {
		t.Errorf("orders.xml: %q, %v", b, err)
	}
}
