package emulator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shopspring/decimal"

	"obmin/basodata"
	"obmin/basodata/emulator"
)

// TestReportsChangedByHand: what a person does to a report in BAS's forms, over the admin API — a row's
// quantity typed anew (sums, total and stock follow, the report stays posted), posting cancelled (stock
// back), marked for deletion, deleted outright — reads back through OData as BAS would answer.
func TestReportsChangedByHand(t *testing.T) {
	en := newEnv(t, emulator.Config{})
	ctx := context.Background()
	en.emu.SetAdminToken("admin-token")
	admin := &emulator.AdminClient{BaseURL: en.srv.URL, Token: "admin-token"}
	ref := "77777777-0000-4000-8000-000000000003"
	good := "33333333-0000-4000-8000-000000000001"
	if _, err := en.c.Sync(ctx, sampleReport(t, en, ref), basodata.SyncOptions{Marker: "obmin-shift=S1", Post: true}); err != nil {
		t.Fatal(err)
	}
	stock := func() decimal.Decimal { return en.emu.StockOf(en.emu.Refs().Shop, good, "") }
	if err := admin.ChangeReportRow(ctx, ref, emulator.RowChange{Line: 1, Quantity: decimal.NewFromInt(5)}); err != nil {
		t.Fatal(err)
	}
	got, err := en.c.GetReport(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	// 5 sold at 150.00, 1 returned: 600.00; stock 10 - 5 + 1.
	if got.Total != 60000 || got.Stock[0].Total != 75000 || got.Stock[0].Quantity != 5000 || !got.Posted || !stock().Equal(decimal.NewFromInt(6)) {
		t.Fatalf("after the row changed: total %s, row %s × %s, posted %v, stock %s", got.Total, got.Stock[0].Quantity, got.Stock[0].Total, got.Posted, stock())
	}
	if err := admin.UnpostReport(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got, _ = en.c.GetReport(ctx, ref); got.Posted || !stock().Equal(decimal.NewFromInt(10)) {
		t.Fatalf("after unposting: posted %v, stock %s", got.Posted, stock())
	}
	if err := admin.MarkReportDeleted(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if got, _ = en.c.GetReport(ctx, ref); !got.DeletionMark {
		t.Fatal("not marked for deletion")
	}
	if err := admin.DeleteReport(ctx, ref); err != nil {
		t.Fatal(err)
	}
	if _, err := en.c.GetReport(ctx, ref); !errors.Is(err, basodata.ErrNotFound) {
		t.Fatalf("after deleting: %v", err)
	}
	if err := admin.UnpostReport(ctx, ref); err == nil {
		t.Error("a report no longer there was changed")
	}
	if err := (&emulator.AdminClient{BaseURL: en.srv.URL, Token: "wrong"}).DeleteReport(ctx, ref); err == nil {
		t.Error("the admin API answered a wrong token")
	}
}
