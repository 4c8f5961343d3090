// Package demo makes the sample data of obmin's demo and end-to-end tests: a BAS export as 1C:УНФ 3.0
// (BAS Малий бізнес's upstream) writes it in directory mode (docs/commerceml.md §1.5): a folder
// "webdata - <node UUID>" holding import.xml and offers.xml, UTF-8 with BOM, namespace
// urn:1C.ru:commerceml_210 with ВерсияСхемы 2.08.
//
// It imports no other package of obmin.
package demo

import (
	"bytes"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"time"
)

// Book is one good of the sample catalogue.
type Book struct {
	ID, Article, Name, Barcode string
	Price                      string // UAH, as BAS writes ЦенаЗаЕдиницу
	Stock                      string
	Weight                     bool // sold by weight (kg, ОКЕИ 166): a bookstore's coffee beans
	VAT                        string
	NoPrice                    bool // exported without a retail price: obmin must report it, not send 0
	// BarcodeRequisite are barcodes BAS's node writes in the «Штрихкод» requisite of ЗначенияРеквизитов
	// (as written: padding and repeats included); Barcode, if set, is the Штрихкод element.
	BarcodeRequisite []string
	// Variants are the good's characteristics (bindings, sizes). As 1C:УНФ exports them, the catalogue lists
	// the good once and offers.xml has one offer per characteristic, Ид "<ID>#<CharID>", with the good's
	// Артикул, the characteristic's own barcode, price and stock, and no offer for the good itself.
	Variants []Variant
}

// Variant is one characteristic of a good.
type Variant struct {
	CharID       string
	Name         string      // the characteristic's name, e.g. "тверда палітурка"
	Props        [][2]string // ХарактеристикиТовара: property, value
	Barcode      string
	Price, Stock string
	Deleted      bool // Статус="Удален"
}

// Editions are goods with characteristics: one book in two bindings, a T-shirt in three sizes sharing
// one Артикул, the smallest without a barcode of its own.
var Editions = []Book{
	{ID: "6f1c2a10-0002-4c3e-9a01-000000000001", Article: "KN-0100", Name: "Іван Котляревський. Енеїда", VAT: "0",
		BarcodeRequisite: []string{" 9786170000019 "},
		Variants: []Variant{
			{CharID: "c4a40000-0000-4000-8000-000000000001", Name: "тверда палітурка", Props: [][2]string{{"Палітурка", "тверда"}},
				Barcode: "9786170000026", Price: "399.00", Stock: "5"},
			{CharID: "c4a40000-0000-4000-8000-000000000002", Name: "м'яка палітурка", Props: [][2]string{{"Палітурка", "м'яка"}},
				Barcode: "9786170000033", Price: "259.00", Stock: "11"},
		}},
	{ID: "6f1c2a10-0002-4c3e-9a01-000000000002", Article: "MR-0007", Name: "Футболка «Кобзар»", VAT: "20",
		Variants: []Variant{
			{CharID: "c4a40000-0000-4000-8000-000000000011", Name: "S", Props: [][2]string{{"Розмір", "S"}}, Price: "450.00", Stock: "2"},
			{CharID: "c4a40000-0000-4000-8000-000000000012", Name: "M", Props: [][2]string{{"Розмір", "M"}}, Barcode: "4820000000123", Price: "450.00", Stock: "3"},
			{CharID: "c4a40000-0000-4000-8000-000000000013", Name: "XL", Props: [][2]string{{"Розмір", "XL"}}, Barcode: "4820000000130", Price: "480.00", Stock: "1"},
		}},
}

