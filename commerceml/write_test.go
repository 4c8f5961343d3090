package commerceml

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // document times are Europe/Kyiv; make the tests independent of the host's zone files

	"github.com/shopspring/decimal"
	"golang.org/x/text/encoding/charmap"

	"obmin/internal/basloader"
	"obmin/internal/golden"
)

// writeGenerated is ДатаФормирования of every golden file: 18:04:11 in Kyiv (UTC+2 in March).
var writeGenerated = time.Date(2025, 3, 1, 16, 4, 11, 0, time.UTC)

func dec(s string) decimal.Decimal { return decimal.RequireFromString(s) }

func decPtr(s string) *decimal.Decimal {
	d := dec(s)
	return &d
}

var (
	writePiece = Unit{Code: "796", Name: "шт", FullName: "Штука", Intl: "PCE"}
	writeKilo  = Unit{Code: "166", Name: "кг", FullName: "Кілограм", Intl: "KGM"}
	writeBuyer = Counterparty{ID: "obmin-retail-customer", Name: "Роздрібний покупець", FullName: "Роздрібний покупець", Role: "Покупатель"}
)

// writeSale is the document of docs/commerceml.md §5.4: one book, two copies, paid by card.
func writeSale() Document {
	return Document{
		ID:           "obmin-cb-9b1e6f0c-0d7e-4f38-9b7a-2a1c5e8f0001",
		Number:       "CB-000123",
		Time:         time.Date(2025, 3, 1, 16, 3, 55, 0, time.UTC),
		Operation:    "Заказ товара",
		Role:         "Продавец",
		Currency:     "грн",
		Rate:         dec("1"),
		Total:        dec("350"),
		Counterparty: writeBuyer,
		Comment:      "Checkbox receipt 9b1e6f0c, fiscal code TEST-0001",
		Lines: []DocumentLine{{
			ID:           "3f2a6c1e-8d4b-11ee-b9d1-0242ac120002",
			Article:      "978-966-7047-39-9",
			Name:         "Гаррі Поттер і філософський камінь",
			Unit:         writePiece,
			PricePerUnit: dec("175"),
			Quantity:     dec("2"),
			Sum:          dec("350.00"),
		}},
		Requisites: []Requisite{
			{Name: "Статус заказа", Value: "Продано на касі"},
			{Name: "Фіскальний номер Checkbox", Value: "TEST-0001"},
			{Name: "Каса Checkbox", Value: "4000000001"},
		},
	}
}

// writeDiscounted is a receipt with a line discount and a receipt discount, both inside the line
// sums, as BAS needs them: ЦенаЗаЕдиницу stays the shelf price, Сумма is what the till took for the
// line, so Σ Сумма = Сумма of the document and BAS shows the difference as the line's discount.
func writeDiscounted() Document {
	d := writeSale()
	d.ID, d.Number = "obmin-cb-0000000000000002", "CB-000124"
	d.Comment = ""
	d.Total = dec("236.50")
	d.Lines = []DocumentLine{
		{
			ID:           "3f2a6c1e-8d4b-11ee-b9d1-0242ac120002",
			Name:         "Гаррі Поттер і філософський камінь",
			Unit:         writePiece,
			PricePerUnit: dec("175"),
			Quantity:     dec("1"),
			Sum:          dec("144.39"),
		},
		{
			ID:           "7c1d2e3f-8d4b-11ee-b9d1-0242ac120003#8d2e3f40-8d4b-11ee-b9d1-0242ac120004",
			Article:      "LL-0042",
			Name:         "Закладка для книг",
			Unit:         writePiece,
			PricePerUnit: dec("33"),
			Quantity:     dec("3"),
			Sum:          dec("92.11"),
			Requisites:   []Requisite{{Name: "ВидНоменклатуры", Value: "Товар"}, {Name: "ТипНоменклатуры", Value: "Товар"}, {Name: "Штрихкод", Value: "4820000000017"}},
		},
	}
	return d
}

