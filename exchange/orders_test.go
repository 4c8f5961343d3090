package exchange_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/folder"
	"obmin/internal/basloader"
	"obmin/internal/demo"
	"obmin/store"
)

// testOrderStatus is the «Статус заказа» the rigs send; the BAS model maps it to Завершен, as the README
// tells the administrator to.
const testOrderStatus = "Продано на касі"

// bas is the rig's BAS: one infobase across loads, set up as the README says.
func (r *rig) basBase() *basloader.Base {
	if r.bas == nil {
		opts := basloader.DefaultOptions()
		opts.Goods, opts.Articles = map[string]bool{}, map[string]bool{}
		for _, b := range demo.Books {
			opts.Goods[b.ID] = true
			opts.Articles[b.Article] = true
		}
		opts.StatusMap = map[string]basloader.State{testOrderStatus: basloader.StateCompleted}
		r.bas = basloader.New(opts)
	}
	return r.bas
}

// loadInBAS loads the orders file as BAS would and fails the test on anything BAS would do wrong.
func (r *rig) loadInBAS() basloader.Result {
	r.t.Helper()
	data, err := os.ReadFile(r.orders)
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := r.basBase().Load(data)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, p := range res.Problems {
		r.t.Errorf("BAS's loader: %s", p)
	}
	return res
}

// basRun is one exchange run of BAS: it empties its folder and writes its export again (with goods, or
// only its own orders export), and obmin takes what it finds.
func (r *rig) basRun(at time.Time) {
	r.t.Helper()
	// obmin lists the folder every few seconds; here, once before BAS's run begins.
	if _, err := r.agent.Watcher.Scan(context.Background()); err != nil {
		r.t.Fatal(err)
	}
	r.drop(demo.Books, at)
	r.pass()
}

func (r *rig) returnsListed() int {
	r.t.Helper()
	st, err := r.agent.Snapshot(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	return st.Receipts[exchange.StateListed]
}

func (r *rig) sell(s emulator.Sale) checkbox.Receipt {
	r.t.Helper()
	rc, err := r.emu.Sell(s)
	if err != nil {
		r.t.Fatal(err)
	}
	return rc
}

func (r *rig) pull() {
	r.t.Helper()
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		r.t.Fatal(err)
	}
}

// TestOrdersLeaveTheFileAfterBASRuns: BAS gives no acknowledgement in directory mode; an order leaves the
// file once it has been there across three of BAS's runs and for the minimum time, and the file is never
// missing.
func TestOrdersLeaveTheFileAfterBASRuns(t *testing.T) {
	r := newRig(t, func(_ *exchange.Mapping, sc *exchange.SalesConfig) { sc.KeepFor = time.Hour })
	now := time.Now()
	r.drop(demo.Books, now)
	r.pass()
	// Runs before the receipts are in the file count for nothing.
	r.basRun(now.Add(time.Second))
	for _, code := range []string{"KN-0001", "KN-0002", "ST-0101"} {
		r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: code, Quantity: 1000}}})
	}
	r.pull()
	if n := len(r.ordersFile()); n != 3 {
		t.Fatalf("orders file holds %d, want 3", n)
	}
	for i := range 2 {
		r.basRun(now.Add(time.Duration(i+2) * time.Second))
	}
	r.pull()
	if n := len(r.ordersFile()); n != 3 {
		t.Fatalf("after two runs the file holds %d, want 3", n)
	}
	r.basRun(now.Add(5 * time.Second))
	r.pull()
	if n := len(r.ordersFile()); n != 3 {
		t.Fatalf("three runs within the minimum time: the file holds %d, want 3", n)
	}
	// An hour later they go; the file stays, with no documents.
	r.agent.Sales.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	r.pull()
	if n := len(r.ordersFile()); n != 0 {
		t.Fatalf("after three runs and an hour the file holds %d, want 0", n)
	}
	st, _ := r.agent.Snapshot(context.Background())
	if st.Receipts[exchange.StateDelivered] != 3 || st.BASRuns < 4 {
		t.Errorf("status: %v, runs %d", st.Receipts, st.BASRuns)
	}
	// Someone deletes the file: the next write puts it back.
	if err := os.Remove(r.orders); err != nil {
		t.Fatal(err)
	}
	r.pull()
	if _, err := os.Stat(r.orders); err != nil {
		t.Fatalf("the orders file must never stay missing: %v", err)
	}
}