// Books is the sample catalogue: Ukrainian books, a few non-book goods, one good without a price.
var Books = []Book{
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000001", Article: "KN-0001", Name: "Тарас Шевченко. Кобзар", Barcode: "9789660301238", Price: "420.00", Stock: "12", VAT: "0"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000002", Article: "KN-0002", Name: "Леся Українка. Лісова пісня", Barcode: "9789660305670", Price: "185.50", Stock: "7", VAT: "0"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000003", Article: "KN-0003", Name: "Сергій Жадан. Інтернат", Barcode: "9786176794622", Price: "310.00", Stock: "4", VAT: "0"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000004", Article: "KN-0004", Name: "Ліна Костенко. Записки українського самашедшого", Barcode: "9786175850039", Price: "295.00", Stock: "9", VAT: "0"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000005", Article: "KN-0005", Name: "Іван Франко. Захар Беркут", Barcode: "9789660112230", Price: "150.00", Stock: "0", VAT: "0"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000006", Article: "KN-0006", Name: "Мар'яна Савка. «Ожеледь» & вірші", Barcode: "9786176796008", Price: "199.99", Stock: "3", VAT: "0"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000007", Article: "ST-0101", Name: "Блокнот А5 у клітинку", Barcode: "4820000000109", Price: "89.00", Stock: "40", VAT: "20"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000008", Article: "ST-0102", Name: "Закладка металева «Тризуб»", Barcode: "4820000000116", Price: "45.00", Stock: "25", VAT: "20"},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000009", Article: "CF-0001", Name: "Кава в зернах, вагова", Barcode: "", Price: "960.00", Stock: "5.250", VAT: "20", Weight: true},
	{ID: "6f1c2a10-0001-4c3e-9a01-000000000010", Article: "KN-0010", Name: "Подарунковий сертифікат (ціну не задано)", Barcode: "", Price: "", Stock: "0", VAT: "0", NoPrice: true},
}

// NodeID is the exchange node of the sample export; BAS names its folder after it.
const NodeID = "3e0c1d2b-7a40-4b59-8c31-5f2a9d6b0e11"

// FolderName is the folder BAS writes the export into, inside its export directory.
const FolderName = "webdata - " + NodeID

const retailPriceType = "b7d1e0a4-5c36-4e2b-9f10-0a1b2c3d4e5f"

// WriteDrop writes the sample export into exportDir/"webdata - <node>"/ as BAS does: it empties the
// folder first, then writes import.xml and offers.xml.
func WriteDrop(exportDir string, books []Book, at time.Time) (string, error) {
	dir := filepath.Join(exportDir, FolderName)
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "import.xml"), Catalog(books, at), 0o644); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "offers.xml"), Offers(books, at), 0o644); err != nil {
		return "", err
	}
	return dir, nil
}

const head = "\ufeff<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
	"<КоммерческаяИнформация xmlns=\"urn:1C.ru:commerceml_210\" xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" " +
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ВерсияСхемы=\"2.08\" ДатаФормирования=\"%s\">\n"

const owner = "\t\t<Владелец>\n\t\t\t<Ид>0a5d7c52-1111-4d2e-8a9b-222233334444</Ид>\n\t\t\t<Наименование>ТОВ «Книгарня на Подолі»</Наименование>\n\t\t</Владелец>\n"

