package exchange

import (
	"strings"

	"github.com/shopspring/decimal"
)

// The rules below decide what becomes of a drop's files, archive entries and prices. They are written
// once, in the form both the service (classify, unzipDrop, priceOf) and Inspect can call.

// inspectDefaults is the configuration Inspect judges by: obmin's defaults, since it reads no config.
var inspectDefaults = &Catalog{Mapping: DefaultMapping()}

// perBaseUnit says whether a price's Коэффициент makes it a price per base unit (none, or 1): only such
// prices are sent to Checkbox, which prices the unit a good is sold in.
func perBaseUnit(factor string) bool {
	f := strings.TrimSpace(factor)
	if f == "" || f == "1" {
		return true
	}
	d, err := decimal.NewFromString(f)
	return err == nil && d.Equal(decimal.NewFromInt(1))
}

// inHryvnia says whether a feed price's currency is the hryvnia (or not said): Checkbox prices are.
func inHryvnia(currency string) bool {
	cur := strings.ToUpper(strings.TrimSpace(currency))
	return cur == "" || cur == "UAH" || cur == "ГРН" || cur == "RUAH"
}
