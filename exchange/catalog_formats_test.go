package exchange_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"obmin/checkbox/emulator"
	"obmin/exchange"
	"obmin/internal/demo"
)

// writeDrop empties the drop folder and writes the files given, name → content.
func (r *rig) writeDrop(folder string, files map[string][]byte) string {
	r.t.Helper()
	dir := filepath.Join(r.export, folder)
	if err := os.RemoveAll(dir); err != nil {
		r.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	for name, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	return dir
}

// failedReasons returns the text of every <drop>.error.txt in failed/.
func (r *rig) failedReasons() string {
	r.t.Helper()
	files, _ := filepath.Glob(filepath.Join(r.spool.Dir("failed"), "*.error.txt"))
	var all []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			r.t.Fatal(err)
		}
		all = append(all, string(b))
	}
	return strings.Join(all, "\n")
}

func zipOf(t *testing.T, files map[string][]byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, b := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func codesIn(r *rig) map[string]bool {
	m := map[string]bool{}
	for _, g := range r.emu.Goods() {
		m[g.Code] = true
	}
	return m
}

// TestPortionsAreOneDrop: import.xml, import1.xml, offers.xml, offers1.xml (and УТ-style names told
// apart by content) are applied as one drop, catalogue before offers (docs/commerceml.md §1.5, §4.2).
func TestPortionsAreOneDrop(t *testing.T) {
	books := demo.Books[:8]
	a, b := books[:4], books[4:]
	now := time.Now()
	for name, files := range map[string]map[string][]byte{
		"numbered": {
			"import.xml": demo.Catalog(a, now), "import1.xml": demo.Catalog(b, now),
			// offers1.xml sorts before import.xml by name: the kind decides the order, not the name.
			"offers.xml": demo.Offers(a, now), "offers1.xml": demo.Offers(b, now),
			"import_files/6f/6f1c2a10.jpg": []byte("\xff\xd8\xff\xe0 not really a picture"),
		},
		"ut-package": {
			"a___1.xml": demo.Offers(books, now), "z___2.xml": demo.Catalog(books, now),
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, nil)
			r.writeDrop(demo.FolderName, files)
			r.pass()
			got := codesIn(r)
			for _, bk := range books {
				if !got[bk.Article] {
					t.Errorf("%s missing in Checkbox", bk.Article)
				}
			}
			if q, ok := r.emu.Stock("KN-0005"); !ok || q != 0 {
				t.Errorf("stock of the second portion: %d %v", q, ok)
			}
			if f := r.failedReasons(); f != "" {
				t.Errorf("failed: %s", f)
			}
		})
	}
}

// TestZippedDrop: a zip (what 1C writes when zip is on) is taken only once its central directory is
// written, then unpacked in place; pictures in import_files/ are ignored.
func TestZippedDrop(t *testing.T) {
	r := newRig(t, nil)
	now := time.Now()
	z := zipOf(t, map[string][]byte{
		"import.xml": demo.Catalog(demo.Books, now), "offers.xml": demo.Offers(demo.Books, now),
		"import_files/6f/6f1c2a10.jpg": []byte("jpeg"),
	})
	// Half-written: no central directory yet, so the drop is not complete.
	dir := r.writeDrop(demo.FolderName, map[string][]byte{"v8_2C7E_125d5b.zip": z[:len(z)/2]})
	r.passFails("waits", "архів zip не дописано")
	if n := len(r.emu.Goods()); n != 0 {
		t.Fatalf("a half-written zip was taken: %d goods", n)
	}
	if err := os.WriteFile(filepath.Join(dir, "v8_2C7E_125d5b.zip"), z, 0o644); err != nil {
		t.Fatal(err)
	}
	r.pass()
	if n := len(r.emu.Goods()); n != len(demo.Books)-1 {
		t.Fatalf("after the zip completed: %d goods, want %d (failed: %s)", n, len(demo.Books)-1, r.failedReasons())
	}
	reports, _ := filepath.Glob(filepath.Join(r.spool.Dir("done"), "*", "*", "obmin-report.txt"))
	if len(reports) != 1 {
		t.Fatalf("reports: %v", reports)
	}
	rep, _ := os.ReadFile(reports[0])
	if !strings.Contains(string(rep), "v8_2C7E_125d5b.zip") {
		t.Errorf("the report does not name the unpacked zip:\n%s", rep)
	}
}

