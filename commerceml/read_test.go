package commerceml

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	_ "time/tzdata" // document times are Europe/Kyiv; make the tests independent of the host's zone files

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"

	"obmin/internal/golden"
)

// readTranscript is what a golden file holds: every record in file order, then the summary and
// the error, if any.
type readTranscript struct {
	Records []map[string]any `json:"records"`
	Summary Summary          `json:"summary"`
	Error   string           `json:"error,omitempty"`
}

// readRecording returns a Handler appending every record, tagged with its kind, to *recs.
func readRecording(recs *[]map[string]any) Handler {
	add := func(kind string, v any) error {
		*recs = append(*recs, map[string]any{kind: v})
		return nil
	}
	return Handler{
		Header:    func(v Header) error { return add("header", v) },
		Group:     func(v Group) error { return add("group", v) },
		PriceType: func(v PriceType) error { return add("price_type", v) },
		Warehouse: func(v Warehouse) error { return add("warehouse", v) },
		Good:      func(v Good) error { return add("good", v) },
		Offer:     func(v Offer) error { return add("offer", v) },
		Document:  func(v Document) error { return add("document", v) },
	}
}

func readTranscribe(data []byte, name string) readTranscript {
	tr := readTranscript{Records: []map[string]any{}}
	sum, err := Read(bytes.NewReader(data), name, readRecording(&tr.Records))
	tr.Summary = sum
	if err != nil {
		tr.Error = err.Error()
	}
	return tr
}

// TestReadGolden reads every testdata/read/*.xml and compares all it yields with <name>.golden.json.
// Run with -update to rewrite the golden files after a deliberate change, and review the diff.
func TestReadGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "read", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no inputs: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep <Цена> readable in the golden files
			enc.SetIndent("", "  ")
			if err := enc.Encode(readTranscribe(data, name)); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden.Assert(t, strings.TrimSuffix(path, ".xml")+".golden.json", got)
		})
	}
}

// TestReadFiles states the facts the golden files encode, so a careless -update cannot hide a
// regression in them.
func TestReadFiles(t *testing.T) {
	tests := []struct {
		file        string
		kind        Kind
		onlyChanges bool
		sum         Summary // only the counters are compared
		wantErr     error   // a sentinel, or nil
		sniffKind   Kind
		sniffErr    error
	}{
		{file: "catalog-unf.xml", kind: KindCatalog, sum: Summary{Groups: 5, PriceTypes: 1, Warehouses: 1, Goods: 5}, sniffKind: KindCatalog},
		{file: "catalog-cp1251.xml", kind: KindCatalog, onlyChanges: true, sum: Summary{Groups: 1, Goods: 1}, sniffKind: KindCatalog},
		{file: "reordered-unknown.xml", kind: KindCatalog, sum: Summary{Groups: 2, Goods: 2}, sniffKind: KindCatalog},
		{file: "offers-stock-shapes.xml", kind: KindOffers, sum: Summary{PriceTypes: 2, Warehouses: 2, Offers: 7}, sniffKind: KindOffers},
		{file: "prices-only.xml", kind: KindPrices, onlyChanges: true, sum: Summary{Offers: 2}, sniffKind: KindPrices},
		{file: "rests-only.xml", kind: KindRests, onlyChanges: true, sum: Summary{Offers: 2}, sniffKind: KindRests},
		{file: "changes-package.xml", kind: KindOffers, onlyChanges: true, sum: Summary{Offers: 1}, sniffKind: KindOffers},
		{file: "orders-unf.xml", kind: KindDocuments, sum: Summary{Documents: 3}, sniffKind: KindDocuments},
		{file: "catalog-barcode-requisites.xml", kind: KindCatalog, sum: Summary{Goods: 3}, sniffKind: KindCatalog},
		// A comment after the root element: a whole document.
		{file: "offers-variants.xml", kind: KindOffers, sum: Summary{PriceTypes: 1, Offers: 2}, sniffKind: KindOffers},
		{file: "empty-root.xml", kind: KindUnknown, sniffKind: KindUnknown},
		// Sniff decides at <Каталог> and never sees the cut; Read must.
		{file: "truncated.xml", wantErr: ErrTruncated, sum: Summary{Goods: 1}, sniffKind: KindCatalog},
		{file: "bad-decimal.xml", wantErr: errNotDecimal, sum: Summary{Offers: 1}, sniffKind: KindPrices},
		{file: "yml-feed.xml", wantErr: ErrNotCommerceML, sniffErr: ErrNotCommerceML},
		{file: "version-31.xml", wantErr: ErrUnsupportedVersion, sniffErr: ErrUnsupportedVersion},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "read", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			sum, err := Read(bytes.NewReader(data), tt.file, Handler{})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Read error = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil {
				var pe *ParseError
				if !errors.As(err, &pe) || pe.File != tt.file || pe.Line == 0 || pe.Element == "" {
					t.Errorf("Read error %#v: want a *ParseError naming file, line and element", err)
				}
			} else {
				if sum.Kind != tt.kind || sum.OnlyChanges != tt.onlyChanges {
					t.Errorf("kind, only_changes = %q, %v; want %q, %v", sum.Kind, sum.OnlyChanges, tt.kind, tt.onlyChanges)
				}
			}
			counts := func(s Summary) [6]int {
				return [6]int{s.Groups, s.PriceTypes, s.Warehouses, s.Goods, s.Offers, s.Documents}
			}
			if counts(sum) != counts(tt.sum) {
				t.Errorf("counts (groups, price types, warehouses, goods, offers, documents) = %v, want %v", counts(sum), counts(tt.sum))
			}

			_, kind, err := Sniff(bytes.NewReader(data), tt.file)
			if !errors.Is(err, tt.sniffErr) || kind != tt.sniffKind {
				t.Errorf("Sniff = %q, %v; want %q, %v", kind, err, tt.sniffKind, tt.sniffErr)
			}
		})
	}
}

