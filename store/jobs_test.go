package store

import (
	"context"
	"fmt"
	"testing"
	"time"
)

func TestStoreCursor(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kyiv := time.FixedZone("EEST", 3*60*60)
	tests := []struct {
		name string
		t    time.Time
	}{
		{"nanoseconds", time.Date(2025, 3, 1, 18, 3, 55, 123456789, time.UTC)},
		{"one nanosecond", time.Date(2025, 3, 1, 18, 3, 55, 1, time.UTC)},
		{"whole second", time.Date(2025, 3, 1, 18, 3, 55, 0, time.UTC)},
		{"other zone", time.Date(2025, 7, 1, 0, 30, 0, 999999999, kyiv)},
		{"monotonic", time.Now()},
	}
	if _, ok, err := s.Cursor(ctx, "reg"); ok || err != nil {
		t.Fatalf("Cursor before any = %v, %v", ok, err)
	}
	for _, tt := range tests {
		if err := s.SetCursor(ctx, "reg", tt.t); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Cursor(ctx, "reg")
		if err != nil || !ok || !got.Equal(tt.t) || got.Location() != time.UTC {
			t.Errorf("%s: Cursor = %v (%v), %v, %v; want %v in UTC", tt.name, got, got.Location(), ok, err, tt.t)
		}
	}
	if err := s.SetCursor(ctx, "reg", time.Time{}); err == nil {
		t.Error("SetCursor accepted the zero time")
	}
	// Stored as RFC 3339 UTC text.
	if err := s.SetCursor(ctx, "reg", tests[3].t); err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := s.db.QueryRow(`SELECT until FROM cursors WHERE register_id = 'reg'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if want := "2025-06-30T21:30:00.999999999Z"; raw != want {
		t.Errorf("stored %q, want %q", raw, want)
	}
}

func TestStoreJobs(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if s.jobCap != 1000 {
		t.Errorf("history cap = %d, want 1000", s.jobCap)
	}
	s.jobCap = 10 // the same rule with fewer fsyncs
	for i := 0; i < 25; i++ {
		start := testT0.Add(time.Duration(i) * time.Minute)
		r := JobRun{Name: "receipts", Start: start, End: start.Add(time.Second), Summary: fmt.Sprintf(`{"n":%d}`, i)}
		if i%2 == 1 {
			r.Name, r.Err = "catalog", "checkbox: 503"
		}
		if err := s.RecordJob(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// A late record of an older run does not replace the last one.
	if err := s.RecordJob(ctx, JobRun{Name: "receipts", Start: testT0, End: testT0, Summary: "late"}); err != nil {
		t.Fatal(err)
	}
	hist, err := s.JobHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 10 || hist[0].Summary != "late" || hist[1].Summary != `{"n":24}` || hist[9].Summary != `{"n":16}` {
		t.Errorf("history = %d runs, first %q, second %q, last %q", len(hist), hist[0].Summary, hist[1].Summary, hist[len(hist)-1].Summary)
	}
	if hist, _ := s.JobHistory(ctx, 3); len(hist) != 3 {
		t.Errorf("JobHistory(3) = %d runs", len(hist))
	}

	tests := []struct {
		name      string
		wantOK    bool
		wantStart time.Time
		wantErr   string
	}{
		{"receipts", true, testT0.Add(24 * time.Minute), ""},
		{"catalog", true, testT0.Add(23 * time.Minute), "checkbox: 503"},
		{"never", false, time.Time{}, ""},
	}
	for _, tt := range tests {
		j, ok, err := s.LastJob(ctx, tt.name)
		if err != nil || ok != tt.wantOK || !j.Start.Equal(tt.wantStart) || j.Err != tt.wantErr {
			t.Errorf("LastJob(%s) = %+v, %v, %v", tt.name, j, ok, err)
		}
		if ok && !j.End.Equal(j.Start.Add(time.Second)) {
			t.Errorf("LastJob(%s).End = %v", tt.name, j.End)
		}
	}
	if err := s.RecordJob(ctx, JobRun{}); err == nil {
		t.Error("RecordJob accepted a run without a name")
	}
}
