package exchange_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"testing"

	"obmin/checkbox/emulator"
	"obmin/store"
)

// TestIncrementalCallsDoNotGrowWithCatalogue: what an export changing k goods costs in calls depends on k,
// not on the size of the catalogue (docs/performance.md). The same changes are made to a catalogue of 600
// and of 2,400 goods, and every call each drop makes is counted by method and path: a few new prices (one
// call each), many new prices (one import file, no read of the catalogue: the ledger knows every id), goods
// sold at the till (their counts read by id, their stock set back to BAS's figure), and nothing at all.
// Counts, not times.
func TestIncrementalCallsDoNotGrowWithCatalogue(t *testing.T) {
	ids := regexp.MustCompile(`/[0-9a-f-]{36}$|/by-code/.*$`)
	var first map[string]int
	for _, n := range []int{600, 2400} {
		r := newBulkRig(t, emulator.Config{}, 0)
		books := benchBooks(n, 0)
		r.mustApply(books)
		got := map[string]int{}
		step := func(name string) {
			t.Helper()
			before := len(r.emu.Calls())
			r.mustApply(books)
			for _, c := range r.emu.Calls()[before:] {
				got[name+": "+c.Method+" "+ids.ReplaceAllString(c.Path, "/…")]++
			}
		}
		for i := range 5 {
			books[i*97].Price = "777.70"
		}
		step("5 prices")
		for i := range 150 {
			books[i*4].Price = "1.25"
		}
		step("150 prices")
		for i := range 3 {
			rc, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: books[i*31].Article, Quantity: 1000}}})
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(rc)
			// What a pull records; the stock step learns from it which goods were sold.
			if _, err := r.store.AddReceipt(context.Background(), store.ReceiptRecord{ID: rc.ID, State: store.ReceiptStatePending, Raw: raw}); err != nil {
				t.Fatal(err)
			}
		}
		step("3 goods sold")
		step("nothing changed")

		if got["150 prices: POST /api/v1/goods/import/upload"] != 1 || total(got, "150 prices") > 10 {
			t.Errorf("n=%d: 150 new prices cost %d calls, want one import file and at most 10 calls", n, total(got, "150 prices"))
		}
		if got["5 prices: PUT /api/v1/goods/…"] != 5 || total(got, "5 prices") != 5 {
			t.Errorf("n=%d: 5 new prices cost %d calls, want 5 updates", n, total(got, "5 prices"))
		}
		if total(got, "nothing changed") != 0 {
			t.Errorf("n=%d: an unchanged export made %d calls", n, total(got, "nothing changed"))
		}
		if first == nil {
			first = got
			t.Logf("calls of each drop:\n%s", describe(got))
			continue
		}
		if !maps.Equal(first, got) {
			t.Errorf("calls differ between 600 and %d goods:\n600:\n%s%d:\n%s", n, describe(first), n, describe(got))
		}
	}
}

func total(calls map[string]int, prefix string) int {
	n := 0
	for k, v := range calls {
		if len(k) > len(prefix) && k[:len(prefix)+1] == prefix+":" {
			n += v
		}
	}
	return n
}

func describe(calls map[string]int) string {
	var s string
	for _, k := range slices.Sorted(maps.Keys(calls)) {
		s += fmt.Sprintf("  %3d %s\n", calls[k], k)
	}
	return s
}
