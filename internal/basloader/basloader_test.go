package basloader

import (
	"strings"
	"testing"
)

const testGood = "3f2a6c1e-8d4b-11ee-b9d1-0242ac120002"

// doc is one Документ; fields are spliced into a sale of two copies at 175.00.
type doc struct {
	number, op, date, total, extra, reqs string
	lines                                []string
}

func line(id, name, qty, price, sum, extra string) string {
	return "<Товар><Ид>" + id + "</Ид><Наименование>" + name + `</Наименование><БазоваяЕдиница Код="796">шт</БазоваяЕдиница>` +
		"<ЦенаЗаЕдиницу>" + price + "</ЦенаЗаЕдиницу><Количество>" + qty + "</Количество><Сумма>" + sum + "</Сумма>" + extra + "</Товар>"
}

func (d doc) xml() string {
	if d.number == "" {
		d.number = "CB-MMXXVI-000001"
	}
	if d.op == "" {
		d.op = "Заказ товара"
	}
	if d.date == "" {
		d.date = "2026-03-01"
	}
	if d.total == "" {
		d.total = "350.00"
	}
	if d.lines == nil {
		d.lines = []string{line(testGood, "Книга", "2", "175.00", "350.00", "")}
	}
	return "<Документ><Ид>x</Ид><Номер>" + d.number + "</Номер><Дата>" + d.date + "</Дата><ХозОперация>" + d.op +
		"</ХозОперация><Роль>Продавец</Роль><Валюта>грн</Валюта><Курс>1</Курс><Сумма>" + d.total + "</Сумма>" +
		"<Контрагенты><Контрагент><Ид>c</Ид><Наименование>Роздрібний покупець</Наименование><Роль>Покупатель</Роль></Контрагент></Контрагенты>" +
		"<Время>10:00:00</Время>" + d.extra + "<Товары>" + strings.Join(d.lines, "") + "</Товары>" +
		"<ЗначенияРеквизитов>" + d.reqs + "</ЗначенияРеквизитов></Документ>"
}

func file(docs ...doc) []byte {
	var b strings.Builder
	b.WriteString("\uFEFF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<КоммерческаяИнформация ВерсияСхемы=\"2.08\" ДатаФормирования=\"2026-03-01T10:00:00\">")
	for _, d := range docs {
		b.WriteString(d.xml())
	}
	b.WriteString("</КоммерческаяИнформация>")
	return []byte(b.String())
}

func req(name, value string) string {
	return "<ЗначениеРеквизита><Наименование>" + name + "</Наименование><Значение>" + value + "</Значение></ЗначениеРеквизита>"
}

func tax(rate, sum string) string {
	return "<Налоги><Налог><Наименование>НДС</Наименование><УчтеноВСумме>true</УчтеноВСумме><Сумма>" + sum + "</Сумма><Ставка>" + rate + "</Ставка></Налог></Налоги>"
}

