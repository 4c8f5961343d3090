package exchange_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"obmin/basodata"
	basemu "obmin/basodata/emulator"
	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
	"obmin/internal/voice"
	"obmin/reconcile"
	"obmin/retail"
	"obmin/store"
)

// basRig is the rig with BAS's OData side as well: the emulated base, seeded with the demo catalogue
// BAS exports (its goods keyed by their Ид), and the retail sales reports on the agent.
type basRig struct {
	*rig
	bas    *basemu.Emulator
	client *basodata.Client
	cb     *checkbox.Client
	cfg    exchange.RetailConfig
}

// handMade is a good a cashier types in at the till; BAS exports it only later in the tests.
var handMade = demo.Book{ID: "6f1c2a10-0001-4c3e-9a01-0000000000aa", Article: "PK-1", Name: "Пакет паперовий", Price: "5.00", Stock: "100", VAT: "20"}

func newBASRig(t *testing.T, orders bool, ecfg basemu.Config, mutate func(*exchange.RetailConfig)) *basRig {
	t.Helper()
	r := &basRig{rig: newRig(t, func(_ *exchange.Mapping, sc *exchange.SalesConfig) { sc.NoOrdersFile = !orders })}
	ecfg.User, ecfg.Password = "odata.user", "odata-pass"
	r.bas = basemu.New(ecfg)
	at := time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)
	if _, err := r.bas.SeedExport(demo.Catalog(demo.Books, at), demo.Offers(demo.Books, at)); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.bas)
	t.Cleanup(srv.Close)
	var err error
	r.client, err = basodata.New(basodata.Config{BaseURL: srv.URL + r.bas.Root(), User: "odata.user", Password: "odata-pass",
		HTTPClient: &http.Client{Timeout: 2 * time.Second}, BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	r.cb = r.agent.Sales.API.(*checkbox.Client)
	refs := r.bas.Refs()
	r.cfg = exchange.RetailConfig{
		Registers: []exchange.RetailRegister{{Checkbox: r.emu.Registers()[0].FiscalNumber,
			Till: basodata.TillConfig{Till: refs.TillCode, Terminal: refs.TerminalCode}, CardKinds: map[string]string{"Картка": "Visa"}}},
		VATCodes:  map[int]string{1: "20", 2: "7", 3: "0", 8: "без ПДВ"},
		Untaxed:   "без ПДВ", // a good typed in at the till carries no tax
		FirstScan: 72 * time.Hour, Recheck: 38 * time.Hour,
		HeldDir: filepath.Join(r.dir, "spool", "held-shifts"),
	}
	if mutate != nil {
		mutate(&r.cfg)
	}
	r.agent.Retail = r.newRetail(r.store)
	return r
}

// newRetail is the reports job as a fresh obmin process would make it.
func (r *basRig) newRetail(st exchange.RetailStore) *exchange.Retail {
	return &exchange.Retail{Shifts: r.cb, BAS: r.client, Store: st, Cfg: r.cfg, Log: r.agent.Log}
}

// shiftOf returns the emulator's shift with this id.
func (r *basRig) shiftOf(id string) checkbox.ShiftDetail {
	r.t.Helper()
	for _, s := range r.emu.Shifts() {
		if s.ID == id {
			return s
		}
	}
	r.t.Fatalf("no shift %s", id)
	return checkbox.ShiftDetail{}
}

// bookIDs maps Checkbox codes to BAS's items, as BAS exported them.
func bookIDs(books ...demo.Book) func(string) (string, string, bool) {
	return func(code string) (string, string, bool) {
		for _, b := range books {
			if b.Article == code {
				item, char, _ := strings.Cut(b.ID, "#")
				return item, char, true
			}
		}
		return "", "", false
	}
}

// checkReports checks BAS against the till: every closed shift of the emulator with sales or returns
// has exactly one report in BAS (found by its marker), posted and equal to the shift's receipts, its
// total the shift's takings; the shifts in held have none. It returns the reports by shift.
func (r *basRig) checkReports(held ...string) map[string]basodata.Report {
	r.t.Helper()
	reports := r.bas.Reports()
	out := map[string]basodata.Report{}
	byShift := map[string][]checkbox.Receipt{}
	for _, rc := range r.emu.Receipts() {
		byShift[rc.ShiftID] = append(byShift[rc.ShiftID], rc)
	}
	for _, sh := range r.emu.Shifts() {
		var mine []basodata.Report
		for _, rep := range reports {
			if strings.Contains(rep.Comment, retail.Marker(sh.ID)) {
				mine = append(mine, rep)
			}
		}
		switch {
		case slices.Contains(held, sh.ID) || sh.Status != checkbox.ShiftClosed || len(byShift[sh.ID]) == 0:
			if len(mine) > 0 {
				r.t.Errorf("shift %d (%s, %s) has %d reports in BAS, want none", sh.Serial, sh.ID, sh.Status, len(mine))
			}
			continue
		case len(mine) != 1:
			r.t.Errorf("shift %d (%s) has %d reports in BAS, want 1", sh.Serial, sh.ID, len(mine))
			continue
		}
		rep := mine[0]
		if !rep.Posted {
			r.t.Errorf("shift %d: report №%s is not posted", sh.Serial, rep.Number)
		}
		for _, d := range retail.Compare(byShift[sh.ID], rep, bookIDs(append(slices.Clone(demo.Books), handMade)...)) {
			r.t.Errorf("shift %d: report №%s: %s", sh.Serial, rep.Number, d)
		}
		if sh.Balance != nil && int64(rep.Total) != sh.Balance.Takings() {
			r.t.Errorf("shift %d: report total %s, Checkbox's shift balance took %d", sh.Serial, rep.Total, sh.Balance.Takings())
		}
		out[sh.ID] = rep
	}
	return out
}

// stock is the shop's stock of a demo good in BAS.
func (r *basRig) stock(b demo.Book) string {
	return r.bas.StockOf(r.bas.Refs().Shop, b.ID, "").String()
}

func (r *basRig) statusText() string {
	r.t.Helper()
	st, err := r.agent.Snapshot(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	var b strings.Builder
	st.Text(&b)
	return b.String()
}

func book(code string) demo.Book {
	for _, b := range demo.Books {
		if b.Article == code {
			return b
		}
	}
	panic(code)
}

// TestRetailReportsEndToEnd runs the whole path: BAS's catalogue into Checkbox, sales, returns, card
// and cash payments, line and receipt discounts at the till, shifts closed, obmin's reports into the
// emulated BAS through a proxy error, a lost answer, an outage and a crash, an offline receipt that
// arrives after its shift's report, and a good BAS exports only later. Every closed shift ends with one
// posted report equal to its receipts, and BAS's stock moves by what was sold and returned.
func TestRetailReportsEndToEnd(t *testing.T) {
	ctx := context.Background()
	r := newBASRig(t, true, basemu.Config{}, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	if len(r.emu.Goods()) == 0 {
		t.Fatal("the catalogue did not reach Checkbox")
	}
	kobzar, pad, bookmark, coffee := book("KN-0001"), book("ST-0101"), book("ST-0102"), book("CF-0001")
	before := map[string]decimal.Decimal{}
	for _, b := range []demo.Book{kobzar, pad, bookmark, coffee} {
		before[b.Article] = decimal.RequireFromString(r.stock(b))
	}

	// Shift 1: cash and card, a line discount, a receipt discount, a weighed good, two returns (one to
	// the card).
	sell := func(s emulator.Sale) checkbox.Receipt {
		t.Helper()
		rc, err := r.emu.Sell(s)
		if err != nil {
			t.Fatal(err)
		}
		return rc
	}
	s1 := sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 2000}}})
	s2 := sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "ST-0101", Quantity: 2000, DiscountPercent: 10}, {Code: "CF-0001", Quantity: 347}}})
	sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "ST-0102", Quantity: 3000}, {Code: "KN-0001", Quantity: 1000}}, DiscountValue: 1000, Tendered: 100000})
	if _, err := r.emu.Return(s1.ID, []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.Return(s2.ID, []emulator.SaleLine{{Code: "ST-0101", Quantity: 1000}}); err != nil {
		t.Fatal(err)
	}
	r.emu.CloseShifts()
	shift1 := s1.ShiftID
	// The first create meets a proxy error; the second is made but its answer is lost.
	r.bas.InjectFault(basemu.Fault{Method: "POST", Path: basodata.SetReport, Status: 502})
	r.bas.InjectFault(basemu.Fault{Method: "POST", Path: basodata.SetReport, AfterHandling: true, DropConnection: true})
	r.pass()
	reps := r.checkReports()
	if len(reps) != 1 {
		t.Fatalf("%d reports after the first shift", len(reps))
	}
	var statuses []int
	for _, c := range r.bas.Calls() {
		if c.Method == "POST" && c.Path == basodata.SetReport {
			statuses = append(statuses, c.Status)
		}
	}
	if !slices.Equal(statuses, []int{502, 0}) {
		t.Errorf("creates answered %v, want the proxy error then the lost answer, and no third", statuses)
	}
	// Sold less returned: 2, 1, 3 and 0.347; returned: 1, 1.
	for code, sold := range map[string]string{"KN-0001": "2", "ST-0101": "1", "ST-0102": "3", "CF-0001": "0.347"} {
		want := before[code].Sub(decimal.RequireFromString(sold)).String()
		if got := r.stock(book(code)); got != want {
			t.Errorf("BAS stock of %s after shift 1: %s, want %s", code, got, want)
		}
	}
	if !strings.Contains(r.statusText(), "проведено 1") {
		t.Errorf("status does not count the posted report:\n%s", r.statusText())
	}

	// Shift 2 sells a good typed in at the till, which BAS never exported: the report is held.
	s3 := sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "KN-0002", Quantity: 1000}, {Code: handMade.Article, Name: handMade.Name, Price: 500, Quantity: 2000}}})
	r.emu.CloseShifts()
	r.pass()
	r.checkReports(s3.ShiftID)
	status := r.statusText()
	if !strings.Contains(status, "ЗАТРИМАНО") || !strings.Contains(status, "Пакет паперовий") || !strings.Contains(status, "Що зробити: вивантажте") {
		t.Errorf("status does not say why shift 2 is held and what to do:\n%s", status)
	}
	files, _ := filepath.Glob(filepath.Join(r.cfg.HeldDir, "*.txt"))
	if len(files) != 1 {
		t.Errorf("held shifts described in %v, want one file", files)
	}

	// An offline receipt of shift 1 arrives after its report, while BAS is down: the report waits, then
	// is rewritten and posted again, still one.
	sh1 := r.shiftOf(shift1)
	sell(emulator.Sale{Offline: true, ShiftID: shift1, At: sh1.ClosedAt.Add(-time.Second), Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: "ST-0101", Quantity: 1000}}})
	r.bas.InjectFault(basemu.Fault{Status: 503, Times: -1})
	if _, err := r.agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	if rec, _, _ := r.store.Report(ctx, shift1); rec.State != store.ReportStatePending || !strings.Contains(rec.Reason, "BAS не відповідає") {
		t.Errorf("during BAS's outage shift 1's report is %s (%s), want pending with the reason", rec.State, rec.Reason)
	}
	if j, ok, _ := r.store.LastJob(ctx, "retail-reports"); !ok || j.Err == "" {
		t.Errorf("the outage is not in the job's record: %+v", j)
	}
	r.bas.ClearFaults()
	r.pass()
	reps = r.checkReports(s3.ShiftID)
	if got, want := r.stock(pad), before["ST-0101"].Sub(decimal.NewFromInt(2)).String(); got != want {
		t.Errorf("BAS stock of the pad after the late receipt: %s, want %s", got, want)
	}

	// BAS exports the good: the held shift goes out after that drop.
	if err := r.bas.AddGood(basemu.Good{ID: handMade.ID, Article: handMade.Article, Name: handMade.Name, UnitCode: "796", VATRate: "20",
		Stock: decimal.NewFromInt(100)}); err != nil {
		t.Fatal(err)
	}
	r.drop(append(slices.Clone(demo.Books), handMade), time.Now())
	r.pass()
	reps = r.checkReports()
	if len(reps) != 2 {
		t.Fatalf("%d reports, want 2", len(reps))
	}
	if files, _ := filepath.Glob(filepath.Join(r.cfg.HeldDir, "*.txt")); len(files) != 0 {
		t.Errorf("held shift files left: %v", files)
	}

	// A crash after BAS took a report but before obmin recorded it: the next obmin finds it and makes
	// no second one.
	sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0003", Quantity: 1000}}})
	r.emu.CloseShifts()
	r.agent.Retail = r.newRetail(&forgetfulStore{Store: r.store})
	if _, err := r.agent.PullReceipts(ctx); err != nil {
		t.Fatal(err)
	}
	posts := creates(r.bas)
	r.agent.Retail = r.newRetail(r.store)
	r.pass()
	if n := creates(r.bas); n != posts {
		t.Errorf("the restarted obmin created %d more reports", n-posts)
	}
	reps = r.checkReports()
	if len(reps) != 3 {
		t.Fatalf("%d reports, want 3", len(reps))
	}
	// Nothing more to do: another pass asks BAS nothing but the look-ups of nothing.
	calls := len(r.bas.Calls())
	r.pass()
	if n := len(r.bas.Calls()); n != calls {
		t.Errorf("an idle pass made %d calls to BAS", n-calls)
	}
	// Both channels: the orders file has the sales too.
	if docs := r.ordersFile(); len(docs) == 0 {
		t.Error("sales.to both: the orders file is empty")
	}
}

