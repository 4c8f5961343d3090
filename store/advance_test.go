package store

import (
	"context"
	"errors"
	"testing"
)

// AdvanceReceipt rewrites only a receipt skipped as unfinished, and only from the status it was read
// with; a finished one, or one whose status moved meanwhile, stays as it is.
func TestStoreAdvanceReceipt(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	base := ReceiptRecord{ID: "r1", RegisterID: "reg", Type: "SELL", Status: "CREATED", Number: "CB-r1", When: testT0,
		TotalSum: 12550, State: ReceiptStateSkipped, Reason: "status CREATED", Raw: []byte(`{"id":"r1"}`)}
	done := ReceiptRecord{ID: "r2", RegisterID: "reg", Type: "SELL", Status: "DONE", Number: "CB-2", When: testT0,
		TotalSum: 100, State: ReceiptStatePending, Raw: []byte(`{"id":"r2"}`), Document: []byte(`{"Номер":"CB-2"}`)}
	for _, r := range []ReceiptRecord{base, done} {
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	now := base
	now.Status, now.Number, now.State, now.Reason, now.Document = "DONE", "CB-F1", ReceiptStatePending, "", []byte(`{"Номер":"CB-F1"}`)

	if ok, err := s.AdvanceReceipt(ctx, now, "ERROR"); ok || err != nil {
		t.Errorf("from a status it no longer has: %v %v", ok, err)
	}
	if ok, err := s.AdvanceReceipt(ctx, now, "CREATED"); !ok || err != nil {
		t.Fatalf("CREATED → DONE: %v %v", ok, err)
	}
	got, _, _ := s.Receipt(ctx, "r1")
	if got.Status != "DONE" || got.State != ReceiptStatePending || got.Number != "CB-F1" || string(got.Document) != `{"Номер":"CB-F1"}` {
		t.Errorf("after advancing: %+v", got)
	}
	back := got
	back.Status, back.State = "CANCELLED", ReceiptStateSkipped
	if ok, err := s.AdvanceReceipt(ctx, back, "DONE"); ok || err != nil {
		t.Errorf("a finished receipt went back: %v %v", ok, err)
	}
	clash := base
	clash.ID, clash.Number, clash.Status = "r3", "CB-r3", "CREATED"
	s.AddReceipt(ctx, clash)
	clash.Status, clash.Number, clash.State = "DONE", "CB-2", ReceiptStatePending
	if _, err := s.AdvanceReceipt(ctx, clash, "CREATED"); !errors.Is(err, ErrDuplicateNumber) {
		t.Errorf("a number another receipt has: %v", err)
	}
	if ok, err := s.SetReceiptStatus(ctx, "r2", "DONE", "CANCELLED"); !ok || err != nil {
		t.Errorf("SetReceiptStatus: %v %v", ok, err)
	}
	if got, _, _ := s.Receipt(ctx, "r2"); got.Status != "CANCELLED" || got.State != ReceiptStatePending || got.Number != "CB-2" {
		t.Errorf("after SetReceiptStatus: %+v", got)
	}
}
