package exchange_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/commerceml"
	"obmin/exchange"
	"obmin/folder"
	"obmin/store"
)

// pullRig is a chain's cash registers at the emulator's tills, pulled as the service pulls them: a deep
// pull over 38 h first and then every hour, the pulls between re-reading 10 minutes.
type pullRig struct {
	t     *testing.T
	emu   *emulator.Emulator
	store *store.Store
	sales *exchange.Sales
	regs  []emulator.Register
	now   time.Time
}

func newPullRig(t *testing.T, registers int) *pullRig {
	t.Helper()
	r := &pullRig{t: t, now: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)}
	r.emu = emulator.New(emulator.Config{Login: "cashier", Password: "pass", Seed: 9, Registers: make([]emulator.Register, registers),
		Clock: func() time.Time { return r.now }})
	srv := httptest.NewServer(r.emu)
	t.Cleanup(func() { srv.Close(); r.emu.Close() })
	client, err := checkbox.New(checkbox.Config{BaseURL: srv.URL, Login: "cashier", Password: "pass", ClientVersion: "test", RequestsPerSecond: 1e6})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if r.store, err = store.Open(context.Background(), filepath.Join(dir, "state.db")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.store.Close() })
	if err := r.store.PutGoods(context.Background(), []store.GoodRecord{{Code: "KN-1", BASID: "bas-kn-1", Article: "KN-1", Name: "Кобзар",
		UnitCode: "796", UnitName: "шт", UnitFullName: "Штука", UnitIntl: "PCE"}}); err != nil {
		t.Fatal(err)
	}
	r.sales = &exchange.Sales{API: client, Store: r.store, Now: func() time.Time { return r.now }, Cfg: exchange.SalesConfig{
		Out: folder.LocalTarget(dir), OrdersFile: "orders.xml", Encoding: commerceml.EncodingUTF8BOM, Returns: exchange.ReturnsList,
		Overlap: 38 * time.Hour, RecentOverlap: 10 * time.Minute, DeepEvery: time.Hour, FirstPull: 48 * time.Hour,
		Currency: "грн", CustomerName: "Роздрібний покупець", NumberPrefix: "CB-",
	}}
	r.regs = r.emu.Registers()
	return r
}

// sell makes a receipt at register i at the emulator's now; offline, one made at the till at `at` that
// reaches Checkbox only now.
func (r *pullRig) sell(i int, at time.Time, offline bool) checkbox.Receipt {
	r.t.Helper()
	rc, err := r.emu.Sell(emulator.Sale{RegisterID: r.regs[i].ID, At: at, Offline: offline,
		Lines: []emulator.SaleLine{{Code: "KN-1", Name: "Кобзар", Price: 25000, Quantity: 1000}}})
	if err != nil {
		r.t.Fatal(err)
	}
	return rc
}

// pull pulls at now and returns the calls it made to Checkbox.
func (r *pullRig) pull() (exchange.PullReport, []string) {
	r.t.Helper()
	before := len(r.emu.Calls())
	rep, err := r.sales.Pull(context.Background())
	if err != nil {
		r.t.Fatal(err)
	}
	var calls []string
	for _, c := range r.emu.Calls()[before:] {
		if c.Path != "/api/v1/cashier/signin" {
			calls = append(calls, c.Method+" "+c.Path)
		}
	}
	return rep, calls
}