func TestBadZipsFail(t *testing.T) {
	many := map[string][]byte{}
	for i := range 10001 {
		many[fmt.Sprintf("f%05d.txt", i)] = nil
	}
	for name, tc := range map[string]struct {
		zip  func(t *testing.T) []byte
		want string
	}{
		"escaping name":   {func(t *testing.T) []byte { return zipOf(t, map[string][]byte{"../evil.xml": []byte("<x/>")}) }, "unsafe zip entry"},
		"too many files":  {func(t *testing.T) []byte { return zipOf(t, many) }, "zip exceeds a limit"},
		"not a zip":       {func(t *testing.T) []byte { return append(zipOf(t, map[string][]byte{"a.xml": nil}), 'x') }, ""},
		"unknown content": {func(t *testing.T) []byte { return zipOf(t, map[string][]byte{"feed.xml": []byte("<html/>")}) }, "obmin reads CommerceML 2.x"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, nil)
			r.writeDrop("webdata - zip", map[string][]byte{"data.zip": tc.zip(t)})
			_ = r.agent.Once(context.Background(), 5*time.Millisecond) // fails or not: see below
			reason := r.failedReasons()
			if tc.want == "" {
				// Trailing garbage: archive/zip still finds the directory; whatever happens, nothing is half-done.
				t.Logf("reason: %q", reason)
				return
			}
			if !strings.Contains(reason, tc.want) {
				t.Fatalf("failed/ says %q, want %q", reason, tc.want)
			}
			if len(r.emu.Goods()) != 0 {
				t.Error("a refused zip reached Checkbox")
			}
		})
	}
}

// TestRefusedFormats: files obmin cannot read fail the drop with what the file is and what obmin reads.
func TestRefusedFormats(t *testing.T) {
	for name, tc := range map[string]struct{ body, want string }{
		"html":         {"<html><body>export</body></html>", "root element is <html>"},
		"commerceml 3": {`<?xml version="1.0"?><КоммерческаяИнформация ВерсияСхемы="3.1"><Контейнер/></КоммерческаяИнформация>`, "CommerceML 3.x is not supported"},
	} {
		t.Run(name, func(t *testing.T) {
			r := newRig(t, nil)
			r.writeDrop("webdata - x", map[string][]byte{"import.xml": []byte(tc.body)})
			r.passFails("failed", "import.xml")
			reason := r.failedReasons()
			if !strings.Contains(reason, tc.want) || !strings.Contains(reason, "obmin reads CommerceML 2.x") || !strings.Contains(reason, "import.xml") {
				t.Fatalf("failed/ says %q", reason)
			}
		})
	}
}

// TestMissingGoods: a full package without a good Checkbox has: leave it, hide it (stock 0) or delete it.
// A package of changes only never counts as "gone".
func TestMissingGoods(t *testing.T) {
	all := demo.Books[:6]
	short := append(append([]demo.Book(nil), all[:2]...), all[3:]...) // KN-0003 is gone
	for _, policy := range []exchange.MissingPolicy{exchange.MissingLeave, exchange.MissingHide, exchange.MissingDelete} {
		t.Run(string(policy), func(t *testing.T) {
			r := newRig(t, nil)
			r.agent.Catalog.Missing = policy
			r.drop(all, time.Now())
			r.pass()
			// Changes only: KN-0003 is merely not mentioned.
			now := time.Now()
			cat := bytes.Replace(demo.Catalog(short, now), []byte(`СодержитТолькоИзменения="false"`), []byte(`СодержитТолькоИзменения="true"`), 1)
			r.writeDrop(demo.FolderName, map[string][]byte{"import.xml": cat, "offers.xml": demo.Offers(short, now)})
			r.pass()
			if q, ok := r.emu.Stock("KN-0003"); !ok || q != 4000 {
				t.Fatalf("a changes-only package touched KN-0003: stock %d, exists %v", q, ok)
			}
			r.drop(short, time.Now().Add(time.Minute))
			r.pass()
			q, exists := r.emu.Stock("KN-0003")
			switch policy {
			case exchange.MissingLeave:
				if !exists || q != 4000 {
					t.Errorf("leave: stock %d exists %v", q, exists)
				}
			case exchange.MissingHide:
				if !exists || q != 0 {
					t.Errorf("hide: stock %d exists %v; want 0", q, exists)
				}
			case exchange.MissingDelete:
				if exists {
					t.Error("delete: KN-0003 is still in Checkbox")
				}
			}
			for _, b := range short {
				if _, ok := r.emu.GoodByCode(b.Article); !ok {
					t.Errorf("%s was removed too", b.Article)
				}
			}
			reports, _ := filepath.Glob(filepath.Join(r.spool.Dir("done"), "*", "*", "obmin-report.txt"))
			found := false
			for _, p := range reports {
				b, _ := os.ReadFile(p)
				found = found || strings.Contains(string(b), "KN-0003 «Сергій Жадан. Інтернат»")
			}
			if !found {
				t.Error("no report lists KN-0003 as missing")
			}
			// It comes back: it is in Checkbox again with its stock.
			r.drop(all, time.Now().Add(2*time.Minute))
			r.pass()
			if q, ok := r.emu.Stock("KN-0003"); !ok || q != 4000 {
				t.Errorf("back again: stock %d exists %v", q, ok)
			}
		})
	}
}

