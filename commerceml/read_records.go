package commerceml

import (
	"encoding/xml"
	"slices"
	"strings"

	"github.com/shopspring/decimal"
)

// readClassifier reads Классификатор: groups, and the price types and warehouses УТ 11 puts there
// instead of in the offers package (docs/commerceml.md §3.2).
func (r *reader) readClassifier() error {
	return r.children(func(el xml.StartElement, line int) error {
		switch el.Name.Local {
		case "Группы":
			return r.readGroups("")
		case "ТипыЦен":
			return r.readPriceTypes()
		case "Склады":
			return r.readWarehouses()
		}
		return nil
	})
}

// groupNode is one Группа with its nested groups. A group's subtree is buffered so that its Ид is
// known before its children are emitted even when Группы comes before Ид (element order is free).
// Group trees are small, unlike the goods list.
type groupNode struct {
	Group
	line     int
	children []groupNode
}

func (r *reader) readGroups(parent string) error {
	return r.children(func(el xml.StartElement, line int) error {
		if el.Name.Local != "Группа" {
			return nil
		}
		n, err := r.readGroup(line)
		if err != nil {
			return err
		}
		return r.emitGroup(n, parent)
	})
}

func (r *reader) readGroup(line int) (groupNode, error) {
	n := groupNode{line: line}
	err := r.children(func(el xml.StartElement, _ int) error {
		var err error
		switch el.Name.Local {
		case "Ид":
			n.ID, err = r.text()
		case "Наименование":
			n.Name, err = r.text()
		case "Группы":
			err = r.children(func(el xml.StartElement, line int) error {
				if el.Name.Local != "Группа" {
					return nil
				}
				c, err := r.readGroup(line)
				n.children = append(n.children, c)
				return err
			})
		}
		return err
	})
	return n, err
}

// emitGroup hands a group to the handler before its children, so a consumer always knows the parent.
func (r *reader) emitGroup(n groupNode, parent string) error {
	g := n.Group
	g.Parent = parent
	r.sum.Groups++
	if r.h.Group != nil {
		if err := r.h.Group(g); err != nil {
			return r.handlerErr(n.line, "Группа", err)
		}
	}
	for _, c := range n.children {
		if err := r.emitGroup(c, g.ID); err != nil {
			return err
		}
	}
	return nil
}

func (r *reader) readPriceTypes() error {
	return r.children(func(el xml.StartElement, line int) error {
		if el.Name.Local != "ТипЦены" {
			return nil
		}
		var pt PriceType
		err := r.children(func(el xml.StartElement, _ int) error {
			var err error
			switch el.Name.Local {
			case "Ид":
				pt.ID, err = r.text()
			case "Наименование":
				pt.Name, err = r.text()
			case "Валюта":
				pt.Currency, err = r.trimmedText()
			}
			return err
		})
		if err != nil {
			return err
		}
		r.sum.PriceTypes++
		if r.h.PriceType != nil {
			if err := r.h.PriceType(pt); err != nil {
				return r.handlerErr(line, "ТипЦены", err)
			}
		}
		return nil
	})
}

func (r *reader) readWarehouses() error {
	return r.children(func(el xml.StartElement, line int) error {
		if el.Name.Local != "Склад" {
			return nil
		}
		var w Warehouse
		err := r.children(func(el xml.StartElement, _ int) error {
			var err error
			switch el.Name.Local {
			case "Ид":
				w.ID, err = r.text()
			case "Наименование":
				w.Name, err = r.text()
			}
			return err
		})
		if err != nil {
			return err
		}
		r.sum.Warehouses++
		if r.h.Warehouse != nil {
			if err := r.h.Warehouse(w); err != nil {
				return r.handlerErr(line, "Склад", err)
			}
		}
		return nil
	})
}

