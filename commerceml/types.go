// Package commerceml reads and writes CommerceML 2 (2.03–2.10), the XML format 1C and BAS Малий бізнес
// use for their "exchange with a site". It knows nothing of files on disk, Checkbox or obmin's state:
// it works on io.Reader and io.Writer only.
//
// Facts about the format are cited from the project's page on it as "docs/commerceml.md §N"
// (docs/commerceml.md).
//
// It imports only internal/xmlin of obmin: nothing of the service, the state or the outside systems.
package commerceml

import (
	"strings"
	"time"

	"github.com/shopspring/decimal"
)

// Kind tells what a CommerceML file holds, judged by its content, never by its name
// (docs/commerceml.md §4.2: УТ 11 split packages are told apart by content).
type Kind string

const (
	KindUnknown   Kind = ""
	KindCatalog   Kind = "catalog"   // Классификатор and/or Каталог (import*.xml)
	KindOffers    Kind = "offers"    // ПакетПредложений with offer records (offers*.xml)
	KindPrices    Kind = "prices"    // ПакетПредложений whose offers carry only Ид + Цены (prices*.xml)
	KindRests     Kind = "rests"     // ПакетПредложений whose offers carry only Ид + Остатки (rests*.xml)
	KindDocuments Kind = "documents" // Документ elements (orders)
)

// Header is what the root element КоммерческаяИнформация says about the file.
type Header struct {
	SchemaVersion string `json:"schema_version"` // ВерсияСхемы, e.g. "2.08"; never branch on it alone (docs/commerceml.md §1.5)
	Generated     string `json:"generated"`      // ДатаФормирования as written (date-only and unpadded hours occur)
	Namespace     string `json:"namespace"`      // xmlns of the root, "" when none
}

// Unit is a БазоваяЕдиница: Code is the trimmed ОКЕИ code (1C pads it: Код="796 ", docs/commerceml.md §2.2).
type Unit struct {
	Code     string `json:"code,omitempty"`      // Код, e.g. "796" (piece), "166" (kilogram)
	Name     string `json:"name,omitempty"`      // text content or НаименованиеКраткое, e.g. "шт"
	FullName string `json:"full_name,omitempty"` // НаименованиеПолное, e.g. "Штука"
	Intl     string `json:"intl,omitempty"`      // МеждународноеСокращение, e.g. "PCE"
}

// Group is one Классификатор/Группы/Группа; Parent is "" for a top-level group.
type Group struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Parent string `json:"parent,omitempty"`
}

// PriceType is one ТипыЦен/ТипЦены (in ПакетПредложений or, in УТ 11 packages, in Классификатор).
type PriceType struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency,omitempty"`
}

// Warehouse is one Склады/Склад.
type Warehouse struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Requisite is a name/value pair from ЗначенияРеквизитов (order matters to 1C's readers, so a slice).
type Requisite struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Characteristic is one ХарактеристикиТовара/ХарактеристикаТовара: a property of a variant, e.g.
// Палітурка = тверда. 1C:УНФ writes one per property of the characteristic (Наименование = the property,
// Значение = its value), or, exchanging through its web service, one naming the characteristic itself
// (Ид and Наименование, no Значение) (CommonModules/ОбменССайтом, ДобавитьРеквизитыТовараДляПредложенияXDTO).
type Characteristic struct {
	ID    string `json:"id,omitempty"`
	Name  string `json:"name"`
	Value string `json:"value,omitempty"`
}

// Good is one catalogue Товар (import*.xml).
type Good struct {
	ID      string `json:"id"`                // Ид: a 1C GUID, or productGUID#characteristicGUID
	Article string `json:"article,omitempty"` // Артикул
	Name    string `json:"name"`              // Наименование
	// Barcodes are every Штрихкод (also ШтрихКод) element, then every value of the ЗначенияРеквизитов
	// «Штрихкод» (BAS's node may export extra requisites there, several values each): trimmed, a value
	// holding several codes split at commas, semicolons and white space, repeats dropped. Not checked:
	// whether a value is a valid barcode is the consumer's rule.
	Barcodes        []string         `json:"barcodes,omitempty"`
	Unit            Unit             `json:"unit"`               // БазоваяЕдиница
	Groups          []string         `json:"groups,omitempty"`   // Группы/Ид
	VATRate         string           `json:"vat_rate,omitempty"` // СтавкиНалогов/СтавкаНалога/Ставка, or the ЗначенияРеквизитов «Ставка НДС»/«Ставка ПДВ»; as written
	Characteristics []Characteristic `json:"characteristics,omitempty"`
	Requisites      []Requisite      `json:"requisites,omitempty"`
	Deleted         bool             `json:"deleted,omitempty"` // Статус="Удален" or ПометкаУдаления=true
	Line            int              `json:"line"`              // line of the opening <Товар> tag, for messages
}

// Variant splits an Ид of the form productGUID#characteristicGUID (1C:УНФ, CommonModules/ОбменССайтомПовтИсп,
// СформироватьУникальныйИдентификаторОбъекта; docs/formats.md, "Characteristics"). ok is false for a
// plain Ид, and for an Ид with nothing after '#' (offers packages carry "catalogGUID#").
func Variant(id string) (product, characteristic string, ok bool) {
	product, characteristic, ok = strings.Cut(id, "#")
	if !ok || product == "" || characteristic == "" {
		return id, "", false
	}
	return product, characteristic, true
}

// Price is one Цены/Цена of an offer. PerUnit is exact: never parse Представление (docs/commerceml.md §3.2).
type Price struct {
	TypeID   string          `json:"type_id"`            // ИдТипаЦены
	PerUnit  decimal.Decimal `json:"per_unit"`           // ЦенаЗаЕдиницу
	Currency string          `json:"currency,omitempty"` // Валюта
	Unit     string          `json:"unit,omitempty"`     // Единица
	Factor   string          `json:"factor,omitempty"`   // Коэффициент, as written
}

// Stock is the quantity on one warehouse. Quantities may be negative or fractional (docs/commerceml.md §3.2).
type Stock struct {
	WarehouseID string          `json:"warehouse_id"`
	Quantity    decimal.Decimal `json:"quantity"`
}

// Offer is one Предложение of offers*.xml, prices*.xml or rests*.xml. An offer of a variant has the Ид
// productGUID#characteristicGUID, the product's Артикул, the variant's own Штрихкод, a Наименование
// "product (characteristic)" and the characteristic's properties in Characteristics (1C:УНФ,
// CommonModules/ОбменССайтом, ДобавитьРеквизитыТовараДляПредложенияXDTO).
type Offer struct {
	ID              string           `json:"id"`
	Article         string           `json:"article,omitempty"`
	Name            string           `json:"name,omitempty"`
	Barcodes        []string         `json:"barcodes,omitempty"` // as Good.Barcodes
	Unit            Unit             `json:"unit"`
	Characteristics []Characteristic `json:"characteristics,omitempty"`
	Requisites      []Requisite      `json:"requisites,omitempty"`
	Prices          []Price          `json:"prices,omitempty"`
	Quantity        *decimal.Decimal `json:"quantity,omitempty"` // Количество total; nil when absent (absent is not 0, docs/commerceml.md §3.2)
	Stocks          []Stock          `json:"stocks,omitempty"`   // per warehouse, from <Склад ИдСклада КоличествоНаСкладе/> or Остатки
	Deleted         bool             `json:"deleted,omitempty"`
	Line            int              `json:"line"`
}

// Counterparty is a document's Контрагент.
type Counterparty struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	FullName string `json:"full_name,omitempty"`
	Role     string `json:"role"` // Роль, e.g. "Покупатель"
}