// Catalog is import.xml for the books.
func Catalog(books []Book, at time.Time) []byte {
	var b bytes.Buffer
	e := html.EscapeString
	fmt.Fprintf(&b, head, at.Format("2006-01-02T15:04:05"))
	b.WriteString("\t<Классификатор>\n\t\t<Ид>c1a55000-0000-4000-8000-000000000001</Ид>\n\t\t<Наименование>Класифікатор (Основний каталог товарів)</Наименование>\n" + owner)
	b.WriteString("\t\t<Группы>\n\t\t\t<Группа>\n\t\t\t\t<Ид>9a000000-0000-4000-8000-000000000001</Ид>\n\t\t\t\t<Наименование>Книги</Наименование>\n\t\t\t</Группа>\n\t\t</Группы>\n\t</Классификатор>\n")
	b.WriteString("\t<Каталог СодержитТолькоИзменения=\"false\">\n\t\t<Ид>c1a55000-0000-4000-8000-000000000001</Ид>\n\t\t<ИдКлассификатора>c1a55000-0000-4000-8000-000000000001</ИдКлассификатора>\n\t\t<Наименование>Основний каталог товарів</Наименование>\n" + owner + "\t\t<Товары>\n")
	for _, bk := range books {
		b.WriteString("\t\t\t<Товар>\n")
		fmt.Fprintf(&b, "\t\t\t\t<Ид>%s</Ид>\n", bk.ID)
		if bk.Barcode != "" {
			fmt.Fprintf(&b, "\t\t\t\t<Штрихкод>%s</Штрихкод>\n", bk.Barcode)
		}
		fmt.Fprintf(&b, "\t\t\t\t<Артикул>%s</Артикул>\n\t\t\t\t<Наименование>%s</Наименование>\n", e(bk.Article), e(bk.Name))
		if bk.Weight {
			b.WriteString("\t\t\t\t<БазоваяЕдиница Код=\"166 \" НаименованиеПолное=\"Кілограм\" МеждународноеСокращение=\"KGM\">кг</БазоваяЕдиница>\n")
		} else {
			b.WriteString("\t\t\t\t<БазоваяЕдиница Код=\"796 \" НаименованиеПолное=\"Штука\" МеждународноеСокращение=\"PCE\">шт</БазоваяЕдиница>\n")
		}
		b.WriteString("\t\t\t\t<Группы>\n\t\t\t\t\t<Ид>9a000000-0000-4000-8000-000000000001</Ид>\n\t\t\t\t</Группы>\n")
		fmt.Fprintf(&b, "\t\t\t\t<СтавкиНалогов>\n\t\t\t\t\t<СтавкаНалога>\n\t\t\t\t\t\t<Наименование>ПДВ</Наименование>\n\t\t\t\t\t\t<Ставка>%s</Ставка>\n\t\t\t\t\t</СтавкаНалога>\n\t\t\t\t</СтавкиНалогов>\n", bk.VAT)
		b.WriteString("\t\t\t\t<ЗначенияРеквизитов>\n\t\t\t\t\t<ЗначениеРеквизита>\n\t\t\t\t\t\t<Наименование>ТипНоменклатуры</Наименование>\n\t\t\t\t\t\t<Значение>Запас</Значение>\n\t\t\t\t\t</ЗначениеРеквизита>\n")
		if len(bk.BarcodeRequisite) > 0 {
			b.WriteString("\t\t\t\t\t<ЗначениеРеквизита>\n\t\t\t\t\t\t<Наименование>Штрихкод</Наименование>\n")
			for _, v := range bk.BarcodeRequisite {
				fmt.Fprintf(&b, "\t\t\t\t\t\t<Значение>%s</Значение>\n", e(v))
			}
			b.WriteString("\t\t\t\t\t</ЗначениеРеквизита>\n")
		}
		fmt.Fprintf(&b, "\t\t\t\t\t<ЗначениеРеквизита>\n\t\t\t\t\t\t<Наименование>Полное наименование</Наименование>\n\t\t\t\t\t\t<Значение>%s</Значение>\n\t\t\t\t\t</ЗначениеРеквизита>\n\t\t\t\t</ЗначенияРеквизитов>\n", e(bk.Name))
		b.WriteString("\t\t\t</Товар>\n")
	}
	b.WriteString("\t\t</Товары>\n\t</Каталог>\n</КоммерческаяИнформация>\n")
	return b.Bytes()
}

