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