// writeVAT mixes a good with VAT at 20 % and one without: the document names VAT (without it BAS
// makes the whole order VAT-exempt), each line its own rate, the good without VAT «Без ПДВ» (a line
// without a rate would take the document's).
func writeVAT() Document {
	d := writeDiscounted()
	d.ID, d.Number = "obmin-cb-vat-0007", "CB-000128"
	d.Taxes = []Tax{{Name: "НДС", Rate: "20", InTotal: true, Sum: dec("24.07")}}
	d.Lines[0].Taxes = []Tax{{Name: "НДС", Rate: "20", InTotal: true, Sum: dec("24.07")}}
	d.Lines[1].Taxes = []Tax{{Name: "НДС", Rate: "Без ПДВ", InTotal: true, Sum: dec("0")}}
	return d
}

// writeWeighed sells a quarter kilogram of coffee beans.
func writeWeighed() Document {
	d := writeSale()
	d.ID, d.Number = "obmin-cb-weighed-0004", "CB-000125"
	d.Comment = ""
	d.Total = dec("60")
	d.Requisites = nil
	d.Lines = []DocumentLine{{
		ID:           "5a6b7c8d-8d4b-11ee-b9d1-0242ac120005",
		Name:         "Кава в зернах, вагова",
		Unit:         writeKilo,
		PricePerUnit: dec("240"),
		Quantity:     dec("0.250"),
		Sum:          dec("60"),
	}}
	return d
}

// writeUkrainian holds letters of which only some exist in cp1251: Ґ, є, ї, №, «», ’ and the dash do;
// the apostrophe ʼ (U+02BC) and the emoji do not.
func writeUkrainian() Document {
	d := writeSale()
	d.ID, d.Number = "obmin-cb-cp1251-0005", "CB-000126"
	d.Comment = "Ґанок «Їжачок» № 5 — подарунок 📚"
	d.Counterparty = Counterparty{ID: "obmin-retail-customer", Name: "Покупець Мʼякенький", Role: "Покупатель"}
	d.Lines[0].Name = "Пʼять історій про Ґаву і єнота’"
	d.Lines[0].Article = ""
	return d
}

// writeSpecial carries every character XML must escape, in texts and in attributes.
func writeSpecial() Document {
	d := writeSale()
	d.ID, d.Number = "obmin-cb-special-0006", "CB-000127 & <>"
	d.Comment = "рядок 1\r\nрядок 2\t\"лапки\" 'апостроф' ]]> кінець"
	d.Counterparty = Counterparty{ID: "cp-<1>&\"2\"", Name: `ТОВ "Видавництво Старого Лева" & Ко`, FullName: "ТОВ «Видавництво Старого Лева»", Role: "Покупатель"}
	d.Lines[0].Name = `Мʼята & <м'ята> "quoted" 'single'`
	d.Lines[0].Unit = Unit{Code: "796", Name: "шт & <x>", FullName: "Штука \"шт\"\t'a'\nnext", Intl: "P&E"}
	d.Requisites = []Requisite{{Name: "Коментар <покупця>", Value: "a & b > c"}, {Name: "Порожнє", Value: ""}}
	return d
}

// writeAtKyivTime returns a copy of d with another identity and time, for multi-document files.
func writeAtKyivTime(d Document, n int, t time.Time) Document {
	d.ID = fmt.Sprintf("obmin-cb-multi-%04d", n)
	d.Number = fmt.Sprintf("CB-%06d", 200+n)
	d.Time = t
	return d
}

type writeCase struct {
	name string
	opts WriterOptions
	docs []Document
}

func writeCases() []writeCase {
	indented := WriterOptions{Generated: writeGenerated, Indent: true}
	cp1251 := indented
	cp1251.Encoding = EncodingWindows1251
	marked := indented
	marked.Comment = "obmin-orders-file: written by obmin"
	return []writeCase{
		{"simple-sale", indented, []Document{writeSale()}},
		{"simple-sale-compact", WriterOptions{Generated: writeGenerated}, []Document{writeSale()}},
		{"discounts", indented, []Document{writeDiscounted()}},
		{"vat", marked, []Document{writeVAT()}},
		{"weighed", indented, []Document{writeWeighed()}},
		{"windows-1251", cp1251, []Document{writeUkrainian()}},
		{"utf-8-ukrainian", indented, []Document{writeUkrainian()}},
		{"special-characters", indented, []Document{writeSpecial()}},
		{"several-documents", indented, []Document{
			// Across the spring DST change: 00:30Z is 02:30 EET, 01:30Z is 04:30 EEST.
			writeAtKyivTime(writeSale(), 1, time.Date(2025, 3, 30, 0, 30, 0, 0, time.UTC)),
			writeAtKyivTime(writeWeighed(), 2, time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC)),
			// 22:15Z on 31 December is already the next day and year in Kyiv.
			writeAtKyivTime(writeDiscounted(), 3, time.Date(2025, 12, 31, 22, 15, 0, 0, time.UTC)),
		}},
		{"no-documents", indented, nil},
	}
}