// creates counts the reports POSTed to BAS (answered or not).
func creates(bas *basemu.Emulator) int {
	n := 0
	for _, c := range bas.Calls() {
		if c.Method == "POST" && c.Path == basodata.SetReport {
			n++
		}
	}
	return n
}

// forgetfulStore loses the record of a report BAS has taken, as a kill right after BAS's answer does.
type forgetfulStore struct {
	*store.Store
	forgot bool
}

func (f *forgetfulStore) UpdateReport(ctx context.Context, rec store.ReportRecord, onlyIf string) (bool, error) {
	if rec.State == store.ReportStatePosted && !f.forgot {
		f.forgot = true
		return false, errors.New("killed")
	}
	return f.Store.UpdateReport(ctx, rec, onlyIf)
}

// TestRetailReportsByComment: a base that assigns its own keys; obmin finds its report by the marker
// in Комментарий, through a lost answer, and never makes a second.
func TestRetailReportsByComment(t *testing.T) {
	r := newBASRig(t, false, basemu.Config{AssignOwnKeys: true}, func(c *exchange.RetailConfig) { c.KeyMode = basodata.KeyByComment })
	r.drop(demo.Books, time.Now())
	r.pass()
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	r.emu.CloseShifts()
	r.bas.InjectFault(basemu.Fault{Method: "POST", Path: basodata.SetReport, AfterHandling: true, DropConnection: true})
	r.pass()
	r.pass()
	if reps := r.checkReports(); len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	// sales.to: retail-report: the receipts go nowhere else.
	counts, err := r.store.ReceiptCounts(context.Background())
	if err != nil || counts[exchange.StateRetail] != 1 || counts[exchange.StatePending] != 0 {
		t.Errorf("receipt states %v %v", counts, err)
	}
	if _, err := os.Stat(r.orders); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("sales.to retail-report wrote the orders file: %v", err)
	}
	if !strings.Contains(r.statusText(), "не пишеться") {
		t.Errorf("status does not say the orders file is off")
	}
}

