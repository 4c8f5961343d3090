package exchange_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/folder"
	"obmin/internal/apischema"
	"obmin/internal/basloader"
	"obmin/internal/config"
	"obmin/internal/demo"
	"obmin/spool"
	"obmin/store"
	"obmin/watch"
)

var (
	schemaOnce sync.Once
	schemaDoc  *apischema.Doc
)

// rig is obmin wired to real parts: folders in a temp dir, SQLite state, the Checkbox client talking HTTP
// to the emulator. Where the shared OpenAPI document is present, every request and response is checked
// against it.
type rig struct {
	t       testing.TB
	dir     string
	emu     *emulator.Emulator
	agent   *exchange.Agent
	store   *store.Store
	spool   *spool.Spool
	export  string
	orders  string
	schema  *apischema.Transport
	closers []func()
	bas     *basloader.Base      // BAS, as far as the rig loads files into it (orders_test.go)
	runs    *exchange.RunWatcher // watches the listings for BAS's runs
}

func newRig(t testing.TB, mutate func(*exchange.Mapping, *exchange.SalesConfig)) *rig {
	t.Helper()
	dir := t.TempDir()
	r := &rig{t: t, dir: dir, export: filepath.Join(dir, "bas", "export"), orders: filepath.Join(dir, "bas", "orders.xml")}
	r.emu = emulator.New(emulator.Config{Login: "cashier", Password: "pass", Seed: 7})
	srv := httptest.NewServer(r.emu)
	t.Cleanup(func() { srv.Close(); r.emu.Close() })

	var rt http.RoundTripper = http.DefaultTransport
	// Tests check every exchange against the OpenAPI document; benchmarks measure obmin, not the checker.
	if _, isTest := t.(*testing.T); isTest && loadSchema() != nil {
		doc := loadSchema()
		r.schema = &apischema.Transport{Base: rt, Doc: doc}
		rt = r.schema
	}
	client, err := checkbox.New(checkbox.Config{
		BaseURL: srv.URL, Login: "cashier", Password: "pass", ClientVersion: "test",
		HTTPClient: &http.Client{Transport: rt, Timeout: 10 * time.Second}, RequestsPerSecond: 10000,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.spool, err = spool.OpenSpool(filepath.Join(dir, "spool"))
	if err != nil {
		t.Fatal(err)
	}
	r.store, err = store.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	if err := os.MkdirAll(r.export, 0o755); err != nil {
		t.Fatal(err)
	}
	src := folder.LocalDir(r.export)
	log := logrus.New()
	log.SetOutput(io.Discard)
	runs := &exchange.RunWatcher{Log: logrus.NewEntry(log)}
	w, err := watch.New(watch.Config{Source: src, Interval: 10 * time.Millisecond, MinAge: time.Millisecond, Logger: logrus.NewEntry(log), OnList: runs.Observe})
	if err != nil {
		t.Fatal(err)
	}
	m := exchange.DefaultMapping()
	m.VAT = map[string][]int{"20": {1}, "0": {8}}
	m.Stock = true
	sc := exchange.SalesConfig{
		Out: folder.LocalTarget(filepath.Dir(r.orders)), OrdersFile: filepath.Base(r.orders), ReturnsFile: "returns.txt",
		HeldDir: filepath.Join(dir, "spool", "held"), ReturnsDir: filepath.Join(dir, "spool", "returns"), NumbersDir: filepath.Join(dir, "spool", "numbers"),
		Encoding: commerceml.EncodingUTF8BOM, Returns: exchange.ReturnsList, OrderStatus: testOrderStatus,
		KeepRuns: 3, KeepFor: 0, Overlap: 38 * time.Hour, FirstPull: 72 * time.Hour,
		Currency: "грн", CustomerName: "Роздрібний покупець", NumberPrefix: "CB-",
		VATCodes: map[int]string{1: "20", 8: ""},
	}
	if mutate != nil {
		mutate(&m, &sc)
	}
	runs.Store, r.runs = r.store, runs
	r.agent = &exchange.Agent{
		Spool: r.spool, Store: r.store, Source: src, Watcher: w, Log: logrus.NewEntry(log), Emulated: true,
		Catalog: &exchange.Catalog{API: client, Store: r.store, Mapping: m, Workers: 4, ImportPoll: time.Millisecond,
			BulkThreshold: config.Default().Checkbox.BulkThreshold},
		Sales: &exchange.Sales{API: client, Store: r.store, Cfg: sc},
	}
	t.Cleanup(func() {
		if r.schema != nil {
			t.Logf("checked against OpenAPI %s: %s", r.schema.Doc.Version(), strings.Join(r.schema.Operations(), ", "))
			for _, f := range r.schema.Failures() {
				t.Errorf("OpenAPI %s: %s", r.schema.Doc.Version(), f)
			}
		}
	})
	return r
}

func loadSchema() *apischema.Doc {
	schemaOnce.Do(func() {
		base := os.Getenv("OBMIN_SHARED")
		if base == "" {
			base = filepath.Join("..", "..", "shared")
		}
		if doc, _, err := apischema.LoadNewest(filepath.Join(base, "checkbox")); err == nil {
			schemaDoc = doc
		}
	})
	return schemaDoc
}

// pass takes what BAS dropped and applies it, as `obmin once` does.
func (r *rig) pass() {
	r.t.Helper()
	if err := r.agent.Once(context.Background(), 5*time.Millisecond); err != nil {
		r.t.Fatalf("pass: %v", err)
	}
}

// passFails is pass for a drop that must fail: the pass says so (*exchange.PassError), naming each of want.
func (r *rig) passFails(want ...string) {
	r.t.Helper()
	err := r.agent.Once(context.Background(), 5*time.Millisecond)
	var pe *exchange.PassError
	if !errors.As(err, &pe) {
		r.t.Fatalf("pass: %v; want a *exchange.PassError", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			r.t.Errorf("pass error %q does not say %q", err, w)
		}
	}
}

func (r *rig) drop(books []demo.Book, at time.Time) {
	r.t.Helper()
	if _, err := demo.WriteDrop(r.export, books, at); err != nil {
		r.t.Fatal(err)
	}
}

// ordersFile reads BAS's orders file back with obmin's own reader, after loading it into a fresh model
// of BAS's loader: every orders file a test reads must load in BAS as meant.
func (r *rig) ordersFile() []commerceml.Document {
	r.t.Helper()
	data, err := os.ReadFile(r.orders)
	if err != nil {
		r.t.Fatal(err)
	}
	res, err := basloader.New(basloader.DefaultOptions()).Load(data)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, p := range res.Problems {
		r.t.Errorf("BAS's loader: %s", p)
	}
	var docs []commerceml.Document
	if _, err := commerceml.Read(bytes.NewReader(data), "orders.xml", commerceml.Handler{Document: func(d commerceml.Document) error {
		docs = append(docs, d)
		return nil
	}}); err != nil {
		r.t.Fatalf("orders file does not read back: %v", err)
	}
	return docs
}

// goodsWrites counts the calls that write one good; imports are counted apart (r.imports).
// goodsWrites counts the calls that change goods one at a time (leftovers-by-id, a POST, only reads).
func (r *rig) goodsWrites() int {
	return r.emu.CountCalls("POST", "/api/v1/goods") - r.emu.CountCalls("POST", "/api/v1/goods/import") -
		r.emu.CountCalls("POST", "/api/v1/goods/leftovers-by-id") + r.emu.CountCalls("PUT", "/api/v1/goods")
}

// imports counts goods import files uploaded.
func (r *rig) imports() int { return r.emu.CountCalls("POST", "/api/v1/goods/import/upload") }

func TestCatalogueBecomesCheckboxGoods(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	r.pass()

	byCode := map[string]checkbox.Good{}
	for _, g := range r.emu.Goods() {
		byCode[g.Code] = g
	}
	for _, b := range demo.Books {
		g, ok := byCode[b.Article]
		if b.NoPrice {
			if ok {
				t.Errorf("%s has no retail price and must not reach Checkbox (got price %d)", b.Article, g.Price)
			}
			continue
		}
		if !ok {
			t.Errorf("%s missing in Checkbox", b.Article)
			continue
		}
		want, _ := exchange.Kopecks(decimalOf(t, b.Price))
		if g.Name != b.Name || g.Price != want || g.Barcode != b.Barcode || g.IsWeight != b.Weight {
			t.Errorf("%s: got %q %d %q weight=%v; want %q %d %q weight=%v", b.Article, g.Name, g.Price, g.Barcode, g.IsWeight, b.Name, want, b.Barcode, b.Weight)
		}
		if q, ok := r.emu.Stock(b.Article); !ok || q != exchange.Thousandths(decimalOf(t, b.Stock)) {
			t.Errorf("%s: stock %d (%v), want %s", b.Article, q, ok, b.Stock)
		}
	}
	if len(byCode) != len(demo.Books)-1 {
		t.Errorf("Checkbox holds %d goods, want %d", len(byCode), len(demo.Books)-1)
	}

	// The same export again (BAS re-exports unchanged goods): nothing is sent.
	before := r.goodsWrites()
	imports := r.emu.CountCalls("POST", "/api/v1/goods/import")
	r.drop(demo.Books, time.Now().Add(time.Minute))
	r.pass()
	if n := r.goodsWrites() - before; n != 0 {
		t.Errorf("an identical drop sent %d goods writes", n)
	}
	if n := r.emu.CountCalls("POST", "/api/v1/goods/import") - imports; n != 0 {
		t.Errorf("an identical drop sent %d stock imports", n)
	}

	// One price changes in BAS: exactly one good is updated.
	changed := append([]demo.Book(nil), demo.Books...)
	changed[2].Price = "333.00"
	before = r.goodsWrites()
	r.drop(changed, time.Now().Add(2*time.Minute))
	r.pass()
	if r.goodsWrites()-before != 1 {
		t.Errorf("one changed price: %d writes, want 1", r.goodsWrites()-before)
	}
	if g, _ := r.emu.GoodByCode(changed[2].Article); g.Price != 33300 {
		t.Errorf("new price %d, want 33300", g.Price)
	}
	counts, err := r.spool.Counts()
	if err != nil || counts["done"] != 3 || counts["failed"] != 0 {
		t.Errorf("spool: %v %v; want 3 done drops", counts, err)
	}
}

func TestOffersOnlyDropKeepsBarcodesAndTaxes(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	g0, _ := r.emu.GoodByCode("ST-0101")

	// BAS's "prices and stock only" export: offers.xml alone.
	books := append([]demo.Book(nil), demo.Books...)
	books[6].Price = "95.00"
	dir := filepath.Join(r.export, demo.FolderName)
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "offers.xml"), demo.Offers(books, time.Now()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.pass()
	g, _ := r.emu.GoodByCode("ST-0101")
	if g.Price != 9500 || g.Barcode != g0.Barcode || g.Name != g0.Name || len(g.Taxes) != len(g0.Taxes) {
		t.Fatalf("offers-only update: got %+v, was %+v", g, g0)
	}
}

func TestSalesReachBASExactlyOnce(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	r.pass()

	rnd := rand.New(rand.NewPCG(3, 4))
	made, err := r.emu.GenerateSales(rnd, 30, 5)
	if err != nil {
		t.Fatal(err)
	}
	// An offline receipt made 30 hours ago that reaches Checkbox only now: the overlap window finds it.
	late, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0003", Quantity: 1000}}, At: time.Now().Add(-30 * time.Hour), Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	made = append(made, late)
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A second pull and a second pass re-read the same window: still once each.
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.pass()

	docs := r.ordersFile()
	seen := map[string]int{}
	for _, d := range docs {
		seen[d.ID]++
	}
	var sales, returns int
	for _, rc := range made {
		want := 1
		if rc.Type == checkbox.ReceiptReturn {
			returns++
			want = 0 // a return is never an order of its own: listed for staff (returns.go)
		} else {
			sales++
		}
		if n := seen[rc.ID]; n != want {
			t.Errorf("receipt %s (%s) is in the orders file %d times, want %d", rc.ID, rc.Type, n, want)
		}
	}
	if returns == 0 || sales == 0 {
		t.Fatalf("the generator made %d sales and %d returns; want both", sales, returns)
	}
	if len(docs) != sales {
		t.Errorf("orders file holds %d documents, want %d", len(docs), sales)
	}
	byID := map[string]checkbox.Receipt{}
	for _, rc := range made {
		byID[rc.ID] = rc
	}
	numbers := map[string]bool{}
	for _, d := range docs {
		if numbers[d.Number] {
			t.Errorf("Номер %s is used twice", d.Number)
		}
		numbers[d.Number] = true
		if _, _, ok := exchange.ParseOrderNumber(d.Number); !ok {
			t.Errorf("Номер %q is not obmin's CB-<year>-NNNNNN", d.Number)
		}
		sum := decimal.Zero
		for _, l := range d.Lines {
			sum = sum.Add(l.Sum)
			if l.ID == "" || l.Article == "" {
				t.Errorf("%s: a line without BAS's Ид/Артикул: %+v", d.Number, l)
			}
		}
		if till := exchange.UAH(byID[d.ID].TotalSum); !sum.Equal(d.Total) || !sum.Equal(till) {
			t.Errorf("%s: lines add up to %s, Сумма %s, the till took %s", d.Number, sum, d.Total, till)
		}
	}
	r.loadInBAS()
	listed := r.returnsListed()
	if listed != returns {
		t.Errorf("%d returns listed for staff, want %d", listed, returns)
	}

	// BAS lists the orders it holds in its own export: they are confirmed and leave the file.
	var nums []string
	for n := range numbers {
		nums = append(nums, n)
	}
	sort.Strings(nums)
	if err := os.WriteFile(filepath.Join(r.export, demo.FolderName, "orders-1.xml"), demo.OrdersExport(nums, time.Now()), 0o644); err != nil {
		t.Fatal(err)
	}
	r.pass()
	st, err := r.agent.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Receipts[exchange.StateConfirmed] != sales || st.Receipts[exchange.StatePending] != 0 {
		t.Errorf("after BAS's orders export: %v", st.Receipts)
	}
	if n := len(r.ordersFile()); n != 0 {
		t.Errorf("confirmed orders stay in the file: %d", n)
	}
}

func TestUnknownGoodIsHeldThenReleased(t *testing.T) {
	r := newRig(t, nil)
	books := demo.Books[:3]
	r.drop(books, time.Now())
	r.pass()
	// A good typed in at the till, which BAS has never exported.
	rc, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0004", Name: "Записки", Price: 29500, Quantity: 1000}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	if docs := r.ordersFile(); len(docs) != 0 {
		t.Fatalf("a receipt with an unknown good must be held back, found %d documents", len(docs))
	}
	held, _ := filepath.Glob(filepath.Join(filepath.Dir(r.orders), "..", "spool", "held", "*.txt"))
	if len(held) != 1 {
		t.Fatalf("held receipts are described for staff: %v", held)
	}
	// BAS exports the good: the receipt goes out by itself.
	r.drop(demo.Books[:4], time.Now().Add(time.Minute))
	r.pass()
	docs := r.ordersFile()
	if len(docs) != 1 || docs[0].ID != rc.ID || docs[0].Lines[0].ID != demo.Books[3].ID {
		t.Fatalf("released receipt: %+v", docs)
	}
	if held, _ := filepath.Glob(filepath.Join(filepath.Dir(r.orders), "..", "spool", "held", "*.txt")); len(held) != 0 {
		t.Errorf("the held note is removed once the receipt is sent: %v", held)
	}
}

func TestBadDropFailsAndOthersGoOn(t *testing.T) {
	r := newRig(t, nil)
	dir := filepath.Join(r.export, "webdata - broken")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(demo.Offers(demo.Books, time.Now())), "<ЦенаЗаЕдиницу>420.00<", "<ЦенаЗаЕдиницу>420,0x<", 1)
	if err := os.WriteFile(filepath.Join(dir, "offers.xml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r.drop(demo.Books, time.Now())
	r.passFails("failed", "offers.xml:43")
	counts, _ := r.spool.Counts()
	if counts["failed"] != 1 || counts["done"] != 1 {
		t.Fatalf("spool %v: the bad drop fails, the good one is done", counts)
	}
	notes, _ := filepath.Glob(filepath.Join(r.spool.Dir("failed"), "*.error.txt"))
	if len(notes) != 1 {
		t.Fatalf("failed drop needs its reason beside it: %v", notes)
	}
	note, _ := os.ReadFile(notes[0])
	for _, want := range []string{"offers.xml", "ЦенаЗаЕдиницу", "420,0x"} {
		if !strings.Contains(string(note), want) {
			t.Errorf("reason should name %q:\n%s", want, note)
		}
	}
	if len(r.emu.Goods()) != len(demo.Books)-1 {
		t.Errorf("the good drop still reached Checkbox: %d goods", len(r.emu.Goods()))
	}
}

func TestOutageLeavesDropForRetryAndRestartResumes(t *testing.T) {
	r := newRig(t, nil)
	r.emu.InjectFault(emulator.Fault{Method: "POST", PathPrefix: "/api/v1/goods", Status: 503, Times: 1000})
	r.drop(demo.Books, time.Now())
	if err := r.agent.Once(context.Background(), 5*time.Millisecond); err == nil {
		t.Fatal("an outage must be reported")
	}
	counts, _ := r.spool.Counts()
	if counts["processing"] != 1 || counts["failed"] != 0 {
		t.Fatalf("an outage leaves the drop in processing/ for a retry, never in failed/: %v", counts)
	}
	// "Restart": a new agent over the same folders and state finishes it once Checkbox is back.
	r.emu.ClearFaults()
	if err := r.agent.ProcessDrops(context.Background()); err != nil {
		t.Fatal(err)
	}
	counts, _ = r.spool.Counts()
	if counts["done"] != 1 || counts["processing"] != 0 {
		t.Fatalf("after the outage: %v", counts)
	}
	if n := len(r.emu.Goods()); n != len(demo.Books)-1 {
		t.Fatalf("goods after retry: %d", n)
	}
	// Some goods may have been created before the outage hit; none is created twice.
	codes := map[string]int{}
	for _, g := range r.emu.Goods() {
		codes[g.Code]++
	}
	for c, n := range codes {
		if n != 1 {
			t.Errorf("good %s exists %d times", c, n)
		}
	}
}

func decimalOf(t *testing.T, s string) decimal.Decimal {
	t.Helper()
	d, err := decimal.NewFromString(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestStockFollowsBASAfterSales: sales at the till move Checkbox's stock; when BAS's next export gives the
// same figure as before (it took in as many as were sold, or has not loaded the sales yet), Checkbox is set
// back to BAS's figure, the master. Found by the torture harness: only changes since the last push were
// sent, so Checkbox kept the count its sales left.
func TestStockFollowsBASAfterSales(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books, time.Now())
	r.pass()
	sold := demo.Books[0]
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: sold.Article, Quantity: 2000}}}); err != nil {
		t.Fatal(err)
	}
	want := exchange.Thousandths(decimalOf(t, sold.Stock))
	if q, _ := r.emu.Stock(sold.Article); q != want-2000 {
		t.Fatalf("the sale left stock %d, want %d", q, want-2000)
	}

	imports := r.imports()
	r.drop(demo.Books, time.Now().Add(time.Minute))
	r.pass()
	if q, _ := r.emu.Stock(sold.Article); q != want {
		t.Errorf("after BAS's export: stock %d, want BAS's %d", q, want)
	}
	if n := r.imports() - imports; n != 1 {
		t.Errorf("%d imports to put one good's stock right, want 1", n)
	}

	// Nothing moved since: the next identical export sends no import.
	imports = r.imports()
	r.drop(demo.Books, time.Now().Add(2*time.Minute))
	r.pass()
	if n := r.imports() - imports; n != 0 {
		t.Errorf("an identical export with Checkbox in step sent %d imports", n)
	}
}
