package commerceml

import (
	"encoding/xml"

	"github.com/shopspring/decimal"
)

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
