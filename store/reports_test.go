package store

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

func TestReportLifecycle(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	add := func(id, status string, seen time.Time) {
		t.Helper()
		if _, err := s.AddReceipt(ctx, ReceiptRecord{ID: id, Status: status, State: ReceiptStateRetail, Raw: []byte(`{}`), FirstSeen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	add("r1", "DONE", testT0)
	add("r2", "DONE", testT0.Add(time.Minute))
	add("r3", "DONE", testT0.Add(2*time.Minute))

	var seen []string
	if err := s.ReceiptsFirstSeenSince(ctx, testT0.Add(time.Minute), func(r ReceiptRecord) error {
		seen = append(seen, r.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, []string{"r2", "r3"}) {
		t.Errorf("first seen since: %v", seen)
	}

	// Two receipts of shift S1 (its id written in capitals by one source) make one open report record.
	n, err := s.LinkReceipts(ctx, []ReceiptShift{
		{ReceiptID: "r1", ShiftID: "S1", RegisterID: "reg", FiscalNumber: "4000"},
		{ReceiptID: "r2", ShiftID: "s1", RegisterID: "reg", FiscalNumber: "4000"},
	})
	if err != nil || n != 2 {
		t.Fatalf("link: %d %v", n, err)
	}
	if n, err := s.LinkReceipts(ctx, []ReceiptShift{{ReceiptID: "r1", ShiftID: "s1", RegisterID: "reg"}}); err != nil || n != 0 {
		t.Fatalf("link again: %d %v", n, err)
	}
	rec, ok, err := s.Report(ctx, "S1")
	if err != nil || !ok || rec.State != ReportStateOpen || rec.RegisterID != "reg" || rec.FiscalNumber != "4000" {
		t.Fatalf("report record: %+v %v %v", rec, ok, err)
	}
	hash, count, err := s.ReceiptsHash(ctx, "s1")
	if err != nil || count != 2 {
		t.Fatalf("hash: %d %v", count, err)
	}

	// Closed and posted.
	rec.State, rec.Ref, rec.Number, rec.Total, rec.Receipts, rec.Hash = ReportStatePosted, "ref", "00000000001", 12345, count, hash
	rec.Serial, rec.OpenedAt, rec.ClosedAt, rec.SentAt = 7, testT0, testT0.Add(8*time.Hour), testT0.Add(9*time.Hour)
	if ok, err := s.UpdateReport(ctx, rec, ReportStateOpen); err != nil || !ok {
		t.Fatalf("update: %v %v", ok, err)
	}
	got, _, _ := s.Report(ctx, "s1")
	if got.State != ReportStatePosted || got.Total != 12345 || !got.ClosedAt.Equal(rec.ClosedAt) || got.Serial != 7 {
		t.Fatalf("after update: %+v", got)
	}
	// A report built while the state changed is not written over it.
	if ok, err := s.UpdateReport(ctx, rec, ReportStatePending); err != nil || ok {
		t.Fatalf("guarded update applied: %v %v", ok, err)
	}

	// A late offline receipt: the set changes and the report is due again.
	if n, err := s.LinkReceipts(ctx, []ReceiptShift{{ReceiptID: "r3", ShiftID: "s1", RegisterID: "reg"}}); err != nil || n != 1 {
		t.Fatalf("late link: %d %v", n, err)
	}
	got, _, _ = s.Report(ctx, "s1")
	if got.State != ReportStatePending || got.Ref != "ref" {
		t.Fatalf("after a late receipt: %+v", got)
	}
	if h2, c2, _ := s.ReceiptsHash(ctx, "s1"); h2 == hash || c2 != 3 {
		t.Errorf("hash did not change with the receipt set")
	}
	var ids []string
	if err := s.ShiftReceipts(ctx, "S1", func(r ReceiptRecord) error {
		ids = append(ids, r.ID)
		return nil
	}); err != nil || len(ids) != 3 {
		t.Fatalf("shift receipts: %v %v", ids, err)
	}

	counts, err := s.ReportCounts(ctx)
	if err != nil || counts[ReportStatePending] != 1 {
		t.Fatalf("counts: %v %v", counts, err)
	}
	var pending []string
	if err := s.ReportsInState(ctx, func(r ReportRecord) error {
		pending = append(pending, r.ShiftID)
		// Writing from the callback does not deadlock.
		_, err := s.UpdateReport(ctx, r, "")
		return err
	}, ReportStatePending, ReportStateHeld); err != nil || !slices.Equal(pending, []string{"s1"}) {
		t.Fatalf("in state: %v %v", pending, err)
	}
	if _, err := s.UpdateReport(ctx, ReportRecord{ShiftID: "nope", State: ReportStateHeld}, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("update of an unknown shift: %v", err)
	}
	if _, err := s.UpdateReport(ctx, ReportRecord{ShiftID: "s1", State: "bogus"}, ""); err == nil {
		t.Error("an unknown state was accepted")
	}
}

func TestRetailScanned(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, ok, err := s.RetailScanned(ctx); ok || err != nil {
		t.Fatalf("before the first scan: %v %v", ok, err)
	}
	for _, at := range []time.Time{testT0, testT0.Add(time.Hour)} {
		if err := s.SetRetailScanned(ctx, at); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := s.RetailScanned(ctx); !ok || err != nil || !got.Equal(at) {
			t.Fatalf("scanned until %v, want %v (%v %v)", got, at, ok, err)
		}
	}
}