// Offers is offers.xml for the books: the retail price and the stock of each.
func Offers(books []Book, at time.Time) []byte {
	var b bytes.Buffer
	e := html.EscapeString
	fmt.Fprintf(&b, head, at.Format("2006-01-02T15:04:05"))
	b.WriteString("\t<ПакетПредложений СодержитТолькоИзменения=\"false\">\n\t\t<Ид>c1a55000-0000-4000-8000-000000000001#</Ид>\n\t\t<Наименование>Пакет пропозицій (Основний каталог товарів)</Наименование>\n\t\t<ИдКаталога>c1a55000-0000-4000-8000-000000000001</ИдКаталога>\n\t\t<ИдКлассификатора>c1a55000-0000-4000-8000-000000000001</ИдКлассификатора>\n" + owner)
	fmt.Fprintf(&b, "\t\t<ТипыЦен>\n\t\t\t<ТипЦены>\n\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Наименование>Роздрібна</Наименование>\n\t\t\t\t<Валюта>грн</Валюта>\n\t\t\t\t<Налог>\n\t\t\t\t\t<Наименование>ПДВ</Наименование>\n\t\t\t\t\t<УчтеноВСумме>true</УчтеноВСумме>\n\t\t\t\t</Налог>\n\t\t\t</ТипЦены>\n", retailPriceType)
	b.WriteString("\t\t\t<ТипЦены>\n\t\t\t\t<Ид>b7d1e0a4-0000-4e2b-9f10-00000000opt1</Ид>\n\t\t\t\t<Наименование>Оптова</Наименование>\n\t\t\t\t<Валюта>грн</Валюта>\n\t\t\t</ТипЦены>\n\t\t</ТипыЦен>\n")
	b.WriteString("\t\t<Склады>\n\t\t\t<Склад>\n\t\t\t\t<Ид>5c1ad000-0000-4000-8000-000000000001</Ид>\n\t\t\t\t<Наименование>Магазин на Подолі</Наименование>\n\t\t\t</Склад>\n\t\t</Склады>\n\t\t<Предложения>\n")
	for _, bk := range books {
		if len(bk.Variants) > 0 {
			for _, v := range bk.Variants {
				variantOffer(&b, bk, v)
			}
			continue
		}
		b.WriteString("\t\t\t<Предложение>\n")
		fmt.Fprintf(&b, "\t\t\t\t<Ид>%s</Ид>\n\t\t\t\t<Артикул>%s</Артикул>\n\t\t\t\t<Наименование>%s</Наименование>\n", bk.ID, e(bk.Article), e(bk.Name))
		unit := "шт"
		if bk.Weight {
			unit = "кг"
		}
		b.WriteString("\t\t\t\t<Цены>\n")
		if !bk.NoPrice {
			fmt.Fprintf(&b, "\t\t\t\t\t<Цена>\n\t\t\t\t\t\t<Представление>%s грн за %s</Представление>\n\t\t\t\t\t\t<ИдТипаЦены>%s</ИдТипаЦены>\n\t\t\t\t\t\t<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>\n\t\t\t\t\t\t<Валюта>грн</Валюта>\n\t\t\t\t\t\t<Единица>%s</Единица>\n\t\t\t\t\t\t<Коэффициент>1</Коэффициент>\n\t\t\t\t\t</Цена>\n",
				bk.Price, unit, retailPriceType, bk.Price, unit)
		}
		fmt.Fprintf(&b, "\t\t\t\t\t<Цена>\n\t\t\t\t\t\t<Представление>опт</Представление>\n\t\t\t\t\t\t<ИдТипаЦены>b7d1e0a4-0000-4e2b-9f10-00000000opt1</ИдТипаЦены>\n\t\t\t\t\t\t<ЦенаЗаЕдиницу>1.00</ЦенаЗаЕдиницу>\n\t\t\t\t\t\t<Валюта>грн</Валюта>\n\t\t\t\t\t\t<Единица>%s</Единица>\n\t\t\t\t\t\t<Коэффициент>1</Коэффициент>\n\t\t\t\t\t</Цена>\n", unit)
		b.WriteString("\t\t\t\t</Цены>\n")
		fmt.Fprintf(&b, "\t\t\t\t<Количество>%s</Количество>\n\t\t\t\t<Склад ИдСклада=\"5c1ad000-0000-4000-8000-000000000001\" КоличествоНаСкладе=\"%s\"/>\n", bk.Stock, bk.Stock)
		b.WriteString("\t\t\t</Предложение>\n")
	}
	b.WriteString("\t\t</Предложения>\n\t</ПакетПредложений>\n</КоммерческаяИнформация>\n")
	return b.Bytes()
}

