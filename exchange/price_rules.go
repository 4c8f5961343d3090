package exchange

import (
	"strings"

	"github.com/shopspring/decimal"
)

// The price rules below are written once, in the form both the service (priceOf) and `obmin inspect`
// (package inspect) can call; the rules of a drop's files are in package drop.

// PerBaseUnit says whether a price's Коэффициент makes it a price per base unit (none, or 1): only such
// prices are sent to Checkbox, which prices the unit a good is sold in.
func PerBaseUnit(factor string) bool {
	f := strings.TrimSpace(factor)
	if f == "" || f == "1" {
		return true
	}
	d, err := decimal.NewFromString(f)
	return err == nil && d.Equal(decimal.NewFromInt(1))
}

// InHryvnia says whether a feed price's currency is the hryvnia (or not said): Checkbox prices are.
func InHryvnia(currency string) bool {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	return cur == "" || cur == "UAH" || cur == "ГРН" || cur == "RUAH"
}
