package retail_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"obmin/basodata"
	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/retail"
)

// TestEndToEnd runs a shift from the Checkbox emulator through the builder and the OData client into
// the BAS emulator: the report is created and posted once through a lost answer and a proxy error, its
// total is the shift's takings, the shop's stock goes down by what was sold and up by what came back,
// and a receipt that arrives after the report rewrites it (and the stock) without a second report.
func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	// BAS: the goods as its export names them (Ид = item GUID, #characteristic for a variant), with stock.
	bas := basemu.New(basemu.Config{User: "odata.user", Password: "odata-pass"})
	srv := httptest.NewServer(bas)
	t.Cleanup(srv.Close)
	ids := map[string]string{ // what the ledger holds: Checkbox code → BAS Ид
		"KN-0001": itemBook, "ST-0101": itemPad, "CF-0001": itemCoffee, "TS-XL": itemShirt + "#" + charShirtXL,
	}
	for code, id := range ids {
		g := basemu.Good{ID: id, Article: code, Name: code, UnitCode: "2009", VATRate: "20", Stock: decimal.NewFromInt(20)}
		if code == "KN-0001" {
			g.VATRate = "Без ПДВ"
		}
		if code == "CF-0001" {
			g.UnitCode, g.Stock = "0301", decimal.RequireFromString("5.250")
		}
		if err := bas.AddGood(g); err != nil {
			t.Fatal(err)
		}
	}
	c, err := basodata.New(basodata.Config{BaseURL: srv.URL + bas.Root(), User: "odata.user", Password: "odata-pass",
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CheckMetadata(ctx); err != nil {
		t.Fatal(err)
	}
	refs := bas.Refs()
	setup, err := c.ResolveTill(ctx, basodata.TillConfig{Till: refs.TillCode, Terminal: refs.TerminalCode})
	if err != nil {
		t.Fatal(err)
	}
	rates, err := c.VATRates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m := retail.Mapping{Setup: setup, VAT: map[int]retail.VATRate{}}
	for code, spec := range map[int]struct {
		pct   int64
		noVAT bool
	}{1: {20, false}, 2: {7, false}, 8: {0, true}} {
		r, err := basodata.FindVATRate(rates, basodata.Percent(spec.pct*100), spec.noVAT)
		if err != nil {
			t.Fatal(err)
		}
		m.VAT[code] = retail.VATRate{Ref: r.Ref, Percent: spec.pct, NoVAT: spec.noVAT}
	}
	// The goods resolver: the ledger's Ид, and the item's unit read from BAS once.
	resolve := func(code string) (retail.Good, bool) {
		id, ok := ids[code]
		if !ok {
			return retail.Good{}, false
		}
		item, char, _ := strings.Cut(id, "#")
		g, err := basodata.Lookup[basodata.Good](ctx, c, basodata.SetItems, item)
		if err != nil {
			t.Fatalf("good %s: %v", code, err)
		}
		return retail.Good{Item: item, Characteristic: char, Unit: g.Unit}, true
	}

	// Checkbox: a shift of sales and returns.
	s := newShop(t)
	s1 := s.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 2000}}})
	s.sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "ST-0101", Quantity: 1000, DiscountPercent: 10}, {Code: "CF-0001", Quantity: 347}}})
	s.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "TS-XL", Quantity: 1000}}})
	s.ret(s1.ID, []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}})
	late := s.sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "ST-0101", Quantity: 2000}}})
	sh, rs := s.closed()
	var early []checkbox.Receipt
	for _, r := range rs {
		if r.ID != late.ID {
			early = append(early, r)
		}
	}

	res, err := retail.Build(sh, early, m, resolve)
	if err != nil || len(res.Held) > 0 {
		t.Fatalf("build: %+v %v", res.Held, err)
	}
	bas.InjectFault(basemu.Fault{Method: "POST", Path: basodata.SetReport, AfterHandling: true, DropConnection: true})
	bas.InjectFault(basemu.Fault{Method: "POST", Path: basodata.SetReport + "(", Status: 502})
	opt := basodata.SyncOptions{Marker: res.Marker, Post: true}
	sync, err := c.Sync(ctx, res.Report, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !sync.Posted || sync.Total != res.Report.Total {
		t.Fatalf("sync: %+v", sync)
	}
	stock := func(item, char string) string { return bas.StockOf(refs.Shop, item, char).String() }
	for _, c := range []struct{ item, char, want string }{
		{itemBook, "", "19"}, {itemPad, "", "19"}, {itemCoffee, "", "4.903"}, {itemShirt, charShirtXL, "19"},
	} {
		if got := stock(c.item, c.char); got != c.want {
			t.Errorf("stock of %s %s = %s, want %s", c.item, c.char, got, c.want)
		}
	}

	// The late receipt: the same report, rewritten and posted again.
	res2, err := retail.Build(sh, rs, m, resolve)
	if err != nil {
		t.Fatal(err)
	}
	if res2.Report.Ref != res.Report.Ref {
		t.Fatal("the report key changed with the receipts")
	}
	if sync, err = c.Sync(ctx, res2.Report, opt); err != nil || !sync.Updated || !sync.Posted {
		t.Fatalf("late receipt: %+v %v", sync, err)
	}
	if got := stock(itemPad, ""); got != "17" {
		t.Errorf("stock of the pad after the late receipt = %s, want 17", got)
	}
	reps := bas.Reports()
	if len(reps) != 1 {
		t.Fatalf("%d reports in BAS, want 1", len(reps))
	}
	detail, err := s.c.Shift(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if int64(reps[0].Total) != detail.Balance.Takings() || !reps[0].Posted {
		t.Errorf("BAS holds %s (posted %v), the shift took %d kopecks", reps[0].Total, reps[0].Posted, detail.Balance.Takings())
	}
}
