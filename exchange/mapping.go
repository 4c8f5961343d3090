package exchange

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/shopspring/decimal"

	"obmin/checkbox"
	"obmin/commerceml"
)

// Code fields a Checkbox good code can be taken from.
const (
	CodeFromArticle = "article" // Артикул (default): what staff type and what BAS matches second (commerceml.md §5.1)
	CodeFromID      = "id"      // BAS Ид (a GUID, up to 80 chars; Checkbox codes take 150)
	CodeFromBarcode = "barcode" // the first Штрихкод
)

// Mapping says how BAS goods become Checkbox goods. The zero value is not usable; see DefaultMapping.
type Mapping struct {
	CodeField string // CodeFromArticle, CodeFromID or CodeFromBarcode
	// PriceType picks the price: an ИдТипаЦены, or a price type's Наименование (case-insensitive). Empty means
	// the only price type of the drop, or the one named like «Роздрібна»/«Розничная».
	PriceType string
	// VAT maps a BAS VAT rate as written (e.g. "20", "7", "0", "Без ПДВ"; compared without spaces and case, and
	// "20%" = "20") to Checkbox tax codes. A rate missing from the map gets DefaultTaxCodes.
	VAT             map[string][]int
	DefaultTaxCodes []int
	// WeightUnits are ОКЕИ unit codes of weighed goods: 166 is the kilogram (Checkbox is_weight).
	WeightUnits []string
	// Stock turns on stock sync through Checkbox's goods import (the only documented way to set stock,
	// checkbox-api.md §5). Warehouses limits which BAS warehouses count; empty means the offer's total.
	Stock      bool
	Warehouses []string
}

// DefaultMapping is what obmin does when the configuration says nothing.
func DefaultMapping() Mapping {
	return Mapping{
		CodeField:   CodeFromArticle,
		WeightUnits: []string{"166"},
		// Ukrainian VAT rates; codes as in a typical Checkbox tax table (checkbox-api.md §4.3: code 8 = «Без ПДВ»).
		// Each organisation's table differs: check GET /api/v1/tax and set mapping.vat in the config.
		VAT: map[string][]int{},
	}
}

// normRate makes "20 %", "20.00", "20" and "Без ПДВ"/"без пдв" compare equal.
func normRate(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), ""))
	s = strings.TrimSuffix(s, "%")
	if d, err := decimal.NewFromString(strings.ReplaceAll(s, ",", ".")); err == nil {
		return d.String()
	}
	return s
}

// TaxCodes returns the Checkbox tax codes for a BAS VAT rate.
func (m Mapping) TaxCodes(rate string) []int {
	want := normRate(rate)
	for k, v := range m.VAT {
		if normRate(k) == want {
			return v
		}
	}
	return m.DefaultTaxCodes
}

// Code is the Checkbox code of a BAS good, or "" when the chosen field is empty.
func (m Mapping) Code(g commerceml.Good) string {
	switch m.CodeField {
	case CodeFromID:
		return g.ID
	case CodeFromBarcode:
		if len(g.Barcodes) > 0 {
			return g.Barcodes[0]
		}
		return ""
	default:
		return strings.TrimSpace(g.Article)
	}
}

// IsWeight tells whether a unit is a weighed one.
func (m Mapping) IsWeight(u commerceml.Unit) bool {
	return slices.Contains(m.WeightUnits, strings.TrimSpace(u.Code))
}

// Kopecks converts a price in hryvnia to integer kopecks. A price with more than two decimals is an error:
// rounding a shop's price silently is not ours to do.
func Kopecks(uah decimal.Decimal) (int64, error) {
	k := uah.Shift(2)
	if !k.Equal(k.Truncate(0)) {
		return 0, fmt.Errorf("price %s has more than 2 decimals", uah)
	}
	if k.Sign() <= 0 || k.Cmp(decimal.NewFromInt(1_000_000_000)) >= 0 {
		// checkbox-api.md §4.2: 0 < price < 1 000 000 000 kopecks.
		return 0, fmt.Errorf("price %s is out of Checkbox's range (0 < price < 10 000 000 грн)", uah)
	}
	return k.IntPart(), nil
}

// Thousandths converts a quantity to Checkbox's integer thousandths, rounding half away from zero.
func Thousandths(q decimal.Decimal) int64 { return q.Shift(3).Round(0).IntPart() }

// UAH renders kopecks as a hryvnia decimal.
func UAH(kopecks int64) decimal.Decimal { return decimal.New(kopecks, -2) }

// Quantity renders thousandths as a decimal quantity.
func Quantity(thousandths int64) decimal.Decimal { return decimal.New(thousandths, -3) }

// payloadHash is the ledger's fingerprint of what Checkbox should hold for a good.
func payloadHash(p checkbox.GoodPayload) string {
	b, _ := json.Marshal(p) // a struct of plain fields cannot fail to marshal
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
