// Package feed reads the price feeds Ukrainian marketplaces ingest, and which a BAS marketplace module may
// write instead of CommerceML: YML-style `yml_catalog` feeds as Rozetka, Prom.ua, Epicentr and MAUDAU take
// them, and Hotline's own `price/items/item` list. It streams (one offer in memory at a time), knows
// nothing of files on disk or of Checkbox, and reports bad input as a *ParseError naming file, line and
// element.
//
// Tag names and their per-marketplace spellings are described in the project's docs/formats.md,
// "Marketplace feeds" and "Feed dialects".
//
// It imports commerceml (the records it shares) and internal/xmlin; nothing of the service.
package feed

import (
	"errors"

	"github.com/shopspring/decimal"

	"obmin/internal/xmlin"
)

// Format is a feed dialect, told by the root element (docs/formats.md: by root, never by name).
type Format string

const (
	FormatYML     Format = "yml"     // <yml_catalog>: Rozetka, Prom.ua, Epicentr (no <shop>), MAUDAU
	FormatHotline Format = "hotline" // <price><items><item>: Hotline's own format
)

// Errors of the reader; they arrive wrapped in a *ParseError. All but ErrNotFeed are the input-side
// errors the commerceml reader has too (internal/xmlin): errors.Is matches either package's name.
var (
	// ErrNotFeed: the root element is neither yml_catalog nor Hotline's price.
	ErrNotFeed = errors.New("not a marketplace feed")
	// ErrNoOffers: a well-formed feed with no offer at all (a <yml_catalog> with neither <shop> nor
	// <offers>, or empty ones). A feed lists every offer of its seller, so an empty one would mean "sells
	// nothing": far likelier a broken generator than the truth, and never taken as it is.
	ErrNoOffers = errors.New("the feed has no offers")
	// ErrTruncated: the input ended before the closing root tag (a file still being written).
	ErrTruncated = xmlin.ErrTruncated
	// ErrTooLarge: nesting, a text node, a tag or one field is beyond any real feed (see the commerceml
	// package's limits, which apply here too).
	ErrTooLarge = xmlin.ErrTooLarge
	// ErrUnsupportedEncoding: an encoding other than UTF-8 or windows-1251 is declared.
	ErrUnsupportedEncoding = xmlin.ErrUnsupportedEncoding
	// ErrWrongEncoding: the bytes contradict the declared encoding (UTF-8 under encoding="windows-1251",
	// or windows-1251 declared as UTF-8 or not declared at all).
	ErrWrongEncoding = xmlin.ErrWrongEncoding
)

// ParseError is bad input: it names the file, the line and the element. It is xmlin's, the one parse
// error of obmin's readers.
type ParseError = xmlin.ParseError

// Header is what the feed says about itself.
type Header struct {
	Format Format `json:"format"`
	Root   string `json:"root"`           // the root element as written
	Date   string `json:"date,omitempty"` // yml_catalog@date or Hotline <date>, as written (formats vary, docs/formats.md "Feed dialects")
	Shop   string `json:"shop,omitempty"` // shop/name, or Hotline firmName
}

// Offer is one offer (YML) or item (Hotline).
type Offer struct {
	ID         string           `json:"id"`                    // offer@id (YML) or <id> (Hotline); the marketplace's key for the good
	GroupID    string           `json:"group_id,omitempty"`    // offer@group_id: variants of one model (Prom)
	Available  *bool            `json:"available,omitempty"`   // offer@available (or in_stock); Hotline <stock>; nil when not said
	Price      *decimal.Decimal `json:"price,omitempty"`       // <price> (YML) or <priceRUAH> (Hotline); nil when absent
	Currency   string           `json:"currency,omitempty"`    // <currencyId>; "UAH" for Hotline's priceRUAH
	Barcodes   []string         `json:"barcodes,omitempty"`    // every <barcode>
	VendorCode string           `json:"vendor_code,omitempty"` // <vendorCode> (Hotline also <code>)
	Name       string           `json:"name,omitempty"`        // <name>, <name_ru> or <name lang="ru">
	NameUA     string           `json:"name_ua,omitempty"`     // <name_ua> or <name lang="ua"|"uk">
	Params     []Param          `json:"params,omitempty"`      // every <param name="…">value</param>: what sets a variant apart (size, colour)
	// Quantity is the stock: <quantity_in_stock> (Prom, MAUDAU), <stock_quantity> (Rozetka), <quantity>, or a
	// number in Hotline's <stock>; nil when the feed gives none (Epicentr). quantity_in_stock wins over
	// quantity, as Prom's importer does (docs/formats.md, "Feed dialects").
	Quantity *decimal.Decimal `json:"quantity,omitempty"`
	Line     int              `json:"line"`
}

// Param is one <param name="…" [unit="…"]>value</param> of an offer: what sets variants of one model apart
// (docs/formats.md, "Marketplace feeds").
type Param struct {
	Name  string `json:"name"`
	Unit  string `json:"unit,omitempty"`
	Value string `json:"value"`
}

// Title is the name to show: the Ukrainian one when the feed has it.
func (o Offer) Title() string {
	if o.NameUA != "" {
		return o.NameUA
	}
	return o.Name
}

// Summary describes a feed after a full read.
type Summary struct {
	Header     Header `json:"header"`
	Encoding   string `json:"encoding"` // as declared, "UTF-8" when not
	Offers     int    `json:"offers"`
	Categories int    `json:"categories"`
	Currencies int    `json:"currencies"`
	WithStock  int    `json:"with_stock"` // offers that carry a quantity
}
