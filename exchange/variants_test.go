package exchange_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"obmin/checkbox"
	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
)

// lastReport reads the report of the newest drop in done/.
func (r *rig) lastReport() (exchange.DropReport, string) {
	r.t.Helper()
	files, _ := filepath.Glob(filepath.Join(r.spool.Dir("done"), "*", "*", "obmin-report.json"))
	if len(files) == 0 {
		r.t.Fatalf("no report in done/ (failed: %s)", r.failedReasons())
	}
	slices.Sort(files)
	newest, newestAt := files[0], time.Time{}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.ModTime().After(newestAt) {
			newest, newestAt = f, fi.ModTime()
		}
	}
	b, err := os.ReadFile(newest)
	if err != nil {
		r.t.Fatal(err)
	}
	var rep exchange.DropReport
	if err := json.Unmarshal(b, &rep); err != nil {
		r.t.Fatal(err)
	}
	text, _ := os.ReadFile(filepath.Join(filepath.Dir(newest), "obmin-report.txt"))
	return rep, string(text)
}

func goodsByName(r *rig) map[string]checkbox.Good {
	m := map[string]checkbox.Good{}
	for _, g := range r.emu.Goods() {
		m[g.Name] = g
	}
	return m
}

var variantCodeRe = regexp.MustCompile(`^(KN-0100|MR-0007)-[0-9A-F]{8}$`)

// TestVariantsAreGoods: an export shaped like 1C:УНФ's (the catalogue lists the good once, offers.xml has
// one priced offer per characteristic sharing the good's Артикул) gives one Checkbox good per
// characteristic, with a code of its own, a name a cashier can read, its own barcode, price and stock.
// The good itself, which has no price, is not sent and not reported as unpriced.
func TestVariantsAreGoods(t *testing.T) {
	r := newRig(t, nil)
	plain := demo.Books[:2]
	plain[1].Barcode, plain[1].BarcodeRequisite = "", []string{" 9789660305670 ", "9789660305670", "КН-0002", "9789660305671"}
	r.drop(append(append([]demo.Book(nil), plain...), demo.Editions...), time.Now())
	r.pass()

	if n := len(r.emu.Goods()); n != 2+5 {
		t.Fatalf("Checkbox holds %d goods, want 2 plain + 5 characteristics: %v", n, codesIn(r))
	}
	byName := goodsByName(r)
	for _, want := range []struct {
		name, barcode string
		price, stock  int64
	}{
		{"Іван Котляревський. Енеїда (тверда)", "9786170000026", 39900, 5000},
		{"Іван Котляревський. Енеїда (м'яка)", "9786170000033", 25900, 11000},
		{"Футболка «Кобзар» (S)", "", 45000, 2000},
		{"Футболка «Кобзар» (M)", "4820000000123", 45000, 3000},
		{"Футболка «Кобзар» (XL)", "4820000000130", 48000, 1000},
	} {
		g, ok := byName[want.name]
		if !ok {
			t.Errorf("no good named %q in %v", want.name, slices.Collect(mapsKeys(byName)))
			continue
		}
		if !variantCodeRe.MatchString(g.Code) || g.Barcode != want.barcode || g.Price != want.price {
			t.Errorf("%s: code %q barcode %q price %d; want Артикул-XXXXXXXX, %q, %d", want.name, g.Code, g.Barcode, g.Price, want.barcode, want.price)
		}
		if q, _ := r.emu.Stock(g.Code); q != want.stock {
			t.Errorf("%s: stock %d, want %d", want.name, q, want.stock)
		}
	}
	// The suffix comes from the characteristic's GUID only: stable across exports and obmin versions.
	if g := byName["Іван Котляревський. Енеїда (тверда)"]; g.Code != "KN-0100-000A23EA" {
		t.Errorf("code of the hard-cover Енеїда %q, want KN-0100-000A23EA", g.Code)
	}
	// Barcodes only in the «Штрихкод» requisite: trimmed, repeats and invalid ones dropped.
	if g, ok := r.emu.GoodByCode(plain[1].Article); !ok || g.Barcode != "9789660305670" || g.RelatedBarcodes != "" {
		t.Errorf("barcode from the requisite: %+v", g)
	}

	rep, text := r.lastReport()
	if len(rep.Variants) != 2 || len(rep.NoPrice) != 0 || len(rep.Refused) != 0 || len(rep.Rejected) != 0 {
		t.Errorf("report: variants %q, no price %q, refused %q, rejected %q", rep.Variants, rep.NoPrice, rep.Refused, rep.Rejected)
	}
	if len(rep.BadBarcodes) != 2 || !strings.Contains(text, "хибна контрольна цифра EAN-13") || !strings.Contains(text, "КН-0002") {
		t.Errorf("bad barcodes %q\n%s", rep.BadBarcodes, text)
	}
	if rep.Created != 7 || rep.StockSent != 7 || rep.Held != 0 {
		t.Errorf("counts: created %d, stock %d, held %d", rep.Created, rep.StockSent, rep.Held)
	}

	// A sale of a characteristic goes back to BAS with productGUID#characteristicGUID and the Артикул.
	soft := byName["Іван Котляревський. Енеїда (м'яка)"]
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: soft.Code, Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	docs := r.ordersFile()
	want := demo.Editions[0].ID + "#" + demo.Editions[0].Variants[1].CharID
	if len(docs) != 1 || len(docs[0].Lines) != 1 || docs[0].Lines[0].ID != want || docs[0].Lines[0].Article != "KN-0100" {
		t.Fatalf("order line of a characteristic: %+v; want Ид %s, Артикул KN-0100", docs, want)
	}

	// The same export again changes nothing.
	before := r.goodsWrites()
	r.drop(append(append([]demo.Book(nil), plain...), demo.Editions...), time.Now().Add(time.Minute))
	r.pass()
	if n := r.goodsWrites() - before; n != 0 {
		t.Errorf("an identical export sent %d writes", n)
	}
}

