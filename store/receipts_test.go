package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStoreAddReceiptOnce(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	r := ReceiptRecord{ID: "r1", RegisterID: "reg", Type: "SELL", Status: "DONE", Number: "CB-1", When: testT0,
		TotalSum: 12550, State: ReceiptStatePending, Raw: []byte(`{"id":"r1"}`), Document: []byte(`{"Номер":"CB-1"}`)}

	tests := []struct {
		name      string
		rec       ReceiptRecord
		wantAdded bool
		wantErr   error
	}{
		{"new", r, true, nil},
		{"same id again", r, false, nil},
		{"same id, other fields", func() ReceiptRecord { x := r; x.State, x.TotalSum, x.Number = ReceiptStateHeld, 1, "CB-9"; return x }(), false, nil},
		{"same id, number of another receipt", func() ReceiptRecord { x := r; x.Number = "CB-2"; return x }(), false, nil},
		{"new id, own number", func() ReceiptRecord { x := r; x.ID, x.Number = "r2", "CB-2"; return x }(), true, nil},
		{"new id, taken number", func() ReceiptRecord { x := r; x.ID = "r3"; return x }(), false, ErrDuplicateNumber},
		{"new id, no number", func() ReceiptRecord { x := r; x.ID, x.Number, x.State = "r4", "", ReceiptStateSkipped; return x }(), true, nil},
		{"another without number", func() ReceiptRecord { x := r; x.ID, x.Number, x.State = "r5", "", ReceiptStateSkipped; return x }(), true, nil},
	}
	for _, tt := range tests {
		added, err := s.AddReceipt(ctx, tt.rec)
		if added != tt.wantAdded || !errors.Is(err, tt.wantErr) || (tt.wantErr != nil) != (err != nil) {
			t.Errorf("%s: AddReceipt = %v, %v; want %v, %v", tt.name, added, err, tt.wantAdded, tt.wantErr)
		}
	}
	got, ok, err := s.Receipt(ctx, "r1")
	if err != nil || !ok {
		t.Fatalf("Receipt(r1) = %v, %v", ok, err)
	}
	want := r
	want.FirstSeen = testT0
	if !receiptsEqual(got, want) {
		t.Errorf("a repeated AddReceipt changed the record:\n got %+v\nwant %+v", got, want)
	}
	if _, ok, err := s.Receipt(ctx, "r3"); ok || err != nil {
		t.Errorf("the receipt with a taken number was stored: %v, %v", ok, err)
	}
	got, _, _ = s.Receipt(ctx, "r4")
	if got.Raw == nil || got.Document == nil {
		t.Errorf("r4: Raw/Document lost: %q %q", got.Raw, got.Document)
	}
	s.AddReceipt(ctx, ReceiptRecord{ID: "r6", State: ReceiptStateSkipped})
	got, _, _ = s.Receipt(ctx, "r6")
	if got.Raw != nil || got.Document != nil {
		t.Errorf("r6: nil Raw/Document came back as %q, %q", got.Raw, got.Document)
	}

	for _, bad := range []ReceiptRecord{{State: ReceiptStatePending}, {ID: "x", State: "new"}} {
		if _, err := s.AddReceipt(ctx, bad); err == nil {
			t.Errorf("AddReceipt(%+v) accepted an invalid record", bad)
		}
	}
}

func receiptsEqual(a, b ReceiptRecord) bool {
	return a.ID == b.ID && a.RegisterID == b.RegisterID && a.Type == b.Type && a.Status == b.Status &&
		a.Number == b.Number && a.When.Equal(b.When) && a.TotalSum == b.TotalSum && a.State == b.State &&
		a.Reason == b.Reason && string(a.Raw) == string(b.Raw) && string(a.Document) == string(b.Document) &&
		(a.Raw == nil) == (b.Raw == nil) && (a.Document == nil) == (b.Document == nil) &&
		a.FirstSeen.Equal(b.FirstSeen) && a.ConfirmedAt.Equal(b.ConfirmedAt)
}

