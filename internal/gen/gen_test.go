package gen_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/shopspring/decimal"

	"obmin/commerceml"
	"obmin/internal/gen"
)

func TestEAN13(t *testing.T) {
	for _, tc := range []struct{ twelve, want string }{
		{"978030640615", "9780306406157"}, // ISBN 978-0-306-40615-7
		{"400638133393", "4006381333931"}, // GS1's worked example
		{"978966704707", "9789667047078"}, // docs/commerceml.md §2.1 sample barcode
		{"000000000000", "0000000000000"},
	} {
		if got := gen.EAN13(tc.twelve); got != tc.want {
			t.Errorf("EAN13(%s) = %s, want %s", tc.twelve, got, tc.want)
		}
	}
}

func digest(t *testing.T, write func(io.Writer, int, gen.Options) error, n int, opt gen.Options) string {
	t.Helper()
	h := sha256.New()
	if err := write(h, n, opt); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	writers := map[string]func(io.Writer, int, gen.Options) error{"catalog": gen.Catalog, "offers": gen.Offers}
	for name, write := range writers {
		for _, opt := range []gen.Options{{}, {Seed: 7, Version: "2.10"}, {Windows1251: true}} {
			a, b := digest(t, write, 500, opt), digest(t, write, 500, opt)
			if a != b {
				t.Errorf("%s %+v: two runs differ", name, opt)
			}
			other := opt
			other.Seed++
			if digest(t, write, 500, other) == a {
				t.Errorf("%s %+v: another seed gives the same bytes", name, opt)
			}
		}
	}
	// Item i does not depend on n: a bigger export starts with the same goods.
	if gen.ItemAt(3, gen.Options{Seed: 1}) != gen.ItemAt(3, gen.Options{Seed: 1}) {
		t.Error("ItemAt is not stable")
	}
}

func TestItemsAreUniqueAndValid(t *testing.T) {
	const n = 20000
	ids := make(map[string]bool, n)
	for i := range n {
		it := gen.ItemAt(i, gen.Options{})
		if ids[it.ID] {
			t.Fatalf("item %d: duplicate Ид %s", i, it.ID)
		}
		ids[it.ID] = true
		if len(it.Barcode) != 13 || gen.EAN13(it.Barcode[:12]) != it.Barcode {
			t.Fatalf("item %d: bad EAN-13 %q", i, it.Barcode)
		}
		if it.PriceKop <= 0 || it.Name == "" || it.Quantity < -1 {
			t.Fatalf("item %d: implausible %+v", i, it)
		}
	}
}

