package exchange

import (
	"archive/zip"
	"errors"
	"path"
	"strings"

	"github.com/shopspring/decimal"

	"obmin/commerceml"
	"obmin/internal/safezip"
)

// The rules below decide what becomes of a drop's files, archive entries and prices. They are written
// once, in the form both the service (classify, unzipDrop, priceOf) and Inspect can call.

// inspectDefaults is the configuration Inspect judges by: obmin's defaults, since it reads no config.
var inspectDefaults = &Catalog{Mapping: DefaultMapping()}

// add files a drop's CommerceML file under its kind: catalogue files are applied first, then offers, prices
// and stock (docs/commerceml.md §4.2: the kind is told by content), then BAS's orders exports; a root with
// nothing in it (BAS writes such an orders file when it has no orders) is kept apart, never applied.
func (df *dropFiles) add(name string, kind commerceml.Kind) {
	switch kind {
	case commerceml.KindCatalog:
		df.catalog = append(df.catalog, name)
	case commerceml.KindOffers, commerceml.KindPrices, commerceml.KindRests:
		df.offers = append(df.offers, name)
	case commerceml.KindDocuments:
		df.documents = append(df.documents, name)
	default:
		df.empty = append(df.empty, name)
	}
}

// zipEntryTarget says whether an archive entry (a slash-separated name) joins the drop, and under which name
// at the top of it: XML files do, by their base name; anything in an import_files folder at any depth
// (pictures, docs/commerceml.md §6.3: the watcher skips such folders the same way) and anything else stay out.
func zipEntryTarget(rel string) (name string, joins bool) {
	if !strings.EqualFold(path.Ext(rel), ".xml") {
		return "", false
	}
	for _, dir := range strings.Split(path.Dir(rel), "/") {
		if strings.EqualFold(dir, "import_files") {
			return "", false
		}
	}
	return path.Base(rel), true
}

// zipRefusal names what condemns an archive in an error of safezip.Extract: reasonZipUnsafe (an entry
// leaving the folder, a link…), reasonZipLimit (too many entries or bytes) or reasonZipBroken (not a
// readable zip); "" for an error that is no fault of the archive (I/O), which a retry may cure.
func zipRefusal(err error) string {
	switch {
	case errors.Is(err, safezip.ErrUnsafe):
		return reasonZipUnsafe
	case errors.Is(err, safezip.ErrLimit):
		return reasonZipLimit
	case errors.Is(err, zip.ErrFormat), errors.Is(err, zip.ErrChecksum), errors.Is(err, zip.ErrAlgorithm):
		return reasonZipBroken
	}
	return ""
}

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
