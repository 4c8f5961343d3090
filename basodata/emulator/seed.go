package emulator

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"obmin/commerceml"
)

// The objects a base holds before obmin comes: those of the configuration's initial fill (predefined
// items, docs/bas-odata.md §5) and a shop set up as a small bookstore would be. Keys are derived from
// set and code, so they are the same in every run.

var seedNS = uuid.MustParse("5a3c9b1e-2f47-4d8e-9c60-0b1a5d0c0de5")

// seedRef is the fixed key of the seeded item of set with this code.
func seedRef(set, code string) string {
	return uuid.NewSHA1(seedNS, []byte(set+"/"+code)).String()
}

// Refs are the keys of the seeded base objects.
type Refs struct {
	Organization, Currency                     string
	Warehouse, Department, Shop                string // СтруктурныеЕдиницы: main warehouse, main department, the shop
	RetailPriceKind                            string
	VAT20, VAT7, VAT0, NoVAT                   string
	Piece, Kilogram                            string // КлассификаторЕдиницИзмерения
	CashFlowItem                               string // ОплатаОтПокупателей
	Till, Terminal                             string // the first till and its terminal
	TillCode, ShopCode, TerminalCode, CardKind string
}

// Refs returns the keys of the seeded base objects.
func (e *Emulator) Refs() Refs {
	return Refs{
		Organization: seedRef("Catalog_Организации", "00-000001"), Currency: seedRef("Catalog_Валюты", "980"),
		Warehouse: seedRef("Catalog_СтруктурныеЕдиницы", "00-000001"), Department: seedRef("Catalog_СтруктурныеЕдиницы", "00-000002"),
		Shop: seedRef("Catalog_СтруктурныеЕдиницы", "00-000003"), RetailPriceKind: seedRef("Catalog_ВидыЦен", "00-000003"),
		VAT20: seedRef("Catalog_СтавкиНДС", "20%"), VAT7: seedRef("Catalog_СтавкиНДС", "7%"), VAT0: seedRef("Catalog_СтавкиНДС", "0%"),
		NoVAT: seedRef("Catalog_СтавкиНДС", "Без ПДВ"), Piece: seedRef("Catalog_КлассификаторЕдиницИзмерения", "2009"),
		Kilogram: seedRef("Catalog_КлассификаторЕдиницИзмерения", "0301"), CashFlowItem: seedRef("Catalog_СтатьиДвиженияДенежныхСредств", "00-000003"),
		Till: seedRef("Catalog_КассыККМ", "00-000001"), Terminal: seedRef("Catalog_ЭквайринговыеТерминалы", "0000000001"),
		TillCode: "00-000001", ShopCode: "00-000003", TerminalCode: "0000000001", CardKind: "Visa",
	}
}

// seed stores an item of set; its key is fields' Ref_Key, else derived from its Code (or Description).
func (e *Emulator) seed(set string, fields obj) string {
	s := e.sets[set]
	if fields["Ref_Key"] == nil {
		code, _ := fields["Code"].(string)
		if code == "" {
			code, _ = fields["Description"].(string)
		}
		fields["Ref_Key"] = seedRef(set, code)
	}
	if s.t.Prop("DeletionMark") != nil && fields["DeletionMark"] == nil {
		fields["DeletionMark"] = false
	}
	if s.t.Prop("DataVersion") != nil {
		fields["DataVersion"] = e.nextVersion()
	}
	ref := fields.str("Ref_Key")
	if old := s.byRef[ref]; old != nil {
		s.replace(ref, fields)
	} else {
		s.put(fields)
	}
	return ref
}

func predefined(name string) obj { return obj{"Predefined": true, "PredefinedDataName": name} }

