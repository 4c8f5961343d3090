package basodata

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Catalogue items obmin reads, with the properties it uses (docs/bas-odata.md §5). JSON names are the
// OData property names.

// Item is the part every catalogue item shares.
type Item struct {
	Ref          string `json:"Ref_Key"`
	Code         string `json:"Code,omitempty"`
	Description  string `json:"Description"`
	DeletionMark bool   `json:"DeletionMark"`
}

func (i Item) item() Item { return i }

// Named is any catalogue item.
type Named interface{ item() Item }

// Till is a Catalog.КассыККМ item.
type Till struct {
	Item
	Organization string `json:"Owner_Key"`
	Store        string `json:"СтруктурнаяЕдиница_Key"`
	Department   string `json:"Подразделение_Key"`
	Type         string `json:"ТипКассы"` // ФискальныйРегистратор, АвтономнаяККМ, ККМOffline, СервисОборудования
	Currency     string `json:"ВалютаДенежныхСредств_Key"`
}

// Store is a Catalog.СтруктурныеЕдиницы item: a warehouse, a shop or a department.
type Store struct {
	Item
	Type            string `json:"ТипСтруктурнойЕдиницы"` // Подразделение, Склад, Розница, РозницаСуммовойУчет
	Organization    string `json:"Организация_Key"`
	RetailPriceKind string `json:"РозничныйВидЦен_Key"`
}

// PriceKind is a Catalog.ВидыЦен item.
type PriceKind struct {
	Item
	IncludesVAT bool `json:"ЦенаВключаетНДС"`
}

// VATRate is a Catalog.СтавкиНДС item: Rate in hundredths of a percent, NoVAT for «без ПДВ».
type VATRate struct {
	Item
	Rate  Percent `json:"Ставка"`
	NoVAT bool    `json:"НеОблагается"`
}

// Good is a Catalog.Номенклатура item.
type Good struct {
	Item
	IsFolder bool   `json:"IsFolder"`
	Article  string `json:"Артикул"`
	Unit     string `json:"ЕдиницаИзмерения_Key"` // Catalog.КлассификаторЕдиницИзмерения
	Type     string `json:"ТипНоменклатуры"`      // Запас, Услуга, …
	VATRate  string `json:"СтавкаНДС_Key"`
}

// Characteristic is a Catalog.ХарактеристикиНоменклатуры item; its owner is a good or a category.
type Characteristic struct {
	Item
	Owner     string `json:"Owner"`
	OwnerType string `json:"Owner_Type"`
}

// CashFlowItem is a Catalog.СтатьиДвиженияДенежныхСредств item.
type CashFlowItem struct {
	Item
	PredefinedDataName string `json:"PredefinedDataName"`
}

// Terminal is a Catalog.ЭквайринговыеТерминалы item with the card kinds it accepts.
type Terminal struct {
	Item
	Organization string `json:"Организация_Key"`
	Till         string `json:"Касса"`
	TillType     string `json:"Касса_Type"`
	CardKinds    []struct {
		Kind string `json:"ВидПлатежнойКарты"`
	} `json:"ВидыПлатежныхКарт"`
}

// Unit is a Catalog.КлассификаторЕдиницИзмерения item; Currency a Catalog.Валюты item; Organization a
// Catalog.Организации item.
type (
	Unit         struct{ Item }
	Currency     struct{ Item }
	Organization struct{ Item }
)

// ErrAmbiguous is wrapped by Lookup when a code or name matches more than one item.
var ErrAmbiguous = errors.New("matches more than one item")

// Lookup finds one item of set by key: its Ref_Key (a GUID), else its Code, else its Description,
// leaving out items marked for deletion. No match wraps ErrNotFound; several wrap ErrAmbiguous, naming
// them, so the configuration can give a Ref_Key instead.
func Lookup[T Named](ctx context.Context, c *Client, set, key string) (T, error) {
	var zero T
	key = strings.TrimSpace(key)
	if key == "" {
		return zero, fmt.Errorf("BAS OData: %s: empty key", set)
	}
	if checkRef("key", key) == nil {
		var v T
		if err := c.Get(ctx, set, key, nil, &v); err != nil {
			return zero, fmt.Errorf("%s %s: %w", set, key, err)
		}
		return v, nil
	}
	for _, prop := range []string{"Code", "Description"} {
		var found []T
		err := List(ctx, c, set, Query{Filter: And(Eq(prop, Str(key)), Eq("DeletionMark", Bool(false)))}, func(v T) error {
			found = append(found, v)
			return nil
		})
		if err != nil {
			var e *Error
			if prop == "Code" && errors.As(err, &e) && e.Status == 400 {
				continue // a catalogue without codes (СтавкиНДС)
			}
			return zero, err
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			var names []string
			for _, f := range found {
				names = append(names, fmt.Sprintf("%s «%s» (%s)", f.item().Code, f.item().Description, f.item().Ref))
			}
			return zero, fmt.Errorf("BAS OData: %s: %q %w: %s; give its Ref_Key instead", set, key, ErrAmbiguous, strings.Join(names, ", "))
		}
	}
	return zero, fmt.Errorf("BAS OData: %s: no item with code or name %q: %w", set, key, ErrNotFound)
}

// Predefined finds the predefined item of set with this PredefinedDataName.
func (c *Client) Predefined(ctx context.Context, set, name string) (CashFlowItem, error) {
	var found []CashFlowItem
	err := List(ctx, c, set, Query{Filter: Eq("PredefinedDataName", Str(name))}, func(v CashFlowItem) error {
		found = append(found, v)
		return nil
	})
	if err != nil {
		return CashFlowItem{}, err
	}
	if len(found) == 0 {
		return CashFlowItem{}, fmt.Errorf("BAS OData: %s: no predefined item %s: %w", set, name, ErrNotFound)
	}
	return found[0], nil
}

// VATRates lists the base's VAT rates that are not marked for deletion.
func (c *Client) VATRates(ctx context.Context) ([]VATRate, error) {
	var out []VATRate
	err := List(ctx, c, SetVATRates, Query{Filter: Eq("DeletionMark", Bool(false))}, func(v VATRate) error {
		out = append(out, v)
		return nil
	})
	return out, err
}

// FindVATRate picks the rate item for a rate (hundredths of a percent) or «без ПДВ». The 7 %, 0 % and
// «без ПДВ» items are data, not predefined, so they are found by value, never by name (docs/bas-odata.md §5).
func FindVATRate(rates []VATRate, rate Percent, noVAT bool) (VATRate, error) {
	var found []VATRate
	for _, r := range rates {
		if r.NoVAT == noVAT && (noVAT || r.Rate == rate) {
			found = append(found, r)
		}
	}
	what := fmt.Sprintf("rate %s %%", rate)
	if noVAT {
		what = "«без ПДВ» (НеОблагается)"
	}
	switch len(found) {
	case 0:
		return VATRate{}, fmt.Errorf("BAS OData: %s: no item with %s: %w", SetVATRates, what, ErrNotFound)
	case 1:
		return found[0], nil
	}
	var names []string
	for _, f := range found {
		names = append(names, fmt.Sprintf("«%s» (%s)", f.Description, f.Ref))
	}
	return VATRate{}, fmt.Errorf("BAS OData: %s: %s %w: %s; give its Ref_Key instead", SetVATRates, what, ErrAmbiguous, strings.Join(names, ", "))
}