// TestRetailSetupErrors: what the administrator must fix stops obmin at start, naming the object.
func TestRetailSetupErrors(t *testing.T) {
	for _, tt := range []struct {
		name   string
		mutate func(*exchange.RetailConfig)
		want   string
	}{
		{"unknown till", func(c *exchange.RetailConfig) { c.Registers[0].Till.Till = "Каса 99" }, `till "Каса 99"`},
		{"unknown VAT rate", func(c *exchange.RetailConfig) { c.VATCodes[5] = "14" }, "Checkbox tax code 5"},
		{"card kind not on the terminal", func(c *exchange.RetailConfig) { c.Registers[0].Till.CardKind = "Amex" }, `card kind "Amex"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newBASRig(t, true, basemu.Config{}, tt.mutate)
			err := r.agent.Once(context.Background(), time.Millisecond)
			if !errors.Is(err, exchange.ErrRetailSetup) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("start: %v; want a set-up error naming %s", err, tt.want)
			}
		})
	}
}

// TestRetailRefusedReport: BAS refuses to post (not enough stock, with «контроль остатков» on): the shift
// is shown with BAS's own message and what to do; once the stock is entered in BAS and BAS exports
// again, the report is posted, still one.
func TestRetailRefusedReport(t *testing.T) {
	r := newBASRig(t, false, basemu.Config{ControlNegativeStock: true}, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	kobzar := book("KN-0001")
	r.bas.SetStock(r.bas.Refs().Shop, kobzar.ID, "", decimal.NewFromInt(1))
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: kobzar.Article, Quantity: 3000}}}); err != nil {
		t.Fatal(err)
	}
	r.emu.CloseShifts()
	r.pass()
	status := r.statusText()
	if !strings.Contains(status, "ВІДМОВА BAS") || !strings.Contains(status, "Недостатньо запасу") || !strings.Contains(status, "Що зробити: виправте в BAS") {
		t.Errorf("status does not show BAS's refusal and what to do:\n%s", status)
	}
	r.pass() // not tried again before its time
	if n := creates(r.bas); n != 1 {
		t.Errorf("%d reports created, want 1", n)
	}
	r.bas.SetStock(r.bas.Refs().Shop, kobzar.ID, "", decimal.NewFromInt(10))
	r.drop(demo.Books, time.Now().Add(time.Minute)) // BAS exports again: refused reports are tried at once
	r.pass()
	if reps := r.checkReports(); len(reps) != 1 {
		t.Fatalf("%d reports", len(reps))
	}
	if got := r.stock(kobzar); got != "7" {
		t.Errorf("BAS stock after the report: %s, want 7", got)
	}
}

// ledgerGoods maps Checkbox codes to BAS's item and characteristic as obmin's ledger has them (the Ид
// BAS exported for each good).
func (r *basRig) ledgerGoods(code string) (string, string, bool) {
	g, ok, err := r.store.Good(context.Background(), code)
	if err != nil || !ok || g.BASID == "" {
		return "", "", false
	}
	item, char, _ := strings.Cut(g.BASID, "#")
	return item, char, true
}

// TestRetailReportsWithCharacteristics: goods with characteristics (BAS's Ид "product#characteristic",
// one Checkbox good each) through the reports: every row carries BAS's item and its characteristic, the
// characteristics of one item stay apart, a return of one comes back to it, and BAS's stock moves per
// characteristic; reconciliation reads the report back and finds it equal to its receipts.
func TestRetailReportsWithCharacteristics(t *testing.T) {
	ctx := context.Background()
	r := newBASRig(t, false, basemu.Config{}, nil)
	at := time.Now()
	// BAS holds the goods with characteristics too, the characteristics taken from the export's offers.
	if _, err := r.bas.SeedExport(demo.Catalog(demo.Editions, at), demo.Offers(demo.Editions, at)); err != nil {
		t.Fatal(err)
	}
	r.drop(append(slices.Clone(demo.Books), demo.Editions...), at)
	r.pass()
	type variant struct{ item, char, code string }
	variantOf := func(b demo.Book, i int) variant {
		t.Helper()
		id := b.ID + "#" + b.Variants[i].CharID
		g, ok, err := r.store.GoodByBASID(ctx, id)
		if err != nil || !ok {
			t.Fatalf("no Checkbox good for %s: %v", id, err)
		}
		return variant{b.ID, b.Variants[i].CharID, g.Code}
	}
	hard, soft, medium := variantOf(demo.Editions[0], 0), variantOf(demo.Editions[0], 1), variantOf(demo.Editions[1], 1)
	stock := func(v variant) decimal.Decimal { return r.bas.StockOf(r.bas.Refs().Shop, v.item, v.char) }
	before := map[variant]decimal.Decimal{hard: stock(hard), soft: stock(soft), medium: stock(medium)}

	s1, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: hard.code, Quantity: 1000}, {Code: soft.code, Quantity: 2000}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.Sell(emulator.Sale{Payment: "CASHLESS", Lines: []emulator.SaleLine{{Code: medium.code, Quantity: 1000}, {Code: "KN-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.emu.Return(s1.ID, []emulator.SaleLine{{Code: soft.code, Quantity: 1000}}); err != nil {
		t.Fatal(err)
	}
	r.emu.CloseShifts()
	r.pass()

	var rep basodata.Report
	for _, x := range r.bas.Reports() {
		if strings.Contains(x.Comment, retail.Marker(s1.ShiftID)) {
			rep = x
		}
	}
	if !rep.Posted {
		t.Fatalf("the shift's report is not posted: %+v", rep)
	}
	var receipts []checkbox.Receipt
	for _, x := range r.emu.Receipts() {
		if x.ShiftID == s1.ShiftID {
			receipts = append(receipts, x)
		}
	}
	for _, d := range retail.Compare(receipts, rep, r.ledgerGoods) {
		t.Errorf("report №%s: %s", rep.Number, d)
	}
	rows := map[variant][]string{}
	for _, row := range rep.Stock {
		for _, v := range []variant{hard, soft, medium} {
			if strings.EqualFold(row.Good, v.item) && strings.EqualFold(row.Characteristic, v.char) {
				rows[v] = append(rows[v], row.Quantity.String())
			}
		}
	}
	for v, want := range map[variant][]string{hard: {"1"}, soft: {"-1", "2"}, medium: {"1"}} {
		if slices.Sort(rows[v]); !slices.Equal(rows[v], want) {
			t.Errorf("rows of %s#%s: quantities %v, want %v", v.item, v.char, rows[v], want)
		}
	}
	// Sold less returned: 1, 1 and 1, each from its own characteristic's stock.
	for v, was := range before {
		if got, want := stock(v), was.Sub(decimal.NewFromInt(1)); !got.Equal(want) {
			t.Errorf("BAS stock of %s#%s: %s, want %s", v.item, v.char, got, want)
		}
	}
	rc := &reconcile.Reconciler{Checkbox: r.cb, Ledger: r.store, Channels: []reconcile.Channel{r.agent.RetailChannel()}}
	got, err := rc.Run(ctx, reconcile.Options{Date: voice.Date(s1.When())})
	if err != nil {
		t.Fatal(err)
	}
	if got.Found() != 0 || got.Receipts.Channels[0].Documents != 1 {
		t.Errorf("reconciliation of the characteristics' report: %d documents read back, differences %+v", got.Receipts.Channels[0].Documents, got.Differences())
	}
}