// variantOffer writes the offer of one characteristic as 1C:УНФ does (CommonModules/ОбменССайтом,
// ДобавитьРеквизитыТовараДляПредложенияXDTO): the product's Артикул, the characteristic's barcode, the
// name "product (characteristic)", one ХарактеристикаТовара per property.
func variantOffer(b *bytes.Buffer, bk Book, v Variant) {
	e := html.EscapeString
	if v.Deleted {
		b.WriteString("\t\t\t<Предложение Статус=\"Удален\">\n")
	} else {
		b.WriteString("\t\t\t<Предложение>\n")
	}
	fmt.Fprintf(b, "\t\t\t\t<Ид>%s#%s</Ид>\n", bk.ID, v.CharID)
	if v.Barcode != "" {
		fmt.Fprintf(b, "\t\t\t\t<Штрихкод>%s</Штрихкод>\n", v.Barcode)
	}
	fmt.Fprintf(b, "\t\t\t\t<Артикул>%s</Артикул>\n\t\t\t\t<Наименование>%s (%s)</Наименование>\n", e(bk.Article), e(bk.Name), e(v.Name))
	b.WriteString("\t\t\t\t<БазоваяЕдиница Код=\"796\" НаименованиеПолное=\"Штука\" МеждународноеСокращение=\"PCE\"/>\n\t\t\t\t<ХарактеристикиТовара>\n")
	for _, p := range v.Props {
		fmt.Fprintf(b, "\t\t\t\t\t<ХарактеристикаТовара>\n\t\t\t\t\t\t<Наименование>%s</Наименование>\n\t\t\t\t\t\t<Значение>%s</Значение>\n\t\t\t\t\t</ХарактеристикаТовара>\n", e(p[0]), e(p[1]))
	}
	b.WriteString("\t\t\t\t</ХарактеристикиТовара>\n")
	fmt.Fprintf(b, "\t\t\t\t<Цены>\n\t\t\t\t\t<Цена>\n\t\t\t\t\t\t<Представление>%s грн за шт</Представление>\n\t\t\t\t\t\t<ИдТипаЦены>%s</ИдТипаЦены>\n\t\t\t\t\t\t<ЦенаЗаЕдиницу>%s</ЦенаЗаЕдиницу>\n\t\t\t\t\t\t<Валюта>грн</Валюта>\n\t\t\t\t\t\t<Единица>шт</Единица>\n\t\t\t\t\t\t<Коэффициент>1</Коэффициент>\n\t\t\t\t\t</Цена>\n\t\t\t\t</Цены>\n",
		v.Price, retailPriceType, v.Price)
	fmt.Fprintf(b, "\t\t\t\t<Количество>%s</Количество>\n\t\t\t\t<Склад ИдСклада=\"5c1ad000-0000-4000-8000-000000000001\" КоличествоНаСкладе=\"%s\"/>\n", v.Stock, v.Stock)
	b.WriteString("\t\t\t</Предложение>\n")
}

// OrdersExport is what BAS writes back after loading orders: its own orders file naming the Номер of each
// order it holds (orders-<uuid>_N.xml beside its catalogue export, docs/commerceml.md §1.5).
func OrdersExport(numbers []string, at time.Time) []byte {
	orders := make([]Order, len(numbers))
	for i, n := range numbers {
		orders[i] = Order{Number: n, Sum: "0", At: at}
	}
	return OrdersExportOf(orders, at)
}

// Order is one order of BAS's own orders export, as BAS writes an order it loaded from obmin's file.
type Order struct {
	Number  string    // Номер: obmin's number
	Sum     string    // Сумма, in UAH
	Comment string    // Комментарий: obmin's, naming the Checkbox receipt
	At      time.Time // Дата and Время
}

// OrdersExportOf is BAS's orders export listing orders with their sums and comments.
func OrdersExportOf(orders []Order, at time.Time) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, head, at.Format("2006-01-02T15:04:05"))
	for i, o := range orders {
		comment := ""
		if o.Comment != "" {
			comment = "\t\t<Комментарий>" + html.EscapeString(o.Comment) + "</Комментарий>\n"
		}
		fmt.Fprintf(&b, "\t<Документ>\n\t\t<Ид>%08d-1c00-4000-8000-000000000000</Ид>\n\t\t<Номер>%s</Номер>\n\t\t<Дата>%s</Дата>\n\t\t<ХозОперация>Заказ товара</ХозОперация>\n\t\t<Роль>Продавец</Роль>\n\t\t<Валюта>грн</Валюта>\n\t\t<Курс>1</Курс>\n\t\t<Сумма>%s</Сумма>\n\t\t<Время>%s</Время>\n%s\t</Документ>\n",
			i+1, html.EscapeString(o.Number), o.At.Format("2006-01-02"), o.Sum, o.At.Format("15:04:05"), comment)
	}
	b.WriteString("</КоммерческаяИнформация>\n")
	return b.Bytes()
}
