package exchange_test

import (
	"strings"
	"testing"
	"time"

	"obmin/exchange"
	"obmin/internal/demo"
)

// rozetkaFeed is a Rozetka feed a seller's marketplace module writes beside BAS's export: one row for a
// good BAS exports (another price, another name), a good of its own, a T-shirt in two sizes sharing one
// vendorCode, and an offer id given twice.
const rozetkaFeed = `<?xml version="1.0" encoding="UTF-8"?>
<yml_catalog date="2026-03-01 10:00">
<shop><name>Книгарня</name><currencies><currency id="UAH" rate="1"/></currencies>
<offers>
<offer id="R-1" available="true"><price>389.00</price><currencyId>UAH</currencyId><name>Кобзар (Rozetka)</name><vendorCode>KN-0001</vendorCode><stock_quantity>2</stock_quantity></offer>
<offer id="R-2" available="true"><price>120.00</price><currencyId>UAH</currencyId><name>Абетка</name><vendorCode>FD-0001</vendorCode><barcode>4820000009997</barcode><stock_quantity>3</stock_quantity></offer>
<offer id="R-3" group_id="77" available="true"><price>350</price><currencyId>UAH</currencyId><name>Футболка «Абетка»</name><vendorCode>TS-01</vendorCode><param name="Розмір">S</param><stock_quantity>4</stock_quantity></offer>
<offer id="R-4" group_id="77" available="true"><price>370</price><currencyId>UAH</currencyId><name>Футболка «Абетка»</name><vendorCode>TS-01</vendorCode><param name="Розмір">M</param><stock_quantity>5</stock_quantity></offer>
<offer id="R-2" available="true"><price>125.00</price><currencyId>UAH</currencyId><name>Абетка (дубль)</name><vendorCode>FD-0002</vendorCode></offer>
<offer id="R-5" available="true"><price>90</price><currencyId>UAH</currencyId><name>Листівка</name><vendorCode>FD-0001</vendorCode></offer>
</offers></shop></yml_catalog>
`

// promFeed is a Prom feed without vendorCode: its code is the offer id (mapping.feeds code_field id).
const promFeed = `<?xml version="1.0" encoding="UTF-8"?>
<yml_catalog date="2026-03-01 10:00">
<shop><name>Книгарня на Prom</name>
<offers>
<offer id="P-1" available="true"><price>55</price><currencyId>UAH</currencyId><name>Закладка</name><quantity_in_stock>7</quantity_in_stock></offer>
<offer id="P-2" available="true"><price>65</price><currencyId>UAH</currencyId><name>Закладка велика</name><quantity_in_stock>1</quantity_in_stock></offer>
%s
</offers></shop></yml_catalog>
`

const promP3 = `<offer id="P-3" available="true"><price>75</price><currencyId>UAH</currencyId><name>Закладка шкіряна</name></offer>`

