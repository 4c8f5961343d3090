package exchange

import (
	"context"
	"testing"
	"time"

	"obmin/checkbox"
)

func TestSpread(t *testing.T) {
	tests := []struct {
		name  string
		sums  []int64
		total int64
	}{
		{"no difference", []int64{100, 200}, 300},
		{"discount in proportion", []int64{18550, 26700}, 43517},
		{"a kopeck to share", []int64{100, 100, 100}, 299},
		{"extra charge", []int64{1000, 3000}, 4100},
		{"a free line keeps 0", []int64{0, 500}, 400},
		{"everything off", []int64{333, 667}, 0},
		{"lines of nothing", []int64{0, 0}, 150},
		{"one line", []int64{9999}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := spread(tt.sums, tt.total)
			var sum int64
			for i, v := range got {
				sum += v
				if v < 0 {
					t.Errorf("line %d went negative: %d", i, v)
				}
			}
			if sum != tt.total {
				t.Errorf("spread(%v, %d) = %v, adds up to %d", tt.sums, tt.total, got, sum)
			}
		})
	}
}

func TestOrderNumbers(t *testing.T) {
	for _, tt := range []struct {
		prefix string
		year   int
		n      int
		want   string
	}{
		{"CB-", 2026, 123, "CB-MMXXVI-000123"},
		{"CB-", 2027, 999999, "CB-MMXXVII-999999"},
		{"Каса-", 2039, 1, "Каса-MMXXXIX-000001"},
		{"", 2025, 7, "MMXXV-000007"},
	} {
		got := FormatOrderNumber(tt.prefix, tt.year, tt.n)
		if got != tt.want {
			t.Errorf("FormatOrderNumber(%q, %d, %d) = %q, want %q", tt.prefix, tt.year, tt.n, got, tt.want)
		}
		y, n, ok := ParseOrderNumber(got)
		if !ok || y != tt.year || n != tt.n {
			t.Errorf("ParseOrderNumber(%q) = %d, %d, %v", got, y, n, ok)
		}
	}
	for _, bad := range []string{"CB-8451460123", "CB-000123", "CB-MMXXVI-00012", "CB-IIII-000001", "CB-MMXXVI-0001x3", ""} {
		if _, _, ok := ParseOrderNumber(bad); ok {
			t.Errorf("ParseOrderNumber(%q) accepted it", bad)
		}
	}
	for _, p := range []string{"CB-", "ЧК/", "", "obmin "} {
		if err := CheckNumberPrefix(p); err != nil {
			t.Errorf("prefix %q refused: %v", p, err)
		}
	}
	for _, p := range []string{"K1-", "CBV", "TOOLONGPREFIXFORBAS-X-"} {
		if err := CheckNumberPrefix(p); err == nil {
			t.Errorf("prefix %q accepted", p)
		}
	}
}

func TestVATRate(t *testing.T) {
	s := &Sales{Cfg: SalesConfig{VATCodes: map[int]string{1: "20", 8: ""}}}
	for _, tt := range []struct {
		name  string
		taxes []checkbox.LineTax
		want  string
	}{
		{"mapped 20", []checkbox.LineTax{{Code: 1, Rate: 20}}, "20"},
		{"mapped no VAT", []checkbox.LineTax{{Code: 8, Rate: 0}}, ""},
		{"unmapped 7", []checkbox.LineTax{{Code: 2, Rate: 7, Label: "ПДВ 7%"}}, "7"},
		{"unmapped no VAT", []checkbox.LineTax{{Code: 9, Rate: 0, NoVAT: true}}, ""},
		{"excise beside VAT", []checkbox.LineTax{{Code: 5, Rate: 5, Label: "Акциз 5%"}, {Code: 1, Rate: 20}}, "20"},
		{"excise alone", []checkbox.LineTax{{Code: 5, Rate: 5, Label: "Акцизний податок"}}, ""},
		{"a rate BAS cannot take", []checkbox.LineTax{{Code: 3, Rate: 14}}, ""},
		{"none", nil, ""},
	} {
		if got := s.vatRate(tt.taxes); got != tt.want {
			t.Errorf("%s: vatRate = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestNumbersUse(t *testing.T) {
	use := func(taken int, at time.Time) NumberUse {
		t.Helper()
		st := numbersStore{taken: taken}
		s := &Sales{Store: st, Cfg: SalesConfig{NumberFirst: 1, NumberLast: 100000}}
		u, err := s.NumbersUse(t.Context(), at)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	mid := time.Date(2026, 7, 2, 12, 0, 0, 0, kyiv) // half of the year gone
	if u := use(30000, mid); u.Short || u.Used != 30000 || u.Projected < 59000 || u.Projected > 61000 {
		t.Errorf("a third used by July: %+v", u)
	}
	if u := use(46000, mid); !u.Short {
		t.Errorf("on pace to use 92%% by December: %+v", u)
	}
	if u := use(95000, mid); !u.Short {
		t.Errorf("95%% used: %+v", u)
	}
	if u := use(10, time.Date(2026, 1, 1, 6, 0, 0, 0, kyiv)); u.Short || u.Projected != 10 {
		t.Errorf("on New Year's morning no projection: %+v", u)
	}
}

// numbersStore answers OrderNumbersTaken only.
type numbersStore struct {
	SalesStore
	taken int
}

func (s numbersStore) OrderNumbersTaken(context.Context, int) (int, error) {
	return s.taken, nil
}