// readCatalog reads Каталог: the change flag and the goods, one Товар at a time.
func (r *reader) readCatalog(se xml.StartElement) error {
	if v, ok := attrValue(se, "СодержитТолькоИзменения"); ok && onlyChangesValue(v) {
		r.sum.OnlyChanges = true
	}
	return r.children(func(el xml.StartElement, _ int) error {
		switch el.Name.Local {
		case "СодержитТолькоИзменения":
			return r.readOnlyChangesElement()
		case "Товары":
			return r.children(func(el xml.StartElement, line int) error {
				if el.Name.Local != "Товар" {
					return nil
				}
				g, err := r.readGood(el, line)
				if err != nil {
					return err
				}
				r.sum.Goods++
				if r.h.Good != nil {
					if err := r.h.Good(g); err != nil {
						return r.handlerErr(line, "Товар", err)
					}
				}
				return nil
			})
		}
		return nil
	})
}

// readOnlyChangesElement reads the element form <СодержитТолькоИзменения>true</…> some third-party
// exporters write (docs/commerceml.md §4.1).
func (r *reader) readOnlyChangesElement() error {
	s, err := r.trimmedText()
	if err != nil {
		return err
	}
	if onlyChangesValue(s) {
		r.sum.OnlyChanges = true
	}
	return nil
}

func (r *reader) readGood(se xml.StartElement, line int) (Good, error) {
	g := Good{Line: line, Deleted: statusDeleted(se)}
	taxRate := ""
	err := r.children(func(el xml.StartElement, l int) error {
		var err error
		switch el.Name.Local {
		case "Ид":
			g.ID, err = r.text()
		case "Артикул":
			g.Article, err = r.text()
		case "Наименование":
			g.Name, err = r.text()
		case "Штрихкод", "ШтрихКод": // docs/commerceml.md §2.2: Bitrix reads both spellings
			g.Barcodes, err = r.appendBarcode(g.Barcodes)
		case "БазоваяЕдиница":
			g.Unit, err = r.readUnit(el)
		case "Группы":
			g.Groups, err = r.readIDs(g.Groups)
		case "СтавкиНалогов":
			var rate string
			if rate, err = r.readTaxRate(); rate != "" && taxRate == "" {
				taxRate = rate
			}
		case "ЗначенияРеквизитов":
			g.Requisites, err = r.readRequisites(g.Requisites)
		case "ХарактеристикиТовара":
			g.Characteristics, err = r.readCharacteristics(g.Characteristics)
		case "ПометкаУдаления", "Статус":
			var del bool
			if del, err = r.readDeletion(el, l, "Товар"); del {
				g.Deleted = true
			}
		}
		return err
	})
	g.Barcodes = barcodesOf(g.Barcodes, g.Requisites)
	g.VATRate = taxRate
	if g.VATRate == "" {
		g.VATRate = vatFromRequisites(g.Requisites)
	}
	return g, err
}

// statusDeleted tells the attribute form of deletion, Статус="Удален" (docs/commerceml.md §2.2).
func statusDeleted(se xml.StartElement) bool {
	v, _ := attrValue(se, "Статус")
	return strings.EqualFold(strings.TrimSpace(v), "Удален")
}

// readDeletion reads a child ПометкаУдаления (a boolean) or Статус (the element twin of the attribute).
func (r *reader) readDeletion(el xml.StartElement, line int, parent string) (bool, error) {
	s, err := r.trimmedText()
	if err != nil {
		return false, err
	}
	if el.Name.Local == "Статус" {
		return strings.EqualFold(s, "Удален"), nil
	}
	del, err := parseBool(s)
	if err != nil {
		return false, r.valueErr(line, parent, el.Name.Local, s, err)
	}
	return del, nil
}

func (r *reader) appendBarcode(list []string) ([]string, error) {
	s, err := r.trimmedText()
	if err != nil || s == "" {
		return list, err
	}
	return append(list, s), nil
}

// barcodeRequisiteNames are the ЗначенияРеквизитов names that carry barcodes, normalised by
// normRequisiteName with hyphens dropped: «Штрихкод», «Штрих-код», «Штрихкоды», «Штрихкоди».
var barcodeRequisiteNames = map[string]bool{"штрихкод": true, "штрихкоды": true, "штрихкоди": true}