// The calls of a pull between two deep ones grow with the new receipts, not with the receipts of the
// overlap: after 1 hour or after 30 hours of sales at every register (a receipt every 5 minutes each), a
// pull 5 minutes later costs the same calls — the list of registers and one search of them together.
func TestFrequentPullCallsDoNotGrowWithHistory(t *testing.T) {
	pull := func(hours int) (deep, frequent []string, rep exchange.PullReport) {
		r := newPullRig(t, 4)
		for range hours * 12 {
			r.now = r.now.Add(5 * time.Minute)
			for i := range r.regs {
				r.sell(i, time.Time{}, false)
			}
		}
		r.now = r.now.Add(time.Minute)
		_, deep = r.pull() // the first pull of the process is deep
		r.now = r.now.Add(4 * time.Minute)
		for i := range r.regs {
			r.sell(i, time.Time{}, false)
		}
		r.now = r.now.Add(time.Minute)
		rep, frequent = r.pull()
		return deep, frequent, rep
	}
	deep1, short, rep1 := pull(1)
	deep30, long, rep30 := pull(30)
	if rep1.New != 4 || rep30.New != 4 {
		t.Errorf("new receipts of the frequent pull: %d and %d, want 4", rep1.New, rep30.New)
	}
	if len(short) != len(long) || len(long) != 2 {
		t.Errorf("frequent pull after 1 h: %d calls %v; after 30 h: %d calls %v; want the same 2", len(short), short, len(long), long)
	}
	// The deep pull does grow: it re-reads the overlap, a call per 100 receipts.
	if len(deep30) <= len(deep1) {
		t.Errorf("deep pull after 1 h: %d calls, after 30 h: %d", len(deep1), len(deep30))
	}
}

// Receipts that reach Checkbox late are not lost between deep pulls. A register that was offline keeps its
// cursor at its last receipt seen, so what it sends when it comes back is after its cursor: the next pull
// reads it, in a search of its own. A receipt dated before what its register's pulls already read (an
// offline receipt sent after newer ones) is read by the next deep pull.
func TestLateReceiptsBetweenDeepPulls(t *testing.T) {
	r := newPullRig(t, 3)
	r.sales.Cfg.DeepEvery = 6 * time.Hour
	for range 12 {
		r.now = r.now.Add(5 * time.Minute)
		for i := range r.regs {
			r.sell(i, time.Time{}, false)
		}
	}
	r.now = r.now.Add(time.Minute)
	r.pull() // deep: the first of the process
	offlineFrom := r.now

	// Register 2 is offline for 3 hours while 0 and 1 sell, pulled every 10 minutes.
	for range 18 {
		r.now = r.now.Add(5 * time.Minute)
		r.sell(0, time.Time{}, false)
		r.sell(1, time.Time{}, false)
		r.now = r.now.Add(5 * time.Minute)
		if _, calls := r.pull(); len(calls) > 3 {
			t.Fatalf("pull while register 2 is offline: %d calls %v, want at most the registers, 0 and 1 together, 2 alone", len(calls), calls)
		}
	}
	// It comes back and sends the 36 receipts it made meanwhile.
	var late []checkbox.Receipt
	for step := range 36 {
		late = append(late, r.sell(2, offlineFrom.Add(time.Duration(step)*5*time.Minute), true))
	}
	r.now = r.now.Add(time.Minute)
	if rep, calls := r.pull(); rep.New != len(late) || len(calls) != 3 {
		t.Errorf("the pull after register 2 came back: %d new, %d calls %v; want %d new, 3 calls", rep.New, len(calls), calls, len(late))
	}
	for _, rc := range late {
		if _, ok, _ := r.store.Receipt(context.Background(), rc.ID); !ok {
			t.Fatalf("offline receipt %s not read", rc.ID)
		}
	}

	// An offline receipt of register 0, made 2 hours ago, reaches Checkbox after newer ones were pulled:
	// the pulls between deep ones do not reach back that far, the next deep pull does.
	stray := r.sell(0, r.now.Add(-2*time.Hour), true)
	r.now = r.now.Add(5 * time.Minute)
	r.pull()
	if _, ok, _ := r.store.Receipt(context.Background(), stray.ID); ok {
		t.Fatal("a pull between deep ones read 2 hours back")
	}
	r.now = r.now.Add(6 * time.Hour)
	if _, calls := r.pull(); searches(calls) != 2 {
		t.Errorf("deep pull: %v, want registers 0 and 1 together, 2 alone", calls)
	}
	if _, ok, _ := r.store.Receipt(context.Background(), stray.ID); !ok {
		t.Fatal("offline receipt dated before the pulls' cursor not read by the deep pull")
	}
}

func searches(calls []string) int {
	n := 0
	for _, c := range calls {
		if c == "GET /api/v1/receipts/search" {
			n++
		}
	}
	return n
}