// TestTwoFeedsBesideBAS: a Rozetka and a Prom feed beside BAS's export. BAS wins for its codes (the feed
// row is reported, never sent: no price flip-flop); sizes sharing a vendorCode become goods of their own;
// a repeated offer id and a shared code are reported with their lines; each feed has its own code field;
// mapping.missing deletes only the goods of the feed that no longer lists them.
func TestTwoFeedsBesideBAS(t *testing.T) {
	r := newRig(t, func(m *exchange.Mapping, _ *exchange.SalesConfig) {
		m.Feeds = []exchange.FeedSource{{Files: "prom*.xml", CodeField: exchange.CodeFromID}}
	})
	r.agent.Catalog.Missing = exchange.MissingDelete
	books := demo.Books[:3]
	r.drop(books, time.Now())
	r.pass()
	feeds := func(p3 string) {
		r.writeDrop("marketplaces", map[string][]byte{
			"rozetka.xml": []byte(rozetkaFeed), "prom.xml": []byte(strings.Replace(promFeed, "%s", p3, 1)),
		})
	}
	feeds(promP3)
	r.pass()
	// The other order, a feed before BAS's first export, is the same in the end: BAS's export takes the
	// good over, and from then on the feed's row is reported.

	kobzar, _ := r.emu.GoodByCode("KN-0001")
	if kobzar.Price != 42000 || kobzar.Name != books[0].Name {
		t.Errorf("a feed changed BAS's good: %+v", kobzar)
	}
	rep, text := r.lastReport()
	if len(rep.FeedBehindBAS) != 1 || !strings.Contains(rep.FeedBehindBAS[0], "R-1") || !strings.Contains(rep.FeedBehindBAS[0], "rozetka.xml, рядок 5") {
		t.Errorf("the feed row for BAS's good is not reported: %q", rep.FeedBehindBAS)
	}
	byName := goodsByName(r)
	s, m := byName["Футболка «Абетка» (S)"], byName["Футболка «Абетка» (M)"]
	if !strings.HasPrefix(s.Code, "TS-01-") || !strings.HasPrefix(m.Code, "TS-01-") || s.Code == m.Code || s.Price != 35000 || m.Price != 37000 {
		t.Errorf("sizes sharing a vendorCode: %+v / %+v (goods %v)", s, m, codesIn(r))
	}
	if g, _ := r.emu.GoodByCode("FD-0001"); g.Name != "Абетка" || g.Price != 12000 {
		t.Errorf("FD-0001: %+v; the first row keeps it", g)
	}
	for _, want := range []string{"R-2 «Абетка (дубль)» (rozetka.xml, рядок 9): той самий id, що в рядку 6", "R-5 «Листівка» (rozetka.xml, рядок 10): код \"FD-0001\" має й рядок 6"} {
		if !strings.Contains(text, want) {
			t.Errorf("report does not say %q:\n%s", want, text)
		}
	}
	for _, code := range []string{"P-1", "P-2", "P-3"} {
		if _, ok := r.emu.GoodByCode(code); !ok {
			t.Errorf("Prom's %s (code_field id) is not in Checkbox: %v", code, codesIn(r))
		}
	}
	if _, ok := r.emu.GoodByCode("KN-0002"); !ok {
		t.Error("BAS's goods keep the Артикул: the Prom feed's code field is its own")
	}

	// BAS exports again, the feeds come again: nothing flips back and forth.
	before := r.goodsWrites()
	r.drop(books, time.Now().Add(time.Minute))
	r.pass()
	feeds(promP3 + " ")
	r.pass()
	if n := r.goodsWrites() - before; n != 0 {
		t.Errorf("BAS's export and the feeds again: %d writes, want 0", n)
	}

	// Prom no longer lists P-3: with missing: delete only P-3 goes, never Rozetka's or BAS's goods.
	r.writeDrop("marketplaces", map[string][]byte{"prom.xml": []byte(strings.Replace(promFeed, "%s", "", 1))})
	r.pass()
	if _, ok := r.emu.GoodByCode("P-3"); ok {
		t.Error("P-3, gone from Prom's feed, is still in Checkbox")
	}
	for _, code := range []string{"FD-0001", s.Code, m.Code, "KN-0001", "KN-0002", "P-1"} {
		if _, ok := r.emu.GoodByCode(code); !ok {
			t.Errorf("%s was deleted by another source's full package", code)
		}
	}
}

// TestEmptyFeedRefused: a <yml_catalog> with no shop and no offers is refused with the reason, never
// applied as "sells nothing".
func TestEmptyFeedRefused(t *testing.T) {
	r := newRig(t, nil)
	r.writeDrop("marketplaces", map[string][]byte{"epicentr.xml": []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<yml_catalog date="2026-03-01 10:00"></yml_catalog>`)})
	r.passFails("the feed has no offers")
	if reason := r.failedReasons(); !strings.Contains(reason, "epicentr.xml:2") || !strings.Contains(reason, "the feed has no offers: neither <shop> nor <offers>") {
		t.Fatalf("failed/ says %q", reason)
	}
}

// TestReportsSameEitherPath: the same drops give the same counts whether the goods went one call each or
// through the goods import file: created, updated, unchanged, held, stock sent.
func TestReportsSameEitherPath(t *testing.T) {
	counts := func(rep exchange.DropReport) [5]int {
		return [5]int{rep.Created, rep.Updated, rep.Unchanged, rep.Held, rep.StockSent}
	}
	run := func(threshold int) [][5]int {
		r := newRig(t, nil)
		r.agent.Catalog.BulkThreshold = threshold
		books := append(append([]demo.Book(nil), demo.Books...), demo.Editions...)
		var out [][5]int
		for i, change := range []func([]demo.Book){
			func([]demo.Book) {},
			func(b []demo.Book) {
				b[0].Price, b[1].Stock, b[2].Name = "421.00", "8", "Інтернат (нове видання)"
			},
			func([]demo.Book) {},
		} {
			change(books)
			r.drop(books, time.Now().Add(time.Duration(i)*time.Minute))
			r.pass()
			rep, _ := r.lastReport()
			out = append(out, counts(rep))
		}
		return out
	}
	single, bulk := run(0), run(1)
	for i := range single {
		if single[i] != bulk[i] {
			t.Errorf("drop %d: one call each %v, import file %v (created, updated, unchanged, held, stock)", i+1, single[i], bulk[i])
		}
	}
	if want := [5]int{14, 0, 0, 1, 14}; single[0] != want {
		t.Errorf("first sync %v, want %v", single[0], want)
	}
}