// barcodesOf is the Штрихкод elements' values followed by those of the «Штрихкод» requisites, each
// value split where it lists several codes, trimmed, repeats dropped.
func barcodesOf(elements []string, reqs []Requisite) []string {
	var out []string
	add := func(v string) {
		if v != "" && !strings.ContainsAny(v, ",; \t\n\r\u00a0") {
			if !slices.Contains(out, v) {
				out = append(out, v)
			}
			return
		}
		for _, code := range strings.FieldsFunc(v, func(c rune) bool {
			return c == ',' || c == ';' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\u00a0'
		}) {
			if !slices.Contains(out, code) { // a good has a handful of barcodes: no map needed
				out = append(out, code)
			}
		}
	}
	for _, v := range elements {
		add(v)
	}
	for _, q := range reqs {
		if barcodeRequisiteNames[strings.ReplaceAll(normRequisiteName(q.Name), "-", "")] {
			add(q.Value)
		}
	}
	return out
}

// readCharacteristics appends every ХарактеристикаТовара.
func (r *reader) readCharacteristics(list []Characteristic) ([]Characteristic, error) {
	err := r.children(func(el xml.StartElement, _ int) error {
		if el.Name.Local != "ХарактеристикаТовара" {
			return nil
		}
		var c Characteristic
		err := r.children(func(el xml.StartElement, _ int) error {
			var err error
			switch el.Name.Local {
			case "Ид":
				c.ID, err = r.trimmedText()
			case "Наименование":
				c.Name, err = r.trimmedText()
			case "Значение":
				c.Value, err = r.trimmedText()
			}
			return err
		})
		if err == nil && (c.Name != "" || c.Value != "") {
			list = append(list, c)
		}
		return err
	})
	return list, err
}

// readIDs appends the text of every Ид child (Группы/Ид: a good may sit in several groups).
func (r *reader) readIDs(list []string) ([]string, error) {
	err := r.children(func(el xml.StartElement, _ int) error {
		if el.Name.Local != "Ид" {
			return nil
		}
		s, err := r.text()
		if err == nil && s != "" {
			list = append(list, s)
		}
		return err
	})
	return list, err
}

// readUnit reads a БазоваяЕдиница: attributes Код (trimmed: 1C writes Код="796 ", docs/commerceml.md §2.2),
// НаименованиеПолное, МеждународноеСокращение, НаименованиеКраткое, and its own text as the short
// name. The same fields as child elements are accepted too: 1C's own order export writes a
// document line's unit as <Единица><Код>…</Код><НаименованиеКраткое>…</…></Единица>. Other children
// (Пересчет) are skipped.
func (r *reader) readUnit(se xml.StartElement) (Unit, error) {
	var u Unit
	short := ""
	for _, a := range se.Attr {
		switch a.Name.Local {
		case "Код":
			u.Code = strings.TrimSpace(a.Value)
		case "НаименованиеПолное":
			u.FullName = a.Value
		case "МеждународноеСокращение":
			u.Intl = strings.TrimSpace(a.Value)
		case "НаименованиеКраткое":
			short = strings.TrimSpace(a.Value)
		}
	}
	var own []byte
	err := r.walk(func(el xml.StartElement, _ int) error {
		var (
			s   string
			err error
		)
		switch el.Name.Local {
		case "Код":
			if s, err = r.trimmedText(); u.Code == "" {
				u.Code = s
			}
		case "НаименованиеПолное":
			if s, err = r.text(); u.FullName == "" {
				u.FullName = s
			}
		case "МеждународноеСокращение":
			if s, err = r.trimmedText(); u.Intl == "" {
				u.Intl = s
			}
		case "НаименованиеКраткое":
			if s, err = r.trimmedText(); short == "" {
				short = s
			}
		}
		return err
	}, &own)
	u.Name = strings.TrimSpace(string(own))
	if u.Name == "" {
		u.Name = short
	}
	return u, err
}

// readTaxRate returns the first СтавкиНалогов/СтавкаНалога/Ставка, as written.
func (r *reader) readTaxRate() (string, error) {
	rate := ""
	err := r.children(func(el xml.StartElement, _ int) error {
		if el.Name.Local != "СтавкаНалога" {
			return nil
		}
		return r.children(func(el xml.StartElement, _ int) error {
			if el.Name.Local != "Ставка" {
				return nil
			}
			s, err := r.trimmedText()
			if rate == "" {
				rate = s
			}
			return err
		})
	})
	return rate, err
}