func with(a, b obj) obj {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func (e *Emulator) seedBase() {
	r := e.Refs()
	e.seed("Catalog_Организации", with(predefined("ОсновнаяОрганизация"), obj{"Code": "00-000001", "Description": e.cfg.Organization,
		"НаименованиеПолное": e.cfg.Organization, "ЮридическоеФизическоеЛицо": "ЮридическоеЛицо"}))
	e.seed("Catalog_Валюты", obj{"Code": "980", "Description": "грн", "НаименованиеПолное": "Гривня", "СпособУстановкиКурса": "РучнойВвод"})
	for _, v := range []struct {
		code, name string
		rate       int64
		noVAT      bool
	}{{"20%", "20%", 20, false}, {"7%", "7%", 7, false}, {"0%", "0%", 0, false}, {"Без ПДВ", "Без ПДВ", 0, true}} {
		f := obj{"Ref_Key": seedRef("Catalog_СтавкиНДС", v.code), "Description": v.name, "Ставка": decimal.NewFromInt(v.rate), "НеОблагается": v.noVAT}
		if v.code == "20%" {
			f = with(f, predefined("ОсновнаяСтавкаНДС"))
		}
		e.seed("Catalog_СтавкиНДС", f)
	}
	e.seed("Catalog_КлассификаторЕдиницИзмерения", with(predefined("шт"), obj{"Code": "2009", "Description": "шт", "НаименованиеПолное": "Штука"}))
	e.seed("Catalog_КлассификаторЕдиницИзмерения", with(predefined("ч"), obj{"Code": "0175", "Description": "ч", "НаименованиеПолное": "Година"}))
	e.seed("Catalog_КлассификаторЕдиницИзмерения", obj{"Code": "0301", "Description": "кг", "НаименованиеПолное": "Кілограм"})
	e.seed("Catalog_ВидыЦен", with(predefined("Оптовая"), obj{"Code": "00-000001", "Description": "Оптова ціна", "ВалютаЦены_Key": r.Currency, "ТипВидаЦен": "Статический"}))
	e.seed("Catalog_ВидыЦен", with(predefined("Учетная"), obj{"Code": "00-000002", "Description": "Облікова ціна", "ВалютаЦены_Key": r.Currency, "ТипВидаЦен": "Статический"}))
	e.seed("Catalog_ВидыЦен", obj{"Code": "00-000003", "Description": "Роздрібна ціна", "ВалютаЦены_Key": r.Currency, "ТипВидаЦен": "Статический", "ЦенаВключаетНДС": true})
	e.seed("Catalog_СтруктурныеЕдиницы", with(predefined("ОсновнойСклад"), obj{"Code": "00-000001", "Description": "Основний склад", "ТипСтруктурнойЕдиницы": "Склад", "Организация_Key": r.Organization}))
	e.seed("Catalog_СтруктурныеЕдиницы", with(predefined("ОсновноеПодразделение"), obj{"Code": "00-000002", "Description": "Основний підрозділ", "ТипСтруктурнойЕдиницы": "Подразделение", "Организация_Key": r.Organization}))
	e.seed("Catalog_СтруктурныеЕдиницы", obj{"Code": "00-000003", "Description": "Магазин на Хрещатику", "ТипСтруктурнойЕдиницы": "Розница",
		"Организация_Key": r.Organization, "РозничныйВидЦен_Key": r.RetailPriceKind})
	for _, it := range []struct{ name, code, desc string }{
		{"ПоложительнаяКурсоваяРазница", "00-000001", "Позитивна курсова різниця"}, {"ОтрицательнаяКурсоваяРазница", "00-000002", "Негативна курсова різниця"},
		{"ОплатаОтПокупателей", "00-000003", "Оплата від покупців"}, {"ОплатаПоставщикам", "00-000004", "Оплата постачальникам"},
		{"Прочее", "00-000005", "Інше"}, {"Платежи", "00-000006", "Платежі"}, {"Поступления", "00-000007", "Надходження"},
		{"ВводНачальныхОстатков", "00-000008", "Введення початкових залишків"},
	} {
		e.seed("Catalog_СтатьиДвиженияДенежныхСредств", with(predefined(it.name), obj{"Code": it.code, "Description": it.desc, "IsFolder": false}))
	}
	e.AddTill(TillSpec{Code: r.TillCode, Name: "Каса 1 (Checkbox)"})
	e.seed("Catalog_ЭквайринговыеТерминалы", obj{"Code": r.TerminalCode, "Description": "Термінал ПриватБанку", "Организация_Key": r.Organization,
		"Касса": r.Till, "Касса_Type": "StandardODATA.Catalog_КассыККМ",
		"ВидыПлатежныхКарт": []obj{{"LineNumber": int64(1), "ВидПлатежнойКарты": "Visa"}, {"LineNumber": int64(2), "ВидПлатежнойКарты": "MasterCard"}}})
}

// TillSpec describes a till (Catalog.КассыККМ) to add.
type TillSpec struct {
	Code, Name string
	Type       string // default АвтономнаяККМ
	Store      string // Ref_Key of its store; default the shop
}

// AddTill adds a till owned by the organisation, in national currency, and returns its key.
func (e *Emulator) AddTill(t TillSpec) string {
	r := e.Refs()
	if t.Type == "" {
		t.Type = "АвтономнаяККМ"
	}
	if t.Store == "" {
		t.Store = r.Shop
	}
	e.lockIfServing(func() {
		e.seed("Catalog_КассыККМ", obj{"Code": t.Code, "Description": t.Name, "Owner_Key": r.Organization, "СтруктурнаяЕдиница_Key": t.Store,
			"Подразделение_Key": r.Department, "ТипКассы": t.Type, "ВалютаДенежныхСредств_Key": r.Currency, "ИспользоватьБезПодключенияОборудования": true})
	})
	return seedRef("Catalog_КассыККМ", t.Code)
}

// lockIfServing runs fn under the lock (seeding during New runs before anything else can hold it).
func (e *Emulator) lockIfServing(fn func()) {
	if e.seeded {
		e.mu.Lock()
		defer e.mu.Unlock()
	}
	fn()
}

// Good is a good to add: ID is BAS's Ид, a GUID or GUID#characteristic-GUID.
type Good struct {
	ID, Article, Name string
	UnitCode, Unit    string // КлассификаторЕдиницИзмерения code and short name, e.g. "2009", "шт"
	VATRate           string // "20", "7", "0" or "Без ПДВ"
	Service           bool   // ТипНоменклатуры Услуга: no stock
	Stock             decimal.Decimal
}

// AddGood adds a good (and its characteristic) with Ref_Key = the GUID parts of its Ид, as BAS's
// export writes them (docs/bas-odata.md §5), and sets its stock in the shop when Stock is not zero.
func (e *Emulator) AddGood(g Good) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.addGood(g)
}