// TestReadBack reads every generated file with obmin's reader and checks each record against ItemAt.
func TestReadBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int
		opt  gen.Options
	}{
		{"empty", 0, gen.Options{}},
		{"one", 1, gen.Options{}},
		{"utf8-2.08", 300, gen.Options{Seed: 42}},
		{"utf8-2.10", 300, gen.Options{Version: "2.10"}},
		{"cp1251", 300, gen.Options{Seed: 3, Windows1251: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := gen.Catalog(&buf, tc.n, tc.opt); err != nil {
				t.Fatal(err)
			}
			if tc.opt.Windows1251 && !bytes.Contains(buf.Bytes()[:100], []byte(`encoding="windows-1251"`)) {
				t.Fatal("no windows-1251 declaration")
			}
			var goods []commerceml.Good
			sum, err := commerceml.Read(&buf, "import.xml", commerceml.Handler{Good: func(g commerceml.Good) error {
				goods = append(goods, g)
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			wantVersion := cmp(tc.opt.Version, "2.08")
			if sum.Kind != commerceml.KindCatalog || sum.Goods != tc.n || sum.Groups != len(gen.Groups) || sum.Header.SchemaVersion != wantVersion {
				t.Fatalf("summary %+v", sum)
			}
			for i, g := range goods {
				it := gen.ItemAt(i, tc.opt)
				want := commerceml.Good{
					ID: it.ID, Article: it.Article, Name: it.Name, Barcodes: []string{it.Barcode},
					Unit:    commerceml.Unit{Code: gen.UnitCode, Name: "шт", FullName: "Штука", Intl: "PCE"},
					Groups:  []string{it.GroupID},
					VATRate: it.VATRate,
					Requisites: []commerceml.Requisite{
						{Name: "ВидНоменклатуры", Value: it.Requisite},
						{Name: "ТипНоменклатуры", Value: "Товар"},
						{Name: "Полное наименование", Value: it.Name},
					},
					Line: g.Line,
				}
				if fmt.Sprint(g) != fmt.Sprint(want) {
					t.Fatalf("good %d:\n got %+v\nwant %+v", i, g, want)
				}
			}

			buf.Reset()
			if err := gen.Offers(&buf, tc.n, tc.opt); err != nil {
				t.Fatal(err)
			}
			var offers []commerceml.Offer
			sum, err = commerceml.Read(&buf, "offers.xml", commerceml.Handler{Offer: func(o commerceml.Offer) error {
				offers = append(offers, o)
				return nil
			}})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Kind != commerceml.KindOffers || sum.Offers != tc.n || sum.PriceTypes != 1 || sum.Warehouses != 1 {
				t.Fatalf("summary %+v", sum)
			}
			for i, o := range offers {
				it := gen.ItemAt(i, tc.opt)
				q := decimal.NewFromInt(int64(it.Quantity))
				if o.ID != it.ID || o.Article != it.Article || o.Name != it.Name || o.Unit.Code != gen.UnitCode {
					t.Fatalf("offer %d: %+v, want %+v", i, o, it)
				}
				if len(o.Prices) != 1 || o.Prices[0].TypeID != gen.PriceTypeID {
					t.Fatalf("offer %d: prices %+v, want one of type %s", i, o.Prices, gen.PriceTypeID)
				}
				if !o.Prices[0].PerUnit.Equal(decimal.New(it.PriceKop, -2)) || o.Prices[0].Currency != gen.Currency {
					t.Fatalf("offer %d: price %+v, want %s %s", i, o.Prices[0], it.Price(), gen.Currency)
				}
				if o.Quantity == nil || !o.Quantity.Equal(q) {
					t.Fatalf("offer %d: quantity %v, want %v", i, o.Quantity, q)
				}
				if !slices.EqualFunc(o.Stocks, []commerceml.Stock{{WarehouseID: gen.WarehouseID, Quantity: q}}, func(a, b commerceml.Stock) bool {
					return a.WarehouseID == b.WarehouseID && a.Quantity.Equal(b.Quantity)
				}) {
					t.Fatalf("offer %d: stocks %+v, want %v on %s", i, o.Stocks, q, gen.WarehouseID)
				}
			}
		})
	}
}

func cmp(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func TestNegativeN(t *testing.T) {
	if err := gen.Catalog(io.Discard, -1, gen.Options{}); err == nil {
		t.Error("Catalog(-1): no error")
	}
	if err := gen.Offers(io.Discard, -1, gen.Options{}); err == nil {
		t.Error("Offers(-1): no error")
	}
}

// TestReprice: a revision changes the price of every Reprice-th good and nothing else.
func TestReprice(t *testing.T) {
	changed := 0
	for i := range 1000 {
		a, b := gen.ItemAt(i, gen.Options{}), gen.ItemAt(i, gen.Options{Reprice: 100})
		if a.PriceKop != b.PriceKop {
			changed++
			if b.PriceKop != a.PriceKop+100 || i%100 != 0 {
				t.Errorf("item %d: price %d → %d", i, a.PriceKop, b.PriceKop)
			}
		}
		a.PriceKop = b.PriceKop
		if a != b {
			t.Errorf("item %d: more than the price changed", i)
		}
	}
	if changed != 10 {
		t.Errorf("%d of 1000 prices changed, want 10", changed)
	}
}
