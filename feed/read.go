package feed

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shopspring/decimal"

	"obmin/commerceml"
	"obmin/internal/xmlin"
)

// Read streams one feed, calling fn for each offer in file order; name is used in errors only. A feed
// of any size is read in bounded memory. Unknown elements and attributes are skipped. Bad input gives a
// *ParseError; an error of fn comes back wrapped with file and line but not as a *ParseError; an I/O
// error of r comes back wrapped.
func Read(r io.Reader, name string, fn func(Offer) error) (Summary, error) {
	rd := newReader(r, name)
	return rd.read(fn, false)
}

// Sniff reads the head of a feed: its format, date and shop name, up to the first offer.
func Sniff(r io.Reader, name string) (Header, error) {
	rd := newReader(r, name)
	sum, err := rd.read(nil, true)
	if errors.Is(err, errSniffDone) {
		err = nil
	}
	return sum.Header, err
}

var errSniffDone = errors.New("sniffed")

type reader struct {
	in   *xmlin.Decoder // charsets, entities, limits, the element stack (internal/xmlin)
	name string
	line int // line of the last start tag
	buf  []byte
}

func newReader(r io.Reader, name string) *reader {
	return &reader{in: xmlin.NewDecoder(r), name: name}
}

// encoding is the encoding the declaration names, "UTF-8" when it names none or plain UTF-8.
func (r *reader) encoding() string {
	if l := r.in.Label(); l != "" {
		return l
	}
	return "UTF-8"
}

func (r *reader) errAt(line int, elem string, err error) error {
	return &ParseError{File: r.name, Line: line, Element: elem, Err: err}
}

func (r *reader) top() string { return r.in.Top() }

// next returns the next token, keeping r.line (line of the last start tag).
func (r *reader) next() (xml.Token, error) {
	tok, err := r.in.Next()
	if err != nil {
		var xe *xmlin.ParseError
		if errors.As(err, &xe) {
			return nil, r.errAt(xe.Line, xe.Element, xe.Err)
		}
		return nil, fmt.Errorf("read %s: %w", r.name, err)
	}
	if _, ok := tok.(xml.StartElement); ok {
		r.line = r.in.Line()
	}
	return tok, nil
}

// read walks the whole document. With sniff it stops at the first offer with errSniffDone.
func (r *reader) read(fn func(Offer) error, sniff bool) (Summary, error) {
	var sum Summary
	// The root decides the format (docs/formats.md).
	for sum.Header.Format == "" {
		tok, err := r.next()
		if err != nil {
			return sum, err
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "yml_catalog":
			sum.Header = Header{Format: FormatYML, Root: se.Name.Local, Date: attr(se, "date")}
		case "price":
			sum.Header = Header{Format: FormatHotline, Root: se.Name.Local}
		default:
			return sum, r.errAt(r.line, se.Name.Local, fmt.Errorf("root element is <%s>, want <yml_catalog> or Hotline's <price>: %w", se.Name.Local, ErrNotFeed))
		}
	}
	sum.Encoding = r.encoding()
	rootLine := r.line
	item, list := "offer", "offers"
	if sum.Header.Format == FormatHotline {
		item, list = "item", "items"
	}
	sawShop, sawList := false, false
	for {
		tok, err := r.next()
		if err != nil {
			return sum, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if r.in.Depth() == 0 {
				sum.Encoding = r.encoding()
				if sum.Offers == 0 {
					why := "no <" + item + "> in its <" + list + ">"
					if !sawList {
						why = "no <" + list + ">"
						if sum.Header.Format == FormatYML && !sawShop {
							why = "neither <shop> nor <offers> under <yml_catalog>"
						}
					}
					return sum, r.errAt(rootLine, sum.Header.Root, fmt.Errorf("%w: %s", ErrNoOffers, why))
				}
				return sum, nil
			}
		case xml.StartElement:
			parent := ""
			if st := r.in.Stack(); len(st) >= 2 {
				parent = st[len(st)-2]
			}
			switch t.Name.Local {
			case "shop":
				sawShop = true
			case list:
				sawList = true
			}
			switch {
			case t.Name.Local == item && (parent == "offers" || parent == "items"):
				if sniff {
					return sum, errSniffDone
				}
				o, err := r.readOffer(t, sum.Header.Format)
				if err != nil {
					return sum, err
				}
				sum.Offers++
				if o.Quantity != nil {
					sum.WithStock++
				}
				if fn != nil {
					if err := fn(o); err != nil {
						return sum, fmt.Errorf("%s:%d: <%s>: %w", r.name, o.Line, item, err)
					}
				}
			case t.Name.Local == "category" && parent == "categories":
				sum.Categories++
			case t.Name.Local == "currency" && parent == "currencies":
				sum.Currencies++
			case r.in.Depth() == 3 && parent == "shop" && t.Name.Local == "name" && sum.Header.Shop == "",
				r.in.Depth() == 2 && sum.Header.Format == FormatHotline && t.Name.Local == "firmName":
				s, err := r.text()
				if err != nil {
					return sum, err
				}
				sum.Header.Shop = strings.TrimSpace(s)
			case r.in.Depth() == 2 && sum.Header.Format == FormatHotline && t.Name.Local == "date":
				s, err := r.text()
				if err != nil {
					return sum, err
				}
				sum.Header.Date = strings.TrimSpace(s)
			}
		}
	}
}