// TestOrdersFileBASLoadsAsMeant is the acceptance: sales with line and receipt discounts, VAT and
// goods without it, an offline receipt, returns full and partial; BAS's model loads the file without a
// problem, and every order's total in BAS is what the till took.
func TestOrdersFileBASLoadsAsMeant(t *testing.T) {
	for _, mode := range []string{exchange.ReturnsList, exchange.ReturnsAmend} {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, func(_ *exchange.Mapping, sc *exchange.SalesConfig) { sc.Returns = mode })
			r.drop(demo.Books, time.Now())
			r.pass()
			sales := []checkbox.Receipt{
				// A line discount and a receipt discount, a book (no VAT) beside a notebook (VAT 20 %).
				r.sell(emulator.Sale{Lines: []emulator.SaleLine{
					{Code: "KN-0002", Quantity: 1000, DiscountPercent: 10},
					{Code: "ST-0101", Quantity: 3000},
				}, DiscountValue: 1733}),
				// Weighed coffee with a percent off the receipt.
				r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "CF-0001", Quantity: 253}, {Code: "ST-0102", Quantity: 1000}}, DiscountPercent: 5, Payment: "CASHLESS"}),
				// Offline, made yesterday.
				r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0006", Quantity: 2000}}, At: time.Now().Add(-20 * time.Hour), Offline: true}),
				// Returned in full, and in part.
				r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}}),
				r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0003", Quantity: 2000}, {Code: "ST-0102", Quantity: 2000}}, DiscountValue: 999}),
			}
			r.pull()
			r.loadInBAS()
			if _, err := r.emu.Return(sales[3].ID, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := r.emu.Return(sales[4].ID, []emulator.SaleLine{{Code: "ST-0102", Quantity: 1000}}); err != nil {
				t.Fatal(err)
			}
			r.pull()
			r.loadInBAS()

			docs := r.ordersFile()
			if len(docs) != len(sales) {
				t.Fatalf("orders file holds %d documents, want the %d sales", len(docs), len(sales))
			}
			for i, s := range sales {
				var d commerceml.Document
				for _, x := range docs {
					if x.ID == s.ID {
						d = x
					}
				}
				o, ok := r.basBase().Order(d.Number)
				if !ok {
					t.Fatalf("sale %d: no order %q in BAS", i, d.Number)
				}
				want := exchange.UAH(s.TotalSum)
				switch {
				case mode == exchange.ReturnsAmend && i == 3:
					if !o.Cancelled {
						t.Errorf("sale %d returned in full: the order is not cancelled: %+v", i, o)
					}
					continue
				case mode == exchange.ReturnsAmend && i == 4:
					want = want.Sub(exchange.UAH(r.emu.Receipts()[len(r.emu.Receipts())-1].TotalSum))
				}
				if !o.Total.Equal(want) {
					t.Errorf("sale %d (%s): BAS's total %s, the till's %s", i, mode, o.Total, want)
				}
				if mode == exchange.ReturnsList && o.State != basloader.StateCompleted {
					t.Errorf("sale %d: order state %q, want completed through «Статус заказа»", i, o.State)
				}
				if mode == exchange.ReturnsAmend && o.State == basloader.StateCompleted && !o.Cancelled {
					t.Errorf("sale %d: amend mode must not complete orders", i)
				}
			}
			// VAT: the notebook at 20 % inside the sum, the book «без ПДВ».
			var first string
			for _, d := range docs {
				if d.ID == sales[0].ID {
					first = d.Number
				}
			}
			o, _ := r.basBase().Order(first)
			for i, l := range o.Lines {
				if o.VATExempt {
					t.Fatal("an order with a notebook is VAT-exempt in BAS")
				}
				if want := map[int]string{0: "Без НДС", 1: "20"}[i]; l.VATRate != want {
					t.Errorf("line %d VAT %q, want %q", i, l.VATRate, want)
				}
			}
			listed := r.returnsListed()
			if mode == exchange.ReturnsList && listed != 2 || mode == exchange.ReturnsAmend && listed != 0 {
				t.Errorf("%s: %d returns listed", mode, listed)
			}
		})
	}
}