func writeToBytes(t *testing.T, opts WriterOptions, docs []Document) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteDocuments(&buf, opts, docs); err != nil {
		t.Fatalf("WriteDocuments: %v", err)
	}
	return buf.Bytes()
}

func TestWriteGolden(t *testing.T) {
	for _, tc := range writeCases() {
		t.Run(tc.name, func(t *testing.T) {
			got := writeToBytes(t, tc.opts, tc.docs)
			if again := writeToBytes(t, tc.opts, tc.docs); !bytes.Equal(got, again) {
				t.Fatal("two writes of the same documents differ")
			}
			writeCheckWellFormed(t, got)
			// Every file the writer produces must load in BAS as meant.
			res, err := basloader.New(basloader.DefaultOptions()).Load(got)
			if err != nil || len(res.Problems) > 0 {
				t.Errorf("BAS's loader (internal/basloader): %v %v", err, res.Problems)
			}

			golden.Assert(t, filepath.Join("testdata", "write", tc.name+".golden.xml"), got)
		})
	}
}

// writeCheckWellFormed parses out with encoding/xml and checks what 1C's loader relies on: a BOM
// for UTF-8, the declared encoding, and no namespace on the root (docs/commerceml.md §1.5, §0.9).
func writeCheckWellFormed(t *testing.T, out []byte) {
	t.Helper()
	body, declared := out, "UTF-8"
	if bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")) {
		body = out[3:]
	} else {
		declared = "windows-1251"
	}
	if want := `<?xml version="1.0" encoding="` + declared + `"?>`; !bytes.HasPrefix(body, []byte(want)) {
		t.Fatalf("output starts %q, want %q", body[:min(len(body), 60)], want)
	}
	dec := xml.NewDecoder(bytes.NewReader(body))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if !strings.EqualFold(label, "windows-1251") {
			return nil, fmt.Errorf("unexpected charset %q", label)
		}
		return charmap.Windows1251.NewDecoder().Reader(r), nil
	}
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("output is not well-formed XML: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if el.Name.Local != writeRoot || el.Name.Space != "" || len(el.Attr) != 2 {
					t.Fatalf("root element %+v, want %s without xmlns and with two attributes", el, writeRoot)
				}
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
}

// TestWriteRoundTrip reads the written files back with Read and expects the same documents, with
// the defaults Write fills in.
func TestWriteRoundTrip(t *testing.T) {
	for _, tc := range writeCases() {
		t.Run(tc.name, func(t *testing.T) {
			out := writeToBytes(t, tc.opts, tc.docs)
			var got []Document
			sum, err := Read(bytes.NewReader(out), tc.name+".xml", Handler{Document: func(d Document) error {
				got = append(got, d)
				return nil
			}})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if sum.Documents != len(tc.docs) || sum.Header.Generated != "2025-03-01T18:04:11" || sum.Header.Namespace != "" {
				t.Errorf("summary %+v", sum)
			}
			if tc.name != "no-documents" && sum.Kind != KindDocuments {
				t.Errorf("kind %q, want %q", sum.Kind, KindDocuments)
			}
			want := make([]Document, len(tc.docs))
			for i, d := range tc.docs {
				want[i] = writeAsRead(d)
			}
			for i := range got {
				got[i].Line = 0
			}
			if g, w := writeJSON(t, got), writeJSON(t, want); g != w {
				t.Errorf("documents read back differ\n--- got\n%s\n--- want\n%s", g, w)
			}
		})
	}
}