// offerAttrs are the attributes of <offer> the reader uses; a look-alike spelling of one of them is
// reported rather than silently ignored.
var offerAttrs = []string{"id", "available", "in_stock", "group_id", "type"}

// readOffer reads one <offer> or Hotline <item>, up to its end tag.
func (r *reader) readOffer(se xml.StartElement, format Format) (Offer, error) {
	o := Offer{Line: r.line}
	elem := se.Name.Local
	for _, a := range se.Attr {
		switch a.Name.Local {
		case "id":
			o.ID = strings.TrimSpace(a.Value)
		case "group_id":
			o.GroupID = strings.TrimSpace(a.Value)
		case "available", "in_stock":
			b, err := parseBool(a.Value)
			if err != nil {
				return o, r.errAt(o.Line, elem, fmt.Errorf("%s %q: %w", a.Name.Local, a.Value, err))
			}
			if a.Name.Local == "available" || o.Available == nil {
				o.Available = &b
			}
		default:
			if want, ok := lookalike(a.Name.Local, offerAttrs); ok {
				// pojitonov's Rozetka feed spells it with a Cyrillic "а" (docs/formats.md, "Marketplace feeds").
				return o, r.errAt(o.Line, elem, fmt.Errorf("attribute %q is spelled with non-Latin letters (%s); it must be %q",
					a.Name.Local, nonASCII(a.Name.Local), want))
			}
		}
	}
	var qtyInStock, stockQty, qty *decimal.Decimal
	depth := r.in.Depth()
	for {
		tok, err := r.next()
		if err != nil {
			return o, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if r.in.Depth() < depth {
				switch {
				case qtyInStock != nil:
					o.Quantity = qtyInStock
				case stockQty != nil:
					o.Quantity = stockQty
				default:
					o.Quantity = qty
				}
				if o.ID == "" {
					return o, r.errAt(o.Line, elem, errors.New("no id: a feed offer without an id cannot be matched to a good"))
				}
				return o, nil
			}
		case xml.StartElement:
			if r.in.Depth() != depth+1 {
				continue // inside <delivery-options> and the like
			}
			field, line := t.Name.Local, r.line
			s, err := r.text()
			if err != nil {
				return o, err
			}
			if field == "param" {
				if name := strings.TrimSpace(attr(t, "name")); name != "" {
					o.Params = append(o.Params, Param{Name: name, Unit: strings.TrimSpace(attr(t, "unit")), Value: strings.TrimSpace(s)})
				}
				continue
			}
			dec := func(dst **decimal.Decimal) error {
				if strings.TrimSpace(s) == "" {
					return nil
				}
				d, err := commerceml.ParseDecimal(s)
				if err != nil {
					return r.errAt(line, elem, fmt.Errorf("%s %q: %w", field, shorten(s), err))
				}
				*dst = &d
				return nil
			}
			switch field {
			case "id":
				if format == FormatHotline {
					o.ID = strings.TrimSpace(s)
				}
			case "price", "priceRUAH":
				if field == "price" && format == FormatHotline {
					continue
				}
				if err := dec(&o.Price); err != nil {
					return o, err
				}
				if field == "priceRUAH" {
					o.Currency = "UAH"
				}
			case "currencyId":
				o.Currency = strings.TrimSpace(s)
			case "barcode":
				if b := strings.TrimSpace(s); b != "" {
					o.Barcodes = append(o.Barcodes, b)
				}
			case "vendorCode", "code":
				if field == "code" && (format != FormatHotline || o.VendorCode != "") {
					continue
				}
				o.VendorCode = strings.TrimSpace(s)
			case "name", "name_ru", "name_ua":
				lang := strings.ToLower(attr(t, "lang"))
				switch {
				case field == "name_ua" || lang == "ua" || lang == "uk":
					o.NameUA = strings.TrimSpace(s)
				case field == "name_ru" && o.Name != "":
				default:
					o.Name = strings.TrimSpace(s)
				}
			case "quantity_in_stock":
				if err := dec(&qtyInStock); err != nil {
					return o, err
				}
			case "stock_quantity":
				if err := dec(&stockQty); err != nil {
					return o, err
				}
			case "quantity":
				if err := dec(&qty); err != nil {
					return o, err
				}
			case "stock":
				if format != FormatHotline {
					continue
				}
				// Hotline: «Нет» is out of stock, a number is the quantity, anything else is in stock.
				v := strings.TrimSpace(s)
				if d, err := commerceml.ParseDecimal(v); err == nil {
					qty = &d
					b := d.IsPositive()
					o.Available = &b
				} else {
					b := !strings.EqualFold(v, "нет") && !strings.EqualFold(v, "немає") && v != ""
					o.Available = &b
				}
			}
		}
	}
}

