package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestStorePutGoods(t *testing.T) {
	bas := GoodRecord{Code: "978-617", BASID: "a1b2", Article: "978-617", Name: "Кобзар",
		UnitCode: "796", UnitName: "шт", UnitFullName: "Штука", UnitIntl: "PCE"}
	pushed := bas
	pushed.CheckboxID, pushed.PushedHash, pushed.PushedPrice, pushed.PushedAt = "cb-uuid", "h1", 25000, testT0
	stocked := pushed
	stocked.PushedStock, stocked.StockHash = ptr(int64(3000)), "s1"

	renamed := bas // a catalogue import: BAS fields only, ledger unknown
	renamed.Name, renamed.BASID, renamed.Deleted = "Кобзар (нове видання)", "a1b2-new", true

	tests := []struct {
		name  string
		puts  []GoodRecord
		want  GoodRecord
		total int
		npush int
	}{
		{"new from BAS", []GoodRecord{bas}, withUpdated(bas, testT0), 1, 0},
		{"pushed", []GoodRecord{bas, pushed}, withUpdated(pushed, testT0), 1, 1},
		{"BAS change keeps ledger", []GoodRecord{stocked, renamed}, func() GoodRecord {
			g := stocked
			g.Name, g.BASID, g.Deleted = renamed.Name, renamed.BASID, true
			return withUpdated(g, testT0)
		}(), 1, 1},
		{"price goes with hash", []GoodRecord{pushed, func() GoodRecord { g := bas; g.PushedPrice = 1; return g }()},
			withUpdated(pushed, testT0), 1, 1},
		{"new push replaces ledger", []GoodRecord{stocked, func() GoodRecord {
			g := stocked
			g.PushedHash, g.PushedPrice, g.PushedStock, g.PushedAt = "h2", 26000, ptr(int64(0)), testT0.Add(time.Hour)
			return g
		}()}, func() GoodRecord {
			g := stocked
			g.PushedHash, g.PushedPrice, g.PushedStock, g.PushedAt = "h2", 26000, ptr(int64(0)), testT0.Add(time.Hour)
			return withUpdated(g, testT0)
		}(), 1, 1},
		{"last of a batch wins", []GoodRecord{bas, renamed, bas}, withUpdated(bas, testT0), 1, 0},
		{"explicit UpdatedAt", []GoodRecord{withUpdated(bas, testT0.Add(-time.Hour))}, withUpdated(bas, testT0.Add(-time.Hour)), 1, 0},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			for _, g := range tt.puts {
				if err := s.PutGoods(ctx, []GoodRecord{g}); err != nil {
					t.Fatal(err)
				}
			}
			got, ok, err := s.Good(ctx, bas.Code)
			if err != nil || !ok {
				t.Fatalf("Good: %v, %v", ok, err)
			}
			if !goodsEqual(got, tt.want) {
				t.Errorf("got  %s\nwant %s", goodString(got), goodString(tt.want))
			}
			total, npush, err := s.CountGoods(ctx)
			if err != nil || total != tt.total || npush != tt.npush {
				t.Errorf("CountGoods = %d, %d, %v; want %d, %d", total, npush, err, tt.total, tt.npush)
			}
		})
	}
}

func withUpdated(g GoodRecord, t time.Time) GoodRecord {
	g.UpdatedAt = t
	return g
}

func goodsEqual(a, b GoodRecord) bool {
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

func goodString(g GoodRecord) string {
	stock := "nil"
	if g.PushedStock != nil {
		stock = fmt.Sprint(*g.PushedStock)
	}
	g.PushedStock = nil
	return fmt.Sprintf("%+v stock=%s", g, stock)
}

func TestStorePutGoodsBatch(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
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
	s := openTest(t)
	// The Артикул changed in BAS: the old code stays behind with the same Ид; the newer row wins.
	if err := s.PutGoods(ctx, []GoodRecord{
		{Code: "old", BASID: "guid-1", UpdatedAt: testT0},
		{Code: "new", BASID: "guid-1", UpdatedAt: testT0.Add(time.Hour)},
		{Code: "other", BASID: "guid-2", UpdatedAt: testT0},
		{Code: "no-id", UpdatedAt: testT0},
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
	s := openTest(t)
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
	s := openTest(t)
	g := GoodRecord{CheckboxID: "id", PushedHash: "h", PushedPrice: 100, PushedStock: ptr(int64(1000)), StockHash: "s", PushedAt: testT0}
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
			t.Errorf("%s: ledger %s, want pushed=%v", code, goodString(got), wantPushed)
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