// TestReturnsListedForStaff: in the default mode a return is described beside the orders file, in the
// spool and in the status, in Ukrainian and Kyiv time.
func TestReturnsListedForStaff(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	sale := r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 2000}}})
	ret, err := r.emu.Return(sale.ID, []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	r.pull()
	if docs := r.ordersFile(); len(docs) != 1 || docs[0].ID != sale.ID || !docs[0].Total.Equal(decimal.RequireFromString("840")) {
		t.Fatalf("the sale's order is unchanged by the return: %+v", docs)
	}
	list, err := os.ReadFile(filepath.Join(filepath.Dir(r.orders), "returns.txt"))
	if err != nil {
		t.Fatal(err)
	}
	notes, _ := filepath.Glob(filepath.Join(r.dir, "spool", "returns", "*.txt"))
	if len(notes) != 1 {
		t.Fatalf("notes in spool/returns: %v", notes)
	}
	note, _ := os.ReadFile(notes[0])
	docs := r.ordersFile()
	_, n, _ := exchange.ParseOrderNumber(docs[0].Number)
	for _, text := range []string{string(list), string(note)} {
		for _, want := range []string{"Повернення " + ret.When().In(kyivZone()).Format("02.01.2006 15:04"), ret.FiscalCode, sale.FiscalCode,
			docs[0].Number, "…-" + strings.Repeat("0", 6-len(itoa(n))) + itoa(n), "Тарас Шевченко. Кобзар (арт. KN-0001): 1 × 420.00 = 420.00 грн", "Разом повернуто покупцеві: 420.00 грн"} {
			if !strings.Contains(text, want) {
				t.Errorf("return note lacks %q:\n%s", want, text)
			}
		}
	}
	var status strings.Builder
	st, _ := r.agent.Snapshot(context.Background())
	st.Text(&status)
	if !strings.Contains(status.String(), "повернення 420.00 грн, чек "+ret.FiscalCode+", замовлення "+docs[0].Number) {
		t.Errorf("status lacks the return:\n%s", status.String())
	}
}

// TestAmendFallsBackOnceTheSaleLeftTheFile: in amend mode a return whose sale BAS already has is listed.
func TestAmendFallsBackOnceTheSaleLeftTheFile(t *testing.T) {
	r := newRig(t, func(_ *exchange.Mapping, sc *exchange.SalesConfig) { sc.Returns = exchange.ReturnsAmend })
	now := time.Now()
	r.drop(demo.Books, now)
	r.pass()
	sale := r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0002", Quantity: 1000}}})
	r.pull()
	for i := range 3 {
		r.basRun(now.Add(time.Duration(i+1) * time.Second))
	}
	r.pull()
	if n := len(r.ordersFile()); n != 0 {
		t.Fatalf("the sale should have left the file: %d", n)
	}
	if _, err := r.emu.Return(sale.ID, nil); err != nil {
		t.Fatal(err)
	}
	r.pull()
	if n := len(r.ordersFile()); n != 0 || r.returnsListed() != 1 {
		t.Errorf("a late return goes to staff: file %d, listed %d", n, r.returnsListed())
	}
}