func mapsKeys(m map[string]checkbox.Good) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// TestCodeChangesInPlace: switching the variant code scheme, or a new Артикул in BAS, changes each good's
// code in Checkbox in place (same Checkbox good, nothing duplicated, also when the drop goes through the
// goods import file); a receipt made under the old code still reaches BAS with the good's Ид.
func TestCodeChangesInPlace(t *testing.T) {
	r := newRig(t, func(m *exchange.Mapping, _ *exchange.SalesConfig) { m.VariantCode = exchange.VariantID })
	r.agent.Catalog.BulkThreshold = 1 // the drop would go through the import file: renamed goods must not
	books := append(append([]demo.Book(nil), demo.Books[:3]...), demo.Editions...)
	r.drop(books, time.Now())
	r.pass()
	ids := map[string]string{} // Checkbox id → code
	for _, g := range r.emu.Goods() {
		ids[g.ID] = g.Code
	}
	hard := demo.Editions[0].ID + "#" + demo.Editions[0].Variants[0].CharID
	if _, ok := r.emu.GoodByCode(hard); !ok || len(ids) != 8 {
		t.Fatalf("variant_code id: codes %v", codesIn(r))
	}
	// Sold under the old code, pulled after the switch.
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: hard, Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}

	r.agent.Catalog.Mapping.VariantCode = exchange.VariantArticleSuffix
	books[0].Article = "KN-0001-N" // and a new Артикул in BAS
	r.drop(books, time.Now().Add(time.Minute))
	r.pass()
	goods := r.emu.Goods()
	if len(goods) != 8 {
		t.Fatalf("after the switch Checkbox holds %d goods, want 8: %v", len(goods), codesIn(r))
	}
	for _, g := range goods {
		old, ok := ids[g.ID]
		if !ok {
			t.Errorf("%s is a new Checkbox good; it should be %s changed in place", g.Code, "an old one")
			continue
		}
		if strings.Contains(old, "#") && !variantCodeRe.MatchString(g.Code) {
			t.Errorf("%s became %s, want Артикул-XXXXXXXX", old, g.Code)
		}
	}
	if _, ok := r.emu.GoodByCode("KN-0001-N"); !ok {
		t.Errorf("the new Артикул is not the code: %v", codesIn(r))
	}
	if rep, _ := r.lastReport(); rep.Updated != 6 || rep.Created != 0 {
		t.Errorf("after the switch: created %d, updated %d; want 0, 6 (5 characteristics, 1 Артикул)", rep.Created, rep.Updated)
	}
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	docs := r.ordersFile()
	if len(docs) != 1 || docs[0].Lines[0].ID != hard {
		t.Fatalf("a sale under the old code: %+v; want the line's Ид %s", docs, hard)
	}
}

// TestVariantsOffersOnly: BAS's "prices and stock only" export (offers.xml alone) updates the
// characteristics it names, by their codes, without touching names, barcodes or the number of goods.
func TestVariantsOffersOnly(t *testing.T) {
	r := newRig(t, nil)
	eds := append([]demo.Book(nil), demo.Editions...)
	r.drop(eds, time.Now())
	r.pass()
	before := goodsByName(r)
	eds[0].Variants = append([]demo.Variant(nil), eds[0].Variants...)
	eds[0].Variants[0].Price = "419.00"
	r.writeDrop(demo.FolderName, map[string][]byte{"offers.xml": demo.Offers(eds, time.Now())})
	r.pass()
	after := goodsByName(r)
	if len(after) != len(before) {
		t.Fatalf("%d goods after an offers-only export, %d before", len(after), len(before))
	}
	for name, g := range after {
		b := before[name]
		if g.ID != b.ID || g.Code != b.Code || g.Barcode != b.Barcode {
			t.Errorf("%s changed: %+v, was %+v", name, g, b)
		}
	}
	if g := after["Іван Котляревський. Енеїда (тверда)"]; g.Price != 41900 {
		t.Errorf("new price %d, want 41900", g.Price)
	}
}