const testFeed = `<?xml version="1.0" encoding="UTF-8"?>
<yml_catalog date="2026-03-01 10:00">
<shop><name>Книгарня</name><currencies><currency id="UAH" rate="1"/></currencies>
<offers>
<offer id="R-1" available="true"><price>120.00</price><currencyId>UAH</currencyId><name>Абетка</name><name_ua>Абетка українська</name_ua><vendorCode>FD-0001</vendorCode><barcode>4820000009997</barcode><stock_quantity>3</stock_quantity></offer>
<offer id="R-2" available="false"><price>80</price><currencyId>UAH</currencyId><name>Буквар</name><vendorCode>FD-0002</vendorCode></offer>
<offer id="R-3" available="true"><price>15</price><currencyId>USD</currencyId><name>Глобус</name><vendorCode>FD-0003</vendorCode></offer>
<offer id="R-4" available="true"><price>99</price><name>Без артикула</name></offer>
</offers></shop></yml_catalog>
`

// TestFeedDrop: a marketplace feed becomes Checkbox goods; its goods have no BAS Ид, so a sale of one is
// held until BAS exports the good.
func TestFeedDrop(t *testing.T) {
	r := newRig(t, nil)
	r.writeDrop("feeds", map[string][]byte{"rozetka.xml": []byte(testFeed)})
	r.pass()
	g, ok := r.emu.GoodByCode("FD-0001")
	if !ok || g.Name != "Абетка українська" || g.Price != 12000 || g.Barcode != "4820000009997" {
		t.Fatalf("feed good: %+v %v (failed: %s)", g, ok, r.failedReasons())
	}
	if q, _ := r.emu.Stock("FD-0001"); q != 3000 {
		t.Errorf("stock_quantity 3: %d", q)
	}
	if q, ok := r.emu.Stock("FD-0002"); !ok || q != 0 {
		t.Errorf("available=false without a quantity is stock 0: %d %v", q, ok)
	}
	if _, ok := r.emu.GoodByCode("FD-0003"); ok {
		t.Error("a price in USD reached Checkbox")
	}
	if len(r.emu.Goods()) != 2 {
		t.Errorf("%d goods in Checkbox, want 2", len(r.emu.Goods()))
	}
	reports, _ := filepath.Glob(filepath.Join(r.spool.Dir("done"), "*", "*", "obmin-report.txt"))
	if len(reports) != 1 {
		t.Fatalf("reports: %v", reports)
	}
	if rep, _ := os.ReadFile(reports[0]); !strings.Contains(string(rep), "Файл rozetka.xml: фід маркетплейсу rozetka (yml), пропозицій 4") {
		t.Errorf("the report does not describe the feed:\n%s", rep)
	}

	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "FD-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	if docs := r.ordersFile(); len(docs) != 0 {
		t.Fatalf("a sale of a feed-only good reached BAS's orders file: %+v", docs)
	}
	held, _ := filepath.Glob(filepath.Join(filepath.Dir(r.orders), "..", "spool", "held", "*.txt"))
	if len(held) != 1 {
		t.Fatalf("held: %v", held)
	}

	// code_field id: the offer id is the code.
	r2 := newRig(t, func(m *exchange.Mapping, _ *exchange.SalesConfig) { m.CodeField = exchange.CodeFromID })
	r2.writeDrop("feeds", map[string][]byte{"prom.xml": []byte(testFeed)})
	r2.pass()
	if _, ok := r2.emu.GoodByCode("R-4"); !ok {
		t.Errorf("code_field id: R-4 missing; goods %v", codesIn(r2))
	}
}

// TestFeedKeepsBASIdentity: a feed naming a good BAS exported does not take its BAS Ид away, so its
// sales still reach BAS.
func TestFeedKeepsBASIdentity(t *testing.T) {
	r := newRig(t, nil)
	r.drop(demo.Books[:3], time.Now())
	r.pass()
	f := strings.Replace(testFeed, "FD-0001", "KN-0001", 1)
	r.writeDrop("feeds", map[string][]byte{"rozetka.xml": []byte(f)})
	r.pass()
	if _, err := r.emu.Sell(emulator.Sale{Lines: []emulator.SaleLine{{Code: "KN-0001", Quantity: 1000}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.agent.PullReceipts(context.Background()); err != nil {
		t.Fatal(err)
	}
	docs := r.ordersFile()
	if len(docs) != 1 || docs[0].Lines[0].ID != demo.Books[0].ID {
		t.Fatalf("sale of a BAS good named by a feed: %+v", docs)
	}
}