// TestRules shows each rule on the file shapes that went wrong in BAS: every case names a problem
// BAS's loader would cause, and whether it fails the whole file.
func TestRules(t *testing.T) {
	tests := []struct {
		name      string
		data      []byte
		wantRule  string // "" = no problem at all
		wantFatal bool
		wantMsg   string
	}{
		{"a plain sale", file(doc{}), "", false, ""},
		{"no documents", []byte(`<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация ВерсияСхемы="2.08"/>`), "", false, ""},
		{"not XML", []byte("<?xml version=\"1.0\"?><a>"), "XML", true, ""},
		{"fiscal code as number", file(doc{number: "CB-8451460123"}), "Номер", true, `"00СА-8451460123"`},
		{"no digits", file(doc{number: "CB-ABC"}), "Номер", true, "no digits"},
		{"digits repeat within a year", file(doc{number: "CB-A-000001"}, doc{number: "CB-B-000001"}), "Номер", true, "also made from"},
		{"same Номер twice", file(doc{}, doc{}), "Номер", true, "twice"},
		{"a return operation", file(doc{op: "Возврат товара"}), "ХозОперация", true, "«заказ товара»"},
		{"a negative order", file(doc{total: "-175.00", lines: []string{line(testGood, "Книга", "-1", "175.00", "-175.00", "")}}), "Количество", false, "BAS stores 0"},
		{"a document discount in the total", file(doc{total: "330.00",
			extra: "<Скидки><Скидка><Наименование>Знижка</Наименование><Сумма>20.00</Сумма><УчтеноВСумме>true</УчтеноВСумме></Скидка></Скидки>"}),
			"Скидки", false, "ignored"},
		{"a line discount", file(doc{total: "330.00", lines: []string{line(testGood, "Книга", "2", "175.00", "330.00",
			"<Скидки><Скидка><Наименование>Знижка</Наименование><Сумма>20.00</Сумма><УчтеноВСумме>true</УчтеноВСумме></Скидка></Скидки>")}}),
			"Скидки", false, "string where a Boolean"},
		{"line VAT without document VAT", file(doc{lines: []string{line(testGood, "Книга", "2", "175.00", "350.00", tax("20", "58.33"))}}), "Налоги", false, "VAT-exempt"},
		{"VAT named ПДВ", file(doc{extra: strings.ReplaceAll(tax("20", "58.33"), "НДС", "ПДВ")}), "Налоги", false, "only «НДС»"},
		{"VAT rate written 20.00", file(doc{extra: tax("20.00", "58.33")}), "Налоги", false, "not exactly"},
		{"VAT added on top", file(doc{extra: strings.Replace(tax("20", "58.33"), "true", "false", 1)}), "Сумма", false, "BAS's total is 420.00"},
		{"a # in a good's name", file(doc{lines: []string{line(testGood, "Том #2", "2", "175.00", "350.00", "")}}), "Наименование", false, "characteristic"},
		{"an unknown good", file(doc{lines: []string{line("CB-KN-1", "Книга", "2", "175.00", "350.00", "")}}), "Ид", false, "creates it"},
		{"payment requisites", file(doc{reqs: req("Дата оплаты", "2026-03-01 10:00:00") + req("Метод оплаты", "Картка") + req("Номер платежного документа", "1")}),
			"Оплата", false, "second receipt"},
		{"lines disagree with Сумма", file(doc{total: "340.00"}), "Сумма", false, "350.00"},
		{"Номер too long for the register", file(doc{number: "CB-" + strings.Repeat("Ж", 100) + "-1"}), "Номер", false, "100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := New(DefaultOptions()).Load(tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantRule == "" {
				if len(res.Problems) > 0 {
					t.Fatalf("problems: %v", res.Problems)
				}
				return
			}
			var found *Problem
			for i, p := range res.Problems {
				if p.Rule == tt.wantRule && strings.Contains(p.Msg, tt.wantMsg) {
					found = &res.Problems[i]
				}
			}
			if found == nil {
				t.Fatalf("no %s problem with %q: %v", tt.wantRule, tt.wantMsg, res.Problems)
			}
			if found.Fatal != tt.wantFatal || res.Failed != tt.wantFatal {
				t.Errorf("fatal %v, failed %v, want %v: %v", found.Fatal, res.Failed, tt.wantFatal, found)
			}
			if found.Source == "" {
				t.Error("a rule without its source")
			}
		})
	}
}

// TestReloads: a completed order is skipped, any other is re-filled and unposted; «Отменен» cancels.
func TestReloads(t *testing.T) {
	opts := DefaultOptions()
	opts.StatusMap = map[string]State{"Продано на касі": StateCompleted}
	b := New(opts)
	done := doc{number: "CB-MMXXVI-000001", reqs: req("Статус заказа", "Продано на касі")}
	open := doc{number: "CB-MMXXVI-000002"}
	res, err := b.Load(file(done, open))
	if err != nil || res.Failed || len(res.Created) != 2 {
		t.Fatalf("first load: %+v %v", res, err)
	}
	if o, _ := b.Order("CB-MMXXVI-000001"); o.State != StateCompleted || o.Number != "00СА-000001" || !o.Total.Equal(o.Lines[0].Sum) {
		t.Errorf("completed order: %+v", o)
	}
	b.Post("CB-MMXXVI-000002")
	res, _ = b.Load(file(done, open))
	if len(res.Skipped) != 1 || len(res.Updated) != 1 {
		t.Errorf("second load: %+v", res)
	}
	if o, _ := b.Order("CB-MMXXVI-000002"); o.Posted || o.Unposts != 1 || o.Loads != 2 {
		t.Errorf("re-filled order: %+v", o)
	}
	cancel := open
	cancel.reqs = req("Отменен", "true")
	b.Load(file(cancel))
	if o, _ := b.Order("CB-MMXXVI-000002"); o.State != StateCompleted || !o.Cancelled {
		t.Errorf("cancelled order: %+v", o)
	}
	// A number of 2026 may come back in 2027 under another Номер.
	if res, _ := b.Load(file(doc{number: "CB-MMXXVII-000001", date: "2027-01-02"})); res.Failed {
		t.Errorf("next year's first number: %v", res.Problems)
	}
	// A fatal document rolls the whole file back.
	res, _ = b.Load(file(doc{number: "CB-MMXXVI-000003"}, doc{number: "CB-MMXXVI-000004", op: "Возврат товара"}))
	if _, ok := b.Order("CB-MMXXVI-000003"); ok || !res.Failed {
		t.Errorf("a failed file stored its first document: %+v", res)
	}
}

