package httpapi_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"obmin/basodata"
	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
)

// TestMetricsRetailReports: the retail sales reports' states, and how long the oldest one has waited.
func TestMetricsRetailReports(t *testing.T) {
	r := newRig(t, nil)
	r.withMetrics()
	bas := basemu.New(basemu.Config{User: "u", Password: "p"})
	if _, err := bas.SeedCatalog(bytes.NewReader(demo.Catalog(demo.Books, time.Now())), "import.xml"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(bas)
	t.Cleanup(srv.Close)
	client, err := basodata.New(basodata.Config{BaseURL: srv.URL + bas.Root(), User: "u", Password: "p"})
	if err != nil {
		t.Fatal(err)
	}
	r.agent.Retail = &exchange.Retail{Shifts: r.agent.Sales.API.(*checkbox.Client), BAS: client, Store: r.store, Log: r.agent.Log,
		Cfg: exchange.RetailConfig{
			Registers: []exchange.RetailRegister{{Checkbox: emulator.FirstFiscalNumber, Till: basodata.TillConfig{Till: bas.Refs().TillCode}}},
			VATCodes:  map[int]string{1: "20", 8: "0"}, Untaxed: "без ПДВ", FirstScan: time.Hour,
		}}
	r.uploadCatalog(demo.Books, time.Now())
	ctx := context.Background()
	for _, sale := range []emulator.Sale{
		{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}},
		{Lines: []emulator.SaleLine{{Code: "PK-1", Name: "Пакет", Price: 500, Quantity: 1000}}},
	} {
		if _, err := r.emu.Sell(sale); err != nil {
			t.Fatal(err)
		}
		r.emu.CloseShifts()
		if _, err := r.agent.PullReceipts(ctx); err != nil {
			t.Fatal(err)
		}
	}
	_, s := r.scrape("Bearer status-token")
	s.want(1, "obmin_retail_reports", "state=posted")
	s.want(1, "obmin_retail_reports", "state=held")
	s.want(0, "obmin_retail_reports", "state=error")
	if age, ok := s.get("obmin_retail_report_oldest_waiting_age_seconds"); !ok || age <= 0 {
		t.Errorf("oldest waiting report: %v %v, want the held shift's age", age, ok)
	}
}