// text reads the character data of the element whose start tag was read last, up to its end tag,
// skipping nested elements' text (e.g. <br/> in a description). At most xmlin.MaxText bytes.
func (r *reader) text() (string, error) {
	r.buf = r.buf[:0]
	depth := r.in.Depth()
	for {
		tok, err := r.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if r.in.Depth() != depth {
				continue
			}
			if len(r.buf)+len(t) > xmlin.MaxText {
				return "", r.errAt(r.line, r.top(), fmt.Errorf("text longer than %d bytes: %w", xmlin.MaxText, ErrTooLarge))
			}
			r.buf = append(r.buf, t...)
		case xml.EndElement:
			if r.in.Depth() < depth {
				return string(r.buf), nil
			}
		}
	}
}

func attr(se xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && a.Name.Space != "xmlns" {
			return a.Value
		}
	}
	return ""
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no", "":
		return false, nil
	}
	return false, errors.New("not true or false")
}

// homoglyphs maps Cyrillic letters that look like Latin ones.
var homoglyphs = strings.NewReplacer("а", "a", "е", "e", "о", "o", "р", "p", "с", "c", "у", "y", "х", "x",
	"і", "i", "к", "k", "м", "m", "т", "t", "н", "h", "в", "b", "А", "A", "Е", "E", "О", "O", "Р", "P", "С", "C")

// lookalike tells whether name, which differs from every known name, reads as one of them once Cyrillic
// look-alike letters are replaced by Latin ones.
func lookalike(name string, known []string) (string, bool) {
	if isASCII(name) {
		return "", false
	}
	folded := homoglyphs.Replace(name)
	for _, k := range known {
		if folded == k {
			return k, true
		}
	}
	return "", false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// nonASCII describes the non-ASCII letters of s, e.g. `"а" U+0430 at 1`.
func nonASCII(s string) string {
	var parts []string
	for i, c := range []rune(s) {
		if c >= 0x80 {
			parts = append(parts, fmt.Sprintf("%q U+%04X at %d", c, c, i+1))
		}
	}
	return strings.Join(parts, ", ")
}

func shorten(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
