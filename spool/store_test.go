package spool

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"obmin/internal/golden"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// mustOpenStore opens a store at path and closes it when the test ends.
func mustOpenStore(tb testing.TB, path string) *Store {
	tb.Helper()
	s, err := OpenStore(context.Background(), path)
	if err != nil {
		tb.Fatalf("OpenStore: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// storeForTest opens a fresh store in a temporary folder with a fixed clock.
func storeForTest(tb testing.TB) *Store {
	tb.Helper()
	s := mustOpenStore(tb, filepath.Join(tb.TempDir(), "state", "obmin.db"))
	s.now = func() time.Time { return storeT0 }
	return s
}

var storeT0 = time.Date(2025, 3, 1, 18, 3, 55, 123456789, time.UTC)

func storePtr[T any](v T) *T { return &v }

func TestStoreDSN(t *testing.T) {
	tests := []struct {
		path    string
		wantErr string
	}{
		{path: "/var/lib/obmin/state.db"},
		{path: `C:\ProgramData\obmin\state.db`},
		{path: "/tmp/with space/#50%/state.db"},
		{path: "", wantErr: "empty path"},
		{path: "/tmp/a?b/state.db", wantErr: "must not contain '?'"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			dsn, err := storeDSN(tt.path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("storeDSN(%q) error = %v, want %q", tt.path, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("storeDSN(%q): %v", tt.path, err)
			}
			name, query, _ := strings.Cut(dsn, "?")
			if name != tt.path {
				t.Errorf("file name = %q, want %q", name, tt.path)
			}
			for _, want := range []string{"busy_timeout%2810000%29", "journal_mode%28WAL%29", "synchronous%28FULL%29", "foreign_keys%281%29", "_txlock=immediate"} {
				if !strings.Contains(query, want) {
					t.Errorf("settings %q lack %q", query, want)
				}
			}
		})
	}
}

func TestStoreNetworkVolume(t *testing.T) {
	tests := []struct {
		vol  string
		want bool
	}{
		{"", false},
		{"C:", false},
		{`\\server\share`, true},
		{"//server/share", true},
		{`\\?\C:`, false},
		{`\\.\C:`, false},
		{`\\?\UNC\server\share`, true},
	}
	for _, tt := range tests {
		if got := storeNetworkVolume(tt.vol); got != tt.want {
			t.Errorf("storeNetworkVolume(%q) = %v, want %v", tt.vol, got, tt.want)
		}
	}
}

func TestStorePragmas(t *testing.T) {
	s := storeForTest(t)
	ctx := context.Background()
	// Pragmas are per connection: hold several connections at once and check each of them.
	var conns []interface{ Close() error }
	for i := 0; i < 3; i++ {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		for _, p := range []struct {
			name, want string
		}{{"journal_mode", "wal"}, {"synchronous", "2"}, {"busy_timeout", "10000"}, {"foreign_keys", "1"}} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, p.name, err)
			}
			if got != p.want {
				t.Errorf("conn %d: PRAGMA %s = %s, want %s", i, p.name, got, p.want)
			}
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

// TestStoreSchema compares the migrated schema with testdata/store_schema.golden (rewrite with -update),
// so a change to the schema is always a deliberate, reviewed one.
func TestStoreSchema(t *testing.T) {
	s := storeForTest(t)
	got := storeSchemaDump(t, s)
	golden.Assert(t, filepath.Join("testdata", "store_schema.golden"), []byte(got))
}

func storeSchemaDump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	var version int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "-- user_version %d\n", version)
	rows, err := s.db.Query(`SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type DESC, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var sql string
		if err := rows.Scan(&sql); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s;\n\n", strings.TrimSpace(sql))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestStoreMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "deep", "er", "obmin.db")
	s, err := OpenStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	first := storeSchemaDump(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Reopening applies nothing and changes nothing.
	for i := 0; i < 2; i++ {
		s, err = OpenStore(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		if again := storeSchemaDump(t, s); again != first {
			t.Fatalf("reopen %d changed the schema:\n%s\nwant\n%s", i, again, first)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// A file from a newer obmin is refused, not half-understood.
	s = mustOpenStore(t, path)
	if _, err := s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", len(storeMigrations)+1)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s2, err := OpenStore(ctx, path); err == nil {
		s2.Close()
		t.Fatal("OpenStore accepted a schema newer than it knows")
	} else if !strings.Contains(err.Error(), "newer") {
		t.Fatalf("error = %v, want one about a newer schema", err)
	}
}

func TestStoreConcurrentOpen(t *testing.T) {
	// Two agents (or an agent and the CLI) opening a fresh file at once migrate it once.
	path := filepath.Join(t.TempDir(), "obmin.db")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := OpenStore(context.Background(), path)
			if err == nil {
				err = s.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
}

func TestStoreDrops(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	t1 := storeT0.Add(time.Minute)
	t2 := storeT0.Add(2 * time.Minute)
	puts := []DropRecord{
		{ID: "d1", Fingerprint: "fp-a", Source: "webdata", State: DropStateDone, Files: 2, CreatedAt: storeT0},
		{ID: "d2", Fingerprint: "fp-a", Source: "webdata", State: DropStateDuplicate, Files: 2, CreatedAt: t1},
		{ID: "d3", Fingerprint: "fp-b", Source: "webdata", State: DropStateInbox, Files: 1, CreatedAt: t2},
	}
	for _, d := range puts {
		if err := s.PutDrop(ctx, d); err != nil {
			t.Fatalf("PutDrop %s: %v", d.ID, err)
		}
	}

	fpTests := []struct {
		fp     string
		wantID string
		wantOK bool
	}{
		{"fp-a", "d1", true}, // the original, not the later duplicate
		{"fp-b", "d3", true},
		{"fp-c", "", false},
	}
	for _, tt := range fpTests {
		d, ok, err := s.DropByFingerprint(ctx, tt.fp)
		if err != nil || ok != tt.wantOK || d.ID != tt.wantID {
			t.Errorf("DropByFingerprint(%s) = %q, %v, %v; want %q, %v", tt.fp, d.ID, ok, err, tt.wantID, tt.wantOK)
		}
	}

	// An update by ID keeps CreatedAt.
	if err := s.PutDrop(ctx, DropRecord{ID: "d3", Fingerprint: "fp-b", Source: "webdata", State: DropStateProcessing, Files: 1, CreatedAt: t2.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return t2.Add(5 * time.Second) }
	if err := s.SetDropState(ctx, "d3", DropStateFailed, "import.xml:12: bad XML"); err != nil {
		t.Fatal(err)
	}
	d, _, err := s.DropByFingerprint(ctx, "fp-b")
	if err != nil {
		t.Fatal(err)
	}
	want := DropRecord{ID: "d3", Fingerprint: "fp-b", Source: "webdata", State: DropStateFailed, Error: "import.xml:12: bad XML",
		Files: 1, CreatedAt: t2, UpdatedAt: t2.Add(5 * time.Second)}
	if d != want {
		t.Errorf("after update:\n got %+v\nwant %+v", d, want)
	}

	errTests := []struct {
		name string
		err  error
		is   error
	}{
		{"unknown id", s.SetDropState(ctx, "nope", DropStateDone, ""), ErrStoreNotFound},
		{"bad state", s.SetDropState(ctx, "d1", "finished", ""), nil},
		{"put bad state", s.PutDrop(ctx, DropRecord{ID: "d9", Fingerprint: "x", State: "new"}), nil},
		{"put no fingerprint", s.PutDrop(ctx, DropRecord{ID: "d9", State: DropStateInbox}), nil},
	}
	for _, tt := range errTests {
		if tt.err == nil || (tt.is != nil && !errors.Is(tt.err, tt.is)) {
			t.Errorf("%s: error = %v, want an error (%v)", tt.name, tt.err, tt.is)
		}
	}

	limitTests := []struct {
		limit int
		want  []string
	}{
		{0, []string{"d3", "d2", "d1"}},
		{2, []string{"d3", "d2"}},
		{10, []string{"d3", "d2", "d1"}},
	}
	for _, tt := range limitTests {
		got, err := s.RecentDrops(ctx, tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, d := range got {
			ids = append(ids, d.ID)
		}
		if !slices.Equal(ids, tt.want) {
			t.Errorf("RecentDrops(%d) = %v, want %v", tt.limit, ids, tt.want)
		}
	}
}

func TestStorePutGoods(t *testing.T) {
	bas := GoodRecord{Code: "978-617", BASID: "a1b2", Article: "978-617", Name: "Кобзар",
		UnitCode: "796", UnitName: "шт", UnitFullName: "Штука", UnitIntl: "PCE"}
	pushed := bas
	pushed.CheckboxID, pushed.PushedHash, pushed.PushedPrice, pushed.PushedAt = "cb-uuid", "h1", 25000, storeT0
	stocked := pushed
	stocked.PushedStock, stocked.StockHash = storePtr(int64(3000)), "s1"

	renamed := bas // a catalogue import: BAS fields only, ledger unknown
	renamed.Name, renamed.BASID, renamed.Deleted = "Кобзар (нове видання)", "a1b2-new", true

	tests := []struct {
		name  string
		puts  []GoodRecord
		want  GoodRecord
		total int
		npush int
	}{
		{"new from BAS", []GoodRecord{bas}, storeWithUpdated(bas, storeT0), 1, 0},
		{"pushed", []GoodRecord{bas, pushed}, storeWithUpdated(pushed, storeT0), 1, 1},
		{"BAS change keeps ledger", []GoodRecord{stocked, renamed}, func() GoodRecord {
			g := stocked
			g.Name, g.BASID, g.Deleted = renamed.Name, renamed.BASID, true
			return storeWithUpdated(g, storeT0)
		}(), 1, 1},
		{"price goes with hash", []GoodRecord{pushed, func() GoodRecord { g := bas; g.PushedPrice = 1; return g }()},
			storeWithUpdated(pushed, storeT0), 1, 1},
		{"new push replaces ledger", []GoodRecord{stocked, func() GoodRecord {
			g := stocked
			g.PushedHash, g.PushedPrice, g.PushedStock, g.PushedAt = "h2", 26000, storePtr(int64(0)), storeT0.Add(time.Hour)
			return g
		}()}, func() GoodRecord {
			g := stocked
			g.PushedHash, g.PushedPrice, g.PushedStock, g.PushedAt = "h2", 26000, storePtr(int64(0)), storeT0.Add(time.Hour)
			return storeWithUpdated(g, storeT0)
		}(), 1, 1},
		{"last of a batch wins", []GoodRecord{bas, renamed, bas}, storeWithUpdated(bas, storeT0), 1, 0},
		{"explicit UpdatedAt", []GoodRecord{storeWithUpdated(bas, storeT0.Add(-time.Hour))}, storeWithUpdated(bas, storeT0.Add(-time.Hour)), 1, 0},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := storeForTest(t)
			for _, g := range tt.puts {
				if err := s.PutGoods(ctx, []GoodRecord{g}); err != nil {
					t.Fatal(err)
				}
			}
			got, ok, err := s.Good(ctx, bas.Code)
			if err != nil || !ok {
				t.Fatalf("Good: %v, %v", ok, err)
			}
			if !storeGoodsEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", storeGoodString(got), storeGoodString(tt.want))
			}
			total, npush, err := s.CountGoods(ctx)
			if err != nil || total != tt.total || npush != tt.npush {
				t.Errorf("CountGoods = %d, %d, %v; want %d, %d", total, npush, err, tt.total, tt.npush)
			}
		})
	}
}

func storeWithUpdated(g GoodRecord, t time.Time) GoodRecord {
	g.UpdatedAt = t
	return g
}

func storeGoodsEqual(a, b GoodRecord) bool {
	if (a.PushedStock == nil) != (b.PushedStock == nil) || (a.PushedStock != nil && *a.PushedStock != *b.PushedStock) {
		return false
	}
	if !a.UpdatedAt.Equal(b.UpdatedAt) || !a.PushedAt.Equal(b.PushedAt) {
		return false
	}
	if string(a.PushedPayload) != string(b.PushedPayload) {
		return false
	}
	a.PushedStock, b.PushedStock = nil, nil
	a.PushedPayload, b.PushedPayload = nil, nil
	a.UpdatedAt, b.UpdatedAt, a.PushedAt, b.PushedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return reflect.DeepEqual(a, b)
}

func storeGoodString(g GoodRecord) string {
	stock := "nil"
	if g.PushedStock != nil {
		stock = fmt.Sprint(*g.PushedStock)
	}
	g.PushedStock = nil
	return fmt.Sprintf("%+v stock=%s", g, stock)
}

func TestStorePutGoodsBatch(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	// A record without a code fails the whole batch: nothing is half-written.
	err := s.PutGoods(ctx, []GoodRecord{{Code: "a"}, {BASID: "x"}})
	if err == nil {
		t.Fatal("PutGoods accepted a record without a code")
	}
	if total, _, _ := s.CountGoods(ctx); total != 0 {
		t.Fatalf("a failed batch left %d goods", total)
	}
	if err := s.PutGoods(ctx, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
	// A context already cancelled writes nothing either.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.PutGoods(cctx, []GoodRecord{{Code: "a"}}); err == nil {
		t.Fatal("PutGoods ignored a cancelled context")
	}
	if total, _, _ := s.CountGoods(ctx); total != 0 {
		t.Fatalf("a cancelled batch left %d goods", total)
	}
}

func TestStoreGoodByBASID(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	// The Артикул changed in BAS: the old code stays behind with the same Ид; the newer row wins.
	if err := s.PutGoods(ctx, []GoodRecord{
		{Code: "old", BASID: "guid-1", UpdatedAt: storeT0},
		{Code: "new", BASID: "guid-1", UpdatedAt: storeT0.Add(time.Hour)},
		{Code: "other", BASID: "guid-2", UpdatedAt: storeT0},
		{Code: "no-id", UpdatedAt: storeT0},
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		basID, wantCode string
		wantOK          bool
	}{
		{"guid-1", "new", true},
		{"guid-2", "other", true},
		{"guid-3", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		g, ok, err := s.GoodByBASID(ctx, tt.basID)
		if err != nil || ok != tt.wantOK || g.Code != tt.wantCode {
			t.Errorf("GoodByBASID(%q) = %q, %v, %v; want %q, %v", tt.basID, g.Code, ok, err, tt.wantCode, tt.wantOK)
		}
	}
	if _, ok, err := s.Good(ctx, "missing"); ok || err != nil {
		t.Errorf("Good(missing) = %v, %v", ok, err)
	}
}

func TestStoreForEachGood(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	if err := s.PutGoods(ctx, []GoodRecord{{Code: "c"}, {Code: "a", PushedHash: "h"}, {Code: "b"}}); err != nil {
		t.Fatal(err)
	}
	var codes []string
	err := s.ForEachGood(ctx, func(g GoodRecord) error {
		codes = append(codes, g.Code)
		// Writing from the callback must not deadlock, and the walk keeps its snapshot.
		return s.PutGoods(ctx, []GoodRecord{{Code: g.Code + "-x", PushedHash: "h"}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a", "b", "c"}; !slices.Equal(codes, want) {
		t.Errorf("walk = %v, want %v", codes, want)
	}
	if total, npush, err := s.CountGoods(ctx); total != 6 || npush != 4 || err != nil {
		t.Errorf("CountGoods = %d, %d, %v; want 6, 4", total, npush, err)
	}

	stop := errors.New("stop")
	n := 0
	err = s.ForEachGood(ctx, func(GoodRecord) error { n++; return stop })
	if !errors.Is(err, stop) || n != 1 {
		t.Errorf("ForEachGood with a failing fn = %v after %d calls, want stop after 1", err, n)
	}
}

func TestStoreForgetPushed(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	g := GoodRecord{CheckboxID: "id", PushedHash: "h", PushedPrice: 100, PushedStock: storePtr(int64(1000)), StockHash: "s", PushedAt: storeT0}
	a, b := g, g
	a.Code, b.Code = "a", "b"
	if err := s.PutGoods(ctx, []GoodRecord{a, b}); err != nil {
		t.Fatal(err)
	}
	check := func(code string, wantPushed bool) {
		t.Helper()
		got, _, err := s.Good(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		if got.CheckboxID != "id" {
			t.Errorf("%s: CheckboxID = %q, want it kept", code, got.CheckboxID)
		}
		isPushed := got.PushedHash != "" || got.PushedPrice != 0 || got.PushedStock != nil || got.StockHash != "" || !got.PushedAt.IsZero()
		if isPushed != wantPushed {
			t.Errorf("%s: ledger %s, want pushed=%v", code, storeGoodString(got), wantPushed)
		}
	}
	if err := s.ForgetPushed(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	check("a", false)
	check("b", true)
	if err := s.ForgetPushed(ctx); err != nil {
		t.Fatal(err)
	}
	check("b", false)
}

func TestStoreAddReceiptOnce(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	r := ReceiptRecord{ID: "r1", RegisterID: "reg", Type: "SELL", Status: "DONE", Number: "CB-1", When: storeT0,
		TotalSum: 12550, State: ReceiptStatePending, Raw: []byte(`{"id":"r1"}`), Document: []byte(`{"Номер":"CB-1"}`)}

	tests := []struct {
		name      string
		rec       ReceiptRecord
		wantAdded bool
		wantErr   error
	}{
		{"new", r, true, nil},
		{"same id again", r, false, nil},
		{"same id, other fields", func() ReceiptRecord { x := r; x.State, x.TotalSum, x.Number = ReceiptStateHeld, 1, "CB-9"; return x }(), false, nil},
		{"same id, number of another receipt", func() ReceiptRecord { x := r; x.Number = "CB-2"; return x }(), false, nil},
		{"new id, own number", func() ReceiptRecord { x := r; x.ID, x.Number = "r2", "CB-2"; return x }(), true, nil},
		{"new id, taken number", func() ReceiptRecord { x := r; x.ID = "r3"; return x }(), false, ErrDuplicateNumber},
		{"new id, no number", func() ReceiptRecord { x := r; x.ID, x.Number, x.State = "r4", "", ReceiptStateSkipped; return x }(), true, nil},
		{"another without number", func() ReceiptRecord { x := r; x.ID, x.Number, x.State = "r5", "", ReceiptStateSkipped; return x }(), true, nil},
	}
	for _, tt := range tests {
		added, err := s.AddReceipt(ctx, tt.rec)
		if added != tt.wantAdded || !errors.Is(err, tt.wantErr) || (tt.wantErr != nil) != (err != nil) {
			t.Errorf("%s: AddReceipt = %v, %v; want %v, %v", tt.name, added, err, tt.wantAdded, tt.wantErr)
		}
	}
	got, ok, err := s.Receipt(ctx, "r1")
	if err != nil || !ok {
		t.Fatalf("Receipt(r1) = %v, %v", ok, err)
	}
	want := r
	want.FirstSeen = storeT0
	if !storeReceiptsEqual(got, want) {
		t.Errorf("a repeated AddReceipt changed the record:\n got %+v\nwant %+v", got, want)
	}
	if _, ok, err := s.Receipt(ctx, "r3"); ok || err != nil {
		t.Errorf("the receipt with a taken number was stored: %v, %v", ok, err)
	}
	got, _, _ = s.Receipt(ctx, "r4")
	if got.Raw == nil || got.Document == nil {
		t.Errorf("r4: Raw/Document lost: %q %q", got.Raw, got.Document)
	}
	s.AddReceipt(ctx, ReceiptRecord{ID: "r6", State: ReceiptStateSkipped})
	got, _, _ = s.Receipt(ctx, "r6")
	if got.Raw != nil || got.Document != nil {
		t.Errorf("r6: nil Raw/Document came back as %q, %q", got.Raw, got.Document)
	}

	for _, bad := range []ReceiptRecord{{State: ReceiptStatePending}, {ID: "x", State: "new"}} {
		if _, err := s.AddReceipt(ctx, bad); err == nil {
			t.Errorf("AddReceipt(%+v) accepted an invalid record", bad)
		}
	}
}

func storeReceiptsEqual(a, b ReceiptRecord) bool {
	return a.ID == b.ID && a.RegisterID == b.RegisterID && a.Type == b.Type && a.Status == b.Status &&
		a.Number == b.Number && a.When.Equal(b.When) && a.TotalSum == b.TotalSum && a.State == b.State &&
		a.Reason == b.Reason && string(a.Raw) == string(b.Raw) && string(a.Document) == string(b.Document) &&
		(a.Raw == nil) == (b.Raw == nil) && (a.Document == nil) == (b.Document == nil) &&
		a.FirstSeen.Equal(b.FirstSeen) && a.ConfirmedAt.Equal(b.ConfirmedAt)
}

func TestStoreAddReceiptConcurrent(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	const workers, ids, each = 50, 100, 20
	var added [ids]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				i := (w*7 + k*13) % ids // overlapping, in a different order per worker
				ok, err := s.AddReceipt(ctx, ReceiptRecord{ID: fmt.Sprintf("r%03d", i), Number: fmt.Sprintf("N%03d", i),
					State: ReceiptStatePending, When: storeT0})
				if err != nil {
					errs <- err
					return
				}
				if ok {
					added[i].Add(1)
				}
				// Readers run beside the writers.
				if _, _, err := s.Receipt(ctx, fmt.Sprintf("r%03d", i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := 0
	for i := range added {
		switch n := added[i].Load(); n {
		case 0:
		case 1:
			seen++
		default:
			t.Errorf("r%03d added %d times", i, n)
		}
	}
	counts, err := s.ReceiptCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[ReceiptStatePending] != ids || seen != ids {
		t.Errorf("%d receipts stored, %d reported added, want %d", counts[ReceiptStatePending], seen, ids)
	}
}

func TestStoreReceiptsInStateOrder(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	kyiv := time.FixedZone("EET", 2*60*60)
	sec := time.Date(2025, 3, 1, 10, 0, 5, 0, time.UTC)
	recs := []ReceiptRecord{
		{ID: "e", When: sec.Add(500 * time.Millisecond)},
		{ID: "d", When: sec}, // a whole second: must sort before .5 s (RFC3339Nano alone would not)
		{ID: "c", When: sec.Add(time.Nanosecond)},
		{ID: "b", When: sec.In(kyiv).Add(-time.Hour)}, // another zone, earlier instant
		{ID: "a", When: sec},                          // same instant as d: ID decides
		{ID: "h", When: sec.Add(-time.Hour), State: ReceiptStateHeld},
	}
	for _, r := range recs {
		if r.State == "" {
			r.State = ReceiptStatePending
		}
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		state ReceiptState
		want  []string
	}{
		{ReceiptStatePending, []string{"b", "a", "d", "c", "e"}},
		{ReceiptStateHeld, []string{"h"}},
		{ReceiptStateConfirmed, nil},
	}
	for _, tt := range tests {
		var got []string
		err := s.ReceiptsInState(ctx, tt.state, func(r ReceiptRecord) error {
			got = append(got, r.ID)
			if r.When.Location() != time.UTC {
				t.Errorf("%s: When in %v, want UTC", r.ID, r.When.Location())
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ReceiptsInState(%s) = %v, want %v", tt.state, got, tt.want)
		}
	}

	// The usual loop: move each pending receipt on from inside the walk.
	err := s.ReceiptsInState(ctx, ReceiptStatePending, func(r ReceiptRecord) error {
		r.State = ReceiptStateHeld
		return s.UpdateReceipt(ctx, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	if counts, _ := s.ReceiptCounts(ctx); counts[ReceiptStateHeld] != 6 || counts[ReceiptStatePending] != 0 {
		t.Errorf("counts after moving all = %v", counts)
	}
}

func TestStoreConfirmNumbers(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	confirmedAt := storeT0.Add(-48 * time.Hour)
	for _, r := range []ReceiptRecord{
		{ID: "p1", Number: "CB-1", State: ReceiptStatePending, When: storeT0},
		{ID: "p2", Number: "CB-2", State: ReceiptStatePending, When: storeT0.Add(time.Second)},
		{ID: "p3", Number: "CB-3", State: ReceiptStatePending, When: storeT0.Add(2 * time.Second)},
		{ID: "h1", Number: "CB-4", State: ReceiptStateHeld},
		{ID: "c1", Number: "CB-5", State: ReceiptStateConfirmed, ConfirmedAt: confirmedAt},
		{ID: "s1", State: ReceiptStateSkipped},
	} {
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	now := storeT0.Add(time.Hour)
	tests := []struct {
		name    string
		numbers []string
		want    int
	}{
		{"none", nil, 0},
		{"pending, held, confirmed, unknown, empty", []string{"CB-1", "CB-4", "CB-5", "CB-99", ""}, 1},
		{"again", []string{"CB-1"}, 0},
		{"two", []string{"CB-3", "CB-2", "CB-3"}, 2},
	}
	for _, tt := range tests {
		n, err := s.ConfirmNumbers(ctx, tt.numbers, now)
		if err != nil || n != tt.want {
			t.Errorf("%s: ConfirmNumbers = %d, %v; want %d", tt.name, n, err, tt.want)
		}
	}
	r, _, _ := s.Receipt(ctx, "p1")
	if r.State != ReceiptStateConfirmed || !r.ConfirmedAt.Equal(now) {
		t.Errorf("p1 = %s at %v, want confirmed at %v", r.State, r.ConfirmedAt, now)
	}
	if r, _, _ := s.Receipt(ctx, "h1"); r.State != ReceiptStateHeld {
		t.Errorf("held receipt became %s", r.State)
	}

	sinceTests := []struct {
		since time.Time
		want  []string
	}{
		{now, []string{"p1", "p2", "p3"}},
		{now.Add(time.Nanosecond), nil},
		{confirmedAt, []string{"c1", "p1", "p2", "p3"}}, // c1 has no When: it sorts first
	}
	for _, tt := range sinceTests {
		var got []string
		if err := s.ConfirmedSince(ctx, tt.since, func(r ReceiptRecord) error { got = append(got, r.ID); return nil }); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("ConfirmedSince(%v) = %v, want %v", tt.since, got, tt.want)
		}
	}

	// Many numbers at once: more than SQLite's bound-parameter limit.
	many := make([]string, 40000)
	for i := range many {
		many[i] = fmt.Sprintf("X-%d", i)
	}
	if n, err := s.ConfirmNumbers(ctx, many, now); err != nil || n != 0 {
		t.Errorf("ConfirmNumbers(40000 unknown) = %d, %v", n, err)
	}
}

func TestStoreUpdateReceipt(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	base := ReceiptRecord{ID: "r1", RegisterID: "reg", Type: "SELL", Status: "DONE", Number: "CB-1", When: storeT0,
		TotalSum: 500, State: ReceiptStateHeld, Reason: "good 123 unknown to BAS", Raw: []byte(`{"id":"r1"}`)}
	for _, r := range []ReceiptRecord{base, {ID: "r2", Number: "CB-2", State: ReceiptStatePending}} {
		if _, err := s.AddReceipt(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	released := base
	released.State, released.Reason, released.Document, released.Number = ReceiptStatePending, "", []byte(`{"doc":1}`), "CB-1a"
	released.TotalSum, released.RegisterID = 1, "other" // not updatable: ignored
	if err := s.UpdateReceipt(ctx, released); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Receipt(ctx, "r1")
	want := base
	want.State, want.Reason, want.Document, want.Number, want.FirstSeen = ReceiptStatePending, "", []byte(`{"doc":1}`), "CB-1a", storeT0
	if !storeReceiptsEqual(got, want) {
		t.Errorf("after update:\n got %+v\nwant %+v", got, want)
	}

	// Becoming confirmed stamps ConfirmedAt once.
	got.State = ReceiptStateConfirmed
	if err := s.UpdateReceipt(ctx, got); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return storeT0.Add(time.Hour) }
	if err := s.UpdateReceipt(ctx, got); err != nil {
		t.Fatal(err)
	}
	if got, _, _ = s.Receipt(ctx, "r1"); !got.ConfirmedAt.Equal(storeT0) {
		t.Errorf("ConfirmedAt = %v, want %v", got.ConfirmedAt, storeT0)
	}

	errTests := []struct {
		name string
		rec  ReceiptRecord
		is   error
	}{
		{"unknown id", ReceiptRecord{ID: "nope", State: ReceiptStatePending}, ErrStoreNotFound},
		{"taken number", ReceiptRecord{ID: "r1", Number: "CB-2", State: ReceiptStatePending}, ErrDuplicateNumber},
		{"bad state", ReceiptRecord{ID: "r1", State: "lost"}, nil},
	}
	for _, tt := range errTests {
		err := s.UpdateReceipt(ctx, tt.rec)
		if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) {
			t.Errorf("%s: UpdateReceipt error = %v, want %v", tt.name, err, tt.is)
		}
	}
}

func TestStoreCursor(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	kyiv := time.FixedZone("EEST", 3*60*60)
	tests := []struct {
		name string
		t    time.Time
	}{
		{"nanoseconds", time.Date(2025, 3, 1, 18, 3, 55, 123456789, time.UTC)},
		{"one nanosecond", time.Date(2025, 3, 1, 18, 3, 55, 1, time.UTC)},
		{"whole second", time.Date(2025, 3, 1, 18, 3, 55, 0, time.UTC)},
		{"other zone", time.Date(2025, 7, 1, 0, 30, 0, 999999999, kyiv)},
		{"monotonic", time.Now()},
	}
	if _, ok, err := s.Cursor(ctx, "reg"); ok || err != nil {
		t.Fatalf("Cursor before any = %v, %v", ok, err)
	}
	for _, tt := range tests {
		if err := s.SetCursor(ctx, "reg", tt.t); err != nil {
			t.Fatal(err)
		}
		got, ok, err := s.Cursor(ctx, "reg")
		if err != nil || !ok || !got.Equal(tt.t) || got.Location() != time.UTC {
			t.Errorf("%s: Cursor = %v (%v), %v, %v; want %v in UTC", tt.name, got, got.Location(), ok, err, tt.t)
		}
	}
	if err := s.SetCursor(ctx, "reg", time.Time{}); err == nil {
		t.Error("SetCursor accepted the zero time")
	}
	// Stored as RFC 3339 UTC text.
	if err := s.SetCursor(ctx, "reg", tests[3].t); err != nil {
		t.Fatal(err)
	}
	var raw string
	if err := s.db.QueryRow(`SELECT until FROM cursors WHERE register_id = 'reg'`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if want := "2025-06-30T21:30:00.999999999Z"; raw != want {
		t.Errorf("stored %q, want %q", raw, want)
	}
}

func TestStoreJobs(t *testing.T) {
	ctx := context.Background()
	s := storeForTest(t)
	if s.jobCap != 1000 {
		t.Errorf("history cap = %d, want 1000", s.jobCap)
	}
	s.jobCap = 10 // the same rule with fewer fsyncs
	for i := 0; i < 25; i++ {
		start := storeT0.Add(time.Duration(i) * time.Minute)
		r := JobRun{Name: "receipts", Start: start, End: start.Add(time.Second), Summary: fmt.Sprintf(`{"n":%d}`, i)}
		if i%2 == 1 {
			r.Name, r.Err = "catalog", "checkbox: 503"
		}
		if err := s.RecordJob(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	// A late record of an older run does not replace the last one.
	if err := s.RecordJob(ctx, JobRun{Name: "receipts", Start: storeT0, End: storeT0, Summary: "late"}); err != nil {
		t.Fatal(err)
	}
	hist, err := s.JobHistory(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 10 || hist[0].Summary != "late" || hist[1].Summary != `{"n":24}` || hist[9].Summary != `{"n":16}` {
		t.Errorf("history = %d runs, first %q, second %q, last %q", len(hist), hist[0].Summary, hist[1].Summary, hist[len(hist)-1].Summary)
	}
	if hist, _ := s.JobHistory(ctx, 3); len(hist) != 3 {
		t.Errorf("JobHistory(3) = %d runs", len(hist))
	}

	tests := []struct {
		name      string
		wantOK    bool
		wantStart time.Time
		wantErr   string
	}{
		{"receipts", true, storeT0.Add(24 * time.Minute), ""},
		{"catalog", true, storeT0.Add(23 * time.Minute), "checkbox: 503"},
		{"never", false, time.Time{}, ""},
	}
	for _, tt := range tests {
		j, ok, err := s.LastJob(ctx, tt.name)
		if err != nil || ok != tt.wantOK || !j.Start.Equal(tt.wantStart) || j.Err != tt.wantErr {
			t.Errorf("LastJob(%s) = %+v, %v, %v", tt.name, j, ok, err)
		}
		if ok && !j.End.Equal(j.Start.Add(time.Second)) {
			t.Errorf("LastJob(%s).End = %v", tt.name, j.End)
		}
	}
	if err := s.RecordJob(ctx, JobRun{}); err == nil {
		t.Error("RecordJob accepted a run without a name")
	}
}

// storeFill writes one of everything, for the persistence tests.
func storeFill(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	steps := []error{
		s.PutDrop(ctx, DropRecord{ID: "d1", Fingerprint: "fp", State: DropStateDone}),
		s.PutGoods(ctx, []GoodRecord{{Code: "g1", BASID: "b1", CheckboxID: "cb1", PushedHash: "h"}}),
		func() error {
			_, err := s.AddReceipt(ctx, ReceiptRecord{ID: "r1", Number: "N1", State: ReceiptStatePending})
			return err
		}(),
		s.SetCursor(ctx, "reg", storeT0),
		s.RecordJob(ctx, JobRun{Name: "receipts", Start: storeT0, End: storeT0}),
	}
	for i, err := range steps {
		if err != nil {
			t.Fatalf("fill step %d: %v", i, err)
		}
	}
}

// storeCheckFilled checks what storeFill wrote.
func storeCheckFilled(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if d, ok, err := s.DropByFingerprint(ctx, "fp"); !ok || err != nil || d.State != DropStateDone {
		t.Errorf("drop: %+v, %v, %v", d, ok, err)
	}
	if g, ok, err := s.GoodByBASID(ctx, "b1"); !ok || err != nil || g.CheckboxID != "cb1" {
		t.Errorf("good: %+v, %v, %v", g, ok, err)
	}
	if r, ok, err := s.Receipt(ctx, "r1"); !ok || err != nil || r.Number != "N1" {
		t.Errorf("receipt: %+v, %v, %v", r, ok, err)
	}
	if c, ok, err := s.Cursor(ctx, "reg"); !ok || err != nil || !c.Equal(storeT0) {
		t.Errorf("cursor: %v, %v, %v", c, ok, err)
	}
	if j, ok, err := s.LastJob(ctx, "receipts"); !ok || err != nil || !j.Start.Equal(storeT0) {
		t.Errorf("job: %+v, %v, %v", j, ok, err)
	}
}

func TestStoreReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "obmin.db")
	s, err := OpenStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	storeFill(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	storeCheckFilled(t, mustOpenStore(t, path))
}

func TestStoreCrashInProcess(t *testing.T) {
	// The first store is never closed before the second reads: what it committed is in the WAL, and the
	// second sees it (closed only at the end, to release the file for TempDir's cleanup).
	path := filepath.Join(t.TempDir(), "obmin.db")
	storeFill(t, mustOpenStore(t, path))
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL beside the open database: %v", err)
	}
	storeCheckFilled(t, mustOpenStore(t, path))
}

// TestStoreSurvivesKill kills a process that is writing receipts as fast as it can, then checks that
// every receipt it reported committed is there and that the file is sound.
func TestStoreSurvivesKill(t *testing.T) {
	if path := os.Getenv("OBMIN_STORE_KILL_CHILD"); path != "" {
		storeKillChild(path)
		return
	}
	if testing.Short() {
		t.Skip("starts a subprocess")
	}
	path := filepath.Join(t.TempDir(), "obmin.db")
	last := storeRunAndKill(t, path, 30)

	s := mustOpenStore(t, path)
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	for i := 0; i <= last; i++ {
		if _, ok, err := s.Receipt(context.Background(), fmt.Sprintf("r%06d", i)); !ok || err != nil {
			t.Fatalf("receipt %d of %d reported committed is missing (%v)", i, last, err)
		}
	}
	counts, _ := s.ReceiptCounts(context.Background())
	// At most the one in flight when the kill came may be there unreported.
	if n := counts[ReceiptStatePending]; n < last+1 || n > last+2 {
		t.Errorf("%d receipts stored, %d reported", n, last+1)
	}
}

func storeKillChild(path string) {
	ctx := context.Background()
	s, err := OpenStore(ctx, path)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	deadline := time.Now().Add(time.Minute) // never outlive a parent that failed to kill us
	for i := 0; time.Now().Before(deadline); i++ {
		id := fmt.Sprintf("r%06d", i)
		if _, err := s.AddReceipt(ctx, ReceiptRecord{ID: id, Number: id, State: ReceiptStatePending, Raw: []byte(`{}`)}); err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
		fmt.Println("ok", i)
	}
	os.Exit(3)
}

// storeRunAndKill starts the test binary as a writer on path, kills it (SIGKILL on Unix, TerminateProcess
// on Windows) once it has reported after commits, and returns the last receipt index it reported.
func storeRunAndKill(t *testing.T, path string, after int) int {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestStoreSurvivesKill$")
	cmd.Env = append(os.Environ(), "OBMIN_STORE_KILL_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	last, seen := -1, 0
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := sc.Text()
		var i int
		if _, err := fmt.Sscanf(line, "ok %d", &i); err != nil {
			t.Errorf("writer: %s", line)
			continue
		}
		last = i
		if seen++; seen == after {
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Lines already in the pipe when the kill came were committed too; the scanner read them all.
	if err := cmd.Wait(); err == nil {
		t.Fatal("the writer exited on its own instead of being killed")
	}
	if seen < after {
		t.Fatalf("the writer reported only %d commits", seen)
	}
	return last
}