func (e *Emulator) addGood(g Good) error {
	r := e.Refs()
	itemID, charID, _ := strings.Cut(g.ID, "#")
	if !isGUID(itemID) || (charID != "" && !isGUID(charID)) {
		return fmt.Errorf("good %q: Ид %q is not GUID or GUID#GUID", g.Name, g.ID)
	}
	itemID, charID = strings.ToLower(itemID), strings.ToLower(charID)
	unit := r.Piece
	if code := strings.TrimSpace(g.UnitCode); code != "" {
		switch code {
		case "796", "2009":
			unit = r.Piece
		case "166", "0301":
			unit = r.Kilogram
		default:
			unit = e.seed("Catalog_КлассификаторЕдиницИзмерения", obj{"Code": cut(code, 4), "Description": cut(g.Unit, 25)})
		}
	}
	vat := r.VAT20
	switch strings.ToLower(strings.TrimSuffix(strings.TrimSpace(g.VATRate), "%")) {
	case "7":
		vat = r.VAT7
	case "0":
		vat = r.VAT0
	case "без пдв", "без ндс":
		vat = r.NoVAT
	}
	kind := "Запас"
	if g.Service {
		kind = "Услуга"
	}
	set := e.sets["Catalog_Номенклатура"]
	code := fmt.Sprintf("00-%08d", len(set.order)+1)
	if old := set.byRef[itemID]; old != nil {
		code = old.str("Code")
	}
	name := g.Name
	if charID != "" {
		name, _, _ = strings.Cut(g.Name, " (")
	}
	e.seed("Catalog_Номенклатура", obj{"Ref_Key": itemID, "Code": code, "Description": cut(name, 100), "НаименованиеПолное": name,
		"IsFolder": false, "Артикул": cut(g.Article, 25), "ЕдиницаИзмерения_Key": unit, "ТипНоменклатуры": kind, "СтавкаНДС_Key": vat,
		"ИспользоватьХарактеристики": charID != "", "Parent_Key": emptyRef})
	if charID != "" {
		e.addCharacteristic(itemID, charID, g.Name)
	}
	if !g.Stock.IsZero() && !g.Service {
		e.setStock(r.Shop, itemID, charID, g.Stock)
	}
	return nil
}

