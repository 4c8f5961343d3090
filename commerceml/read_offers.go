package commerceml

import (
	"encoding/xml"

	"github.com/shopspring/decimal"
)

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