// vatRequisiteNames are the ЗначенияРеквизитов names that carry a VAT rate when СтавкиНалогов is
// absent, normalised by normRequisiteName (Russian НДС and Ukrainian ПДВ spellings).
var vatRequisiteNames = map[string]bool{"ставкандс": true, "ставкапдв": true}

func vatFromRequisites(reqs []Requisite) string {
	for _, q := range reqs {
		if vatRequisiteNames[normRequisiteName(q.Name)] {
			return strings.TrimSpace(q.Value)
		}
	}
	return ""
}

// normRequisiteName lower-cases a name and drops its white space: «Ставка НДС» → «ставкандс».
func normRequisiteName(s string) string {
	return strings.Map(func(c rune) rune {
		if c == ' ' || c == '\t' || c == '\u00a0' || c == '\n' || c == '\r' {
			return -1
		}
		return c
	}, strings.ToLower(s))
}

// readRequisites appends every ЗначениеРеквизита. A requisite with several Значение becomes several
// pairs with the same name, in order; one with none becomes a pair with an empty value.
func (r *reader) readRequisites(list []Requisite) ([]Requisite, error) {
	err := r.children(func(el xml.StartElement, _ int) error {
		if el.Name.Local != "ЗначениеРеквизита" {
			return nil
		}
		name := ""
		var values []string
		err := r.children(func(el xml.StartElement, _ int) error {
			var (
				s   string
				err error
			)
			switch el.Name.Local {
			case "Наименование":
				name, err = r.text()
			case "Значение":
				s, err = r.text()
				values = append(values, s)
			}
			return err
		})
		if len(values) == 0 {
			values = append(values, "")
		}
		for _, v := range values {
			list = append(list, Requisite{Name: name, Value: v})
		}
		return err
	})
	return list, err
}

// readPackage reads ПакетПредложений or ИзмененияПакетаПредложений: the change flag, price types,
// warehouses and the offers, one Предложение at a time.
func (r *reader) readPackage(se xml.StartElement) error {
	if v, ok := attrValue(se, "СодержитТолькоИзменения"); ok && onlyChangesValue(v) {
		r.sum.OnlyChanges = true
	}
	return r.children(func(el xml.StartElement, _ int) error {
		switch el.Name.Local {
		case "СодержитТолькоИзменения":
			return r.readOnlyChangesElement()
		case "ТипыЦен":
			return r.readPriceTypes()
		case "Склады":
			return r.readWarehouses()
		case "Предложения":
			return r.children(func(el xml.StartElement, line int) error {
				if el.Name.Local != "Предложение" {
					return nil
				}
				o, shape, err := r.readOffer(el, line)
				if err != nil {
					return err
				}
				r.allPrices = r.allPrices && shape == shapePrices
				r.allRests = r.allRests && shape == shapeRests
				r.sum.Offers++
				if r.h.Offer != nil {
					if err := r.h.Offer(o); err != nil {
						return r.handlerErr(line, "Предложение", err)
					}
				}
				return nil
			})
		}
		return nil
	})
}

// sniffPackage classifies a package by its first offer and then stops reading with errSniffDone;
// a package without offers is KindOffers.
func (r *reader) sniffPackage() (Kind, error) {
	kind := KindOffers
	err := r.children(func(el xml.StartElement, _ int) error {
		if el.Name.Local != "Предложения" {
			return nil
		}
		return r.children(func(el xml.StartElement, line int) error {
			if el.Name.Local != "Предложение" {
				return nil
			}
			_, shape, err := r.readOffer(el, line)
			if err != nil {
				return err
			}
			switch shape {
			case shapePrices:
				kind = KindPrices
			case shapeRests:
				kind = KindRests
			}
			return errSniffDone
		})
	})
	return kind, err
}

// offerShape is what an offer's children say about the file it is in (docs/commerceml.md §3.2: Bitrix
// tells prices*.xml and rests*.xml by exactly this key set).
type offerShape int

