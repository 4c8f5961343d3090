// Package golden compares a test's output with a file under testdata/ and, with the -update flag,
// rewrites the file instead: `go test ./pkg -run TestX -update`, then review the diff. It is the one
// -update flag of every package's tests; it imports only the standard library and is for tests only.
package golden

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// Update reports whether the test runs with -update.
func Update() bool { return *update }

// Assert compares got with the file at path; with -update it writes got there (creating its folder).
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update to accept it, and review the diff):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}
