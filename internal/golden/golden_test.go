package golden

import (
	"os"
	"path/filepath"
	"testing"
)

func TestAssert(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "x.golden")
	*update = true
	Assert(t, path, []byte("one\n"))
	*update = false
	if b, err := os.ReadFile(path); err != nil || string(b) != "one\n" {
		t.Fatalf("-update wrote %q, %v", b, err)
	}
	Assert(t, path, []byte("one\n"))
	var fake testing.T
	done := make(chan struct{})
	go func() { defer close(done); Assert(&fake, path, []byte("two\n")) }()
	<-done
	if !fake.Failed() {
		t.Error("a difference must fail the test")
	}
}
