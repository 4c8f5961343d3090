package store

import (
	"context"
	"testing"
)

// TestStoreRenameGood: a good whose code changes keeps its record (Checkbox id, what was pushed) under the
// new code, and every old code still finds it for sales, however often it changes.
func TestStoreRenameGood(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	put := func(recs ...GoodRecord) {
		t.Helper()
		if err := s.PutGoods(ctx, recs); err != nil {
			t.Fatal(err)
		}
	}
	put(GoodRecord{Code: "KN-1", BASID: "p#c", Name: "Кобзар (тверда)", CheckboxID: "cb-1", PushedHash: "h1", PushedPrice: 42000})
	put(GoodRecord{Code: "KN-1-aa", OldCode: "KN-1", BASID: "p#c", Name: "Кобзар (тверда)"})
	put(GoodRecord{Code: "KN-1-bb", OldCode: "KN-1-aa", BASID: "p#c", Name: "Кобзар (тверда)"})

	if _, ok, _ := s.GoodWithCode(ctx, "KN-1"); ok {
		t.Error("the old code still has a record of its own")
	}
	for _, code := range []string{"KN-1", "KN-1-aa", "KN-1-bb"} {
		g, ok, err := s.Good(ctx, code)
		if err != nil || !ok || g.Code != "KN-1-bb" || g.BASID != "p#c" || g.CheckboxID != "cb-1" || g.PushedHash != "h1" || g.PushedPrice != 42000 {
			t.Errorf("Good(%q) = %+v, %v, %v", code, g, ok, err)
		}
	}
	if total, _, _ := s.CountGoods(ctx); total != 1 {
		t.Errorf("%d records after two renames, want 1", total)
	}
	// Renamed back: the code is a real one again, not an alias of itself.
	put(GoodRecord{Code: "KN-1", OldCode: "KN-1-bb", BASID: "p#c"})
	if g, ok, _ := s.GoodWithCode(ctx, "KN-1"); !ok || g.CheckboxID != "cb-1" {
		t.Errorf("renamed back: %+v %v", g, ok)
	}
	if g, ok, _ := s.Good(ctx, "KN-1-aa"); !ok || g.Code != "KN-1" {
		t.Errorf("an old alias follows the good back: %+v %v", g, ok)
	}
	// A rename of a code nobody has is a plain insert.
	put(GoodRecord{Code: "ST-9", OldCode: "ST-8", BASID: "q"})
	if g, ok, _ := s.GoodWithCode(ctx, "ST-9"); !ok || g.BASID != "q" {
		t.Errorf("insert: %+v %v", g, ok)
	}
}

func TestStoreGoodBySourceAndVariants(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.PutGoods(ctx, []GoodRecord{
		{Code: "A", Source: "rozetka", SourceKey: "R-1"},
		{Code: "B", Source: "prom", SourceKey: "R-1"},
		{Code: "KN-1-aa", BASID: "p#c1"},
		{Code: "KN-2", BASID: "p2"},
		{Code: "KN-3", BASID: "p"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ source, key, want string }{{"rozetka", "R-1", "A"}, {"prom", "R-1", "B"}, {"prom", "R-2", ""}, {"", "R-1", ""}} {
		g, ok, err := s.GoodBySource(ctx, tt.source, tt.key)
		if err != nil || ok != (tt.want != "") || g.Code != tt.want {
			t.Errorf("GoodBySource(%q, %q) = %q %v %v", tt.source, tt.key, g.Code, ok, err)
		}
	}
	for id, want := range map[string]bool{"p": true, "p2": false, "p#c1": false, "": false, "q": false} {
		if got, err := s.HasVariants(ctx, id); err != nil || got != want {
			t.Errorf("HasVariants(%q) = %v, %v", id, got, err)
		}
	}
}
