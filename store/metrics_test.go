package store

import (
	"context"
	"testing"
	"time"
)

func TestStoreOldestPending(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, ok, err := s.OldestPending(ctx); err != nil || ok {
		t.Fatalf("empty store: ok %v, err %v", ok, err)
	}
	at := func(min int) time.Time { return testT0.Add(time.Duration(min) * time.Minute) }
	for _, r := range []ReceiptRecord{
		// The oldest receipt overall is confirmed, and the oldest seen is held: neither counts.
		{ID: "r1", Number: "CB-1", State: ReceiptStateConfirmed, When: at(-600), FirstSeen: at(-500)},
		{ID: "r2", State: ReceiptStateHeld, When: at(-400), FirstSeen: at(-400)},
		// Sold earliest of the pending ones but seen last (a late pull): FirstSeen decides.
		{ID: "r3", Number: "CB-3", State: ReceiptStatePending, When: at(-300), FirstSeen: at(-10)},
		{ID: "r4", Number: "CB-4", State: ReceiptStatePending, When: at(-200), FirstSeen: at(-90)},
		{ID: "r5", Number: "CB-5", State: ReceiptStatePending, When: at(-100), FirstSeen: at(-30)},
		{ID: "r6", State: ReceiptStateSkipped, When: at(-700), FirstSeen: at(-700)},
	} {
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	first, ok, err := s.OldestPending(ctx)
	if err != nil || !ok || !first.Equal(at(-90)) {
		t.Fatalf("OldestPending = %v, %v, %v; want %v", first, ok, err, at(-90))
	}
	// Once BAS confirms it, the next one is the oldest.
	if _, err := s.ConfirmNumbers(ctx, []string{"CB-4"}, at(0)); err != nil {
		t.Fatal(err)
	}
	if first, ok, err = s.OldestPending(ctx); err != nil || !ok || !first.Equal(at(-30)) {
		t.Fatalf("after confirming CB-4: %v, %v, %v; want %v", first, ok, err, at(-30))
	}
}

func TestStoreLastSuccesses(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	got, err := s.LastSuccesses(ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("empty store: %v, %v", got, err)
	}
	at := func(min int) time.Time { return testT0.Add(time.Duration(min) * time.Minute) }
	for _, r := range []JobRun{
		{Name: "drops", Start: at(0), End: at(1)},
		{Name: "drops", Start: at(10), End: at(12)},
		{Name: "drops", Start: at(20), End: at(21), Err: "checkbox unreachable"}, // the last run failed
		{Name: "pull-receipts", Start: at(5), End: at(6), Err: "timeout"},        // never succeeded
		{Name: "retention", Start: at(30), End: at(31)},
	} {
		if err := s.RecordJob(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err = s.LastSuccesses(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Time{"drops": at(12), "retention": at(31)}
	if len(got) != len(want) {
		t.Fatalf("LastSuccesses = %v, want %v", got, want)
	}
	for name, w := range want {
		if !got[name].Equal(w) {
			t.Errorf("%s: %v, want %v", name, got[name], w)
		}
	}
}