const (
	shapeOther  offerShape = iota
	shapePrices            // only Ид + Цены
	shapeRests             // only Ид + Остатки
)

func (r *reader) readOffer(se xml.StartElement, line int) (Offer, offerShape, error) {
	o := Offer{Line: line, Deleted: statusDeleted(se)}
	var hasPrices, hasRests, hasOther bool
	err := r.children(func(el xml.StartElement, l int) error {
		var err error
		switch el.Name.Local {
		case "Ид":
		case "Цены":
			hasPrices = true
		case "Остатки":
			hasRests = true
		default:
			hasOther = true
		}
		switch el.Name.Local {
		case "Ид":
			o.ID, err = r.text()
		case "Артикул":
			o.Article, err = r.text()
		case "Наименование":
			o.Name, err = r.text()
		case "Штрихкод", "ШтрихКод":
			o.Barcodes, err = r.appendBarcode(o.Barcodes)
		case "БазоваяЕдиница":
			o.Unit, err = r.readUnit(el)
		case "Цены":
			o.Prices, err = r.readPrices(o.Prices)
		case "Количество":
			var q decimal.Decimal
			if q, err = r.decimalText(el, l, "Предложение"); err == nil {
				o.Quantity = &q
			}
		case "Склад":
			// docs/commerceml.md §3.2 shape 2: <Склад ИдСклада="…" КоличествоНаСкладе="…"/>
			o.Stocks, err = r.readStock(el, l, o.Stocks)
		case "Остатки":
			err = r.readRests(&o)
		case "КоличествоНаСкладах", "Склады":
			// Bitrix's variant КоличествоНаСкладах/КоличествоНаСкладе/{ИдСклада,Количество}, and
			// Склады/Склад of ИзмененияПакетаПредложений (docs/commerceml.md §3.2).
			err = r.children(func(el xml.StartElement, l int) error {
				if el.Name.Local != "КоличествоНаСкладе" && el.Name.Local != "Склад" {
					return nil
				}
				var err error
				o.Stocks, err = r.readStock(el, l, o.Stocks)
				return err
			})
		case "ХарактеристикиТовара":
			o.Characteristics, err = r.readCharacteristics(o.Characteristics)
		case "ЗначенияРеквизитов":
			o.Requisites, err = r.readRequisites(o.Requisites)
		case "ПометкаУдаления", "Статус":
			var del bool
			if del, err = r.readDeletion(el, l, "Предложение"); del {
				o.Deleted = true
			}
		}
		return err
	})
	o.Barcodes = barcodesOf(o.Barcodes, o.Requisites)
	shape := shapeOther
	switch {
	case hasOther:
	case hasPrices && !hasRests:
		shape = shapePrices
	case hasRests && !hasPrices:
		shape = shapeRests
	}
	return o, shape, err
}

func (r *reader) readPrices(list []Price) ([]Price, error) {
	err := r.children(func(el xml.StartElement, line int) error {
		if el.Name.Local != "Цена" {
			return nil
		}
		var p Price
		seen := false
		err := r.children(func(el xml.StartElement, l int) error {
			var err error
			switch el.Name.Local {
			case "ИдТипаЦены":
				p.TypeID, err = r.text()
			case "ЦенаЗаЕдиницу":
				// docs/commerceml.md §3.2: the exact value; Представление is for people and never parsed.
				p.PerUnit, err = r.decimalText(el, l, "Цена")
				seen = true
			case "Валюта":
				p.Currency, err = r.trimmedText()
			case "Единица":
				p.Unit, err = r.trimmedText()
			case "Коэффициент":
				p.Factor, err = r.trimmedText()
			}
			return err
		})
		if err != nil {
			return err
		}
		if !seen {
			// A price without a value must not become a price of 0.
			return r.errAt(line, "Цена", errMissing("ЦенаЗаЕдиницу"))
		}
		list = append(list, p)
		return nil
	})
	return list, err
}

