// Package gen writes deterministic CommerceML 2 exports of any size, shaped like what BAS Малий бізнес
// (1C:УНФ underneath) writes: a catalogue (import.xml) and an offers package (offers.xml) of n goods.
// It is for benchmarks, memory tests and the measurement program in cmd/readrss.
//
// The same n and Options always give the same bytes. Item i is computed from (Seed, i) alone, so a test
// can check any record without keeping the list: ItemAt(i, opt) is exactly what Catalog and Offers write
// for the i-th good. The package knows nothing of the reader: it only writes bytes.
//
// Shapes are those of docs/commerceml.md §2.1 (catalogue) and §3.1 (offers); facts cited as "docs/commerceml.md §N"
// are from docs/commerceml.md.
//
// It imports no other package of obmin.
package gen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/transform"
)

// Identifiers shared by every generated file.
const (
	ClassifierID = "c0ffee00-0000-4000-8000-000000000001"
	PriceTypeID  = "pt-retail"
	WarehouseID  = "wh-1"
	UnitCode     = "796" // ОКЕИ «штука»; the catalogue pads it as 1C does: Код="796 " (docs/commerceml.md §2.2)
	Currency     = "грн"
)

// Groups are the classifier's groups (Ид, Наименование); every good sits in one of them.
var Groups = [][2]string{
	{"g-1", "Художня література"},
	{"g-2", "Дитячі книги"},
	{"g-3", "Історія"},
	{"g-4", "Наука & техніка"},
	{"g-5", "Поезія"},
}

// Options change what is written; the zero value is a UTF-8 2.08 export with seed 0.
type Options struct {
	// Seed makes a different but equally deterministic set of goods (Ид, titles, prices, stock).
	Seed uint64
	// Version is ВерсияСхемы: "2.08" (the default, written with xmlns commerceml_210 as УНФ 3.0 does,
	// docs/commerceml.md §1.1) or "2.10". Catalogue and offers are identical in both (docs/commerceml.md §1.2).
	Version string
	// Windows1251 writes windows-1251 with that encoding declared, as the protocol's examples and
	// Bitrix do, instead of UTF-8 with a BOM, as УТ 11/УНФ exports do (docs/commerceml.md §4.3).
	Windows1251 bool
	// Reprice, when positive, raises the price of every Reprice-th good (i = 0, Reprice, 2·Reprice…) by
	// 1.00 грн: BAS's next export after a price revision of 1/Reprice of the catalogue (100: 1 %).
	Reprice int
}

func (o Options) version() string {
	if o.Version == "" {
		return "2.08"
	}
	return o.Version
}

// Item is what the i-th good of a generated export holds, in both files.
type Item struct {
	ID        string // Ид, GUID-like and unique within one seed
	Article   string // Артикул, KN-0000001 …
	Name      string // Наименование, a Ukrainian book title with its edition
	Barcode   string // Штрихкод, an ISBN-13 (EAN-13 with prefix 978) with a valid check digit
	GroupID   string // Группы/Ид
	VATRate   string // СтавкиНалогов/СтавкаНалога/Ставка: "0", "7" or "20"
	Picture   string // Картинка, import_files/<2 hex>/<Ид>_<hex>.jpg (docs/commerceml.md §2.2)
	PriceKop  int64  // ЦенаЗаЕдиницу in kopecks
	Quantity  int    // Количество and КоличествоНаСкладе; now and then negative, as real stock is (docs/commerceml.md §3.2)
	Requisite string // the value of ВидНоменклатуры
}

// Price is ЦенаЗаЕдиницу as written: hryvnias with two decimals and a point (docs/commerceml.md §4.3).
func (it Item) Price() string {
	return fmt.Sprintf("%d.%02d", it.PriceKop/100, it.PriceKop%100)
}

var titles = []string{
	"Тіні забутих предків",
	"Кобзар",
	"Лісова пісня",
	"Захар Беркут",
	"Intermezzo та інші новели",
	"Місто",
	"Земля",
	"Сад Гетсиманський",
	"Собор",
	"Чорна рада",
	"Маруся Чурай",
	"Пам’ять про «Мандрівку»",
	"Хіба ревуть воли, як ясла повні?",
	"Мистецтво & ремесло: посібник",
	"Ворошиловград",
	"Felix Austria",
	"Амадока",
	"Солодка Даруся",
	"Інтернат",
	"Записки українського самашедшого",
	"Їжак і ґудзик — казки для найменших",
	"Фізика <для> допитливих",
}

var kinds = []string{"Книга", "Книга", "Книга", "Аудіокнига", "Подарункове видання"}