func TestStoreAddReceiptConcurrent(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	const workers, ids, each = 50, 100, 20
	var added [ids]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				i := (w*7 + k*13) % ids // overlapping, in a different order per worker
				ok, err := s.AddReceipt(ctx, ReceiptRecord{ID: fmt.Sprintf("r%03d", i), Number: fmt.Sprintf("N%03d", i),
					State: ReceiptStatePending, When: testT0})
				if err != nil {
					errs <- err
					return
				}
				if ok {
					added[i].Add(1)
				}
				// Readers run beside the writers.
				if _, _, err := s.Receipt(ctx, fmt.Sprintf("r%03d", i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := 0
	for i := range added {
		switch n := added[i].Load(); n {
		case 0:
		case 1:
			seen++
		default:
			t.Errorf("r%03d added %d times", i, n)
		}
	}
	counts, err := s.ReceiptCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[ReceiptStatePending] != ids || seen != ids {
		t.Errorf("%d receipts stored, %d reported added, want %d", counts[ReceiptStatePending], seen, ids)
	}
}

func TestStoreReceiptsInStateOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	kyiv := time.FixedZone("EET", 2*60*60)
	sec := time.Date(2025, 3, 1, 10, 0, 5, 0, time.UTC)
	recs := []ReceiptRecord{
		{ID: "e", When: sec.Add(500 * time.Millisecond)},
		{ID: "d", When: sec}, // a whole second: must sort before .5 s (RFC3339Nano alone would not)
		{ID: "c", When: sec.Add(time.Nanosecond)},
		{ID: "b", When: sec.In(kyiv).Add(-time.Hour)}, // another zone, earlier instant
		{ID: "a", When: sec},                          // same instant as d: ID decides
		{ID: "h", When: sec.Add(-time.Hour), State: ReceiptStateHeld},
	}
	for _, r := range recs {
		if r.State == "" {
			r.State = ReceiptStatePending
		}
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		state ReceiptState
		want  []string
	}{
		{ReceiptStatePending, []string{"b", "a", "d", "c", "e"}},
		{ReceiptStateHeld, []string{"h"}},
		{ReceiptStateConfirmed, nil},
	}
	for _, tt := range tests {
		var got []string
		err := s.ReceiptsInState(ctx, tt.state, func(r ReceiptRecord) error {
			got = append(got, r.ID)
			if r.When.Location() != time.UTC {
				t.Errorf("%s: When in %v, want UTC", r.ID, r.When.Location())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ReceiptsInState(%s) = %v, want %v", tt.state, got, tt.want)
		}
	}

	// The usual loop: move each pending receipt on from inside the walk.
	err := s.ReceiptsInState(ctx, ReceiptStatePending, func(r ReceiptRecord) error {
		r.State = ReceiptStateHeld
		return s.UpdateReceipt(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts, _ := s.ReceiptCounts(ctx); counts[ReceiptStateHeld] != 6 || counts[ReceiptStatePending] != 0 {
		t.Errorf("counts after moving all = %v", counts)
	}
}

func TestStoreConfirmNumbers(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	confirmedAt := testT0.Add(-48 * time.Hour)
	for _, r := range []ReceiptRecord{
		{ID: "p1", Number: "CB-1", State: ReceiptStatePending, When: testT0},
		{ID: "p2", Number: "CB-2", State: ReceiptStatePending, When: testT0.Add(time.Second)},
		{ID: "p3", Number: "CB-3", State: ReceiptStatePending, When: testT0.Add(2 * time.Second)},
		{ID: "h1", Number: "CB-4", State: ReceiptStateHeld},
		{ID: "c1", Number: "CB-5", State: ReceiptStateConfirmed, ConfirmedAt: confirmedAt},
		{ID: "s1", State: ReceiptStateSkipped},
	} {
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	now := testT0.Add(time.Hour)
	tests := []struct {
		name    string
		numbers []string
		want    int
	}{
		{"none", nil, 0},
		{"pending, held, confirmed, unknown, empty", []string{"CB-1", "CB-4", "CB-5", "CB-99", ""}, 1},
		{"again", []string{"CB-1"}, 0},
		{"two", []string{"CB-3", "CB-2", "CB-3"}, 2},
	}
	for _, tt := range tests {
		n, err := s.ConfirmNumbers(ctx, tt.numbers, now)
		if err != nil || n != tt.want {
			t.Errorf("%s: ConfirmNumbers = %d, %v; want %d", tt.name, n, err, tt.want)
		}
	}
	r, _, _ := s.Receipt(ctx, "p1")
	if r.State != ReceiptStateConfirmed || !r.ConfirmedAt.Equal(now) {
		t.Errorf("p1 = %s at %v, want confirmed at %v", r.State, r.ConfirmedAt, now)
	}
	if r, _, _ := s.Receipt(ctx, "h1"); r.State != ReceiptStateHeld {
		t.Errorf("held receipt became %s", r.State)
	}

	sinceTests := []struct {
		since time.Time
		want  []string
	}{
		{now, []string{"p1", "p2", "p3"}},
		{now.Add(time.Nanosecond), nil},
		{confirmedAt, []string{"c1", "p1", "p2", "p3"}}, // c1 has no When: it sorts first
	}
	for _, tt := range sinceTests {
		var got []string
		if err := s.ConfirmedSince(ctx, tt.since, func(r ReceiptRecord) error { got = append(got, r.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ConfirmedSince(%v) = %v, want %v", tt.since, got, tt.want)
		}
	}

	// Many numbers at once: more than SQLite's bound-parameter limit.
	many := make([]string, 40000)
	for i := range many {
		many[i] = fmt.Sprintf("X-%d", i)
	}
	if n, err := s.ConfirmNumbers(ctx, many, now); err != nil || n != 0 {
		t.Errorf("ConfirmNumbers(40000 unknown) = %d, %v", n, err)
	}
}

func TestStoreUpdateReceipt(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	base := ReceiptRecord{ID: "r1", RegisterID: "reg", Type: "SELL", Status: "DONE", Number: "CB-1", When: testT0,
		TotalSum: 500, State: ReceiptStateHeld, Reason: "good 123 unknown to BAS", Raw: []byte(`{"id":"r1"}`)}
	for _, r := range []ReceiptRecord{base, {ID: "r2", Number: "CB-2", State: ReceiptStatePending}} {
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	released := base
	released.State, released.Reason, released.Document, released.Number = ReceiptStatePending, "", []byte(`{"doc":1}`), "CB-1a"
	released.TotalSum, released.RegisterID = 1, "other" // not updatable: ignored
	if err := s.UpdateReceipt(ctx, released); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Receipt(ctx, "r1")
	want := base
	want.State, want.Reason, want.Document, want.Number, want.FirstSeen = ReceiptStatePending, "", []byte(`{"doc":1}`), "CB-1a", testT0
	if !receiptsEqual(got, want) {
		t.Errorf("after update:\n got %+v\nwant %+v", got, want)
	}

	// Becoming confirmed stamps ConfirmedAt once.
	got.State = ReceiptStateConfirmed
	if err := s.UpdateReceipt(ctx, got); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return testT0.Add(time.Hour) }
	if err := s.UpdateReceipt(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _, _ = s.Receipt(ctx, "r1"); !got.ConfirmedAt.Equal(testT0) {
		t.Errorf("ConfirmedAt = %v, want %v", got.ConfirmedAt, testT0)
	}

	errTests := []struct {
		name string
		rec  ReceiptRecord
		is   error
	}{
		{"unknown id", ReceiptRecord{ID: "nope", State: ReceiptStatePending}, ErrNotFound},
		{"taken number", ReceiptRecord{ID: "r1", Number: "CB-2", State: ReceiptStatePending}, ErrDuplicateNumber},
		{"bad state", ReceiptRecord{ID: "r1", State: "lost"}, nil},
	}
	for _, tt := range errTests {
		err := s.UpdateReceipt(ctx, tt.rec)
		if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: UpdateReceipt error = %v, want %v", tt.name, err, tt.is)
		}
	}
}