// readRests reads Остатки/Остаток (docs/commerceml.md §3.2 shape 3): an Остаток holds Склад/{Ид,Количество}
// per warehouse, or a bare Количество that is the offer's total.
func (r *reader) readRests(o *Offer) error {
	return r.children(func(el xml.StartElement, _ int) error {
		if el.Name.Local != "Остаток" {
			return nil
		}
		return r.children(func(el xml.StartElement, l int) error {
			var err error
			switch el.Name.Local {
			case "Склад":
				o.Stocks, err = r.readStock(el, l, o.Stocks)
			case "Количество":
				var q decimal.Decimal
				if q, err = r.decimalText(el, l, "Остаток"); err == nil {
					o.Quantity = &q
				}
			}
			return err
		})
	})
}

// readStock reads one warehouse quantity in any of its spellings: attributes ИдСклада and
// КоличествоНаСкладе, or children Ид/ИдСклада and Количество/КоличествоНаСкладе. Negative and
// fractional quantities are kept as read (docs/commerceml.md §3.2); the consumer decides. An entry
// without a quantity is dropped: КоличествоНаСкладе is optional in the XSD and absent is not 0.
func (r *reader) readStock(se xml.StartElement, line int, list []Stock) ([]Stock, error) {
	elem := se.Name.Local
	id, _ := attrValue(se, "ИдСклада")
	var (
		qty    decimal.Decimal
		hasQty bool
	)
	if raw, ok := attrValue(se, "КоличествоНаСкладе"); ok {
		q, err := parseDecimal(raw)
		if err != nil {
			return list, r.valueErr(line, elem, "КоличествоНаСкладе", raw, err)
		}
		qty, hasQty = q, true
	}
	err := r.children(func(el xml.StartElement, l int) error {
		var err error
		switch el.Name.Local {
		case "Ид", "ИдСклада":
			var s string
			if s, err = r.text(); id == "" {
				id = s
			}
		case "Количество", "КоличествоНаСкладе":
			if qty, err = r.decimalText(el, l, elem); err == nil {
				hasQty = true
			}
		}
		return err
	})
	if err != nil {
		return list, err
	}
	if id == "" {
		return list, r.errAt(line, elem, errMissing("warehouse Ид"))
	}
	if !hasQty {
		return list, nil
	}
	return append(list, Stock{WarehouseID: id, Quantity: qty}), nil
}

func (r *reader) readDocument(line int) error {
	d := Document{Line: line}
	var (
		date, clock         string
		dateLine, clockLine int
		haveCounterparty    bool
	)
	err := r.children(func(el xml.StartElement, l int) error {
		var err error
		switch el.Name.Local {
		case "Ид":
			d.ID, err = r.text()
		case "Номер":
			d.Number, err = r.text()
		case "Дата":
			date, err = r.trimmedText()
			dateLine = l
		case "Время":
			clock, err = r.trimmedText()
			clockLine = l
		case "ХозОперация":
			d.Operation, err = r.trimmedText()
		case "Роль":
			d.Role, err = r.trimmedText()
		case "Валюта":
			d.Currency, err = r.trimmedText()
		case "Курс":
			d.Rate, err = r.decimalText(el, l, "Документ")
		case "Сумма":
			d.Total, err = r.decimalText(el, l, "Документ")
		case "Комментарий":
			d.Comment, err = r.text()
		case "Контрагенты":
			err = r.children(func(el xml.StartElement, _ int) error {
				if el.Name.Local != "Контрагент" || haveCounterparty {
					return nil // the first counterparty is the buyer; further ones are skipped
				}
				haveCounterparty = true
				var err error
				d.Counterparty, err = r.readCounterparty()
				return err
			})
		case "Товары":
			err = r.children(func(el xml.StartElement, l int) error {
				if el.Name.Local != "Товар" {
					return nil
				}
				ln, err := r.readDocumentLine(l)
				d.Lines = append(d.Lines, ln)
				return err
			})
		case "Скидки":
			d.Discounts, err = r.readDiscounts(d.Discounts)
		case "ЗначенияРеквизитов":
			d.Requisites, err = r.readRequisites(d.Requisites)
		}
		return err
	})
	if err != nil {
		return err
	}
	if date != "" {
		t, field, err := parseDocTime(date, clock, readLocation())
		if err != nil {
			fl, raw := dateLine, date
			if field == "Время" {
				fl, raw = clockLine, clock
			}
			return r.valueErr(fl, "Документ", field, raw, err)
		}
		d.Time = t
	}
	r.sum.Documents++
	if r.h.Document != nil {
		if err := r.h.Document(d); err != nil {
			return r.handlerErr(line, "Документ", err)
		}
	}
	return nil
}