// mix is SplitMix64's finaliser: a bijection on uint64, so distinct inputs never collide.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// ItemAt returns the i-th good (0-based) of an export made with opt.
func ItemAt(i int, opt Options) Item {
	h1 := mix(opt.Seed<<32 ^ uint64(i)) // unique per i for a given seed (i < 2^32)
	h2 := mix(h1 ^ 0x5bd1e995)
	id := fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", h1>>32, (h1>>16)&0xffff, h1&0xffff, h2>>48, h2&0xffffffffffff)
	it := Item{
		ID:        id,
		Article:   fmt.Sprintf("KN-%07d", i+1),
		Name:      fmt.Sprintf("%s. Видання %d", titles[h2%uint64(len(titles))], 1+(h2>>8)%20),
		Barcode:   EAN13(fmt.Sprintf("978%09d", (uint64(i)*7_919_731+617_000_000)%1_000_000_000)), // unique for i < 10⁹: 7919731 is coprime to 10
		GroupID:   Groups[(h2>>16)%uint64(len(Groups))][0],
		PriceKop:  int64(4_000 + (h2>>24)%150_000), // 40.00 … 1539.99 грн
		Quantity:  int((h2 >> 44) % 50),
		Picture:   fmt.Sprintf("import_files/%s/%s_%016x.jpg", id[:2], id, h2),
		Requisite: kinds[(h2>>52)%uint64(len(kinds))],
	}
	switch v := (h2 >> 32) % 10; {
	case v < 7:
		it.VATRate = "0"
	case v < 9:
		it.VATRate = "7"
	default:
		it.VATRate = "20"
	}
	if (h2>>40)%97 == 0 {
		it.Quantity = -1
	}
	if opt.Reprice > 0 && i%opt.Reprice == 0 {
		it.PriceKop += 100
	}
	return it
}

// EAN13 appends the check digit to 12 digits (GS1: weights 1,3,1,3… from the left).
func EAN13(twelve string) string {
	sum := 0
	for i, c := range twelve {
		d := int(c - '0')
		if i%2 == 1 {
			d *= 3
		}
		sum += d
	}
	return twelve + strconv.Itoa((10-sum%10)%10)
}

var textEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// esc escapes character data and attribute values (they never hold quotes here).
func esc(s string) string { return textEscaper.Replace(s) }

// out is the buffered, optionally re-encoded destination of one file; the first write error sticks.
type out struct {
	bw  *bufio.Writer
	enc io.WriteCloser // windows-1251 encoder, nil for UTF-8
	err error
}

func newOut(w io.Writer, opt Options) *out {
	if !opt.Windows1251 {
		return &out{bw: bufio.NewWriterSize(w, 64<<10)}
	}
	enc := transform.NewWriter(w, charmap.Windows1251.NewEncoder())
	return &out{bw: bufio.NewWriterSize(enc, 64<<10), enc: enc}
}

func (o *out) printf(format string, args ...any) {
	if o.err == nil {
		_, o.err = fmt.Fprintf(o.bw, format, args...)
	}
}

func (o *out) close() error {
	if o.err != nil {
		return o.err
	}
	if err := o.bw.Flush(); err != nil {
		return err
	}
	if o.enc != nil {
		return o.enc.Close()
	}
	return nil
}

