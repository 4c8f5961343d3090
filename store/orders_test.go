package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

// TestStoreFileLifetime: a pending receipt leaves the orders file only when it has been there since
// before the cut-off and across enough of BAS's runs; runs that began before it went in do not count.
func TestStoreFileLifetime(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	t0 := testT0
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.AddReceipt(ctx, ReceiptRecord{ID: id, State: ReceiptStatePending, When: t0, Number: "N-" + id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.MarkInFile(ctx, []string{"a", "b"}, t0); err != nil {
		t.Fatal(err)
	}
	// A second mark does not move the first.
	if err := s.MarkInFile(ctx, []string{"a", "b", "c"}, t0.Add(10*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if at, _ := s.InFileAt(ctx, "a"); !at.Equal(t0) {
		t.Errorf("a in file at %v, want %v", at, t0)
	}
	if at, _ := s.InFileAt(ctx, "c"); !at.Equal(t0.Add(10 * time.Minute)) {
		t.Errorf("c in file at %v", at)
	}
	// A run that started before a went in does not count for it.
	s.RecordBASRun(ctx, "webdata - 1", t0.Add(-time.Minute), t0.Add(time.Minute))
	for i := 1; i <= 3; i++ {
		s.RecordBASRun(ctx, "webdata - 1", t0.Add(time.Duration(i*5)*time.Minute), t0.Add(time.Duration(i*5+1)*time.Minute))
	}
	n, last, err := s.BASRuns(ctx, t0)
	if err != nil || n != 3 || !last.Equal(t0.Add(16*time.Minute)) {
		t.Errorf("BASRuns = %d, %v, %v", n, last, err)
	}
	// Three runs after a and b, one after c; the time rule keeps c as well.
	moved, err := s.ReleaseFromFile(ctx, t0.Add(5*time.Minute), 3, t0.Add(time.Hour))
	if err != nil || moved != 2 {
		t.Fatalf("ReleaseFromFile moved %d, %v; want a and b", moved, err)
	}
	if r, _, _ := s.Receipt(ctx, "a"); r.State != ReceiptStateDelivered || !r.ConfirmedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("a: %+v", r)
	}
	if r, _, _ := s.Receipt(ctx, "c"); r.State != ReceiptStatePending {
		t.Errorf("c left the file after one run: %+v", r)
	}
	// BAS's export confirms delivered receipts too.
	if n, err := s.ConfirmNumbers(ctx, []string{"N-a"}, t0.Add(2*time.Hour)); n != 1 || err != nil {
		t.Errorf("ConfirmNumbers(delivered) = %d, %v", n, err)
	}
}

func TestStoreAmendSale(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	s.AddReceipt(ctx, ReceiptRecord{ID: "sale", State: ReceiptStatePending, Number: "N1", Document: []byte(`{"v":1}`)})
	s.AddReceipt(ctx, ReceiptRecord{ID: "ret", State: ReceiptStateReturn})
	s.MarkInFile(ctx, []string{"sale"}, testT0)
	if err := s.AmendSale(ctx, "sale", []byte(`{"v":2}`), "ret", "applied"); err != nil {
		t.Fatal(err)
	}
	sale, _, _ := s.Receipt(ctx, "sale")
	ret, _, _ := s.Receipt(ctx, "ret")
	if string(sale.Document) != `{"v":2}` || ret.State != ReceiptStateAmended || ret.Reason != "applied" {
		t.Errorf("after AmendSale: %+v %+v", sale, ret)
	}
	if at, _ := s.InFileAt(ctx, "sale"); !at.IsZero() {
		t.Error("an amended sale must go into the file anew")
	}
	// Twice: the return is no longer waiting; nothing changes.
	if err := s.AmendSale(ctx, "sale", []byte(`{"v":3}`), "ret", "again"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second AmendSale: %v", err)
	}
	if sale, _, _ := s.Receipt(ctx, "sale"); string(sale.Document) != `{"v":2}` {
		t.Errorf("a refused amendment changed the sale: %s", sale.Document)
	}
}

func TestStoreOrderNumbers(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "s.db")
	s := mustOpenStore(t, path)
	first, err := s.TakeOrderNumbers(ctx, 2026, 3, 0)
	if err != nil || first != 1 {
		t.Fatalf("first numbers: %d, %v", first, err)
	}
	if first, _ = s.TakeOrderNumbers(ctx, 2026, 1, 0); first != 4 {
		t.Errorf("next number %d, want 4", first)
	}
	// A floor above the last taken (numbers found written before a lost state) wins.
	if first, _ = s.TakeOrderNumbers(ctx, 2026, 1, 100); first != 101 {
		t.Errorf("after the floor: %d, want 101", first)
	}
	if first, _ = s.TakeOrderNumbers(ctx, 2027, 1, 0); first != 1 {
		t.Errorf("a new year starts at 1: %d", first)
	}
	s.Close()
	s = mustOpenStore(t, path)
	defer s.Close()
	if last, _ := s.OrderNumbersTaken(ctx, 2026); last != 101 {
		t.Errorf("after reopening: %d", last)
	}
}