// Tax is a Налоги/Налог of a document or a line. BAS's loader recognises only the name «НДС» with
// Ставка exactly "20", "7" or "0"; any other Ставка is read as "not subject to VAT"
// (docs/bas-orders.md, «ПДВ»).
type Tax struct {
	Name    string          `json:"name"`     // Наименование, e.g. "НДС"
	Rate    string          `json:"rate"`     // Ставка as written: "20", "7", "0", "Без ПДВ"
	InTotal bool            `json:"in_total"` // УчтеноВСумме: the tax is inside the sums
	Sum     decimal.Decimal `json:"sum"`      // Сумма of the tax
}

// Discount is a Скидки/Скидка, on a document or a line.
type Discount struct {
	Name    string           `json:"name"`
	Sum     decimal.Decimal  `json:"sum"`
	Percent *decimal.Decimal `json:"percent,omitempty"`
	InTotal bool             `json:"in_total"` // УчтеноВСумме: the sum is already deducted from Сумма
}

// DocumentLine is a Документ/Товары/Товар.
type DocumentLine struct {
	ID           string          `json:"id"`                // exactly the Ид BAS exported for the good (docs/commerceml.md §5.1)
	Article      string          `json:"article,omitempty"` // exactly the Артикул BAS exported
	Name         string          `json:"name"`
	Unit         Unit            `json:"unit"`
	PricePerUnit decimal.Decimal `json:"price_per_unit"` // ЦенаЗаЕдиницу
	Quantity     decimal.Decimal `json:"quantity"`       // Количество
	Sum          decimal.Decimal `json:"sum"`            // Сумма, after the line's discounts
	Discounts    []Discount      `json:"discounts,omitempty"`
	Taxes        []Tax           `json:"taxes,omitempty"`
	Requisites   []Requisite     `json:"requisites,omitempty"`
}

// Document is one Документ: what obmin writes for a receipt, and what it reads back from BAS's own
// orders export to learn which orders BAS holds.
type Document struct {
	ID           string          `json:"id"`
	Number       string          `json:"number"`    // Номер: BAS keys site orders on it (docs/commerceml.md §1.5)
	Time         time.Time       `json:"time"`      // Дата + Время; written in Europe/Kyiv
	Operation    string          `json:"operation"` // ХозОперация, e.g. "Заказ товара"
	Role         string          `json:"role"`      // Роль, e.g. "Продавец"
	Currency     string          `json:"currency"`
	Rate         decimal.Decimal `json:"rate"`
	Total        decimal.Decimal `json:"total"` // Сумма
	Counterparty Counterparty    `json:"counterparty"`
	Comment      string          `json:"comment,omitempty"`
	Taxes        []Tax           `json:"taxes,omitempty"`
	Discounts    []Discount      `json:"discounts,omitempty"`
	Lines        []DocumentLine  `json:"lines"`
	Requisites   []Requisite     `json:"requisites,omitempty"`
	Line         int             `json:"line,omitempty"` // set by the reader
}

// Summary describes a file after a full read.
type Summary struct {
	Header      Header `json:"header"`
	Kind        Kind   `json:"kind"`
	OnlyChanges bool   `json:"only_changes"` // СодержитТолькоИзменения on Каталог or ПакетПредложений
	Groups      int    `json:"groups"`
	PriceTypes  int    `json:"price_types"`
	Warehouses  int    `json:"warehouses"`
	Goods       int    `json:"goods"`
	Offers      int    `json:"offers"`
	Documents   int    `json:"documents"`
}

// Handler receives the records of a file one at a time, in file order. A nil field skips that record
// kind. Returning an error stops the read; Read returns it wrapped.
type Handler struct {
	Header    func(Header) error
	Group     func(Group) error
	PriceType func(PriceType) error
	Warehouse func(Warehouse) error
	Good      func(Good) error
	Offer     func(Offer) error
	Document  func(Document) error
}