// TestNumbersSurviveALostState: obmin's numbers journal gives a receipt seen again its old number and
// continues after the last one.
func TestNumbersSurviveALostState(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}})
	r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0002", Quantity: 1000}}})
	r.pull()
	before := map[string]string{}
	for _, d := range r.ordersFile() {
		before[d.ID] = d.Number
	}
	// The state is lost (a new, empty one) and the orders file with it; the journal in the spool stays.
	fresh, err := store.Open(context.Background(), filepath.Join(r.dir, "state-new.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fresh.Close() })
	if err := os.Remove(r.orders); err != nil {
		t.Fatal(err)
	}
	r.agent.Store, r.agent.Catalog.Store = fresh, fresh
	r.agent.Sales = &exchange.Sales{API: r.agent.Sales.API, Store: fresh, Cfg: r.agent.Sales.Cfg}
	r.drop(demo.Books, time.Now().Add(time.Minute))
	r.pass()
	third := r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0003", Quantity: 1000}}})
	r.pull()
	docs := r.ordersFile()
	if len(docs) != 3 {
		t.Fatalf("after the lost state the file holds %d orders", len(docs))
	}
	for _, d := range docs {
		if d.ID == third.ID {
			if _, n, _ := exchange.ParseOrderNumber(d.Number); n != 3 {
				t.Errorf("the new receipt got %s, want number 3", d.Number)
			}
		} else if d.Number != before[d.ID] {
			t.Errorf("receipt %s had %s, now %s", d.ID, before[d.ID], d.Number)
		}
	}
}

// TestNeverItsOwnEcho: wherever the orders file lies in BAS's export folder, obmin never takes it as a
// drop or as BAS's confirmation.
func TestNeverItsOwnEcho(t *testing.T) {
	for _, where := range []string{".", demo.FolderName, "orders"} {
		t.Run(where, func(t *testing.T) {
			r := newRig(t, nil)
			r.orders = filepath.Join(r.export, where, "orders.xml")
			rel, _ := filepath.Rel(r.export, r.orders)
			r.agent.Own = exchange.NewOwnFiles(filepath.ToSlash(rel))
			r.agent.Sales.Cfg.Out = folder.LocalTarget(filepath.Dir(r.orders))
			r.drop(demo.Books, time.Now())
			r.pass()
			r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}})
			r.pull()
			// A copy under another name (someone saved it there) is told by its content.
			data, err := os.ReadFile(r.orders)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(r.export, demo.FolderName, "orders-copy.xml"), data, 0o644); err != nil {
				t.Fatal(err)
			}
			for range 3 {
				r.pass()
			}
			st, _ := r.agent.Snapshot(context.Background())
			if st.Receipts[exchange.StateConfirmed] != 0 || st.Receipts[exchange.StatePending] != 1 {
				t.Errorf("obmin confirmed its own receipts: %v", st.Receipts)
			}
			if st.Spool["failed"] != 0 {
				t.Errorf("its own file failed as a drop: %v", st.Spool)
			}
		})
	}
}

func kyivZone() *time.Location {
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		return time.FixedZone("EET", 2*3600)
	}
	return loc
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

// TestOrdersOfAnEarlierObminAreRebuilt: orders an earlier obmin left in the file (numbers BAS cuts,
// document discounts, negative returns) are rebuilt the way BAS loads them.
func TestOrdersOfAnEarlierObminAreRebuilt(t *testing.T) {
	r := newRig(t, nil)
	ctx := context.Background()
	r.drop(demo.Books, time.Now())
	r.pass()
	sale := r.sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 2000}}, DiscountValue: 1000})
	ret, err := r.emu.Return(sale.ID, []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	old := func(rc checkbox.Receipt, total string) store.ReceiptRecord {
		raw, _ := json.Marshal(rc)
		doc := `{"id":"` + rc.ID + `","number":"CB-` + rc.FiscalCode + `","total":"` + total + `","discounts":[{"name":"Знижка","sum":"10","in_total":true}],` +
			`"requisites":[{"name":"Финальный статус","value":"true"}],"lines":[]}`
		return store.ReceiptRecord{ID: rc.ID, Type: rc.Type, Status: rc.Status, Number: "CB-" + rc.FiscalCode, When: rc.When(),
			TotalSum: rc.TotalSum, State: exchange.StatePending, Raw: raw, Document: []byte(doc)}
	}
	for _, rec := range []store.ReceiptRecord{old(sale, "830"), old(ret, "-420")} {
		if _, err := r.store.AddReceipt(ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	// The new obmin starts on that state.
	r.agent.Sales = &exchange.Sales{API: r.agent.Sales.API, Store: r.store, Cfg: r.agent.Sales.Cfg}
	r.pull()
	docs := r.ordersFile()
	if len(docs) != 1 || docs[0].ID != sale.ID || len(docs[0].Discounts) != 0 || !docs[0].Total.Equal(exchange.UAH(sale.TotalSum)) {
		t.Fatalf("the old sale's order: %+v", docs)
	}
	if _, _, ok := exchange.ParseOrderNumber(docs[0].Number); !ok {
		t.Errorf("the old number %q was kept though BAS cuts it", docs[0].Number)
	}
	r.loadInBAS()
	if n := r.returnsListed(); n != 1 {
		t.Errorf("the old negative return: %d listed", n)
	}
}