// readRecords reads data and returns every record.
func readRecords(t *testing.T, data []byte) ([]map[string]any, Summary) {
	t.Helper()
	var recs []map[string]any
	sum, err := Read(bytes.NewReader(data), "test.xml", readRecording(&recs))
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return recs, sum
}

func readInput(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "read", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestReadCatalogRules(t *testing.T) {
	var goods []Good
	var groups []Group
	_, err := Read(bytes.NewReader(readInput(t, "catalog-unf.xml")), "catalog-unf.xml", Handler{
		Good:  func(g Good) error { goods = append(goods, g); return nil },
		Group: func(g Group) error { groups = append(groups, g); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Good{}
	for _, g := range goods {
		byID[g.ID] = g
	}
	g1 := byID["3f2a0000-0000-4000-8000-000000000001"]
	if g1.Unit.Code != "796" || g1.Unit.Name != "шт" || g1.Line != 55 {
		t.Errorf("good 1: unit %+v line %d; want trimmed Код 796, name шт, line 55", g1.Unit, g1.Line)
	}
	if g1.VATRate != "0" {
		t.Errorf("good 1 VAT %q: СтавкиНалогов must win over the «Ставка ПДВ» requisite", g1.VATRate)
	}
	if !reflect.DeepEqual(g1.Groups, []string{"g-1-1", "g-1-2-1"}) {
		t.Errorf("good 1 groups %v", g1.Groups)
	}
	g2 := byID["3f2a0000-0000-4000-8000-000000000002"]
	if !reflect.DeepEqual(g2.Barcodes, []string{"9786170000001", "4820000000017"}) || g2.VATRate != "7" || g2.Unit.Name != "" {
		t.Errorf("good 2: barcodes %v VAT %q unit %+v", g2.Barcodes, g2.VATRate, g2.Unit)
	}
	if g := byID["3f2a0000-0000-4000-8000-000000000003"]; !g.Deleted || g.Unit.Name != "шт" {
		t.Errorf("Статус=\"Удален\" good: %+v", g)
	}
	if g := byID["3f2a0000-0000-4000-8000-000000000004"]; !g.Deleted || g.VATRate != "20%" {
		t.Errorf("ПометкаУдаления=1 good: %+v", g)
	}
	if g := byID["3f2a0000-0000-4000-8000-000000000005"]; g.Deleted {
		t.Errorf("ПометкаУдаления=false good is deleted")
	}
	wantGroups := []Group{
		{ID: "g-1", Name: "Книги"},
		{ID: "g-1-1", Name: "Дитячі", Parent: "g-1"},
		{ID: "g-1-2", Name: "Художня література", Parent: "g-1"},
		{ID: "g-1-2-1", Name: "Фентезі", Parent: "g-1-2"},
		{ID: "g-2", Name: "Канцтовари"},
	}
	if !reflect.DeepEqual(groups, wantGroups) {
		t.Errorf("groups:\n got %+v\nwant %+v", groups, wantGroups)
	}
}

func TestReadOfferRules(t *testing.T) {
	var offers []Offer
	_, err := Read(bytes.NewReader(readInput(t, "offers-stock-shapes.xml")), "offers.xml", Handler{
		Offer: func(o Offer) error { offers = append(offers, o); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(offers) != 7 {
		t.Fatalf("%d offers, want 7", len(offers))
	}
	d := decimal.RequireFromString
	stock := func(id, q string) Stock { return Stock{WarehouseID: id, Quantity: d(q)} }
	tests := []struct {
		name     string
		offer    Offer
		quantity string // "" = nil
		stocks   []Stock
	}{
		{"attributes", offers[0], "12", []Stock{stock("wh-1", "10"), stock("wh-2", "2")}},
		{"Остатки/Остаток/Склад, negative and comma", offers[1], "", []Stock{stock("wh-1", "-1"), stock("wh-2", "2.5")}},
		{"bare Остаток/Количество is the total", offers[2], "7", nil},
		{"КоличествоНаСкладах", offers[3], "", []Stock{stock("wh-1", "0"), stock("wh-2", "0.125")}},
		{"absent Количество is nil, not 0", offers[4], "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch {
			case tt.quantity == "" && tt.offer.Quantity != nil:
				t.Errorf("quantity %v, want nil", tt.offer.Quantity)
			case tt.quantity != "" && (tt.offer.Quantity == nil || !tt.offer.Quantity.Equal(d(tt.quantity))):
				t.Errorf("quantity %v, want %s", tt.offer.Quantity, tt.quantity)
			}
			if len(tt.offer.Stocks) != len(tt.stocks) {
				t.Fatalf("stocks %v, want %v", tt.offer.Stocks, tt.stocks)
			}
			for i, s := range tt.offer.Stocks {
				if s.WarehouseID != tt.stocks[i].WarehouseID || !s.Quantity.Equal(tt.stocks[i].Quantity) {
					t.Errorf("stock %d = %v, want %v", i, s, tt.stocks[i])
				}
			}
		})
	}
	p := offers[0].Prices
	if len(p) != 2 || !p[0].PerUnit.Equal(d("1234.5")) || !p[1].PerUnit.Equal(d("1100")) || p[0].TypeID != "pt-retail" || p[0].Unit != "шт" || p[0].Factor != "1" {
		t.Errorf("prices %+v: want exact ЦенаЗаЕдиницу, never Представление", p)
	}
	if !offers[5].Deleted || !offers[6].Deleted || offers[0].Deleted {
		t.Errorf("deleted flags: %v %v %v", offers[0].Deleted, offers[5].Deleted, offers[6].Deleted)
	}
}

func TestReadDocumentRules(t *testing.T) {
	var docs []Document
	_, err := Read(bytes.NewReader(readInput(t, "orders-unf.xml")), "orders.xml", Handler{
		Document: func(d Document) error { docs = append(docs, d); return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 3 {
		t.Fatalf("%d documents, want 3", len(docs))
	}
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Fatal(err)
	}
	wantTimes := []time.Time{
		time.Date(2025, 7, 14, 18, 3, 55, 0, kyiv), // summer: +03:00
		time.Date(2025, 1, 5, 9, 5, 0, 0, kyiv),    // "9:05", winter: +02:00
		time.Date(2025, 1, 6, 0, 0, 0, 0, kyiv),    // date only
	}
	for i, want := range wantTimes {
		if !docs[i].Time.Equal(want) {
			t.Errorf("document %d time %v, want %v", i, docs[i].Time, want)
		}
	}
	d0 := docs[0]
	if d0.Counterparty.ID != "obmin-retail-customer" || d0.Number != "CB-000123" || !d0.Total.Equal(decimal.RequireFromString("665")) {
		t.Errorf("document 0: %+v", d0)
	}
	if len(d0.Discounts) != 1 || !d0.Discounts[0].InTotal || d0.Discounts[0].Percent == nil {
		t.Errorf("document discounts %+v", d0.Discounts)
	}
	l1 := d0.Lines[1]
	if !l1.PricePerUnit.Equal(decimal.NewFromInt(350)) || l1.Unit.Code != "796" || l1.Unit.Name != "шт" || len(l1.Discounts) != 1 {
		t.Errorf("line with 1C's Цена and Единица: %+v", l1)
	}
	if l := docs[1].Lines[0]; !l.PricePerUnit.Equal(decimal.NewFromInt(21)) {
		t.Errorf("ЦенаЗаЕдиницу must win over Цена: %v", l.PricePerUnit)
	}
	if docs[1].Counterparty.FullName == "" {
		t.Errorf("ОфициальноеНаименование not used as full name")
	}
}

// TestReadErrors checks that bad input gives a *ParseError naming file, line and element.
func TestReadErrors(t *testing.T) {
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="2025-03-01">` + "\n"
	const tail = "\n</КоммерческаяИнформация>\n"
	tests := []struct {
		name    string
		input   string
		is      error  // errors.Is target, or nil
		line    int    // 0 = not checked
		element string // "" = not checked
		msg     string // exact Error(), or "" = not checked
		contain string
	}{
		{name: "empty file", input: "", is: ErrTruncated},
		{name: "prolog only", input: `<?xml version="1.0"?>` + "\n", is: ErrTruncated},
		{name: "cut in a tag", input: head + "<Каталог><Товары><Товар><Ид>1</Ид><Наимено", is: ErrTruncated, line: 3, element: "Товар", contain: "unexpected end of file"},
		{name: "no closing root", input: head + "<Каталог></Каталог>\n", is: ErrTruncated, element: cmlRootName},
		{name: "bad decimal", input: readInputString(t, "bad-decimal.xml"), is: errNotDecimal, line: 19, element: "Цена",
			msg: `test.xml:19: <Цена>: ЦенаЗаЕдиницу "12,5x": not a decimal`},
		{name: "space not grouping thousands", input: head + "<ПакетПредложений><Предложения><Предложение><Ид>1</Ид>\n<Количество>1 23</Количество></Предложение></Предложения></ПакетПредложений>" + tail,
			is: errNotDecimal, line: 4, element: "Предложение", contain: `Количество "1 23"`},
		{name: "exponent", input: head + "<ПакетПредложений><Предложения><Предложение><Ид>1</Ид><Количество>1e3</Количество></Предложение></Предложения></ПакетПредложений>" + tail, is: errNotDecimal},
		{name: "stock attribute", input: head + `<ПакетПредложений><Предложения><Предложение><Ид>1</Ид><Склад ИдСклада="w" КоличествоНаСкладе="x"/></Предложение></Предложения></ПакетПредложений>` + tail,
			is: errNotDecimal, line: 3, element: "Склад"},
		{name: "stock without warehouse", input: head + `<ПакетПредложений><Предложения><Предложение><Ид>1</Ид><Остатки><Остаток><Склад><Количество>1</Количество></Склад></Остаток></Остатки></Предложение></Предложения></ПакетПредложений>` + tail,
			element: "Склад", contain: "no warehouse Ид"},
		{name: "price without value", input: head + "<ПакетПредложений><Предложения><Предложение><Ид>1</Ид><Цены><Цена><ИдТипаЦены>p</ИдТипаЦены></Цена></Цены></Предложение></Предложения></ПакетПредложений>" + tail,
			element: "Цена", contain: "no ЦенаЗаЕдиницу"},
		{name: "bad deletion flag", input: head + "<Каталог><Товары><Товар><Ид>1</Ид><ПометкаУдаления>maybe</ПометкаУдаления></Товар></Товары></Каталог>" + tail,
			is: errNotBoolean, element: "Товар"},
		{name: "bad document sum", input: head + "<Документ><Ид>1</Ид>\n<Сумма>12.3.4</Сумма></Документ>" + tail, is: errNotDecimal, line: 4, element: "Документ"},
		{name: "bad line quantity", input: head + "<Документ><Товары><Товар><Количество>два</Количество></Товар></Товары></Документ>" + tail, is: errNotDecimal, element: "Товар"},
		{name: "bad document date", input: head + "<Документ><Дата>2025-02-30</Дата></Документ>" + tail, is: errNotDate, element: "Документ"},
		{name: "bad document time", input: head + "<Документ><Дата>2025-02-03</Дата>\n<Время>25:00</Время></Документ>" + tail, is: errNotTime, line: 4, element: "Документ"},
		{name: "bad discount flag", input: head + "<Документ><Скидки><Скидка><УчтеноВСумме>так</УчтеноВСумме></Скидка></Скидки></Документ>" + tail, is: errNotBoolean, element: "Скидка"},
		{name: "YML feed", input: readInputString(t, "yml-feed.xml"), is: ErrNotCommerceML, line: 2, element: "yml_catalog", contain: "root element is <yml_catalog>"},
		{name: "3.1 namespace", input: `<КоммерческаяИнформация xmlns="urn:1C.ru:commerceml_3" ВерсияСхемы="2.10"/>`, is: ErrUnsupportedVersion, line: 1},
		{name: "ВерсияСхемы 3.0", input: `<КоммерческаяИнформация ВерсияСхемы="3.0"/>`, is: ErrUnsupportedVersion},
		{name: "Контейнер in a 2.x file", input: head + "<Контейнер><Документ/></Контейнер>" + tail, is: ErrUnsupportedVersion, line: 3, element: "Контейнер"},
		{name: "mismatched tags", input: head + "<Каталог><Товары></Каталог>" + tail, line: 3, contain: "malformed XML"},
		{name: "unknown encoding", input: `<?xml version="1.0" encoding="koi8-r"?><КоммерческаяИнформация/>`, is: ErrUnsupportedEncoding},
		{name: "invalid UTF-8", input: head + "<Каталог><Товары>\n<Товар><Наименование>\xff\xfe</Наименование></Товар></Товары></Каталог>" + tail, line: 4, element: "Наименование", contain: "invalid UTF-8"},
		{name: "invalid UTF-8 in a name", input: head + "<Каталог>\n<\xff/></Каталог>" + tail, line: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tt.input), "test.xml", Handler{})
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v (%T), want a *ParseError", err, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q is not %q", err, tt.is)
			}
			if pe.File != "test.xml" || (tt.line != 0 && pe.Line != tt.line) || (tt.element != "" && pe.Element != tt.element) {
				t.Errorf("error %q: file %q line %d element %q; want line %d element %q", err, pe.File, pe.Line, pe.Element, tt.line, tt.element)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf("message\n got %q\nwant %q", err.Error(), tt.msg)
			}
			if tt.contain != "" && !strings.Contains(err.Error(), tt.contain) {
				t.Errorf("message %q does not contain %q", err.Error(), tt.contain)
			}
		})
	}
}

func readInputString(t *testing.T, name string) string {
	return string(readInput(t, name))
}

// TestReadCharsets reads the same catalogue as UTF-8, UTF-8 with BOM and windows-1251 under every
// label 1C and its peers write, and expects identical records.
func TestReadCharsets(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="%s"?>
<КоммерческаяИнформация ВерсияСхемы="2.05" ДатаФормирования="2025-03-01">
<Каталог><Товары><Товар><Ид>ґ-1</Ид><Наименование>Їжачок «Ґава» — Є</Наименование>
<БазоваяЕдиница Код="796 ">шт</БазоваяЕдиница></Товар></Товары></Каталог>
</КоммерческаяИнформация>`
	encode := func(label string, cp1251 bool) []byte {
		s := strings.Replace(doc, "%s", label, 1)
		if !cp1251 {
			return []byte(s)
		}
		b, err := charmap.Windows1251.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want, _ := readRecords(t, encode("UTF-8", false))
	tests := []struct {
		name string
		data []byte
	}{
		{"utf8 label", encode("utf8", false)},
		{"UTF-8 with BOM", append([]byte("\xef\xbb\xbf"), encode("UTF-8", false)...)},
		{"windows-1251", encode("windows-1251", true)},
		{"WINDOWS-1251", encode("WINDOWS-1251", true)},
		{"cp1251", encode("cp1251", true)},
		{"CP1251", encode("CP1251", true)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := readRecords(t, tt.data)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("records\n got %v\nwant %v", got, want)
			}
		})
	}
}

func TestReadHandlerError(t *testing.T) {
	errStop := errors.New("database is down")
	var order []string
	n := 0
	_, err := Read(bytes.NewReader(readInput(t, "catalog-unf.xml")), "catalog-unf.xml", Handler{
		Header: func(Header) error { order = append(order, "header"); return nil },
		Group:  func(Group) error { order = append(order, "group"); return nil },
		Good: func(Good) error {
			order = append(order, "good")
			if n++; n == 2 {
				return errStop
			}
			return nil
		},
	})
	if !errors.Is(err, errStop) {
		t.Fatalf("error %v, want the handler's", err)
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		t.Errorf("a handler error must not look like bad input: %v", err)
	}
	if want := "catalog-unf.xml:88: <Товар>: database is down"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if order[0] != "header" || n != 2 {
		t.Errorf("calls %v: header must come first and the read must stop at the error", order)
	}
}

func TestReadIOError(t *testing.T) {
	errDisk := errors.New("disk on fire")
	data := readInput(t, "catalog-unf.xml")
	r := io.MultiReader(bytes.NewReader(data[:2000]), iotest.ErrReader(errDisk))
	_, err := Read(r, "catalog-unf.xml", Handler{})
	var pe *ParseError
	if !errors.Is(err, errDisk) || errors.As(err, &pe) {
		t.Errorf("error %v: want the reader's error, not a *ParseError", err)
	}
}

func TestSniffHeader(t *testing.T) {
	h, kind, err := Sniff(bytes.NewReader(readInput(t, "catalog-unf.xml")), "catalog-unf.xml")
	want := Header{SchemaVersion: "2.08", Generated: "2025-03-01T10:15:00", Namespace: "urn:1C.ru:commerceml_210"}
	if err != nil || kind != KindCatalog || h != want {
		t.Errorf("Sniff = %+v, %q, %v; want %+v, catalog", h, kind, err, want)
	}
	// A leading Классификатор does not make an offers file a catalogue (carono offers.xml shape).
	const offers = `<КоммерческаяИнформация ВерсияСхемы="2.07"><Классификатор><Ид>1</Ид></Классификатор>
<ПакетПредложений><Предложения><Предложение><Ид>1</Ид><Остатки/></Предложение></Предложения></ПакетПредложений>`
	if _, kind, err := Sniff(strings.NewReader(offers), "offers.xml"); err != nil || kind != KindRests {
		t.Errorf("Sniff after Классификатор = %q, %v; want rests", kind, err)
	}
	if _, _, err := Sniff(strings.NewReader(`<КоммерческаяИнформация ВерсияСхемы="2.07"><Классификатор>`), "x.xml"); !errors.Is(err, ErrTruncated) {
		t.Errorf("Sniff of a cut classifier: %v, want ErrTruncated", err)
	}
	// Sniff stops after the first offer: whatever follows is never read.
	head := readInputString(t, "prices-only.xml")
	head = head[:strings.Index(head, "</Предложение>")+len("</Предложение>")]
	r := io.MultiReader(strings.NewReader(head), iotest.ErrReader(errors.New("read past the first offer")))
	if _, kind, err := Sniff(r, "prices.xml"); err != nil || kind != KindPrices {
		t.Errorf("Sniff of a head = %q, %v; want prices", kind, err)
	}
}

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in   string
		want string // "" = error
	}{
		{"350", "350"}, {"350.00", "350"}, {" 12.5 ", "12.5"}, {"12,5", "12.5"}, {"-1", "-1"},
		{"0.125", "0.125"}, {"\u00a01234.50\u00a0", "1234.5"}, {"+3", "3"}, {"231.7400", "231.74"},
		{"1 234,50", "1234.5"}, {"1\u00a0234\u00a0567.5", "1234567.5"}, {"-12\u202f000", "-12000"},
		{"1 2", ""}, {"1 2345", ""}, {"1  234", ""}, {" 1 234 ", "1234"}, {"1 234 ,5", ""}, {"12 34.5", ""},
		{"", ""}, {" ", ""}, {"1,234.50", ""}, {"1e3", ""}, {"12,5x", ""},
		{"NaN", ""}, {"-", ""}, {".", ""}, {"1.2.3", ""}, {"1,2,3", ""}, {"0x10", ""},
		{strings.Repeat("9", 100), ""},
	}
	for _, tt := range tests {
		got, err := parseDecimal(tt.in)
		switch {
		case tt.want == "" && err == nil:
			t.Errorf("parseDecimal(%q) = %v, want an error", tt.in, got)
		case tt.want != "" && (err != nil || !got.Equal(decimal.RequireFromString(tt.want))):
			t.Errorf("parseDecimal(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
}

func TestParseDocTime(t *testing.T) {
	loc := time.FixedZone("test", 2*3600)
	tests := []struct {
		date, clock string
		want        time.Time
		field       string // failing field, "" = ok
	}{
		{"2025-03-01", "18:03:55", time.Date(2025, 3, 1, 18, 3, 55, 0, loc), ""},
		{"2025-03-01", "T0:36:33", time.Date(2025, 3, 1, 0, 36, 33, 0, loc), ""},
		{"2025-03-01", "9:05", time.Date(2025, 3, 1, 9, 5, 0, 0, loc), ""},
		{"2025-03-01", "09:05:07.123", time.Date(2025, 3, 1, 9, 5, 7, 0, loc), ""},
		{"2025-03-01", "", time.Date(2025, 3, 1, 0, 0, 0, 0, loc), ""},
		{"2025-03-01T7:08:09", "", time.Date(2025, 3, 1, 7, 8, 9, 0, loc), ""},
		{"2025-03-01 07:08:09", "", time.Date(2025, 3, 1, 7, 8, 9, 0, loc), ""},
		{"2025-03-01T7:08:09", "10:00:00", time.Date(2025, 3, 1, 10, 0, 0, 0, loc), ""},
		{"01.03.2025", "10:00", time.Date(2025, 3, 1, 10, 0, 0, 0, loc), ""},
		{"2024-02-29", "", time.Date(2024, 2, 29, 0, 0, 0, 0, loc), ""},
		{"2025-02-29", "", time.Time{}, "Дата"},
		{"25-03-01", "", time.Time{}, "Дата"},
		{"2025/03/01", "", time.Time{}, "Дата"},
		{"2025-13-01", "", time.Time{}, "Дата"},
		{"2025-03-01", "24:00:00", time.Time{}, "Время"},
		{"2025-03-01", "10", time.Time{}, "Время"},
		{"2025-03-01", "10:60", time.Time{}, "Время"},
		{"2025-03-01", "10:00:00+02:00", time.Time{}, "Время"},
	}
	for _, tt := range tests {
		got, field, err := parseDocTime(tt.date, tt.clock, loc)
		if field != tt.field || (tt.field == "") != (err == nil) || (err == nil && !got.Equal(tt.want)) {
			t.Errorf("parseDocTime(%q, %q) = %v, %q, %v; want %v, %q", tt.date, tt.clock, got, field, err, tt.want, tt.field)
		}
	}
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		e    ParseError
		want string
	}{
		{ParseError{File: "import.xml", Line: 120, Element: "Цена", Err: errors.New(`ЦенаЗаЕдиницу "12,5x": not a decimal`)},
			`import.xml:120: <Цена>: ЦенаЗаЕдиницу "12,5x": not a decimal`},
		{ParseError{File: "a.xml", Err: ErrTruncated}, "a.xml: unexpected end of file"},
		{ParseError{File: "a.xml", Line: 3}, "a.xml:3: parse error"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// TestReadKind checks how a file's kind and change flag are decided by content
// (docs/commerceml.md §3.2, §4.1, §4.2).
func TestReadKind(t *testing.T) {
	const (
		price = "<Предложение><Ид>1</Ид><Цены><Цена><ИдТипаЦены>p</ИдТипаЦены><ЦенаЗаЕдиницу>1</ЦенаЗаЕдиницу></Цена></Цены></Предложение>"
		rest  = "<Предложение><Ид>2</Ид><Остатки><Остаток><Склад><Ид>w</Ид><Количество>1</Количество></Склад></Остаток></Остатки></Предложение>"
		full  = "<Предложение><Ид>3</Ид><Наименование>x</Наименование><Цены/></Предложение>"
	)
	doc := func(body string) string {
		return `<КоммерческаяИнформация ВерсияСхемы="2.09">` + body + `</КоммерческаяИнформация>`
	}
	pkg := func(attrs, offers string) string {
		return doc("<ПакетПредложений" + attrs + "><Предложения>" + offers + "</Предложения></ПакетПредложений>")
	}
	tests := []struct {
		name        string
		input       string
		kind        Kind
		onlyChanges bool
	}{
		{"empty package", pkg("", ""), KindOffers, false},
		{"prices only", pkg("", price+price), KindPrices, false},
		{"rests only", pkg("", rest+rest), KindRests, false},
		{"prices and rests mixed", pkg("", price+rest), KindOffers, false},
		{"full offers", pkg("", full), KindOffers, false},
		{"Ид+Цены+НомерВерсии is not prices-only", pkg("", "<Предложение><Ид>1</Ид><НомерВерсии>A</НомерВерсии><Цены/></Предложение>"), KindOffers, false},
		{"classifier only", doc("<Классификатор><Ид>c</Ид></Классификатор>"), KindCatalog, false},
		{"classifier then package", doc("<Классификатор/><ПакетПредложений/>"), KindOffers, false},
		{"package then classifier", doc("<ПакетПредложений/><Классификатор/>"), KindOffers, false},
		{"documents", doc("<Документ><Ид>1</Ид></Документ>"), KindDocuments, false},
		{"root only", doc(""), KindUnknown, false},
		{`attribute "true"`, pkg(` СодержитТолькоИзменения="true"`, price), KindPrices, true},
		{`attribute "TRUE"`, pkg(` СодержитТолькоИзменения="TRUE"`, price), KindPrices, true},
		{`attribute "1"`, pkg(` СодержитТолькоИзменения="1"`, price), KindPrices, true},
		{`attribute "0"`, pkg(` СодержитТолькоИзменения="0"`, price), KindPrices, false},
		{`attribute "false"`, pkg(` СодержитТолькоИзменения="false"`, price), KindPrices, false},
		{`attribute "yes"`, pkg(` СодержитТолькоИзменения="yes"`, price), KindPrices, false},
		{"element form", doc("<Каталог><СодержитТолькоИзменения> true </СодержитТолькоИзменения></Каталог>"), KindCatalog, true},
		{"on Каталог", doc(`<Каталог СодержитТолькоИзменения="true"/>`), KindCatalog, true},
		{"ИзмененияПакетаПредложений", doc("<ИзмененияПакетаПредложений><Предложения>" + full + "</Предложения></ИзмененияПакетаПредложений>"), KindOffers, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, err := Read(strings.NewReader(tt.input), "test.xml", Handler{})
			if err != nil {
				t.Fatal(err)
			}
			if sum.Kind != tt.kind || sum.OnlyChanges != tt.onlyChanges {
				t.Errorf("kind, only_changes = %q, %v; want %q, %v", sum.Kind, sum.OnlyChanges, tt.kind, tt.onlyChanges)
			}
		})
	}
}
