package exchange_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shopspring/decimal"
	"github.com/sirupsen/logrus"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/apischema"
	"obmin/internal/config"
	"obmin/internal/demo"
	"obmin/store"
)

// bulkRig is a Catalog on real parts: the Checkbox client over HTTP to the emulator, a SQLite ledger, and
// a BAS drop folder. Tests (not benchmarks) check every exchange against the shared OpenAPI document.
type bulkRig struct {
	t      testing.TB
	emu    *emulator.Emulator
	client *checkbox.Client
	store  *store.Store
	cat    *exchange.Catalog
	export string
	schema *apischema.Transport
}

func newBulkRig(t testing.TB, ecfg emulator.Config, batch int) *bulkRig {
	t.Helper()
	dir := t.TempDir()
	ecfg.Login, ecfg.Password, ecfg.Seed = "cashier", "pass", 11
	r := &bulkRig{t: t, emu: emulator.New(ecfg), export: filepath.Join(dir, "export")}
	srv := httptest.NewServer(r.emu)
	t.Cleanup(func() { srv.Close(); r.emu.Close() })
	var rt http.RoundTripper = http.DefaultTransport
	if _, isTest := t.(*testing.T); isTest && loadSchema() != nil {
		r.schema = &apischema.Transport{Base: rt, Doc: loadSchema()}
		rt = r.schema
		t.Cleanup(func() {
			for _, f := range r.schema.Failures() {
				t.Errorf("OpenAPI %s: %s", r.schema.Doc.Version(), f)
			}
		})
	}
	var err error
	r.client, err = checkbox.New(checkbox.Config{
		BaseURL: srv.URL, Login: "cashier", Password: "pass", ClientVersion: "test",
		HTTPClient: &http.Client{Transport: rt, Timeout: 30 * time.Second}, RequestsPerSecond: 100000,
		BaseBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	r.store, err = store.Open(context.Background(), filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	log := logrus.New()
	log.SetOutput(io.Discard)
	m := exchange.DefaultMapping()
	m.VAT = map[string][]int{"20": {1}, "0": {8}}
	m.Stock = true
	r.cat = &exchange.Catalog{API: r.client, Store: r.store, Mapping: m, Workers: 4, ImportPoll: time.Millisecond,
		BulkThreshold: config.Default().Checkbox.BulkThreshold,
		BulkBatch:     batch, Log: logrus.NewEntry(log)}
	return r
}

// apply drops books as BAS would and applies the drop.
func (r *bulkRig) apply(ctx context.Context, books []demo.Book) (exchange.DropReport, error) {
	r.t.Helper()
	dir, err := demo.WriteDrop(r.export, books, time.Now())
	if err != nil {
		r.t.Fatal(err)
	}
	return r.cat.Apply(ctx, dir)
}

func (r *bulkRig) mustApply(books []demo.Book) exchange.DropReport {
	r.t.Helper()
	rep, err := r.apply(context.Background(), books)
	if err != nil {
		r.t.Fatalf("apply: %v", err)
	}
	return rep
}

// calls counts what obmin asked of Checkbox so far.
type calls struct{ uploads, creates, updates, lookups, pages int }

func (r *bulkRig) calls() calls {
	return calls{
		uploads: r.emu.CountCalls("POST", "/api/v1/goods/import/upload"),
		creates: r.emu.CountCalls("POST", "/api/v1/goods") - r.emu.CountCalls("POST", "/api/v1/goods/"),
		updates: r.emu.CountCalls("PUT", "/api/v1/goods/"),
		lookups: r.emu.CountCalls("GET", "/api/v1/goods/by-code/"),
		pages:   r.emu.CountCalls("GET", "/api/v1/goods") - r.emu.CountCalls("GET", "/api/v1/goods/"),
	}
}

func (c calls) sub(d calls) calls {
	return calls{c.uploads - d.uploads, c.creates - d.creates, c.updates - d.updates, c.lookups - d.lookups, c.pages - d.pages}
}

// checkMirror checks that Checkbox holds exactly books, once each, as obmin maps them, and that the
// ledger knows each good's Checkbox id and stock.
func (r *bulkRig) checkMirror(books []demo.Book) {
	r.t.Helper()
	goods := r.emu.Goods()
	if len(goods) != len(books) {
		r.t.Fatalf("Checkbox has %d goods, want %d", len(goods), len(books))
	}
	byCode := map[string]checkbox.Good{}
	for _, g := range goods {
		if _, dup := byCode[g.Code]; dup {
			r.t.Fatalf("code %s is in Checkbox twice", g.Code)
		}
		byCode[g.Code] = g
	}
	recs := map[string]store.GoodRecord{}
	if err := r.store.ForEachGood(context.Background(), func(rec store.GoodRecord) error {
		recs[rec.Code] = rec
		return nil
	}); err != nil {
		r.t.Fatal(err)
	}
	for _, b := range books {
		g, ok := byCode[b.Article]
		price, _ := exchange.Kopecks(decimal.RequireFromString(b.Price))
		if !ok || g.Name != b.Name || g.Price != price || g.Barcode != b.Barcode || len(g.Taxes) != 1 || g.Taxes[0].Code != 8 {
			r.t.Fatalf("%s in Checkbox: %+v, want %+v at %d kopecks", b.Article, g, b, price)
		}
		stock, ok := r.emu.Stock(b.Article)
		if want := exchange.Thousandths(decimal.RequireFromString(b.Stock)); !ok || stock != want {
			r.t.Fatalf("%s stock %d (%v), want %d", b.Article, stock, ok, want)
		}
		rec, ok := recs[b.Article]
		if !ok || rec.CheckboxID != g.ID || rec.PushedHash == "" || rec.PushedPrice != price ||
			rec.PushedStock == nil || *rec.PushedStock != stock || rec.PushedAt.IsZero() || len(rec.PushedPayload) == 0 {
			r.t.Fatalf("ledger for %s: %+v %v, Checkbox id %s", b.Article, rec, ok, g.ID)
		}
	}
}

// TestBulkFirstSyncRerunAndDeltas runs a catalogue of 600 goods in files of 200 rows: with the race
// detector each pass over it (parse, ledger, HTTP) costs about a second on a 2-core machine. The same
// path at 10,000 goods and 5,000 rows a file is BenchmarkFirstSync.
func TestBulkFirstSyncRerunAndDeltas(t *testing.T) {
	const n, batch = 600, 200
	r := newBulkRig(t, emulator.Config{}, batch)
	books := benchBooks(n, 0)

	rep := r.mustApply(books)
	c := r.calls()
	// The first good goes alone so that Checkbox names the letter of its tax code; then all 600 go in
	// three files of 200 rows, stock included (the first one for its stock only), and after the last file
	// one read of the catalogue (one page of up to 1000) learns the new ids and finds Checkbox's stock in
	// step with BAS's.
	if want := (calls{uploads: 3, creates: 1, lookups: 1, pages: 1}); c != want {
		t.Errorf("first sync calls %+v, want %+v", c, want)
	}
	// The stock rode in the import file: the report says so, as it would for goods sent one by one.
	if rep.Created != n || rep.Updated != 0 || len(rep.Rejected) != 0 || rep.StockSent != n {
		t.Errorf("first sync report: created %d updated %d rejected %v stock %d", rep.Created, rep.Updated, rep.Rejected, rep.StockSent)
	}
	r.checkMirror(books)

	// The same export again sends nothing and reads nothing: the ledger knows every id, and nothing was
	// sold.
	before := r.calls()
	rep = r.mustApply(books)
	if d := r.calls().sub(before); d != (calls{}) || rep.Unchanged != n {
		t.Errorf("unchanged re-run: calls %+v, unchanged %d", d, rep.Unchanged)
	}

	// Ten new prices: one call each, fewer than an import file.
	for i := range 10 {
		books[i*37].Price = "999.90"
	}
	before = r.calls()
	rep = r.mustApply(books)
	if d := r.calls().sub(before); d != (calls{updates: 10}) || rep.Updated != 10 {
		t.Errorf("10 prices: calls %+v, updated %d", d, rep.Updated)
	}

	// 150 new prices: one file, and no read: the ledger knows the ids.
	for i := range 150 {
		books[i*4].Price = "1.25"
	}
	before = r.calls()
	rep = r.mustApply(books)
	if d := r.calls().sub(before); d != (calls{uploads: 1}) || rep.Updated != 150 {
		t.Errorf("150 prices: calls %+v, updated %d, report %+v", d, rep.Updated, rep)
	}
	r.checkMirror(books)
}

// TestBulkRowErrors runs a file with a bad row under both readings of what Checkbox does with such a file:
// the whole task fails (the emulator's default) or the other rows are applied. Either way the bad good is
// rejected by its code and every other good is in Checkbox and in the ledger.
func TestBulkRowErrors(t *testing.T) {
	for _, tt := range []struct {
		name        string
		skipBad     bool
		wantUploads int
	}{
		{"file fails whole", false, 2},
		{"bad rows skipped", true, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newBulkRig(t, emulator.Config{ImportSkipsBadRows: tt.skipBad}, 0)
			books := benchBooks(160, 3)
			books[80].Name = strings.Repeat("я", 4001) // over CreateGoodPayload's 4000 (docs/checkbox-rest.md §4.2)
			rep := r.mustApply(books)
			if got := r.calls().uploads; got != tt.wantUploads {
				t.Errorf("%d uploads, want %d", got, tt.wantUploads)
			}
			if len(rep.Rejected) != 1 || !strings.HasPrefix(rep.Rejected[0], books[80].Article+" ") || !strings.Contains(rep.Rejected[0], "goods[") {
				t.Fatalf("rejected %q", rep.Rejected)
			}
			if rep.Created != 159 {
				t.Errorf("created %d, want 159", rep.Created)
			}
			good := append(append([]demo.Book{}, books[:80]...), books[81:]...)
			r.checkMirror(good)
			if rec, _, _ := r.store.Good(context.Background(), books[80].Article); rec.CheckboxID != "" || rec.PushedHash != "" {
				t.Errorf("rejected good recorded as pushed: %+v", rec)
			}
		})
	}
}

// crashAfterImport is the real client, with a process that dies right after Checkbox applied an import:
// the context ends before obmin learns the ids and writes the ledger.
type crashAfterImport struct {
	exchange.GoodsAPI
	cancel context.CancelFunc
}

func (c crashAfterImport) ImportGoods(ctx context.Context, f checkbox.ImportFile, o checkbox.ImportOptions) (checkbox.ImportResult, error) {
	res, err := c.GoodsAPI.ImportGoods(ctx, f, o)
	c.cancel()
	return res, err
}

func TestBulkCrashAfterImportNeverDuplicates(t *testing.T) {
	r := newBulkRig(t, emulator.Config{}, 0)
	books := benchBooks(200, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	real := r.cat.API
	r.cat.API = crashAfterImport{GoodsAPI: real, cancel: cancel}
	if _, err := r.apply(ctx, books); !errors.Is(err, context.Canceled) {
		t.Fatalf("crashed apply: %v, want context.Canceled", err)
	}
	if n := len(r.emu.Goods()); n != len(books) {
		t.Fatalf("the import applied %d goods, want %d", n, len(books))
	}
	rec, _, err := r.store.Good(context.Background(), books[150].Article)
	if err != nil || rec.CheckboxID != "" {
		t.Fatalf("ledger after the crash: %+v %v, want no Checkbox id yet", rec, err)
	}

	r.cat.API = real // restarted
	rep := r.mustApply(books)
	if rep.Updated != len(books)-1 || rep.Created != 0 {
		t.Errorf("after restart: created %d updated %d", rep.Created, rep.Updated)
	}
	r.checkMirror(books)
	// The crashed file, the same rows again, and the stock of the first good (pushed alone before the
	// crash; its stock was in the crashed file, which the ledger never recorded).
	if got := r.calls().uploads; got != 3 {
		t.Errorf("%d uploads, want 3", got)
	}
}

func TestBulkOffUsesOneCallPerGood(t *testing.T) {
	r := newBulkRig(t, emulator.Config{}, 0)
	r.cat.BulkThreshold = 0
	books := benchBooks(120, 0)
	r.mustApply(books)
	if c := r.calls(); c.uploads != 1 || c.creates != 120 { // the one upload is the stock import
		t.Errorf("calls %+v, want 120 creates and the stock import", c)
	}
	r.checkMirror(books)
}

// BenchmarkFirstSync pushes a first catalogue of 10,000 goods (1,000 with -short) through the goods import
// and one call per good, against the emulator over HTTP without a rate limit. Besides the time it reports
// the calls made and what they cost at the client's default 5 requests a second (docs/checkbox-rest.md §9):
// the time the first sync takes against the real Checkbox, imports' own processing time aside.
func BenchmarkFirstSync(b *testing.B) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	books := benchBooks(n, 0)
	for _, mode := range []struct {
		name      string
		threshold int
	}{{"bulk", config.Default().Checkbox.BulkThreshold}, {"per-item", 0}} {
		b.Run(mode.name, func(b *testing.B) {
			var total int
			for b.Loop() {
				b.StopTimer()
				r := newBulkRig(b, emulator.Config{}, 0)
				r.cat.BulkThreshold = mode.threshold
				b.StartTimer()
				r.mustApply(books)
				b.StopTimer()
				c := r.calls()
				// Sign-in, imports' status polls and applies count too: every call the client made.
				total = r.emu.CountCalls("", "/api/")
				if mode.threshold == 0 && c.uploads != (n+4999)/5000 {
					b.Fatalf("bulk made %d uploads", c.uploads)
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(total), "calls/sync")
			b.ReportMetric(float64(total)/5, "s@5rps")
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "goods/s")
		})
	}
}