// prolog writes the declaration and the opening root tag (docs/commerceml.md §1.1).
func (o *out) prolog(opt Options, generated string) {
	if opt.Windows1251 {
		o.printf("<?xml version=\"1.0\" encoding=\"windows-1251\"?>\n")
	} else {
		o.printf("\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	}
	o.printf("<КоммерческаяИнформация xmlns=\"urn:1C.ru:commerceml_210\" ВерсияСхемы=\"%s\" ДатаФормирования=\"%s\">\n",
		esc(opt.version()), generated)
}

// Catalog writes import.xml: a Классификатор with Groups and a Каталог of n goods (docs/commerceml.md §2.1).
func Catalog(w io.Writer, n int, opt Options) error {
	if n < 0 {
		return fmt.Errorf("gen: negative number of goods %d", n)
	}
	o := newOut(w, opt)
	o.prolog(opt, "2025-03-01T10:15:00")
	o.printf("\t<Классификатор>\n\t\t<Ид>%s</Ид>\n\t\t<Наименование>Класифікатор (Каталог товарів)</Наименование>\n"+
		"\t\t<Владелец>\n\t\t\t<Ид>0a000000-0000-4000-8000-000000000002</Ид>\n\t\t\t<Наименование>ТОВ «Книгарня»</Наименование>\n\t\t</Владелец>\n\t\t<Группы>\n",
		ClassifierID)
	for _, g := range Groups {
		o.printf("\t\t\t<Группа>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Наименование>%s</Наименование>\n\t\t\t</Группа>\n", g[0], esc(g[1]))
	}
	o.printf("\t\t</Группы>\n\t</Классификатор>\n"+
		"\t<Каталог СодержитТолькоИзменения=\"false\">\n\t\t<Ид>%s</Ид>\n\t\t<ИдКлассификатора>%s</ИдКлассификатора>\n"+
		"\t\t<Наименование>Каталог товарів</Наименование>\n\t\t<Товары>\n", ClassifierID, ClassifierID)
	for i := 0; i < n && o.err == nil; i++ {
		it := ItemAt(i, opt)
		name := esc(it.Name)
		o.printf(`			<Товар>
				<Ид>%s</Ид>
				<Штрихкод>%s</Штрихкод>
				<Артикул>%s</Артикул>
				<Наименование>%s</Наименование>
				<БазоваяЕдиница Код="%s " НаименованиеПолное="Штука" МеждународноеСокращение="PCE">шт</БазоваяЕдиница>
				<Группы>
					<Ид>%s</Ид>
				</Группы>
				<Описание/>
				<Картинка>%s</Картинка>
				<СтавкиНалогов>
					<СтавкаНалога>
						<Наименование>ПДВ</Наименование>
						<Ставка>%s</Ставка>
					</СтавкаНалога>
				</СтавкиНалогов>
				<ЗначенияРеквизитов>
					<ЗначениеРеквизита>
						<Наименование>ВидНоменклатуры</Наименование>
						<Значение>%s</Значение>
					</ЗначениеРеквизита>
					<ЗначениеРеквизита>
						<Наименование>ТипНоменклатуры</Наименование>
						<Значение>Товар</Значение>
					</ЗначениеРеквизита>
					<ЗначениеРеквизита>
						<Наименование>Полное наименование</Наименование>
						<Значение>%s</Значение>
					</ЗначениеРеквизита>
				</ЗначенияРеквизитов>
			</Товар>
`, it.ID, it.Barcode, it.Article, name, UnitCode, it.GroupID, it.Picture, it.VATRate, esc(it.Requisite), name)
	}
	o.printf("\t\t</Товары>\n\t</Каталог>\n</КоммерческаяИнформация>\n")
	if err := o.close(); err != nil {
		return fmt.Errorf("gen: write catalogue: %w", err)
	}
	return nil
}

// Offers writes offers.xml: a ПакетПредложений with one price type, one warehouse and an offer for
// each of the n goods of Catalog, with price, total quantity and the per-warehouse Склад element
// (docs/commerceml.md §3.1).
func Offers(w io.Writer, n int, opt Options) error {
	if n < 0 {
		return fmt.Errorf("gen: negative number of offers %d", n)
	}
	o := newOut(w, opt)
	o.prolog(opt, "2025-03-01T10:15:05")
	o.printf("\t<ПакетПредложений СодержитТолькоИзменения=\"false\">\n\t\t<Ид>%s#</Ид>\n"+
		"\t\t<Наименование>Пакет пропозицій (Каталог товарів)</Наименование>\n\t\t<ИдКаталога>%s</ИдКаталога>\n"+
		"\t\t<ИдКлассификатора>%s</ИдКлассификатора>\n"+
		"\t\t<ТипыЦен>\n\t\t\t<ТипЦены>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Наименование>Роздрібна</Наименование>\n\t\t\t\t<Валюта>%s</Валюта>\n"+
		"\t\t\t\t<Налог>\n\t\t\t\t\t<Наименование>ПДВ</Наименование>\n\t\t\t\t\t<УчтеноВСумме>true</УчтеноВСумме>\n\t\t\t\t</Налог>\n\t\t\t</ТипЦены>\n\t\t</ТипыЦен>\n"+
		"\t\t<Склады>\n\t\t\t<Склад>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Наименование>Магазин на Хрещатику</Наименование>\n\t\t\t</Склад>\n\t\t</Склады>\n"+
		"\t\t<Предложения>\n", ClassifierID, ClassifierID, ClassifierID, PriceTypeID, Currency, WarehouseID)
	for i := 0; i < n && o.err == nil; i++ {
		it := ItemAt(i, opt)
		price := it.Price()
		o.printf(`			<Предложение>
				<Ид>%s</Ид>
				<Артикул>%s</Артикул>
				<Наименование>%s</Наименование>
				<БазоваяЕдиница Код="%s" НаименованиеПолное="Штука" МеждународноеСокращение="PCE"/>
				<Цены>
					<Цена>
						<Представление>%s грн за шт</Представление>
						<ИдТипаЦены>%s</ИдТипаЦены>
						<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>
						<Валюта>%s</Валюта>
						<Единица>шт</Единица>
						<Коэффициент>1</Коэффициент>
					</Цена>
				</Цены>
				<Количество>%d</Количество>
				<Склад ИдСклада="%s" КоличествоНаСкладе="%d"/>
			</Предложение>
`, it.ID, it.Article, esc(it.Name), UnitCode, strings.Replace(price, ".", ",", 1), PriceTypeID, price, Currency,
			it.Quantity, WarehouseID, it.Quantity)
	}
	o.printf("\t\t</Предложения>\n\t</ПакетПредложений>\n</КоммерческаяИнформация>\n")
	if err := o.close(); err != nil {
		return fmt.Errorf("gen: write offers: %w", err)
	}
	return nil
}