func (r *reader) readCounterparty() (Counterparty, error) {
	var c Counterparty
	official := ""
	err := r.children(func(el xml.StartElement, _ int) error {
		var err error
		switch el.Name.Local {
		case "Ид":
			c.ID, err = r.text()
		case "Наименование":
			c.Name, err = r.text()
		case "ПолноеНаименование":
			c.FullName, err = r.text()
		case "ОфициальноеНаименование":
			official, err = r.text()
		case "Роль":
			c.Role, err = r.trimmedText()
		}
		return err
	})
	// docs/commerceml.md §5.2: a person has ПолноеНаименование, a company ОфициальноеНаименование.
	if c.FullName == "" {
		c.FullName = official
	}
	return c, err
}

func (r *reader) readDocumentLine(line int) (DocumentLine, error) {
	var (
		ln                  DocumentLine
		price               decimal.Decimal
		havePPU, havePrice  bool
		haveBase, haveOther bool
		other               Unit
	)
	err := r.children(func(el xml.StartElement, l int) error {
		var err error
		switch el.Name.Local {
		case "Ид":
			ln.ID, err = r.text()
		case "Артикул":
			ln.Article, err = r.text()
		case "Наименование":
			ln.Name, err = r.text()
		case "БазоваяЕдиница":
			ln.Unit, err = r.readUnit(el)
			haveBase = true
		case "Единица":
			other, err = r.readUnit(el)
			haveOther = true
		case "ЦенаЗаЕдиницу":
			ln.PricePerUnit, err = r.decimalText(el, l, "Товар")
			havePPU = true
		case "Цена":
			// 1C's own documents write Цена where sites write ЦенаЗаЕдиницу (sample #23).
			price, err = r.decimalText(el, l, "Товар")
			havePrice = true
		case "Количество":
			ln.Quantity, err = r.decimalText(el, l, "Товар")
		case "Сумма":
			ln.Sum, err = r.decimalText(el, l, "Товар")
		case "Скидки":
			ln.Discounts, err = r.readDiscounts(ln.Discounts)
		case "ЗначенияРеквизитов":
			ln.Requisites, err = r.readRequisites(ln.Requisites)
		}
		return err
	})
	if !havePPU && havePrice {
		ln.PricePerUnit = price
	}
	if !haveBase && haveOther {
		ln.Unit = other
	}
	return ln, err
}

func (r *reader) readDiscounts(list []Discount) ([]Discount, error) {
	err := r.children(func(el xml.StartElement, _ int) error {
		if el.Name.Local != "Скидка" {
			return nil
		}
		var d Discount
		err := r.children(func(el xml.StartElement, l int) error {
			var err error
			switch el.Name.Local {
			case "Наименование":
				d.Name, err = r.text()
			case "Сумма":
				d.Sum, err = r.decimalText(el, l, "Скидка")
			case "Процент":
				var p decimal.Decimal
				if p, err = r.decimalText(el, l, "Скидка"); err == nil {
					d.Percent = &p
				}
			case "УчтеноВСумме":
				var s string
				if s, err = r.trimmedText(); err == nil {
					if d.InTotal, err = parseBool(s); err != nil {
						err = r.valueErr(l, "Скидка", "УчтеноВСумме", s, err)
					}
				}
			}
			return err
		})
		list = append(list, d)
		return err
	})
	return list, err
}

// decimalText reads the element just opened as a decimal; a bad value is reported against parent.
func (r *reader) decimalText(el xml.StartElement, line int, parent string) (decimal.Decimal, error) {
	s, err := r.text()
	if err != nil {
		return decimal.Decimal{}, err
	}
	d, err := parseDecimal(s)
	if err != nil {
		return d, r.valueErr(line, parent, el.Name.Local, s, err)
	}
	return d, nil
}