// writeAsRead is d as it should come back from the file: with Write's defaults filled in.
func writeAsRead(d Document) Document {
	d.Operation = orDefault(d.Operation, defaultOperation)
	d.Role = orDefault(d.Role, defaultRole)
	d.Counterparty.Role = orDefault(d.Counterparty.Role, defaultBuyerRole)
	d.Counterparty.FullName = orDefault(d.Counterparty.FullName, d.Counterparty.Name)
	if d.Rate.IsZero() {
		d.Rate = decimal.NewFromInt(1)
	}
	lines := make([]DocumentLine, len(d.Lines))
	copy(lines, d.Lines)
	for i := range lines {
		if len(lines[i].Requisites) == 0 {
			lines[i].Requisites = defaultLineRequisites
		}
	}
	d.Lines = lines
	// The reader does not read Налоги: BAS's own exports are read for their numbers and goods only.
	d.Taxes = nil
	for i := range d.Lines {
		d.Lines[i].Taxes = nil
	}
	return d
}

// writeJSON renders documents for comparison: decimals by value ("350" = "350.00"), times as instants.
func writeJSON(t *testing.T, docs []Document) string {
	t.Helper()
	norm := make([]Document, len(docs))
	for i, d := range docs {
		d.Time = d.Time.UTC()
		norm[i] = d
	}
	b, err := json.MarshalIndent(norm, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteKyivTime(t *testing.T) {
	tests := []struct {
		name       string
		at         time.Time
		date, time string
	}{
		{"winter, UTC+2", time.Date(2025, 3, 1, 16, 3, 55, 0, time.UTC), "2025-03-01", "18:03:55"},
		{"before the spring change", time.Date(2025, 3, 30, 0, 30, 0, 0, time.UTC), "2025-03-30", "02:30:00"},
		{"after the spring change", time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC), "2025-03-30", "04:30:00"},
		{"summer, UTC+3", time.Date(2025, 7, 15, 20, 59, 59, 0, time.UTC), "2025-07-15", "23:59:59"},
		{"past midnight in Kyiv", time.Date(2025, 7, 15, 21, 0, 0, 0, time.UTC), "2025-07-16", "00:00:00"},
		{"autumn, first 03:30", time.Date(2025, 10, 26, 0, 30, 0, 0, time.UTC), "2025-10-26", "03:30:00"},
		{"autumn, second 03:30", time.Date(2025, 10, 26, 1, 30, 0, 0, time.UTC), "2025-10-26", "03:30:00"},
		{"another zone", time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("UTC-5", -5*3600)), "2025-03-01", "17:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := writeSale()
			d.Time = tt.at
			out := string(writeToBytes(t, WriterOptions{Generated: tt.at}, []Document{d}))
			for _, want := range []string{
				"<Дата>" + tt.date + "</Дата>",
				"<Время>" + tt.time + "</Время>",
				`ДатаФормирования="` + tt.date + "T" + tt.time + `"`,
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

func TestWriteNumbers(t *testing.T) {
	tests := []struct {
		name                     string
		price, qty, sum          string
		wantPrice, wantQty, want string
	}{
		{"whole", "175", "2", "350", "175.00", "2", "350.00"},
		{"trailing zeros in quantity", "100", "2.000", "200.0000", "100.00", "2", "200.00"},
		{"fractional quantity", "40", "2.25", "90", "40.00", "2.25", "90.00"},
		{"thousandths", "96", "0.125", "12", "96.00", "0.125", "12.00"},
		{"kopecks", "0.5", "3", "1.5", "0.50", "3", "1.50"},
		{"zero quantity", "175", "0", "0", "175.00", "0", "0.00"},
		{"large", "123456789012.34", "1", "123456789012.34", "123456789012.34", "1", "123456789012.34"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := writeSale()
			d.Lines[0].PricePerUnit = dec(tt.price)
			d.Lines[0].Quantity = dec(tt.qty)
			d.Lines[0].Sum = dec(tt.sum)
			d.Total = dec(tt.sum)
			out := string(writeToBytes(t, WriterOptions{Generated: writeGenerated}, []Document{d}))
			for _, want := range []string{
				"<ЦенаЗаЕдиницу>" + tt.wantPrice + "</ЦенаЗаЕдиницу>",
				"<Количество>" + tt.wantQty + "</Количество>",
				"<Сумма>" + tt.want + "</Сумма></Товар>",
				"<Курс>1</Курс><Сумма>" + tt.want + "</Сумма>",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %s:\n%s", want, out)
				}
			}
		})
	}
}

func TestWriteDefaults(t *testing.T) {
	d := writeSale()
	d.Operation, d.Role, d.Rate = "", "", decimal.Decimal{}
	d.Counterparty = Counterparty{ID: "c1", Name: "Роздрібний покупець"}
	d.Lines[0].Requisites = nil
	d.Lines[0].Article = ""
	d.Lines[0].Unit = Unit{Code: "796"}
	var buf bytes.Buffer
	if err := WriteDocuments(&buf, WriterOptions{}, []Document{d}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		"\uFEFF" + `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<КоммерческаяИнформация ВерсияСхемы="2.08" ДатаФормирования="`,
		"<ХозОперация>Заказ товара</ХозОперация><Роль>Продавец</Роль>",
		"<Курс>1</Курс>",
		"<Контрагент><Ид>c1</Ид><Наименование>Роздрібний покупець</Наименование><ПолноеНаименование>Роздрібний покупець</ПолноеНаименование><Роль>Покупатель</Роль></Контрагент>",
		`<БазоваяЕдиница Код="796"/>`,
		"<ЗначенияРеквизитов><ЗначениеРеквизита><Наименование>ВидНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита>" +
			"<ЗначениеРеквизита><Наименование>ТипНоменклатуры</Наименование><Значение>Товар</Значение></ЗначениеРеквизита></ЗначенияРеквизитов><ЦенаЗаЕдиницу>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	for _, absent := range []string{"xmlns", "<Артикул>", "<Скидки>"} {
		if strings.Contains(out, absent) {
			t.Errorf("output contains %s:\n%s", absent, out)
		}
	}
	// ДатаФормирования defaults to now.
	if _, err := time.Parse("2006-01-02T15:04:05", out[strings.Index(out, `ДатаФормирования="`)+len(`ДатаФормирования="`):][:19]); err != nil {
		t.Errorf("default ДатаФормирования: %v", err)
	}
}

func TestWriteWindows1251(t *testing.T) {
	out := writeToBytes(t, WriterOptions{Encoding: EncodingWindows1251, Generated: writeGenerated}, []Document{writeUkrainian()})
	if bytes.HasPrefix(out, []byte("\xEF\xBB\xBF")) {
		t.Error("windows-1251 output starts with a UTF-8 BOM")
	}
	for _, want := range []string{
		"\xA5\xE0\xED\xEE\xEA", // Ґанок: Ґ is 0xA5 in cp1251
		"\xB9 5",               // №
		"\xAB\xAF",             // «Ї
		"&#x2bc;",              // ʼ has no cp1251 byte
		"&#x1f4da;",            // nor has 📚
		"\x92",                 // ’ (U+2019) has one
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Every byte is cp1251: decoding and re-encoding gives the same bytes.
	utf, err := charmap.Windows1251.NewDecoder().Bytes(out)
	if err != nil {
		t.Fatal(err)
	}
	if back, err := charmap.Windows1251.NewEncoder().Bytes(utf); err != nil || !bytes.Equal(back, out) {
		t.Errorf("output is not plain cp1251 (err %v)", err)
	}
}

func TestAppendWindows1251(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"<a x=\"1\">ok</a>", "<a x=\"1\">ok</a>"},
		{"Ґґ Єє Іі Її ’ — № «» €", "\xA5\xB4 \xAA\xBA \xB2\xB3 \xAF\xBF \x92 \x97 \xB9 \xAB\xBB \x88"},
		{"Мʼята", "\xCC&#x2bc;\xFF\xF2\xE0"},
		{"😀x", "&#x1f600;x"},
	}
	for _, tt := range tests {
		if got := string(appendWindows1251(nil, []byte(tt.in))); got != tt.want {
			t.Errorf("appendWindows1251(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestWriteInvalidDocuments(t *testing.T) {
	tests := []struct {
		name   string
		change func(d *Document)
		want   string // part of the message after the document's Номер
	}{
		{"no Ид", func(d *Document) { d.ID = " " }, "Ид is empty"},
		{"no Номер", func(d *Document) { d.Number = "" }, "Номер is empty"},
		{"no time", func(d *Document) { d.Time = time.Time{} }, "Дата/Время is not set"},
		{"no currency", func(d *Document) { d.Currency = "" }, "Валюта is empty"},
		{"negative rate", func(d *Document) { d.Rate = dec("-1") }, "Курс -1 is negative"},
		{"no counterparty Ид", func(d *Document) { d.Counterparty.ID = "" }, "Контрагенты/Контрагент/Ид is empty"},
		{"no counterparty name", func(d *Document) { d.Counterparty.Name = "" }, "Контрагенты/Контрагент/Наименование is empty"},
		{"no lines", func(d *Document) { d.Lines = nil }, "Товары has no Товар"},
		{"line without Ид", func(d *Document) { d.Lines[0].ID = "" }, "Товары/Товар[1] Ид is empty"},
		{"line without name", func(d *Document) { d.Lines[0].Name = "\t" }, "Товары/Товар[1] Наименование is empty"},
		{"line without unit", func(d *Document) { d.Lines[0].Unit = Unit{FullName: "Штука"} }, "Товары/Товар[1] БазоваяЕдиница has neither Код nor a name"},
		{"total with kopeck fractions", func(d *Document) { d.Total = dec("350.005") }, "Сумма 350.005 has more than 2 decimal places"},
		{"price with kopeck fractions", func(d *Document) { d.Lines[0].PricePerUnit = dec("175.001") }, "Товары/Товар[1] ЦенаЗаЕдиницу 175.001 has more than 2 decimal places"},
		{"line sum with kopeck fractions", func(d *Document) { d.Lines[0].Sum = dec("350.001") }, "Товары/Товар[1] Сумма 350.001 has more than 2 decimal places"},
		{"requisite without name", func(d *Document) { d.Requisites[2].Name = "" }, "ЗначенияРеквизитов/ЗначениеРеквизита[3]/Наименование is empty"},
		{"sum mismatch", func(d *Document) { d.Total = dec("349.99") },
			"Сумма 349.99 does not match the lines: Σ Товар/Сумма = 350.00"},
		{"another operation", func(d *Document) { d.Operation = "Возврат товара" }, `ХозОперация "Возврат товара": BAS's site exchange loads «Заказ товара» only`},
		{"negative total", func(d *Document) { d.Total = dec("-350") }, "Сумма -350 is negative"},
		{"negative quantity", func(d *Document) { d.Lines[0].Quantity = dec("-2") }, "Товары/Товар[1] Количество -2 is negative"},
		{"negative line sum", func(d *Document) { d.Lines[0].Sum = dec("-350") }, "Товары/Товар[1] Сумма -350 is negative"},
		{"negative price", func(d *Document) { d.Lines[0].PricePerUnit = dec("-175") }, "Товары/Товар[1] ЦенаЗаЕдиницу -175 is negative"},
		{"document discount", func(d *Document) {
			d.Discounts = []Discount{{Name: "x", Sum: dec("10"), InTotal: true}}
		}, "Скидки: discounts are written into the line sums"},
		{"line discount", func(d *Document) {
			d.Lines[0].Discounts = []Discount{{Name: "x", Sum: dec("1"), InTotal: true}}
		}, "Товары/Товар[1] Скидки: discounts are written into the line Сумма"},
		{"tax without name", func(d *Document) { d.Taxes = []Tax{{Rate: "20", InTotal: true}} }, "Налоги/Налог[1]/Наименование is empty"},
		{"line tax without rate", func(d *Document) { d.Lines[0].Taxes = []Tax{{Name: "НДС", InTotal: true}} }, "Товары/Товар[1] Налоги/Налог[1]/Ставка is empty"},
		{"negative tax", func(d *Document) { d.Taxes = []Tax{{Name: "НДС", Rate: "20", Sum: dec("-1")}} }, "Налоги/Налог[1]/Сумма -1 is negative"},
		{"control character", func(d *Document) { d.Comment = "a\x01b" }, "Комментарий contains U+0001, which XML cannot carry"},
		{"invalid UTF-8", func(d *Document) { d.Lines[0].Name = "a\xffb" }, "Товары/Товар[1] Наименование is not valid UTF-8 (byte 1)"},
		{"bad attribute text", func(d *Document) { d.Lines[0].Unit.Intl = "\uFFFE" }, "Товары/Товар[1] БазоваяЕдиница/@МеждународноеСокращение contains U+FFFE"},
		{"bad requisite value", func(d *Document) { d.Requisites[0].Value = "\x00" }, "ЗначенияРеквизитов/ЗначениеРеквизита[1]/Значение contains U+0000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := writeSale()
			tt.change(&d)
			var buf bytes.Buffer
			dw, err := NewDocumentWriter(&buf, WriterOptions{Generated: writeGenerated})
			if err != nil {
				t.Fatal(err)
			}
			before := buf.Len()
			err = dw.Write(d)
			if !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("Write error %v, want ErrInvalidDocument", err)
			}
			if msg := err.Error(); !strings.Contains(msg, fmt.Sprintf("Номер %q", d.Number)) || !strings.Contains(msg, tt.want) {
				t.Errorf("error %q, want the Номер and %q", msg, tt.want)
			}
			if buf.Len() != before {
				t.Errorf("a refused document wrote %q", buf.Bytes()[before:])
			}
			// The writer is still usable: a good document goes through after a bad one.
			if err := dw.Write(writeSale()); err != nil {
				t.Errorf("Write after a refused document: %v", err)
			}
			if err := dw.Close(); err != nil {
				t.Error(err)
			}
			writeCheckWellFormed(t, buf.Bytes())

			// WriteDocuments checks everything first and leaves the output untouched.
			var all bytes.Buffer
			if err := WriteDocuments(&all, WriterOptions{}, []Document{writeSale(), d}); !errors.Is(err, ErrInvalidDocument) {
				t.Errorf("WriteDocuments error %v, want ErrInvalidDocument", err)
			}
			if all.Len() != 0 {
				t.Errorf("WriteDocuments wrote %d bytes before refusing", all.Len())
			}
		})
	}
}

func TestWriteComment(t *testing.T) {
	out := string(writeToBytes(t, WriterOptions{Generated: writeGenerated, Comment: "obmin-orders-file"}, []Document{writeSale()}))
	if want := "\uFEFF" + `<?xml version="1.0" encoding="UTF-8"?>` + "\n<!-- obmin-orders-file -->\n<КоммерческаяИнформация"; !strings.HasPrefix(out, want) {
		t.Errorf("output starts %q, want %q", out[:min(len(out), 120)], want)
	}
	for _, bad := range []string{"a--b", "ends-", "ctl\x01"} {
		if _, err := NewDocumentWriter(io.Discard, WriterOptions{Comment: bad}); err == nil {
			t.Errorf("comment %q accepted", bad)
		}
	}
}

func TestNewDocumentWriterOptions(t *testing.T) {
	if _, err := NewDocumentWriter(io.Discard, WriterOptions{Encoding: "koi8-u"}); err == nil || !strings.Contains(err.Error(), `"koi8-u"`) {
		t.Errorf("unknown encoding: error %v", err)
	}
	if _, err := NewDocumentWriter(io.Discard, WriterOptions{SchemaVersion: "2.\x0010"}); err == nil {
		t.Error("a schema version XML cannot carry was accepted")
	}
	var buf bytes.Buffer
	if _, err := NewDocumentWriter(&buf, WriterOptions{SchemaVersion: `2.10"&`, Generated: writeGenerated, Encoding: EncodingWindows1251}); err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0" encoding="windows-1251"?>` + "\n" + `<КоммерческаяИнформация ВерсияСхемы="2.10&#34;&amp;" ДатаФормирования="2025-03-01T18:04:11">` + "\n"
	if got, _ := charmap.Windows1251.NewDecoder().String(buf.String()); got != want {
		t.Errorf("header\n%q, want\n%q", got, want)
	}
}

// writeFailing fails every Write after the first n bytes were accepted.
type writeFailing struct {
	n      int
	writes int
}

var errWriteDiskFull = errors.New("disk full")

func (w *writeFailing) Write(p []byte) (int, error) {
	w.writes++
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errWriteDiskFull
	}
	w.n -= len(p)
	return len(p), nil
}

// Close fails the test if it is ever called: the writer must not close what it was given.
func (w *writeFailing) Close() error { panic("DocumentWriter closed the underlying writer") }

func TestWriteIOErrors(t *testing.T) {
	if _, err := NewDocumentWriter(&writeFailing{n: 10}, WriterOptions{}); !errors.Is(err, errWriteDiskFull) {
		t.Errorf("NewDocumentWriter on a failing writer: %v", err)
	}

	w := &writeFailing{n: 300}
	dw, err := NewDocumentWriter(w, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dw.Write(writeSale()); !errors.Is(err, errWriteDiskFull) || errors.Is(err, ErrInvalidDocument) {
		t.Fatalf("Write on a full disk: %v", err)
	}
	writes := w.writes
	// The error sticks: nothing more is written, not even a valid-looking closing tag.
	if err := dw.Write(writeSale()); !errors.Is(err, errWriteDiskFull) {
		t.Errorf("second Write: %v", err)
	}
	if err := dw.Close(); !errors.Is(err, errWriteDiskFull) {
		t.Errorf("Close: %v", err)
	}
	if w.writes != writes {
		t.Errorf("%d more writes after the failure", w.writes-writes)
	}

	// The whole-slice helper reports the same.
	if err := WriteDocuments(&writeFailing{n: 300}, WriterOptions{}, []Document{writeSale()}); !errors.Is(err, errWriteDiskFull) {
		t.Errorf("WriteDocuments on a full disk: %v", err)
	}
}

func TestWriteAfterClose(t *testing.T) {
	w := &writeFailing{n: 1 << 20}
	dw, err := NewDocumentWriter(w, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := dw.Close(); err != nil {
		t.Fatal(err)
	}
	writes := w.writes
	if err := dw.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := dw.Write(writeSale()); !errors.Is(err, ErrWriterClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if w.writes != writes {
		t.Error("the second Close or the late Write wrote")
	}
}

// writeBenchDocs returns n receipts of five lines each.
func writeBenchDocs(n int) []Document {
	docs := make([]Document, n)
	start := time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)
	for i := range docs {
		d := writeSale()
		d.ID = fmt.Sprintf("obmin-cb-%08d", i)
		d.Number = fmt.Sprintf("CB-%06d", i)
		d.Time = start.Add(time.Duration(i) * time.Minute)
		d.Lines = make([]DocumentLine, 5)
		total := decimal.Zero
		for j := range d.Lines {
			price := decimal.New(int64(10000+i*7+j*13), -2)
			qty := decimal.New(int64(1+j), 0)
			d.Lines[j] = DocumentLine{
				ID:           fmt.Sprintf("3f2a6c1e-8d4b-11ee-b9d1-%012d", j+i%100),
				Article:      fmt.Sprintf("978-966-%04d-%02d", i%10000, j),
				Name:         "Книга для бенчмарку: том " + fmt.Sprint(j+1),
				Unit:         writePiece,
				PricePerUnit: price,
				Quantity:     qty,
				Sum:          price.Mul(qty),
			}
			total = total.Add(d.Lines[j].Sum)
		}
		d.Total = total
		docs[i] = d
	}
	return docs
}

func BenchmarkWriteDocuments(b *testing.B) {
	docs := writeBenchDocs(1000)
	for _, bc := range []struct {
		name string
		opts WriterOptions
	}{
		{"utf-8", WriterOptions{Generated: writeGenerated}},
		{"utf-8-indented", WriterOptions{Generated: writeGenerated, Indent: true}},
		{"windows-1251", WriterOptions{Generated: writeGenerated, Encoding: EncodingWindows1251}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var size writeCounter
			if err := WriteDocuments(&size, bc.opts, docs); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := WriteDocuments(io.Discard, bc.opts, docs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type writeCounter int

func (c *writeCounter) Write(p []byte) (int, error) {
	*c += writeCounter(len(p))
	return len(p), nil
}
