package spool

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Reject puts a drop the spool cannot take into failed/ with its reason, leaving nothing in tmp/ or inbox/.
func TestReject(t *testing.T) {
	s := testSpool(t)
	src, d := sourceOf(t, "bad", map[string]string{"con.xml": "<a/>"}, time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC))
	_, err := s.Ingest(context.Background(), src, d, "drop-1")
	if !errors.Is(err, ErrBadDrop) {
		t.Fatalf("ingest of con.xml: %v, want ErrBadDrop", err)
	}
	dir, err := s.Reject("drop-1", "file \"bad/con.xml\": "+err.Error())
	if err != nil {
		t.Fatal(err)
	}
	if dir != filepath.Join(s.Dir("failed"), "drop-1") {
		t.Errorf("dir = %s", dir)
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("failed/drop-1: %v %v, want an empty folder", entries, err)
	}
	note, err := os.ReadFile(dir + ".error.txt")
	if err != nil || !strings.Contains(string(note), "bad/con.xml") || !strings.Contains(string(note), "reserved") {
		t.Errorf("reason %q (%v) must name the file and why", note, err)
	}
	assertEmpty(t, s, "inbox", "tmp", "processing")
	if _, err := s.Reject("drop-1", "again"); err == nil {
		t.Error("rejecting the same id twice must fail, never overwrite")
	}
	if _, err := s.Reject("../x", "r"); err == nil {
		t.Error("an id with a path must be refused")
	}
	assertEmpty(t, s, "tmp")
}