func TestVATLines(t *testing.T) {
	d := doc{total: "450.00", extra: tax("20", "58.33"), lines: []string{
		line(testGood, "Книга", "2", "175.00", "350.00", tax("20", "58.33")),
		line("4f2a6c1e-8d4b-11ee-b9d1-0242ac120002", "Листівка", "1", "100.00", "100.00", tax("Без ПДВ", "0.00")),
		line("5f2a6c1e-8d4b-11ee-b9d1-0242ac120002", "Закладка", "0", "10.00", "0.00", ""),
	}}
	b := New(DefaultOptions())
	res, _ := b.Load(file(d))
	if len(res.Problems) > 0 {
		t.Fatalf("problems: %v", res.Problems)
	}
	o, _ := b.Order("CB-MMXXVI-000001")
	if o.VATExempt || !o.InclVAT || o.Lines[0].VATRate != "20" || o.Lines[1].VATRate != "Без НДС" || !o.Total.Equal(o.Lines[0].Sum.Add(o.Lines[1].Sum)) {
		t.Errorf("order %+v", o)
	}
	if o.Lines[0].VAT.StringFixed(2) != "58.33" || !o.Lines[1].VAT.IsZero() {
		t.Errorf("VAT %s and %s, want 58.33 inside 350.00 and none", o.Lines[0].VAT, o.Lines[1].VAT)
	}
	if len(o.Lines) != 2 {
		t.Errorf("a line of quantity 0 is skipped; got %d lines", len(o.Lines))
	}
	// A line without its own rate in a document with VAT takes the document's.
	d.lines[1] = line("4f2a6c1e-8d4b-11ee-b9d1-0242ac120002", "Листівка", "1", "100.00", "100.00", "")
	b = New(DefaultOptions())
	b.Load(file(d))
	if o, _ := b.Order("CB-MMXXVI-000001"); o.Lines[1].VATRate != "20" {
		t.Errorf("line without a rate: %s", o.Lines[1].VATRate)
	}
}

func TestHTTPAnswers(t *testing.T) {
	xml := []byte(`<?xml version="1.0" encoding="UTF-8"?><КоммерческаяИнформация/>`)
	if p := CheckQuery("application/xml; charset=utf-8", xml); len(p) > 0 {
		t.Errorf("a plain answer: %v", p)
	}
	if p := CheckQuery("application/xml", xml); len(p) != 1 || p[0].Rule != "Content-Type" {
		t.Errorf("no charset: %v", p)
	}
	if p := CheckQuery("application/xml; charset=utf-8", append([]byte("\xEF\xBB\xBF"), xml...)); len(p) != 1 || p[0].Rule != "BOM" {
		t.Errorf("BOM: %v", p)
	}
	if p := CheckQuery("text/plain; charset=utf-8", []byte("failure\nboom")); len(p) != 1 {
		t.Errorf("not XML: %v", p)
	}
	if p := CheckInit("text/plain; charset=utf-8", []byte("zip=no\nfile_limit=1000")); len(p) > 0 {
		t.Errorf("init: %v", p)
	}
	if p := CheckInit("text/plain; charset=utf-8", []byte("zip=no\nfile_limit=1000\nsessid=1\nversion=2.08")); len(p) != 1 {
		t.Errorf("four-line init: %v", p)
	}
	if p := CheckUpload("text/plain; charset=utf-8", []byte("progress")); len(p) != 1 {
		t.Errorf("progress to an upload: %v", p)
	}
	if p := CheckAuth("text/plain; charset=utf-8", []byte("success\nc\nv\nsessid=1")); len(p) > 0 {
		t.Errorf("checkauth: %v", p)
	}
}
