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
	CodeFromArticle = "article" // Артикул (default): what staff type and what BAS matches second (docs/commerceml.md §5.1)
	CodeFromID      = "id"      // BAS Ид (a GUID, up to 80 chars; Checkbox codes take 150)
	CodeFromBarcode = "barcode" // the first Штрихкод
)

// How the code of a variant (a characteristic of a BAS good, or an offer of a feed's group) is made; see
// VariantCodeOf and docs/checkbox.md, "Variants".
const (
	// VariantArticleSuffix: the Артикул (a feed's vendorCode), "-", and 8 characters derived from the
	// characteristic's GUID (the feed's offer id): KN-0100-3F9A2C1D. Stable whatever else changes.
	VariantArticleSuffix = "article-suffix"
	VariantID            = "id"      // the variant's Ид, productGUID#characteristicGUID (a feed's offer id)
	VariantBarcode       = "barcode" // the variant's own first barcode
)

// MaxCode is the longest code Checkbox takes (CreateGoodPayload.code: maxLength 150).
const MaxCode = 150

// Mapping says how BAS goods become Checkbox goods. The zero value is not usable; see DefaultMapping.
type Mapping struct {
	CodeField string // CodeFromArticle, CodeFromID or CodeFromBarcode
	// VariantCode is how a variant's code is made: VariantArticleSuffix, VariantID or VariantBarcode;
	// "" follows CodeField (article → article-suffix, id → id, barcode → barcode).
	VariantCode string
	// Feeds say, per marketplace feed, what it is called and which field is its code; a feed file no entry
	// matches is named after the file and uses CodeField.
	Feeds []FeedSource
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
	// docs/checkbox-rest.md §5). Warehouses limits which BAS warehouses count; empty means the offer's total.
	Stock      bool
	Warehouses []string
}

// DefaultMapping is what obmin does when the configuration says nothing.
func DefaultMapping() Mapping {
	return Mapping{
		CodeField:   CodeFromArticle,
		WeightUnits: []string{"166"},
		// Ukrainian VAT rates; codes as in a typical Checkbox tax table (docs/checkbox-rest.md §4.3: code 8 = «Без ПДВ»).
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

// variantScheme is the effective variant code scheme.
func (m Mapping) variantScheme() string {
	if m.VariantCode != "" {
		return m.VariantCode
	}
	switch m.CodeField {
	case CodeFromID:
		return VariantID
	case CodeFromBarcode:
		return VariantBarcode
	}
	return VariantArticleSuffix
}

// VariantCodeOf is the Checkbox code of a BAS variant: good g (its Ид productGUID#characteristicGUID, the
// product's Артикул, its own barcodes, valid ones first) by the variant scheme; "" when the field it
// needs is empty.
func (m Mapping) VariantCodeOf(g commerceml.Good) string {
	_, char, _ := commerceml.Variant(g.ID)
	return variantCode(m.variantScheme(), g.Article, g.ID, char, g.Barcodes)
}

// variantCode makes a variant's code by scheme: article is the Артикул or vendorCode, id the full id, key
// what the suffix is derived from (a characteristic's GUID, a feed's offer id).
func variantCode(scheme, article, id, key string, barcodes []string) string {
	switch scheme {
	case VariantID:
		return strings.TrimSpace(id)
	case VariantBarcode:
		if len(barcodes) > 0 {
			return barcodes[0]
		}
		return ""
	}
	a := strings.TrimSpace(article)
	if a == "" {
		return ""
	}
	return a + "-" + variantSuffix(key)
}

// variantSuffix is 8 hex digits of the SHA-256 of a characteristic's GUID (or a feed's offer id), upper
// case: short enough to type, stable for as long as the characteristic exists, the same for its GUID in
// any letter case.
func variantSuffix(key string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(key))))
	return strings.ToUpper(hex.EncodeToString(sum[:4]))
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
		// docs/checkbox-rest.md §4.2: 0 < price < 1 000 000 000 kopecks.
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