// addCharacteristic adds a characteristic of the good itemID, as BAS holds one it exported in an offer
// "<good>#<characteristic>".
func (e *Emulator) addCharacteristic(itemID, charID, name string) {
	set := e.sets["Catalog_ХарактеристикиНоменклатуры"]
	if set.byRef[charID] != nil {
		return
	}
	e.seed("Catalog_ХарактеристикиНоменклатуры", obj{"Ref_Key": charID, "Code": fmt.Sprintf("%09d", len(set.order)+1),
		"Description": cut(name, 150), "Owner": itemID, "Owner_Type": "StandardODATA.Catalog_Номенклатура", "НаименованиеДляПечати": name})
	if item := e.sets["Catalog_Номенклатура"].byRef[itemID]; item != nil {
		item["ИспользоватьХарактеристики"] = true
	}
}

func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// openingRecorder stands for the document that entered the opening balances.
const openingRecorder = "0ee11111-0000-4000-8000-000000000001"

// SetStock enters an opening balance of a good in a store, as «Ввод начальных остатков» does.
func (e *Emulator) SetStock(store, good, char string, qty decimal.Decimal) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.setStock(store, good, char, qty)
}

func (e *Emulator) setStock(store, good, char string, qty decimal.Decimal) {
	if char == "" {
		char = emptyRef
	}
	k := stockKey{e.Refs().Organization, strings.ToLower(store), strings.ToLower(good), strings.ToLower(char)}
	diff := qty.Sub(e.balance(k))
	if diff.IsZero() {
		return
	}
	kind := "Receipt"
	if diff.IsNegative() {
		kind, diff = "Expense", diff.Neg()
	}
	e.sets[movementSet].put(obj{"Recorder": openingRecorder, "Recorder_Type": "StandardODATA.Document_ВводНачальныхОстатков",
		"Period": "2025-01-01T00:00:00", "LineNumber": int64(len(e.sets[movementSet].order) + 1), "Active": true, "RecordType": kind,
		"Организация_Key": k.org, "СтруктурнаяЕдиница": k.store, "СтруктурнаяЕдиница_Type": "StandardODATA.Catalog_СтруктурныеЕдиницы",
		"Номенклатура_Key": k.good, "Характеристика_Key": k.char, "Количество": diff, "Сумма": decimal.Zero})
}

// SeedCatalog adds the goods of a CommerceML catalogue (import.xml) and, from an offers file, their
// stock in the shop; name is for messages. It returns how many goods it read.
func (e *Emulator) SeedCatalog(r io.Reader, name string) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	_, err := commerceml.Read(r, name, commerceml.Handler{
		Good: func(g commerceml.Good) error {
			if g.Deleted {
				return nil
			}
			n++
			kind := ""
			for _, rq := range g.Requisites {
				if rq.Name == "ТипНоменклатуры" || rq.Name == "Тип номенклатуры" {
					kind = rq.Value
				}
			}
			return e.addGood(Good{ID: g.ID, Article: g.Article, Name: g.Name, UnitCode: g.Unit.Code, Unit: g.Unit.Name,
				VATRate: g.VATRate, Service: strings.EqualFold(kind, "Услуга") || strings.EqualFold(kind, "Послуга")})
		},
		Offer: func(o commerceml.Offer) error {
			item, char, _ := strings.Cut(o.ID, "#")
			item, char = strings.ToLower(item), strings.ToLower(char)
			if e.sets["Catalog_Номенклатура"].byRef[item] == nil {
				return nil
			}
			if char != "" && isGUID(char) {
				// 1C's catalogue lists a good once; its characteristics come in the offers.
				e.addCharacteristic(item, char, o.Name)
			}
			if o.Quantity == nil {
				return nil
			}
			e.setStock(e.Refs().Shop, item, char, *o.Quantity)
			return nil
		},
	})
	return n, err
}

// SeedExport adds the goods of BAS's export: the catalogue (import.xml) first, then the stock of its
// offers (offers.xml), which names goods the catalogue must have added. It returns how many goods the
// catalogue held.
func (e *Emulator) SeedExport(catalog, offers []byte) (int, error) {
	n, err := e.SeedCatalog(bytes.NewReader(catalog), "import.xml")
	if err != nil {
		return n, err
	}
	_, err = e.SeedCatalog(bytes.NewReader(offers), "offers.xml")
	return n, err
}
