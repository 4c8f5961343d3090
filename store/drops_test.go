package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestStoreDrops(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t1 := testT0.Add(time.Minute)
	t2 := testT0.Add(2 * time.Minute)
	puts := []DropRecord{
		{ID: "d1", Fingerprint: "fp-a", Source: "webdata", State: DropStateDone, Files: 2, CreatedAt: testT0},
		{ID: "d2", Fingerprint: "fp-a", Source: "webdata", State: DropStateDuplicate, Files: 2, CreatedAt: t1},
		{ID: "d3", Fingerprint: "fp-b", Source: "webdata", State: DropStateInbox, Files: 1, CreatedAt: t2},
	}
	for _, d := range puts {
		if err := s.PutDrop(ctx, d); err != nil {
			t.Fatalf("PutDrop %s: %v", d.ID, err)
		}
	}

	fpTests := []struct {
		fp     string
		wantID string
		wantOK bool
	}{
		{"fp-a", "d1", true}, // the original, not the later duplicate
		{"fp-b", "d3", true},
		{"fp-c", "", false},
	}
	for _, tt := range fpTests {
		d, ok, err := s.DropByFingerprint(ctx, tt.fp)
		if err != nil || ok != tt.wantOK || d.ID != tt.wantID {
			t.Errorf("DropByFingerprint(%s) = %q, %v, %v; want %q, %v", tt.fp, d.ID, ok, err, tt.wantID, tt.wantOK)
		}
	}

	// An update by ID keeps CreatedAt.
	if err := s.PutDrop(ctx, DropRecord{ID: "d3", Fingerprint: "fp-b", Source: "webdata", State: DropStateProcessing, Files: 1, CreatedAt: t2.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t2.Add(5 * time.Second) }
	if err := s.SetDropState(ctx, "d3", DropStateFailed, "import.xml:12: bad XML"); err != nil {
		t.Fatal(err)
	}
	d, _, err := s.DropByFingerprint(ctx, "fp-b")
	if err != nil {
		t.Fatal(err)
	}
	want := DropRecord{ID: "d3", Fingerprint: "fp-b", Source: "webdata", State: DropStateFailed, Error: "import.xml:12: bad XML",
		Files: 1, CreatedAt: t2, UpdatedAt: t2.Add(5 * time.Second)}
	if d != want {
		t.Errorf("after update:\n got %+v\nwant %+v", d, want)
	}

	errTests := []struct {
		name string
		err  error
		is   error
	}{
		{"unknown id", s.SetDropState(ctx, "nope", DropStateDone, ""), ErrNotFound},
		{"bad state", s.SetDropState(ctx, "d1", "finished", ""), nil},
		{"put bad state", s.PutDrop(ctx, DropRecord{ID: "d9", Fingerprint: "x", State: "new"}), nil},
		{"put no fingerprint", s.PutDrop(ctx, DropRecord{ID: "d9", State: DropStateInbox}), nil},
	}
	for _, tt := range errTests {
		if tt.err == nil || (tt.is != nil && !errors.Is(tt.err, tt.is)) {
			t.Errorf("%s: error = %v, want an error (%v)", tt.name, tt.err, tt.is)
		}
	}

	limitTests := []struct {
		limit int
		want  []string
	}{
		{0, []string{"d3", "d2", "d1"}},
		{2, []string{"d3", "d2"}},
		{10, []string{"d3", "d2", "d1"}},
	}
	for _, tt := range limitTests {
		got, err := s.RecentDrops(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("RecentDrops(%d) = %v, want %v", tt.limit, ids, tt.want)
		}
	}
}
