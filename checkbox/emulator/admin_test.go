package emulator

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The admin API over HTTP, driven by AdminClient, does what the Emulator's methods do.
func TestAdminClient(t *testing.T) {
	emu := New(Config{Login: "cashier", Password: "pw", Seed: 3})
	srv := httptest.NewServer(AdminHandler(emu, "secret"))
	t.Cleanup(func() { srv.Close(); emu.Close() })
	ctx := context.Background()
	admin := &AdminClient{BaseURL: srv.URL, Token: "secret"}

	if _, err := (&AdminClient{BaseURL: srv.URL, Token: "wrong"}).Goods(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("a wrong token: %v, want 401", err)
	}
	off := httptest.NewServer(AdminHandler(emu, ""))
	defer off.Close()
	if _, err := (&AdminClient{BaseURL: off.URL}).Goods(ctx); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("no token configured: %v, want 404", err)
	}

	if _, err := admin.GenerateSales(ctx, 1, 0, 1); err == nil || !strings.Contains(err.Error(), "422") {
		t.Errorf("sales with an empty catalogue: %v, want 422", err)
	}
	g, err := admin.AddGood(ctx, json.RawMessage(`{"name": "Листівка", "type": "good", "code": "HAND-1", "is_weight": false, "price": 2500}`))
	if err != nil || g.Code != "HAND-1" {
		t.Fatalf("add good: %+v, %v", g, err)
	}
	stock := int64(5000)
	if g, err = admin.EditGood(ctx, "HAND-1", json.RawMessage(`{"price": 3000}`), &stock); err != nil || g.Price != 3000 {
		t.Fatalf("edit good: %+v, %v", g, err)
	}
	if st, err := admin.Stock(ctx); err != nil || len(st) != 1 || st[0].Stock == nil || *st[0].Stock != 5000 {
		t.Errorf("stock: %+v, %v", st, err)
	}
	made, err := admin.GenerateSales(ctx, 3, 0, 7)
	if err != nil || len(made) != 3 {
		t.Fatalf("sales: %d, %v", len(made), err)
	}
	if rs, err := admin.Receipts(ctx); err != nil || len(rs) != 3 {
		t.Errorf("receipts: %d, %v", len(rs), err)
	}
	if err := admin.CloseShifts(ctx); err != nil {
		t.Fatal(err)
	}
	if sh, err := admin.Shifts(ctx); err != nil || len(sh) == 0 {
		t.Errorf("shifts: %d, %v", len(sh), err)
	}

	if err := admin.InjectFault(ctx, Fault{PathPrefix: "/api/v1/goods", Status: 503, RetryAfter: 2 * time.Second, Times: 1}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(srv.URL + "/api/v1/goods")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "2" {
		t.Errorf("with the fault: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if err := admin.SetRateLimit(ctx, 1, time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := admin.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if err := admin.RemoveGood(ctx, "HAND-1"); err != nil {
		t.Fatal(err)
	}
	if gs, err := admin.Goods(ctx); err != nil || len(gs) != 0 {
		t.Errorf("goods after the removal: %+v, %v", gs, err)
	}
}
